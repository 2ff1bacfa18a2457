import type { DomainActor } from '../../shared/domain/decider.js';
import type { RiskEvent } from '../../risk-register/domain/risk.events.js';
import type { LearnItemOwner, LearnResidualConsent, MarkConsentStale, MarkItemReopened, MarkItemRiskClosed } from '../domain/plan.commands.js';

/** The plan commands a risk event can lead to. */
export type PlanCommandFromRisk = MarkConsentStale | MarkItemReopened | LearnResidualConsent | MarkItemRiskClosed | LearnItemOwner;

/**
 * The plan command a risk event leads to (Art.19-20), built in one place for both paths that
 * carry it: the risk's own append (planLearnsRiskDecision, plan-follow-ups.ts) and the reactions
 * that cover logs written before it (plan-risk-reactions.ts). `revision` is the event's revision
 * in the risk's stream; `stamp` says who and when the plan learns it. Null for an event the plan
 * does not learn (a review finding, a closure or a new owner outside any plan, one recorded before
 * its event named the plan, or any other type).
 */
export function planCommandLearntFrom(event: RiskEvent, revision: number, stamp: { actor: DomainActor; at: string }): PlanCommandFromRisk | null {
  switch (event.type) {
    case 'ResidualConsentInvalidated': {
      const d = event.data;
      return { type: 'MarkConsentStale', ...stamp, planId: d.planId, riskId: d.riskId, riskVersion: revision, reason: d.reason };
    }
    case 'RiskReassessmentOpened': {
      const d = event.data;
      return d.planId ? { type: 'MarkItemReopened', ...stamp, planId: d.planId, riskId: d.riskId, riskVersion: revision, reviewId: d.reviewId } : null;
    }
    case 'RiskClosed': {
      const d = event.data;
      return d.planId ? { type: 'MarkItemRiskClosed', ...stamp, planId: d.planId, riskId: d.riskId, riskVersion: revision, closedAt: d.closedAt } : null;
    }
    case 'RiskOwnerReassigned': {
      const d = event.data;
      return d.planId ? { type: 'LearnItemOwner', ...stamp, planId: d.planId, riskId: d.riskId, riskVersion: revision, previousOwnerId: d.previousOwnerId, ownerId: d.ownerId } : null;
    }
    // The owner's answer, against the risk as it stood just before it (the version consented to).
    case 'ResidualRiskAcceptedByOwner': {
      const d = event.data;
      return {
        type: 'LearnResidualConsent', ...stamp, planId: d.planId, riskId: d.riskId, accepted: true, ownerId: d.ownerId, planRevision: d.planRevision,
        riskVersion: revision - 1, riskStateHash: d.fingerprint, riskLevel: d.level ?? null, residualLevel: d.residualLevel ?? null,
        criteriaNumber: d.criteriaNumber ?? null, statement: d.statement ?? '', reason: '',
      };
    }
    case 'ResidualRiskDeclinedByOwner': {
      const d = event.data;
      return {
        type: 'LearnResidualConsent', ...stamp, planId: d.planId, riskId: d.riskId, accepted: false, ownerId: d.ownerId, planRevision: d.planRevision,
        riskVersion: revision - 1, riskStateHash: d.fingerprint ?? '', riskLevel: null, residualLevel: null, criteriaNumber: null, statement: '', reason: d.reason,
      };
    }
    default:
      return null;
  }
}
