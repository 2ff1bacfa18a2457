/** How long to wait between delivery attempts of one notice. */
export interface RetryPolicy {
  /** The wait after the first failure (before jitter). */
  initialMs: number;
  /** The cap of the doubling (before jitter). */
  maxMs: number;
}

/**
 * Exponential backoff with jitter: after failure n (1-based) the ceiling is initialMs·2^(n-1),
 * capped at maxMs, and the wait is drawn between half the ceiling and the ceiling ("equal
 * jitter": receivers coming back are not hit by every sender at the same instant, and a wait
 * never collapses to zero). `random` is Math.random in production, fixed in tests.
 */
export function retryDelayMs(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(failures));
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(n - 1, 52));
  const r = Math.min(1, Math.max(0, random()));
  return Math.max(1, Math.round(ceiling / 2 + (r * ceiling) / 2));
}
