/**
 * The read models' checkpoints (the projection_checkpoints table) for the ProjectionRunner
 * (projection-runner.ts): read at start, where a projection of another schema version is rebuilt
 * from zero, and moved by every page's transaction with the events it applies.
 */
import type { RecordedEvent } from '../event-store/event-store.port.js';
import type { JsonLogger } from '../shared/logging/json-logger.js';
import type { Projection } from './projection.js';
import type { ReadDb } from './read-model-database.js';

/** Sets up each projection (or resets one that is new or of another schema version); its checkpoint, by name. */
export function prepareCheckpoints(db: ReadDb, projections: readonly Projection[], log: JsonLogger): Map<string, string | null> {
  const rows = db.prepare('SELECT name, schema_version, position FROM projection_checkpoints').all() as {
    name: string;
    schema_version: number;
    position: string | null;
  }[];
  const byName = new Map(rows.map((r) => [r.name, r]));
  const result = new Map<string, string | null>();
  db.transaction(() => {
    for (const p of projections) {
      const row = byName.get(p.name);
      if (row?.schema_version === p.schemaVersion) {
        p.setup(db);
        result.set(p.name, row.position);
        continue;
      }
      // New, or of another schema version: its tables are dropped and made afresh, never set up first.
      if (row) log.info('projection schema changed: rebuilding from zero', { projection: p.name, from: row.schema_version, to: p.schemaVersion });
      p.reset(db);
      db
        .prepare('INSERT INTO projection_checkpoints (name, schema_version, position) VALUES (?, ?, NULL) ON CONFLICT(name) DO UPDATE SET schema_version = excluded.schema_version, position = NULL')
        .run(p.name, p.schemaVersion);
      result.set(p.name, null);
    }
  })();
  return result;
}

/**
 * A page's transaction, made once: a live page of one event must neither compile SQL nor build
 * a transaction wrapper. It applies the page's events from `from` on, in order, and stops after
 * the first event that ends at or past `deadline` (performance.now(); Infinity: the whole page),
 * so that a catch-up can hand the event loop back inside a long page (CatchUpOptions.sliceMs);
 * the projections' caches are flushed (unless `writeBack` is false: the span's commit does it,
 * CatchUpOptions.writeBack) and the checkpoints moved to the last event applied, so what it
 * leaves is whole at that event. Returns the index after the last event applied.
 * Each projection's checkpoint moves in a statement of its own: one
 * UPDATE of every row (name IN (?, ?, ...)) makes SQLite build an ephemeral table of the
 * bound list at every run (OpenEphemeral in its EXPLAIN), and under the e2e bench's load that
 * UPDATE took 85–90 µs a page at the median against 1.5–3 µs for each single-row one
 * (2026-12-04, timed per statement inside the server).
 */
export function pageTransaction(
  db: ReadDb,
  projections: readonly Projection[],
  upcast: (event: RecordedEvent) => RecordedEvent,
  /** The runner's in-memory checkpoints, as they stand when a page runs. */
  checkpoints: () => ReadonlyMap<string, string | null>,
  /** Told how long the projections' flush of each piece took (ms), when a deadline was given. */
  flushed: (ms: number) => void = () => {},
): (events: RecordedEvent[], from: number, ahead: boolean, deadline: number, writeBack: boolean) => number {
  const names = projections.map((p) => p.name);
  // A projection ahead of the page (the others are catching up after a reset of theirs) keeps its
  // checkpoint: positions are fixed-width strings, so their string order is the log's.
  const update = db.prepare('UPDATE projection_checkpoints SET position = ? WHERE name = ? AND (position IS NULL OR position < ?)');
  const timed = (deadline: number): boolean => deadline !== Infinity;
  return db.transaction((events: RecordedEvent[], from: number, ahead: boolean, deadline: number, writeBack: boolean) => {
    let i = from;
    while (i < events.length) {
      const event = upcast(events[i++]!);
      for (const p of projections) {
        if (ahead) {
          const cp = checkpoints().get(p.name) ?? null;
          if (cp !== null && cp >= event.position) continue;
        }
        p.apply(event, db);
      }
      if (timed(deadline) && performance.now() >= deadline) break;
    }
    if (writeBack) {
      const flushing = timed(deadline) ? performance.now() : 0;
      for (const p of projections) p.flush?.(db);
      if (timed(deadline)) flushed(performance.now() - flushing);
    }
    const last = events[i - 1]!.position;
    for (const name of names) update.run(last, name, last);
    return i;
  });
}
