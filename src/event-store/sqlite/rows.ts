/**
 * The SQLite store's tables as code sees them: migrations up to the current schema and the
 * prepared statements (rows become events in internal/event-rows.ts).
 */
import type Database from 'better-sqlite3';
import { decodePosition, InvalidPositionError } from '../hash-chain.js';
import { DuplicateEventIdError, EventStoreSchemaError } from '../errors.js';
import type { PreparedPart } from '../internal/append-support.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { EVENT_COLUMNS, toRecorded, type EventRow } from '../internal/event-rows.js';
import type { AppendResult } from '../event-store.port.js';

// Loosely typed statement: rows are cast where they are used.
export type Stmt = Database.Statement<unknown[], unknown>;

export interface Statements {
  insertEvent: Stmt;
  insertSignature: Stmt;
  readSignatures: Stmt;
  selectStream: Stmt;
  selectKey: Stmt;
  insertKey: Stmt;
  eventsBetween: Stmt;
  readStream: Stmt;
  readAll: Stmt;
  readAllTyped: Map<number, Stmt>;
  head: Stmt;
  headWithChain: Stmt;
  streamVersion: Stmt;
  dataVersion: Stmt;
  eventIdExists: Stmt;
  readSnapshot: Stmt;
  upsertSnapshot: Stmt;
}

export function migrate(db: Database.Database, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new EventStoreSchemaError(
      `${path} has event store schema version ${current}; this build knows up to ${SCHEMA_VERSION}`,
    );
  }
  if (current === SCHEMA_VERSION) return;
  // Re-read inside an immediate transaction: another process may be creating the schema too.
  db.transaction(() => {
    let version = db.pragma('user_version', { simple: true }) as number;
    while (version < SCHEMA_VERSION) {
      version++;
      const step = MIGRATIONS[version];
      if (!step) throw new EventStoreSchemaError(`missing migration to schema version ${version}`);
      db.exec(step);
      db.pragma(`user_version = ${version}`);
    }
  }).immediate();
}

export function prepareStatements(db: Database.Database): Statements {
  const raw = (sql: string): Stmt => db.prepare(sql).raw(true) as Stmt;
  const pluck = (sql: string): Stmt => db.prepare(sql).pluck(true) as Stmt;
  return {
    insertEvent: db.prepare(
      `INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ) as Stmt,
    insertSignature: db.prepare('INSERT INTO chain_signatures (position, first_position, chain_hash, kid, signature) VALUES (?, ?, ?, ?, ?)') as Stmt,
    readSignatures: raw('SELECT position, first_position, chain_hash, kid, signature FROM chain_signatures WHERE position > ? AND position <= ? ORDER BY position LIMIT ?'),
    selectStream: raw('SELECT revision, hash FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1'),
    selectKey: raw('SELECT stream_id, first_position, last_position FROM idempotency WHERE key = ?'),
    insertKey: db.prepare(
      'INSERT INTO idempotency (key, stream_id, first_position, last_position) VALUES (?, ?, ?, ?)',
    ) as Stmt,
    eventsBetween: raw(`SELECT ${EVENT_COLUMNS} FROM events WHERE position BETWEEN ? AND ? ORDER BY position`),
    readStream: raw(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision BETWEEN ? AND ? ORDER BY revision`,
    ),
    // Readers of the log see it up to a cap: the last durable position (see SqliteEventStore).
    readAll: raw(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`),
    readAllTyped: new Map(),
    head: pluck('SELECT MAX(position) FROM events'),
    headWithChain: raw('SELECT position, chain_hash, recorded_at FROM events ORDER BY position DESC LIMIT 1'),
    streamVersion: pluck('SELECT MAX(revision) FROM events WHERE stream_id = ?'),
    dataVersion: pluck('PRAGMA data_version'),
    eventIdExists: pluck('SELECT 1 FROM events WHERE event_id = ?'),
    readSnapshot: raw(
      'SELECT revision, position, recorded_at, state FROM snapshots WHERE stream_id = ? AND state_version = ? AND revision <= ? AND (? IS NULL OR position <= ?) AND (? IS NULL OR recorded_at <= ?) ORDER BY revision DESC LIMIT 1',
    ),
    upsertSnapshot: db.prepare(
      `INSERT INTO snapshots (stream_id, state_version, revision, position, recorded_at, state) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (stream_id, state_version, revision) DO UPDATE SET position = excluded.position, recorded_at = excluded.recorded_at, state = excluded.state`,
    ) as Stmt,
  };
}

/** The committed append that used this idempotency key, as append() returned it (a duplicate now). */
export function appendByKey(s: Statements, key: string): AppendResult | undefined {
  const row = s.selectKey.get(key) as [string, number, number] | undefined;
  if (!row) return undefined;
  const events = (s.eventsBetween.all(row[1], row[2]) as EventRow[]).map(toRecorded);
  const last = events[events.length - 1]!;
  return { streamId: row[0], nextExpectedVersion: last.revision, position: last.position, events, duplicate: true };
}

export function positionNumber(after: string): number {
  if (typeof after !== 'string') throw new InvalidPositionError(String(after));
  const n = decodePosition(after);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidPositionError(after);
  return Number(n);
}


const MAX_TYPED_STATEMENTS = 64;

/** readAll of some event types: one statement per number of types, cached up to a bound. */
export function typedReadAll(db: Database.Database, s: Statements, count: number): Stmt {
  let stmt = s.readAllTyped.get(count);
  if (!stmt) {
    const placeholders = new Array(count).fill('?').join(', ');
    stmt = db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ? AND type IN (${placeholders}) ORDER BY position LIMIT ?`)
      .raw(true) as Stmt;
    if (s.readAllTyped.size < MAX_TYPED_STATEMENTS) s.readAllTyped.set(count, stmt);
  }
  return stmt;
}

