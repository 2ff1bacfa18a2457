/**
 * What is wrong with an access log file found at start-up, in O(1): its end against the anchor
 * and the signed heads; AccessLogStore.open refuses (AccessLogRefusedError) to go on over any of
 * it unless ACCESS_LOG_RESET=1, which records each finding as a discontinuity entry.
 */
import type Database from 'better-sqlite3';
import type { AccessLogAnchor, Discontinuity } from './access-log-chain.js';

/** The server will not go on writing an access log that lost entries, unless told to (ACCESS_LOG_RESET=1). */
export class AccessLogRefusedError extends Error {
  constructor(readonly findings: Discontinuity[]) {
    super(
      `the access log cannot be continued: ${findings.map((f) => f.note).join('; ')}. ` +
        'Keep the files as they are for the auditors; to start anyway, set ACCESS_LOG_RESET=1 once: the server then records this as an entry of the access log, and verifyAccessLog reports it from then on.',
    );
    this.name = 'AccessLogRefusedError';
  }
}

/**
 * The shared access log's schema (PostgreSQL) is one this build cannot use: newer than it knows,
 * or to be migrated while instances of the build before run on it. A refusal at start, not a fault.
 */
export class AccessLogSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccessLogSchemaError';
  }
}

export interface FoundLog {
  path: string;
  anchorPath: string | null;
  logId: string;
  /** The file's last row. */
  head: { seq: number; hash: string };
  /** Whether this server signs (entries after the last signed head are then someone else's). */
  signs: boolean;
}

export function startupFindings(db: Database.Database, log: FoundLog, anchor: AccessLogAnchor | 'unreadable' | null): Discontinuity[] {
  const out: Discontinuity[] = [];
  const { head, anchorPath } = log;
  const lastSigned = db.prepare('SELECT seq, hash FROM access_log_heads ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  const hashAt = (seq: number) => (db.prepare('SELECT hash FROM access_log WHERE seq = ?').get(seq) as { hash: string } | undefined)?.hash;
  if (anchorPath) {
    if (anchor === 'unreadable') {
      out.push({ kind: 'ACCESS_LOG_ANCHOR_MISSING', fromSeq: head.seq + 1, note: `the access log's anchor ${anchorPath} is not readable: whether entries after ${head.seq} were removed cannot be checked` });
    } else if (anchor === null) {
      if (head.seq > 0 || lastSigned) {
        out.push({ kind: 'ACCESS_LOG_ANCHOR_MISSING', fromSeq: head.seq + 1, note: `the access log's anchor ${anchorPath} is missing: whether entries after ${head.seq} were removed cannot be checked` });
      }
    } else if (anchor.logId !== log.logId) {
      out.push({ kind: 'ACCESS_LOG_MISSING', fromSeq: 1, note: `the access log ${log.path} is not the one its anchor records (log ${anchor.logId}, which had reached entry ${anchor.seq}): it was replaced` });
    } else if (anchor.seq > head.seq) {
      out.push({ kind: 'ACCESS_LOG_TRUNCATED', fromSeq: head.seq + 1, note: `access log entries ${head.seq + 1} to ${anchor.seq} were deleted from the end: the anchor records a signed head at entry ${anchor.seq} (hash ${anchor.hash})` });
    } else if (anchor.seq > 0 && hashAt(anchor.seq) !== anchor.hash) {
      out.push({ kind: 'ACCESS_LOG_REWRITTEN', fromSeq: anchor.seq, note: `access log entry ${anchor.seq} is not the one the anchor records: the log was rewritten up to it` });
    }
  }
  if (lastSigned && lastSigned.seq > head.seq && !out.some((f) => f.kind === 'ACCESS_LOG_TRUNCATED')) {
    out.push({ kind: 'ACCESS_LOG_TRUNCATED', fromSeq: head.seq + 1, note: `access log entries ${head.seq + 1} to ${lastSigned.seq} were deleted from the end: entry ${lastSigned.seq} had been signed` });
  }
  const signedUpTo = lastSigned?.seq ?? 0;
  if (log.signs && head.seq > signedUpTo && !out.some((f) => f.kind === 'ACCESS_LOG_TRUNCATED')) {
    out.push({
      kind: 'ACCESS_LOG_UNSIGNED',
      fromSeq: signedUpTo + 1,
      note: `access log entr${head.seq === signedUpTo + 1 ? `y ${head.seq} carries` : `ies ${signedUpTo + 1} to ${head.seq} carry`} no signature: written by someone without the signing key`,
    });
  }
  return out;
}
