import { planCommandLearntFrom } from '../../../src/treatment-plan/application/plan-learns-from-risk.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';

const stamp = { actor: { id: 'u-1', name: 'Owner', roles: ['RISK_OWNER'] } as DomainActor, at: '2027-01-05T00:00:00.000Z' };

// One builder serves the risk's own append and the reactions for older logs: what each risk event
// tells the plan, and against which revision of the risk.
describe('planCommandLearntFrom', () => {
  it('a stale consent marks the item at the invalidation itself', () => {
    expect(planCommandLearntFrom({ type: 'ResidualConsentInvalidated', data: { riskId: 'r1', planId: 'p1', planRevision: 2, reason: 'OWNER_REASSIGNED', atVersion: 8, invalidatedAt: stamp.at } }, 9, stamp)).toEqual({
      type: 'MarkConsentStale', ...stamp, planId: 'p1', riskId: 'r1', riskVersion: 9, reason: 'OWNER_REASSIGNED',
    });
  });

  it('a review finding reopens the item of the plan it names, and nothing outside a plan', () => {
    const data = { riskId: 'r1', cycle: 2, previousCycle: 1, reviewId: 'rv-1', openedAt: stamp.at };
    expect(planCommandLearntFrom({ type: 'RiskReassessmentOpened', data: { ...data, planId: 'p1' } }, 12, stamp)).toEqual({
      type: 'MarkItemReopened', ...stamp, planId: 'p1', riskId: 'r1', riskVersion: 12, reviewId: 'rv-1',
    });
    expect(planCommandLearntFrom({ type: 'RiskReassessmentOpened', data }, 12, stamp)).toBeNull();
  });

  it("the owner's answer is learnt against the risk just before it: accepted with what was shown, declined with the reason", () => {
    const answer = { riskId: 'r1', planId: 'p1', planRevision: 3, ownerId: 'u-1', atVersion: 6 };
    expect(planCommandLearntFrom({ type: 'ResidualRiskAcceptedByOwner', data: { ...answer, fingerprint: 'f'.repeat(64), residualLevel: 'LOW', level: 'HIGH', criteriaNumber: 1, statement: 'ok', acceptedAt: stamp.at } }, 7, stamp)).toEqual({
      type: 'LearnResidualConsent', ...stamp, planId: 'p1', riskId: 'r1', accepted: true, ownerId: 'u-1', planRevision: 3, riskVersion: 6,
      riskStateHash: 'f'.repeat(64), riskLevel: 'HIGH', residualLevel: 'LOW', criteriaNumber: 1, statement: 'ok', reason: '',
    });
    expect(planCommandLearntFrom({ type: 'ResidualRiskDeclinedByOwner', data: { ...answer, reason: 'too high', fingerprint: 'd'.repeat(64), declinedAt: stamp.at } }, 7, stamp)).toEqual({
      type: 'LearnResidualConsent', ...stamp, planId: 'p1', riskId: 'r1', accepted: false, ownerId: 'u-1', planRevision: 3, riskVersion: 6,
      riskStateHash: 'd'.repeat(64), riskLevel: null, residualLevel: null, criteriaNumber: null, statement: '', reason: 'too high',
    });
    // A decline recorded before the fingerprint (schema version 1): none.
    expect(planCommandLearntFrom({ type: 'ResidualRiskDeclinedByOwner', data: { ...answer, reason: 'too high', declinedAt: stamp.at } }, 7, stamp)).toMatchObject({ riskStateHash: '' });
  });

  it('an AVOID marks the item of the plan the closure names; a closure outside a plan, or recorded before it named one, tells it nothing', () => {
    const data = { riskId: 'r1', reason: 'AVOIDED' as const, assetIds: ['a1'], closedBy: 'u-2', closedAt: '2027-01-04T09:00:00.000Z' };
    expect(planCommandLearntFrom({ type: 'RiskClosed', data: { ...data, planId: 'p1' } }, 14, stamp)).toEqual({
      type: 'MarkItemRiskClosed', ...stamp, planId: 'p1', riskId: 'r1', riskVersion: 14, closedAt: data.closedAt,
    });
    expect(planCommandLearntFrom({ type: 'RiskClosed', data }, 14, stamp)).toBeNull();
  });

  it('other risk events tell the plan nothing', () => {
    expect(planCommandLearntFrom({ type: 'RiskTreatmentDecided', data: { riskId: 'r1' } } as never, 3, stamp)).toBeNull();
  });
});
