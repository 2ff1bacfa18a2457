import { closedCycleOf, type ClosedCycle } from './closed-cycles.js';
import { supersessionOf, type Supersession } from './superseded.js';
import { assetStreams } from '../../asset-inventory/domain/asset.decider.js';
import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { Projection, ProjectionOptions } from '../../projections/projection.js';
import { preparedOnce, type ReadDb } from '../../projections/read-model-database.js';
import { DocumentCache } from '../../projections/document-cache.js';
import { eachInTurnsBySize } from '../../shared/application/turns.js';
import { PageBudget } from '../../projections/page-budget.js';
import type { CriteriaDefinition } from '../../risk-criteria/domain/criteria.state.js';
import { levelFor } from '../../risk-criteria/domain/scoring.js';
import { isPrioritised, sortKey } from '../domain/priority.js';
import { riskDecider } from '../domain/risk.decider.js';
import { riskStreams, type RiskEvent } from '../domain/risk.events.js';
import { needsReevaluation, type CriteriaInForceView, type RiskAnalysis, type RiskReview, type RiskState, type RiskStatus } from '../domain/risk.state.js';

/**
 * The risk register: one row per risk with the aggregate's state as `evolve` makes it, plus the
 * columns that filters and the priority order (domain/priority.ts) need. It also
 * follows the criteria in force (for needsReevaluation and the heat map) and the retired assets
 * (a risk whose asset left the inventory is flagged), so it depends on no other read model.
 *
 * A risk's analyses and reviews are rows of their own (append-only, with the position and time
 * of their event), not part of the risk's document: an event rewrites one small document and
 * adds at most one row, however long the risk's history (issue 17). Their position columns let
 * a single risk's past be read without replaying the register (risk-at-point.ts).
 */
export class RiskRegisterProjection implements Projection {
  readonly name = 'risk-register';
  // 8: a risk keeps its last board submission (the level a consent request recorded without one falls back to). 9: needsReevaluation places the residual level on the matrix in force (a stored flag may have judged the label).
  // 10: a risk's cycle summaries keep the assets DETAILED assessed (the required-method check per asset).
  // 11: the cycles a review closed keep their treatment and controls (risk_cycles, the Art.18(2) record).
  // 12: a risk's board submission keeps fingerprints of its treatment and controls (PLAN_CONTENT_NOT_APPROVED).
  // 13: the controls and treatments a later decision of the cycle superseded are kept (risk_superseded), closed cycles' controls their evidence (the Art.18(2) record).
  // 14: needsReevaluation flags a risk analysed beyond the scales of the criteria in force (analysisBeyondScales), treated or not.
  // 15: an acceptance's statement is kept in the risk's consent (an acceptance sent again with other words is refused).
  readonly schemaVersion = 16; // 16: a risk's board submission keeps when it was submitted (an asset retired since is not accepted, ASSET_RETIRED).
  /** A risk's analyses, reviews, closed cycles and superseded decisions: a replay reads the live ones, cut at its head (RegisterLists). */
  readonly historyTables = ['risk_analyses', 'risk_reviews', 'risk_cycles', 'risk_superseded'] as const;

  constructor(private readonly options: ProjectionOptions = {}) {}

