/**
 * Waiting for a lock another process holds, without holding the event loop (operations probe
 * 10-c M2). better-sqlite3 is synchronous: SQLite's busy handler (PRAGMA busy_timeout) sleeps on
 * the calling thread, which for the event store's connection is the event loop. An operator's
 * `sqlite3` session or a backup tool holding `BEGIN EXCLUSIVE` on the file for 10 s kept every
 * request waiting, /health/live included (4.7 s), and a 30 s lock got the container restarted by
 * its HEALTHCHECK. So the connection waits at most LOOP_BUSY_WAIT_MS inside SQLite, and a write
 * that meets SQLITE_BUSY or SQLITE_LOCKED is tried again, whole, after a timer (BusyBackoff),
 * until the store's busy budget (busyTimeoutMs) runs out; then it fails with that error, which
 * the edges answer as STORE_UNAVAILABLE (shared/application/store-unavailable.ts).
 */

/**
 * The connection's own busy timeout once the store is open (ms): short enough that a try is
 * never a stall, long enough to ride over the locks SQLite takes for an instant (a WAL reader
 * meeting another connection's recovery). Opening the store keeps the whole budget: it runs once,
 * before the server answers anything.
 */
export const LOOP_BUSY_WAIT_MS = 2;

/** The first wait before a write is tried again, doubled after each failed try up to the cap (ms). */
export const BUSY_RETRY_FIRST_MS = 5;
export const BUSY_RETRY_MAX_MS = 50;

/** SQLite's "another connection holds the lock" (SQLITE_BUSY*, SQLITE_LOCKED*): nothing was written, try again later. */
export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

/** The delays between the tries of one wait for a lock: 5 ms doubling up to 50 ms (by default), back to the first after a success. */
export class BusyBackoff {
  private next: number;

  constructor(
    private readonly firstMs = BUSY_RETRY_FIRST_MS,
    private readonly maxMs = BUSY_RETRY_MAX_MS,
  ) {
    this.next = firstMs;
  }

  /** How long to wait before the next try, at most `leftMs` (the rest of the budget, so the last try lands on it). */
  failed(leftMs: number): number {
    const wait = this.next;
    this.next = Math.min(this.maxMs, this.next * 2);
    return Math.max(0, Math.min(wait, leftMs));
  }

  succeeded(): void {
    this.next = this.firstMs;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` (one whole statement or transaction: SQLite rolled it back when it threw busy)
 * until it does not meet a busy lock, waiting between tries on a timer; after `budgetMs` of
 * busy tries, the last busy error is thrown. Any other error is thrown at once.
 */
export async function retryWhileBusy<T>(attempt: () => T, budgetMs: number, backoff = new BusyBackoff()): Promise<T> {
  let since: number | undefined;
  for (;;) {
    try {
      return attempt();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      const now = Date.now();
      since ??= now;
      const left = budgetMs - (now - since);
      if (left <= 0) throw error;
      await sleep(backoff.failed(left));
    }
  }
}
