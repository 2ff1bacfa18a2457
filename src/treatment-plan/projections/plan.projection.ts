import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { Projection } from '../../projections/projection.js';
import type { ReadDb } from '../../projections/read-model-database.js';
import { DocumentCache } from '../../projections/document-cache.js';
import { asDomainEvent } from '../../shared/application/aggregate-reader.js';
import { planDecider } from '../domain/plan.decider.js';
import type { PlanEvent } from '../domain/plan.events.js';
import { planStreams, type PlanState } from '../domain/plan.state.js';

/** The plans (Art.19): one row per plan with the aggregate's state, in drafting order. */
export class PlanProjection implements Projection {
  readonly name = 'plans';
  // 2: a resolution's position is its commit's last event (PlanApproved / PlanReturnedToDraft);
  // 3: a resolution carries its id (the id of the event that recorded it);
  // 4: the criteria a plan was submitted under; a plan back in draft has no residual levels.
  readonly schemaVersion = 4;

  setup(db: ReadDb): void {
    db.exec(`CREATE TABLE IF NOT EXISTS plans (id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, status TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL)`);
  }

  reset(db: ReadDb): void {
    this.cache?.discard();
    db.exec('DROP TABLE IF EXISTS plans');
    this.setup(db);
  }

  private cache?: DocumentCache<PlanState>;

  apply(event: RecordedEvent, db: ReadDb): void {
    const id = planStreams.idOf(event.streamId);
    if (id === undefined) return;
    const cache = (this.cache ??= this.createCache(db));
    cache.set(id, planDecider.evolve(cache.get(id) ?? planDecider.initialState, asDomainEvent<PlanEvent>(event)));
  }

  flush(): void {
    this.cache?.flush();
  }

  discard(): void {
    this.cache?.discard();
  }

  private createCache(db: ReadDb): DocumentCache<PlanState> {
    const select = db.prepare('SELECT doc FROM plans WHERE id = ?');
    const update = db.prepare('UPDATE plans SET status = ?, version = ?, doc = ? WHERE id = ?');
    const insert = db.prepare('INSERT INTO plans (status, version, doc, id, seq) VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM plans))');
    return new DocumentCache<PlanState>(
      (id) => {
        const row = select.get(id) as { doc: string } | undefined;
        return row ? JSON.parse(row.doc) : undefined;
      },
      (id, s, isNew) => (isNew ? insert : update).run(s.status, s.version, JSON.stringify(s), id),
    );
  }
}

export class PlanQueries {
  constructor(private readonly db: ReadDb) {}

  byId(id: string): PlanState | null {
    const row = this.db.prepare('SELECT doc FROM plans WHERE id = ?').get(id) as { doc: string } | undefined;
    return row ? JSON.parse(row.doc) : null;
  }

  page(afterSeq: number | null, limit: number): { rows: { seq: number; state: PlanState }[]; total: number } {
    const total = (this.db.prepare('SELECT COUNT(*) AS n FROM plans').get() as { n: number }).n;
    const rows = this.db.prepare('SELECT seq, doc FROM plans WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq ?? 0, limit) as { seq: number; doc: string }[];
    return { total, rows: rows.map((r) => ({ seq: r.seq, state: JSON.parse(r.doc) })) };
  }
}
