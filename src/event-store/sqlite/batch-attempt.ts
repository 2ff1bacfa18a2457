/**
 * One try of the group commit at writing a batch (sqlite-event-store.ts, flushBatch), what
 * becomes of the appends a lock held by another process kept out (busy-retry.ts), and how a
 * batch is settled once its sync returned.
 */
import { isBusyError } from './busy-retry.js';
import type { Outcome, PendingAppend, SqliteEventStoreStats } from './store-types.js';

export type BatchAttempt =
  /** Every append has its outcome (written, a conflict, or failed). */
  | { settled: PendingAppend[]; outcomes: Outcome[]; unwritten?: undefined }
  /**
   * Another process held the lock: `settled` (a prefix of the batch, often empty) was committed
   * before it; `unwritten` (the rest, in order) was not written at all and waits for the lock.
   */
  | { settled: PendingAppend[]; outcomes: Outcome[]; unwritten: PendingAppend[]; busy: unknown };

/**
 * `commit` writes appends in one transaction (rolled back whole when it throws); `failed` names
 * an append's error. A version conflict is an append's own outcome; any other error rolls the
 * whole batch back. A constraint violation (a duplicate event id) belongs to one append: each is
 * then tried alone so that only the culprit fails. A busy lock writes nothing: the batch, or
 * what the tries one by one had not reached, is handed back unwritten. Anything else (I/O, disk
 * full) fails them all.
 */
export function attemptBatch(batch: PendingAppend[], commit: (appends: PendingAppend[]) => Outcome[], failed: (error: unknown, append: PendingAppend) => unknown): BatchAttempt {
  try {
    return { settled: batch, outcomes: commit(batch) };
  } catch (batchError) {
    if (isBusyError(batchError)) return { settled: [], outcomes: [], unwritten: batch, busy: batchError };
    const isConstraint = String((batchError as { code?: unknown } | null)?.code ?? '').startsWith('SQLITE_CONSTRAINT');
    if (batch.length === 1 || !isConstraint) return { settled: batch, outcomes: batch.map((append) => ({ ok: false, error: failed(batchError, append) })) };
    const outcomes: Outcome[] = [];
    for (let i = 0; i < batch.length; i++) {
      try {
        outcomes.push(commit([batch[i]!])[0]!);
      } catch (error) {
        // Another process took the lock between two of these transactions: the appends before
        // stay committed, this one and those after it wait for the lock, in their order.
        if (isBusyError(error)) return { settled: batch.slice(0, i), outcomes, unwritten: batch.slice(i), busy: error };
        outcomes.push({ ok: false, error: failed(error, batch[i]!) });
      }
    }
    return { settled: batch, outcomes };
  }
}

/**
 * The appends a busy lock kept out, stamped with when their wait began: how many at the head
 * have waited `budgetMs` (they fail with the busy error). The queue is in the order appends were
 * made, and an append is stamped at its first busy try, so those that waited longest come first.
 */
export function waitedOut(unwritten: PendingAppend[], now: number, budgetMs: number): number {
  for (const append of unwritten) append.busySince ??= now;
  let expired = 0;
  while (expired < unwritten.length && now - unwritten[expired]!.busySince! >= budgetMs) expired++;
  return expired;
}

/** Settles a batch's appends, in order, and counts them; true when it wrote any event (the subscriptions are woken). */
export function settleBatch(batch: PendingAppend[], outcomes: Outcome[], counters: SqliteEventStoreStats): boolean {
  let committed = false;
  for (let i = 0; i < batch.length; i++) {
    const outcome = outcomes[i]!;
    const append = batch[i]!;
    if (outcome.ok) {
      const { results } = outcome;
      if (!committed) for (const r of results) if (!r.duplicate && r.events.length > 0) committed = true;
      append.resolve(append.single ? results[0]! : results);
    } else {
      append.reject(outcome.error);
    }
  }
  counters.appends += batch.length;
  if (batch.length > counters.largestBatch) counters.largestBatch = batch.length;
  return committed;
}
