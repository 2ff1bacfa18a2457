import { Inject, Injectable } from '@nestjs/common';
import { assetDecider, assetStreamId } from '../../asset-inventory/domain/asset.decider.js';
import { AsOfReplayer } from '../../projections/as-of-replay.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { READ_DB, type ReadDb } from '../../projections/read-model-database.js';
import { criteriaDecider, criteriaInForce, criteriaStreamId } from '../../risk-criteria/domain/criteria.decider.js';
import { AggregateReader } from '../../shared/application/aggregate-reader.js';
import type { PointInTime } from '../../shared/application/point-in-time.js';
import { sortKey } from '../domain/priority.js';
import { riskDecider } from '../domain/risk.decider.js';
import { riskStreamId } from '../domain/risk.events.js';
import { needsReevaluation } from '../domain/risk.state.js';
import { RiskRegisterQueries, type ListLimit, type RiskRow } from '../projections/risk-register.projection.js';

/**
 * One risk exactly as it stood at a past point, without replaying the register (issue 13/17):
 * the risk's own stream folded from its newest snapshot at or before the point, the criteria in
 * force and its assets then (their streams, the same way) for `needsReevaluation`, and its
 * analyses and reviews from the register's append-only tables, cut at the point (the register
 * is first brought up to the risk's last event then, so nothing the point includes is missing).
 *
 * Only the treatment priority needs the whole register (it is a rank among every risk): it is a
 * function, computed from a replay only when a query selects it.
 */
@Injectable()
export class RiskAtPoint {
  constructor(
    private readonly aggregates: AggregateReader,
    @Inject(READ_DB) private readonly db: ReadDb,
    private readonly projections: ProjectionRunner,
    private readonly replayer: AsOfReplayer,
  ) {}

  async row(id: string, at: PointInTime): Promise<RiskRow | null> {
    const { state, last } = await this.aggregates.loadAt(riskStreamId(id), riskDecider, at);
    if (!state.exists || !last) return null;
    const [criteria, assets] = await Promise.all([
      this.aggregates.stateAt(criteriaStreamId(), criteriaDecider, at),
      Promise.all(state.assetIds.map((assetId) => this.aggregates.stateAt(assetStreamId(assetId), assetDecider, at))),
    ]);
    const inForce = criteriaInForce(criteria);
    const assetsRetired = assets.some((a) => a.exists && a.status === 'RETIRED');
    await this.projections.waitFor(last.position);
    const register = new RiskRegisterQueries(this.db);
    // Its rows up to its last event at the point: the same cut as by position or time, read as a key range.
    const limit: ListLimit = { revision: last.revision };
    return {
      state,
      sortKey: sortKey(state),
      priority: () => this.replayer.read(at, (replayed) => new RiskRegisterQueries(replayed).byId(id)?.priority as number | null) ?? null,
      needsReevaluation: needsReevaluation(state, inForce, assetsRetired),
      assetsRetired,
      analyses: () => register.analyses(id, limit),
      reviews: () => register.reviews(id, limit),
    };
  }
}
