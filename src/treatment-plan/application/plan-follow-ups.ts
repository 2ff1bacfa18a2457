import { riskStreams } from '../../risk-register/domain/risk.events.js';
import type { RiskEvent } from '../../risk-register/domain/risk.events.js';
import type { DecisionFollowUp, StreamDecision } from '../../shared/application/command-executor.js';
import { planDecider } from '../domain/plan.decider.js';
import { planStreamId } from '../domain/plan.state.js';
import { unsettledItems } from './plan-joint-commands.js';
import { planCommandLearntFrom } from './plan-learns-from-risk.js';

/**
 * Risk → plan, in the same append as the risk's decision: a consent made stale by a material
 * change (ResidualConsentInvalidated) marks the item STALE, a review finding
 * (RiskReassessmentOpened) reopens it, an AVOID (RiskClosed) marks it, a new owner (RiskOwnerReassigned)
 * is named on it, and the owner's answer (ResidualRiskAcceptedByOwner,
 * ResidualRiskDeclinedByOwner) is learnt, the plan leaving force or coming into force with it.
 * Learnt by the reactions (plan-risk-reactions.ts, which now find it done), the log showed the
 * plan IN_FORCE over a stale consent for the 10-40 ms between the two appends, and for two days
 * after a crash between them (year probe p14), and a risk ACCEPTED whose item was still PENDING
 * for 5-15 ms. The plan is read in the attempt, so a concurrent write to it makes the whole
 * decision conflict and be decided again; a plan that no longer holds the risk is left alone.
 */
export const planLearnsRiskDecision: DecisionFollowUp = async ({ streamId, version, events, actor, at }, reader) => {
  if (riskStreams.idOf(streamId) === undefined) return [];
  const decisions: StreamDecision[] = [];
  const learnt = (events as readonly RiskEvent[]).map((e, i) => planCommandLearntFrom(e, version + 1 + i, { actor, at }));
  // In the risk's order, each decided on the plan as the ones before it leave it (an AVOID that
  // voids an acceptance: the stale consent, then the closure).
  for (const [i, command] of learnt.entries()) {
    if (command === null) continue;
    const acceptance = command.type === 'LearnResidualConsent' && command.accepted;
    // An acceptance followed in the same decision by another change for that plan is not the
    // risk's any more: the plan learns what follows it, never the acceptance alone.
    if (acceptance && learnt.slice(i + 1).some((later) => later?.planId === command.planId)) continue;
    const plan = await reader.state(planStreamId(command.planId), planDecider);
    if (!plan.exists || !plan.items.some((item) => item.riskId === command.riskId)) continue;
    // An acceptance that would bring the plan into force does not over an item whose risk the
    // plan lags, or accepted above the acceptance level in force (each read through this attempt,
    // so version-checked at the append). This acceptance was judged under the criteria in force in
    // this very attempt.
    const decided = acceptance ? { ...command, unsettledRiskIds: await unsettledItems(plan, reader, command.riskId) } : command;
    decisions.push({ streamId: planStreamId(command.planId), decider: planDecider, command: decided });
  }
  return decisions;
};
