/**
 * Review of 2026-12-07 (a69de33): a plan records at most PLAN_LIMITS.removedItems removals, and
 * the refusal says "close it and draft another". A DRAFT plan cannot be closed (closePlan takes an
 * APPROVED or IN_FORCE plan only) and no other command takes a draft's items out: a draft at the
 * cap keeps every risk it holds (a risk is an item of at most one plan not CLOSED) until the board
 * approves it. The risk named here can be neither removed nor put in another plan.
 */
import { RuleViolationError } from '../../../src/shared/domain/errors.js';
import { planDecider } from '../../../src/treatment-plan/domain/plan.decider.js';
import { PLAN_LIMITS } from '../../../src/treatment-plan/domain/plan.rules.js';
import type { PlanCommand } from '../../../src/treatment-plan/domain/plan.commands.js';
import { given } from '../support/given-when-then.js';
import { add, committee, draft, PLAN, play, r1, r2, stateOf, T_LATER } from '../treatment-plan/plan.fixtures.js';

describe('a DRAFT plan at the removed-items cap', () => {
  it('can still let go of its items, as the refusal advises (closing it, or removing them)', () => {
    const remove = (riskId: string, i: number): PlanCommand => ({ type: 'RemoveRiskFromPlan', planId: PLAN, riskId, reason: `Out of scope ${i}`, actor: committee, at: T_LATER });
    const commands: PlanCommand[] = [draft()];
    for (let i = 0; i < PLAN_LIMITS.removedItems; i++) commands.push(add(r1), remove(r1.id, i));
    const full = play(...commands, add(r2));
    expect(stateOf(full).status).toBe('DRAFT');
    // The removal is refused, and the refusal says to close the plan...
    given(planDecider, full).when(remove(r2.id, PLAN_LIMITS.removedItems)).thenThrows(RuleViolationError, { rule: 'TOO_MANY_REMOVED_ITEMS' });
    // ...which is refused for a draft: r2 stays in this draft whatever the committee does.
    let closeError: unknown = null;
    try {
      planDecider.decide({ type: 'ClosePlan', planId: PLAN, reason: 'Start again', actor: committee, at: T_LATER }, stateOf(full));
    } catch (error) {
      closeError = error;
    }
    expect(closeError).toBeNull();
  });
});
