/**
 * The one retry rule of the log's followers (projection runner, process managers): a transient
 * storage error is retried after an exponential backoff and reported; anything else is not.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Backoff, isTransientStorageError } from '../../../src/shared/application/transient-errors.js';

const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

describe('Backoff.retryLater', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('retries a transient error after 50, 100, 200 ms, reports each attempt, and starts again at 50 ms after a success', () => {
    jest.useFakeTimers();
    const backoff = new Backoff();
    const warned: { error: string; attempt: number; retryInMs: number; since: string }[] = [];
    let retried = 0;
    for (const wait of [50, 100, 200]) {
      const timer = backoff.retryLater(full(), (r) => warned.push(r), () => retried++);
      expect(timer).toBeDefined();
      jest.advanceTimersByTime(wait - 1);
      expect(retried).toBe(warned.length - 1);
      jest.advanceTimersByTime(1);
      expect(retried).toBe(warned.length);
    }
    expect(warned.map((w) => [w.attempt, w.retryInMs])).toEqual([[1, 50], [2, 100], [3, 200]]);
    expect(warned[0]!.error).toBe('Error (SQLITE_FULL): database or disk is full');
    expect(new Set(warned.map((w) => w.since)).size).toBe(1);
    expect(backoff.retrying?.attempts).toBe(3);

    expect(backoff.succeeded()?.attempts).toBe(3);
    expect(backoff.retrying).toBeUndefined();
    backoff.retryLater(full(), (r) => warned.push(r), () => retried++);
    expect(warned.at(-1)).toMatchObject({ attempt: 1, retryInMs: 50 });
  });

  it('leaves any other error to the caller: no timer, no report, no retry state', () => {
    jest.useFakeTimers();
    const backoff = new Backoff();
    let calls = 0;
    for (const error of [new Error('a bug'), Object.assign(new Error('malformed'), { code: 'SQLITE_CORRUPT' }), 'text', null]) {
      expect(isTransientStorageError(error)).toBe(false);
      expect(backoff.retryLater(error, () => calls++, () => calls++)).toBeUndefined();
    }
    jest.advanceTimersByTime(10_000);
    expect(calls).toBe(0);
    expect(backoff.retrying).toBeUndefined();
  });
});
