import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { Projection } from '../../projections/projection.js';
import { preparedOnce, type ReadDb } from '../../projections/read-model-database.js';
import { PageBudget } from '../../projections/page-budget.js';
import { DocumentCache } from '../../projections/document-cache.js';
import { nameKey } from '../../shared/domain/name-key.js';
import { departmentKey } from '../domain/asset-name.decider.js';
import { assetDecider, assetStreams } from '../domain/asset.decider.js';
import type { AssetEvent } from '../domain/asset.events.js';
import type { AssetState } from '../domain/asset.state.js';

/**
 * The information-asset inventory (Art. 14(2)): one row per asset holding the aggregate's state
 * as `evolve` makes it, plus the columns lists are filtered and ordered by.
 */
export class AssetRegisterProjection implements Projection {
  readonly name = 'asset-register';
  // 2: lists filter on the department's key (departmentKey), not its spelling: `OPS` and `ops` are one department.
  readonly schemaVersion = 2;

  setup(db: ReadDb): void {
    db.exec(`CREATE TABLE IF NOT EXISTS assets (
      id TEXT PRIMARY KEY,
      seq INTEGER NOT NULL UNIQUE,
      department_key TEXT NOT NULL,
      name_key TEXT NOT NULL,
      status TEXT NOT NULL,
      value INTEGER NOT NULL,
      version INTEGER NOT NULL,
      doc TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS assets_by_department ON assets (department_key, seq);
    DROP INDEX IF EXISTS assets_by_name;`);
    // assets_by_name served a name check that reads the reservation streams since e6c417a; no
    // query reads name_key by it, and it cost every registration a page of the commit.
  }

  reset(db: ReadDb): void {
    this.cache?.discard();
    db.exec('DROP TABLE IF EXISTS assets');
    this.setup(db);
  }

  private cache?: DocumentCache<AssetState>;

  apply(event: RecordedEvent, db: ReadDb): void {
    const id = assetStreams.idOf(event.streamId);
    if (id === undefined) return;
    const cache = (this.cache ??= this.createCache(db));
    // The first event of its stream: there is no row to read (set() then inserts one, which would
    // fail loudly were there one).
    const current = event.revision === 0 ? undefined : cache.get(id);
    cache.set(id, assetDecider.evolve(current ?? assetDecider.initialState, { type: event.type, data: event.data } as AssetEvent));
  }

  flush(): void {
    this.cache?.flush();
  }

  flushUntil(_db: ReadDb, deadline: number): boolean {
    return this.cache?.flushUntil(deadline) ?? true;
  }

  discard(): void {
    this.cache?.discard();
  }

  private createCache(db: ReadDb): DocumentCache<AssetState> {
    const select = db.prepare('SELECT doc FROM assets WHERE id = ?');
    const update = db.prepare('UPDATE assets SET department_key = ?, name_key = ?, status = ?, value = ?, version = ?, doc = ? WHERE id = ?');
    const insert = db.prepare('INSERT INTO assets (id, seq, department_key, name_key, status, value, version, doc) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM assets), ?, ?, ?, ?, ?, ?)');
    return new DocumentCache<AssetState>(
      (id) => {
        const row = select.get(id) as { doc: string } | undefined;
        return row ? JSON.parse(row.doc) : undefined;
      },
      (id, s, isNew) => {
        if (isNew) insert.run(id, departmentKey(s.department), nameKey(s.name), s.status, s.value, s.version, JSON.stringify(s));
        else update.run(departmentKey(s.department), nameKey(s.name), s.status, s.value, s.version, JSON.stringify(s), id);
      },
    );
  }
}

/** What a document names an asset by. */
export type AssetLabel = Pick<AssetState, 'id' | 'name' | 'status' | 'retiredAt'>;

/** Queries over the asset read model. */
export class AssetRegisterQueries {
  constructor(private readonly db: ReadDb) {}

