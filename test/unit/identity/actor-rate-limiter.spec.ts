import { describe, expect, it } from '@jest/globals';
import { ActorRateLimiter } from '../../../src/identity/rate-limit/actor-rate-limiter.js';
import { RateLimitedError } from '../../../src/shared/domain/errors.js';

describe('ActorRateLimiter (fixed one-minute window per actor)', () => {
  it('is off at 0', () => {
    const limiter = new ActorRateLimiter({ rateLimitPerMinute: 0 });
    expect(limiter.enabled).toBe(false);
    for (let i = 0; i < 1000; i++) limiter.hit('a');
  });

  it('refuses past the limit with the seconds left in the window, and opens a new window after a minute', () => {
    let now = 1_000_000;
    const limiter = new ActorRateLimiter({ rateLimitPerMinute: 2 }, () => now);
    limiter.hit('a');
    now += 20_500;
    limiter.hit('a');
    let refused: unknown;
    try {
      limiter.hit('a');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).retryAfterSeconds).toBe(40);
    limiter.hit('b');
    now += 39_500;
    expect(() => limiter.hit('a')).not.toThrow();
  });
});
