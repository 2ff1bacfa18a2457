import { describe, expect, it } from '@jest/globals';
import { ClockWatch, CLOCK_BEHIND_LOG_MS } from '../../../src/projections/clock-behind-log.js';
import { revokedTokenMessage } from '../../../src/identity/token-revocations.js';

/**
 * A server whose clock runs behind its own log (a step back of the wall clock) says so: a warn
 * line when it starts and at most every minute while it lasts, an info line when the clock has
 * caught up, and /health's `clock` (clock probe of 2026-12-06, M1-M4: nothing said so).
 */
describe('ClockWatch', () => {
  const at = (iso: string) => Date.parse(iso);

  function watch(start: string) {
    let now = at(start);
    const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
    const log = { warn: (msg: string, fields: Record<string, unknown>) => void lines.push({ level: 'warn', msg, fields }), info: (msg: string, fields: Record<string, unknown>) => void lines.push({ level: 'info', msg, fields }) };
    const w = new ClockWatch(log as never, () => now);
    return { w, lines, set: (iso: string) => (now = at(iso)) };
  }

  it('says nothing while the log is at or behind the clock, or ahead of it by less than a second (two readings of one clock)', () => {
    const { w, lines } = watch('2027-03-01T12:00:00.000Z');
    w.applied('2027-03-01T11:59:59.000Z');
    w.applied('2027-03-01T12:00:00.000Z');
    w.applied(new Date(at('2027-03-01T12:00:00.000Z') + CLOCK_BEHIND_LOG_MS - 1).toISOString());
    expect(w.behind()).toBeNull();
    expect(lines).toEqual([]);
  });

  it('a step back: warned at once, again only after a minute, reported by behind() until the clock catches up, then an info line', () => {
    const { w, lines, set } = watch('2027-03-01T12:00:00.000Z');
    w.applied('2027-03-01T12:00:00.000Z');
    set('2027-03-01T10:00:00.000Z'); // NTP stepped the clock back 2 h
    w.applied('2027-03-01T12:00:00.000Z'); // the next commit, stamped at the log's newest instant
    expect(w.behind()).toEqual({ behindMs: 2 * 3600_000, newestRecordedAt: '2027-03-01T12:00:00.000Z' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: expect.stringMatching(/clock is behind its event log/), fields: { behindMs: 2 * 3600_000, newestRecordedAt: '2027-03-01T12:00:00.000Z', clock: '2027-03-01T10:00:00.000Z' } });
    set('2027-03-01T10:00:59.000Z');
    w.applied('2027-03-01T12:00:00.000Z');
    expect(lines).toHaveLength(1);
    set('2027-03-01T10:01:00.000Z');
    w.applied('2027-03-01T12:00:00.000Z');
    expect(lines).toHaveLength(2);
    set('2027-03-01T12:00:00.500Z');
    expect(w.behind()).toBeNull();
    w.applied('2027-03-01T12:00:00.500Z');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'warn', 'info']);
    w.applied('2027-03-01T12:00:01.000Z');
    expect(lines).toHaveLength(3);
  });

  it('with no commit, its periodic check warns again each minute and says when the clock has caught up (a quiet server too; probe F3)', () => {
    const { w, lines, set } = watch('2027-03-01T10:00:00.000Z');
    w.applied('2027-03-01T12:00:00.000Z');
    set('2027-03-01T10:00:30.000Z');
    w.check();
    set('2027-03-01T10:01:00.000Z');
    w.check();
    set('2027-03-01T12:00:00.999Z');
    w.check();
    expect(lines.map((l) => l.level)).toEqual(['warn', 'warn', 'info']);
    w.watch();
    w.watch(); // one timer
    w.unwatch();
  });
});

describe('the revoked-token refusal', () => {
  const revocation = { subject: 'carol', revokedAt: '2028-04-01T13:00:24.178Z', reason: 'left', revokedBy: 'admin' };

  it('says the clock is behind the revocation when it is (a new token is refused too until the clocks pass it; clock probe M3)', () => {
    expect(revokedTokenMessage(revocation as never, at('2028-04-01T11:00:00.000Z'))).toMatch(/behind the revocation: tokens issued before the clocks pass it are refused too/);
    expect(revokedTokenMessage(revocation as never, at('2028-04-01T13:05:00.000Z'))).not.toMatch(/behind/);
    expect(revokedTokenMessage(revocation as never, at('2028-04-01T13:05:00.000Z'))).toMatch(/^Token revoked: .* a new token from the identity provider is needed$/);
  });

  function at(iso: string): number {
    return Date.parse(iso);
  }
});
