import { copyFileSync, mkdtempSync, renameSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { inlineSyncPolicy } from '../../src/event-store/sqlite/wal-durability.js';
import { ExpectedVersion, type EventStore, type RecordedEvent } from '../../src/event-store/event-store.port.js';
import { EventStoreSchemaError, DuplicateEventIdError, EventStoreDurabilityError } from '../../src/event-store/errors.js';
import { runEventStoreContract, newEvent } from './event-store.contract.js';
import { turnsDuring } from '../support/turns.js';
import { eventually } from '../support/eventually.js';

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

/** 16 writers, 5 appends each on a stream of their own, in flight together. */
async function sixteenWriters(store: EventStore): Promise<void> {
  await Promise.all(
    Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; i < 5; i++) await store.append(`s-w${w}`, [newEvent()], { expectedVersion: ExpectedVersion.exact(i - 1) });
    }),
  );
}

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

  it('reads a type over a long log in spans of 20,000 positions, letting the event loop turn between them (probe p10)', async () => {
    const store = open();
    // 45,000 events, 1,000 a commit; a rare type at either side of each span's edge and near the end.
    const rare = new Set([19_999, 20_000, 20_001, 40_000, 44_999]);
    for (let c = 0; c < 45; c++) {
      await store.append(`s-${c}`, Array.from({ length: 1_000 }, (_, i) => newEvent(rare.has(c * 1_000 + i + 1) ? 'Rare' : 'Common', { n: c * 1_000 + i + 1 })), { expectedVersion: ExpectedVersion.noStream });
    }
    const [all, turns] = await turnsDuring(() => store.readAll({ types: ['Rare'], maxCount: 100 }));
    expect(all.map((e) => e.data.n)).toEqual([...rare]);
    expect(turns).toBeGreaterThanOrEqual(2);
    // maxCount and pages across the spans' edges.
    expect((await store.readAll({ types: ['Rare'], maxCount: 2 })).map((e) => e.data.n)).toEqual([19_999, 20_000]);
    expect((await store.readAll({ types: ['Rare'], after: all[2]!.position, maxCount: 5 })).map((e) => e.data.n)).toEqual([40_000, 44_999]);
    expect(await store.readAll({ types: ['Nope'] })).toEqual([]);
    // The byte cap ends a typed page across spans too (one event at least).
    expect(await store.readAll({ types: ['Rare'], maxCount: 10, maxBytes: 1 })).toHaveLength(1);
  }, 60_000);

  it('creates the directory and the versioned schema in WAL mode', async () => {
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

  it('tells the heads of streams it committed, and none once another connection committed, until its own next commit', async () => {
    const store = open();
    const other = open();
    const head = (s: SqliteEventStore, id: string) => s.currentStreamHeads()(id);
    const [a, b] = [`s-${randomUUID()}`, `s-${randomUUID()}`];
    const first = await store.append(a, [newEvent(), newEvent()], { expectedVersion: ExpectedVersion.noStream });
    // What the aggregate reader relies on to skip a read: the head it committed, exactly.
    expect(head(store, a)).toEqual({ revision: 1, position: first.position });
    expect(head(store, b)).toBeUndefined();
    // Another connection appends (to another stream): this store can no longer vouch for any head.
    await other.append(b, [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    expect(head(store, a)).toBeUndefined();
    expect(head(other, b)).toEqual({ revision: 0, position: await other.headPosition() });
    // ...and to this one: the head this store committed is stale, and it is not reported.
    await other.append(a, [newEvent()], { expectedVersion: ExpectedVersion.exact(1) });
    expect(head(store, a)).toBeUndefined();
    const next = await store.append(a, [newEvent()], { expectedVersion: ExpectedVersion.exact(2) });
    expect(head(store, a)).toEqual({ revision: 3, position: next.position });
    const taken = store.currentStreamHeads();
    await store.close();
    expect(head(store, a)).toBeUndefined();
    expect(taken(a)).toBeUndefined();
  });

  it('a lookup learns of other connections\' commits at its first answer, once: one check for the reads of one decision', async () => {
    const store = open();
    const other = open();
    const [a, b] = [`s-${randomUUID()}`, `s-${randomUUID()}`];
    const first = await store.append(a, [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    // Taken before another connection commits, first asked after: it knows of that commit.
    const late = store.currentStreamHeads();
    await other.append(b, [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    expect(late(a)).toBeUndefined();
    const second = await store.append(a, [newEvent()], { expectedVersion: ExpectedVersion.exact(0) });
    expect(first.position < second.position).toBe(true);
    // First asked before another connection commits: it answers from that one check, so a commit
    // after it goes unnoticed (here to another stream, so the head it answers is still true) ...
    const once = store.currentStreamHeads();
    expect(once(a)).toEqual({ revision: 1, position: second.position });
    await other.append(b, [newEvent()], { expectedVersion: ExpectedVersion.exact(0) });
    expect(once(a)).toEqual({ revision: 1, position: second.position });
    expect(store.currentStreamHeads()(a)).toBeUndefined();
    // ... and this store's own commits after it are answered (the writer noticed the other
    // connection's commit and dropped every head it had, then kept its new one).
    const third = await store.append(a, [newEvent()], { expectedVersion: ExpectedVersion.exact(1) });
    expect(once(a)).toEqual({ revision: 2, position: third.position });
    expect(once(b)).toBeUndefined();
    await other.close();
    await store.close();
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

describe('SqliteEventStore durable commit (commit at NORMAL, the WAL fsynced off the event loop)', () => {
  let dir: string;
  let path: string;
  const stores: SqliteEventStore[] = [];
  const open = (options: Partial<ConstructorParameters<typeof SqliteEventStore>[0]> = {}) => {
    const s = new SqliteEventStore({ path, pollIntervalMs: 10, ...options });
    stores.push(s);
    return s;
  };
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  /** Until a delivery or sync the test expects (named by its condition if it never comes; 2,000 polls of 2 ms ran out on a slow machine). */
  const until = (condition: () => boolean): Promise<void> => eventually(condition.toString(), condition, 20_000, 2);
  /** A WAL sync held open until the test releases it; `calls` counts the syncs started. */
  function heldSync() {
    const pending: (() => void)[] = [];
    const held = {
      calls: 0,
      hold: true,
      syncWal: async (): Promise<void> => {
        held.calls++;
        if (held.hold) await new Promise<void>((resolve) => pending.push(resolve));
      },
      releaseOne: () => pending.shift()?.(),
      releaseAll: () => {
        held.hold = false;
        for (const r of pending.splice(0)) r();
      },
    };
    return held;
  }
  const committedRows = (): number => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
    } finally {
      db.close();
    }
  };

  beforeEach(() => {
    dir = tempDir();
    path = join(dir, 'events.sqlite');
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncs the WAL itself for a file, and leaves a database in memory to SQLite', async () => {
    const file = open();
    await file.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    expect(file.stats().syncs).toBeGreaterThanOrEqual(1);
    const memory = new SqliteEventStore({ path: ':memory:' });
    stores.push(memory);
    await memory.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    expect(memory.stats().syncs).toBe(0);
    expect(await memory.readAll()).toHaveLength(1);
  });

  it.each([
    ['removed', () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    }],
    ['replaced by a copy moved over it', () => {
      copyFileSync(path, `${path}.copy`);
      renameSync(`${path}.copy`, path);
    }],
  ])('acknowledges nothing once its file was %s under it: the commits went to a file nobody opens again (operations probe 10-c M3)', async (_what, change) => {
    const store = open();
    // Off the loop and inline: 16 overlapping writers, then one alone.
    await Promise.all(Array.from({ length: 16 }, (_, i) => store.append(`s-${i}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream })));
    change();
    const overlapping = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => store.append(`t-${i}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream })));
    const alone = await store.append('u', [newEvent()], { expectedVersion: ExpectedVersion.noStream }).then(() => 'acknowledged', (error: unknown) => error);
    expect(overlapping.filter((r) => r.status === 'fulfilled')).toEqual([]);
    expect(alone).toBeInstanceOf(EventStoreDurabilityError);
    expect(String((alone as Error).message)).toMatch(/events\.sqlite.* was (removed|replaced)/);
    expect(await store.health()).toMatchObject({ ok: false });
  });

  it('syncs a lone append inline, and appends that overlap too while the disk syncs fast', async () => {
    const store = open();
    const realClock = inlineSyncPolicy.now;
    let clock = 0;
    inlineSyncPolicy.now = () => (clock += 0.1); // every sync takes 0.1 ms, whatever this machine's disk does
    try {
      for (let i = 0; i < 10; i++) await store.append('s-alone', [newEvent()], { expectedVersion: ExpectedVersion.exact(i - 1) });
      expect(store.stats()).toMatchObject({ transactions: 10, syncs: 10, inlineSyncs: 10 });
      await sixteenWriters(store);
    } finally {
      inlineSyncPolicy.now = realClock;
    }
    const stats = store.stats();
    expect(stats.transactions).toBeGreaterThan(10);
    expect(stats.syncs).toBe(stats.inlineSyncs);
    expect(await store.readAll({ maxCount: 1000 })).toHaveLength(90);
  });

  it('after an inline sync slower than the policy allows, syncs overlapping appends off the event loop, then tries inline again', async () => {
    const store = open();
    const real = { ...inlineSyncPolicy };
    let clock = 0;
    inlineSyncPolicy.now = () => (clock += 5); // every sync takes 5 ms: a slow disk
    inlineSyncPolicy.offLoopAfterSlow = 3;
    try {
      await store.append('s-first', [newEvent()], { expectedVersion: ExpectedVersion.exact(-1) });
      expect(store.stats()).toMatchObject({ syncs: 1, inlineSyncs: 1 });
      await sixteenWriters(store);
      const stats = store.stats();
      // Off the loop, three at a time, between slow inline ones: both kinds, more than one inline try.
      expect(stats.syncs - stats.inlineSyncs).toBeGreaterThanOrEqual(3);
      expect(stats.inlineSyncs).toBeGreaterThan(1);
    } finally {
      Object.assign(inlineSyncPolicy, real);
    }
    // Every append of the slow spell is in the log once.
    expect(await store.readAll({ maxCount: 1000 })).toHaveLength(81);
  });

  it('an append is acknowledged, read and delivered only after an fsync started after its commit', async () => {
    const sync = heldSync();
    const store = open({ syncWal: sync.syncWal });
    await store.init();
    const delivered: string[] = [];
    store.subscribeToAll({ from: null, onEvent: (e) => void delivered.push(e.position) });
    let acknowledged = false;
    const append = store.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream }).then((r) => {
      acknowledged = true;
      return r;
    });
    await until(() => sync.calls === 1);
    // Committed (another connection sees the row) but not yet synced: nobody acts on it.
    expect(committedRows()).toBe(1);
    let streamRead = false;
    const stream = store.readStream('s-1').then((events) => {
      streamRead = true;
      return events;
    });
    expect(await store.readAll()).toEqual([]);
    expect(await store.headPosition()).toBeNull();
    for (let i = 0; i < 20; i++) await turn();
    expect({ acknowledged, streamRead, delivered }).toEqual({ acknowledged: false, streamRead: false, delivered: [] });

    sync.releaseAll();
    const result = await append;
    expect((await stream).map((e) => e.position)).toEqual([result.position]);
    await until(() => delivered.length === 1);
    expect(delivered).toEqual([result.position]);
    expect(await store.headPosition()).toBe(result.position);
    expect((await store.readAll()).map((e) => e.position)).toEqual([result.position]);
  });

  it('batches committed while an fsync runs share the next one, and settle in log order', async () => {
    const sync = heldSync();
    const store = open({ syncWal: sync.syncWal });
    await store.init();
    const settled: number[] = [];
    const first = store.append('s-0', [newEvent()], { expectedVersion: ExpectedVersion.noStream }).then(() => void settled.push(0));
    await until(() => sync.calls === 1);
    // Three more transactions while the first sync is held: each commits, none is acknowledged.
    const later: Promise<void>[] = [];
    for (let i = 1; i <= 3; i++) {
      later.push(store.append(`s-${i}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream }).then(() => void settled.push(i)));
      await until(() => store.stats().transactions === i + 1);
    }
    expect(committedRows()).toBe(4);
    expect(settled).toEqual([]);
    sync.releaseOne();
    await first;
    expect(settled).toEqual([0]);
    await until(() => sync.calls === 2);
    expect(settled).toEqual([0]);
    sync.releaseAll();
    await Promise.all(later);
    expect(settled).toEqual([0, 1, 2, 3]);
    expect(store.stats()).toMatchObject({ transactions: 4, syncs: 2 });
  });

  it('a retried idempotency key is answered only once the first append is durable', async () => {
    const sync = heldSync();
    const store = open({ syncWal: sync.syncWal });
    const first = store.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream, idempotencyKey: 'k-1' });
    await until(() => sync.calls === 1);
    let answered = false;
    const found = store.findIdempotentAppend('k-1').then((r) => {
      answered = true;
      return r;
    });
    // The same key appended again joins the next batch and waits for its sync as well.
    const retry = store.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream, idempotencyKey: 'k-1' });
    for (let i = 0; i < 20; i++) await turn();
    expect(answered).toBe(false);
    sync.releaseAll();
    const [a, b, c] = await Promise.all([first, found, retry]);
    expect(b?.position).toBe(a.position);
    expect(c).toMatchObject({ position: a.position, duplicate: true });
  });

  it("another process's commits reach this store's readers only after this store synced them", async () => {
    const sync = heldSync();
    const reader = open({ syncWal: sync.syncWal });
    await reader.init();
    const delivered: string[] = [];
    reader.subscribeToAll({ from: null, onEvent: (e) => void delivered.push(e.position) });
    const writer = open();
    const written = await writer.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    // The reader's poll notices the foreign commit and syncs the WAL before showing it.
    await until(() => sync.calls >= 1);
    expect(await reader.readAll()).toEqual([]);
    expect(delivered).toEqual([]);
    sync.releaseAll();
    await until(() => delivered.length === 1);
    expect(delivered).toEqual([written.position]);
  });

  it('followers at the same point share one read of the new events, frozen, whatever their batch sizes', async () => {
    const store = open();
    await store.init();
    const seen: RecordedEvent[][] = [[], [], []];
    const batchSizes = [500, 7, 1000];
    batchSizes.forEach((batchSize, i) => store.subscribeToAll({ from: null, batchSize, onEvent: (e) => void seen[i]!.push(e) }));
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => store.append(`s-${k}`, [newEvent('Tested', { round, nested: { list: [k] } })], { expectedVersion: ExpectedVersion.exact(round - 1) })));
    }
    await until(() => seen.every((events) => events.length === 30));
    const positions = (await store.readAll({ maxCount: 100 })).map((e) => e.position);
    for (const events of seen) expect(events.map((e) => e.position)).toEqual(positions);
    // Shared, not copied: the three followers hold the same objects, which nobody can change.
    const shared = seen[0]!.filter((e, i) => e === seen[1]![i] && e === seen[2]![i]).length;
    expect(shared).toBeGreaterThan(0);
    const event = seen[0]![0]!;
    expect(() => {
      (event.data as { round: number }).round = 99;
    }).toThrow(TypeError);
    expect(() => {
      ((event.data as { nested: { list: number[] } }).nested.list).push(1);
    }).toThrow(TypeError);
    expect((await store.readAll({ maxCount: 1 }))[0]!.data).toEqual({ round: 0, nested: { list: [expect.any(Number)] } });
  });

  it('in memory (SQLite syncs each commit), followers that caught up still get what is appended later', async () => {
    const store = new SqliteEventStore({ path: ':memory:', pollIntervalMs: 10 });
    stores.push(store);
    const seen: string[][] = [[], []];
    for (const list of seen) store.subscribeToAll({ from: null, onEvent: (e) => void list.push(e.position) });
    for (let i = 0; i < 3; i++) {
      await store.append(`s-${i}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream });
      await until(() => seen.every((list) => list.length === i + 1));
      for (let k = 0; k < 5; k++) await turn();
    }
    expect(seen[0]).toEqual(seen[1]);
  });

  it('a failed fsync fails the appends that waited for it, every later one, and the health check', async () => {
    let fail = false;
    const store = open({
      syncWal: async () => {
        if (fail) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      },
    });
    await store.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    fail = true;
    await expect(store.append('s-2', [newEvent()], { expectedVersion: ExpectedVersion.noStream })).rejects.toBeInstanceOf(EventStoreDurabilityError);
    await expect(store.append('s-3', [newEvent()], { expectedVersion: ExpectedVersion.noStream })).rejects.toBeInstanceOf(EventStoreDurabilityError);
    const health = await store.health();
    expect(health.ok).toBe(false);
    expect(String(health.details?.error)).toMatch(/could not make its writes durable: EIO/);
    // What was durable before stays readable.
    expect(await store.readAll()).toHaveLength(1);
  });
});
