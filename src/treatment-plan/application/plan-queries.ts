import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { READ_DB } from '../../projections/read-model-database.js';
import type { ReadDb } from '../../projections/read-model-database.js';
import type { PointInTime } from '../../shared/application/point-in-time.js';
import { AggregateReader } from '../../shared/application/aggregate-reader.js';
import { planDecider } from '../domain/plan.decider.js';
import { planStreamId, type PlanState } from '../domain/plan.state.js';
import { PlanQueries } from '../projections/plan.projection.js';

export class GetPlanQuery extends Query<PlanState | null> {
  constructor(readonly id: string, readonly at?: PointInTime | null) {
    super();
  }
}
export class ListPlansQuery extends Query<{ rows: { seq: number; state: PlanState }[]; total: number }> {
  constructor(readonly afterSeq: number | null, readonly limit: number) {
    super();
  }
}

@QueryHandler(GetPlanQuery)
export class GetPlanHandler implements IQueryHandler<GetPlanQuery, PlanState | null> {
  private readonly plans: PlanQueries;
  constructor(@Inject(READ_DB) db: ReadDb, private readonly aggregates: AggregateReader) {
    this.plans = new PlanQueries(db);
  }
  async execute({ id, at }: GetPlanQuery) {
    if (!at) return this.plans.byId(id);
    // A plan is one stream: folding it up to the instant is exact.
    const state = await this.aggregates.stateAt(planStreamId(id), planDecider, at);
    return state.exists ? state : null;
  }
}

@QueryHandler(ListPlansQuery)
export class ListPlansHandler implements IQueryHandler<ListPlansQuery> {
  private readonly plans: PlanQueries;
  constructor(@Inject(READ_DB) db: ReadDb) {
    this.plans = new PlanQueries(db);
  }
  async execute({ afterSeq, limit }: ListPlansQuery) {
    return this.plans.page(afterSeq, limit);
  }
}