  setup(db: ReadDb): void {
    db.exec(`CREATE TABLE IF NOT EXISTS risks (
      id TEXT PRIMARY KEY,
      seq INTEGER NOT NULL UNIQUE,
      status TEXT NOT NULL,
      owner_id TEXT NOT NULL,
      level TEXT,
      likelihood INTEGER,
      impact INTEGER,
      eval_criteria_number INTEGER,
      prioritised INTEGER NOT NULL,
      sort_key TEXT NOT NULL,
      needs_reevaluation INTEGER NOT NULL DEFAULT 0,
      assets_retired INTEGER NOT NULL DEFAULT 0,
      version INTEGER NOT NULL,
      doc TEXT NOT NULL
    );
    DROP INDEX IF EXISTS risks_by_sort; -- the order alone, before risks_register_order (which begins with it)
    -- The register's order with every filter column and the id: pages, counts and ranks are read
    -- from it alone (a risk's row holds its whole document: scanning the table to count 15,000
    -- risks took 35 ms, this index 1 ms). Queries name it (INDEXED BY): SQLite's planner
    -- preferred the table even after ANALYZE. Created at start on an existing read model too.
    CREATE INDEX IF NOT EXISTS risks_register_order ON risks (sort_key, prioritised, status, owner_id, level, needs_reevaluation, assets_retired, id);
    CREATE TABLE IF NOT EXISTS risk_assets (risk_id TEXT NOT NULL, asset_id TEXT NOT NULL, PRIMARY KEY (risk_id, asset_id));
    CREATE INDEX IF NOT EXISTS risk_assets_by_asset ON risk_assets (asset_id);
    CREATE TABLE IF NOT EXISTS risk_register_criteria (number INTEGER PRIMARY KEY, criteria_id TEXT NOT NULL, definition TEXT NOT NULL, in_force INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS risk_register_retired_assets (asset_id TEXT PRIMARY KEY);
    CREATE TABLE IF NOT EXISTS risk_analyses (risk_id TEXT NOT NULL, revision INTEGER NOT NULL, position TEXT NOT NULL, recorded_at TEXT NOT NULL, doc TEXT NOT NULL);
    CREATE UNIQUE INDEX IF NOT EXISTS risk_analyses_by_risk ON risk_analyses (risk_id, revision);
    CREATE TABLE IF NOT EXISTS risk_reviews (risk_id TEXT NOT NULL, revision INTEGER NOT NULL, position TEXT NOT NULL, recorded_at TEXT NOT NULL, doc TEXT NOT NULL);
    CREATE UNIQUE INDEX IF NOT EXISTS risk_reviews_by_risk ON risk_reviews (risk_id, revision);
    CREATE TABLE IF NOT EXISTS risk_cycles (risk_id TEXT NOT NULL, revision INTEGER NOT NULL, position TEXT NOT NULL, recorded_at TEXT NOT NULL, doc TEXT NOT NULL);
    CREATE UNIQUE INDEX IF NOT EXISTS risk_cycles_by_risk ON risk_cycles (risk_id, revision);
    CREATE TABLE IF NOT EXISTS risk_superseded (risk_id TEXT NOT NULL, revision INTEGER NOT NULL, position TEXT NOT NULL, recorded_at TEXT NOT NULL, doc TEXT NOT NULL);
    CREATE UNIQUE INDEX IF NOT EXISTS risk_superseded_by_risk ON risk_superseded (risk_id, revision);`);
  }

  reset(db: ReadDb): void {
    this.cache?.discard();
    db.exec('DROP TABLE IF EXISTS risks; DROP TABLE IF EXISTS risk_assets; DROP TABLE IF EXISTS risk_register_criteria; DROP TABLE IF EXISTS risk_register_retired_assets; DROP TABLE IF EXISTS risk_analyses; DROP TABLE IF EXISTS risk_reviews; DROP TABLE IF EXISTS risk_cycles; DROP TABLE IF EXISTS risk_superseded;');
    this.setup(db);
  }

