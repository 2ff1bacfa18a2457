import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { StrictDateTime } from '../../graphql/scalars.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { BadInputError } from '../../shared/domain/errors.js';
import { decodeCursor, encodeCursor, pageSize, toConnection } from '../../graphql/pagination.js';
import { pointInTime } from '../../shared/application/point-in-time.js';
import {
  IdentifyThreatCommand,
  IdentifyVulnerabilityCommand,
  ReassignAssetManagerCommand,
  RegisterAssetCommand,
  RetireAssetCommand,
} from '../application/asset-commands.js';
import { GetAssetQuery, ListAssetsQuery } from '../application/asset-queries.js';
import {
  Asset,
  AssetConnection,
  IdentifyThreatInput,
  IdentifyVulnerabilityInput,
  ReassignAssetManagerInput,
  RegisterAssetInput,
  RetireAssetInput,
} from './asset.types.js';

const CURSOR_TAG = 'asset';

/** Thin adapter: arguments to commands and queries, states to GraphQL objects. */
@Resolver(() => Asset)
export class AssetResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Query(() => Asset, { nullable: true, description: 'One asset; with asOf, as it stood at that instant (rebuilt from the log).' })
  asset(
    @Args('id', { type: () => ID }) id: string,
    @Args('asOf', { type: () => StrictDateTime, nullable: true }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: 'Alternative to asOf: the state right after this log position.' }) atPosition?: string | null,
  ) {
    return this.queries.execute(new GetAssetQuery(id, pointInTime(asOf, atPosition)));
  }

  @Query(() => AssetConnection, { description: 'The inventory, in registration order; with asOf or atPosition, as it stood then.' })
  async assets(
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
    @Args('department', { type: () => String, nullable: true }) department?: string | null,
    @Args('asOf', { type: () => StrictDateTime, nullable: true }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: 'Alternative to asOf: the state right after this log position.' }) atPosition?: string | null,
  ) {
    const limit = pageSize(first);
    const key = decodeCursor(CURSOR_TAG, after);
    const afterSeq = key === null ? null : Number(key);
    if (afterSeq !== null && !Number.isSafeInteger(afterSeq)) throw new BadInputError({ after: 'is not a cursor of this list' });
    const { rows, total } = await this.queries.execute(new ListAssetsQuery(afterSeq, limit + 1, department, pointInTime(asOf, atPosition)));
    return toConnection(rows, limit, total, (r) => encodeCursor(CURSOR_TAG, r.seq), (r) => r.state, afterSeq !== null);
  }

  @Mutation(() => Asset, { description: 'Art.14(2): registers an information asset. ASSET_MANAGER (own department) or CISO.' })
  registerAsset(@Args('input') input: RegisterAssetInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new RegisterAssetCommand(input, meta));
  }

  @Mutation(() => Asset)
  identifyThreat(@Args('input') input: IdentifyThreatInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new IdentifyThreatCommand(input, meta));
  }

  @Mutation(() => Asset)
  identifyVulnerability(@Args('input') input: IdentifyVulnerabilityInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new IdentifyVulnerabilityCommand(input, meta));
  }

  @Mutation(() => Asset)
  reassignAssetManager(@Args('input') input: ReassignAssetManagerInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new ReassignAssetManagerCommand(input, meta));
  }

  @Mutation(() => Asset)
  retireAsset(@Args('input') input: RetireAssetInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new RetireAssetCommand(input, meta));
  }
}