/** Positions scanned per statement by a typed read (about 25 ms of SQLite at ~1.2 µs a row). */
const TYPED_SCAN_SPAN = 20_000;

/**
 * The rows of `types` after `from` up to `cap`, ending at `maxCount` rows or `maxBytes` as
 * cappedRows does. A typed read scans the log (an index on type would cost every append), a span
 * of TYPED_SCAN_SPAN positions per statement with a turn of the event loop between spans: a type
 * absent from 350,000 events held the loop 300-545 ms in one statement (probe p10).
 */
export async function typedRowsInSpans(db: Database.Database, s: Statements, types: string[], page: { from: number; cap: number; maxCount: number; maxBytes: number }): Promise<EventRow[]> {
  const stmt = typedReadAll(db, s, types.length);
  const rows: EventRow[] = [];
  let bytes = 0;
  for (let lo = page.from; lo < page.cap; lo += TYPED_SCAN_SPAN) {
    if (lo > page.from) await new Promise<void>((resolve) => setImmediate(resolve));
    for (const row of cappedRows(stmt, [lo, Math.min(page.cap, lo + TYPED_SCAN_SPAN), ...types, page.maxCount - rows.length], page.maxBytes - bytes)) {
      rows.push(row);
      bytes += Buffer.byteLength(row[6]) + Buffer.byteLength(row[7]);
    }
    if (rows.length >= page.maxCount || bytes >= page.maxBytes) break;
  }
  return rows;
}

/**
 * A page's rows read with `stmt` (a readAll statement), ending after the row that brings the
 * events' data and metadata to `maxBytes` (READ_PAGE_BYTES: an event may be megabytes). Stepped
 * row by row, so a page of large events is never read whole first.
 */
export function cappedRows(stmt: Stmt, args: unknown[], maxBytes: number): EventRow[] {
  const rows: EventRow[] = [];
  // Bytes of UTF-8, as the answer and PostgreSQL's octet_length count them (a kana is 3): a UTF-16
  // unit is 1 to 3 of them, so the exact count is taken only once 3 a unit could reach the cap
  // (pages of ordinary events never get there, and are not measured twice).
  let upper = 0;
  let bytes: number | undefined;
  const sizeOf = (row: EventRow) => Buffer.byteLength(row[6]) + Buffer.byteLength(row[7]);
  for (const row of stmt.iterate(...args) as IterableIterator<EventRow>) {
    rows.push(row);
    if (bytes === undefined) {
      upper += 3 * (row[6].length + row[7].length);
      if (upper < maxBytes) continue;
      bytes = rows.reduce((sum, r) => sum + sizeOf(r), 0);
    } else bytes += sizeOf(row);
    if (bytes >= maxBytes) break;
  }
  return rows;
}

/** A unique-constraint failure on event_id, named: DuplicateEventIdError; anything else as it was. */
export function duplicateEventIdError(s: Statements, error: unknown, parts: PreparedPart[]): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' && /event_id/.test(String((error as Error).message))) {
    try {
      for (const part of parts) {
        const dup = part.events.find((e) => s.eventIdExists.get(e.eventId) !== undefined);
        if (dup) return new DuplicateEventIdError(dup.eventId, part.streamId);
      }
    } catch {
      // fall through to the original error
    }
  }
  return error;
}
