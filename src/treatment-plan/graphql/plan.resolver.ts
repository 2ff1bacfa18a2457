import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { StrictDateTime } from '../../graphql/scalars.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { decodeCursor, encodeCursor, pageSize, toConnection } from '../../graphql/pagination.js';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { BadInputError } from '../../shared/domain/errors.js';
import { pointInTime } from '../../shared/application/point-in-time.js';
import {
  AcceptResidualRiskCommand,
  AddRiskToPlanCommand,
  ClosePlanCommand,
  DeclineResidualRiskCommand,
  DraftPlanCommand,
  RecordBoardResolutionCommand,
  RemoveRiskFromPlanCommand,
  SubmitPlanCommand,
  WithdrawPlanCommand,
} from '../application/plan-commands.js';
import { GetPlanQuery, ListPlansQuery } from '../application/plan-queries.js';
import type { PlanState } from '../domain/plan.state.js';
import { AcceptResidualRiskInput, ClosePlanInput, DeclineResidualRiskInput, DraftPlanInput, Plan, PlanConnection, PlanRefInput, PlanRiskInput, RecordBoardResolutionInput, RemoveRiskFromPlanInput, WithdrawPlanInput } from './plan.types.js';

const CURSOR_TAG = 'plan';

export function toPlanView(p: PlanState) {
  return { ...p, revisions: p.revisions.map((r) => ({ ...r, riskIds: r.items.map((i) => i.riskId) })) };
}

@Resolver(() => Plan)
export class PlanResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Query(() => Plan, { nullable: true, description: 'One plan; with asOf, as it stood at that instant (folded from its events).' })
  async plan(
    @Args('id', { type: () => ID }) id: string,
    @Args('asOf', { type: () => StrictDateTime, nullable: true }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: 'Alternative to asOf: the state right after this log position.' }) atPosition?: string | null,
  ) {
    const state = await this.queries.execute(new GetPlanQuery(id, pointInTime(asOf, atPosition)));
    return state ? toPlanView(state) : null;
  }

  @Query(() => PlanConnection, { description: 'Plans in drafting order.' })
  async plans(@Args('first', { type: () => Int, nullable: true }) first?: number | null, @Args('after', { type: () => String, nullable: true }) after?: string | null) {
    const limit = pageSize(first);
    const key = decodeCursor(CURSOR_TAG, after);
    const afterSeq = key === null ? null : Number(key);
    if (afterSeq !== null && !Number.isSafeInteger(afterSeq)) throw new BadInputError({ after: 'is not a cursor of this list' });
    const { rows, total } = await this.queries.execute(new ListPlansQuery(afterSeq, limit + 1));
    return toConnection(rows, limit, total, (r) => encodeCursor(CURSOR_TAG, r.seq), (r) => toPlanView(r.state), afterSeq !== null);
  }

  @Mutation(() => Plan, { description: 'Art.19: drafts the information security management plan.' })
  async draftPlan(@Args('input') input: DraftPlanInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new DraftPlanCommand(input, meta)));
  }

  @Mutation(() => Plan, { description: 'Adds a risk whose controls are decided (not twice; not after submission).' })
  async addRiskToPlan(@Args('input') input: PlanRiskInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new AddRiskToPlanCommand(input, meta)));
  }

  @Mutation(() => Plan, { description: 'Submits the plan to the board; it is frozen from then on.' })
  async submitPlan(@Args('input') input: PlanRefInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new SubmitPlanCommand(input, meta)));
  }

  @Mutation(() => Plan, { description: 'Takes a submitted plan back to DRAFT as revision + 1 (COMMITTEE_MEMBER, CISO); its risks may change again.' })
  async withdrawPlan(@Args('input') input: WithdrawPlanInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new WithdrawPlanCommand(input, meta)));
  }

  @Mutation(() => Plan, { description: 'Closes an APPROVED or IN_FORCE plan (COMMITTEE_MEMBER, CISO); its risks may join another plan.' })
  async closePlan(@Args('input') input: ClosePlanInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new ClosePlanCommand(input, meta)));
  }

  @Mutation(() => Plan, { description: 'Removes a risk from a DRAFT plan, or an item whose consent is DECLINED or REOPENED (COMMITTEE_MEMBER, CISO).' })
  async removeRiskFromPlan(@Args('input') input: RemoveRiskFromPlanInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new RemoveRiskFromPlanCommand(input, meta)));
  }

  @Mutation(() => Plan, { description: "Art.19(2): records the board's resolution. BOARD_SECRETARY, never the plan's drafter." })
  async recordBoardResolution(@Args('input') input: RecordBoardResolutionInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new RecordBoardResolutionCommand(input, meta)));
  }

  @Mutation(() => Plan, { description: "Art.20: the risk's owner accepts the residual risk; the consent is pinned to the risk's state." })
  async acceptResidualRisk(@Args('input') input: AcceptResidualRiskInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new AcceptResidualRiskCommand(input, meta)));
  }

  @Mutation(() => Plan, { description: "Art.20: the risk's owner refuses the residual risk, with a reason; the risk goes back to treatment." })
  async declineResidualRisk(@Args('input') input: DeclineResidualRiskInput, @RequestMeta() meta: Meta) {
    return toPlanView(await this.commands.execute(new DeclineResidualRiskCommand(input, meta)));
  }
}
