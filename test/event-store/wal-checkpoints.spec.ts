/**
 * WAL checkpoints off the event loop (src/event-store/sqlite/wal-checkpoints.ts): the worker
 * copies the WAL into the file while the writer's own automatic checkpoint is only a backstop,
 * the writer gets its checkpoint back when the worker stops or dies, and the store loses nothing.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { AUTOCHECKPOINT_BACKSTOP, AUTOCHECKPOINT_DEFAULT, WalCheckpointer } from '../../src/event-store/sqlite/wal-checkpoints.js';
import { verifyStore } from '../../src/event-store/integrity-verifier.js';

const meta = { actor: { id: 'u', name: 'U', roles: ['CISO'] }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: 'c', causationId: 'c' };
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await wait(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function withDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'wal-checkpoints-'));
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe('WAL checkpoints off the event loop', () => {
  it('copies the WAL into the file far below the writer\'s backstop, and the store reads back every event', () =>
    withDir(async (dir) => {
      const path = join(dir, 'events.sqlite');
      const store = new SqliteEventStore({ path, checkpointOffLoop: { intervalMs: 20 } });
      await store.init();
      const db = (store as unknown as { db: Database.Database }).db;
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(AUTOCHECKPOINT_BACKSTOP);
      const before = statSync(path).size;
      for (let i = 0; i < 300; i++) {
        await store.append(`s-${i % 7}`, [{ eventId: randomUUID(), type: 'T', schemaVersion: 1, data: { i, text: 'x'.repeat(300) }, metadata: meta }], { expectedVersion: ExpectedVersion.any });
      }
      // 300 commits of a few pages each: far below 4,000 pages, so only the worker grows the file.
      await until(() => statSync(path).size > before, 'the worker to checkpoint');
      await store.close();

      const reopened = new SqliteEventStore({ path });
      expect((await reopened.readAll({ maxCount: 1_000 })).map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 300 }, (_, i) => i));
      expect(await verifyStore(reopened)).toMatchObject({ ok: true, eventsChecked: 300 });
      await reopened.close();
    }));

  it('gives the writer its automatic checkpoint back when it stops or its worker dies; stopping twice is harmless', () =>
    withDir(async (dir) => {
      const db = new Database(join(dir, 'file.sqlite'));
      try {
        db.pragma('journal_mode = WAL');
        db.exec('CREATE TABLE t (x)');
        const first = WalCheckpointer.start(db)!;
        expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(AUTOCHECKPOINT_BACKSTOP);
        await first.close();
        await first.close();
        expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(AUTOCHECKPOINT_DEFAULT);

        const second = WalCheckpointer.start(db)!;
        expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(AUTOCHECKPOINT_BACKSTOP);
        await (second as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
        await until(() => db.pragma('wal_autocheckpoint', { simple: true }) === AUTOCHECKPOINT_DEFAULT, 'the backstop to be lifted');
        await second.close();
      } finally {
        db.close();
      }
    }));

  it('reports a worker that cannot open the file, and the writer checkpoints itself again', () =>
    withDir(async (dir) => {
      const path = join(dir, 'file.sqlite');
      const db = new Database(path);
      try {
        db.pragma('journal_mode = WAL');
        db.exec('CREATE TABLE t (x)');
        // Our connection keeps the file it opened; the worker looks for it by name and finds none.
        renameSync(path, join(dir, 'moved.sqlite'));
        const warnings: string[] = [];
        const checkpointer = WalCheckpointer.start(db, { warn: (m) => warnings.push(m) })!;
        await until(() => warnings.length > 0, 'the warning');
        expect(warnings[0]).toMatch(/checkpoint worker failed/);
        await until(() => db.pragma('wal_autocheckpoint', { simple: true }) === AUTOCHECKPOINT_DEFAULT, 'the backstop to be lifted');
        await checkpointer.close();
      } finally {
        db.close();
      }
    }));

  it('starts no worker for a database no other connection can open', () => {
    const db = new Database(':memory:');
    try {
      expect(WalCheckpointer.start(db)).toBeNull();
    } finally {
      db.close();
    }
  });
});
