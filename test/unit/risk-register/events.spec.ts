import { fold } from '../../../src/shared/domain/decider.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import { riskEventSchemaVersions, riskStreamId, upcastRiskEvent, type RiskEvent } from '../../../src/risk-register/domain/risk.events.js';
import { initialRiskState } from '../../../src/risk-register/domain/risk.state.js';
import {
  acceptedEvents,
  analyseInformal,
  awaitingConsentEvents,
  continueHistory,
  decideTreatment,
  freezeForBoard,
  inPlanEvents,
  leavePlan,
  printerRetainedEvents,
  releaseFromBoard,
  reassignOwner,
  recordConsent,
  review,
  stateOf,
  toTreatEvents,
} from './builders.js';
import { T3, otherOwner } from './fixtures.js';

/** Histories that together contain every event type. */
const histories = (): RiskEvent[][] => [
  continueHistory(acceptedEvents(), analyseInformal('an-x', 3, 3, { at: T3 }), reassignOwner(otherOwner.id)),
  continueHistory(acceptedEvents(), review('rv-1', 3, 3)),
  continueHistory(awaitingConsentEvents(), recordConsent(false)),
  continueHistory(toTreatEvents(), decideTreatment({ options: ['AVOID'] })),
  printerRetainedEvents(),
  continueHistory(inPlanEvents(), freezeForBoard(), releaseFromBoard(), leavePlan()),
];

describe('risk events', () => {
  it('every event type is produced by the histories and has schema version 1', () => {
    const produced = new Set(histories().flat().map((e) => e.type));
    expect([...produced].sort()).toEqual(Object.keys(riskEventSchemaVersions).sort());
    expect(Object.values(riskEventSchemaVersions).every((v) => v === 1)).toBe(true);
  });

  it('event data is plain JSON (no undefined, no class instances)', () => {
    for (const e of histories().flat()) expect(JSON.parse(JSON.stringify(e))).toStrictEqual(e);
  });

  it('folding the stored (JSON round-tripped, upcast) events gives the same state', () => {
    for (const events of histories()) {
      const stored = events.map((e) => JSON.parse(JSON.stringify({ type: e.type, schemaVersion: 1, data: e.data })));
      const replayed = fold(riskDecider, stored.map((s) => upcastRiskEvent(s.type, s.schemaVersion, s.data)));
      expect(JSON.parse(JSON.stringify(replayed))).toEqual(JSON.parse(JSON.stringify(stateOf(events))));
    }
  });

  it('the version is the revision of the last event', () => {
    for (const events of histories()) expect(stateOf(events).version).toBe(events.length - 1);
    expect(initialRiskState.version).toBe(-1);
  });

  it('an unknown event type still counts as a revision', () => {
    const events = acceptedEvents();
    const state = riskDecider.evolve(stateOf(events), { type: 'SomethingNew', data: {} } as unknown as RiskEvent);
    expect(state.version).toBe(events.length);
    expect(state.status).toBe('ACCEPTED');
  });

  it('upcast is the identity today and refuses what it does not know', () => {
    const data = { riskId: 'r', ownerId: 'a', previousOwnerId: 'b', reassignedBy: 'c', reassignedAt: T3 };
    expect(upcastRiskEvent('RiskOwnerReassigned', 1, data)).toEqual({ type: 'RiskOwnerReassigned', data });
    expect(() => upcastRiskEvent('RiskRenamed', 1, {})).toThrow(/Unknown/);
    expect(() => upcastRiskEvent('RiskIdentified', 2, {})).toThrow(/schema version/);
    expect(() => upcastRiskEvent('RiskIdentified', 0, {})).toThrow(/schema version/);
  });

  it('streams are named risk-<id>', () => {
    expect(riskStreamId('0190a1b2')).toBe('risk-0190a1b2');
  });

  it('decide never reads the clock: the same command on the same state gives the same events', () => {
    const state = stateOf(acceptedEvents());
    const c = review('rv-1', 3, 3);
    expect(riskDecider.decide(c, state)).toEqual(riskDecider.decide(c, state));
  });
});
