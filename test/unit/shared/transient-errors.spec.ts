/**
 * The one retry rule of the log's followers (projection runner, process managers): a transient
 * storage error is retried after an exponential backoff and reported; anything else is not.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Backoff, describeError, isTransientStorageError } from '../../../src/shared/application/transient-errors.js';
import { storeUnavailable } from '../../../src/shared/application/store-unavailable.js';
import { EventStoreDurabilityError } from '../../../src/event-store/errors.js';
import { StoreUnavailableError } from '../../../src/shared/domain/errors.js';

const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

describe('Backoff.retryLater', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('retries a transient error after 50, 100, 200, 400 ms, reports attempts 1, 2, 4, and starts again at 50 ms after a success', () => {
    jest.useFakeTimers();
    const backoff = new Backoff();
    const warned: { error: string; attempt: number; retryInMs: number; since: string }[] = [];
    let retried = 0;
    for (const wait of [50, 100, 200, 400]) {
      const timer = backoff.retryLater(full(), (r) => warned.push(r), () => retried++);
      expect(timer).toBeDefined();
      jest.advanceTimersByTime(wait - 1);
      const before = retried;
      jest.advanceTimersByTime(1);
      expect(retried).toBe(before + 1);
    }
    // Reported at attempts 1, 2 and 4 (not 3): the log says how it goes without a line per try.
    expect(warned.map((w) => [w.attempt, w.retryInMs])).toEqual([[1, 50], [2, 100], [4, 400]]);
    expect(warned[0]!.error).toBe('Error (SQLITE_FULL): database or disk is full');
    expect(new Set(warned.map((w) => w.since)).size).toBe(1);
    expect(backoff.retrying?.attempts).toBe(4);

    expect(backoff.succeeded()?.attempts).toBe(4);
    expect(backoff.retrying).toBeUndefined();
    backoff.retryLater(full(), (r) => warned.push(r), () => retried++);
    expect(warned.at(-1)).toMatchObject({ attempt: 1, retryInMs: 50 });
  });

  it('retries a lock another process holds (SQLITE_BUSY, SQLITE_LOCKED) at most 50 ms apart, reporting attempts 1, 2, 4, 8… (store-lock probe 11, M1: up to 5 s apart before)', () => {
    jest.useFakeTimers();
    const backoff = new Backoff();
    const warned: { attempt: number; retryInMs: number }[] = [];
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const busy = Object.assign(new Error('database is locked'), { code: i % 2 ? 'SQLITE_LOCKED' : 'SQLITE_BUSY' });
      backoff.retryLater(busy, (r) => warned.push(r), () => undefined);
      waits.push(backoff.retrying!.nextDelayMs);
    }
    expect(waits).toEqual([50, 50, 50, 50, 50, 50, 50, 50, 50, 50]);
    expect(warned.map((w) => w.attempt)).toEqual([1, 2, 4, 8]);
    // A full disk meanwhile keeps its own, longer wait.
    backoff.retryLater(full(), () => undefined, () => undefined);
    expect(backoff.retrying!.nextDelayMs).toBe(5_000);
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

describe('storeUnavailable: what a command meeting a storage failure answers', () => {
  it('answers STORE_UNAVAILABLE (maybe written) for a store whose writes could not be made durable, not an internal error (operations probe 10-c M3)', () => {
    const mapped = storeUnavailable(new EventStoreDurabilityError('sqlite', new Error('events.sqlite was removed while the store had it open')));
    expect(mapped).toBeInstanceOf(StoreUnavailableError);
    expect(mapped).toMatchObject({ code: 'STORE_UNAVAILABLE', maybeWritten: true });
  });

  it('leaves a domain error and an unknown error alone', () => {
    expect(storeUnavailable(new StoreUnavailableError(false))).toBeUndefined();
    expect(storeUnavailable(new TypeError('a bug'))).toBeUndefined();
  });
});

describe('describeError', () => {
  it("names an error of another realm with its code (not `instanceof Error` here: a native module's, in another of jest's module contexts)", async () => {
    const { runInNewContext } = await import('node:vm');
    const foreign = runInNewContext("Object.assign(new (class SqliteError extends Error { constructor(m) { super(m); this.name = 'SqliteError'; } })('attempt to write a readonly database'), { code: 'SQLITE_READONLY' })") as unknown;
    expect(foreign instanceof Error).toBe(false);
    expect(describeError(foreign)).toBe('SqliteError (SQLITE_READONLY): attempt to write a readonly database');
    expect(describeError('plain')).toBe('plain');
  });
});
