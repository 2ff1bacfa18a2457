/**
 * The reader's in-memory newest state per stream: the next load reads only the events after it
 * (appends by anyone else included), answers exactly as a full fold, and is dropped when the
 * event it was folded up to is no longer at its position (another log behind the same reader).
 */
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion, type EventStore, type ReadStreamOptions } from '../../../src/event-store/event-store.port.js';
import { EventUpcasters } from '../../../src/shared/application/event-upcasting.js';
import { AggregateReader } from '../../../src/shared/application/aggregate-reader.js';
import { CommandExecutor } from '../../../src/shared/application/command-executor.js';
import type { Decider } from '../../../src/shared/domain/decider.js';

type Counted = { type: 'Counted'; data: { n: number } };
const counter: Decider<never, Counted, { total: number; seen: number }> = {
  initialState: { total: 0, seen: 0 },
  decide: () => [],
  evolve: (s, e) => ({ total: s.total + e.data.n, seen: s.seen + 1 }),
  stateVersion: 'counter/1',
};

const events = (...ns: number[]) =>
  ns.map((n) => ({ eventId: randomUUID(), type: 'Counted', schemaVersion: 1, data: { n }, metadata: { actor: { id: 'a', name: 'a', roles: ['CISO' as const] }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: 'c', causationId: 'c' } }));

/**
 * The store, with every readStream call's options recorded, and the head lookups it handed out
 * (`lookups`) and the heads asked of them (`asked`); `withoutHead`: as an adapter that cannot
 * tell its current heads (no currentStreamHeads).
 */
function spied(store: EventStore, withoutHead = false): { store: EventStore; reads: ReadStreamOptions[]; lookups: string[][] } {
  const reads: ReadStreamOptions[] = [];
  const lookups: string[][] = [];
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'readStream') return (id: string, o: ReadStreamOptions = {}) => (reads.push(o), target.readStream(id, o));
      if (prop === 'currentStreamHeads') {
        if (withoutHead) return undefined;
        return () => {
          const lookup = target.currentStreamHeads!();
          const asked: string[] = [];
          lookups.push(asked);
          return (id: string) => (asked.push(id), lookup(id));
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, reads, lookups };
}

