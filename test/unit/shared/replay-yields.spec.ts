/**
 * A replay hands the event loop back while it applies (as-of-replay.ts, SLICE_MS): other requests
 * and GET /health are answered meanwhile. It used to yield only between full pages of 1,000
 * events, so a replay of a few hundred large events (imported catalogues of megabytes) was one
 * step, and nine of them in one request held the loop for up to a second.
 */
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion } from '../../../src/event-store/event-store.port.js';
import { FEATURES } from '../../../src/features.js';
import { upcastersOf } from '../../../src/platform/feature-contribution.js';
import { AsOfReplayer, MAX_REPLAY_BUILDS } from '../../../src/projections/as-of-replay.js';
import type { Projection } from '../../../src/projections/projection.js';
import { AggregateReader } from '../../../src/shared/application/aggregate-reader.js';
import { turnsDuring } from '../../support/turns.js';

/** Keeps the CPU busy for `ms`, as the work of a large event does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** A projection that costs 1 ms of CPU per event, as a large event does. */
function slowProjection(applied: number[]): Projection {
  return {
    name: 'slow',
    schemaVersion: 1,
    setup: () => undefined,
    reset: () => undefined,
    apply: () => {
      busy(1);
      applied.push(1);
    },
  };
}

describe('a replay yields to the event loop while it applies', () => {
  it('turns of the loop run during a replay of 60 slow events (one short page)', async () => {
    const store = new InMemoryEventStore();
    await store.init();
    for (let i = 0; i < 60; i++) {
      await store.append(`s-${i}`, [{ eventId: randomUUID(), type: 'Noted', schemaVersion: 1, data: { i }, metadata: { actor: { id: 'a', name: 'A', roles: [] }, occurredAt: new Date().toISOString(), correlationId: 'c', causationId: 'c' } }], { expectedVersion: ExpectedVersion.noStream });
    }
    const head = (await store.headPosition())!;
    const applied: number[] = [];
    const replayer = new AsOfReplayer(store, upcastersOf(FEATURES), () => [slowProjection(applied)]);
    const [replayed, turns] = await turnsDuring(() => replayer.read({ atPosition: head }, () => applied.length));
    expect(replayed).toBe(60);
    // ~60 ms of applying in slices of 8 ms: several turns; a replay in one step lets at most one through.
    expect(turns).toBeGreaterThanOrEqual(3);
    replayer.close();
  });
});

describe('replays built at once', () => {
  it(`are at most ${MAX_REPLAY_BUILDS}: 8 distinct points asked together wait their turn, each answered as of its point (scale probe of 2026-12-06, M1)`, async () => {
    const store = new InMemoryEventStore();
    await store.init();
    for (let i = 0; i < 40; i++) {
      await store.append(`s-${i}`, [{ eventId: randomUUID(), type: 'Noted', schemaVersion: 1, data: { i }, metadata: { actor: { id: 'a', name: 'A', roles: [] }, occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: randomUUID() } }], { expectedVersion: ExpectedVersion.noStream });
    }
    const positions = (await store.readAll({ maxCount: 100 })).map((e) => e.position);
    // Counts the events each replay applies, and how many replays apply at the same time.
    let building = 0;
    let most = 0;
    const counting = (): Projection => {
      let applied = 0;
      return {
        name: 'counting',
        schemaVersion: 1,
        setup: (db) => {
          building += 1;
          most = Math.max(most, building);
          db.exec('CREATE TABLE IF NOT EXISTS n (v INTEGER)');
        },
        reset: () => undefined,
        apply: () => {
          busy(2);
          applied += 1;
        },
        flush: (db) => {
          db.exec(`DELETE FROM n; INSERT INTO n VALUES (${applied})`);
          building -= 1;
        },
      };
    };
    // No cache: each point is built from the start of the log.
    const replayer = new AsOfReplayer(store, upcastersOf(FEATURES), () => [counting()], 0);
    const points = [4, 9, 14, 19, 24, 29, 34, 39].map((i) => positions[i]!);
    const counts = await Promise.all(points.map((atPosition) => replayer.read({ atPosition }, (db) => (db.prepare('SELECT v FROM n').get() as { v: number }).v)));
    expect(counts).toEqual([5, 10, 15, 20, 25, 30, 35, 40]);
    // At most (without the limit, 8 here: every replay set up before the first ended; fewer when the machine lets one end first).
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(MAX_REPLAY_BUILDS);
    replayer.close();
  });
});

describe('a stream folded at a point yields to the event loop', () => {
  it('turns of the loop run while 60 slow events of one stream are folded (plan(asOf) of a large plan: re-probe of 2026-12-06)', async () => {
    const store = new InMemoryEventStore();
    await store.init();
    for (let i = 0; i < 60; i++) {
      await store.append('plan-p', [{ eventId: randomUUID(), type: 'Noted', schemaVersion: 1, data: { i }, metadata: { actor: { id: 'a', name: 'A', roles: [] }, occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: randomUUID() } }], { expectedVersion: i === 0 ? ExpectedVersion.noStream : ExpectedVersion.exact(i - 1) });
    }
    const head = (await store.headPosition())!;
    const reader = new AggregateReader(store, upcastersOf(FEATURES), { snapshotEvery: 0 });
    // An evolve of 1 ms an event, as a plan of hundreds of items costs.
    const slow = {
      initialState: 0,
      stateVersion: undefined,
      evolve: (n: number) => {
        busy(1);
        return n + 1;
      },
    };
    const [folded, turns] = await turnsDuring(() => reader.stateAt('plan-p', slow as never, { atPosition: head }));
    expect(folded).toBe(60);
    // ~60 ms of folding in slices of 8 ms: several turns; a fold in one task lets at most one through.
    expect(turns).toBeGreaterThanOrEqual(3);
  });
});
