/**
 * An unclean stop recorded in the access log. A request's entry is written after its answer,
 * batched (within ~25 ms); a process killed under load (SIGKILL, an OOM kill, a crash) takes the
 * entries still queued with it, and the changes it had just committed (answered or not) are then in
 * the event log without an entry: the cross-check (access-log-crosscheck.ts) would report them for
 * ever. So a server that finds the previous run's lock stale (data-dir-lock.ts) writes, before it
 * answers any request, one signed entry of its own naming the event log's head as it found it (the
 * last change the previous run committed) and that event's recordedAt. The cross-check then accepts
 * as lost in that stop the changes recorded up to that position and no more than RECOVERY_WINDOW_MS
 * before it, and reports them separately (acknowledged, not failing).
 *
 * What it cannot hide: the window is a few seconds before the head at start, so an access log cut
 * back to an older copy (entries older than that gone) is still reported; the entry is under the
 * hash chain, signed heads and anchor like any other, and only believed when a signed head the
 * verification checked covers it (nobody without the signing key can add one); and it must
 * describe this event log (the event at its position has its recordedAt), else it is reported.
 */
import type { AccessRecord } from './access-log-chain.js';

export const UNCLEAN_STOP_OPERATION = 'UncleanStopRecovered';

/** How far before the head at start the changes lost with the process may have been recorded. */
export const RECOVERY_WINDOW_MS = 5_000;

/** The event log's head as a start after an unclean stop found it. */
export interface HeadAtStart {
  position: string;
  recordedAt: string;
}

/** What an unclean-stop entry says: changes up to `upTo`, recorded since `windowFrom`, may have lost their entries. */
export interface RecoveredStop {
  /** The access-log entry that records it. */
  seq: number;
  upTo: string;
  /** The recordedAt of the event at `upTo`. */
  recordedAt: string;
  windowFrom: string;
}

export function uncleanStopRecord(head: HeadAtStart, at: string): AccessRecord {
  return {
    at,
    actorId: null,
    actorName: null,
    actorRoles: null,
    operationName: UNCLEAN_STOP_OPERATION,
    operationType: 'system',
    fields: [],
    targetIds: [head.position, head.recordedAt],
    outcome: 'ALLOWED',
    errorCode: null,
    correlationId: null,
    note:
      `the previous run did not stop cleanly (its lock was stale): the access log entries of the changes it committed last, ` +
      `up to event log position ${head.position} (${head.recordedAt}), may have been lost with it, before or after their answers were sent`,
  };
}

/** An unclean-stop entry's row as the cross-check reads it (null: not one). */
export function recoveredStop(row: { seq: number | string; target_ids: string }): RecoveredStop | null {
  const [upTo, recordedAt] = JSON.parse(row.target_ids) as string[];
  const t = Date.parse(recordedAt ?? '');
  if (typeof upTo !== 'string' || typeof recordedAt !== 'string' || Number.isNaN(t)) return null;
  return { seq: Number(row.seq), upTo, recordedAt, windowFrom: new Date(t - RECOVERY_WINDOW_MS).toISOString() };
}
