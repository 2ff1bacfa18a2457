import { riskStreams } from '../../risk-register/domain/risk.events.js';
import type { RiskEvent } from '../../risk-register/domain/risk.events.js';
import type { DecisionFollowUp, StreamDecision } from '../../shared/application/command-executor.js';
import { planDecider } from '../domain/plan.decider.js';
import { planStreamId } from '../domain/plan.state.js';
import { planCommandLearntFrom } from './plan-learns-from-risk.js';

/**
 * Risk → plan, in the same append as the risk's decision: a consent made stale by a material
 * change (ResidualConsentInvalidated) marks the item STALE, a review finding
 * (RiskReassessmentOpened) reopens it, and the owner's decline (ResidualRiskDeclinedByOwner) is
 * learnt, the plan leaving force with any of them. Learnt by the reactions
 * (plan-risk-reactions.ts, which now find it done), the log showed the plan IN_FORCE over a stale
 * consent for the 10-40 ms between the two appends, and for two days after a crash between them
 * (year probe p14). The plan is read in the attempt, so a concurrent write to it makes the whole
 * decision conflict and be decided again; a plan that no longer holds the risk is left alone.
 */
export const planLearnsRiskDecision: DecisionFollowUp = async ({ streamId, version, events, actor, at }, reader) => {
  if (riskStreams.idOf(streamId) === undefined) return [];
  const decisions = new Map<string, StreamDecision>();
  for (const [i, e] of (events as readonly RiskEvent[]).entries()) {
    // A decline (or an acceptance withdrawn) takes an in-force plan out of force at once. An
    // acceptance stays with the reactions: learnt late, the plan is not yet in force, never wrongly.
    const command = e.type === 'ResidualRiskAcceptedByOwner' ? null : planCommandLearntFrom(e, version + 1 + i, { actor, at });
    // One decision per plan (the first); anything more is left to the reactions.
    if (command === null || decisions.has(command.planId)) continue;
    const plan = await reader.state(planStreamId(command.planId), planDecider);
    if (!plan.exists || !plan.items.some((item) => item.riskId === command.riskId)) continue;
    decisions.set(command.planId, { streamId: planStreamId(command.planId), decider: planDecider, command });
  }
  return [...decisions.values()];
};
