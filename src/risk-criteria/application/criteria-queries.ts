import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AsOfReplayer } from '../../projections/as-of-replay.js';
import { READ_DB } from '../../projections/read-model-database.js';
import type { ReadDb } from '../../projections/read-model-database.js';
import type { PointInTime } from '../../shared/application/point-in-time.js';
import type { CriteriaVersionState } from '../domain/criteria.state.js';
import { CriteriaQueries } from '../projections/criteria.projection.js';

/** The version in force (then), or null. */
export class GetCriteriaInForceQuery extends Query<CriteriaVersionState | null> {
  constructor(readonly at?: PointInTime | null) {
    super();
  }
}

/** One version by id, or null. */
export class GetCriteriaVersionQuery extends Query<CriteriaVersionState | null> {
  constructor(readonly id: string) {
    super();
  }
}

/** Every version (recorded by then), newest first. */
export class ListCriteriaVersionsQuery extends Query<CriteriaVersionState[]> {
  constructor(readonly at?: PointInTime | null) {
    super();
  }
}

@QueryHandler(GetCriteriaInForceQuery)
export class GetCriteriaInForceHandler implements IQueryHandler<GetCriteriaInForceQuery, CriteriaVersionState | null> {
  constructor(@Inject(READ_DB) private readonly db: ReadDb, private readonly replayer: AsOfReplayer) {}
  async execute({ at }: GetCriteriaInForceQuery): Promise<CriteriaVersionState | null> {
    // Now, or replayed as of a past point: which criteria were in force on the day an inspector asks about (compliance probe L7).
    return this.replayer.readAtOrNow(at, this.db, (db) => new CriteriaQueries(db).inForce() ?? null);
  }
}

@QueryHandler(GetCriteriaVersionQuery)
export class GetCriteriaVersionHandler implements IQueryHandler<GetCriteriaVersionQuery, CriteriaVersionState | null> {
  private readonly queries: CriteriaQueries;
  constructor(@Inject(READ_DB) db: ReadDb) {
    this.queries = new CriteriaQueries(db);
  }
  async execute({ id }: GetCriteriaVersionQuery): Promise<CriteriaVersionState | null> {
    return this.queries.byId(id) ?? null;
  }
}

@QueryHandler(ListCriteriaVersionsQuery)
export class ListCriteriaVersionsHandler implements IQueryHandler<ListCriteriaVersionsQuery, CriteriaVersionState[]> {
  constructor(@Inject(READ_DB) private readonly db: ReadDb, private readonly replayer: AsOfReplayer) {}
  async execute({ at }: ListCriteriaVersionsQuery): Promise<CriteriaVersionState[]> {
    return this.replayer.readAtOrNow(at, this.db, (db) => new CriteriaQueries(db).all());
  }
}
