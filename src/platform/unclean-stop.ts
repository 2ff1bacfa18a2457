import { decodePosition, encodePosition } from '../event-store/hash-chain.js';
import type { EventStore } from '../event-store/event-store.port.js';

/**
 * Nest token: how the previous run of this DATA_DIR ended, as start-up found it. A value of
 * `UncleanStop`, or null when it stopped cleanly (or nothing ran here before). Read by the access
 * log, which records an unclean stop in itself (access-log-system-entries.ts).
 */
export const UNCLEAN_STOP = Symbol('UNCLEAN_STOP');

/**
 * The previous process did not stop cleanly: its lock was stale and taken over (a SIGKILL, an OOM
 * kill, a crash). `head` is the event log's newest event as this process found it, before it could
 * append anything (null: an empty log): the last change the previous process committed, on a store
 * only this installation writes.
 */
export interface UncleanStop {
  head: { position: string; recordedAt: string } | null;
}

/** The event log's newest event, read once the store is open and before anything appends. */
export async function headAtStart(store: EventStore): Promise<UncleanStop['head']> {
  const position = await store.headPosition();
  if (position === null) return null;
  if (!/^\d{1,19}$/.test(position)) return null; // KurrentDB: no position before it to read after
  const n = decodePosition(position);
  const [head] = await store.readAll({ after: n > 0n ? encodePosition(n - 1n) : null, maxCount: 1 });
  return head && head.position === position ? { position, recordedAt: head.recordedAt } : null;
}