describe('AggregateReader: the newest folded state in memory', () => {
  const upcasters = new EventUpcasters([]);

  it('reads only the events after it, including those appended by someone else, and equals a full fold', async () => {
    const raw = new InMemoryEventStore();
    await raw.append('c-1', events(1, 2, 3), { expectedVersion: ExpectedVersion.noStream });
    const { store, reads } = spied(raw);
    const reader = new AggregateReader(store, upcasters, { snapshotEvery: 1_000 });
    expect((await reader.load('c-1', counter)).state).toEqual({ total: 6, seen: 3 });
    await raw.append('c-1', events(10, 20), { expectedVersion: ExpectedVersion.exact(2) });
    reads.length = 0;
    expect(await reader.load('c-1', counter)).toEqual({ state: { total: 36, seen: 5 }, streamVersion: 4, lastOccurredAt: expect.any(String) });
    // From the remembered event on: one read, starting at revision 2 (its anchor), not the whole stream.
    expect(reads).toEqual([{ fromRevision: 2 }]);
    const fresh = new AggregateReader(raw, upcasters, { snapshotEvery: 0 });
    expect((await fresh.load('c-1', counter)).state).toEqual({ total: 36, seen: 5 });
  });

  it('is not used for a past revision, and not with snapshots off', async () => {
    const raw = new InMemoryEventStore();
    await raw.append('c-1', events(1, 2, 3), { expectedVersion: ExpectedVersion.noStream });
    const reader = new AggregateReader(raw, upcasters, { snapshotEvery: 1_000 });
    await reader.load('c-1', counter);
    expect((await reader.load('c-1', counter, 1)).state).toEqual({ total: 3, seen: 2 });
    const { store, reads } = spied(raw);
    const off = new AggregateReader(store, upcasters, { snapshotEvery: 0 });
    off.remember('c-1', 'counter/1', { total: 999, seen: 99 }, { revision: 2, position: 'x', metadata: { occurredAt: '2026-01-01T00:00:00.000Z' } });
    expect((await off.load('c-1', counter)).state).toEqual({ total: 6, seen: 3 });
    expect(reads).toEqual([{}]);
  });

  it.each([
    ['reads nothing when the store knows its head is still that event', false],
    ['reads only that event from a store that cannot tell its heads', true],
  ])('an executor given the reader leaves the state after each append in it: the next load folds nothing and %s', async (_name, withoutHead) => {
    const raw = new InMemoryEventStore();
    const { store, reads } = spied(raw, withoutHead);
    const reader = new AggregateReader(store, upcasters, { snapshotEvery: 1_000 });
    const adding: Decider<{ n: number }, Counted, { total: number; seen: number }> = { ...counter, decide: (c) => [{ type: 'Counted', data: { n: c.n } }] };
    const known = new EventUpcasters([{ schemaVersions: { Counted: 1 }, upcast: (_t, _v, data) => data }]);
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, known, undefined, { aggregates: reader });
    const ctx = { actor: { id: 'a', name: 'a', roles: ['CISO' as const] }, at: '2026-01-01T00:00:00.000Z', correlationId: 'c', causationId: 'c' };
    await executor.execute({ streamId: 'c-1', decider: adding }, { n: 1 }, ctx);
    const { events: last } = await executor.execute({ streamId: 'c-1', decider: adding }, { n: 2 }, ctx);
    reads.length = 0;
    let folded = 0;
    const counting = { ...counter, evolve: (s: { total: number; seen: number }, e: Counted) => (folded++, counter.evolve(s, e)) };
    expect(await reader.load('c-1', counting)).toEqual({ state: { total: 3, seen: 2 }, streamVersion: 1, lastOccurredAt: last[0]!.metadata.occurredAt });
    expect(reads).toEqual(withoutHead ? [{ fromRevision: last[0]!.revision }] : []);
    expect(folded).toBe(0);
  });

  it('the loads of one attempt share one head lookup (the store checks for other writers once), a retry takes a new one', async () => {
    const raw = new InMemoryEventStore();
    const { store, reads, lookups } = spied(raw);
    const reader = new AggregateReader(store, upcasters, { snapshotEvery: 1_000 });
    const adding: Decider<{ n: number }, Counted, { total: number; seen: number }> = { ...counter, decide: (c) => [{ type: 'Counted', data: { n: c.n } }] };
    const known = new EventUpcasters([{ schemaVersions: { Counted: 1 }, upcast: (_t, _v, data) => data }]);
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, known, undefined, { aggregates: reader });
    const ctx = { actor: { id: 'a', name: 'a', roles: ['CISO' as const] }, at: '2026-01-01T00:00:00.000Z', correlationId: 'c', causationId: 'c' };
    for (const id of ['c-1', 'c-2', 'c-3']) await executor.execute({ streamId: id, decider: adding }, { n: 1 }, ctx);
    // A decision on c-1 that reads c-2 and c-3 as well (as an analyseRisk reads its asset and criteria).
    const joint = (raced: () => Promise<void>) => executor.executeJoint(async (r) => {
      const [two, three] = [await r.state('c-2', counter), await r.state('c-3', counter)];
      await raced();
      return { primary: { streamId: 'c-1', decider: adding, command: { n: two.total + three.total } } };
    }, ctx);
    lookups.length = 0;
    reads.length = 0;
    await joint(async () => undefined);
    expect(lookups).toEqual([['c-2', 'c-3', 'c-1']]);
    expect(reads).toEqual([]);
    // Someone else appends to c-3 after the first attempt read it: the append conflicts, and the
    // retry looks the heads up afresh (a lookup of its own), then reads the tail of c-3.
    lookups.length = 0;
    let raced = false;
    const result = await joint(async () => {
      if (raced) return;
      raced = true;
      await raw.append('c-3', events(5), { expectedVersion: ExpectedVersion.exact(0) });
    });
    expect(lookups).toEqual([['c-2', 'c-3', 'c-1'], ['c-2', 'c-3', 'c-1']]);
    expect(reads).toEqual([{ fromRevision: 0 }]);
    expect(result.state).toEqual({ total: 1 + 2 + 7, seen: 3 });
  });

  it('a head the store reports at another revision or position is read, never trusted as the remembered state', async () => {
    const raw = new InMemoryEventStore();
    const { events: recorded } = await raw.append('c-1', events(1, 2, 3), { expectedVersion: ExpectedVersion.noStream });
    const { store, reads } = spied(raw);
    const reader = new AggregateReader(store, upcasters, { snapshotEvery: 1_000 });
    await reader.load('c-1', counter);
    reads.length = 0;
    expect((await reader.load('c-1', counter)).state).toEqual({ total: 6, seen: 3 });
    expect(reads).toEqual([]);
    // Appended by someone else: the head moved on, the events after the remembered one are read.
    await raw.append('c-1', events(4), { expectedVersion: ExpectedVersion.exact(2) });
    expect((await reader.load('c-1', counter)).state).toEqual({ total: 10, seen: 4 });
    expect(reads).toEqual([{ fromRevision: 2 }]);
    // A remembered state at the head's revision but another position (another log): read, dropped, folded in full.
    reader.remember('c-1', 'counter/1', { total: 999, seen: 99 }, { revision: 3, position: `${recorded[2]!.position}-elsewhere`, metadata: { occurredAt: '2026-01-01T00:00:00.000Z' } });
    reads.length = 0;
    expect((await reader.load('c-1', counter)).state).toEqual({ total: 10, seen: 4 });
    expect(reads.length).toBeGreaterThan(0);
  });

  it('a remembered state whose event is not at its position any more is dropped: a full fold answers', async () => {
    const raw = new InMemoryEventStore();
    const { events: recorded } = await raw.append('c-1', events(1, 2, 3), { expectedVersion: ExpectedVersion.noStream });
    const reader = new AggregateReader(raw, upcasters, { snapshotEvery: 1_000 });
    reader.remember('c-1', 'counter/1', { total: 999, seen: 99 }, { revision: 2, position: `${recorded[2]!.position}-elsewhere`, metadata: { occurredAt: '2026-01-01T00:00:00.000Z' } });
    expect((await reader.load('c-1', counter)).state).toEqual({ total: 6, seen: 3 });
  });
});
