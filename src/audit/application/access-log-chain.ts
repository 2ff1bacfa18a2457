/**
 * The access log as evidence: its rows and their hash chain, the signed heads, the anchor kept
 * next to it, and the verification that `verifyAccessLog` and `npm run cli -- verify-access-log`
 * run (the store that writes it is access-log.ts).
 *
 * What shows what:
 *  - an edited entry: its hash no longer matches its content (its position);
 *  - deleted or inserted entries in the middle: a gap in `seq`, or a broken `prevHash` link;
 *  - entries appended, or the log rewritten, by someone without the signing key: every batch the
 *    server writes ends with a signed head (`access_log_heads`, Ed25519 over seq + hash, scope
 *    'access-log'); entries after the last signed head, or a signed head whose hash the file no
 *    longer has, are reported;
 *  - the newest entries (and their signed heads) deleted: the anchor file next to the log
 *    (`access-log.anchor.json`) holds the last signed head, rewritten once each batch is on disk
 *    (batches committed while the previous sync is under way share the next one; close() syncs
 *    and anchors the last); a log that no longer contains it was truncated;
 *  - the file deleted: the anchor still names it. The server refuses to start a new access log
 *    over a missing one (or when the event log already holds events but neither the access log
 *    nor its anchor exists) unless ACCESS_LOG_RESET=1 acknowledges it; the restart is then the
 *    log's first entry (a discontinuity entry), which verification reports for good.
 * What it cannot show: the file AND its anchor deleted on a store whose event log is empty, or a
 * rewrite by someone holding the signing key. The remedy is the event log's: keep a reported
 * head (headPosition, headChainHash) where the log's holder cannot change it.
 */
import { setImmediate } from 'node:timers/promises';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { canonicalJson, sha256 } from '../../event-store/hash-chain.js';
import { TrustedKeys, type HeadSignature } from '../../event-store/signing.js';
import { ACCESS_LOG_TABLE, anchorBeside } from '../../config/own-files.js';

export type AccessOutcome = 'ALLOWED' | 'DENIED' | 'FAILED';
/** GraphQL operations; `http` a download or upload under /documents/ or /evidence/; `system` an entry the server writes itself. */
export type OperationType = 'query' | 'mutation' | 'subscription' | 'http' | 'system';

export interface AccessRecord {
  /** ISO-8601 instant the operation was answered. */
  at: string;
  actorId: string | null;
  actorName: string | null;
  actorRoles: string[] | null;
  /** The GraphQL operation name; for `http`, the method and path (`GET /documents/controls.md`). */
  operationName: string | null;
  operationType: OperationType | null;
  /** Root fields of the operation. */
  fields: string[];
  /**
   * What the operation touched: the entity a mutation returned (a creating one's new entity) or
   * an upload stored, then the ids named in its arguments (id, assetId, riskId...). The rule of
   * access-log.plugin.ts; entries written before it name only the arguments' ids.
   */
  targetIds: string[];
  outcome: AccessOutcome;
  /** extensions.code of the first error that decided the outcome. */
  errorCode: string | null;
  correlationId: string | null;
  /** Only on entries the server writes itself (a discontinuity): what happened, as a sentence. */
  note?: string | null;
  /**
   * The last event the request's commands committed (committed-writes.ts): an entry whose event
   * the event log no longer holds shows the log rolled back (access-log-crosscheck.ts). Absent when
   * it committed none, and on entries written before 2026-12-06.
   */
  committed?: CommittedEvent | null;
}

export interface CommittedEvent {
  position: string;
  eventId: string;
}

export interface AccessLogEntry extends AccessRecord {
  seq: number;
  prevHash: string;
  hash: string;
}

export const ACCESS_LOG_GENESIS = sha256('risk-ledger/genesis/access-log');

/** The hash of a row: its content and seq, chained to the previous row's hash. (`note` and `committed` only when set, so older rows keep their hash.) */
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
      ...(record.note != null ? { note: record.note } : {}),
      ...(record.committed != null ? { committed: { position: record.committed.position, eventId: record.committed.eventId } } : {}),
      prevHash,
    }),
  );
}

