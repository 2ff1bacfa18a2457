/**
 * LiveEvents: a subscription that does not take its events (a client that stopped reading:
 * graphql-ws sends one message at a time, so they wait here, not in the socket) is ended once it
 * falls further behind than liveEventLimits, instead of holding every event for ever.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ExpectedVersion } from '../../../src/event-store/event-store.port.js';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { BACKLOG_PAGE_BYTES, LiveEvents, liveEventLimits } from '../../../src/shared/application/live-events.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';
import { eventually } from '../../support/eventually.js';
import { turnCounter } from '../../support/turns.js';

const silent = new JsonLogger('test', 'error');
const defaults = { ...liveEventLimits };

async function appendOne(store: InMemoryEventStore, i: number): Promise<void> {
  await store.append(`s-${i}`, [{ eventId: randomUUID(), type: 'T', schemaVersion: 1, data: { i }, metadata: { actor: { id: 'a', name: 'a', roles: [] }, occurredAt: new Date().toISOString(), correlationId: 'c', causationId: 'c' } }], { expectedVersion: ExpectedVersion.noStream });
}

/** Until `condition` (named by it if it never holds; 500 polls of 5 ms ran out silently before, and the next expectation failed instead). */
const until = (condition: () => boolean): Promise<void> => eventually(condition.toString(), condition);

