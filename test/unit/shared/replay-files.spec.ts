/**
 * asOf replays in files of their own (src/projections/replay-files.ts): the steps of a replay
 * that cannot be cut into slices of the event loop (a cached replay copied as the base of a later
 * one, a stored snapshot opened, a replay's own snapshot taken) are file copies off the loop, not
 * a database serialised or deserialised on it (soak probe of 2026-12-06, M1); the files go with
 * their replays, and a finished replay cannot be written to (its file is what later ones copy).
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion, type EventStore } from '../../../src/event-store/event-store.port.js';
import { assetDecider, assetStreamId } from '../../../src/asset-inventory/domain/asset.decider.js';
import { FEATURES } from '../../../src/features.js';
import { projectionsOf, upcastersOf } from '../../../src/platform/feature-contribution.js';
import { AsOfReplayer } from '../../../src/projections/as-of-replay.js';
import { ReplayFiles } from '../../../src/projections/replay-files.js';
import { REPLAY_FOLDER_PREFIX } from '../../../src/projections/replay-folders.js';
import { MemoryReplaySnapshots } from '../../../src/projections/replay-snapshots.js';
import type { ReadDb } from '../../../src/projections/read-model-database.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';

const ciso: DomainActor = { id: 'ciso', name: 'CISO', roles: ['CISO'] };

/** `count` assets registered, one event each: positions to replay to. */
async function registerAssets(store: EventStore, count: number): Promise<string[]> {
  for (let a = 0; a < count; a++) {
    const at = new Date(Date.parse('2026-01-01T00:00:00Z') + a * 1000).toISOString();
    const events = assetDecider.decide(
      { type: 'RegisterAsset', assetId: `a-${a}`, name: `System ${a}`, description: '', category: 'SYSTEM', department: 'ops', managerId: 'm', confidentiality: 2, integrity: 1, availability: 1, actor: ciso, at },
      assetDecider.initialState,
    );
    await store.append(
      assetStreamId(`a-${a}`),
      events.map((e) => ({ eventId: randomUUID(), type: e.type, schemaVersion: 1, data: e.data as Record<string, unknown>, metadata: { actor: ciso, occurredAt: at, correlationId: 'c', causationId: 'c' } })),
      { expectedVersion: ExpectedVersion.noStream },
    );
  }
  return (await store.readAll({ maxCount: 10_000 })).map((e) => e.position);
}

const assetsIn = (db: ReadDb) => db.prepare('SELECT COUNT(*) FROM assets').pluck().get();

