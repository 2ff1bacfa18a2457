import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { StrictDateTime } from '../../graphql/scalars.js';
import { AFTER_DESCRIPTION, AS_OF_DESCRIPTION, AT_POSITION_DESCRIPTION, FIRST_DESCRIPTION, INPUT_ARGUMENT_DESCRIPTION, RESULT_BUDGET_DESCRIPTION } from '../../graphql/descriptions.js';
import { approxJsonBytes, chargeResultBytes, isChargedWithPage, markChargedWithPage, resultBudget, withinResultBudget } from '../../graphql/result-budget.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { decodeSeqCursor, encodeCursor, pageSize, toConnection } from '../../graphql/pagination.js';
import { pointInTime } from '../../shared/application/point-in-time.js';
import {
  IdentifyThreatCommand,
  IdentifyVulnerabilityCommand,
  ReassignAssetManagerCommand,
  RegisterAssetCommand,
  RetireAssetCommand,
} from '../application/asset-commands.js';
import { ASSET_LIMITS } from '../domain/asset.decider.js';
import { GetAssetQuery, ListAssetsQuery } from '../application/asset-queries.js';
import {
  Asset,
  AssetConnection,
  IdentifyThreatInput,
  IdentifyVulnerabilityInput,
  ReassignAssetManagerInput,
  RegisterAssetInput,
  RetireAssetInput,
  Threat,
} from './asset.types.js';

const CURSOR_TAG = 'asset';