describe('LiveEvents: a subscription that falls too far behind', () => {
  afterEach(() => {
    Object.assign(liveEventLimits, defaults);
  });

  it('is ended past maxQueued: what waited for it is dropped, the socket is told, and the iterator throws where to read on', async () => {
    Object.assign(liveEventLimits, { maxQueued: 5 });
    const store = new InMemoryEventStore();
    const live = new LiveEvents(store, silent);
    await live.start();
    const overflows: Error[] = [];
    const it = live.iterator(() => true, (e) => e.position, (error) => overflows.push(error));
    // The consumer takes two events, then stops taking.
    await appendOne(store, 0);
    await appendOne(store, 1);
    expect(await it.next()).toEqual({ value: '0000000000000000001', done: false });
    expect(await it.next()).toEqual({ value: '0000000000000000002', done: false });
    for (let i = 2; i < 9; i++) await appendOne(store, i);
    await until(() => overflows.length > 0);
    expect(overflows).toHaveLength(1);
    expect(overflows[0]!.message).toMatch(/fell too far behind \(6 events not taken.*read on with events\(after: the last position you received\).*sent up to "0000000000000000002"/);
    // Nothing more is held for it, and the next read ends it with the same error, once.
    await expect(it.next()).rejects.toBe(overflows[0]);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    // Another subscription is not affected.
    const other = live.iterator(() => true, (e) => e.position);
    await appendOne(store, 9);
    expect((await other.next()).value).toBe('0000000000000000010');
    await other.return!();
    await live.stop();
  });

  it('is ended when its oldest event waited longer than maxWaitMs, and not while it keeps up', async () => {
    Object.assign(liveEventLimits, { maxWaitMs: 100 });
    const store = new InMemoryEventStore();
    const live = new LiveEvents(store, silent);
    await live.start();
    const overflows: Error[] = [];
    const keeping = live.iterator(() => true, (e) => e.position, (error) => overflows.push(error));
    // Taken as they come, over more than maxWaitMs in all: never ended.
    for (let i = 0; i < 4; i++) {
      await appendOne(store, i);
      await keeping.next();
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    expect(overflows).toEqual([]);
    await keeping.return!();
    const stalled = live.iterator(() => true, (e) => e.position, (error) => overflows.push(error));
    await appendOne(store, 10);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await appendOne(store, 11);
    await until(() => overflows.length > 0);
    expect(overflows.map((e) => e.message)).toEqual([expect.stringMatching(/fell too far behind \(2 events not taken, the oldest for 0 s\).*sent up to "0000000000000000004"/)]);
    await expect(stalled.next()).rejects.toBe(overflows[0]);
    await live.stop();
  });
});

describe('LiveEvents: a subscription that resumes from a position', () => {
  async function append(store: InMemoryEventStore, i: number, type: string): Promise<void> {
    await store.append(`r-${i}`, [{ eventId: randomUUID(), type, schemaVersion: 1, data: { i }, metadata: { actor: { id: 'a', name: 'a', roles: [] }, occurredAt: new Date().toISOString(), correlationId: 'c', causationId: 'c' } }], { expectedVersion: ExpectedVersion.noStream });
  }

  it('hands over the stored events after it, then the live ones, with no gap and no repeat, while writes go on', async () => {
    const store = new InMemoryEventStore();
    const live = new LiveEvents(store, silent);
    await live.start();
    let n = 0;
    const type = (i: number) => (i % 3 === 0 ? 'U' : 'T');
    for (; n < 1_200; n++) await append(store, n, type(n));
    const all = await store.readAll({ maxCount: 100_000 });
    const after = all[99]!.position;
    // Subscribed while the feed may not have delivered the last writes yet: they must come once.
    for (let k = 0; k < 5; k++, n++) void append(store, n, type(n));
    const it = live.iterator((e) => e.type === 'T', (e) => ({ position: e.position, i: e.data.i as number }), undefined, { after, types: ['T'] });
    const got: { position: string; i: number }[] = [];
    // 733 of type T after it (plus a few of the five): the last 100 or so must come live.
    while (got.length < 850) {
      got.push((await it.next()).value!);
      // Writes land while the backlog is being sent.
      if (got.length % 100 === 0) for (let k = 0; k < 30; k++, n++) await append(store, n, type(n));
    }
    await it.return!();
    const expected = (await store.readAll({ after, maxCount: 100_000 })).filter((e) => e.type === 'T').slice(0, 850);
    expect(got).toEqual(expected.map((e) => ({ position: e.position, i: e.data.i })));
    expect(new Set(got.map((g) => g.position)).size).toBe(850);
    await live.stop();
  });

  it('from the head, or with nothing of its types after the position, hands over only live events', async () => {
    const store = new InMemoryEventStore();
    for (let i = 0; i < 10; i++) await append(store, i, 'T');
    const live = new LiveEvents(store, silent);
    await live.start();
    const head = (await store.headPosition())!;
    const fromHead = live.iterator(() => true, (e) => e.data.i, undefined, { after: head });
    const typed = live.iterator((e) => e.type === 'U', (e) => e.data.i, undefined, { after: (await store.readAll({ maxCount: 1 }))[0]!.position, types: ['U'] });
    await append(store, 10, 'U');
    expect(await fromHead.next()).toEqual({ value: 10, done: false });
    expect(await typed.next()).toEqual({ value: 10, done: false });
    await fromHead.return!();
    await typed.return!();
    await live.stop();
  });
});

describe('LiveEvents: a subscription its consumer closed', () => {
  it('hands out nothing more: what was queued or read for it is dropped (scale probe of 2026-12-06, H1)', async () => {
    const store = new InMemoryEventStore();
    const live = new LiveEvents(store, silent);
    await live.start();
    for (let i = 0; i < 3; i++) await appendOne(store, i);
    await live.reached('0000000000000000003', 5_000);
    // A live subscription with events queued, and a resumed one in the middle of its backlog.
    const queued = live.iterator(() => true, (e) => e.position);
    const resumed = live.iterator(() => true, (e) => e.position, undefined, { after: '0000000000000000000' });
    for (let i = 3; i < 8; i++) await appendOne(store, i);
    await until(() => live['queues'].size === 2 && [...live['queues']].every((q) => q.length === 5));
    expect(await queued.next()).toEqual({ value: '0000000000000000004', done: false });
    expect(await resumed.next()).toEqual({ value: '0000000000000000001', done: false });
    // The socket closed: graphql-ws calls return(), then its loop asks for the next event.
    await queued.return!();
    await resumed.return!();
    expect(await queued.next()).toEqual({ value: undefined, done: true });
    expect(await resumed.next()).toEqual({ value: undefined, done: true });
    expect(live['queues'].size).toBe(0);
    await live.stop();
  });
});

describe('LiveEvents: a resumed subscription shares the event loop', () => {
  it('turns the loop between the pages of its backlog, also when they pass nothing, and while it sends', async () => {
    const { turnsDuring } = await import('../../support/turns.js');
    const store = new InMemoryEventStore();
    for (let i = 0; i < 3_000; i++) await appendOne(store, i);
    const live = new LiveEvents(store, silent);
    await live.start();
    // Nothing passes: six pages of 500 to read, then it waits for a live event. Read back to
    // back, all six were read before the loop's next turn.
    let pages = 0;
    const counted = new Proxy(store, { get: (target, p) => (p === 'readAll' ? (o: unknown) => (pages++, target.readAll(o as never)) : (target as any)[p]?.bind?.(target) ?? (target as any)[p]) });
    const liveCounted = new LiveEvents(counted as never, silent);
    await liveCounted.start();
    const none = liveCounted.iterator(() => false, (e) => e.position, undefined, { after: '0' });
    const waiting = none.next();
    const atEachTurn: number[] = [];
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setImmediate(r));
      atEachTurn.push(pages);
    }
    expect(atEachTurn[0]).toBeLessThanOrEqual(1);
    expect(atEachTurn.at(-1)).toBe(6);
    await none.return!();
    await waiting;
    await liveCounted.stop();
    // Everything passes: 3,000 sent, a turn at least every 20.
    const all = live.iterator(() => true, (e) => e.position, undefined, { after: '0' });
    const [, sending] = await turnsDuring(async () => {
      for (let i = 0; i < 3_000; i++) await all.next();
    });
    // (a slice of 20, and the one the turn lets go).
    expect(sending).toBeGreaterThanOrEqual(3_000 / 21 - 5);
    await all.return!();
    await live.stop();
  });
});

