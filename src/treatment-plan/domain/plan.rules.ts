/**
 * The plan's rules (stable ids in extensions.rule, with the article they come from in
 * extensions.article) and the limits of its texts: one home, read by the decider, the decisions
 * kept beside it (consent-explanation.ts) and the GraphQL descriptions.
 */
import { NotFoundError } from '../../shared/domain/errors.js';
import { defineRules } from '../../shared/domain/guards.js';
import type { PlanItem, PlanState, RemovedPlanItem } from './plan.state.js';

export const PLAN_RULES = defineRules({
  PLAN_ALREADY_EXISTS: 'Art.19(1)',
  PLAN_EMPTY: 'Art.19(1)',
  PLAN_FROZEN: 'Art.19(2)',
  PLAN_NOT_SUBMITTED: 'Art.19(2)',
  RESOLUTION_NUMBER_REUSED: 'Art.19(2)',
  RESOLUTION_BY_DRAFTER: 'Art.23(3)',
  PLAN_REVISION_MISMATCH: 'Art.19(2)',
  PLAN_NOT_CLOSABLE: 'Art.19',
  ITEM_NOT_REMOVABLE: 'Art.19',
  ITEM_RISK_CLOSED: 'Art.19(1)',
  ITEM_ABOVE_ACCEPTANCE: 'Art.13(1)',
  ITEM_BEYOND_CRITERIA: 'Art.16',
  PLAN_NOT_APPROVED: 'Art.20',
  ITEM_REOPENED: 'Art.12(3)',
  TOO_MANY_EXPLANATIONS: 'Art.20',
  TOO_MANY_REMOVED_ITEMS: 'Art.19',
});
export type PlanRule = keyof typeof PLAN_RULES;

export const PLAN_LIMITS = {
  title: 200,
  period: 50,
  resolutionNumber: 100,
  minutesReference: 500,
  notes: 10_000,
  statement: 10_000,
  reason: 10_000,
  /** What the committee explained to a risk's owner (explainResidualRisk). */
  explanation: 10_000,
  /** Explanations recorded to one owner for one item of one revision. */
  explanationsPerItem: 50,
  /** Explanations recorded for one item of one revision, all its owners together (a bound on the plan's state). */
  explanationsPerItemAllOwners: 200,
  /**
   * Items removed from one plan, all revisions together (Plan.removedItems, each with its reason):
   * a bound on the plan's state, which every command on the plan writes whole (600 removals of one
   * risk added again each time took each command from 7 to ~280 ms: hostile re-probe of 2026-12-07, C).
   * Kept by addRiskToPlan: a plan at it takes no more risks, and its items can all still be removed
   * (the records then pass it by the plan's items at most); a removal is never refused for it, so
   * no risk is held by a plan for it (review of 2026-12-07, M3: a draft cannot be closed).
   */
  removedItems: 500,
} as const;

export function requireExists(s: PlanState, planId: string): void {
  if (!s.exists) throw new NotFoundError('Plan', planId);
}

export function requireItem(s: PlanState, riskId: string): PlanItem {
  const item = s.items.find((i) => i.riskId === riskId);
  if (!item) throw new NotFoundError('PlanItem', riskId, removalOf(s, riskId));
  return item;
}

/** The latest removal of the risk from the plan, if any (RemovedPlanItem). */
export function latestRemoval(s: PlanState, riskId: string): RemovedPlanItem | undefined {
  return s.removedItems?.findLast((r) => r.riskId === riskId);
}

/**
 * Why a removed item is not found, in words: "PlanItem r not found" for an item the plan lists
 * among its removed ones read as a wrong id (auditor probe of 2026-12-06, F5).
 */
function removalOf(s: PlanState, riskId: string): string | undefined {
  const removed = latestRemoval(s, riskId);
  return removed && `it was removed from plan ${s.id} at ${removed.removedAt} by ${removed.removedBy} (Plan.removedItems)`;
}