  apply(event: RecordedEvent, db: ReadDb): void {
    switch (event.type) {
      case 'RiskCriteriaProposed': {
        const { criteriaId, number, ...rest } = event.data as { criteriaId: string; number: number } & Record<string, unknown>;
        preparedOnce(db, 'INSERT OR REPLACE INTO risk_register_criteria (number, criteria_id, definition, in_force) VALUES (?, ?, ?, 0)').run(number, criteriaId, JSON.stringify(rest));
        return;
      }
      case 'RiskCriteriaApproved': {
        preparedOnce(db, 'UPDATE risk_register_criteria SET in_force = (criteria_id = ?)').run(event.data.criteriaId as string);
        // Every open risk is judged again against the criteria now in force (needsReevaluation),
        // at the flush (rejudgeUntil).
        this.inForce = undefined;
        this.rejudgeAfter = '';
        return;
      }
      case 'AssetRetired': {
        const assetId = assetStreams.idOf(event.streamId);
        if (assetId === undefined) return;
        preparedOnce(db, 'INSERT OR IGNORE INTO risk_register_retired_assets (asset_id) VALUES (?)').run(assetId);
        // The risks on that asset are flagged (and judged again by the domain's rule).
        this.cache?.flush();
        const criteria = this.criteriaInForce(db);
        const update = preparedOnce(db, 'UPDATE risks SET assets_retired = 1, needs_reevaluation = ? WHERE id = ?');
        const onAsset = preparedOnce(db, 'SELECT r.id, r.doc FROM risks r JOIN risk_assets ra ON ra.risk_id = r.id WHERE ra.asset_id = ?').all(assetId) as { id: string; doc: string }[];
        for (const row of onAsset) update.run(needsReevaluation(JSON.parse(row.doc) as RiskState, criteria, true) ? 1 : 0, row.id);
        return;
      }
    }
    const id = riskStreams.idOf(event.streamId);
    if (id === undefined) return;
    const cache = (this.cache ??= this.createCache(db));
    const before = cache.get(id) ?? riskDecider.initialState;
    const riskEvent = { type: event.type, data: event.data } as RiskEvent;
    const next = riskDecider.evolve(before, riskEvent);
    cache.set(id, next);
    if ((event.type === 'ControlsDecided' || event.type === 'RiskTreatmentDecided') && !this.options.replay) {
      // What a decision of the cycle supersedes leaves the state, not the record (Art.18(2)).
      const superseded = supersessionOf(before, riskEvent, event.revision);
      if (superseded) preparedOnce(db, 'INSERT OR REPLACE INTO risk_superseded (risk_id, revision, position, recorded_at, doc) VALUES (?, ?, ?, ?, ?)').run(id, event.revision, event.position, event.recordedAt, JSON.stringify(superseded));
    }
    if (event.type === 'RiskReassessmentOpened' && !this.options.replay) {
      // The cycle the finding closes: its treatment and controls leave the state, not the record.
      const d = event.data as { reviewId: string; openedAt: string };
      const closed = closedCycleOf(before, d.reviewId, d.openedAt);
      if (closed) preparedOnce(db, 'INSERT OR REPLACE INTO risk_cycles (risk_id, revision, position, recorded_at, doc) VALUES (?, ?, ?, ?, ?)').run(id, event.revision, event.position, event.recordedAt, JSON.stringify(closed));
    }
    if (event.type === 'RiskIdentified') {
      const insert = preparedOnce(db, 'INSERT OR IGNORE INTO risk_assets (risk_id, asset_id) VALUES (?, ?)');
      for (const assetId of next.assetIds) insert.run(next.id, assetId);
    } else if ((event.type === 'RiskAnalysed' || event.type === 'RiskReviewed') && !this.options.replay) {
      const { riskId: _riskId, reviewIntervalDays: _interval, ...entry } = event.data as Record<string, unknown>;
      const table = event.type === 'RiskAnalysed' ? 'risk_analyses' : 'risk_reviews';
      preparedOnce(db, `INSERT OR REPLACE INTO ${table} (risk_id, revision, position, recorded_at, doc) VALUES (?, ?, ?, ?, ?)`).run(
        id,
        event.revision,
        event.position,
        event.recordedAt,
        JSON.stringify(entry),
      );
    }
  }

  private cache?: DocumentCache<RiskState>;
  /** The criteria in force as this projection has seen them (null: none; undefined: not read yet). */
  private inForce?: CriteriaInForceView | null;

  private criteriaInForce(db: ReadDb): CriteriaInForceView | undefined {
    if (this.inForce === undefined) {
      this.inForce = criteriaViewOf(new RiskRegisterQueries(db).criteriaInForce()) ?? null;
    }
    return this.inForce ?? undefined;
  }

  /** Criteria were approved: the open risks after this id remain to be judged again (rejudgeUntil). */
  private rejudgeAfter?: string;
  /**
   * Judges the open risks again against the criteria in force (needsReevaluation), in id order,
   * until `deadline`: whether all are. The flag is a function of a risk's state, the criteria and
   * its assets, so judging at the flush (after the states are written) gives the rows judging at
   * the approval gave, and a replay does it in slices: in one task it held the loop ~0.3 s on
   * 4,564 risks in every replay crossing an approval (soak probe of 2026-12-06, M1).
   */
  private rejudgeUntil(db: ReadDb, deadline: number): boolean {
    if (this.rejudgeAfter === undefined) return true;
    const criteria = this.criteriaInForce(db);
    const update = preparedOnce(db, 'UPDATE risks SET needs_reevaluation = ? WHERE id = ?');
    const next = preparedOnce(db, "SELECT id, doc, assets_retired FROM risks WHERE status != 'CLOSED' AND id > ? ORDER BY id LIMIT 50");
    for (let rows: { id: string; doc: string; assets_retired: number }[]; ; ) {
      rows = next.all(this.rejudgeAfter) as typeof rows;
      for (const row of rows) update.run(needsReevaluation(JSON.parse(row.doc) as RiskState, criteria, row.assets_retired === 1) ? 1 : 0, row.id);
      // 50 risks between two looks at the deadline.
      if ((this.rejudgeAfter = rows.length < 50 ? undefined : rows.at(-1)!.id) === undefined) return true;
      if (performance.now() > deadline) return false;
    }
  }

