/**
 * The read-model file's upkeep off the event loop (read-model-worker.ts): the worker checkpoints
 * the WAL while the writer's own automatic checkpoint is only a backstop, and the snapshot images
 * it builds while the projections go on committing each hold one committed page: replays started
 * from them equal replays from the start of the log.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion, type EventStore } from '../../../src/event-store/event-store.port.js';
import { assetDecider, assetStreamId } from '../../../src/asset-inventory/domain/asset.decider.js';
import { FEATURES } from '../../../src/features.js';
import { projectionsOf, upcastersOf } from '../../../src/platform/feature-contribution.js';
import { AsOfReplayer } from '../../../src/projections/as-of-replay.js';
import { ProjectionRunner } from '../../../src/projections/projection-runner.js';
import { openReadModelDatabase, type ReadDb } from '../../../src/projections/read-model-database.js';
import { MemoryReplaySnapshots } from '../../../src/projections/replay-snapshots.js';
import { ReadModelWorker } from '../../../src/projections/read-model-worker.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';

const ciso: DomainActor = { id: 'ciso', name: 'CISO', roles: ['CISO'] };

async function registerAsset(store: EventStore, a: number): Promise<void> {
  const at = new Date(Date.parse('2026-01-01T00:00:00Z') + a * 1000).toISOString();
  const command = { type: 'RegisterAsset' as const, assetId: `a-${a}`, name: `System ${a}`, description: 'd'.repeat(200), category: 'SYSTEM' as const, department: 'ops', managerId: 'm-0', confidentiality: 1 + (a % 3), integrity: 1, availability: 1, actor: ciso, at };
  const events = assetDecider.decide(command, assetDecider.initialState);
  await store.append(
    assetStreamId(`a-${a}`),
    events.map((e) => ({ eventId: randomUUID(), type: e.type, schemaVersion: 1, data: e.data as Record<string, unknown>, metadata: { actor: ciso, occurredAt: at, correlationId: 'c', causationId: 'c' } })),
    { expectedVersion: ExpectedVersion.noStream },
  );
}

function dump(db: ReadDb): Record<string, unknown[]> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'projection_checkpoints' ORDER BY name").pluck().all() as string[];
  return Object.fromEntries(tables.map((t) => [t, (db.prepare(`SELECT * FROM "${t}"`).all() as object[]).map((r) => JSON.stringify(r)).sort()]));
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('read-model upkeep off the event loop', () => {
  const upcasters = upcastersOf(FEATURES);
  const projections = projectionsOf(FEATURES);

  it('snapshot images built while live pages keep committing each hold one committed page', async () => {
    const store = new InMemoryEventStore();
    const snapshots = new MemoryReplaySnapshots(1_000);
    const dir = mkdtempSync(join(tmpdir(), 'read-model-worker-'));
    const live = openReadModelDatabase(join(dir, 'read-models.sqlite'));
    const runner = new ProjectionRunner(store, live, projections(), upcasters.upcast, new JsonLogger('test', 'error'));
    try {
      runner.storeReplaySnapshots(snapshots, 3);
      runner.start();
      // One event per page, appended while earlier images are still being built.
      for (let a = 0; a < 60; a++) {
        await registerAsset(store, a);
        if (a % 7 === 0) await wait(5);
      }
      const positions = (await store.readAll({ maxCount: 1_000 })).map((e) => e.position);
      await runner.waitFor(positions.at(-1)!);
      await runner.stop();
      expect(snapshots.size).toBeGreaterThan(0);
      const shape = new AsOfReplayer(store, upcasters, projections)['shape'];
      let compared = 0;
      for (const p of positions) {
        const meta = snapshots.newest(shape, (h) => h.position <= p, null);
        if (meta?.head.position !== p) continue;
        // A snapshot at exactly this position: its image equals a replay from zero to it.
        const results: string[] = [];
        const fromSnapshot = new AsOfReplayer(store, upcasters, projections, 1, { replayed: (r) => results.push(r) }, { store: snapshots, every: 1_000 });
        const fresh = new AsOfReplayer(store, upcasters, projections, 1);
        expect(await fromSnapshot.read({ atPosition: p }, dump)).toEqual(await fresh.read({ atPosition: p }, dump));
        expect(results).toEqual(['partial']);
        compared++;
        fromSnapshot.close();
        fresh.close();
      }
      expect(compared).toBe(snapshots.size);
    } finally {
      await runner.stop();
      live.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checkpoints the WAL itself while the runner runs, and hands the automatic checkpoint back on stop', async () => {
    const store = new InMemoryEventStore();
    const dir = mkdtempSync(join(tmpdir(), 'read-model-worker-'));
    const path = join(dir, 'read-models.sqlite');
    const live = openReadModelDatabase(path);
    const runner = new ProjectionRunner(store, live, projections(), upcasters.upcast, new JsonLogger('test', 'error'));
    try {
      runner.start();
      expect(live.pragma('wal_autocheckpoint', { simple: true })).toBeGreaterThan(1_000);
      const before = statSync(path).size;
      for (let a = 0; a < 200; a++) await registerAsset(store, a);
      await runner.waitFor((await store.headPosition())!);
      // Far below the writer's backstop: only the worker copies the WAL into the file.
      for (let i = 0; i < 250 && statSync(path).size <= before; i++) await wait(20);
      expect(statSync(path).size).toBeGreaterThan(before);
      expect(live.prepare('SELECT COUNT(*) FROM assets').pluck().get()).toBe(200);
      await runner.stop();
      expect(live.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
    } finally {
      await runner.stop();
      live.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('checkpoints at once when asked (after a catch-up commits a span), not at its next round', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'read-model-worker-'));
    const path = join(dir, 'read-models.sqlite');
    const db = openReadModelDatabase(path);
    db.exec('CREATE TABLE filler (n INTEGER PRIMARY KEY, text TEXT NOT NULL)');
    // Its rounds a minute apart: only the one at its start has run.
    const worker = ReadModelWorker.start(db, { intervalMs: 60_000 })!;
    try {
      await wait(200);
      const before = statSync(path).size;
      const insert = db.prepare('INSERT INTO filler (n, text) VALUES (?, ?)');
      db.transaction(() => {
        for (let n = 0; n < 2_000; n++) insert.run(n, 'x'.repeat(500));
      })();
      await wait(300);
      // In the WAL only: the file has not grown.
      expect(statSync(path).size).toBe(before);
      worker.checkpointSoon();
      for (let i = 0; i < 250 && statSync(path).size <= before; i++) await wait(20);
      expect(statSync(path).size).toBeGreaterThan(before + 500 * 1_000);
    } finally {
      await worker.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the runner asks its worker for a checkpoint after each commit of a catch-up's span, and not for live pages", async () => {
    const store = new InMemoryEventStore();
    for (let a = 0; a < 40; a++) await registerAsset(store, a);
    const dir = mkdtempSync(join(tmpdir(), 'read-model-worker-'));
    const live = openReadModelDatabase(join(dir, 'read-models.sqlite'));
    const asked = { count: 0 };
    const original = ReadModelWorker.prototype.checkpointSoon;
    ReadModelWorker.prototype.checkpointSoon = function (this: ReadModelWorker) {
      asked.count++;
      original.call(this);
    };
    // Pages of 5 committed every 10 events: the 40 events of the log in 4 spans.
    const runner = new ProjectionRunner(store, live, projections(), upcasters.upcast, new JsonLogger('test', 'error'), { pageSize: 5, commitEvery: 10, commitAfterMs: 60_000, idleCommitMs: 60_000 });
    try {
      runner.start();
      await runner.waitFor((await store.headPosition())!);
      expect(asked.count).toBe(4);
      // Live pages (one event each, no span) commit without asking.
      for (let a = 40; a < 43; a++) await registerAsset(store, a);
      await runner.waitFor((await store.headPosition())!);
      expect(asked.count).toBe(4);
    } finally {
      ReadModelWorker.prototype.checkpointSoon = original;
      await runner.stop();
      live.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
