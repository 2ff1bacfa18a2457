import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CLIENTS, expectCutAtTheRevocation, raceRevocation } from './support/revocation-race.js';
import { TestApp, users } from './support/test-app.js';

/**
 * A token revoked while 16 requests of its holder are in flight, on the embedded store (race probe
 * of 2026-12-07, F3: writes already past the request's check committed up to ~40 ms after the
 * revocation). Each command is judged against the revocations again at its append
 * (src/identity/application/revocation-admission.ts): in the log, every write of that subject comes
 * before the revocation, every acknowledged one is there, and those refused say UNAUTHENTICATED.
 */

describe('a token revoked while its writes are in flight (embedded store)', () => {
  let t: TestApp;
  let round = 0;

  beforeAll(async () => {
    t = await TestApp.start();
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('lands none of its writes after the revocation in the log; every client is refused once it is recorded', async () => {
    let inFlightRounds = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 20, max: 120 }), fc.array(fc.integer({ min: 0, max: 15 }), { minLength: CLIENTS, maxLength: CLIENTS }), async (revokeAfterMs, startDelays) => {
        const sub = `racer-${++round}`;
        const outcome = await raceRevocation({
          sub,
          writers: [(query, variables, token) => t.gql(query, variables, token)],
          revoke: () => t.gql(`mutation($s: ID!) { revokeTokens(input: { subject: $s, reason: "Left the company" }) { revokedAt } }`, { s: sub }, users.admin),
          read: (query, variables) => t.gql(query, variables, users.auditor),
          revokeAfterMs,
          startDelays,
        });
        expectCutAtTheRevocation(outcome);
        // The race was real: writes acknowledged before it, and every client refused after it.
        expect(outcome.acknowledged.length).toBeGreaterThan(0);
        expect(outcome.refusals).toHaveLength(CLIENTS);
        if (outcome.written.length > 0) inFlightRounds++;
      }),
      { numRuns: 6 },
    );
    expect(inFlightRounds).toBe(6);
  }, 240_000);
});
