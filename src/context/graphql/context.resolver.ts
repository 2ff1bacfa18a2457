import { Args, Context as GraphQLContext, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { AS_OF_DESCRIPTION, AT_POSITION_DESCRIPTION, INPUT_ARGUMENT_DESCRIPTION } from '../../graphql/descriptions.js';
import { approxJsonBytes, withinResultBudget } from '../../graphql/result-budget.js';
import { StrictDateTime } from '../../graphql/scalars.js';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import { pointInTime } from '../../shared/application/point-in-time.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { RecordContextCommand } from '../application/context-commands.js';
import { GetContextQuery, ListContextVersionsQuery } from '../application/context-queries.js';
import { CONTEXT_ID, type ContextVersion } from '../domain/context.state.js';
import { Context, RecordContextInput } from './context.types.js';

const toView = (v: ContextVersion): Context => ({ id: CONTEXT_ID, ...v });

/** Thin adapter: arguments to commands and queries. */
@Resolver(() => Context)
export class ContextResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Query(() => Context, {
    nullable: true,
    description:
      "The organisation's context in force (Art.12(1)): the newest version recorded now, or by asOf / atPosition (folded from the log); null before the first. Any authenticated role. Errors: BAD_USER_INPUT (asOf, atPosition); QUERY_TOO_COMPLEX when the request's unpaged lists pass 16 MB.",
  })
  async context(
    @GraphQLContext() request: object,
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    // A version's lists hold up to 500 texts of 10,000 characters each: charged to the request's result budget.
    const version = await withinResultBudget(request, 'context', () => this.queries.execute(new GetContextQuery(pointInTime(asOf, atPosition))), approxJsonBytes);
    return version ? toView(version) : null;
  }

  @Query(() => [Context], { description: "Every version of the organisation's context recorded (by asOf / atPosition when given), oldest first. Any authenticated role. Errors: BAD_USER_INPUT (asOf, atPosition); QUERY_TOO_COMPLEX when the request's unpaged lists pass 16 MB." })
  async contextVersions(
    @GraphQLContext() request: object,
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    // 40 aliases of 8 versions of 3.7 MB answered HTTP 500 after 22 s (hostile-input probe, 2026-12-04).
    return (await withinResultBudget(request, 'contextVersions', () => this.queries.execute(new ListContextVersionsQuery(pointInTime(asOf, atPosition))), approxJsonBytes)).map(toView);
  }

  @Mutation(() => Context, {
    description:
      "Records the organisation's context (Art.12(1)) as its next version and returns it; the same content as the version in force records nothing and returns that version. COMMITTEE_MEMBER or CISO. Errors: UNAUTHENTICATED; FORBIDDEN (another role or an AUDITOR); BAD_USER_INPUT (fields, such as externalIssues[2]); CONCURRENCY_CONFLICT (expectedVersion); INTEGRITY_BROKEN.",
  })
  async recordContext(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: RecordContextInput, @RequestMeta() meta: Meta) {
    return toView(await this.commands.execute(new RecordContextCommand(input, meta)));
  }
}