  flush(db: ReadDb): void {
    this.cache?.flush();
    this.rejudgeUntil(db, Infinity);
  }

  flushUntil(db: ReadDb, deadline: number): boolean {
    return (this.cache?.flushUntil(deadline) ?? true) && this.rejudgeUntil(db, deadline);
  }

  discard(): void {
    this.cache?.discard();
    this.inForce = undefined;
    this.rejudgeAfter = undefined;
  }

  private createCache(db: ReadDb): DocumentCache<RiskState> {
    const select = db.prepare('SELECT doc FROM risks WHERE id = ?');
    const insert = db.prepare('INSERT INTO risks (status, owner_id, level, likelihood, impact, eval_criteria_number, prioritised, sort_key, needs_reevaluation, assets_retired, version, doc, id, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM risks))');
    const update = db.prepare('UPDATE risks SET status = ?, owner_id = ?, level = ?, likelihood = ?, impact = ?, eval_criteria_number = ?, prioritised = ?, sort_key = ?, needs_reevaluation = ?, assets_retired = ?, version = ?, doc = ? WHERE id = ?');
    const retired = db.prepare('SELECT EXISTS (SELECT 1 FROM risk_assets ra JOIN risk_register_retired_assets x ON x.asset_id = ra.asset_id WHERE ra.risk_id = ?)').pluck();
    return new DocumentCache<RiskState>(
      (id) => {
        const row = select.get(id) as { doc: string } | undefined;
        return row ? JSON.parse(row.doc) : undefined;
      },
      (id, s, isNew) => {
        const prioritised = isPrioritised(s) ? 1 : 0;
        const assetsRetired = retired.get(id) === 1;
        const needs = needsReevaluation(s, this.criteriaInForce(db), assetsRetired) ? 1 : 0;
        (isNew ? insert : update).run(s.status, s.ownerId, s.level ?? null, s.likelihood ?? null, s.impact ?? null, s.evaluation?.criteriaNumber ?? null, prioritised, sortKey(s), needs, assetsRetired ? 1 : 0, s.version, JSON.stringify(s), id);
      },
    );
  }
}

/** The prioritised risks before `sortKey` in the register's order (a treatment priority is one more). */
function prioritisedBefore(db: ReadDb, sortKey: string): number {
  return preparedOnce(db, 'SELECT COUNT(*) FROM risks INDEXED BY risks_register_order WHERE sort_key < ? AND prioritised = 1', 'pluck').get(sortKey) as number;
}

/** Risks' states parsed per turn of the event loop by allStates. */
const STATES_PER_TURN = 250;
/** And characters parsed per turn (risks of megabytes each: 250 of them were one 0.3 s task, hostile probe F2). */
const STATE_CHARS_PER_TURN = 2_000_000;
/** How long a read of every risk's state is shared after it ends (allStates). */
const SHARED_STATES_MS = 1_000;
const sharedStates = new WeakMap<ReadDb, { changes: number; states: Promise<readonly RiskState[]> }>();

/** A register row's columns besides the document: its place in the order and its flags. */
interface RegisterFlags {
  sort_key: string;
  prioritised: number;
  needs: number;
  retired: number;
}

export interface RiskRow {
  state: RiskState;
  sortKey: string;
  /** The treatment priority; a function where it is computed only if asked for (a single risk's past). */
  priority: number | null | (() => Promise<number | null>);
  needsReevaluation: boolean;
  assetsRetired: boolean;
  /** Every analysis, all cycles, oldest first (read when asked for: a risk may have thousands). */
  analyses: () => RiskAnalysis[];
  /** Every review, oldest first. */
  reviews: () => RiskReview[];
}

