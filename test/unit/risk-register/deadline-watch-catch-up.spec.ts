/**
 * The deadline watch does not run while the read models catch up with the log at start (read
 * models lost, or rebuilt for a new schema): the register lacks the newest events, and each of
 * its commands waited 10 s for them (probe p10: three warnings, 166 deadlines in a minute).
 */
import { describe, expect, it } from '@jest/globals';
import { DeadlineWatch } from '../../../src/risk-register/application/deadline-watch.js';

describe('DeadlineWatch at a start behind the log', () => {
  it('reads nothing and commands nothing until the read models have caught up once', async () => {
    const warnings: string[] = [];
    const logger = { child: () => logger, debug: () => undefined, info: () => undefined, warn: (msg: string) => void warnings.push(msg), error: () => undefined };
    let reads = 0;
    // A register that counts its reads and then fails (enough to tell a pass that ran from one that did not).
    const db = { prepare: () => { reads++; throw new Error('register read'); } };
    const projections = { caughtUpOnce: false };
    const watch = new DeadlineWatch({} as never, {} as never, { now: () => new Date('2026-12-01T00:00:00Z') } as never, db as never, { deadlineCheckIntervalMs: 60_000 } as never, logger as never, projections as never);
    expect(await watch.check()).toBe(0);
    expect([reads, warnings]).toEqual([0, []]);
    projections.caughtUpOnce = true;
    expect(await watch.check()).toBe(0);
    expect(reads).toBe(1);
    expect(warnings).toEqual(['deadline check failed; retrying at the next interval']);
  });
});
