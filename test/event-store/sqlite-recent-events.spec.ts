/**
 * The SQLite store serves its followers' pages of the events it has just committed from memory
 * (internal/recent-events.ts) instead of reading them back: the same events as from the file, and
 * never a page that would skip what another connection wrote in between.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { RecentEvents } from '../../src/event-store/internal/recent-events.js';
import { ExpectedVersion, type RecordedEvent } from '../../src/event-store/event-store.port.js';
import { encodePosition } from '../../src/event-store/hash-chain.js';
import { newEvent } from './event-store.contract.js';
import { eventually } from '../support/eventually.js';

/** Counts the store's reads of a range of the log from the file. */
const readRange = () => jest.spyOn(SqliteEventStore.prototype as unknown as { readRange: (...args: unknown[]) => RecordedEvent[] }, 'readRange');

describe('SqliteEventStore: followers served from the events just committed', () => {
  let dir: string;
  let path: string;
  const stores: SqliteEventStore[] = [];
  const open = () => {
    const s = new SqliteEventStore({ path, pollIntervalMs: 10 });
    stores.push(s);
    return s;
  };
  /** Until the followers got what the test expects (named by its condition if they never do; 2,500 polls of 2 ms ran out on a slow machine). */
  const until = (condition: () => boolean): Promise<void> => eventually(condition.toString(), condition, 20_000, 2);
  const untilHead = (store: SqliteEventStore, position: number): Promise<void> =>
    eventually(`the store's head at ${position}`, async () => (await store.headPosition()) === encodePosition(position), 20_000, 2);
  function follow(store: SqliteEventStore, from: string | null = null, batchSize?: number): RecordedEvent[] {
    const seen: RecordedEvent[] = [];
    store.subscribeToAll({ from, batchSize, onEvent: (e) => void seen.push(e) });
    return seen;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-recent-'));
    path = join(dir, 'events.sqlite');
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives followers the same events from memory as from the file, frozen, without freezing what the appender holds', async () => {
    const store = open();
    await store.init();
    const live = follow(store);
    const reads = readRange();
    const appended: RecordedEvent[] = [];
    const ok = (events: RecordedEvent[]) => appended.push(...events);
    const data = () => ({ text: 'é ✓ \u0000 "q"', n: 1.5, big: 2 ** 53 - 1, nested: { list: [1, null, { deep: true }] }, when: new Date(0) });
    // One batch (same turn of the event loop) with a multi-stream append, an idempotent append and
    // its duplicate, a version conflict and an empty part.
    const first = await Promise.all([
      store.append('a-1', [newEvent('A', data()), newEvent('B', { i: 2 })], { expectedVersion: ExpectedVersion.noStream, idempotencyKey: 'k-1' }),
      store.appendMultiple([
        { streamId: 'a-2', expectedVersion: ExpectedVersion.noStream, events: [newEvent('C', { i: 3 })] },
        { streamId: 'a-3', expectedVersion: ExpectedVersion.noStream, events: [] },
        { streamId: 'a-4', expectedVersion: ExpectedVersion.noStream, events: [newEvent('D', { i: 4 })] },
      ]),
      store.append('a-1', [newEvent('E')], { expectedVersion: ExpectedVersion.noStream, idempotencyKey: 'k-1' }),
      store.append('a-1', [newEvent('F')], { expectedVersion: ExpectedVersion.noStream }).catch((e: unknown) => e),
    ]);
    ok(first[0].events);
    for (const r of first[1]) ok(r.events);
    expect(first[2].duplicate).toBe(true);
    // A batch where a duplicate event id fails one append (the store retries each append alone).
    const taken = appended[0]!.eventId;
    const second = await Promise.all([
      store.append('b-1', [newEvent('G', { i: 7 })], { expectedVersion: ExpectedVersion.noStream }),
      store.append('b-2', [{ ...newEvent('H'), eventId: taken }], { expectedVersion: ExpectedVersion.noStream }).catch((e: unknown) => e),
      store.append('b-3', [newEvent('I', { i: 9 })], { expectedVersion: ExpectedVersion.noStream }),
    ]);
    ok(second[0].events);
    ok((second[2] as { events: RecordedEvent[] }).events);
    // The duplicate of an earlier commit, then lone appends.
    const again = await store.append('a-1', [newEvent('E')], { expectedVersion: ExpectedVersion.noStream, idempotencyKey: 'k-1' });
    expect(again.duplicate).toBe(true);
    for (let i = 0; i < 3; i++) ok((await store.append('c-1', [newEvent('J', { i })], { expectedVersion: ExpectedVersion.exact(i - 1) })).events);

    await until(() => live.length === appended.length);
    // Nothing was read back from the file for the followers.
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();

    const fromFile = await store.readAll({ maxCount: 100 });
    expect(fromFile.map((e) => e.position)).toEqual(appended.map((_, i) => encodePosition(i + 1)));
    expect(live).toEqual(fromFile);
    expect(live).toEqual(appended);
    // Same key order as a row read back (JSON of an event is the same byte for byte).
    expect(live.map((e) => JSON.stringify(e))).toEqual(fromFile.map((e) => JSON.stringify(e)));
    // A new instance on the file has nothing in memory: its followers read the same from the file.
    const other = open();
    const cold = follow(other);
    await until(() => cold.length === appended.length);
    expect(cold).toEqual(live);
    expect(cold.map((e) => [e.position, e.hash, e.chainHash])).toEqual(live.map((e) => [e.position, e.hash, e.chainHash]));

    // The followers' events are frozen through and through; the appender's own objects are not.
    const event = live[0]!;
    expect(Object.isFrozen(event)).toBe(true);
    expect(() => {
      (event.data as { nested: { list: unknown[] } }).nested.list.push(1);
    }).toThrow(TypeError);
    expect(Object.isFrozen(appended[0])).toBe(false);
    expect(appended[0]).not.toBe(event);
    // Followers at the same point still share one page.
    const twin = follow(store);
    await until(() => twin.length === appended.length);
    expect(twin).toEqual(live);
  });

  it('never skips what another connection committed between two of its own commits', async () => {
    const store = open();
    await store.init();
    const live = follow(store);
    const own = async (stream: string, n: number) => (await store.append(stream, Array.from({ length: n }, () => newEvent('Own')), { expectedVersion: ExpectedVersion.any })).events;
    await own('s-1', 3); // 1..3
    await until(() => live.length === 3);
    const foreign = open();
    await foreign.append('f-1', [newEvent('Foreign'), newEvent('Foreign')], { expectedVersion: ExpectedVersion.noStream }); // 4..5
    await own('s-1', 2); // 6..7, after the foreign commit
    await until(() => live.length === 7);
    // Everything up to 7 is visible to this store's readers before the followers below start.
    await untilHead(store, 7);

    // From the start, from inside the first run, and from just before the foreign events: the
    // memory holds 6..7 only, so the file answers these pages (a partial page would skip 4..5).
    const followers = [follow(store, null), follow(store, encodePosition(1)), follow(store, encodePosition(3)), follow(store, encodePosition(5))];
    await until(() => followers.every((seen, k) => seen.length === [7, 6, 4, 2][k]));
    const log = await store.readAll({ maxCount: 100 });
    expect(log.map((e) => e.type)).toEqual(['Own', 'Own', 'Own', 'Foreign', 'Foreign', 'Own', 'Own']);
    expect(live).toEqual(log);
    expect(followers[0]).toEqual(log);
    expect(followers[1]).toEqual(log.slice(1));
    expect(followers[2]).toEqual(log.slice(3));
    expect(followers[3]).toEqual(log.slice(5));

    // A foreign commit after this store's last one: the memory ends before it, the file answers.
    await foreign.append('f-1', [newEvent('Foreign')], { expectedVersion: ExpectedVersion.exact(1) }); // 8
    await until(() => live.length === 8);
    expect(live[7]!.type).toBe('Foreign');
    await untilHead(store, 8);
    const reaching = follow(store, encodePosition(5)); // 6..7 in memory, 8 only in the file
    await until(() => reaching.length === 3);
    expect(reaching.map((e) => e.type)).toEqual(['Own', 'Own', 'Foreign']);
    await own('s-1', 1); // 9
    await until(() => live.length === 9);
    expect(live).toEqual(await store.readAll({ maxCount: 100 }));
  });

  it('reads from the file for a follower further behind than the events kept in memory', async () => {
    const store = open();
    await store.init();
    // 5 commits of 1,000 events: more than the 4,096 kept.
    for (let k = 0; k < 5; k++) {
      await store.append('big', Array.from({ length: 1000 }, (_, i) => newEvent('Bulk', { k, i })), { expectedVersion: ExpectedVersion.exact(k * 1000 - 1) });
    }
    const reads = readRange();
    const behind = follow(store, null, 500);
    await until(() => behind.length === 5000);
    expect(reads).toHaveBeenCalled();
    const fromFile = reads.mock.calls.length;
    // A follower inside the kept events is served from memory.
    const near = follow(store, encodePosition(4500), 500);
    await until(() => near.length === 500);
    expect(reads.mock.calls.length).toBe(fromFile);
    reads.mockRestore();
    const log: RecordedEvent[] = [];
    for (let after: string | null = null; log.length < 5000; ) {
      const page: RecordedEvent[] = await store.readAll({ after, maxCount: 1000 });
      log.push(...page);
      after = page[page.length - 1]!.position;
    }
    expect(behind).toEqual(log);
    expect(near).toEqual(log.slice(4500));
  });
});

