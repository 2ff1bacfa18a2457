import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AsOfReplayer } from '../../projections/as-of-replay.js';
import { READ_DB, type ReadDb } from '../../projections/read-model-database.js';
import type { PointInTime } from '../../shared/application/point-in-time.js';
import type { IncidentState } from '../domain/incident.state.js';
import { IncidentQueries } from '../projections/incident.projection.js';

/** Runs `query` on the incidents read model now, or replayed as of a past point (the same replay the register's asOf uses). */
function incidentsAt<T>(db: ReadDb, replayer: AsOfReplayer, at: PointInTime | null | undefined, query: (incidents: IncidentQueries) => T): Promise<T> {
  return replayer.readAtOrNow(at, db, (readDb) => query(new IncidentQueries(readDb)));
}

export class GetIncidentQuery extends Query<IncidentState | null> {
  constructor(readonly id: string, readonly at?: PointInTime | null) {
    super();
  }
}

export class ListIncidentsQuery extends Query<{ rows: { seq: number; state: IncidentState }[]; total: number }> {
  constructor(readonly afterSeq: number | null, readonly limit: number, readonly at?: PointInTime | null) {
    super();
  }
}

/** The incidents linked to a risk (Risk.incidents), now or at a past point. */
export class RiskIncidentsQuery extends Query<IncidentState[]> {
  constructor(readonly riskId: string, readonly at?: PointInTime | null) {
    super();
  }
}

/** The incidents among some ids (those an analysis cites), in the order given. */
export class IncidentsByIdsQuery extends Query<IncidentState[]> {
  constructor(readonly ids: readonly string[], readonly at?: PointInTime | null) {
    super();
  }
}

@QueryHandler(GetIncidentQuery)
export class GetIncidentHandler implements IQueryHandler<GetIncidentQuery, IncidentState | null> {
  constructor(@Inject(READ_DB) private readonly db: ReadDb, private readonly replayer: AsOfReplayer) {}
  execute({ id, at }: GetIncidentQuery) {
    return incidentsAt(this.db, this.replayer, at, (q) => q.byId(id));
  }
}

@QueryHandler(ListIncidentsQuery)
export class ListIncidentsHandler implements IQueryHandler<ListIncidentsQuery> {
  constructor(@Inject(READ_DB) private readonly db: ReadDb, private readonly replayer: AsOfReplayer) {}
  execute({ afterSeq, limit, at }: ListIncidentsQuery) {
    return incidentsAt(this.db, this.replayer, at, (q) => q.page(afterSeq, limit));
  }
}

@QueryHandler(RiskIncidentsQuery)
export class RiskIncidentsHandler implements IQueryHandler<RiskIncidentsQuery, IncidentState[]> {
  constructor(@Inject(READ_DB) private readonly db: ReadDb, private readonly replayer: AsOfReplayer) {}
  execute({ riskId, at }: RiskIncidentsQuery) {
    return incidentsAt(this.db, this.replayer, at, (q) => q.forRisk(riskId));
  }
}

@QueryHandler(IncidentsByIdsQuery)
export class IncidentsByIdsHandler implements IQueryHandler<IncidentsByIdsQuery, IncidentState[]> {
  constructor(@Inject(READ_DB) private readonly db: ReadDb, private readonly replayer: AsOfReplayer) {}
  execute({ ids, at }: IncidentsByIdsQuery) {
    return incidentsAt(this.db, this.replayer, at, (q) => q.byIds(ids));
  }
}

export const INCIDENT_QUERY_HANDLERS = [GetIncidentHandler, ListIncidentsHandler, RiskIncidentsHandler, IncidentsByIdsHandler];
