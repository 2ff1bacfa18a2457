/**
 * The bound on the removals one plan records (PLAN_LIMITS.removedItems, TOO_MANY_REMOVED_ITEMS;
 * hostile re-probe of 2026-12-07, C) is kept where an item comes in (addRiskToPlan), never where
 * one goes out: a removal refused at the bound left a DRAFT plan holding its risks until the board
 * approved it, as a draft is not closed (closePlan takes an APPROVED or IN_FORCE plan), and its
 * refusal advised closing it (review of 2026-12-07, M3). Fixtures in plan.fixtures.ts.
 */
import { RuleViolationError } from '../../../src/shared/domain/errors.js';
import type { PlanCommand } from '../../../src/treatment-plan/domain/plan.commands.js';
import { planDecider } from '../../../src/treatment-plan/domain/plan.decider.js';
import type { PlanEvent } from '../../../src/treatment-plan/domain/plan.events.js';
import { PLAN_LIMITS } from '../../../src/treatment-plan/domain/plan.rules.js';
import { given } from '../support/given-when-then.js';
import { add, committee, draft, PLAN, play, r1, r2, r3, stateOf, T_LATER } from './plan.fixtures.js';

const remove = (riskId: string, i: number): PlanCommand => ({ type: 'RemoveRiskFromPlan', planId: PLAN, riskId, reason: `Out of scope ${i}`, actor: committee, at: T_LATER });

/** A draft from which r1 was added and removed `times` times. */
function cycled(times: number): PlanCommand[] {
  const commands: PlanCommand[] = [draft()];
  for (let i = 0; i < times; i++) commands.push(add(r1), remove(r1.id, i));
  return commands;
}

describe('a plan records at most PLAN_LIMITS.removedItems removals, and none of its risks is held by it', () => {
  const atBound = play(...cycled(PLAN_LIMITS.removedItems));

  it('a plan at the bound takes no more risks: TOO_MANY_REMOVED_ITEMS names what works, another draft', () => {
    expect(stateOf(atBound).removedItems).toHaveLength(PLAN_LIMITS.removedItems);
    const error = given(planDecider, atBound).when(add(r2)).thenThrows(RuleViolationError, { rule: 'TOO_MANY_REMOVED_ITEMS', article: 'Art.19' });
    expect(error.message).toMatch(/its items can still be removed\): draft another plan \(draftPlan\) for risk r-2$/);
    // The risk was not taken, so it is free for the draft the message names.
    given(planDecider, play(draft({ planId: 'p-2' }))).when(add(r2, { planId: 'p-2' })).thenMatches([{ type: 'PlanRiskAdded', data: { riskId: r2.id } }]);
  });

  it('every item of a draft that reaches the bound can still be removed', () => {
    const full = play(...cycled(PLAN_LIMITS.removedItems - 1), add(r1), add(r2), add(r3), remove(r1.id, PLAN_LIMITS.removedItems));
    expect(stateOf(full).removedItems).toHaveLength(PLAN_LIMITS.removedItems);
    const { state } = given(planDecider, full).when(remove(r2.id, 0)).thenMatches([{ type: 'PlanRiskRemoved', data: { riskId: r2.id } }]);
    const { state: empty } = given(planDecider, [], state).when(remove(r3.id, 0)).thenMatches([{ type: 'PlanRiskRemoved', data: { riskId: r3.id } }]);
    // Past the bound by the items it held, no more: it takes none now.
    expect(empty.removedItems).toHaveLength(PLAN_LIMITS.removedItems + 2);
    given(planDecider, [], empty).when(add(r1)).thenThrows(RuleViolationError, { rule: 'TOO_MANY_REMOVED_ITEMS' });
  });

  it('a draft at the bound holding a risk added before this rule (an older log) lets go of it', () => {
    // What the decider took before: the item added once the plan had recorded the bound's removals.
    const addedThen = play(draft(), add(r2)).filter((e): e is Extract<PlanEvent, { type: 'PlanRiskAdded' }> => e.type === 'PlanRiskAdded');
    const held = [...atBound, ...addedThen];
    expect(stateOf(held).items.map((i) => i.riskId)).toEqual([r2.id]);
    given(planDecider, held).when(remove(r2.id, PLAN_LIMITS.removedItems)).thenMatches([{ type: 'PlanRiskRemoved', data: { riskId: r2.id } }]);
  });

  it('below the bound a risk removed is added back as before', () => {
    given(planDecider, play(...cycled(PLAN_LIMITS.removedItems - 1))).when(add(r1)).thenMatches([{ type: 'PlanRiskAdded', data: { riskId: r1.id } }]);
  });
});
