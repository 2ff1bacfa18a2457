/**
 * The access log (Art. 23(2): every access is recorded and can be checked).
 *
 * One row per GraphQL operation, allowed or not, in its own SQLite file (DATA_DIR/access-log.sqlite;
 * ':memory:' with the in-memory event store): who (or nobody: an unauthenticated request), what
 * (operation name and type, root fields, the ids it targeted), the outcome and the correlation id.
 * Never a token, never an input's content.
 *
 * Append-only twice over: triggers make the file refuse UPDATE and DELETE, and each row carries
 * the hash of the previous one (hash over the row's canonical JSON and prevHash), so an edit made
 * around the triggers shows in verify().
 *
 * Writes are queued and written together, in one transaction, shortly after (flushDelayMs), so a
 * request never waits for the disk; close() writes what is still queued.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { canonicalJson, sha256 } from '../../event-store/hash-chain.js';
import type { JsonLogger } from '../../shared/logging/json-logger.js';

export type AccessOutcome = 'ALLOWED' | 'DENIED' | 'FAILED';
export type OperationType = 'query' | 'mutation' | 'subscription';

export interface AccessRecord {
  /** ISO-8601 instant the operation was answered. */
  at: string;
  actorId: string | null;
  actorName: string | null;
  actorRoles: string[] | null;
  operationName: string | null;
  operationType: OperationType | null;
  /** Root fields of the operation. */
  fields: string[];
  /** Ids the operation named in its arguments (id, assetId, riskId...). */
  targetIds: string[];
  outcome: AccessOutcome;
  /** extensions.code of the first error that decided the outcome. */
  errorCode: string | null;
  correlationId: string | null;
}

export interface AccessLogEntry extends AccessRecord {
  seq: number;
  prevHash: string;
  hash: string;
}

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

export interface AccessLogVerification {
  ok: boolean;
  entriesChecked: number;
  firstBrokenSeq: number | null;
  reason: string | null;
  headHash: string;
}

export const ACCESS_LOG_GENESIS = sha256('risk-ledger/genesis/access-log');
export const ACCESS_LOG = Symbol('ACCESS_LOG');

