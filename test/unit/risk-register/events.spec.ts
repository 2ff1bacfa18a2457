import { fold } from '../../../src/shared/domain/decider.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import { riskEventSchemaVersions, riskStreamId, upcastRiskEvent, type RiskEvent } from '../../../src/risk-register/domain/risk.events.js';
import { initialRiskState } from '../../../src/risk-register/domain/risk.state.js';
import {
  acceptedEvents,
  reviewableEvents,
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
import { T3, committee, criteriaV1, otherOwner } from './fixtures.js';

/** Histories that together contain every event type. */
const histories = (): RiskEvent[][] => [
  continueHistory(acceptedEvents(), analyseInformal('an-x', 3, 3, { at: T3 }), reassignOwner(otherOwner.id)),
  continueHistory(reviewableEvents(), review('rv-1', 3, 3)),
  continueHistory(awaitingConsentEvents(), recordConsent(false)),
  continueHistory(toTreatEvents(), decideTreatment({ options: ['AVOID'] })),
  printerRetainedEvents(),
  continueHistory(inPlanEvents(), freezeForBoard(), releaseFromBoard(), leavePlan()),
  // Follow-through: progress, a control overdue (due 2025-06-30), a review falling due (a year on).
  continueHistory(
    inPlanEvents(),
    { type: 'RecordControlProgress', riskId: 'risk-1', controlId: 'ctl-multisig', status: 'IN_PROGRESS', progressPercent: 20, actor: committee, at: T3 },
    { type: 'RecordPassedDeadlines', riskId: 'risk-1', actor: committee, at: '2025-07-02T00:00:00.000Z' },
  ),
  continueHistory(printerRetainedEvents(), { type: 'RecordPassedDeadlines', riskId: 'risk-p', actor: committee, at: '2026-06-01T00:00:00.000Z', criteria: criteriaV1 }),
];

describe('risk events', () => {
  it('every event type is produced by the histories; RiskEvaluated, RiskAnalysed, RiskClosed, RiskOwnerReassigned, RiskSubmittedToBoard and ResidualRiskDeclinedByOwner are at schema version 2, the others 1', () => {
    const produced = new Set(histories().flat().map((e) => e.type));
    expect([...produced].sort()).toEqual(Object.keys(riskEventSchemaVersions).sort());
    const atTwo = ['RiskEvaluated', 'RiskAnalysed', 'RiskClosed', 'RiskOwnerReassigned', 'RiskSubmittedToBoard', 'ResidualRiskDeclinedByOwner'];
    expect(Object.entries(riskEventSchemaVersions).every(([type, v]) => v === (atTwo.includes(type) ? 2 : 1))).toBe(true);
  });

  it('RiskOwnerReassigned 1 (no plan named) reads as version 2 unchanged: the plan learns nothing from it', () => {
    const v1 = { riskId: 'r', previousOwnerId: 'u-1', ownerId: 'u-2', reassignedBy: 'u', reassignedAt: '2026-10-01T00:00:00.000Z' };
    expect(upcastRiskEvent('RiskOwnerReassigned', 1, v1).data).toEqual(v1);
  });

  it('RiskAnalysed 1 (no incidents cited) reads as version 2 unchanged: an absent incidentIds means none', () => {
    const v1 = { riskId: 'r', analysisId: 'a', externalReferences: [] };
    expect(upcastRiskEvent('RiskAnalysed', 1, v1).data).toEqual(v1);
  });

  it('RiskClosed 1 (no plan named) reads as version 2 unchanged: an absent planId means not recorded, and the plan learns nothing from it', () => {
    const v1 = { riskId: 'r', reason: 'AVOIDED', assetIds: ['a'], closedBy: 'u', closedAt: '2026-10-01T00:00:00.000Z' };
    expect(upcastRiskEvent('RiskClosed', 1, v1).data).toEqual(v1);
  });

  it('RiskEvaluated 1 (every analysis id listed) is upcast to 2 (their count), keeping the list', () => {
    const v1 = { riskId: 'r', cycle: 1, analysisIds: ['a', 'b', 'c'] };
    expect(upcastRiskEvent('RiskEvaluated', 1, v1).data).toEqual({ ...v1, analysisCount: 3 });
  });

  it('event data is plain JSON (no undefined, no class instances)', () => {
    for (const e of histories().flat()) expect(JSON.parse(JSON.stringify(e))).toStrictEqual(e);
  });

  it('folding the stored (JSON round-tripped, upcast) events gives the same state', () => {
    for (const events of histories()) {
      const stored = events.map((e) => JSON.parse(JSON.stringify({ type: e.type, schemaVersion: riskEventSchemaVersions[e.type], data: e.data })));
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
    const state = stateOf(reviewableEvents());
    const c = review('rv-1', 3, 3);
    expect(riskDecider.decide(c, state)).toEqual(riskDecider.decide(c, state));
  });
});