  byId(id: string): AssetState | null {
    const row = this.db.prepare('SELECT doc FROM assets WHERE id = ?').get(id) as { doc: string } | undefined;
    return row ? JSON.parse(row.doc) : null;
  }

  /**
   * What a document names an asset by (its name, whether and when it was retired), read by SQLite
   * from the stored document without parsing it here: an asset may hold 1,000,000 characters of
   * threats, and a register row naming 500 such assets read and parsed each whole for its name
   * (review of 2026-12-07, M2: a 2.5 KB CSV held the event loop ~1.4 s).
   */
  label(id: string): AssetLabel | null {
    const row = preparedOnce(this.db, "SELECT doc ->> '$.name' AS name, doc ->> '$.status' AS status, doc ->> '$.retiredAt' AS retiredAt FROM assets WHERE id = ?").get(id) as
      | { name: string; status: AssetState['status']; retiredAt: string | null }
      | undefined;
    return row ? { id, name: row.name, status: row.status, ...(row.retiredAt === null ? {} : { retiredAt: row.retiredAt }) } : null;
  }

  /** The names of one threat of an asset and of one of its vulnerabilities (each absent when the asset has none of that id), read as label() reads. */
  threatNames(assetId: string, threatId: string, vulnerabilityId: string | undefined): { threat?: string; vulnerability?: string } {
    const row = preparedOnce(
      this.db,
      `SELECT t.value ->> '$.name' AS threat,
              (SELECT v.value ->> '$.name' FROM json_each(t.value, '$.vulnerabilities') v WHERE v.value ->> '$.id' = @vulnerabilityId) AS vulnerability
         FROM assets a, json_each(a.doc, '$.threats') t
        WHERE a.id = @assetId AND t.value ->> '$.id' = @threatId`,
    ).get({ assetId, threatId, vulnerabilityId: vulnerabilityId ?? null }) as { threat: string | null; vulnerability: string | null } | undefined;
    return { ...(row?.threat != null ? { threat: row.threat } : {}), ...(row?.vulnerability != null ? { vulnerability: row.vulnerability } : {}) };
  }

  byIds(ids: string[]): AssetState[] {
    return ids.map((id) => this.byId(id)).filter((a): a is AssetState => a !== null);
  }

  /**
   * A page of the inventory in registration order; with a department, the assets of every spelling
   * of it (departmentKey). Its stored documents are counted as they are read (`chars`, whatever
   * fields are asked for) and the page is refused (QUERY_TOO_COMPLEX) once they pass `maxBytes`,
   * before the rest are read or any parsed (PageBudget, as a page of risks): an asset may hold
   * 1,000,000 characters of threats, and 40 aliases of a page of 60 such assets selecting only
   * their ids read ~1.2 GB uncharged, in 47.8 s (review of 2026-12-07, H1).
   */
  page(options: { afterSeq: number | null; limit: number; department?: string | null; maxBytes?: number }): { rows: { seq: number; state: AssetState }[]; total: number; chars: number } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (options.department) {
      where.push('department_key = ?');
      args.push(departmentKey(options.department));
    }
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM assets ${where.length ? 'WHERE ' + where.join(' AND ') : ''}`).get(...args) as { n: number }).n;
    if (options.afterSeq !== null) {
      where.push('seq > ?');
      args.push(options.afterSeq);
    }
    const keys = this.db
      .prepare(`SELECT seq, id FROM assets ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq LIMIT ?`)
      .all(...args, options.limit) as { seq: number; id: string }[];
    const budget = new PageBudget(options.maxBytes ?? Infinity, { entities: 'assets', of: keys.length, advice: 'ask for a smaller page (first)' });
    const doc = preparedOnce(this.db, 'SELECT doc FROM assets WHERE id = ?', 'pluck');
    const docs = keys.map((k, i) => budget.read(doc.get(k.id) as string, i));
    return { rows: keys.map((k, i) => ({ seq: k.seq, state: JSON.parse(docs[i]!) as AssetState })), total, chars: budget.chars };
  }
}
