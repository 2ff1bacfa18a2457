import { Args, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import type { BaselineCatalogueState } from '../domain/catalogue.state.js';
import { ImportBaselineCatalogueCommand } from '../application/catalogue-commands.js';
import { GetCatalogueQuery, ListCataloguesQuery } from '../application/catalogue-queries.js';
import { BaselineCatalogue, ImportBaselineCatalogueInput } from './catalogue.types.js';

/** Thin adapter: arguments to commands and queries, states to GraphQL objects. */
@Resolver(() => BaselineCatalogue)
export class BaselineCatalogueResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Query(() => [BaselineCatalogue], { description: 'The built-in catalogue first, then every imported one in import order.' })
  baselineCatalogues() {
    return this.queries.execute(new ListCataloguesQuery());
  }

  @Query(() => BaselineCatalogue, { nullable: true, description: 'One catalogue (built-in or imported), or null.' })
  baselineCatalogue(@Args('id', { type: () => ID }) id: string) {
    return this.queries.execute(new GetCatalogueQuery(id));
  }

  @Mutation(() => BaselineCatalogue, {
    description: 'Art.15(2): imports a baseline catalogue version (id = slug of the name @ version); a version never changes once imported. COMMITTEE_MEMBER or CISO.',
  })
  importBaselineCatalogue(@Args('input') input: ImportBaselineCatalogueInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new ImportBaselineCatalogueCommand(input, meta));
  }

  @ResolveField(() => Int, { description: 'Number of requirements.' })
  requirementCount(@Parent() catalogue: BaselineCatalogueState): number {
    return catalogue.requirements.length;
  }
}
