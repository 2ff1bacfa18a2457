/**
 * Errors of local storage that go away by themselves (a full disk someone frees, a lock another
 * connection releases, an I/O hiccup) and a log that may not be written while its integrity is
 * broken: a follower of the log retries them with backoff instead of stopping for good. Anything else (a corrupt file, a bug) is not retried.
 */
const TRANSIENT_CODES = /^(SQLITE_FULL|SQLITE_BUSY|SQLITE_LOCKED|SQLITE_IOERR|ENOSPC|EBUSY|EAGAIN|EIO|INTEGRITY_BROKEN)/;

export function isTransientStorageError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_CODES.test(code);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === 'string' ? ` (${code})` : ''}: ${error.message}`;
  }
  return String(error);
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

/** Exponential backoff: 50 ms doubling up to 5 s, back to 50 ms after a success. */
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
    const wait = this.delay;
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
    warn({ error: describeError(error), attempt: this.state!.attempts, retryInMs, since: this.state!.since });
    return setTimeout(retry, retryInMs);
  }

  /** The run of retries in progress, if any. */
  get retrying(): RetryState | undefined {
    return this.state;
  }
}