/** A point of the log to read a risk's own lists at: rows whose event is at or before it. */
export interface ListLimit {
  position?: string;
  recordedAt?: string;
  /**
   * The risk's last event at the point, when known (a single risk's past): the same cut, but a
   * range of the table's key, so a long history is read only up to it and not filtered row by row.
   */
  revision?: number;
}

/**
 * Where a replayed register reads its risks' analyses and reviews: the live read model's rows up
 * to the replay's head (the live projections must have applied it: see registerListsAt).
 */
export interface RegisterLists {
  db: ReadDb;
  /** The replay's head: rows of later events are left out (null: the log was empty then, so none). */
  upTo: string | null;
}

/** The earlier of two positions (positions are fixed-width strings, ordered as text). */
function minPosition(a: string | undefined, b: string | null): string {
  // null head: nothing at all is included; '' sorts before every position.
  if (b === null) return '';
  return a === undefined || b < a ? b : a;
}

export interface RiskFilterValues {
  status?: RiskStatus | null;
  ownerId?: string | null;
  level?: string | null;
  assetId?: string | null;
  needsReevaluation?: boolean | null;
}

export interface CriteriaInForceRow {
  number: number;
  criteriaId: string;
  definition: CriteriaDefinition;
}

/** What the register's rules (needsReevaluation, residualLevelUnder) read of the criteria in force. */
export function criteriaViewOf(row: CriteriaInForceRow | undefined): CriteriaInForceView | undefined {
  const d = row?.definition;
  return row && d ? { number: row.number, riskLevels: d.riskLevels, acceptanceLevel: d.acceptanceLevel, matrix: d.matrix, likelihoodLevels: d.likelihoodLevels, impactLevels: d.impactLevels } : undefined;
}

/** Queries over the risk register read model (the live one, or one replayed as of a past instant). */
export class RiskRegisterQueries {
  /**
   * `eagerLists`: read every row's analyses and reviews now (a replayed read model is released
   * once the query returns); otherwise they are read when the GraphQL field asks for them.
   */
  constructor(private readonly db: ReadDb, private readonly options: { eagerLists?: boolean; lists?: RegisterLists } = {}) {}

  /** A risk's analyses (all cycles, oldest first), optionally only those recorded by a point of the log. */
  analyses(riskId: string, limit: ListLimit = {}): RiskAnalysis[] {
    return this.list('risk_analyses', riskId, limit) as RiskAnalysis[];
  }

  /** A risk's reviews, oldest first, optionally only those recorded by a point of the log. */
  reviews(riskId: string, limit: ListLimit = {}): RiskReview[] {
    return this.list('risk_reviews', riskId, limit) as RiskReview[];
  }

  /** A risk's cycles closed by a review's finding, oldest first, optionally only those closed by a point of the log. */
  closedCycles(riskId: string, limit: ListLimit = {}): ClosedCycle[] {
    return this.list('risk_cycles', riskId, limit) as ClosedCycle[];
  }

  /** Every risk's closed cycles, oldest first (one read for a whole register's record), cut as the lists are. */
  closedCyclesByRisk(): Map<string, ClosedCycle[]> {
    return this.byRisk('risk_cycles') as Map<string, ClosedCycle[]>;
  }

  /** Every risk's superseded controls and treatments (risk_superseded), oldest decision first, cut as the lists are. */
  supersededByRisk(): Map<string, Supersession[]> {
    return this.byRisk('risk_superseded') as Map<string, Supersession[]>;
  }

  private byRisk(table: 'risk_cycles' | 'risk_superseded'): Map<string, unknown[]> {
    const from = this.options.lists;
    const rows = (from ? from.db : this.db)
      .prepare(`SELECT risk_id, doc FROM ${table} WHERE (@position IS NULL OR position <= @position) ORDER BY risk_id, revision`)
      .raw()
      .all({ position: from ? minPosition(undefined, from.upTo) : null }) as [string, string][];
    const byRisk = new Map<string, unknown[]>();
    for (const [riskId, doc] of rows) {
      const list = byRisk.get(riskId);
      if (list) list.push(JSON.parse(doc));
      else byRisk.set(riskId, [JSON.parse(doc)]);
    }
    return byRisk;
  }

