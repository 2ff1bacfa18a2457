import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { Projection } from '../../projections/projection.js';
import { preparedOnce, type ReadDb } from '../../projections/read-model-database.js';
import { criteriaDecider, initialCriteriaRegisterState } from '../domain/criteria.decider.js';
import type { CriteriaEvent } from '../domain/criteria.events.js';
import { CRITERIA_STREAM, type CriteriaRegisterState, type CriteriaVersionState } from '../domain/criteria.state.js';

/**
 * The risk-criteria register (Art. 13): one row per numbered criteria version, holding the
 * version's state exactly as the decider's `evolve` makes it. The register stream is folded
 * again from these rows for each event (it is small: a handful of versions).
 */
export class CriteriaProjection implements Projection {
  readonly name = 'risk-criteria';
  readonly schemaVersion = 1;

  setup(db: ReadDb): void {
    db.exec(`CREATE TABLE IF NOT EXISTS risk_criteria (
      id TEXT PRIMARY KEY,
      number INTEGER NOT NULL UNIQUE,
      status TEXT NOT NULL,
      version INTEGER NOT NULL,
      doc TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS risk_criteria_by_status ON risk_criteria (status);`);
  }

  reset(db: ReadDb): void {
    db.exec('DROP TABLE IF EXISTS risk_criteria');
    this.setup(db);
  }

  apply(event: RecordedEvent, db: ReadDb): void {
    if (event.streamId !== CRITERIA_STREAM) return;
    const before = loadRegister(db);
    // The register's version is the stream revision before this event, so evolve stamps the event's own revision.
    const next = criteriaDecider.evolve({ ...before, version: event.revision - 1 }, { type: event.type, data: event.data } as CriteriaEvent);
    const previous = new Map(before.versions.map((v) => [v.id, JSON.stringify(v)]));
    const upsert = preparedOnce(
      db,
      `INSERT INTO risk_criteria (id, number, status, version, doc) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET number = excluded.number, status = excluded.status, version = excluded.version, doc = excluded.doc`,
    );
    for (const v of next.versions) {
      const doc = JSON.stringify(v);
      if (previous.get(v.id) !== doc) upsert.run(v.id, v.number, v.status, v.version, doc);
    }
  }
}

function parseRows(rows: { doc: string }[]): CriteriaVersionState[] {
  return rows.map((r) => JSON.parse(r.doc) as CriteriaVersionState);
}

/** The folded register as the projection holds it (versions in number order). */
function loadRegister(db: ReadDb): CriteriaRegisterState {
  const versions = parseRows(preparedOnce(db, 'SELECT doc FROM risk_criteria ORDER BY number').all() as { doc: string }[]);
  if (versions.length === 0) return initialCriteriaRegisterState;
  const inForce = versions.find((v) => v.status === 'IN_FORCE');
  return {
    version: versions.reduce((max, v) => Math.max(max, v.version), -1),
    versions,
    ...(inForce ? { inForceId: inForce.id } : {}),
  };
}

/**
 * Synchronous queries over the criteria register, for this slice's GraphQL queries and for other
 * slices (the risk register reads the version in force to analyse and evaluate).
 */
export class CriteriaQueries {
  constructor(private readonly db: ReadDb) {}

  /** The version in force, if any (exactly one once the first version has been approved). */
  inForce(): CriteriaVersionState | undefined {
    const row = this.db.prepare("SELECT doc FROM risk_criteria WHERE status = 'IN_FORCE' ORDER BY number DESC LIMIT 1").get() as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as CriteriaVersionState) : undefined;
  }

  byId(id: string): CriteriaVersionState | undefined {
    const row = this.db.prepare('SELECT doc FROM risk_criteria WHERE id = ?').get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as CriteriaVersionState) : undefined;
  }

  byNumber(number: number): CriteriaVersionState | undefined {
    const row = this.db.prepare('SELECT doc FROM risk_criteria WHERE number = ?').get(number) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as CriteriaVersionState) : undefined;
  }

  /** Every version, newest (highest number) first. */
  all(): CriteriaVersionState[] {
    return parseRows(this.db.prepare('SELECT doc FROM risk_criteria ORDER BY number DESC').all() as { doc: string }[]);
  }

  /** The whole register, folded (versions in number order), as the decider sees it. */
  register(): CriteriaRegisterState {
    return loadRegister(this.db);
  }
}