/** The hash of a row: its content and seq, chained to the previous row's hash. */
export function accessEntryHash(seq: number, record: AccessRecord, prevHash: string): string {
  return sha256(
    canonicalJson({
      seq,
      at: record.at,
      actorId: record.actorId,
      actorName: record.actorName,
      actorRoles: record.actorRoles,
      operationName: record.operationName,
      operationType: record.operationType,
      fields: record.fields,
      targetIds: record.targetIds,
      outcome: record.outcome,
      errorCode: record.errorCode,
      correlationId: record.correlationId,
      prevHash,
    }),
  );
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS access_log (
    seq            INTEGER PRIMARY KEY,
    at             TEXT    NOT NULL,
    actor_id       TEXT,
    actor_name     TEXT,
    actor_roles    TEXT,
    operation_name TEXT,
    operation_type TEXT,
    fields         TEXT    NOT NULL,
    target_ids     TEXT    NOT NULL,
    outcome        TEXT    NOT NULL CHECK (outcome IN ('ALLOWED', 'DENIED', 'FAILED')),
    error_code     TEXT,
    correlation_id TEXT,
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL
  );
  CREATE INDEX IF NOT EXISTS access_log_by_actor ON access_log (actor_id, seq);
  CREATE INDEX IF NOT EXISTS access_log_by_time ON access_log (at);
  CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
  CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
`;

const COLUMNS =
  'seq, at, actor_id, actor_name, actor_roles, operation_name, operation_type, fields, target_ids, outcome, error_code, correlation_id, prev_hash, hash';

interface Row {
  seq: number;
  at: string;
  actor_id: string | null;
  actor_name: string | null;
  actor_roles: string | null;
  operation_name: string | null;
  operation_type: string | null;
  fields: string;
  target_ids: string;
  outcome: string;
  error_code: string | null;
  correlation_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface AccessLogOptions {
  /** How long an entry may wait in the queue before the batch is written. Default 25 ms. */
  flushDelayMs?: number;
  /** Queue length that triggers a write at once. Default 500. */
  maxBatch?: number;
  logger?: JsonLogger;
}

export class AccessLogStore {
  private readonly db: Database.Database;
  private queue: AccessRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly flushDelayMs: number;
  private readonly maxBatch: number;
  private readonly insert: Database.Statement;
  private readonly head: Database.Statement;
  private readonly writeBatch: Database.Transaction<(records: AccessRecord[]) => void>;

  constructor(readonly path: string, private readonly options: AccessLogOptions = {}) {
    this.flushDelayMs = options.flushDelayMs ?? 25;
    this.maxBatch = options.maxBatch ?? 500;
    const inMemory = path === ':memory:';
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    // One fsync per batch, not per request.
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare(`INSERT INTO access_log (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.head = this.db.prepare('SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1');
    this.writeBatch = this.db.transaction((records: AccessRecord[]) => {
      // The head is read inside the write transaction: right even if another process appended.
      const last = this.head.get() as { seq: number; hash: string } | undefined;
      let seq = last?.seq ?? 0;
      let prev = last?.hash ?? ACCESS_LOG_GENESIS;
      for (const r of records) {
        seq++;
        const hash = accessEntryHash(seq, r, prev);
        this.insert.run(
          seq,
          r.at,
          r.actorId,
          r.actorName,
          r.actorRoles === null ? null : JSON.stringify(r.actorRoles),
          r.operationName,
          r.operationType,
          JSON.stringify(r.fields),
          JSON.stringify(r.targetIds),
          r.outcome,
          r.errorCode,
          r.correlationId,
          prev,
          hash,
        );
        prev = hash;
      }
    });
  }

  /** Queues one entry; it is written with the next batch. */
  record(entry: AccessRecord): void {
    if (this.closed) {
      this.options.logger?.warn('access log closed: entry not recorded', { operationName: entry.operationName, outcome: entry.outcome });
      return;
    }
    this.queue.push(entry);
    if (this.queue.length >= this.maxBatch) {
      this.flushSoon(0);
    } else {
      this.flushSoon(this.flushDelayMs);
    }
  }

  private flushSoon(delay: number): void {
    if (this.timer && delay > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, delay);
  }

  /** Writes every queued entry now, in one transaction. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queue.length === 0 || !this.db.open) return;
    const batch = this.queue;
    this.queue = [];
    try {
      this.writeBatch.immediate(batch);
    } catch (error) {
      // Keep the entries and try again later rather than lose them (a busy file, a full disk).
      this.queue = batch.concat(this.queue);
      this.options.logger?.error('access log write failed; will retry', { error: (error as Error).message, queued: this.queue.length });
      if (!this.closed) this.flushSoon(1000);
    }
  }

  /** Entries matching the filter, oldest first (queued entries are written first). */
  page(filter: AccessLogFilter): AccessLogEntry[] {
    this.flush();
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
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM access_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`).all(...params) as Row[];
    return rows.map(toEntry);
  }

  /** Walks the whole file and checks every row's hash and link. */
  verify(): AccessLogVerification {
    this.flush();
    let prev = ACCESS_LOG_GENESIS;
    let expectedSeq = 1;
    let checked = 0;
    for (const row of this.db.prepare(`SELECT ${COLUMNS} FROM access_log ORDER BY seq`).iterate() as IterableIterator<Row>) {
      checked++;
      const entry = toEntry(row);
      const fail = (reason: string): AccessLogVerification => ({ ok: false, entriesChecked: checked, firstBrokenSeq: row.seq, reason, headHash: prev });
      if (row.seq !== expectedSeq) return fail(`access log entry ${expectedSeq} is missing (found ${row.seq}): an entry was deleted`);
      if (row.prev_hash !== prev) return fail(`access log entry ${row.seq} does not link to the previous entry: an entry was deleted, inserted or reordered`);
      if (accessEntryHash(row.seq, entry, prev) !== row.hash) return fail(`access log entry ${row.seq} was altered: its hash does not match its content`);
      prev = row.hash;
      expectedSeq++;
    }
    return { ok: true, entriesChecked: checked, firstBrokenSeq: null, reason: null, headHash: prev };
  }

  /** Writes what is queued and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.db.open) this.db.close();
  }
}

function toEntry(row: Row): AccessLogEntry {
  return {
    seq: row.seq,
    at: row.at,
    actorId: row.actor_id,
    actorName: row.actor_name,
    actorRoles: row.actor_roles === null ? null : (JSON.parse(row.actor_roles) as string[]),
    operationName: row.operation_name,
    operationType: row.operation_type as OperationType | null,
    fields: JSON.parse(row.fields) as string[],
    targetIds: JSON.parse(row.target_ids) as string[],
    outcome: row.outcome as AccessOutcome,
    errorCode: row.error_code,
    correlationId: row.correlation_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
