import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { Projection } from '../../projections/projection.js';
import { preparedOnce, type ReadDb } from '../../projections/read-model-database.js';
import { incidentDecider } from '../domain/incident.decider.js';
import type { IncidentEvent } from '../domain/incident.events.js';
import { incidentStreams, type IncidentState } from '../domain/incident.state.js';

/**
 * Incidents at other firms (Art.15(3)): one row per incident (its state as `evolve` makes it), in
 * recording order, and one row per current link to a risk, in linking order (Risk.incidents).
 */
export class IncidentProjection implements Projection {
  readonly name = 'incidents';
  // 2: the incident's doc keeps the last unlink of each risk (2026-12-06).
  readonly schemaVersion = 2;

  setup(db: ReadDb): void {
    db.exec(`CREATE TABLE IF NOT EXISTS incidents (id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, doc TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS incident_links (incident_id TEXT NOT NULL, risk_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (incident_id, risk_id));
      CREATE INDEX IF NOT EXISTS incident_links_by_risk ON incident_links (risk_id, seq);`);
  }

  reset(db: ReadDb): void {
    db.exec('DROP TABLE IF EXISTS incidents; DROP TABLE IF EXISTS incident_links;');
    this.setup(db);
  }

  apply(event: RecordedEvent, db: ReadDb): void {
    const id = incidentStreams.idOf(event.streamId);
    if (id === undefined) return;
    const row = preparedOnce(db, 'SELECT doc FROM incidents WHERE id = ?').get(id) as { doc: string } | undefined;
    const domain = { type: event.type, data: event.data } as IncidentEvent;
    const next = incidentDecider.evolve(row ? (JSON.parse(row.doc) as IncidentState) : incidentDecider.initialState, domain);
    if (row) preparedOnce(db, 'UPDATE incidents SET doc = ? WHERE id = ?').run(JSON.stringify(next), id);
    else preparedOnce(db, 'INSERT INTO incidents (id, seq, doc) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM incidents), ?)').run(id, JSON.stringify(next));
    if (domain.type === 'IncidentLinkedToRisk') {
      preparedOnce(db, 'INSERT OR IGNORE INTO incident_links (incident_id, risk_id, seq) VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM incident_links))').run(id, domain.data.riskId);
    } else if (domain.type === 'IncidentUnlinkedFromRisk') {
      preparedOnce(db, 'DELETE FROM incident_links WHERE incident_id = ? AND risk_id = ?').run(id, domain.data.riskId);
    }
  }
}

/** Synchronous queries over the incidents read model (now, or a replay of it as of a past point). */
export class IncidentQueries {
  constructor(private readonly db: ReadDb) {}

  byId(id: string): IncidentState | null {
    const row = this.db.prepare('SELECT doc FROM incidents WHERE id = ?').get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as IncidentState) : null;
  }

  /** The incidents among `ids` that exist, in the order asked. */
  byIds(ids: readonly string[]): IncidentState[] {
    return ids.map((id) => this.byId(id)).filter((s): s is IncidentState => s !== null);
  }

  /** A page in recording order, after the incident with sequence `afterSeq`. */
  page(afterSeq: number | null, limit: number): { rows: { seq: number; state: IncidentState }[]; total: number } {
    const total = (this.db.prepare('SELECT COUNT(*) AS n FROM incidents').get() as { n: number }).n;
    const rows = this.db.prepare('SELECT seq, doc FROM incidents WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq ?? 0, limit) as { seq: number; doc: string }[];
    return { total, rows: rows.map((r) => ({ seq: r.seq, state: JSON.parse(r.doc) as IncidentState })) };
  }

  /** The incidents linked to a risk, in the order they were linked. */
  forRisk(riskId: string): IncidentState[] {
    const rows = this.db
      .prepare('SELECT i.doc FROM incident_links l JOIN incidents i ON i.id = l.incident_id WHERE l.risk_id = ? ORDER BY l.seq')
      .all(riskId) as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as IncidentState);
  }
}
