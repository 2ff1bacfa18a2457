/**
 * The read-your-writes waits (PositionWaiters) when the follower starts retrying a storage error,
 * and the warning a command logs when the read models did not confirm it (ThrottledWarning).
 */
import { describe, expect, it } from '@jest/globals';
import { PositionWaiters } from '../../../src/shared/application/position-waiters.js';
import { ThrottledWarning } from '../../../src/shared/logging/throttled-warning.js';

describe('PositionWaiters.rejectRetrying', () => {
  it('ends at once the waits that fail while the follower retries, and only those (store-lock probe 11, L3: they ran their whole 10 s)', async () => {
    const waiters = new PositionWaiters('Projections');
    const settled: string[] = [];
    const command = waiters.wait('0000000000000000005', 60_000, true).then(
      () => settled.push('command resolved'),
      (error: Error) => settled.push(`command rejected: ${error.message}`),
    );
    const rebuild = waiters.wait('0000000000000000005', 60_000, false).then(() => settled.push('rebuild resolved'));
    waiters.rejectRetrying(new Error('the read models are retrying a storage error'));
    await command;
    expect(settled).toEqual(['command rejected: the read models are retrying a storage error']);
    // A wait that waits through retries goes on, and resolves once the position is reached.
    waiters.advance('0000000000000000005');
    await rebuild;
    expect(settled).toEqual(['command rejected: the read models are retrying a storage error', 'rebuild resolved']);
  });
});

describe('ThrottledWarning', () => {
  it('logs once per period, each line counting the occurrences it stood for (store-lock probe 11, L5: a line per command)', () => {
    let now = 0;
    const lines: [string, Record<string, unknown>][] = [];
    const warning = new ThrottledWarning({ warn: (message: string, fields?: Record<string, unknown>) => void lines.push([message, fields ?? {}]) }, 'read models did not confirm', 5_000, () => now);
    for (let i = 0; i < 100; i++) {
      warning.warn({ i });
      now += 100;
    }
    expect(lines).toEqual([
      ['read models did not confirm', { i: 0 }],
      ['read models did not confirm', { i: 50, alsoSinceLastLine: 49 }],
    ]);
  });
});
