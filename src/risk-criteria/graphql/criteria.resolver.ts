import { Args, Context, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { approxJsonBytes, withinResultBudget } from '../../graphql/result-budget.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { ApproveRiskCriteriaCommand, ProposeRiskCriteriaCommand } from '../application/criteria-commands.js';
import { GetCriteriaInForceQuery, GetCriteriaVersionQuery, ListCriteriaVersionsQuery } from '../application/criteria-queries.js';
import { AS_OF_DESCRIPTION, AT_POSITION_DESCRIPTION, INPUT_ARGUMENT_DESCRIPTION } from '../../graphql/descriptions.js';
import { StrictDateTime } from '../../graphql/scalars.js';
import { pointInTime } from '../../shared/application/point-in-time.js';
import { ApproveRiskCriteriaInput, ProposeRiskCriteriaInput, RiskCriteria } from './criteria.types.js';

/** Thin adapter: arguments to commands and queries, states to GraphQL objects. */
@Resolver(() => RiskCriteria)
export class RiskCriteriaResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Query(() => RiskCriteria, {
    nullable: true,
    description:
      'The risk criteria version in force (Art. 13), now or by asOf / atPosition (the register replayed then), or null before the first approval. Any authenticated role. Errors: UNAUTHENTICATED; BAD_USER_INPUT (asOf, atPosition).',
  })
  riskCriteria(
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    return this.queries.execute(new GetCriteriaInForceQuery(pointInTime(asOf, atPosition)));
  }

  @Query(() => [RiskCriteria], {
    description:
      'Every risk criteria version (Art. 13), proposed, in force or superseded, newest first; by asOf / atPosition, those recorded by then, each as it stood then. Any authenticated role. Errors: UNAUTHENTICATED; BAD_USER_INPUT (asOf, atPosition); QUERY_TOO_COMPLEX when the request\'s unpaged lists pass 16 MB.',
  })
  riskCriteriaVersions(
    @Context() context: object,
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    // Every version ever proposed, without a page: charged as contextVersions are.
    return withinResultBudget(context, 'riskCriteriaVersions', () => this.queries.execute(new ListCriteriaVersionsQuery(pointInTime(asOf, atPosition))), approxJsonBytes);
  }

  @Query(() => RiskCriteria, { nullable: true, description: 'One risk criteria version (Art. 13), or null when there is none with that id. Any authenticated role. Errors: UNAUTHENTICATED.' })
  riskCriteriaVersion(@Args('id', { type: () => ID, description: 'The version (RiskCriteria.id).' }) id: string) {
    return this.queries.execute(new GetCriteriaVersionQuery(id));
  }

  @Mutation(() => RiskCriteria, {
    description:
      'Art.13: proposes a new numbered version of the risk criteria (status PROPOSED, number the next one) and returns it. COMMITTEE_MEMBER or CISO. Errors: UNAUTHENTICATED; FORBIDDEN (another role or an AUDITOR); BAD_USER_INPUT (fields, such as matrix[1][0]); RULE_VIOLATION CRITERIA_VERSION_IMMUTABLE (Art.13) for a retry with another definition; INTEGRITY_BROKEN.',
  })
  proposeRiskCriteria(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: ProposeRiskCriteriaInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new ProposeRiskCriteriaCommand(input, meta));
  }

  @Mutation(() => RiskCriteria, {
    description: 'Art.13: puts a proposed version in force, supersedes the previous one and returns it; risks that no longer meet the new acceptance level show needsReevaluation. CISO, never the one who proposed that version (Art.23(3)). ' +
      'Errors: UNAUTHENTICATED; FORBIDDEN (another role or an AUDITOR; or its proposer: rule CRITERIA_APPROVER_IS_PROPOSER, article Art.23(3)); NOT_FOUND; CONCURRENCY_CONFLICT; RULE_VIOLATION CRITERIA_SUPERSEDED or CRITERIA_OLDER_THAN_IN_FORCE (Art.13); INTEGRITY_BROKEN.',
  })
  approveRiskCriteria(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: ApproveRiskCriteriaInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new ApproveRiskCriteriaCommand(input, meta));
  }
}
