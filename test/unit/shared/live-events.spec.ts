/**
 * LiveEvents: a subscription that does not take its events (a client that stopped reading:
 * graphql-ws sends one message at a time, so they wait here, not in the socket) is ended once it
 * falls further behind than liveEventLimits, instead of holding every event for ever.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ExpectedVersion } from '../../../src/event-store/event-store.port.js';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { LiveEvents, liveEventLimits } from '../../../src/shared/application/live-events.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';

const silent = new JsonLogger('test', 'error');
const defaults = { ...liveEventLimits };

async function appendOne(store: InMemoryEventStore, i: number): Promise<void> {
  await store.append(`s-${i}`, [{ eventId: randomUUID(), type: 'T', schemaVersion: 1, data: { i }, metadata: { actor: { id: 'a', name: 'a', roles: [] }, occurredAt: new Date().toISOString(), correlationId: 'c', causationId: 'c' } }], { expectedVersion: ExpectedVersion.noStream });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

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