const APPEND_ONLY = (table: string) => `
  CREATE TRIGGER IF NOT EXISTS ${table}_no_update BEFORE UPDATE ON ${table}
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
  CREATE TRIGGER IF NOT EXISTS ${table}_no_delete BEFORE DELETE ON ${table}
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;`;

export const ACCESS_LOG_SCHEMA = `
  CREATE TABLE IF NOT EXISTS ${ACCESS_LOG_TABLE} (
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
    hash           TEXT    NOT NULL,
    note           TEXT,
    committed_position TEXT,
    committed_event_id TEXT
  );
  CREATE INDEX IF NOT EXISTS access_log_by_actor ON access_log (actor_id, seq);
  CREATE INDEX IF NOT EXISTS access_log_by_time ON access_log (at);
  CREATE INDEX IF NOT EXISTS access_log_by_correlation ON access_log (correlation_id);
  CREATE INDEX IF NOT EXISTS access_log_by_commit ON access_log (committed_position) WHERE committed_position IS NOT NULL;
  ${APPEND_ONLY('access_log')}
  CREATE TABLE IF NOT EXISTS access_log_heads (
    seq       INTEGER PRIMARY KEY,
    hash      TEXT NOT NULL,
    kid       TEXT NOT NULL,
    signature TEXT NOT NULL,
    signed_at TEXT NOT NULL
  );
  ${APPEND_ONLY('access_log_heads')}
  CREATE TABLE IF NOT EXISTS access_log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  ${APPEND_ONLY('access_log_meta')}
`;

/** Creates the tables (and adds `note`, and the committed event's columns, to a file written before they existed). */
export function migrateAccessLog(db: Database.Database): void {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(ACCESS_LOG_TABLE);
  if (exists) {
    const columns = (db.prepare('PRAGMA table_info(access_log)').all() as { name: string }[]).map((c) => c.name);
    if (!columns.includes('note')) db.exec('ALTER TABLE access_log ADD COLUMN note TEXT');
    if (!columns.includes('committed_position')) db.exec('ALTER TABLE access_log ADD COLUMN committed_position TEXT; ALTER TABLE access_log ADD COLUMN committed_event_id TEXT');
  }
  db.exec(ACCESS_LOG_SCHEMA);
}

export const ACCESS_LOG_COLUMNS =
  'seq, at, actor_id, actor_name, actor_roles, operation_name, operation_type, fields, target_ids, outcome, error_code, correlation_id, prev_hash, hash, note, committed_position, committed_event_id';

/** ACCESS_LOG_COLUMNS as a file of any build answers them: one of a build before the committed event's columns, opened read-only (`verify-access-log`), is not migrated. */
export function accessLogColumnsOf(db: Database.Database): string {
  const has = (db.prepare('PRAGMA table_info(access_log)').all() as { name: string }[]).some((c) => c.name === 'committed_position');
  return has ? ACCESS_LOG_COLUMNS : ACCESS_LOG_COLUMNS.replace('committed_position, committed_event_id', 'NULL AS committed_position, NULL AS committed_event_id');
}

export interface AccessLogRow {
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
  note: string | null;
  committed_position: string | null;
  committed_event_id: string | null;
}