  private list(table: 'risk_analyses' | 'risk_reviews' | 'risk_cycles', riskId: string, asked: ListLimit): unknown[] {
    // A replay has no rows of its own: they come from the live tables, up to its head.
    const from = this.options.lists;
    const db = from ? from.db : this.db;
    const limit: ListLimit = from ? { position: minPosition(asked.position, from.upTo), recordedAt: asked.recordedAt } : asked;
    // One JSON array built by SQLite and parsed once: a risk may have thousands of entries, and
    // parsing them one string at a time took twice as long (risk(id, asOf) of a 10,000-event risk).
    // Compiled once per database: a register's download reads two lists for each of its risks, and
    // compiling this statement each time took ~25 µs a read (the two lists of 910 risks: 34 → 12 ms).
    const json = preparedOnce(
      db,
      `SELECT '[' || COALESCE(group_concat(doc, ',' ORDER BY revision), '') || ']' FROM ${table} WHERE risk_id = @riskId AND revision <= @revision AND (@position IS NULL OR position <= @position) AND (@recordedAt IS NULL OR recorded_at <= @recordedAt)`,
      'pluck',
    ).get({ riskId, revision: limit.revision ?? Number.MAX_SAFE_INTEGER, position: limit.position ?? null, recordedAt: limit.recordedAt ?? null }) as string;
    return JSON.parse(json) as unknown[];
  }

  /** The lists of one risk as RiskRow carries them: read now, or on first use. */
  lists(riskId: string): Pick<RiskRow, 'analyses' | 'reviews'> {
    if (this.options.eagerLists) {
      const analyses = this.analyses(riskId);
      const reviews = this.reviews(riskId);
      return { analyses: () => analyses, reviews: () => reviews };
    }
    return { analyses: () => this.analyses(riskId), reviews: () => this.reviews(riskId) };
  }

  criteriaInForce(): CriteriaInForceRow | undefined {
    const row = preparedOnce(this.db, 'SELECT number, criteria_id, definition FROM risk_register_criteria WHERE in_force = 1').get() as
      | { number: number; criteria_id: string; definition: string }
      | undefined;
    return row ? { number: row.number, criteriaId: row.criteria_id, definition: JSON.parse(row.definition) } : undefined;
  }

  /**
   * One risk as page() would show it: its priority is one more than the prioritised risks before
   * it by sort_key (unique: it ends with the id), counted on the register-order index.
   */
  byId(id: string): RiskRow | null {
    // Prepared once per database: every risk command answers with byId.
    const row = preparedOnce(this.db, 'SELECT sort_key, prioritised, needs_reevaluation AS needs, assets_retired AS retired, doc FROM risks WHERE id = ?').get(id) as
      | (RegisterFlags & { doc: string })
      | undefined;
    return row ? this.rowWith(id, JSON.parse(row.doc) as RiskState, row) : null;
  }

  /**
   * byId for a risk whose current state the caller holds (a command's result, once the register
   * has applied it): while the row is at that state's version, its document is that very state
   * (folded by the same evolve from the same events), so it is neither read nor parsed; a row that
   * has moved on since (another command) answers with its own document, as byId does.
   */
  byIdAt(state: RiskState): RiskRow | null {
    const row = preparedOnce(this.db, 'SELECT sort_key, prioritised, needs_reevaluation AS needs, assets_retired AS retired, version FROM risks WHERE id = ?').get(state.id) as
      | (RegisterFlags & { version: number })
      | undefined;
    if (!row) return null;
    return row.version === state.version ? this.rowWith(state.id, state, row) : this.byId(state.id);
  }

  private rowWith(id: string, state: RiskState, row: RegisterFlags): RiskRow {
    const before = () => prioritisedBefore(this.db, row.sort_key);
    return {
      state,
      sortKey: row.sort_key,
      priority: row.prioritised === 1 ? before() + 1 : null,
      needsReevaluation: row.needs === 1,
      assetsRetired: row.retired === 1,
      ...this.lists(id),
    };
  }

