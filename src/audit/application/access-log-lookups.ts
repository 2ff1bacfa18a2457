/**
 * What the cross-check (access-log-crosscheck.ts) asks of an access log, one query each, for the
 * SQLite file and the PostgreSQL tables: when it began, which requests it holds, which imports it
 * records. On any connection: the server's stores (AccessLogStore, PostgresAccessLog, which add the
 * entries still queued) and the CLI's read-only `verify-access-log`, which has no Nest app.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { CorrelationLookup } from './access-log-crosscheck.js';
import { IMPORT_OPERATION, importedRange, type ImportedRange } from './access-log-imports.js';
import { recoveredStop, UNCLEAN_STOP_OPERATION, type RecoveredStop } from './access-log-unclean-stop.js';

const isRange = (r: ImportedRange | null): r is ImportedRange => r !== null;
const isStop = (r: RecoveredStop | null): r is RecoveredStop => r !== null;

/** The instant of the SQLite log's first entry, or null. */
export function firstEntryIn(db: Database.Database): string | null {
  return (db.prepare('SELECT at FROM access_log ORDER BY seq LIMIT 1').pluck().get() as string | undefined) ?? null;
}

/** Of `ids`, those some entry of the SQLite log carries. */
export function correlationsIn(db: Database.Database, ids: readonly string[]): Set<string> {
  const rows = db.prepare('SELECT DISTINCT correlation_id FROM access_log WHERE correlation_id IN (SELECT value FROM json_each(?))').pluck().all(JSON.stringify(ids)) as string[];
  return new Set(rows);
}

/** The imports the SQLite log records (access-log-imports.ts). */
export function importsIn(db: Database.Database): ImportedRange[] {
  const rows = db.prepare(`SELECT seq, at, target_ids FROM access_log WHERE operation_type = 'system' AND operation_name = ? ORDER BY seq`).all(IMPORT_OPERATION) as { seq: number; at: string; target_ids: string }[];
  return rows.map(importedRange).filter(isRange);
}

/** The unclean stops the SQLite log records (access-log-unclean-stop.ts). */
export function uncleanStopsIn(db: Database.Database): RecoveredStop[] {
  const rows = db.prepare(`SELECT seq, target_ids FROM access_log WHERE operation_type = 'system' AND operation_name = ? ORDER BY seq`).all(UNCLEAN_STOP_OPERATION) as { seq: number; target_ids: string }[];
  return rows.map(recoveredStop).filter(isStop);
}

/** The SQLite log's entries as written (nothing queued). */
export function sqliteAccessLogLookup(db: Database.Database): CorrelationLookup {
  return {
    firstEntryAt: async () => firstEntryIn(db),
    correlationsLogged: async (ids) => correlationsIn(db, ids),
    importsLogged: async () => importsIn(db),
    uncleanStopsLogged: async () => uncleanStopsIn(db),
  };
}

/** The PostgreSQL log's entries as written (nothing queued); `S` its schema, quoted (postgresAccessLogLookup names it). */
export function postgresLookupIn(db: pg.Pool | pg.PoolClient | pg.Client, S: string): CorrelationLookup {
  return {
    firstEntryAt: async () => (await db.query<{ at: string }>(`SELECT at FROM ${S}.access_log ORDER BY seq LIMIT 1`)).rows[0]?.at ?? null,
    correlationsLogged: async (ids) =>
      new Set((await db.query<{ correlation_id: string }>(`SELECT DISTINCT correlation_id FROM ${S}.access_log WHERE correlation_id = ANY($1::text[])`, [ids])).rows.map((r) => r.correlation_id)),
    importsLogged: async () => {
      const { rows } = await db.query<{ seq: string; at: string; target_ids: string }>(
        `SELECT seq, at, target_ids FROM ${S}.access_log WHERE operation_type = 'system' AND operation_name = $1 ORDER BY seq`,
        [IMPORT_OPERATION],
      );
      return rows.map(importedRange).filter(isRange);
    },
    uncleanStopsLogged: async () => {
      const { rows } = await db.query<{ seq: string; target_ids: string }>(
        `SELECT seq, target_ids FROM ${S}.access_log WHERE operation_type = 'system' AND operation_name = $1 ORDER BY seq`,
        [UNCLEAN_STOP_OPERATION],
      );
      return rows.map(recoveredStop).filter(isStop);
    },
  };
}