export function toEntry(row: AccessLogRow): AccessLogEntry {
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
    note: row.note,
    committed: row.committed_position == null || row.committed_event_id == null ? null : { position: row.committed_position, eventId: row.committed_event_id },
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

// ---------------------------------------------------------------------------------------------
// Discontinuities: what the server writes when it is told (ACCESS_LOG_RESET=1) to go on anyway.

export const DISCONTINUITY_OPERATION = 'AccessLogDiscontinuity';
export type DiscontinuityKind =
  | 'ACCESS_LOG_MISSING'
  | 'ACCESS_LOG_TRUNCATED'
  | 'ACCESS_LOG_REWRITTEN'
  | 'ACCESS_LOG_UNSIGNED'
  | 'ACCESS_LOG_ANCHOR_MISSING'
  | 'ACCESS_LOG_FOREIGN_WRITE';

export interface Discontinuity {
  kind: DiscontinuityKind;
  /** The first access-log entry it concerns (stored as the entry's only target id). */
  fromSeq: number;
  /** What is wrong, as a sentence. */
  note: string;
}

export function discontinuityRecord(d: Discontinuity, at: string): AccessRecord {
  return {
    at,
    actorId: null,
    actorName: null,
    actorRoles: null,
    operationName: DISCONTINUITY_OPERATION,
    operationType: 'system',
    fields: [],
    targetIds: [String(d.fromSeq)],
    outcome: 'FAILED',
    errorCode: d.kind,
    correlationId: null,
    note: d.note,
  };
}

function isDiscontinuity(row: AccessLogRow): boolean {
  return row.operation_type === 'system' && row.operation_name === DISCONTINUITY_OPERATION;
}

// ---------------------------------------------------------------------------------------------
// The anchor: the last signed head, kept outside the file so that deleting the file, or its
// newest rows together with their signed heads, leaves a trace.

export interface AccessLogAnchor {
  version: 1;
  /** The log's id (access_log_meta.log_id): a replaced file has another. */
  logId: string;
  seq: number;
  hash: string;
  kid: string;
  signature: string;
  signedAt: string;
}

/** DATA_DIR/access-log.sqlite → DATA_DIR/access-log.anchor.json */
export function anchorPathFor(logPath: string): string | null {
  return logPath === ':memory:' ? null : anchorBeside(logPath);
}

/** The anchor, null when there is none, 'unreadable' when it is not one. */
export function readAnchor(path: string): AccessLogAnchor | 'unreadable' | null {
  if (!existsSync(path)) return null;
  try {
    const a = JSON.parse(readFileSync(path, 'utf8')) as Partial<AccessLogAnchor>;
    if (a.version !== 1 || typeof a.logId !== 'string' || !Number.isSafeInteger(a.seq) || typeof a.hash !== 'string' || typeof a.kid !== 'string' || typeof a.signature !== 'string') {
      return 'unreadable';
    }
    return a as AccessLogAnchor;
  } catch {
    return 'unreadable';
  }
}

/** Replaces the anchor atomically (temporary file, fsync, rename). */
export function writeAnchor(path: string, anchor: AccessLogAnchor): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(anchor, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Writes and fsyncs an anchor file off the event loop (the caller renames it into place). */
export async function writeAnchorFile(path: string, anchor: AccessLogAnchor): Promise<void> {
  const file = await open(path, 'w', 0o600);
  try {
    await file.writeFile(JSON.stringify(anchor, null, 2) + '\n');
    await file.sync();
  } finally {
    await file.close();
  }
}

export function anchorSignature(a: AccessLogAnchor): HeadSignature {
  return { position: String(a.seq), chainHash: a.hash, kid: a.kid, signature: a.signature };
}

// ---------------------------------------------------------------------------------------------
// Verification.

export interface AccessLogVerification {
  ok: boolean;
  entriesChecked: number;
  /** The first entry at which the log stops being evidence (null when ok, or when no position can be named). */
  firstBrokenSeq: number | null;
  reason: string | null;
  /** The last entry examined (the head when ok); null for an empty or missing log. */
  headSeq: number | null;
  headHash: string;
  /** Signed heads whose signature was checked (the file's, and the anchor's). */
  signaturesChecked: number;
  /** The last entry a signed head covers (its signature checked, when keys are given); 0: none. */
  signedSeq: number;
  /** Unlogged changes the cross-check accepted as lost in recorded unclean stops (access-log-system-entries.ts); absent: none. */
  acknowledged?: { requests: number; uncleanStops: { seq: number; upTo: string }[]; note: string } | null;
}

export interface AccessLogVerifyOptions {
  /** The keys the signatures must verify with; without them only the unkeyed chain is checked. */
  trusted?: TrustedKeys | null;
  /** The anchor file to check the log against; null or absent: none (the in-memory log). */
  anchorPath?: string | null;
}

export interface HeadRow {
  seq: number;
  hash: string;
  kid: string;
  signature: string;
}

function tableExists(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

export function metaValue(db: Database.Database, key: string): string | null {
  if (!tableExists(db, 'access_log_meta')) return null;
  const row = db.prepare('SELECT value FROM access_log_meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value ?? null;
}

/**
 * The walk over a log's rows in seq order, shared by the SQLite file and the PostgreSQL tables:
 * step() each row (a report when it breaks the chain), then end() with what lies outside the
 * rows (the signed heads' end, the anchor), which gives the verdict.
 */
export class AccessLogWalk {
  private prev = ACCESS_LOG_GENESIS;
  private expectedSeq = 1;
  private checked = 0;
  private signaturesChecked = 0;
  private lastSigned = 0;
  private marker: { seq: number; fromSeq: number; at: string; note: string } | null = null;
  private markers = 0;
  /** The hash the log holds at the anchor's seq (null: not reached). */
  private anchorHashInLog: string | null = null;

  constructor(
    private readonly heads: Map<number, HeadRow>,
    private readonly trusted: TrustedKeys | null,
    private readonly anchorSeq: number | null,
  ) {}

  get headSeq(): number {
    return this.expectedSeq - 1;
  }

  report(ok: boolean, firstBrokenSeq: number | null, reason: string | null): AccessLogVerification {
    return {
      ok,
      entriesChecked: this.checked,
      firstBrokenSeq,
      reason,
      headSeq: this.expectedSeq > 1 ? this.expectedSeq - 1 : null,
      headHash: this.prev,
      signaturesChecked: this.signaturesChecked,
      signedSeq: this.lastSigned,
    };
  }

  /** The next row; a report when the log stops being evidence there. */
  step(row: AccessLogRow): AccessLogVerification | null {
    const { expectedSeq, prev, lastSigned } = this;
    this.checked++;
    if (row.seq !== expectedSeq) {
      return this.report(false, expectedSeq, `access log entry ${expectedSeq} is missing (the next one is ${row.seq}): ${row.seq - expectedSeq} entr${row.seq - expectedSeq === 1 ? 'y was' : 'ies were'} deleted`);
    }
    if (row.prev_hash !== prev) return this.report(false, row.seq, `access log entry ${row.seq} does not link to the previous entry: an entry was deleted, inserted or reordered`);
    if (accessEntryHash(row.seq, toEntry(row), prev) !== row.hash) return this.report(false, row.seq, `access log entry ${row.seq} was altered: its hash does not match its content`);
    const head = this.heads.get(row.seq);
    if (head) {
      if (head.hash !== row.hash) {
        return this.report(false, lastSigned + 1, `access log entries ${lastSigned + 1} to ${row.seq} were rewritten: entry ${row.seq} no longer has the hash signed for it`);
      }
      if (this.trusted) {
        this.signaturesChecked++;
        const bad = this.trusted.check('access-log', { position: String(head.seq), chainHash: head.hash, kid: head.kid, signature: head.signature });
        if (bad) return this.report(false, lastSigned + 1, `access log head ${row.seq}: ${bad}`);
      }
      this.lastSigned = row.seq;
    }
    if (row.seq === this.anchorSeq) this.anchorHashInLog = row.hash;
    if (isDiscontinuity(row)) {
      this.markers++;
      const from = Number((JSON.parse(row.target_ids) as string[])[0]);
      this.marker ??= { seq: row.seq, fromSeq: Number.isSafeInteger(from) && from > 0 ? from : row.seq, at: row.at, note: row.note ?? row.error_code ?? 'a discontinuity' };
    }
    this.prev = row.hash;
    this.expectedSeq++;
    return null;
  }

  /** Signed heads beyond the last row: the newest entries were deleted. */
  headsBeyondEnd(): AccessLogVerification | null {
    const headSeq = this.headSeq;
    const lastSignedInTable = this.heads.size ? Math.max(...this.heads.keys()) : 0;
    if (lastSignedInTable > headSeq) {
      return this.report(false, headSeq + 1, `access log entries ${headSeq + 1} to ${lastSignedInTable} were deleted from the end: entry ${lastSignedInTable} had been signed`);
    }
    return null;
  }

  /** The log's end against an anchor (a signed head kept outside it) of the log `logId`. */
  againstAnchor(anchor: AccessLogAnchor, logId: string | null, where: string): AccessLogVerification | null {
    const headSeq = this.headSeq;
    if (logId !== anchor.logId) return this.report(false, 1, `the access log is not the one its anchor${where ? ` ${where}` : ''} records (log ${anchor.logId}, which had reached entry ${anchor.seq}): it was replaced`);
    if (this.trusted && anchor.seq > 0) {
      this.signaturesChecked++;
      const bad = this.trusted.check('access-log', anchorSignature(anchor));
      if (bad) return this.report(false, null, `the access log's anchor: ${bad}`);
    }
    if (anchor.seq > headSeq) {
      return this.report(false, headSeq + 1, `access log entries ${headSeq + 1} to ${anchor.seq} were deleted from the end: the anchor records a signed head at entry ${anchor.seq} (hash ${anchor.hash})`);
    }
    if (anchor.seq > 0 && this.anchorHashInLog !== anchor.hash) {
      return this.report(false, anchor.seq, `access log entry ${anchor.seq} is not the one the anchor records: the log was rewritten up to it`);
    }
    return null;
  }

  /** The verdict once nothing else failed: unsigned entries at the end, then acknowledged discontinuities. */
  finish(): AccessLogVerification {
    const headSeq = this.headSeq;
    const lastSigned = this.lastSigned;
    if (this.trusted && headSeq > lastSigned) {
      return this.report(false, lastSigned + 1, `access log entr${headSeq === lastSigned + 1 ? `y ${headSeq} carries` : `ies ${lastSigned + 1} to ${headSeq} carry`} no signature: written by someone without the signing key`);
    }
    const marker = this.marker;
    if (marker) {
      return this.report(
        false,
        marker.fromSeq,
        `${marker.note} (acknowledged with ACCESS_LOG_RESET=1 at ${marker.at}, entry ${marker.seq}${this.markers > 1 ? `; ${this.markers} discontinuities in all` : ''})`,
      );
    }
    return this.report(true, null, null);
  }
}

/**
 * Longest stretch of verification between two turns of the event loop, as for the event log
 * (integrity-verifier.ts): hashing an entry costs some 20-30 µs, and a log that anyone can grow
 * (every refused request is an entry) held the loop for 0.8 s at 40,000 entries in one go.
 */
export const ACCESS_LOG_SLICE_MS = 2;
/** Rows read per page of the walk: a page is read in one go, and the loop is handed back after each. */
export const ACCESS_LOG_VERIFY_PAGE = 200;

/** Where the walk may pause: after a row (when its slice is used up), and after every page. */
type WalkPause = 'row' | 'page';

/**
 * The walk over a log file, in steps: every row's hash and link, every signed head, the anchor.
 * It yields between rows and pages, where its caller may hand the event loop back (the server,
 * verifyAccessLogDatabaseInSlices) or go straight on (the CLI, verifyAccessLogDatabase), and
 * returns the verdict. No statement stays open across a pause, so the log's writer, on the same
 * connection, writes between pages; the walk stops at the last row there was when it began, and
 * knows the signed heads and the anchor of that moment (the anchor read first: it never names a
 * head the log does not hold yet), so batches written meanwhile neither count nor look unsigned.
 */
function* walkAccessLogDatabase(db: Database.Database, options: AccessLogVerifyOptions, pageSize: number): Generator<WalkPause, AccessLogVerification> {
  const anchor = options.anchorPath ? readAnchor(options.anchorPath) : null;
  const hasRows = tableExists(db, ACCESS_LOG_TABLE);
  const heads = new Map<number, HeadRow>();
  const { lastSeq, logId } = db.transaction(() => {
    if (tableExists(db, 'access_log_heads')) {
      for (const h of db.prepare('SELECT seq, hash, kid, signature FROM access_log_heads ORDER BY seq').all() as HeadRow[]) heads.set(h.seq, h);
    }
    const last = hasRows ? (db.prepare('SELECT MAX(seq) FROM access_log').pluck().get() as number | null) : null;
    return { lastSeq: last ?? 0, logId: metaValue(db, 'log_id') };
  })();
  const walk = new AccessLogWalk(heads, options.trusted ?? null, anchor && anchor !== 'unreadable' ? anchor.seq : null);
  if (hasRows) {
    const page = db.prepare(`SELECT ${accessLogColumnsOf(db)} FROM access_log WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`);
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = page.all(after, lastSeq, pageSize) as AccessLogRow[];
      for (const row of rows) {
        const broken = walk.step(row);
        if (broken) return broken;
        after = row.seq;
        yield 'row';
      }
      if (rows.length < pageSize) break;
      yield 'page';
    }
  }
  const truncated = walk.headsBeyondEnd();
  if (truncated) return truncated;
  if (options.anchorPath) {
    if (anchor === 'unreadable') return walk.report(false, null, `the access log's anchor ${options.anchorPath} is not readable: whether entries were removed from the end cannot be checked`);
    if (anchor === null) {
      if (walk.headSeq > 0 || heads.size > 0) return walk.report(false, null, `the access log's anchor ${options.anchorPath} is missing: whether entries were removed from the end cannot be checked`);
    } else {
      const broken = walk.againstAnchor(anchor, logId, '');
      if (broken) return broken;
    }
  }
  return walk.finish();
}

/** Walks the whole log in one go (the CLI: no server to keep responsive). */
export function verifyAccessLogDatabase(db: Database.Database, options: AccessLogVerifyOptions = {}): AccessLogVerification {
  const steps = walkAccessLogDatabase(db, options, 5 * ACCESS_LOG_VERIFY_PAGE);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** The same walk and verdict, handing the event loop back after every page and every ACCESS_LOG_SLICE_MS of hashing (the server). */
export async function verifyAccessLogDatabaseInSlices(db: Database.Database, options: AccessLogVerifyOptions = {}): Promise<AccessLogVerification> {
  const steps = walkAccessLogDatabase(db, options, ACCESS_LOG_VERIFY_PAGE);
  let slice = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (step.value === 'page' || performance.now() - slice > ACCESS_LOG_SLICE_MS) {
      await setImmediate();
      slice = performance.now();
    }
  }
}

/** The report on a log file that is not there. */
export function missingAccessLog(path: string, anchorPath: string | null): AccessLogVerification {
  const anchor = anchorPath ? readAnchor(anchorPath) : null;
  const known = anchor && anchor !== 'unreadable' ? `: it had reached entry ${anchor.seq} (hash ${anchor.hash}, signed ${anchor.signedAt})` : '';
  return {
    ok: false,
    entriesChecked: 0,
    firstBrokenSeq: 1,
    reason: `the access log ${path} is missing${known}`,
    headSeq: null,
    headHash: ACCESS_LOG_GENESIS,
    signaturesChecked: 0,
    signedSeq: 0,
  };
}

/** Verifies a log file without writing to it (or creating it): the CLI's `verify-access-log`. */
export function verifyAccessLogFile(path: string, options: AccessLogVerifyOptions = {}): AccessLogVerification {
  if (!existsSync(path)) return missingAccessLog(path, options.anchorPath ?? null);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return verifyAccessLogDatabase(db, options);
  } finally {
    db.close();
  }
}

/**
 * The keys an offline verifier trusts, from the configuration (SIGNING_KEY_PATH's public half when
 * the key exists, and SIGNING_TRUSTED_KEYS), never from the file it verifies. Generates nothing.
 */
export function configuredTrustedKeys(signing: { keyPath: string | null; trustedKeyPaths: string[] }): TrustedKeys {
  const pems = signing.trustedKeyPaths.map((p) => readFileSync(p, 'utf8'));
  if (signing.keyPath && existsSync(signing.keyPath)) pems.unshift(createPublicKey(createPrivateKey(readFileSync(signing.keyPath, 'utf8'))).export({ type: 'spki', format: 'pem' }).toString());
  return TrustedKeys.fromPems(pems);
}
