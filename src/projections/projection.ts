import type { RecordedEvent } from '../event-store/event-store.port.js';
import type { ReadDb } from './read-model-database.js';

/**
 * A projection turns the log into a read model. `apply` runs inside the runner's transaction,
 * together with the update of the projection's checkpoint, so a read model and its checkpoint
 * can never disagree (pitfall 5). `apply` must be deterministic: everything it needs is in the
 * event (pitfall 8).
 */
export interface Projection {
  readonly name: string;
  /** Bump when the read model's shape or meaning changes: the runner then rebuilds it from zero. */
  readonly schemaVersion: number;
  /** Creates the tables (idempotent). Called at start when the stored schema version is this one. */
  setup(db: ReadDb): void;
  /**
   * Drops the read model's tables, whether they exist or not, and creates them as setup() does
   * (a rebuild, a new projection, a new schema version). Dropped rather than emptied, so that a
   * new schema version gets its new columns and indexes; and setup() is not run before it, so an
   * upgrade does not first build the new indexes over the old tables.
   */
  reset(db: ReadDb): void;
  /** Applies one event (already upcast). */
  apply(event: RecordedEvent, db: ReadDb): void;
  /**
   * Writes what apply() kept in memory during the page (called inside the same transaction,
   * before the checkpoint). Lets a projection serialise an entity once per page, not per event.
   */
  flush?(db: ReadDb): void;
  /**
   * flush() in parts, where a projection can (DocumentCache.flushUntil): until `deadline`
   * (performance.now()), saying whether all is written. Only a replay calls it, between slices.
   */
  flushUntil?(db: ReadDb, deadline: number): boolean;
  /** Forgets what apply() kept in memory (the page's transaction was rolled back). */
  discard?(): void;
  /**
   * Append-only tables whose rows each carry the position of their event (a risk's analyses):
   * history already, so a replay as of a past point leaves them empty and its queries read the
   * live ones cut at the replay's head (ProjectionOptions.replay), and stored snapshots of the
   * read models leave them out. They were most of a replay's work and of a snapshot's bytes.
   */
  readonly historyTables?: readonly string[];
  /**
   * Tables no point-in-time query reads (the baseline catalogues: no query asks for them asOf or
   * atPosition): a replay writes nothing to them (ProjectionOptions.replay) and stored snapshots
   * leave them out. With 25 imported catalogues every replay copied 79 MB of them (re-probe).
   */
  readonly liveOnlyTables?: readonly string[];
}

/** The tables a replay leaves empty and a stored snapshot leaves out: history and live-only ones. */
export function tablesLeftOutOfReplays(projections: readonly Pick<Projection, 'historyTables' | 'liveOnlyTables'>[]): string[] {
  return projections.flatMap((p) => [...(p.historyTables ?? []), ...(p.liveOnlyTables ?? [])]);
}

/** How a projection is built: for the live read models (default), or for an asOf replay. */
export interface ProjectionOptions {
  /** Built for a replay: write nothing to `historyTables` (see there). */
  replay?: boolean;
}

export const PROJECTIONS = Symbol('PROJECTIONS');