describe('LiveEvents: resumed subscriptions share the event loop with each other', () => {
  it('reads one backlog page per turn across all of them, each page bounded in bytes (probe 8b: 200 resumes held /health/live 1.4 s)', async () => {
    const store = new InMemoryEventStore();
    for (let i = 0; i < 1_000; i++) await appendOne(store, i);
    const reads: { maxBytes?: number }[] = [];
    const counted = new Proxy(store, { get: (target, p) => (p === 'readAll' ? (o: { maxBytes?: number }) => (reads.push(o), target.readAll(o as never)) : (target as any)[p]?.bind?.(target) ?? (target as any)[p]) });
    const live = new LiveEvents(counted as never, silent);
    await live.start();
    // Twenty subscriptions resuming from the start, passing nothing: two pages of 500 each.
    const subscriptions = Array.from({ length: 20 }, () => live.iterator(() => false, (e) => e.position, undefined, { after: '0' }));
    const waiting = subscriptions.map((it) => it.next());
    const perTurn: number[] = [];
    let before = 0;
    for (let turn = 0; turn < 60 && reads.length < 40; turn++) {
      await new Promise((r) => setImmediate(r));
      perTurn.push(reads.length - before);
      before = reads.length;
    }
    expect(reads).toHaveLength(40);
    // A turn each read all twenty first pages before the loop's next turn.
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(1);
    expect(reads.every((o) => o.maxBytes === BACKLOG_PAGE_BYTES)).toBe(true);
    for (const it of subscriptions) await it.return!();
    await Promise.all(waiting);
    await live.stop();
  });
});

