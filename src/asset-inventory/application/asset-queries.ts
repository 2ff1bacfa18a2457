import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { READ_DB } from '../../projections/read-model-database.js';
import type { ReadDb } from '../../projections/read-model-database.js';
import { AsOfReplayer } from '../../projections/as-of-replay.js';
import type { PointInTime } from '../../shared/application/point-in-time.js';
import { AggregateReader } from '../../shared/application/aggregate-reader.js';
import { assetDecider, assetStreamId } from '../domain/asset.decider.js';
import type { AssetState } from '../domain/asset.state.js';
import { AssetRegisterQueries } from '../projections/asset-register.projection.js';

export class GetAssetQuery extends Query<AssetState | null> {
  constructor(readonly id: string, readonly at?: PointInTime | null) {
    super();
  }
}

export class ListAssetsQuery extends Query<{ rows: { seq: number; state: AssetState }[]; total: number; chars: number }> {
  /** `maxBytes`: a page whose stored assets pass it is refused (QUERY_TOO_COMPLEX) while it is read; `chars`: what its assets' documents held. */
  constructor(readonly afterSeq: number | null, readonly limit: number, readonly department?: string | null, readonly at?: PointInTime | null, readonly maxBytes = Infinity) {
    super();
  }
}

@QueryHandler(GetAssetQuery)
export class GetAssetHandler implements IQueryHandler<GetAssetQuery, AssetState | null> {
  private readonly queries: AssetRegisterQueries;
  constructor(@Inject(READ_DB) db: ReadDb, private readonly aggregates: AggregateReader) {
    this.queries = new AssetRegisterQueries(db);
  }
  async execute({ id, at }: GetAssetQuery): Promise<AssetState | null> {
    if (!at) return this.queries.byId(id);
    // One stream: folding it up to that point is exact.
    const state = await this.aggregates.stateAt(assetStreamId(id), assetDecider, at);
    return state.exists ? state : null;
  }
}

@QueryHandler(ListAssetsQuery)
export class ListAssetsHandler implements IQueryHandler<ListAssetsQuery> {
  constructor(@Inject(READ_DB) private readonly db: ReadDb, private readonly replayer: AsOfReplayer) {}
  async execute({ afterSeq, limit, department, at, maxBytes }: ListAssetsQuery) {
    // The inventory as it stood then: the same projection replayed up to that point.
    const page = (db: ReadDb) => new AssetRegisterQueries(db).page({ afterSeq, limit, department, maxBytes });
    return this.replayer.readAtOrNow(at, this.db, page);
  }
}
