import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { ApproveRiskCriteriaCommand, ProposeRiskCriteriaCommand } from '../application/criteria-commands.js';
import { GetCriteriaInForceQuery, GetCriteriaVersionQuery, ListCriteriaVersionsQuery } from '../application/criteria-queries.js';
import { ApproveRiskCriteriaInput, ProposeRiskCriteriaInput, RiskCriteria } from './criteria.types.js';

/** Thin adapter: arguments to commands and queries, states to GraphQL objects. */
@Resolver(() => RiskCriteria)
export class RiskCriteriaResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Query(() => RiskCriteria, { nullable: true, description: 'The risk criteria version in force (Art. 13), or null before the first approval.' })
  riskCriteria() {
    return this.queries.execute(new GetCriteriaInForceQuery());
  }

  @Query(() => [RiskCriteria], { description: 'Every risk criteria version, newest first.' })
  riskCriteriaVersions() {
    return this.queries.execute(new ListCriteriaVersionsQuery());
  }

  @Query(() => RiskCriteria, { nullable: true, description: 'One risk criteria version, or null.' })
  riskCriteriaVersion(@Args('id', { type: () => ID }) id: string) {
    return this.queries.execute(new GetCriteriaVersionQuery(id));
  }

  @Mutation(() => RiskCriteria, { description: 'Art.13: proposes a new numbered version of the risk criteria. COMMITTEE_MEMBER or CISO.' })
  proposeRiskCriteria(@Args('input') input: ProposeRiskCriteriaInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new ProposeRiskCriteriaCommand(input, meta));
  }

  @Mutation(() => RiskCriteria, {
    description: 'Art.13: puts a proposed version in force and supersedes the previous one. CISO, never the one who proposed that version (Art.23(3)).',
  })
  approveRiskCriteria(@Args('input') input: ApproveRiskCriteriaInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new ApproveRiskCriteriaCommand(input, meta));
  }
}