describe('asOf replays in files', () => {
  const parents: string[] = [];
  const replayers: AsOfReplayer[] = [];
  afterEach(() => {
    jest.restoreAllMocks();
    for (const r of replayers.splice(0)) r.close();
    for (const p of parents.splice(0)) rmSync(p, { recursive: true, force: true });
  });
  const parent = () => {
    const p = mkdtempSync(join(tmpdir(), 'replay-files-test-'));
    parents.push(p);
    return p;
  };
  const replayerIn = (store: EventStore, dir: string, options: { cacheSize?: number; every?: number; snapshots?: MemoryReplaySnapshots } = {}) => {
    const r = new AsOfReplayer(store, upcastersOf(FEATURES), projectionsOf(FEATURES), options.cacheSize ?? 4, undefined, options.snapshots ? { store: options.snapshots, every: options.every ?? 5 } : undefined, new ReplayFiles(dir));
    replayers.push(r);
    return r;
  };
  const filesIn = (dir: string) => readdirSync(dir).flatMap((folder) => readdirSync(join(dir, folder)));

  it('builds each replay in a file of its own in a private folder, and deletes it with the replay', async () => {
    const store = new InMemoryEventStore();
    const positions = await registerAssets(store, 6);
    const dir = parent();
    const replayer = replayerIn(store, dir, { cacheSize: 1 });
    const first = await replayer.at({ atPosition: positions[2]! });
    expect(first.db.memory).toBe(false);
    const [folder] = readdirSync(dir);
    expect(folder).toMatch(new RegExp(`^${REPLAY_FOLDER_PREFIX}${process.pid}-`));
    expect(first.db.name.startsWith(join(dir, folder!))).toBe(true);
    // Another point: the first falls out of the cache (size 1) but stays open while leased.
    expect(await replayer.read({ atPosition: positions[4]! }, assetsIn)).toBe(5);
    expect(existsSync(first.db.name)).toBe(true);
    expect(assetsIn(first.db)).toBe(3);
    first.release();
    expect(existsSync(first.db.name)).toBe(false);
    expect(filesIn(dir)).toHaveLength(1);
    replayer.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('lets nothing write to a finished replay, whose file later replays copy', async () => {
    const store = new InMemoryEventStore();
    const positions = await registerAssets(store, 3);
    const replayer = replayerIn(store, parent());
    // The driver's errors may come from another test file's realm (its error class is registered
    // once per process), which `rejects.toThrow` does not take for an Error: the message is compared.
    const refused = await replayer.read({ atPosition: positions[1]! }, (db) => {
      try {
        db.exec('DELETE FROM assets');
        return 'written';
      } catch (error) {
        return String((error as Error).message);
      }
    });
    expect(refused).toMatch(/readonly|read-only/i);
    expect(await replayer.read({ atPosition: positions[1]! }, assetsIn)).toBe(2);
    // The next point starts from a copy of that replay's file, and goes on from it.
    expect(await replayer.read({ atPosition: positions[2]! }, assetsIn)).toBe(3);
  });

  it('never serialises a database on the event loop: copies of cached replays, stored snapshots taken and opened are files', async () => {
    const store = new InMemoryEventStore();
    const positions = await registerAssets(store, 24);
    const serialise = jest.spyOn(Database.prototype, 'serialize');
    const snapshots = new MemoryReplaySnapshots();
    const dir = parent();
    // From zero, leaving a stored snapshot every 5 events; then later points from the cached one.
    const replayer = replayerIn(store, dir, { snapshots, every: 5 });
    expect(await replayer.read({ atPosition: positions[11]! }, assetsIn)).toBe(12);
    expect(snapshots.size).toBe(2);
    expect(await replayer.read({ atPosition: positions[17]! }, assetsIn)).toBe(18);
    // A replayer with nothing cached starts from the stored snapshot nearest the point.
    const fromStored = replayerIn(store, dir, { snapshots, every: 0 });
    expect(await fromStored.read({ atPosition: positions[12]! }, assetsIn)).toBe(13);
    expect(await fromStored.read({ atPosition: positions[23]! }, assetsIn)).toBe(24);
    expect(serialise).not.toHaveBeenCalled();
  });

  it('keeps a stored snapshot whose replay file could not be written (a full disk): the replay fails, the snapshot stays', async () => {
    const store = new InMemoryEventStore();
    const positions = await registerAssets(store, 12);
    // The copy of an image into the replay's file fails as on a full disk.
    let diskFull = false;
    class Snapshots extends MemoryReplaySnapshots {
      override async loadInto(meta: Parameters<MemoryReplaySnapshots['loadInto']>[0], path: string): Promise<boolean> {
        if (diskFull) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
        return super.loadInto(meta, path);
      }
    }
    const snapshots = new Snapshots();
    const dir = parent();
    await replayerIn(store, dir, { snapshots, every: 5 }).read({ atPosition: positions[11]! }, assetsIn);
    expect(snapshots.size).toBe(2);
    diskFull = true;
    const full = replayerIn(store, dir, { snapshots, every: 1_000 });
    // Said to the client as STORE_UNAVAILABLE naming the folder, not as an internal error.
    await expect(full.read({ atPosition: positions[7]! }, assetsIn)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/scratch files in .*replay-files-test-.*ENOSPC/) });
    expect(snapshots.size).toBe(2);
    // A damaged image, though, is forgotten and the replay goes on from further back.
    const damaged = new MemoryReplaySnapshots();
    await replayerIn(store, dir, { snapshots: damaged, every: 5 }).read({ atPosition: positions[11]! }, assetsIn);
    const newest = damaged.newest([...(damaged as unknown as { entries: Map<string, { meta: { shape: string } }> }).entries.values()][0]!.meta.shape, () => true, null)!;
    (await damaged.load(newest))!.fill(7, 0, 100);
    expect(await replayerIn(store, dir, { snapshots: damaged, every: 1_000 }).read({ atPosition: positions[11]! }, assetsIn)).toBe(12);
    expect(damaged.size).toBe(1);
  });

  it('makes its folder again when it went missing (removed by hand): replays go on', async () => {
    const store = new InMemoryEventStore();
    const positions = await registerAssets(store, 4);
    const dir = parent();
    const replayer = replayerIn(store, dir);
    expect(await replayer.read({ atPosition: positions[1]! }, assetsIn)).toBe(2);
    for (const folder of readdirSync(dir)) rmSync(join(dir, folder), { recursive: true, force: true });
    // A cached replay still answers (its file is open); a new one copies it into a new folder.
    expect(await replayer.read({ atPosition: positions[1]! }, assetsIn)).toBe(2);
    expect(await replayer.read({ atPosition: positions[3]! }, assetsIn)).toBe(4);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it("leaves the event store's own failures to it (not told as the replay files')", async () => {
    const store = new InMemoryEventStore();
    const positions = await registerAssets(store, 3);
    const replayer = replayerIn(store, parent());
    // The replay's reads of the log (pages of 1,000) fail: its database's connection lost.
    const readAll = store.readAll.bind(store);
    store.readAll = async (...args: Parameters<typeof readAll>) => {
      if (args[0]?.maxCount === 1_000) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      return readAll(...args);
    };
    await expect(replayer.read({ atPosition: positions[2]! }, assetsIn)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('tells storage failures (a full disk, a folder that cannot be made) as STORE_UNAVAILABLE, and nothing else', () => {
    const files = new ReplayFiles(parent());
    // As node and the driver raise them: node's system errors name their syscall.
    for (const [code, syscall] of [['ENOSPC', 'write'], ['EEXIST', 'mkdir'], ['EACCES', 'copyfile'], ['SQLITE_FULL'], ['SQLITE_IOERR_WRITE'], ['SQLITE_CANTOPEN'], ['SQLITE_READONLY']]) {
      expect(files.unavailable(Object.assign(new Error(`failed: ${code}`), { code, ...(syscall ? { syscall } : {}) }))).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    }
    const other = Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT' });
    expect(files.unavailable(other)).toBe(other);
    const plain = new TypeError('a bug');
    expect(files.unavailable(plain)).toBe(plain);
  });

  it("in a folder of its own (DATA_DIR/replays), removes every other process's folder, its own pid's too (pid 1 in a container)", () => {
    const dir = parent();
    mkdirSync(join(dir, `${REPLAY_FOLDER_PREFIX}${process.pid}-left01`));
    mkdirSync(join(dir, `${REPLAY_FOLDER_PREFIX}${process.ppid}-left02`));
    mkdirSync(join(dir, 'something-else'));
    const files = new ReplayFiles(dir, true);
    files.prepare();
    expect(readdirSync(dir).sort()).toEqual([files.where.split('/').at(-1)!, 'something-else'].sort());
    files.close();
  });

  it('removes the folders that stopped processes left, and no other', async () => {
    const dir = parent();
    const stopped = spawnSync(process.execPath, ['-e', '0']).pid!;
    mkdirSync(join(dir, `${REPLAY_FOLDER_PREFIX}${stopped}-abc123`));
    mkdirSync(join(dir, `${REPLAY_FOLDER_PREFIX}${process.ppid}-def456`));
    mkdirSync(join(dir, 'something-else'));
    const files = new ReplayFiles(dir);
    const db = files.fresh();
    expect(readdirSync(dir).sort()).toEqual([`${REPLAY_FOLDER_PREFIX}${process.ppid}-def456`, db.name.split('/').at(-2)!, 'something-else'].sort());
    files.release(db);
    files.close();
  });
});
