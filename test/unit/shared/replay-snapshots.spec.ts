/**
 * Register-wide time travel from stored snapshots of the replayed read models (issue 13): a
 * replay that starts from a stored snapshot gives exactly the read models of a replay from the
 * start of the log, at every point; a snapshot that no longer matches the log is not used;
 * the store stays bounded.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { signerFor } from '../../../src/event-store/signing.js';
import { turnsDuring } from '../../support/turns.js';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion, type EventStore } from '../../../src/event-store/event-store.port.js';
import { assetDecider, assetStreamId } from '../../../src/asset-inventory/domain/asset.decider.js';
import { FEATURES } from '../../../src/features.js';
import { projectionsOf, upcastersOf } from '../../../src/platform/feature-contribution.js';
import { AsOfReplayer } from '../../../src/projections/as-of-replay.js';
import { ProjectionRunner } from '../../../src/projections/projection-runner.js';
import { openReadModelDatabase } from '../../../src/projections/read-model-database.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';
import { FileReplaySnapshots, MemoryReplaySnapshots, snapshotImage, type ReplaySnapshotStore } from '../../../src/projections/replay-snapshots.js';
import { catalogueDecider, catalogueIdFor, catalogueStreamId } from '../../../src/baseline-catalogues/domain/catalogue.decider.js';
import Database from 'better-sqlite3';
import type { ReadDb } from '../../../src/projections/read-model-database.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';

const ciso: DomainActor = { id: 'ciso', name: 'CISO', roles: ['CISO'] };

/** A log of asset registrations and reassignments (the asset register and the risk register's inputs). */
async function buildLog(store: EventStore, assets: number, reassignments: number): Promise<void> {
  let t = Date.parse('2026-01-01T00:00:00Z');
  for (let a = 0; a < assets; a++) {
    const assetId = `a-${a}`;
    let state = assetDecider.initialState;
    let version = -1;
    for (let i = 0; i <= reassignments; i++) {
      const at = new Date((t += 1000)).toISOString();
      const command =
        i === 0
          ? { type: 'RegisterAsset' as const, assetId, name: `System ${a}`, description: '', category: 'SYSTEM' as const, department: 'ops', managerId: 'm-0', confidentiality: 1 + (a % 3), integrity: 1, availability: 1, actor: ciso, at }
          : { type: 'ReassignAssetManager' as const, assetId, managerId: `m-${i}`, actor: ciso, at };
      const events = assetDecider.decide(command, state);
      const r = await store.append(
        assetStreamId(assetId),
        events.map((e) => ({ eventId: randomUUID(), type: e.type, schemaVersion: 1, data: e.data as Record<string, unknown>, metadata: { actor: ciso, occurredAt: at, correlationId: 'c', causationId: 'c' } })),
        { expectedVersion: version === -1 ? ExpectedVersion.noStream : ExpectedVersion.exact(version) },
      );
      version = r.nextExpectedVersion;
      for (const e of events) state = assetDecider.evolve(state, e);
    }
  }
}

/** Every table of a read-model database, rows sorted: equal dumps, equal read models. */
function dump(db: ReadDb): Record<string, unknown[]> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  return Object.fromEntries(tables.map((t) => [t, (db.prepare(`SELECT * FROM "${t}"`).all() as object[]).map((r) => JSON.stringify(r)).sort()]));
}

async function positionsOf(store: EventStore): Promise<string[]> {
  return (await store.readAll({ maxCount: 100_000 })).map((e) => e.position);
}

