import type { AppConfig } from '../../config/app-config.js';
import { RateLimitedError } from '../../shared/domain/errors.js';

const WINDOW_MS = 60_000;

interface Window {
  startedAt: number;
  count: number;
}

/**
 * RATE_LIMIT_PER_MINUTE per actor (the token's subject): a fixed one-minute window per actor,
 * kept in memory (one process). Refused requests are not counted; `retryAfterSeconds` is the
 * time left in the actor's window.
 *
 * Not @nestjs/throttler: its 6.x build is CommonJS and requires @nestjs/common, which is ESM-only
 * in Nest 12, so Jest cannot load it on Node 20 (see shared/stack.md); its guard would also
 * count each resolver call rather than each request, and answer with an HTTP 429 exception
 * instead of the contract's GraphQL error.
 */
export class ActorRateLimiter {
  private readonly limit: number;
  private readonly windows = new Map<string, Window>();
  private lastSweep = 0;

  constructor(
    config: Pick<AppConfig, 'rateLimitPerMinute'>,
    private readonly clock: () => number = Date.now,
  ) {
    this.limit = config.rateLimitPerMinute;
  }

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** Counts one request of the actor; throws RateLimitedError (with retryAfterSeconds) past the limit. */
  hit(actorId: string): void {
    if (!this.enabled) return;
    const now = this.clock();
    this.sweep(now);
    let window = this.windows.get(actorId);
    if (!window || now - window.startedAt >= WINDOW_MS) {
      window = { startedAt: now, count: 0 };
      this.windows.set(actorId, window);
    }
    if (window.count >= this.limit) {
      throw new RateLimitedError(Math.max(1, Math.ceil((window.startedAt + WINDOW_MS - now) / 1000)));
    }
    window.count++;
  }

  /** Forgets windows that have ended, at most once a minute, so memory follows the active actors. */
  private sweep(now: number): void {
    if (now - this.lastSweep < WINDOW_MS) return;
    this.lastSweep = now;
    for (const [actorId, window] of this.windows) {
      if (now - window.startedAt >= WINDOW_MS) this.windows.delete(actorId);
    }
  }
}