describe('LiveEvents: backlog sends share a budget per turn', () => {
  it('sends at most a slice of backlog events between two turns, by all subscriptions together, also when their consumers resume together (sockets draining in one I/O phase)', async () => {
    const store = new InMemoryEventStore();
    for (let i = 0; i < 200; i++) await appendOne(store, i);
    const live = new LiveEvents(store, silent);
    await live.start();
    const turns = turnCounter();
    const sentAt: number[] = [];
    // Sixty consumers, each taking an event, then waiting for a timer (as for its socket's
    // drain): the timers fire together, in one phase of the loop, and resume them all.
    const consumers = Array.from({ length: 60 }, async () => {
      const it = live.iterator(() => true, (e) => e.position, undefined, { after: '0' });
      for (let n = 0; n < 100; n++) {
        await it.next();
        sentAt.push(turns.turn);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await it.return!();
    });
    await Promise.all(consumers);
    turns.stop();
    const perTurn = new Map<number, number>();
    for (const t of sentAt) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(sentAt).toHaveLength(6_000);
    // A slice (20) and the ones the turn lets go; with a slice of its own each, all sixty passed.
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(25);
    await live.stop();
  });
});

describe('LiveEvents: backlog sends are shared fairly between resumed subscriptions', () => {
  it('in the order they ask: those that come back first in each turn do not take the whole budget while the others wait (scale probe of 2026-12-06, M2: ~180 against ~10 events/s)', async () => {
    const store = new InMemoryEventStore();
    for (let i = 0; i < 3_000; i++) await appendOne(store, i);
    const live = new LiveEvents(store, silent);
    await live.start();
    // Forty consumers resuming from the start, each waiting after each event as for its socket's
    // drain: eight for a timer (slow sockets), thirty-two for one turn of the loop. Counted once all
    // are sending (their first pages are read one per turn, so they start a turn apart), over the
    // next 1,600 sends.
    const sent = new Array<number>(40).fill(0);
    let total = 0;
    let from: number[] | undefined;
    let to: number[] | undefined;
    const consumers = sent.map(async (_, c) => {
      const it = live.iterator(() => true, (e) => e.position, undefined, { after: '0' });
      while (!to) {
        await it.next();
        sent[c]! += 1;
        total += 1;
        if (!from && sent.every((n) => n > 0)) from = [...sent];
        if (from && total === from.reduce((a, n) => a + n, 0) + 1_600) to = [...sent];
        await new Promise((resolve) => (c < 8 ? setTimeout(resolve, 0) : setImmediate(resolve)));
      }
      await it.return!();
    });
    await Promise.all(consumers);
    const each = to!.map((n, c) => n - from![c]!);
    const alike = each.slice(8);
    // The thirty-two that come back alike get alike shares, one send each in turn (47-48 here);
    // taken by whoever asked first in each turn, they got 15 to 87. The slow ones are not starved.
    expect(Math.max(...alike) - Math.min(...alike)).toBeLessThanOrEqual(3);
    expect(Math.min(...each.slice(0, 8))).toBeGreaterThan(0);
    await live.stop();
  });
});

describe('LiveEvents.drain at shutdown', () => {
  it('waits until each subscription has sent what it took (it asks for the next), not only until its queue is empty', async () => {
    const store = new InMemoryEventStore();
    const live = new LiveEvents(store, silent);
    await live.start();
    const it = live.iterator(() => true, (e) => e.position);
    try {
      await appendOne(store, 1);
      // Taken (as graphql-ws takes it), its frame not yet written: the consumer has not asked for the next.
      expect((await it.next()).done).toBe(false);
      let drained = false;
      // A bound far above the 100 ms looked at below: a slow machine's 100 ms must not reach it.
      const draining = live.drain(20_000).then(() => (drained = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(drained).toBe(false);
      // Sent: the consumer asks for the next, and the drain ends at once.
      const next = it.next();
      await draining;
      expect(drained).toBe(true);
      await it.return!();
      await next;
    } finally {
      await it.return!();
      await live.stop();
    }
  });
});

describe('LiveEvents.reached: a command waiting for its event to reach the listeners', () => {
  it('resolves only once every listener has been handed the position, at once for one already delivered', async () => {
    const store = new InMemoryEventStore();
    await appendOne(store, 0);
    const live = new LiveEvents(store, silent);
    await live.start();
    // Delivered before the start (the head then): nothing to wait for.
    await live.reached('0000000000000000001', 1_000);
    const seen: string[] = [];
    live.listen((e) => seen.push(e.position));
    const waiting = live.reached('0000000000000000003', 5_000).then(() => [...seen]);
    await appendOne(store, 1);
    await appendOne(store, 2);
    expect(await waiting).toEqual(['0000000000000000002', '0000000000000000003']);
    // The head as it is when asked.
    await appendOne(store, 3);
    await live.reachedHead(5_000);
    expect(seen).toContain('0000000000000000004');
    await live.stop();
  });

  it('rejects after its timeout while the position is not delivered, and at once when the feed is stopped', async () => {
    const store = new InMemoryEventStore();
    const live = new LiveEvents(store, silent);
    await live.start();
    await expect(live.reached('0000000000000000001', 30)).rejects.toThrow(/did not reach 0000000000000000001 within 30 ms/);
    const pending = live.reached('0000000000000000002', 5_000);
    await live.stop();
    await expect(pending).rejects.toThrow(/stopped/);
    await expect(live.reached('0000000000000000002', 5_000)).rejects.toThrow(/stopped/);
  });
});
