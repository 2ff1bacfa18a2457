import { BUSY_RETRY_MAX_MS, isBusyError } from '../../event-store/sqlite/busy-retry.js';
/**
 * Errors of storage that go away by themselves, and a log that may not be written while its
 * integrity is broken: a follower of the log retries them with backoff instead of stopping for
 * good, and a command meeting one answers a retryable error. Anything else (a corrupt file, a
 * bug) is not retried. This is the one place that says which errors those are:
 *
 * - local storage: a full disk someone frees, a lock another connection releases, an I/O hiccup
 *   (SQLITE_FULL, SQLITE_BUSY, ENOSPC, EIO…); and a store file that became read-only under
 *   the server (SQLITE_READONLY*: its owner or mode changed, the disk remounted read-only, a hot
 *   journal that cannot be rolled back). Not a fault of ours nor of the command: it is the
 *   operator's to mend, so a command answers STORE_UNAVAILABLE, not an internal error, and the
 *   failing appends turn /health `degraded`, where a load balancer and the operator see it. The
 *   followers' retries cost a backoff (at most one try per 5 s); once the file is writable again
 *   the next append tells (a connection SQLite opened read-only needs a restart, which start-up
 *   refuses until the file is writable: platform.module.ts);
 * - the database going away and coming back (`pg_ctl restart`, a failover, a network cut):
 *   PostgreSQL's SQLSTATE class 08 (connection exception), 57P01-57P03 (administrator shutdown,
 *   crash shutdown, cannot connect now), 53100-53300 (disk full, out of memory, too many connections),
 *   40001/40P01 (serialization failure, deadlock: retrying is the documented cure), 57014 (a query
 *   canceled: statement_timeout, or a DBA's pg_cancel_backend; its transaction rolled back), 25006 (a
 *   write in a read-only session: a DBA's write freeze, a standby behind the URL; the session is
 *   discarded, held-client.ts); node's socket
 *   errors (ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT, EHOSTUNREACH…), and node-postgres's own
 *   words for a lost or refused connection, which carry no code;
 * - INTEGRITY_BROKEN and STORE_UNAVAILABLE, the domain's names for "not now".
 *
 * The error's `cause` (and an AggregateError's `errors`, node's connection attempts to several
 * addresses) is looked at too.
 */
const TRANSIENT_CODES =
  /^((SQLITE_FULL|SQLITE_BUSY|SQLITE_LOCKED|SQLITE_IOERR|SQLITE_READONLY)\w*|ENOSPC|EBUSY|EAGAIN|EIO|INTEGRITY_BROKEN|STORE_UNAVAILABLE|ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|ETIMEDOUT|EHOSTUNREACH|EHOSTDOWN|ENETUNREACH|ENETDOWN|EAI_AGAIN|08[0-9A-Z]{3}|57P0[123]|53[123]00|40001|40P01|57014|25006)$/;
const TRANSIENT_MESSAGES =
  /^(Connection terminated unexpectedly|Connection terminated due to connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Query read timeout)/;

export function isTransientStorageError(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 4) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && TRANSIENT_CODES.test(e.code)) return true;
  if (typeof e.message === 'string' && TRANSIENT_MESSAGES.test(e.message)) return true;
  if (e.cause !== undefined && isTransientStorageError(e.cause, depth + 1)) return true;
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x) => isTransientStorageError(x, depth + 1));
}

export function describeError(error: unknown): string {
  // Any object with a message, not only `instanceof Error`: an error made in another realm (a
  // native module's, loaded by another of jest's module contexts) is not one, and lost its code
  // (the unwritable-storage spec passed alone and failed in the whole suite).
  if (error !== null && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
    const { name, code, message } = error as { name?: unknown; code?: unknown; message: string };
    return `${typeof name === 'string' ? name : 'Error'}${typeof code === 'string' ? ` (${code})` : ''}: ${message}`;
  }
  return String(error);
}

/** Why a read-your-writes wait ends while the read models retry a storage error (ProjectionRunner.waitFor). */
export function retryingError(retrying: RetryState): Error {
  return new Error(`the read models are retrying a storage error since ${retrying.since} (${retrying.lastError})`);
}

/** What a follower of the log reports while it retries a transient error. */
export interface RetryState {
  /** ISO instant of the first failure of this run of retries. */
  since: string;
  attempts: number;
  /** Milliseconds until the next attempt. */
  nextDelayMs: number;
  lastError: string;
}

/**
 * Exponential backoff: 50 ms doubling up to 5 s, back to 50 ms after a success. A lock another
 * process holds on an SQLite file (isBusyError) goes as it came, so it is tried again at most
 * BUSY_RETRY_MAX_MS apart, as the event store's own writes are (busy-retry.ts): on the full disk's
 * backoff the read models stayed 36.6 s behind under locks of 4 s with gaps of 0.7 s, and every
 * command waited in vain for them (store-lock probe 11, M1).
 */
export class Backoff {
  private delay: number;
  private state?: RetryState;

  constructor(
    private readonly initialMs = 50,
    private readonly maxMs = 5_000,
  ) {
    this.delay = initialMs;
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  failed(error: unknown): number {
    const wait = isBusyError(error) ? Math.min(this.delay, BUSY_RETRY_MAX_MS) : this.delay;
    this.delay = Math.min(this.maxMs, this.delay * 2);
    this.state = {
      since: this.state?.since ?? new Date().toISOString(),
      attempts: (this.state?.attempts ?? 0) + 1,
      nextDelayMs: wait,
      lastError: describeError(error),
    };
    return wait;
  }

  /** Records a success; returns the retry state that just ended (undefined when none). */
  succeeded(): RetryState | undefined {
    const ended = this.state;
    this.delay = this.initialMs;
    this.state = undefined;
    return ended;
  }

  /**
   * What a follower of the log does when its subscription fails: a transient error is recorded,
   * reported through `warn` and retried by `retry` after the backoff's delay; the timer is
   * returned (to be cleared on stop). Any other error is left to the caller (undefined).
   */
  retryLater(error: unknown, warn: (retry: { error: string; attempt: number; retryInMs: number; since: string }) => void, retry: () => void): NodeJS.Timeout | undefined {
    if (!isTransientStorageError(error)) return undefined;
    const retryInMs = this.failed(error);
    // Reported at attempts 1, 2, 4, 8…: a lock retried every 50 ms would log 20 lines a second.
    const attempt = this.state!.attempts;
    if ((attempt & (attempt - 1)) === 0) warn({ error: describeError(error), attempt, retryInMs, since: this.state!.since });
    return setTimeout(retry, retryInMs);
  }

  /**
   * A follower caught up with the log (also with nothing new to read): a run of retries in
   * progress is over, and `report` is told of it.
   */
  resumed(report: (ended: RetryState) => void): void {
    const ended = this.succeeded();
    if (ended) report(ended);
  }

  /** The run of retries in progress, if any. */
  get retrying(): RetryState | undefined {
    return this.state;
  }
}
