import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { READ_DB } from '../../projections/read-model-database.js';
import { AsOfReplayer, type ReplayHead } from '../../projections/as-of-replay.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { lookAheadPoint, type PointInTime } from '../../shared/application/point-in-time.js';
import type { ReadDb } from '../../projections/read-model-database.js';
import { levelFor } from '../../risk-criteria/domain/scoring.js';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { RiskAtPoint } from './risk-at-point.js';
import { risksDueForReview, type ReviewDue } from './review-schedule.js';
import { RiskRegisterQueries, type CriteriaInForceRow, type RegisterLists, type RiskFilterValues, type RiskRow } from '../projections/risk-register.projection.js';

/**
 * Where a register replayed up to `head` reads its risks' analyses and reviews: the live tables,
 * cut at the head, once the live projections have applied it (they are a replay's history).
 */
export async function registerListsAt(db: ReadDb, projections: ProjectionRunner, head: ReplayHead | null): Promise<RegisterLists> {
  if (head) await projections.waitFor(head.position);
  return { db, upTo: head?.position ?? null };
}

/**
 * Runs `query` on the register's read model now, or replayed as of a past point (held meanwhile;
 * a row's lists are read from the live tables, cut at the replay's head, when a field asks).
 */
async function registerAt<T>(db: ReadDb, replayer: AsOfReplayer, projections: ProjectionRunner, at: PointInTime | null | undefined, query: (register: RiskRegisterQueries) => T): Promise<T> {
  if (!at) return query(new RiskRegisterQueries(db));
  return replayer.readWithHead(at, async (replayed, head) => query(new RiskRegisterQueries(replayed, { lists: await registerListsAt(db, projections, head) })));
}

export class GetRiskQuery extends Query<RiskRow | null> {
  constructor(readonly id: string, readonly at?: PointInTime | null) {
    super();
  }
}

export class ListRisksQuery extends Query<{ rows: RiskRow[]; total: number; chars: number }> {
  /** `maxBytes`: a page whose stored risks pass it is refused (QUERY_TOO_COMPLEX) while it is read; `chars`: what its risks' documents held. */
  constructor(readonly filter: RiskFilterValues, readonly afterKey: string | null, readonly limit: number, readonly at?: PointInTime | null, readonly maxBytes = Infinity) {
    super();
  }
}

export interface HeatMapView {
  criteriaNumber: number | null;
  likelihoodLevels: string[];
  impactLevels: string[];
  cells: { likelihood: number; impact: number; likelihoodLabel: string; impactLabel: string; level: string; count: number }[];
  levels: { level: string; count: number }[];
  total: number;
  /** Open analysed risks in no cell: their likelihood or impact lie beyond the scales of the criteria in force. */
  unplaced: number;
  /** Of those counted, the risks whose recorded level is not their cell's (analysed under earlier criteria). */
  levelDiffers: number;
}

export class HeatMapQuery extends Query<HeatMapView> {
  constructor(readonly at?: PointInTime | null) {
    super();
  }
}

@QueryHandler(GetRiskQuery)
export class GetRiskHandler implements IQueryHandler<GetRiskQuery, RiskRow | null> {
  constructor(@Inject(READ_DB) private readonly db: ReadDb, private readonly atPoint: RiskAtPoint) {}
  async execute({ id, at }: GetRiskQuery) {
    // A past point folds this risk's own stream (from a snapshot), not the whole register.
    return at ? this.atPoint.row(id, at) : new RiskRegisterQueries(this.db).byId(id);
  }
}

@QueryHandler(ListRisksQuery)
export class ListRisksHandler implements IQueryHandler<ListRisksQuery> {
  constructor(@Inject(READ_DB) private readonly db: ReadDb, private readonly replayer: AsOfReplayer, private readonly projections: ProjectionRunner) {}
  async execute({ filter, afterKey, limit, at, maxBytes }: ListRisksQuery) {
    return registerAt(this.db, this.replayer, this.projections, at, (register) => register.page(filter, afterKey, limit, undefined, maxBytes));
  }
}

@QueryHandler(HeatMapQuery)
export class HeatMapHandler implements IQueryHandler<HeatMapQuery, HeatMapView> {
  constructor(@Inject(READ_DB) private readonly db: ReadDb, private readonly replayer: AsOfReplayer, private readonly projections: ProjectionRunner) {}
  async execute({ at }: HeatMapQuery): Promise<HeatMapView> {
    const { criteria, cells, unplaced, levelDiffers } = await registerAt(this.db, this.replayer, this.projections, at, (register) => register.heatMap());
    return heatMapView(criteria, cells, { unplaced, levelDiffers });
  }
}

/** Every cell of the matrix of the criteria in force, with its count, and the totals per level. */
export function heatMapView(criteria: CriteriaInForceRow | undefined, counts: Map<string, number>, apart: Pick<HeatMapView, 'unplaced' | 'levelDiffers'> = { unplaced: 0, levelDiffers: 0 }): HeatMapView {
  if (!criteria) return { criteriaNumber: null, likelihoodLevels: [], impactLevels: [], cells: [], levels: [], total: 0, unplaced: 0, levelDiffers: 0 };
  const def = criteria.definition;
  const cells: HeatMapView['cells'] = [];
  const perLevel = new Map(def.riskLevels.map((l) => [l, 0]));
  def.likelihoodLevels.forEach((likelihoodLabel, li) =>
    def.impactLevels.forEach((impactLabel, ii) => {
      const count = counts.get(`${li + 1}:${ii + 1}`) ?? 0;
      const level = levelFor(def, li + 1, ii + 1);
      cells.push({ likelihood: li + 1, impact: ii + 1, likelihoodLabel, impactLabel, level, count });
      perLevel.set(level, (perLevel.get(level) ?? 0) + count);
    }),
  );
  return {
    criteriaNumber: criteria.number,
    likelihoodLevels: def.likelihoodLevels,
    impactLevels: def.impactLevels,
    cells,
    levels: [...perLevel].map(([level, count]) => ({ level, count })),
    total: cells.reduce((n, c) => n + c.count, 0),
    ...apart,
  };
}

/** Risks due for review on a date (default now); a past date reads the register as it stood then. */
export class ReviewsDueQuery extends Query<(ReviewDue & { lists: Pick<RiskRow, 'analyses' | 'reviews'> })[]> {
  constructor(readonly asOf: Date | null) {
    super();
  }
}

@QueryHandler(ReviewsDueQuery)
export class ReviewsDueHandler implements IQueryHandler<ReviewsDueQuery> {
  constructor(@Inject(READ_DB) private readonly db: ReadDb, private readonly replayer: AsOfReplayer, private readonly projections: ProjectionRunner, @Inject(CLOCK) private readonly clock: Clock) {}
  async execute({ asOf }: ReviewsDueQuery) {
    const now = this.clock.now();
    const on = asOf ?? now;
    return registerAt(this.db, this.replayer, this.projections, lookAheadPoint(asOf, now.getTime()), async (register) =>
      risksDueForReview(await register.allStates(), register.criteriaInForce()?.definition, on).map((d) => ({ ...d, lists: register.lists(d.risk.id) })),
    );
  }
}
