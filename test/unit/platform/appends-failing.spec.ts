/**
 * "Appends failing" (readiness, /health): set by an append that fails on storage, cleared by one
 * that succeeds, and half-open once none has failed for APPENDS_FAILING_HOLD_MS: an instance its
 * readiness took out of service gets no writes, and nothing else would clear it once the disk was
 * freed (operations probe 10-c M1).
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { APPENDS_FAILING_HOLD_MS, Metrics } from '../../../src/platform/observability/metrics.js';

const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

describe('Metrics.appendsFailing', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('is set by failures on storage, kept while they go on, cleared by a success, and given another chance once none failed for the hold', () => {
    jest.useFakeTimers({ now: Date.parse('2026-12-05T10:00:00Z') });
    const metrics = new Metrics();
    metrics.appended({ seconds: 0.001, events: 1, outcome: 'error', error: new TypeError('a bug') });
    expect(metrics.appendsFailing).toBeUndefined(); // not storage
    metrics.appended({ seconds: 0.001, events: 1, outcome: 'error', error: full() });
    expect(metrics.appendsFailing).toEqual({ since: '2026-12-05T10:00:00.000Z', attempts: 1, lastError: expect.stringContaining('SQLITE_FULL') });
    jest.setSystemTime(Date.parse('2026-12-05T10:00:00Z') + APPENDS_FAILING_HOLD_MS - 1);
    metrics.appended({ seconds: 0.001, events: 1, outcome: 'error', error: full() });
    jest.setSystemTime(Date.now() + APPENDS_FAILING_HOLD_MS - 1);
    expect(metrics.appendsFailing).toMatchObject({ since: '2026-12-05T10:00:00.000Z', attempts: 2 });
    // No append tried since the last failure for longer than the hold: ready again, until the next one says.
    jest.setSystemTime(Date.now() + 2);
    expect(metrics.appendsFailing).toBeUndefined();
    metrics.appended({ seconds: 0.001, events: 1, outcome: 'error', error: full() });
    expect(metrics.appendsFailing).toMatchObject({ since: '2026-12-05T10:00:00.000Z', attempts: 3 });
    metrics.appended({ seconds: 0.001, events: 1, outcome: 'ok' });
    expect(metrics.appendsFailing).toBeUndefined();
  });
});
