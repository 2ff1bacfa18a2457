import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { Projection } from '../../projections/projection.js';
import { preparedOnce, type ReadDb } from '../../projections/read-model-database.js';
import { DocumentCache } from '../../projections/document-cache.js';
import { asDomainEvent } from '../../shared/application/aggregate-reader.js';
import { planDecider } from '../domain/plan.decider.js';
import type { PlanEvent } from '../domain/plan.events.js';
import { planStreams, type PlanItem, type PlanState } from '../domain/plan.state.js';

/**
 * The plans (Art.19): one row per plan with the aggregate's state, in drafting order. The items
 * are rows of their own (plan_items, in the plan's order), and the revisions, preparations and
 * removed items columns of their own: an answer to a plan of 2,000 items changes one item, and
 * the whole state written back (1.3 MB) was 28% of the server's time under owners answering
 * (probe p12); a plan of 2,000 items emptied would rewrite every removal so far at each one. Each
 * part is written when it differs, by reference, from what the row holds (the evolve keeps
 * unchanged parts as they were).
 */
export class PlanProjection implements Projection {
  readonly name = 'plans';
  // 2: a resolution's position is its commit's last event (PlanApproved / PlanReturnedToDraft);
  // 3: a resolution carries its id (the id of the event that recorded it);
  // 4: the criteria a plan was submitted under; a plan back in draft has no residual levels;
  // 5: items, revisions and preparations stored apart from the rest of the state.
  // 6: preparedBy counts a withdrawal;
  // 7: a withdrawn revision names who withdrew it, when and why; a decline, the state declined;
  // 8: the items removed, as they stood (removedItems);
  readonly schemaVersion = 9; // 9: a plan's document no longer lists the removed risks' ids apart (removedItems names them)

  setup(db: ReadDb): void {
    db.exec(`
      CREATE TABLE IF NOT EXISTS plans (id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, status TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL, revisions TEXT, prepared_by TEXT, removed_items TEXT);
      CREATE TABLE IF NOT EXISTS plan_items (plan_id TEXT NOT NULL, ord INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (plan_id, ord)) WITHOUT ROWID;
    `);
  }

  reset(db: ReadDb): void {
    this.cache?.discard();
    db.exec('DROP TABLE IF EXISTS plans; DROP TABLE IF EXISTS plan_items');
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

  flushUntil(_db: ReadDb, deadline: number): boolean {
    return this.cache?.flushUntil(deadline) ?? true;
  }

  discard(): void {
    this.cache?.discard();
  }

  private createCache(db: ReadDb): DocumentCache<PlanState> {
    const update = db.prepare('UPDATE plans SET status = ?, version = ?, doc = ? WHERE id = ?');
    const insert = db.prepare('INSERT INTO plans (status, version, doc, id, seq) VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM plans))');
    const revisions = db.prepare('UPDATE plans SET revisions = ? WHERE id = ?');
    const preparedBy = db.prepare('UPDATE plans SET prepared_by = ? WHERE id = ?');
    const removedItems = db.prepare('UPDATE plans SET removed_items = ? WHERE id = ?');
    const items = new PlanItemRows(db);
    const plans = new PlanQueries(db);
    return new DocumentCache<PlanState>(
      (id) => plans.byId(id) ?? undefined,
      (id, s, isNew, written) => {
        const { items: planItems, revisions: planRevisions, preparedBy: preparations, removedItems: removals, ...rest } = s;
        (isNew ? insert : update).run(s.status, s.version, JSON.stringify(rest), id);
        if (written?.revisions !== planRevisions || isNew) revisions.run(jsonOrNull(planRevisions), id);
        if (written?.preparedBy !== preparations || isNew) preparedBy.run(jsonOrNull(preparations), id);
        if (written?.removedItems !== removals || isNew) removedItems.run(jsonOrNull(removals), id);
        items.write(id, planItems, isNew ? undefined : written?.items);
      },
    );
  }
}

const jsonOrNull = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/** A plan's items as rows (plan_items), written as far as they differ from those the rows hold. */
class PlanItemRows {
  private readonly update;
  private readonly insert;
  private readonly removeAll;

  constructor(db: ReadDb) {
    this.update = db.prepare('UPDATE plan_items SET doc = ? WHERE plan_id = ? AND ord = ?');
    this.insert = db.prepare('INSERT INTO plan_items (plan_id, ord, doc) VALUES (?, ?, ?)');
    this.removeAll = db.prepare('DELETE FROM plan_items WHERE plan_id = ?');
  }

  /** `before`: the items the rows hold (undefined: unknown, so all are written). */
  write(planId: string, items: readonly PlanItem[], before: readonly PlanItem[] | undefined): void {
    if (before === items) return;
    if (before && before.length === items.length && items.every((item, i) => item.riskId === before[i]!.riskId)) {
      // The same items in the same order (an answer, a stale consent): the changed ones only.
      items.forEach((item, i) => item !== before[i] && this.update.run(JSON.stringify(item), planId, i));
      return;
    }
    if (before && before.length < items.length && before.every((item, i) => item === items[i])) {
      // Items added at the end, none changed.
      for (let i = before.length; i < items.length; i++) this.insert.run(planId, i, JSON.stringify(items[i]));
      return;
    }
    this.removeAll.run(planId);
    items.forEach((item, i) => this.insert.run(planId, i, JSON.stringify(item)));
  }
}

export class PlanQueries {
  constructor(private readonly db: ReadDb) {}

  byId(id: string): PlanState | null {
    const row = preparedOnce(this.db, 'SELECT doc, revisions, prepared_by, removed_items FROM plans WHERE id = ?').get(id) as PlanRow | undefined;
    return row ? this.stateOf(id, row) : null;
  }

  page(afterSeq: number | null, limit: number): { rows: { seq: number; state: PlanState }[]; total: number } {
    const total = (preparedOnce(this.db, 'SELECT COUNT(*) AS n FROM plans').get() as { n: number }).n;
    const rows = preparedOnce(this.db, 'SELECT id, seq, doc, revisions, prepared_by, removed_items FROM plans WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq ?? 0, limit) as (PlanRow & { id: string; seq: number })[];
    return { total, rows: rows.map((r) => ({ seq: r.seq, state: this.stateOf(r.id, r) })) };
  }

  /** The state as the aggregate holds it: the row's parts and the item rows, in the plan's order. */
  private stateOf(id: string, row: PlanRow): PlanState {
    const items = (preparedOnce(this.db, 'SELECT doc FROM plan_items WHERE plan_id = ? ORDER BY ord', 'pluck').all(id) as string[]).map((doc) => JSON.parse(doc) as PlanItem);
    return {
      ...(JSON.parse(row.doc) as Omit<PlanState, 'items' | 'revisions' | 'preparedBy' | 'removedItems'>),
      items,
      ...(row.revisions !== null ? { revisions: JSON.parse(row.revisions) } : {}),
      ...(row.prepared_by !== null ? { preparedBy: JSON.parse(row.prepared_by) } : {}),
      ...(row.removed_items !== null ? { removedItems: JSON.parse(row.removed_items) } : {}),
    } as PlanState;
  }
}

interface PlanRow {
  doc: string;
  revisions: string | null;
  prepared_by: string | null;
  removed_items: string | null;
}
