import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { READ_DB } from '../../projections/read-model-database.js';
import type { ReadDb } from '../../projections/read-model-database.js';
import type { BaselineCatalogueState } from '../domain/catalogue.state.js';
import { CatalogueQueries, type CatalogueListing } from '../projections/catalogue.projection.js';

/** One catalogue (built-in or imported) by id, or null. */
export class GetCatalogueQuery extends Query<BaselineCatalogueState | null> {
  constructor(readonly id: string) {
    super();
  }
}

/** The built-in catalogue, then every imported one in import order, without the imported ones' requirements. */
export class ListCataloguesQuery extends Query<CatalogueListing[]> {}

@QueryHandler(GetCatalogueQuery)
export class GetCatalogueHandler implements IQueryHandler<GetCatalogueQuery, BaselineCatalogueState | null> {
  private readonly queries: CatalogueQueries;
  constructor(@Inject(READ_DB) db: ReadDb) {
    this.queries = new CatalogueQueries(db);
  }
  async execute({ id }: GetCatalogueQuery): Promise<BaselineCatalogueState | null> {
    return this.queries.byId(id) ?? null;
  }
}

@QueryHandler(ListCataloguesQuery)
export class ListCataloguesHandler implements IQueryHandler<ListCataloguesQuery, CatalogueListing[]> {
  private readonly queries: CatalogueQueries;
  constructor(@Inject(READ_DB) db: ReadDb) {
    this.queries = new CatalogueQueries(db);
  }
  async execute(): Promise<CatalogueListing[]> {
    return this.queries.listings();
  }
}