/** Thin adapter: arguments to commands and queries, states to GraphQL objects. */
@Resolver(() => Asset)
export class AssetResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Query(() => Asset, {
    nullable: true,
    description:
      "One asset of the inventory (Art. 14(2)), or null when it does not exist (at that point in time); with asOf or atPosition, as it stood then, folded from its stream. Any authenticated role. The asset's whole record (its threats and vulnerabilities, whether asked for or not) is charged to the request's result budget. Errors: UNAUTHENTICATED, BAD_USER_INPUT; QUERY_TOO_COMPLEX once the request's pages, assets and other unpaged lists pass 16 MB.",
  })
  async asset(
    @Context() context: object,
    @Args('id', { type: () => ID, description: 'The asset (Asset.id).' }) id: string,
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    // Read whole, threats included (up to ASSET_TOO_LARGE), whatever is selected: charged for it,
    // so its threats charge nothing again (99 aliases of asset(id) { name } read 99 records uncharged).
    const read = () => this.queries.execute(new GetAssetQuery(id, pointInTime(asOf, atPosition)));
    const state = await withinResultBudget(context, `asset(${id.slice(0, 80)})`, read, (s) => (s ? approxJsonBytes(s) : 0));
    if (state) markChargedWithPage(context, [state]);
    return state;
  }

  @Query(() => AssetConnection, {
    description:
      "The inventory of information assets (Art. 14(2)), active and retired, in registration order; with asOf or atPosition, as it stood then. Any authenticated role. The page's stored assets (threats and vulnerabilities included, whether asked for or not) are charged to the request's result budget. Errors: UNAUTHENTICATED, BAD_USER_INPUT (first, after, asOf, atPosition); QUERY_TOO_COMPLEX when the page's assets pass 16 MB, or once the request's pages, assets and other unpaged lists have (a page is answered whole, and the next read refused).",
  })
  async assets(
    @Context() context: object,
    @Args('first', { type: () => Int, nullable: true, description: FIRST_DESCRIPTION }) first?: number | null,
    @Args('after', { type: () => String, nullable: true, description: AFTER_DESCRIPTION }) after?: string | null,
    @Args('department', { type: () => String, nullable: true, description: 'Only the assets of this department, however it is spelt (compared after Unicode NFKC normalisation, trimming and case folding, as asset names are: OPS, Ops and ｏｐｓ are ops); all departments when omitted.' }) department?: string | null,
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    const limit = pageSize(first);
    const afterSeq = decodeSeqCursor(CURSOR_TAG, after);
    // Each asset is read and parsed whole, threats included, whatever is selected: the page charges
    // its stored assets as a page of risks does (40 aliases of a page of 60 assets of 1,000,000
    // characters, ids only, took 47.8 s uncharged: review of 2026-12-07, H1), and their threats no more.
    const read = () => this.queries.execute(new ListAssetsQuery(afterSeq, limit + 1, department, pointInTime(asOf, atPosition), resultBudget.bytes));
    const { rows, total } = await withinResultBudget(context, 'assets', read, (page) => page.chars, true);
    const connection = toConnection(rows, limit, total, (r) => encodeCursor(CURSOR_TAG, r.seq), (r) => r.state, after);
    markChargedWithPage(context, connection.edges.map((e) => e.node));
    return connection;
  }

  @ResolveField(() => [Threat], { description: `Its threats, in order of identification, each with its vulnerabilities. ${RESULT_BUDGET_DESCRIPTION}` })
  threats(@Parent() asset: Asset, @Context() context: object): Threat[] {
    // No limit on threats per asset nor on vulnerabilities per threat, each with 10,000 characters of
    // text: 60 aliases of an asset of 2,000 threats answered HTTP 500 (RangeError in the answer's
    // JSON) and three at once took the process out of memory (hostile probe of 2026-12-07, F2a).
    // The vulnerabilities come with their threats: charged here, with them.
    // An asset read by asset(id) or in a page of assets was charged whole there: not again.
    if (!isChargedWithPage(context, asset)) chargeResultBytes(context, `threats of asset ${asset.id.slice(0, 80)}`, approxJsonBytes(asset.threats));
    return asset.threats;
  }

  @Mutation(() => Asset, {
    description:
      'Art.14(2): registers an information asset (status ACTIVE, value the highest of its three ratings) and returns it. ASSET_MANAGER (own department) or CISO. Errors: UNAUTHENTICATED; FORBIDDEN (another role, an AUDITOR, or an ASSET_MANAGER of another department); BAD_USER_INPUT (fields); RULE_VIOLATION ASSET_NAME_TAKEN (Art.14(2)); INTEGRITY_BROKEN.',
  })
  registerAsset(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: RegisterAssetInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new RegisterAssetCommand(input, meta));
  }

  @Mutation(() => Asset, {
    description:
      `Art.14(2): records a threat to an active asset and returns the asset. ASSET_MANAGER (own department) or CISO. Errors: UNAUTHENTICATED; FORBIDDEN (another role, an AUDITOR, or an ASSET_MANAGER of another department); BAD_USER_INPUT (fields); NOT_FOUND; CONCURRENCY_CONFLICT; RULE_VIOLATION THREAT_NAME_NOT_UNIQUE, TOO_MANY_THREATS (at most ${ASSET_LIMITS.threats} per asset), ASSET_TOO_LARGE (at most ${ASSET_LIMITS.textCharacters.toLocaleString('en')} characters of threats' and vulnerabilities' names and descriptions per asset) or ASSET_RETIRED (Art.14(2)); INTEGRITY_BROKEN.`,
  })
  identifyThreat(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: IdentifyThreatInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new IdentifyThreatCommand(input, meta));
  }

  @Mutation(() => Asset, {
    description:
      `Art.14(2): records a vulnerability under one threat of an active asset and returns the asset. ASSET_MANAGER (own department) or CISO. Errors: UNAUTHENTICATED; FORBIDDEN (another role, an AUDITOR, or an ASSET_MANAGER of another department); BAD_USER_INPUT (fields); NOT_FOUND; CONCURRENCY_CONFLICT; RULE_VIOLATION VULNERABILITY_NAME_NOT_UNIQUE, TOO_MANY_VULNERABILITIES (at most ${ASSET_LIMITS.vulnerabilities} per asset, its threats together), ASSET_TOO_LARGE (as for identifyThreat) or ASSET_RETIRED (Art.14(2)); INTEGRITY_BROKEN.`,
  })
  identifyVulnerability(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: IdentifyVulnerabilityInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new IdentifyVulnerabilityCommand(input, meta));
  }

  @Mutation(() => Asset, {
    description:
      'Art.9, Art.14(2): names another information manager for an active asset and returns it. ASSET_MANAGER (own department) or CISO. Errors: UNAUTHENTICATED; FORBIDDEN (another role, an AUDITOR, or an ASSET_MANAGER of another department); BAD_USER_INPUT (fields); NOT_FOUND; CONCURRENCY_CONFLICT; RULE_VIOLATION ASSET_RETIRED (Art.14(2)); INTEGRITY_BROKEN.',
  })
  reassignAssetManager(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: ReassignAssetManagerInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new ReassignAssetManagerCommand(input, meta));
  }

  @Mutation(() => Asset, {
    description:
      'Art.14(2): takes an asset out of the inventory (status RETIRED; its name is freed) and returns it; retiring a retired asset again for the same reason changes nothing. ASSET_MANAGER (own department) or CISO. Errors: UNAUTHENTICATED; FORBIDDEN (another role, an AUDITOR, or an ASSET_MANAGER of another department); BAD_USER_INPUT (fields); NOT_FOUND; CONCURRENCY_CONFLICT; RULE_VIOLATION ASSET_RETIRED (retired already for another reason: that retirement stands); INTEGRITY_BROKEN.',
  })
  retireAsset(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: RetireAssetInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new RetireAssetCommand(input, meta));
  }
}
