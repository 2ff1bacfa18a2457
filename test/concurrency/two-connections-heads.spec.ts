/**
 * Two writers on one SQLite file (as two processes would be: two connections), each with its own
 * aggregate reader and executor, deciding commands on the same streams at once. Each reader skips
 * the read of a stream when its store vouches that the event it remembered is still the head
 * (currentStreamHeads): a store that vouched for a head the other connection had moved on from
 * would have its writer decide on a stale state. The append's expected version would catch that
 * decision, but a reader that kept trusting the stale head would then decide on it again on every
 * retry, and the other connection's events would never reach its answers. So: every command
 * succeeds, none is lost or applied twice, and afterwards both readers load what a full fold of
 * the file gives. The same with stores that vouch without asking (soleWriter, as the server's
 * store, which holds the file's lock): the writer's check inside its transaction alone keeps it so.
 */
import { describe, expect, it, afterEach } from '@jest/globals';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { EventUpcasters } from '../../src/shared/application/event-upcasting.js';
import { AggregateReader } from '../../src/shared/application/aggregate-reader.js';
import { CommandExecutor } from '../../src/shared/application/command-executor.js';
import type { Decider } from '../../src/shared/domain/decider.js';

type Counted = { type: 'Counted'; data: { n: number; seen: number } };
type Counter = { total: number; seen: number };
/** Each event records how many events its decision saw: a decision on a stale state shows as a repeated or skipped `seen`. */
const counter: Decider<{ n: number }, Counted, Counter> = {
  initialState: { total: 0, seen: 0 },
  decide: (c, s) => [{ type: 'Counted', data: { n: c.n, seen: s.seen } }],
  evolve: (s, e) => ({ total: s.total + e.data.n, seen: s.seen + 1 }),
  stateVersion: 'counter/1',
};
const upcasters = new EventUpcasters([{ schemaVersions: { Counted: 1 }, upcast: (_t, _v, data) => data }]);
const ctx = (i: number) => ({ actor: { id: 'a', name: 'a', roles: ['CISO' as const] }, at: '2026-01-01T00:00:00.000Z', correlationId: `c-${i}`, causationId: `c-${i}` });

describe('two connections deciding on the same streams, each reader skipping reads its store vouches for', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  // soleWriter: each store trusts its own heads without asking PRAGMA data_version (as the server
  // does, holding the file's lock). Two of them on one file break that promise on purpose: a
  // decision on a head the other moved on from must then fail its expected version in the
  // writer's transaction, which drops the heads, and be decided again on what the file holds.
  it.each([
    ['asking data_version at each lookup', false],
    ['as sole writers that break their promise (the writer\'s own check alone)', true],
  ])('16 commands in flight at once on 3 streams from 2 connections, %s: none lost or decided on a stale state, both readers end at the full fold', async (_label, soleWriter) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ writer: fc.integer({ min: 0, max: 1 }), stream: fc.integer({ min: 0, max: 2 }), n: fc.integer({ min: 1, max: 9 }), delayMs: fc.integer({ min: 0, max: 3 }) }), { minLength: 16, maxLength: 16 }),
        async (commands) => {
          const dir = mkdtempSync(join(tmpdir(), 'two-heads-'));
          dirs.push(dir);
          const path = join(dir, 'events.sqlite');
          const stores = [new SqliteEventStore({ path, pollIntervalMs: 25, soleWriter }), new SqliteEventStore({ path, pollIntervalMs: 25, soleWriter })];
          try {
            for (const s of stores) await s.init();
            const readers = stores.map((s) => new AggregateReader(s, upcasters, { snapshotEvery: 1_000 }));
            const executors = stores.map((s, i) => new CommandExecutor(s, { waitFor: async () => undefined }, upcasters, undefined, { aggregates: readers[i] }));
            // Each reader first remembers every stream (so that the skip is tried from the first command on).
            for (let k = 0; k < 3; k++) await executors[k % 2]!.execute({ streamId: `c-${k}`, decider: counter }, { n: 0 }, ctx(-1 - k));
            for (const r of readers) for (let k = 0; k < 3; k++) await r.load(`c-${k}`, counter);

            await Promise.all(
              commands.map(async (c, i) => {
                await new Promise((r) => setTimeout(r, c.delayMs));
                await executors[c.writer]!.execute({ streamId: `c-${c.stream}`, decider: counter }, { n: c.n }, ctx(i));
              }),
            );

            // A sole writer learns of the other's commits in its next write transaction only (its
            // promise is that there are none): one write each, to a stream of its own.
            if (soleWriter) for (const [i, e] of executors.entries()) await e.execute({ streamId: `own-${i}`, decider: counter }, { n: 0 }, ctx(100 + i));
            for (let k = 0; k < 3; k++) {
              const events = (await stores[0]!.readStream(`c-${k}`)).map((e) => e.data as Counted['data']);
              const expected = commands.filter((c) => c.stream === k).reduce((sum, c) => sum + c.n, 0);
              // Every command applied once, each decided on the whole stream before it.
              expect(events.reduce((sum, e) => sum + e.n, 0)).toBe(expected);
              expect(events.map((e) => e.seen)).toEqual(events.map((_, i) => i));
              const full = { total: expected, seen: events.length };
              for (const r of readers) expect((await r.load(`c-${k}`, counter)).state).toEqual(full);
            }
          } finally {
            for (const s of stores) await s.close();
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 120_000);

  it('a sole writer vouches for its heads without asking; its next write transaction notices a foreign commit and drops them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'two-heads-'));
    dirs.push(dir);
    const path = join(dir, 'events.sqlite');
    const sole = new SqliteEventStore({ path, soleWriter: true });
    const asking = new SqliteEventStore({ path });
    const other = new SqliteEventStore({ path });
    const event = (n: number) => ({ eventId: `e-${n}-${Math.random()}`, type: 'Counted', schemaVersion: 1, data: { n, seen: 0 }, metadata: { actor: { id: 'a', name: 'a', roles: ['CISO'] }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: 'c', causationId: 'c' } });
    try {
      for (const s of [sole, asking, other]) await s.init();
      await sole.append('s-1', [event(1)], { expectedVersion: ExpectedVersion.noStream });
      await asking.append('s-2', [event(2)], { expectedVersion: ExpectedVersion.noStream });
      expect(sole.currentStreamHeads()('s-1')?.revision).toBe(0);
      expect(asking.currentStreamHeads()('s-2')?.revision).toBe(0);
      // Another connection moves both streams on.
      await other.append('s-1', [event(3)], { expectedVersion: ExpectedVersion.exact(0) });
      await other.append('s-2', [event(4)], { expectedVersion: ExpectedVersion.exact(0) });
      expect(asking.currentStreamHeads()('s-2')).toBeUndefined();
      // The sole writer still vouches for revision 0 (the promise the lock keeps in the server)...
      expect(sole.currentStreamHeads()('s-1')?.revision).toBe(0);
      // ...until its own write transaction: the append decided on it fails, and the heads are gone.
      await expect(sole.append('s-1', [event(5)], { expectedVersion: ExpectedVersion.exact(0) })).rejects.toThrow(/expected version|WrongExpectedVersion/i);
      expect(sole.currentStreamHeads()('s-1')).toBeUndefined();
      expect((await sole.readStream('s-1')).length).toBe(2);
    } finally {
      for (const s of [sole, asking, other]) await s.close();
    }
  });
});
