/**
 * What the cross-check (access-log-crosscheck.ts) and the accessLog query ask of an access log,
 * one query each, for the SQLite file and the PostgreSQL tables: a page of entries (SQLite here), when it began, which requests it holds, which system entries
 * (imports, unclean stops) it records. On any connection: the server's stores (AccessLogStore, PostgresAccessLog, which add the
 * entries still queued) and the CLI's read-only `verify-access-log`, which has no Nest app.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { ACCESS_LOG_COLUMNS, accessLogColumnsOf, toEntry, type AccessLogEntry, type AccessLogRow, type AccessOutcome } from './access-log-chain.js';
import type { CorrelationLookup, LoggedCommit } from './access-log-crosscheck.js';
import { SYSTEM_ENTRY_OPERATIONS, systemEntriesOf, type SystemEntry, type SystemEntryRow } from './access-log-system-entries.js';

export interface AccessLogFilter {
  /** Exclusive lower bound on seq. */
  afterSeq: number | null;
  limit: number;
  actorId?: string | null;
  outcome?: AccessOutcome | null;
  /** Inclusive lower bound on `at` (ISO). */
  from?: string | null;
  /** Exclusive upper bound on `at` (ISO). */
  to?: string | null;
}

/** The SQLite log's entries matching the filter, oldest first. */
export function entriesIn(db: Database.Database, filter: AccessLogFilter): AccessLogEntry[] {
    const where: string[] = ['seq > ?'];
    const params: unknown[] = [filter.afterSeq ?? 0];
    if (filter.actorId) {
      where.push('actor_id = ?');
      params.push(filter.actorId);
    }
    if (filter.outcome) {
      where.push('outcome = ?');
      params.push(filter.outcome);
    }
    if (filter.from) {
      where.push('at >= ?');
      params.push(filter.from);
    }
    if (filter.to) {
      where.push('at < ?');
      params.push(filter.to);
    }
    params.push(filter.limit);
    const rows = db.prepare(`SELECT ${ACCESS_LOG_COLUMNS} FROM access_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`).all(...params) as AccessLogRow[];
    return rows.map(toEntry);
}

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

interface CommitRow {
  seq: number | string;
  correlation_id: string | null;
  committed_position: string;
  committed_event_id: string;
}

const COMMITS = 'SELECT seq, correlation_id, committed_position, committed_event_id FROM';
const toCommit = (r: CommitRow): LoggedCommit => ({ seq: Number(r.seq), correlationId: r.correlation_id, position: r.committed_position, eventId: r.committed_event_id });

/** Whether a file has the committed event's columns, asked once per connection (the check asks for each page of the log). */
const commitColumns = new WeakMap<Database.Database, boolean>();
function hasCommitColumns(db: Database.Database): boolean {
  let has = commitColumns.get(db);
  if (has === undefined) commitColumns.set(db, (has = accessLogColumnsOf(db) === ACCESS_LOG_COLUMNS));
  return has;
}

/** The SQLite log's entries naming a committed event in (after, upTo], by position (CorrelationLookup.commitsLogged); none in a file of a build before them. */
export function commitsIn(db: Database.Database, after: string | null, upTo: string | null, limit: number): LoggedCommit[] {
  if (!hasCommitColumns(db)) return [];
  const rows = db
    .prepare(`${COMMITS} access_log WHERE committed_position IS NOT NULL AND committed_position > ? AND (? IS NULL OR committed_position <= ?) ORDER BY committed_position, seq LIMIT ?`)
    .all(after ?? '', upTo, upTo, limit) as CommitRow[];
  return rows.map(toCommit);
}

/** The SQLite log's entries as written (nothing queued). */
export function sqliteAccessLogLookup(db: Database.Database): CorrelationLookup {
  return {
    firstEntryAt: async () => firstEntryIn(db),
    correlationsLogged: async (ids) => correlationsIn(db, ids),
    systemEntriesLogged: async () => systemEntriesIn(db),
    commitsLogged: async (after, upTo, limit) => commitsIn(db, after, upTo, limit),
  };
}

/** The PostgreSQL log's entries as written (nothing queued); `S` its schema, quoted (postgresAccessLogLookup names it). */
export function postgresLookupIn(db: pg.Pool | pg.PoolClient | pg.Client, S: string): CorrelationLookup {
  let hasCommits: Promise<boolean> | undefined;
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
    commitsLogged: async (after, upTo, limit) => {
      // A schema an older build created (read by a newer CLI) has no such column: no entry names a commit.
      hasCommits ??= db
        .query(`SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'access_log' AND column_name = 'committed_position'`, [S.replaceAll('"', '')])
        .then((r) => (r.rowCount ?? 0) > 0);
      if (!(await hasCommits)) return [];
      const { rows } = await db.query<CommitRow>(
        `${COMMITS} ${S}.access_log WHERE committed_position IS NOT NULL AND committed_position > $1 AND ($2::text IS NULL OR committed_position <= $2) ORDER BY committed_position, seq LIMIT $3`,
        [after ?? '', upTo, limit],
      );
      return rows.map(toCommit);
    },
  };
}