describe('register-wide asOf from stored read-model snapshots', () => {
  const upcasters = upcastersOf(FEATURES);
  const projections = projectionsOf(FEATURES);
  // Closed after each test: a replayer keeps its replays' files until then (replay-files.ts).
  const made: AsOfReplayer[] = [];
  afterEach(() => {
    for (const r of made.splice(0)) r.close();
  });
  const kept = (r: AsOfReplayer) => (made.push(r), r);
  const replayer = (store: EventStore, snapshots?: ReplaySnapshotStore, every = 7) =>
    kept(new AsOfReplayer(store, upcasters, projections, 1, undefined, snapshots ? { store: snapshots, every } : undefined));

  it('a replay started from a stored snapshot equals a replay from the start, at every position', async () => {
    const store = new InMemoryEventStore();
    await buildLog(store, 6, 6);
    const positions = await positionsOf(store);
    const snapshots = new MemoryReplaySnapshots(100);
    // Takes snapshots while it replays to the head (every 7 events).
    await replayer(store, snapshots).read({ atPosition: positions.at(-1)! }, () => undefined);
    expect(snapshots.size).toBe(Math.floor(positions.length / 7));
    for (const p of positions) {
      const fresh = await replayer(store).read({ atPosition: p }, dump);
      // A new replayer each time: nothing cached, so it starts from the stored snapshot.
      const fromSnapshot = await replayer(store, snapshots).read({ atPosition: p }, dump);
      expect(fromSnapshot).toEqual(fresh);
    }
  });

  it('a snapshot that no longer matches the log (other hash at its position) is discarded, and the answer is the same', async () => {
    const store = new InMemoryEventStore();
    await buildLog(store, 3, 5);
    const positions = await positionsOf(store);
    const snapshots = new MemoryReplaySnapshots(100);
    await replayer(store, snapshots).read({ atPosition: positions.at(-1)! }, () => undefined);
    const meta = snapshots.newest(new AsOfReplayer(store, upcasters, projections)['shape'], () => true, null)!;
    const image = (await snapshots.load(meta))!;
    snapshots.discard(meta);
    snapshots.save({ ...meta, head: { ...meta.head, hash: 'f'.repeat(64) } }, image);
    const before = snapshots.size;
    const fresh = await replayer(store).read({ atPosition: positions.at(-1)! }, dump);
    expect(await replayer(store, snapshots, 0).read({ atPosition: positions.at(-1)! }, dump)).toEqual(fresh);
    // every = 0 reads no snapshot at all; with snapshots on, the forged one is dropped.
    expect(snapshots.size).toBe(before);
    expect(await replayer(store, snapshots, 1_000).read({ atPosition: positions.at(-1)! }, dump)).toEqual(fresh);
    expect(snapshots.size).toBe(before - 1);
  });

  it('the live projections leave snapshots as they go; replays started from them equal replays from zero', async () => {
    const store = new InMemoryEventStore();
    await buildLog(store, 5, 6);
    const positions = await positionsOf(store);
    const snapshots = new MemoryReplaySnapshots(100);
    const live = openReadModelDatabase(':memory:');
    const runner = new ProjectionRunner(store, live, projections(), upcasters.upcast, new JsonLogger('test', 'error'));
    runner.storeReplaySnapshots(snapshots, 6);
    runner.start();
    await runner.waitFor(positions.at(-1)!);
    await runner.stop();
    // Catch-up pages are large: at least one snapshot, at the end of a committed page.
    expect(snapshots.size).toBeGreaterThan(0);
    for (const p of positions) {
      const fresh = await replayer(store).read({ atPosition: p }, dump);
      // The live database also holds the runner's own checkpoints: compare the read models.
      const fromLive = await replayer(store, snapshots, 1_000).read({ atPosition: p }, (db) => Object.fromEntries(Object.entries(dump(db)).filter(([t]) => t !== 'projection_checkpoints')));
      expect(fromLive).toEqual(Object.fromEntries(Object.entries(fresh).filter(([t]) => t !== 'projection_checkpoints')));
    }
    live.close();
  });

  it('snapshots left by live projections on a WAL file are used, without their history tables', async () => {
    const store = new InMemoryEventStore();
    await buildLog(store, 5, 6);
    const positions = await positionsOf(store);
    const snapshots = new MemoryReplaySnapshots(100);
    const dir = mkdtempSync(join(tmpdir(), 'replay-live-'));
    // As the server has it: a file in WAL mode (an in-memory database never showed the WAL header).
    const live = openReadModelDatabase(join(dir, 'read-models.sqlite'));
    try {
      expect(live.pragma('journal_mode', { simple: true })).toBe('wal');
      const runner = new ProjectionRunner(store, live, projections(), upcasters.upcast, new JsonLogger('test', 'error'));
      runner.storeReplaySnapshots(snapshots, 6);
      runner.start();
      await runner.waitFor(positions.at(-1)!);
      await runner.stop();
      const stored = snapshots.size;
      expect(stored).toBeGreaterThan(0);
      const results: string[] = [];
      const fromLive = kept(new AsOfReplayer(store, upcasters, projections, 1, { replayed: (r) => results.push(r) }, { store: snapshots, every: 1_000 }));
      const fresh = replayer(store);
      try {
        const strip = (d: Record<string, unknown[]>) => Object.fromEntries(Object.entries(d).filter(([t]) => t !== 'projection_checkpoints'));
        const last = positions.at(-1)!;
        const image = await fromLive.read({ atPosition: last }, (db) => ({ tables: strip(dump(db)), analyses: db.prepare('SELECT COUNT(*) FROM risk_analyses').pluck().get() }));
        // Started from the stored snapshot ('partial'), not from the start of the log ('miss'), and it was not thrown away.
        expect(results).toEqual(['partial']);
        expect(snapshots.size).toBe(stored);
        expect(image.tables).toEqual(strip(await fresh.read({ atPosition: last }, dump)));
        // The history tables exist again (setup), empty: a replay reads the live ones.
        expect(image.analyses).toBe(0);
      } finally {
        fromLive.close();
        fresh.close();
      }
    } finally {
      live.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('files: bounded and evenly thinned, damaged images ignored, other shapes removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-snapshots-'));
    try {
      const store = new InMemoryEventStore();
      await buildLog(store, 8, 8);
      const positions = await positionsOf(store);
      const files = new FileReplaySnapshots(dir, 4);
      await replayer(store, files, 5).read({ atPosition: positions.at(-1)! }, () => undefined);
      const kept = readdirSync(dir).filter((n) => n.endsWith('.json'));
      expect(kept).toHaveLength(4);
      // A new process (new index) finds them; a damaged image is skipped and removed.
      const reopened = new FileReplaySnapshots(dir, 4);
      const newest = kept.sort().at(-1)!;
      writeFileSync(join(dir, newest.replace('.json', '.sqlite')), 'not a database');
      const fresh = await replayer(store).read({ atPosition: positions.at(-1)! }, dump);
      expect(await replayer(store, reopened, 1_000).read({ atPosition: positions.at(-1)! }, dump)).toEqual(fresh);
      expect(readdirSync(dir).filter((n) => n.endsWith('.json'))).toHaveLength(3);
      // Snapshots of another shape are removed on the next save.
      writeFileSync(join(dir, '0000000000000000001.deadbeefdeadbeef.json'), JSON.stringify({ head: { position: '0000000000000000001', recordedAt: '', hash: '', chainHash: null }, previousPosition: null, shape: 'deadbeefdeadbeef' }));
      const again = new FileReplaySnapshots(dir, 4);
      await replayer(store, again, 5).read({ atPosition: positions.at(-1)! }, () => undefined);
      expect(readdirSync(dir).some((n) => n.includes('deadbeef'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('files sealed with the signing key: an image or description edited without the key is never loaded (nor an unsealed one)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-snapshots-'));
    try {
      const key = signerFor(generateKeyPairSync('ed25519').privateKey).derivedSecret!('replay-snapshots');
      const db = openReadModelDatabase(':memory:');
      db.exec("CREATE TABLE risks (id TEXT, title TEXT); INSERT INTO risks VALUES ('r-1', 'Theft of hot-wallet keys')");
      const image = db.serialize();
      db.close();
      const meta = (position: string) => ({ head: { position, recordedAt: '2026-01-01T00:00:00.000Z', hash: 'a'.repeat(64), chainHash: null }, previousPosition: null, shape: '0123456789abcdef' });
      const files = new FileReplaySnapshots(dir, 8, key);
      for (const p of ['0000000000000000010', '0000000000000000020', '0000000000000000030']) await files.save(meta(p), image);
      const found = (p: string) => new FileReplaySnapshots(dir, 8, key).newest('0123456789abcdef', (h) => h.position === p, null);
      expect(await new FileReplaySnapshots(dir, 8, key).load(found('0000000000000000010')!)).toEqual(image);
      // The image edited (a title that never was), the same length: refused and removed.
      const edited = Buffer.from(image);
      const at = edited.indexOf('Theft');
      edited.write('THEFT', at);
      writeFileSync(join(dir, '0000000000000000020.0123456789abcdef.sqlite'), edited);
      const reader = new FileReplaySnapshots(dir, 8, key);
      expect(await reader.load(found('0000000000000000020')!)).toBeNull();
      expect(existsSync(join(dir, '0000000000000000020.0123456789abcdef.sqlite'))).toBe(false);
      // Under another key (or none: written before sealing), nothing is taken.
      const otherKey = signerFor(generateKeyPairSync('ed25519').privateKey).derivedSecret!('replay-snapshots');
      expect(await new FileReplaySnapshots(dir, 8, otherKey).load(found('0000000000000000030')!)).toBeNull();
      const unsealed = new FileReplaySnapshots(dir, 8);
      await unsealed.save(meta('0000000000000000040'), image);
      expect(await reader.load(found('0000000000000000040')!)).toBeNull();

      // The same from file to file, as replays take and leave them (loadInto, saveFile): the copy is what is checked.
      const into = join(dir, 'replay.sqlite');
      const fromFile = join(dir, 'image.sqlite');
      writeFileSync(fromFile, image);
      await new FileReplaySnapshots(dir, 8, key).saveFile(meta('0000000000000000050'), fromFile);
      expect(existsSync(fromFile)).toBe(false); // taken
      expect(await new FileReplaySnapshots(dir, 8, key).loadInto(found('0000000000000000050')!, into)).toBe(true);
      expect(readFileSync(into).equals(image)).toBe(true);
      writeFileSync(join(dir, '0000000000000000050.0123456789abcdef.sqlite'), edited);
      expect(await new FileReplaySnapshots(dir, 8, key).loadInto(found('0000000000000000050')!, into)).toBe(false);
      expect([existsSync(into), existsSync(join(dir, '0000000000000000050.0123456789abcdef.sqlite'))]).toEqual([false, false]);
      // A copy that cannot be written (its folder is gone, as a full disk would fail it) is the caller's failure: the snapshot stays.
      await new FileReplaySnapshots(dir, 8, key).save(meta('0000000000000000060'), image);
      await expect(new FileReplaySnapshots(dir, 8, key).loadInto(found('0000000000000000060')!, join(dir, 'no-such-folder', 'replay.sqlite'))).rejects.toThrow(/ENOENT/);
      expect(existsSync(join(dir, '0000000000000000060.0123456789abcdef.sqlite'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('files: a large sealed image is read off the loop and its seal checked a slice per turn, on load and on save (probe p10)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-snapshots-'));
    try {
      const key = signerFor(generateKeyPairSync('ed25519').privateKey).derivedSecret!('replay-snapshots');
      const db = openReadModelDatabase(':memory:');
      db.exec('CREATE TABLE risks (id TEXT, doc TEXT)');
      const insert = db.prepare('INSERT INTO risks VALUES (?, ?)');
      for (let i = 0; i < 2_000; i++) insert.run(`r-${i}`, 'x'.repeat(10_000));
      const image = db.serialize(); // ~20 MB: five slices of the seal
      db.close();
      const meta = { head: { position: '0000000000000000042', recordedAt: '2026-01-01T00:00:00.000Z', hash: 'a'.repeat(64), chainHash: null }, previousPosition: null, shape: '0123456789abcdef' };
      const files = new FileReplaySnapshots(dir, 4, key);
      const [, savedTurns] = await turnsDuring(() => files.save(meta, image));
      const reader = new FileReplaySnapshots(dir, 4, key);
      const [loaded, loadedTurns] = await turnsDuring(() => reader.load(reader.newest(meta.shape, () => true, null)!));
      expect(loaded?.equals(image)).toBe(true);
      expect([savedTurns >= 4, loadedTurns >= 4]).toEqual([true, true]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('files: written off the loop; found once stored, a second save of one being written is a no-op, a cut-short write is cleared', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-snapshots-'));
    try {
      const meta = { head: { position: '0000000000000000042', recordedAt: '2026-01-01T00:00:00.000Z', hash: 'a'.repeat(64), chainHash: null }, previousPosition: null, shape: '0123456789abcdef' };
      const image = openReadModelDatabase(':memory:').serialize();
      const files = new FileReplaySnapshots(dir, 4);
      const first = files.save(meta, image);
      const second = files.save(meta, Buffer.from('another image'));
      await Promise.all([first, second]);
      expect(files.newest(meta.shape, () => true, null)).toEqual(meta);
      expect(await files.load(meta)).toEqual(image);
      expect(readdirSync(dir).sort()).toEqual(['0000000000000000042.0123456789abcdef.json', '0000000000000000042.0123456789abcdef.sqlite']);
      // A process that stopped in the middle of a write left a .tmp: the next one clears it and never uses it.
      writeFileSync(join(dir, '0000000000000000050.0123456789abcdef.sqlite.tmp'), 'half an image');
      const reopened = new FileReplaySnapshots(dir, 4);
      expect(reopened.newest(meta.shape, () => true, null)).toEqual(meta);
      expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
      // A write that fails half-way (here the description cannot be written) leaves no image behind.
      const later = { ...meta, head: { ...meta.head, position: '0000000000000000060' } };
      mkdirSync(join(dir, '0000000000000000060.0123456789abcdef.json.tmp'));
      await expect(reopened.save(later, image)).rejects.toThrow();
      expect(readdirSync(dir).filter((n) => n.startsWith('0000000000000000060') && !n.endsWith('.json.tmp'))).toEqual([]);
      expect(reopened.newest(meta.shape, () => true, null)).toEqual(meta);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('catalogues are not point-in-time: replays and stored snapshots leave them out', () => {
  it('a replay holds no catalogue rows and a snapshot image no catalogue table, while the live read models keep them', async () => {
    const store = new InMemoryEventStore();
    await buildLog(store, 3, 1);
    const catalogueId = catalogueIdFor('Custody', '1');
    const at = '2026-02-01T00:00:00Z';
    const events = catalogueDecider.decide(
      { type: 'ImportBaselineCatalogue', actor: ciso, at, catalogueId, name: 'Custody', version: '1', requirements: [{ id: 'C-1', title: 'Cold wallets', statement: 'Cold wallets hold 95% of customer assets', reference: 'Art.39(1)' }] },
      catalogueDecider.initialState,
    );
    await store.append(catalogueStreamId(catalogueId), events.map((e) => ({ eventId: randomUUID(), type: e.type, schemaVersion: 1, data: e.data as Record<string, unknown>, metadata: { actor: ciso, occurredAt: at, correlationId: 'c', causationId: 'c' } })), { expectedVersion: ExpectedVersion.noStream });
    const head = (await positionsOf(store)).at(-1)!;
    const live = openReadModelDatabase(':memory:');
    const runner = new ProjectionRunner(store, live, projectionsOf(FEATURES)(), upcastersOf(FEATURES).upcast, new JsonLogger('test', 'error'));
    runner.start();
    await runner.waitFor(head);
    await runner.stop();
    expect(live.prepare('SELECT COUNT(*) FROM baseline_catalogues').pluck().get()).toBe(1);
    const replayed = await new AsOfReplayer(store, upcastersOf(FEATURES), projectionsOf(FEATURES), 1).read({ atPosition: head }, (db) => ({
      catalogues: db.prepare('SELECT COUNT(*) FROM baseline_catalogues').pluck().get(),
      assets: db.prepare('SELECT COUNT(*) FROM assets').pluck().get(),
    }));
    expect(replayed).toEqual({ catalogues: 0, assets: 3 });
    const image = new Database(snapshotImage(live, projectionsOf(FEATURES)()));
    expect(image.prepare("SELECT name FROM sqlite_master WHERE name = 'baseline_catalogues'").all()).toEqual([]);
    image.close();
    live.close();
  });
});
