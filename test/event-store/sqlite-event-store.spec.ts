import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { ExpectedVersion, type EventStore } from '../../src/event-store/event-store.port.js';
import { EventStoreSchemaError, DuplicateEventIdError } from '../../src/event-store/errors.js';
import { runEventStoreContract, newEvent } from './event-store.contract.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'risk-ledger-es-'));
}

runEventStoreContract('sqlite', async (options) => {
  const dir = tempDir();
  // a nested, not yet existing directory: the store creates it
  const path = join(dir, 'nested', 'events.sqlite');
  const opened: EventStore[] = [];
  const open = (): SqliteEventStore => {
    const s = new SqliteEventStore({ path, pollIntervalMs: 25, signer: options?.signer });
    opened.push(s);
    return s;
  };
  const store = open();
  return {
    store,
    reopen: async () => open(),
    cleanup: async () => {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteEventStore specifics', () => {
  let dir: string;
  let path: string;
  const stores: SqliteEventStore[] = [];
  const open = (options: Partial<ConstructorParameters<typeof SqliteEventStore>[0]> = {}) => {
    const s = new SqliteEventStore({ path, ...options });
    stores.push(s);
    return s;
  };

  beforeEach(() => {
    dir = tempDir();
    path = join(dir, 'a', 'b', 'events.sqlite');
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the directory and the versioned schema with WAL and synchronous=FULL', async () => {
    const store = open();
    await store.init();
    expect(existsSync(path)).toBe(true);
    const health = await store.health();
    // No path in health details: /health must not show where the database lives (issue 16).
    expect(health).toEqual({ ok: true, adapter: 'sqlite', details: { headPosition: null } });
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(4);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
      expect(tables).toEqual(expect.arrayContaining(['events', 'idempotency', 'snapshots']));
      expect(tables).not.toContain('streams');
    } finally {
      db.close();
    }
  });

  it('refuses a database with a newer schema version', async () => {
    const first = open();
    await first.init();
    await first.close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    await expect(open().init()).rejects.toBeInstanceOf(EventStoreSchemaError);
  });

  it('group commit: appends fired together share one transaction', async () => {
    const store = open();
    await store.init();
    const before = store.stats();
    await Promise.all(
      Array.from({ length: 100 }, () => store.append(`s-${randomUUID()}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream })),
    );
    const after = store.stats();
    expect(after.appends - before.appends).toBe(100);
    expect(after.events - before.events).toBe(100);
    expect(after.transactions - before.transactions).toBe(1);
    const all = await store.readAll();
    expect(new Set(all.map((e) => e.recordedAt)).size).toBe(1);
  });

  it('appends made by the continuations of a commit share the next transaction', async () => {
    const store = open();
    await store.init();
    const before = store.stats();
    // 8 writers, each awaiting its appends: after the first commit, the 8 continuations append
    // together and are written together.
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 5; i++) await store.append(`s-w${w}`, [newEvent()], { expectedVersion: ExpectedVersion.exact(i - 1) });
      }),
    );
    const after = store.stats();
    expect(after.appends - before.appends).toBe(40);
    expect(after.transactions - before.transactions).toBe(5);
    expect(after.largestBatch).toBe(8);
  });

  it('maxBatch bounds the transaction size', async () => {
    const store = open({ maxBatch: 10 });
    await Promise.all(
      Array.from({ length: 35 }, () => store.append(`s-${randomUUID()}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream })),
    );
    const stats = store.stats();
    expect(stats.largestBatch).toBe(10);
    expect(stats.transactions).toBe(4);
  });

  it('a duplicate event id fails only its own append inside a batch', async () => {
    const store = open();
    const e = newEvent();
    await store.append('s-1', [e], { expectedVersion: ExpectedVersion.noStream });
    const results = await Promise.allSettled([
      store.append('s-2', [newEvent()], { expectedVersion: ExpectedVersion.noStream }),
      store.append('s-3', [{ ...e }], { expectedVersion: ExpectedVersion.noStream }),
      store.append('s-4', [newEvent()], { expectedVersion: ExpectedVersion.noStream }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateEventIdError);
    const all = await store.readAll();
    expect(all.map((x) => x.streamId)).toEqual(['s-1', 's-2', 's-4']);
    expect(all.map((x) => x.position)).toEqual(['0000000000000000001', '0000000000000000002', '0000000000000000003']);
  });

  it('the events table is append-only', async () => {
    const store = open();
    await store.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    await store.close();
    const db = new Database(path);
    try {
      expect(() => db.prepare("UPDATE events SET type = 'Forged'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    } finally {
      db.close();
    }
  });

  it('survives close and reopen with many events (positions and chain continue)', async () => {
    const store = open();
    for (let i = 0; i < 5; i++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, k) => store.append(`s-${k}`, [newEvent()], { expectedVersion: ExpectedVersion.exact(i - 1) })),
      );
    }
    const head = await store.headPosition();
    await store.close();
    const again = open();
    expect(await again.headPosition()).toBe(head);
    const r = await again.append('s-0', [newEvent()], { expectedVersion: ExpectedVersion.exact(4) });
    expect(r.position).toBe('0000000000000000101');
  });
});