describe('RecentEvents', () => {
  const event = (position: number): RecordedEvent =>
    ({ position: encodePosition(position), data: { position, nested: [{ position }] }, metadata: { correlationId: 'c' } }) as unknown as RecordedEvent;
  const run = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => event(first + i));
  const positions = (page: RecordedEvent[] | null) => page?.map((e) => Number(e.position)) ?? null;

  it('answers a page only when it holds every position the page needs', () => {
    const recent = new RecentEvents(8);
    expect(recent.page(0, 0, 10)).toEqual([]);
    expect(recent.page(0, 3, 10)).toBeNull();
    recent.add(1, run(1, 3));
    recent.add(4, run(4, 5));
    expect(positions(recent.page(0, 5, 10))).toEqual([1, 2, 3, 4, 5]);
    expect(positions(recent.page(1, 5, 2))).toEqual([2, 3]);
    expect(positions(recent.page(2, 4, 10))).toEqual([3, 4]); // capped
    expect(recent.page(5, 5, 10)).toEqual([]); // nothing up to the cap
    expect(recent.page(5, 7, 10)).toBeNull(); // 6..7 are not here
    expect(recent.page(3, 7, 10)).toBeNull(); // would stop short at 5
    expect(positions(recent.page(3, 7, 2))).toEqual([4, 5]); // a full page of 2
  });

  it('starts over when a commit does not continue the run, and keeps only the newest events', () => {
    const recent = new RecentEvents(8);
    recent.add(1, run(1, 3));
    recent.add(6, run(6, 7)); // 4..5 were committed elsewhere
    expect(recent.page(0, 7, 10)).toBeNull();
    expect(recent.page(3, 7, 10)).toBeNull();
    expect(recent.page(4, 7, 10)).toBeNull();
    expect(positions(recent.page(5, 7, 10))).toEqual([6, 7]);
    recent.add(8, run(8, 20)); // more than the capacity: 13..20 kept
    expect(recent.page(11, 20, 10)).toBeNull();
    expect(positions(recent.page(12, 20, 100))).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
    recent.clear();
    expect(recent.page(19, 20, 10)).toBeNull();
  });

  it('hands out frozen copies and leaves the added objects as they were', () => {
    const recent = new RecentEvents(4);
    const added = run(1, 2);
    recent.add(1, added);
    const page = recent.page(0, 2, 10)!;
    expect(page).toEqual(added);
    expect(page[0]).not.toBe(added[0]);
    expect(Object.isFrozen(page[0])).toBe(true);
    expect(Object.isFrozen((page[0]!.data as { nested: unknown[] }).nested[0])).toBe(true);
    expect(Object.isFrozen(added[0])).toBe(false);
    // Asked again, the same copies.
    expect(recent.page(0, 2, 10)![1]).toBe(page[1]);
  });
});