  /**
   * Risks in register order after `afterKey`, with their priority and flags computed for the whole
   * register. A page whose stored documents pass `maxBytes` is refused (QUERY_TOO_COMPLEX) as soon
   * as they do, before they are all read and parsed: a risk may hold 500 controls of 10,000-character texts.
   */
  page(filter: RiskFilterValues, afterKey: string | null, limit: number, onlyId?: string, maxBytes = Infinity, endAtChars = Infinity): { rows: RiskRow[]; total: number; cut: boolean; chars: number } {
    const where: string[] = [];
    const args: (string | number | null)[] = [];
    if (onlyId !== undefined) {
      where.push('r.id = ?');
      args.push(onlyId);
    }
    if (filter.status) {
      where.push('r.status = ?');
      args.push(filter.status);
    }
    if (filter.ownerId) {
      where.push('r.owner_id = ?');
      args.push(filter.ownerId);
    }
    if (filter.level) {
      where.push('r.level = ?');
      args.push(filter.level);
    }
    if (filter.assetId) {
      where.push('EXISTS (SELECT 1 FROM risk_assets ra WHERE ra.risk_id = r.id AND ra.asset_id = ?)');
      args.push(filter.assetId);
    }
    // The domain's needsReevaluation(state, criteria in force, assets retired), as the projection stored it.
    const needs = 'r.needs_reevaluation';
    if (filter.needsReevaluation !== undefined && filter.needsReevaluation !== null) {
      where.push(`${needs} = ?`);
      args.push(filter.needsReevaluation ? 1 : 0);
    }
    // Keys, counts and ranks come from the register-order index alone; documents are read for the page's rows.
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM risks r INDEXED BY risks_register_order ${whereSql}`).get(...args) as { n: number }).n;
    const pageWhere = afterKey === null ? whereSql : `${whereSql ? whereSql + ' AND' : 'WHERE'} r.sort_key > ?`;
    const keys = this.db
      .prepare(`SELECT r.id, r.sort_key, r.prioritised, r.needs_reevaluation AS needs, r.assets_retired AS retired FROM risks r INDEXED BY risks_register_order ${pageWhere} ORDER BY r.sort_key LIMIT ?`)
      .all(...args, ...(afterKey === null ? [] : [afterKey]), limit) as { id: string; sort_key: string; prioritised: number; needs: number; retired: number }[];
    // A risk's priority is one more than the prioritised risks before it in the whole register,
    // filtered or not: counted up to the page's first row, then between each row and the next
    // (ROW_NUMBER over the whole register on every page took 80-450 ms at 15,000 risks: probe p10).
    const between = preparedOnce(this.db, 'SELECT COUNT(*) FROM risks INDEXED BY risks_register_order WHERE sort_key >= ? AND sort_key < ? AND prioritised = 1', 'pluck');
    let before = 0;
    const budget = new PageBudget(maxBytes, { entities: 'risks', of: keys.length, advice: 'ask for a smaller page (first) or fewer fields, such as controls' });
    const doc = preparedOnce(this.db, 'SELECT doc FROM risks WHERE id = ?', 'pluck');
    const rows: (typeof keys[number] & { priority: number | null; doc: string })[] = [];
    // A page for a whole-register reader (endAtChars) ends early once its documents hold that
    // much text (at least one risk): parsing 250 risks of megabytes each held the loop 0.5 s.
    let cut = false;
    for (const [i, k] of keys.entries()) {
      if (budget.chars >= endAtChars) {
        cut = true;
        break;
      }
      before = i === 0 ? prioritisedBefore(this.db, k.sort_key) : before + (between.get(keys[i - 1]!.sort_key, k.sort_key) as number);
      const text = budget.read(doc.get(k.id) as string, i);
      rows.push({ ...k, priority: k.prioritised === 1 ? before + 1 : null, doc: text });
    }
    return {
      cut,
      chars: budget.chars,
      total,
      rows: rows.map((r) => {
        const state = JSON.parse(r.doc) as RiskState;
        return {
          state,
          sortKey: r.sort_key,
          priority: r.priority,
          needsReevaluation: r.needs === 1,
          assetsRetired: r.retired === 1,
          ...this.lists(r.id),
        };
      }),
    };
  }

  /** One risk's state (null: no such risk). */
  stateOf(riskId: string): RiskState | null {
    const doc = preparedOnce(this.db, 'SELECT doc FROM risks WHERE id = ?', 'pluck').get(riskId) as string | undefined;
    return doc === undefined ? null : (JSON.parse(doc) as RiskState);
  }

  /**
   * Every risk's state, in register order, parsed STATES_PER_TURN a turn of the event loop: the
   * register read in one task held every other request (3,828 risks: ~0.3 s, soak probe p9;
   * 13,470: 2-5 s, probe p10). The
   * order is read first, in one statement; on the live read model each risk is then read as it
   * stands when its turn comes (a risk identified meanwhile is left out, none is read twice).
   */
  allStates(): Promise<readonly RiskState[]> {
    // One read shared by every call on these read models as they stand (this connection, no
    // write since): the aliases of one request and requests at the same moment. Each read its own
    // copy before, and 95 aliases of risksDueForReview held 95 copies of a register of 15,000
    // risks at once: the heap ran out and the process died (probe p12). The states are shared:
    // callers read them and never change them.
    const changes = preparedOnce(this.db, 'SELECT total_changes()', 'pluck').get() as number;
    const shared = sharedStates.get(this.db);
    if (shared && shared.changes === changes) return shared.states;
    const states = this.readAllStates();
    const entry = { changes, states };
    sharedStates.set(this.db, entry);
    const forget = () => setTimeout(() => sharedStates.get(this.db) === entry && sharedStates.delete(this.db), SHARED_STATES_MS).unref();
    states.then(forget, forget);
    return states;
  }

  private async readAllStates(): Promise<RiskState[]> {
    const ids = preparedOnce(this.db, 'SELECT id FROM risks INDEXED BY risks_register_order ORDER BY sort_key', 'pluck').all() as string[];
    const doc = preparedOnce(this.db, 'SELECT doc FROM risks WHERE id = ?', 'pluck');
    const states: RiskState[] = [];
    await eachInTurnsBySize(ids, STATES_PER_TURN, STATE_CHARS_PER_TURN, (id) => {
      const json = doc.get(id) as string | undefined; // undefined only if the read model was reset meanwhile
      if (json !== undefined) states.push(JSON.parse(json) as RiskState);
      return json?.length ?? 0;
    });
    return states;
  }

  /**
   * A page of the risks' states in the order they were identified, after `afterSeq` (0: from the
   * first): at most `limit`, ending after the one that brings their stored text to `maxChars` (a
   * risk may hold megabytes of controls: 200 of them were parsed in one task of 600 ms, probe
   * 2026-12-04). Only an empty page means the end.
   */
  statesAfter(afterSeq: number, limit: number, maxChars = Infinity): { seq: number; state: RiskState }[] {
    const page: { seq: number; state: RiskState }[] = [];
    let chars = 0;
    for (const r of preparedOnce(this.db, 'SELECT seq, doc FROM risks WHERE seq > ? ORDER BY seq LIMIT ?').iterate(afterSeq, limit) as IterableIterator<{ seq: number; doc: string }>) {
      page.push({ seq: r.seq, state: JSON.parse(r.doc) as RiskState });
      chars += r.doc.length;
      if (chars >= maxChars) break;
    }
    return page;
  }

  /**
   * Counts of open, analysed risks per likelihood x impact and per level, through the matrix of the
   * criteria in force; and, so that the map and the register can be told apart (compliance probe of
   * 2026-12-05, F1), how many risks no cell holds (analysed beyond these criteria's scales) and how
   * many of those counted carry a recorded level other than the one their cell has (analysed
   * under earlier criteria).
   */
  heatMap(): { criteria?: CriteriaInForceRow; cells: Map<string, number>; unplaced: number; levelDiffers: number } {
    const criteria = this.criteriaInForce();
    const cells = new Map<string, number>();
    if (!criteria) return { cells, unplaced: 0, levelDiffers: 0 };
    const rows = this.db
      .prepare("SELECT likelihood, impact, level, COUNT(*) AS n FROM risks WHERE status != 'CLOSED' AND likelihood IS NOT NULL AND impact IS NOT NULL GROUP BY likelihood, impact, level")
      .all() as { likelihood: number; impact: number; level: string | null; n: number }[];
    let unplaced = 0;
    let levelDiffers = 0;
    for (const r of rows) {
      // A risk analysed under older criteria with larger scales has no cell in today's matrix.
      if (r.likelihood > criteria.definition.likelihoodLevels.length || r.impact > criteria.definition.impactLevels.length) {
        unplaced += r.n;
        continue;
      }
      const key = `${r.likelihood}:${r.impact}`;
      cells.set(key, (cells.get(key) ?? 0) + r.n);
      if (r.level !== levelFor(criteria.definition, r.likelihood, r.impact)) levelDiffers += r.n;
    }
    return { criteria, cells, unplaced, levelDiffers };
  }
}
