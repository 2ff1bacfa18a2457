/**
 * Whether the server's clock runs behind its own log: the newest `recordedAt` the projections have
 * applied is later than the clock. Events stay in order (the stores stamp each commit at the later
 * of the clock and the last stamp, commitInstant), but while the clock is behind, the log's newest
 * instants cannot be asked for (`asOf` later than the clock is refused), everything committed
 * meanwhile shares one instant, overdue controls are judged at the clock, tokens issued before
 * it catches up with a revocation stay refused, and access-log entries go back in time. A step
 * back of the wall clock (an NTP step, a VM restored) did all of that and nothing said so (clock
 * probe of 2026-12-06, M1-M4): it is logged (a warn line when it starts and at most every
 * minute while it lasts, an info line when the clock has caught up) and shown by /health.
 */
import type { JsonLogger } from '../shared/logging/json-logger.js';

/** Behind by less than this is jitter between two readings of the clock, not a step. */
export const CLOCK_BEHIND_LOG_MS = 1_000;
const REPEAT_WARNING_MS = 60_000;

export interface ClockBehindLog {
  /** How far the clock is behind the log (ms). */
  behindMs: number;
  /** The newest instant the log has recorded, as the projections have applied it. */
  newestRecordedAt: string;
}

/** How often a clock behind the log is looked at between commits (a quiet server warns too). */
export const CLOCK_CHECK_MS = 15_000;

export class ClockWatch {
  private newest: string | null = null;
  private warnedAt: number | null = null;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly log: Pick<JsonLogger, 'warn' | 'info'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The newest event of what was just applied (or, at a start, the log's last). */
  applied(recordedAt: string): void {
    if (this.newest === null || recordedAt > this.newest) this.newest = recordedAt;
    this.check();
  }

  /** Looks at the clock every CLOCK_CHECK_MS until unwatch(): the warning repeats, and the catching up is said, with no commit. */
  watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), CLOCK_CHECK_MS);
    this.timer.unref();
  }

  unwatch(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Warns when the clock is behind (at most every minute), says when it has caught up. */
  check(): void {
    const behind = this.behind();
    const now = this.now();
    if (behind) {
      if (this.warnedAt === null || now - this.warnedAt >= REPEAT_WARNING_MS) {
        this.warnedAt = now;
        this.log.warn("the server's clock is behind its event log: set it right (NTP), do not step it back", {
          clock: new Date(now).toISOString(),
          newestRecordedAt: behind.newestRecordedAt,
          behindMs: behind.behindMs,
          effects: 'asOf later than the clock refused; commits share the newest instant; overdue judged at the clock; access-log times out of order',
        });
      }
    } else if (this.warnedAt !== null) {
      this.warnedAt = null;
      this.log.info("the server's clock has caught up with its event log", { clock: new Date(now).toISOString(), newestRecordedAt: this.newest });
    }
  }

  /** Behind the log by CLOCK_BEHIND_LOG_MS or more, now: by how much; else null. */
  behind(): ClockBehindLog | null {
    if (this.newest === null) return null;
    const behindMs = Date.parse(this.newest) - this.now();
    return behindMs >= CLOCK_BEHIND_LOG_MS ? { behindMs, newestRecordedAt: this.newest } : null;
  }
}
