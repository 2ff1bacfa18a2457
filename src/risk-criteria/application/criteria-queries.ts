import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { READ_DB } from '../../projections/read-model-database.js';
import type { ReadDb } from '../../projections/read-model-database.js';
import type { CriteriaVersionState } from '../domain/criteria.state.js';
import { CriteriaQueries } from '../projections/criteria.projection.js';

/** The version in force, or null. */
export class GetCriteriaInForceQuery extends Query<CriteriaVersionState | null> {}

/** One version by id, or null. */
export class GetCriteriaVersionQuery extends Query<CriteriaVersionState | null> {
  constructor(readonly id: string) {
    super();
  }
}

/** Every version, newest first. */
export class ListCriteriaVersionsQuery extends Query<CriteriaVersionState[]> {}

@QueryHandler(GetCriteriaInForceQuery)
export class GetCriteriaInForceHandler implements IQueryHandler<GetCriteriaInForceQuery, CriteriaVersionState | null> {
  private readonly queries: CriteriaQueries;
  constructor(@Inject(READ_DB) db: ReadDb) {
    this.queries = new CriteriaQueries(db);
  }
  async execute(): Promise<CriteriaVersionState | null> {
    return this.queries.inForce() ?? null;
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
  private readonly queries: CriteriaQueries;
  constructor(@Inject(READ_DB) db: ReadDb) {
    this.queries = new CriteriaQueries(db);
  }
  async execute(): Promise<CriteriaVersionState[]> {
    return this.queries.all();
  }
}
