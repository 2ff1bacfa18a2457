import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import type { BaselineCatalogueState, BaselineRequirement as BaselineRequirementState } from '../domain/catalogue.state.js';
import type { CatalogueListing } from '../projections/catalogue.projection.js';
import { jsonBytes, withinResultBudget } from '../../graphql/result-budget.js';
import { ImportBaselineCatalogueCommand } from '../application/catalogue-commands.js';
import { GetCatalogueQuery, ListCataloguesQuery } from '../application/catalogue-queries.js';
import { INPUT_ARGUMENT_DESCRIPTION } from '../../graphql/descriptions.js';
import { BaselineCatalogue, BaselineRequirement, ImportBaselineCatalogueInput } from './catalogue.types.js';

/** Thin adapter: arguments to commands and queries, states to GraphQL objects. */
@Resolver(() => BaselineCatalogue)
export class BaselineCatalogueResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  /**
   * The JSON size of each catalogue's requirements, measured once: a version never changes once
   * imported in this installation's log (CATALOGUE_VERSION_IMMUTABLE), and measuring serialised
   * its 4.5 MB again on every request that asked for them, beside the answer's own serialisation.
   */
  private readonly measured = new Map<string, number>();
  private requirementBytes(catalogueId: string, requirements: readonly BaselineRequirementState[]): number {
    let bytes = this.measured.get(catalogueId);
    if (bytes === undefined) {
      bytes = jsonBytes(requirements);
      // A catalogue asked for but not (yet) imported has none: nothing to remember.
      if (requirements.length === 0) return bytes;
      if (this.measured.size >= 1_000) this.measured.clear();
      this.measured.set(catalogueId, bytes);
    }
    return bytes;
  }

  @Query(() => [BaselineCatalogue], { description: 'Baseline catalogues (Art. 15(2)(1)): the built-in one first, then every imported one in import order. Any authenticated role. Errors: UNAUTHENTICATED.' })
  baselineCatalogues() {
    return this.queries.execute(new ListCataloguesQuery());
  }

  @Query(() => BaselineCatalogue, { nullable: true, description: 'One baseline catalogue (built-in or imported), or null when there is none with that id. Any authenticated role. Errors: UNAUTHENTICATED.' })
  baselineCatalogue(@Args('id', { type: () => ID, description: 'The catalogue (BaselineCatalogue.id, such as name-slug@version).' }) id: string) {
    return this.queries.execute(new GetCatalogueQuery(id));
  }

  @Mutation(() => BaselineCatalogue, {
    description: 'Art.15(2): imports a baseline catalogue version (id = slug of the name @ version) and returns it; a version never changes once imported. COMMITTEE_MEMBER or CISO. ' +
      'Errors: UNAUTHENTICATED; FORBIDDEN (another role or an AUDITOR); BAD_USER_INPUT (fields, such as requirements[3].id); RULE_VIOLATION CATALOGUE_VERSION_IMMUTABLE or CATALOGUE_ID_RESERVED (Art.15(2)); INTEGRITY_BROKEN.',
  })
  importBaselineCatalogue(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: ImportBaselineCatalogueInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new ImportBaselineCatalogueCommand(input, meta));
  }

  @ResolveField(() => Int, { description: 'Number of its requirements.' })
  requirementCount(@Parent() catalogue: BaselineCatalogueState | CatalogueListing): number {
    return 'requirementCount' in catalogue ? catalogue.requirementCount : catalogue.requirements.length;
  }

  @ResolveField(() => [BaselineRequirement], {
    description:
      "Its requirements, in the order given (1 to 2,000). Charged to the request's 16 MB of unpaged results, wherever the catalogue comes from (the list, baselineCatalogue(id), an import's answer): QUERY_TOO_COMPLEX past it; ask for the requirements of a few catalogues per request.",
  })
  async requirements(@Parent() catalogue: BaselineCatalogueState | CatalogueListing, @Context() context: object): Promise<BaselineRequirementState[]> {
    // Every way to a catalogue's requirements is charged: baselineCatalogue(id) and a re-sent
    // import (answered with its first, whole result) were not, and 90 aliases over catalogues of
    // 4.5 MB answered 410 MB from a 17 KB request (re-probe).
    const what = `the requirements of catalogue ${catalogue.id.slice(0, 80)}`;
    const held = catalogue.requirements;
    const full = held ? { requirements: held } : undefined;
    const read = await withinResultBudget(context, what, async () => full ?? (await this.queries.execute(new GetCatalogueQuery(catalogue.id))), (c) => this.requirementBytes(catalogue.id, c?.requirements ?? []));
    return read?.requirements ?? [];
  }
}

