/**
 * What the cross-check (access-log-crosscheck.ts) asks of an access log, one query each, for the
 * SQLite file and the PostgreSQL tables: when it began, which requests it holds, which system entries
 * (imports, unclean stops) it records. On any connection: the server's stores (AccessLogStore, PostgresAccessLog, which add the
 * entries still queued) and the CLI's read-only `verify-access-log`, which has no Nest app.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { CorrelationLookup } from './access-log-crosscheck.js';
import { SYSTEM_ENTRY_OPERATIONS, systemEntriesOf, type SystemEntry, type SystemEntryRow } from './access-log-system-entries.js';

/** The instant of the SQLite log's first entry, or null. */
export function firstEntryIn(db: Database.Database): string | null {
  return (db.prepare('SELECT at FROM access_log ORDER BY seq LIMIT 1').pluck().get() as string | undefined) ?? null;
}

/** Of `ids`, those some entry of the SQLite log carries. */
export function correlationsIn(db: Database.Database, ids: readonly string[]): Set<string> {
  const rows = db.prepare('SELECT DISTINCT correlation_id FROM access_log WHERE correlation_id IN (SELECT value FROM json_each(?))').pluck().all(JSON.stringify(ids)) as string[];
  return new Set(rows);
}

/** The system entries the SQLite log records: imports, unclean stops (access-log-system-entries.ts). */
export function systemEntriesIn(db: Database.Database): SystemEntry[] {
  const rows = db
    .prepare(`SELECT seq, at, operation_name, target_ids FROM access_log WHERE operation_type = 'system' AND operation_name IN (SELECT value FROM json_each(?)) ORDER BY seq`)
    .all(JSON.stringify(SYSTEM_ENTRY_OPERATIONS)) as SystemEntryRow[];
  return systemEntriesOf(rows);
}

/** The SQLite log's entries as written (nothing queued). */
export function sqliteAccessLogLookup(db: Database.Database): CorrelationLookup {
  return {
    firstEntryAt: async () => firstEntryIn(db),
    correlationsLogged: async (ids) => correlationsIn(db, ids),
    systemEntriesLogged: async () => systemEntriesIn(db),
  };
}

/** The PostgreSQL log's entries as written (nothing queued); `S` its schema, quoted (postgresAccessLogLookup names it). */
export function postgresLookupIn(db: pg.Pool | pg.PoolClient | pg.Client, S: string): CorrelationLookup {
  return {
    firstEntryAt: async () => (await db.query<{ at: string }>(`SELECT at FROM ${S}.access_log ORDER BY seq LIMIT 1`)).rows[0]?.at ?? null,
    correlationsLogged: async (ids) =>
      new Set((await db.query<{ correlation_id: string }>(`SELECT DISTINCT correlation_id FROM ${S}.access_log WHERE correlation_id = ANY($1::text[])`, [ids])).rows.map((r) => r.correlation_id)),
    systemEntriesLogged: async () => {
      const { rows } = await db.query<SystemEntryRow>(
        `SELECT seq, at, operation_name, target_ids FROM ${S}.access_log WHERE operation_type = 'system' AND operation_name = ANY($1::text[]) ORDER BY seq`,
        [SYSTEM_ENTRY_OPERATIONS],
      );
      return systemEntriesOf(rows);
    },
  };
}
