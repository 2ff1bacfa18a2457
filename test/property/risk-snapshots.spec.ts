/**
 * Snapshots of the risk aggregate (risk/2, the state that stopped growing per event): for random
 * histories built from the deciders (the stage builders of the unit tests, then random
 * re-analyses, evaluations, reviews and owner changes, refused commands skipped), the state
 * stored as JSON at any revision plus the events after it folds to the full fold, and
 * AggregateReader answers the same at every revision and every past position whether it starts
 * from snapshots (taken at random revisions) or from the first event.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { InMemoryEventStore } from '../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { FEATURES } from '../../src/features.js';
import { upcastersOf } from '../../src/platform/feature-contribution.js';
import { riskDecider } from '../../src/risk-register/domain/risk.decider.js';
import { riskEventSchemaVersions, riskStreamId, type RiskEvent } from '../../src/risk-register/domain/risk.events.js';
import type { RiskCommand } from '../../src/risk-register/domain/risk.commands.js';
import { AggregateReader } from '../../src/shared/application/aggregate-reader.js';
import { fold } from '../../src/shared/domain/decider.js';
import {
  RISK,
  acceptedEvents,
  analyseInformal,
  awaitingConsentEvents,
  evaluate,
  printerRetainedEvents,
  reassignOwner,
  review,
  toTreatEvents,
} from '../unit/risk-register/builders.js';
import { T3, otherOwner } from '../unit/risk-register/fixtures.js';

const BASES = [acceptedEvents, awaitingConsentEvents, printerRetainedEvents, toTreatEvents];

const stepArb = fc.oneof(
  fc.record({ kind: fc.constant('analyse' as const), l: fc.integer({ min: 1, max: 3 }), i: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('review' as const), l: fc.integer({ min: 1, max: 3 }), i: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('evaluate' as const) }),
  fc.record({ kind: fc.constant('reassign' as const) }),
);

/** A history: a stage of the process, then the steps the decider accepts (refusals are skipped). */
function historyOf(base: number, steps: { kind: string; l?: number; i?: number }[]): RiskEvent[] {
  const events = [...BASES[base]!()];
  let state = fold(riskDecider, events);
  const riskId = state.id || RISK;
  steps.forEach((s, n) => {
    const command: RiskCommand =
      s.kind === 'analyse'
        ? analyseInformal(`an-p${n}`, s.l!, s.i!, { riskId, at: T3 })
        : s.kind === 'review'
          ? review(`rv-p${n}`, s.l!, s.i!, { riskId, at: T3 })
          : s.kind === 'evaluate'
            ? evaluate({ riskId, at: T3 })
            : reassignOwner(n % 2 ? otherOwner.id : state.ownerId, { riskId, at: T3 });
    try {
      const decided = riskDecider.decide(command, state);
      for (const e of decided) {
        events.push(e);
        state = riskDecider.evolve(state, e);
      }
    } catch {
      // refused in this state: not part of the history
    }
  });
  return events;
}

describe('risk snapshots (risk/2)', () => {
  it('JSON snapshot at any revision + tail = full fold; the reader agrees at every revision and position', async () => {
    const upcasters = upcastersOf(FEATURES);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: BASES.length - 1 }),
        fc.array(stepArb, { maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (base, steps, snapshotPicks) => {
          const events = historyOf(base, steps);
          const full = fold(riskDecider, events);
          for (let cut = 0; cut <= events.length; cut++) {
            const stored = JSON.parse(JSON.stringify(fold(riskDecider, events.slice(0, cut)))) as typeof full;
            expect(fold(riskDecider, events.slice(cut), stored)).toEqual(full);
          }

          // Through a store: snapshots at random revisions, read back at every revision and position.
          const store = new InMemoryEventStore();
          await store.init();
          try {
            const streamId = riskStreamId(full.id);
            // One append per event, each its own command: a position inside an append reads as its
            // end (settlePoint), and this reads the stream at every one of them.
            const recorded = [];
            for (const [i, e] of events.entries()) {
              const command = `c-${i}`;
              const metadata = { actor: { id: 'u', name: 'u', roles: ['CISO'] }, occurredAt: T3, correlationId: command, causationId: command };
              const appended = await store.append(streamId, [{ eventId: randomUUID(), type: e.type, schemaVersion: riskEventSchemaVersions[e.type], data: e.data as Record<string, unknown>, metadata }], { expectedVersion: i === 0 ? ExpectedVersion.noStream : ExpectedVersion.exact(i - 1) });
              recorded.push(...appended.events);
            }
            for (const pick of snapshotPicks) {
              const r = recorded[pick % recorded.length]!;
              await store.writeSnapshot({ streamId, revision: r.revision, position: r.position, recordedAt: r.recordedAt, stateVersion: riskDecider.stateVersion!, state: fold(riskDecider, events.slice(0, r.revision + 1)) });
            }
            const reader = new AggregateReader(store, upcasters, { snapshotEvery: 3 });
            for (const r of recorded) {
              const expected = fold(riskDecider, events.slice(0, r.revision + 1));
              expect((await reader.load(streamId, riskDecider, r.revision)).state).toEqual(expected);
              const at = await reader.loadAt(streamId, riskDecider, { atPosition: r.position });
              expect(at.state).toEqual(expected);
              expect(at.last?.position).toBe(r.position);
            }
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: Number(process.env.SNAPSHOT_PROPERTY_RUNS ?? 40) },
    );
  }, 120_000);
});
