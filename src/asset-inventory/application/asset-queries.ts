import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { READ_DB } from '../../platform/platform.module.js';
import type { ReadDb } from '../../projections/read-model-database.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { assetDecider, assetStreamId } from '../domain/asset.decider.js';
import type { AssetState } from '../domain/asset.state.js';
import { AssetRegisterQueries } from '../projections/asset-register.projection.js';

export class GetAssetQuery extends Query<AssetState | null> {
  constructor(readonly id: string, readonly asOf?: Date | null) {
    super();
  }
}

export class ListAssetsQuery extends Query<{ rows: { seq: number; state: AssetState }[]; total: number }> {
  constructor(readonly afterSeq: number | null, readonly limit: number, readonly department?: string | null) {
    super();
  }
}

@QueryHandler(GetAssetQuery)
export class GetAssetHandler implements IQueryHandler<GetAssetQuery, AssetState | null> {
  private readonly queries: AssetRegisterQueries;
  constructor(@Inject(READ_DB) db: ReadDb, private readonly executor: CommandExecutor) {
    this.queries = new AssetRegisterQueries(db);
  }
  async execute({ id, asOf }: GetAssetQuery): Promise<AssetState | null> {
    if (!asOf) return this.queries.byId(id);
    const state = await this.executor.loadAsOf(assetStreamId(id), assetDecider, asOf);
    return state.exists ? state : null;
  }
}

@QueryHandler(ListAssetsQuery)
export class ListAssetsHandler implements IQueryHandler<ListAssetsQuery> {
  private readonly queries: AssetRegisterQueries;
  constructor(@Inject(READ_DB) db: ReadDb) {
    this.queries = new AssetRegisterQueries(db);
  }
  async execute({ afterSeq, limit, department }: ListAssetsQuery) {
    return this.queries.page({ afterSeq, limit, department });
  }
}
