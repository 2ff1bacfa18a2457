import { Args, Context, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { StrictDateTime } from '../../graphql/scalars.js';
import { AFTER_DESCRIPTION, AS_OF_DESCRIPTION, AT_POSITION_DESCRIPTION, FIRST_DESCRIPTION } from '../../graphql/descriptions.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { decodeSeqCursor, encodeCursor, pageSize, toConnection } from '../../graphql/pagination.js';
import { jsonBytes, withinResultBudget } from '../../graphql/result-budget.js';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { pointInTime } from '../../shared/application/point-in-time.js';
import {
  AcceptResidualRiskCommand,
  AddRiskToPlanCommand,
  ClosePlanCommand,
  ExplainResidualRiskCommand,
  DeclineResidualRiskCommand,
  DraftPlanCommand,
  RecordBoardResolutionCommand,
  RemoveRiskFromPlanCommand,
  SubmitPlanCommand,
  WithdrawPlanCommand,
} from '../application/plan-commands.js';
import { GetPlanQuery, ListPlansQuery } from '../application/plan-queries.js';
import { PLAN_LIMITS } from '../domain/plan.rules.js';
import type { PlanState } from '../domain/plan.state.js';
import { AcceptResidualRiskInput, ClosePlanInput, DeclineResidualRiskInput, DraftPlanInput, ExplainResidualRiskInput, Plan, PlanConnection, PlanRefInput, PlanRiskInput, RecordBoardResolutionInput, RemoveRiskFromPlanInput, WithdrawPlanInput } from './plan.types.js';

const CURSOR_TAG = 'plan';

export function toPlanView(p: PlanState) {
  const withExplanations = <I extends PlanState['items'][number]>(i: I): I => (i.explanations ? i : { ...i, explanations: [] });
  return { ...p, items: p.items.map(withExplanations), removedItems: (p.removedItems ?? []).map(withExplanations), revisions: p.revisions.map((r) => ({ ...r, riskIds: r.items.map((i) => i.riskId) })) };
}

const COMMITTEE = 'Roles: COMMITTEE_MEMBER, CISO.';
const CONSENT_ERRORS =
  'Errors: FORBIDDEN (anyone but the owner); NOT_FOUND (plan, risk); CONCURRENCY_CONFLICT (on the plan version); RULE_VIOLATION rules CONSENT_NOT_REQUESTED, CONSENT_STALE, RISK_NOT_IN_PLAN (Art.20), RESIDUAL_LEVEL_NOT_APPROVED (Art.19(2), accepting only: the target level is no longer the one the board approved), PLAN_CONTENT_NOT_APPROVED (Art.19(2), accepting only: the treatment or controls were decided again, or a control cancelled, since the board approved them), RESIDUAL_ABOVE_ACCEPTANCE (Art.13(1), accepting only: criteria approved since set a lower acceptance level), ANALYSIS_BEYOND_CRITERIA (Art.16, accepting only: criteria approved since have no room on their scales for the analysis of the risk), ASSET_RETIRED (Art.14(2), accepting only: an asset of the risk left the inventory after the risk went to the board, in the order of the log, whatever the clocks said), RISK_CLOSED (Art.17).';

@Resolver(() => Plan)
export class PlanResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Query(() => Plan, {
    nullable: true,
    description: "One plan, or null when there is none; with asOf or atPosition, as it stood then (folded from its events). Any authenticated role. Errors: BAD_USER_INPUT (asOf, atPosition); QUERY_TOO_COMPLEX when the request's unpaged lists and documents pass 16 MB.",
  })
  async plan(
    @Args('id', { type: () => ID, description: 'Id of the plan.' }) id: string,
    @Context() context: object,
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    // Its items and revisions have no page, and grow with the plan (each revision lists every item):
    // charged to the request's result budget (95 aliases of a plan of 1,999 items were 49 MB and 4-6 s
    // of loop; of a plan revised 160 times, 180 MB and 11 s: probe p12, re-probe p13).
    const state = await withinResultBudget(context, `plan(${id.slice(0, 80)})`, () => this.queries.execute(new GetPlanQuery(id, pointInTime(asOf, atPosition))), (s) => (s ? jsonBytes(s) : 0));
    return state ? toPlanView(state) : null;
  }

  @Query(() => PlanConnection, { description: "Plans in drafting order. Any authenticated role. Errors: BAD_USER_INPUT (first, after); QUERY_TOO_COMPLEX when the request's unpaged lists and documents pass 16 MB (a page's plans count whole, items and revisions with them)." })
  async plans(
    @Context() context: object,
    @Args('first', { type: () => Int, nullable: true, description: FIRST_DESCRIPTION }) first?: number | null,
    @Args('after', { type: () => String, nullable: true, description: AFTER_DESCRIPTION }) after?: string | null,
  ) {
    const limit = pageSize(first);
    const afterSeq = decodeSeqCursor(CURSOR_TAG, after);
    // A plan's items, removed items, explanations and revisions have no page (plan(id) above): a page
    // of plans carries them for each of its plans, charged as plan(id) charges one.
    const read = () => this.queries.execute(new ListPlansQuery(afterSeq, limit + 1));
    const { rows, total } = await withinResultBudget(context, 'plans', read, (page) => page.rows.reduce((n, r) => n + jsonBytes(r.state), 0));
    return toConnection(rows, limit, total, (r) => encodeCursor(CURSOR_TAG, r.seq), (r) => toPlanView(r.state), after);
  }

  @Mutation(() => Plan, { description: `Drafts an information security management plan (Art.19(1)): DRAFT, revision 1, no risks yet. ${COMMITTEE} Errors: FORBIDDEN; BAD_USER_INPUT (title, period).` })
  async draftPlan(@Args('input', { description: 'Title and period of the plan.' }) input: DraftPlanInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new DraftPlanCommand(input, meta)));
  }

  @Mutation(() => Plan, {
    description: `Adds a risk whose controls are decided to a DRAFT plan (Art.19(1)); a risk already in it changes nothing. A risk is in at most one plan not CLOSED. ${COMMITTEE} Errors: FORBIDDEN; NOT_FOUND (plan, risk); CONCURRENCY_CONFLICT; RULE_VIOLATION rules RISK_IN_OTHER_PLAN (Art.19), RISK_CONTROLS_NOT_DECIDED (Art.19(1)), PLAN_FROZEN (Art.19(2)), RISK_CLOSED (Art.17), TOO_MANY_REMOVED_ITEMS (Art.19: a plan from which ${PLAN_LIMITS.removedItems} items were removed, all revisions together, takes no more risks; its items can still be removed: draft another plan).`,
  })
  async addRiskToPlan(@Args('input', { description: 'The plan and the risk.' }) input: PlanRiskInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new AddRiskToPlanCommand(input, meta)));
  }

  @Mutation(() => Plan, {
    description: `Submits a DRAFT plan to the board (Art.19(2)): the plan and its risks are frozen until the resolution or a withdrawal (rule RISK_IN_SUBMITTED_PLAN for changes to them), and each item's residualLevel is fixed; a plan no longer in DRAFT is left as it is. ${COMMITTEE} Errors: FORBIDDEN; NOT_FOUND; CONCURRENCY_CONFLICT; RULE_VIOLATION rules PLAN_EMPTY, ITEM_RISK_CLOSED (a risk avoided since it was added: remove it first), ITEM_BEYOND_CRITERIA (Art.16: a risk analysed beyond the likelihood or impact scales of the criteria in force: analyse it again or remove it first), ITEM_ABOVE_ACCEPTANCE (Art.13(1): a risk whose target the criteria in force place above their acceptance level: treat it again or remove it first) (Art.19(1)).`,
  })
  async submitPlan(@Args('input', { description: 'The plan to submit.' }) input: PlanRefInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new SubmitPlanCommand(input, meta)));
  }

  @Mutation(() => Plan, {
    description: `Takes a SUBMITTED plan back to DRAFT as revision + 1 (Art.19); its risks may change again. ${COMMITTEE} Errors: FORBIDDEN; NOT_FOUND; BAD_USER_INPUT (reason); CONCURRENCY_CONFLICT; RULE_VIOLATION rule PLAN_NOT_SUBMITTED (Art.19(2)).`,
  })
  async withdrawPlan(@Args('input', { description: 'The plan and why it is withdrawn.' }) input: WithdrawPlanInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new WithdrawPlanCommand(input, meta)));
  }

  @Mutation(() => Plan, {
    description: `Closes an APPROVED or IN_FORCE plan (Art.19); its risks may join another plan, and closing a CLOSED plan again for the same reason changes nothing (for another it is PLAN_NOT_CLOSABLE, the first closure standing). ${COMMITTEE} Errors: FORBIDDEN; NOT_FOUND; BAD_USER_INPUT (reason); CONCURRENCY_CONFLICT; RULE_VIOLATION rule PLAN_NOT_CLOSABLE (Art.19).`,
  })
  async closePlan(@Args('input', { description: 'The plan and why it is closed.' }) input: ClosePlanInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new ClosePlanCommand(input, meta)));
  }

  @Mutation(() => Plan, {
    description: `Removes a risk from a DRAFT plan, or from an APPROVED or IN_FORCE plan an item whose consent is DECLINED or REOPENED or whose risk is CLOSED (avoided: its owner can no longer answer) (Art.19); the plan is IN_FORCE when every remaining item is ACCEPTED. Removed already for the same reason, nothing changes; for another reason, ITEM_NOT_REMOVABLE (the removal stands as recorded, Plan.removedItems). ${COMMITTEE} Errors: FORBIDDEN; NOT_FOUND (plan, item; an item removed says when and by whom); BAD_USER_INPUT (reason); CONCURRENCY_CONFLICT; RULE_VIOLATION rules ITEM_NOT_REMOVABLE (Art.19).`,
  })
  async removeRiskFromPlan(@Args('input', { description: 'The plan, the risk and why it is removed.' }) input: RemoveRiskFromPlanInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new RemoveRiskFromPlanCommand(input, meta)));
  }

  @Mutation(() => Plan, {
    description:
      "Records the board's resolution on the submitted revision (Art.19(2)): APPROVED asks each risk owner for consent to the residual risk (Art.20); REJECTED returns the plan to DRAFT as revision + 1. Roles: BOARD_SECRETARY, never whoever drafted the plan, added or removed its items or submitted it (Art.23(3); user ids compared ignoring case, width and look-alike letters of other scripts (UTS #39)). Errors: FORBIDDEN (another role; or the secretary prepared it: rule RESOLUTION_BY_DRAFTER, article Art.23(3)); NOT_FOUND; BAD_USER_INPUT (meetingDate in the future or before the submission day, planRevision below 1); CONCURRENCY_CONFLICT; RULE_VIOLATION rules PLAN_NOT_SUBMITTED, RESOLUTION_NUMBER_REUSED, PLAN_REVISION_MISMATCH (planRevision is not the revision under submission) (Art.19(2)).",
  })
  async recordBoardResolution(@Args('input', { description: 'The plan and the resolution.' }) input: RecordBoardResolutionInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new RecordBoardResolutionCommand(input, meta)));
  }

  @Mutation(() => Plan, {
    description: `The risk's owner accepts the residual risk of a plan item (Art.20); the consent pins the residual level, the risk's and the plan's versions, the criteria version and a SHA-256 of the risk's state. The plan is IN_FORCE once every remaining item is ACCEPTED, none of them above the acceptance level of criteria approved since its submission (those keep it APPROVED until their owners decline). Roles: the risk's owner only, whatever their other roles (a token with no role but ADMIN writes no domain data). ${CONSENT_ERRORS}`,
  })
  async acceptResidualRisk(@Args('input', { description: 'The plan, the risk and an optional statement.' }) input: AcceptResidualRiskInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new AcceptResidualRiskCommand(input, meta)));
  }

  @Mutation(() => Plan, {
    description: `The risk's owner refuses the residual risk of a plan item, with a reason, or withdraws a consent given (Art.20); the item becomes DECLINED (the plan is not IN_FORCE while it stays) and the risk goes back to TO_TREAT. Roles: the risk's owner only, whatever their other roles (a token with no role but ADMIN writes no domain data). ${CONSENT_ERRORS.replace('NOT_FOUND', 'BAD_USER_INPUT (reason); NOT_FOUND')}`,
  })
  async declineResidualRisk(@Args('input', { description: 'The plan, the risk and the reason.' }) input: DeclineResidualRiskInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new DeclineResidualRiskCommand(input, meta)));
  }

  @Mutation(() => Plan, {
    description: `Records that the plan and the residual risk to be accepted were explained to the risk's owner (Art.20: explain fully, then obtain the agreement): who (the caller), on which day, what was shown; pinned to the risk's version and state fingerprint then. The owner's answer stays theirs (acceptResidualRisk, declineResidualRisk); the same explanation sent again (same person, day and words, to the same owner, of the same state) changes nothing. ${COMMITTEE} Errors: FORBIDDEN; NOT_FOUND (plan, item); BAD_USER_INPUT (explainedOn in the future or before the approving board meeting, summary); CONCURRENCY_CONFLICT; RULE_VIOLATION rules PLAN_NOT_APPROVED (Art.20: the plan is not APPROVED or IN_FORCE), ITEM_RISK_CLOSED (the risk was avoided), ITEM_REOPENED (Art.12(3): a review reopened the risk, the plan asks nothing of its owner now), TOO_MANY_EXPLANATIONS (Art.20: ${PLAN_LIMITS.explanationsPerItem} to one owner, ${PLAN_LIMITS.explanationsPerItemAllOwners} in all, for one item of one revision).`,
  })
  async explainResidualRisk(@Args('input', { description: 'The plan, the risk, the day and what was explained.' }) input: ExplainResidualRiskInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new ExplainResidualRiskCommand(input, meta)));
  }
}
