import { riskStreams } from '../../risk-register/domain/risk.events.js';
import type { RiskEvent } from '../../risk-register/domain/risk.events.js';
import type { DecisionFollowUp, StreamDecision } from '../../shared/application/command-executor.js';
import { planDecider } from '../domain/plan.decider.js';
import { planStreamId } from '../domain/plan.state.js';
import { unsettledItems } from './plan-joint-commands.js';
import type { MarkItemRiskClosed } from '../domain/plan.commands.js';
import { planCommandLearntFrom, type PlanCommandFromRisk } from './plan-learns-from-risk.js';

/**
 * Risk → plan, in the same append as the risk's decision: a consent made stale by a material
 * change (ResidualConsentInvalidated) marks the item STALE, a review finding
 * (RiskReassessmentOpened) reopens it, an AVOID (RiskClosed) marks it, and the owner's answer (ResidualRiskAcceptedByOwner,
 * ResidualRiskDeclinedByOwner) is learnt, the plan leaving force or coming into force with it.
 * Learnt by the reactions (plan-risk-reactions.ts, which now find it done), the log showed the
 * plan IN_FORCE over a stale consent for the 10-40 ms between the two appends, and for two days
 * after a crash between them (year probe p14), and a risk ACCEPTED whose item was still PENDING
 * for 5-15 ms. The plan is read in the attempt, so a concurrent write to it makes the whole
 * decision conflict and be decided again; a plan that no longer holds the risk is left alone.
 */
export const planLearnsRiskDecision: DecisionFollowUp = async ({ streamId, version, events, actor, at }, reader) => {
  if (riskStreams.idOf(streamId) === undefined) return [];
  const decisions = new Map<string, StreamDecision>();
  const learnt = (events as readonly RiskEvent[]).map((e, i) => planCommandLearntFrom(e, version + 1 + i, { actor, at }));
  for (const [i, found] of learnt.entries()) {
    const command = withClosureAfter(found, learnt.slice(i + 1));
    // One decision per plan (the first); anything more is left to the reactions.
    if (command === null || decisions.has(command.planId)) continue;
    const acceptance = command.type === 'LearnResidualConsent' && command.accepted;
    // An acceptance followed in the same decision by another change for that plan is not the
    // risk's any more: the plan learns what follows it, never the acceptance alone.
    if (acceptance && learnt.slice(i + 1).some((later) => later?.planId === command.planId)) continue;
    const plan = await reader.state(planStreamId(command.planId), planDecider);
    if (!plan.exists || !plan.items.some((item) => item.riskId === command.riskId)) continue;
    // An acceptance that would bring the plan into force does not over an item whose risk the
    // plan lags (each read through this attempt, so version-checked at the append).
    const decided = acceptance ? { ...command, unsettledRiskIds: await unsettledItems(plan, reader, command.riskId) } : command;
    decisions.set(command.planId, { streamId: planStreamId(command.planId), decider: planDecider, command: decided });
  }
  return [...decisions.values()];
};

/**
 * An AVOID of a risk whose consent was live appends ResidualConsentInvalidated, then RiskClosed:
 * the plan learns both in one decision, the closure carrying the stale consent.
 */
function withClosureAfter(command: PlanCommandFromRisk | null, later: readonly (PlanCommandFromRisk | null)[]): PlanCommandFromRisk | null {
  if (command?.type !== 'MarkConsentStale') return command;
  const closure = later.find((c): c is MarkItemRiskClosed => c?.type === 'MarkItemRiskClosed' && c.planId === command.planId);
  return closure ? { ...closure, staleConsent: { riskVersion: command.riskVersion, reason: command.reason } } : command;
}
