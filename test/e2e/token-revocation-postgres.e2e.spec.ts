import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { subscribedSocket } from './support/ws-subscription.js';
import type { ServerProcess } from './support/server-process.js';
import { remote, twoInstancesOnPostgres } from './support/two-instances.js';
import { CLIENTS, expectCutAtTheRevocation, raceRevocation } from './support/revocation-race.js';
import { TEST_JWT_SECRET, users, type GraphQLResponse, type TestUser } from './support/test-app.js';

/**
 * Two server processes on one PostgreSQL store: a revocation recorded through one is enforced by
 * the other from the log (the in-process bus of one is nothing to the other) within about a
 * second: its requests are refused and its open subscription of that subject is closed with 4401.
 */

function tokenIssuedAt(sub: string, roles: string[], iat: number): Promise<string> {
  return new SignJWT({ roles }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt(iat).setExpirationTime('8h').sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

async function gql(server: ServerProcess, query: string, token: string | TestUser): Promise<GraphQLResponse> {
  const bearer = typeof token === 'string' ? token : await signToken(TEST_JWT_SECRET, token);
  const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify({ query }) });
  return (await response.json()) as GraphQLResponse;
}

function subscribed(server: ServerProcess, token: string): Promise<{ closed: Promise<number> }> {
  return subscribedSocket(server.url.replace('http', 'ws'), token, 'subscription { eventAppended { streamId } }');
}

describe('revokeTokens across two instances on one PostgreSQL store', () => {
  const instances = twoInstancesOnPostgres('rl_revocation');
  const a = () => instances.a();
  const b = () => instances.b();

  it('the other instance refuses the token and closes its subscription within about a second', async () => {
    const old = await tokenIssuedAt('owen', ['RISK_OWNER'], Math.floor(Date.now() / 1000) - 60);
    expect((await gql(b(), '{ me { id } }', old)).data?.me.id).toBe('owen');
    const { closed: closedOnB } = await subscribed(b(), old);

    const revoked = await gql(a(), `mutation { revokeTokens(input: { subject: "owen", reason: "Left the company" }) { revokedAt } }`, users.admin);
    const revokedMs = Date.parse(revoked.data?.revokeTokens.revokedAt);
    expect(revoked.errors).toBeUndefined();
    const since = Date.now();
    let refusal: { message: string; extensions?: Record<string, any> } | undefined;
    // Measured to when the first refused request was sent, not to its answer: the bound is on how
    // soon B learns the revocation, not on a loaded machine's round trip.
    let tookMs = 0;
    while (!refusal) {
      const sentAt = Date.now();
      const answer = await gql(b(), '{ me { id } }', old);
      if (answer.errors?.length) {
        refusal = answer.errors[0];
        tookMs = sentAt - since;
      } else if (Date.now() - since > 5_000) throw new Error('instance B still accepts the revoked token after 5 s');
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(refusal.extensions?.code).toBe('UNAUTHENTICATED');
    expect(refusal.message).toMatch(/revoked/i);
    // LISTEN/NOTIFY wakes B's feed at once; its poll (1 s) is the bound should a notification be lost.
    expect(tookMs).toBeLessThan(1_500);
    expect(await Promise.race([closedOnB, new Promise((r) => setTimeout(() => r('still open'), 3_000))])).toBe(4401);

    // A token issued after the revocation (more than the 30 s clock tolerance after it: an iat that
    // far ahead may belong to a token minted before) works on both; B lists the revocation too.
    await new Promise((r) => setTimeout(r, Math.max(0, revokedMs + 1_000 - Date.now())));
    const fresh = await tokenIssuedAt('owen', ['RISK_OWNER'], Math.floor(revokedMs / 1000) + 31);
    expect((await gql(b(), '{ me { id } }', fresh)).data?.me.id).toBe('owen');
    expect((await gql(a(), '{ me { id } }', fresh)).data?.me.id).toBe('owen');
    expect((await gql(b(), '{ tokenRevocations { subject revokedBy } }', users.auditor)).data?.tokenRevocations).toEqual([{ subject: 'owen', revokedBy: 'admin' }]);
  }, 60_000);

  it('cuts the writes in flight on both instances at the revocation in the log, though B learns it up to a second later', async () => {
    // 16 clients, one in two on each instance, the revocation sent to A: B's commands are judged at
    // their append against the revocations stream itself, not its feed (race probe F3).
    for (const [round, revokeAfterMs] of [40, 90, 140].entries()) {
      const sub = `pg-racer-${round}`;
      const outcome = await raceRevocation({
        sub,
        writers: [a(), b()].map((server) => (query: string, variables: Record<string, unknown>, token: string) => remote(server).gql(query, variables, token)),
        revoke: () => remote(a()).gql(`mutation($s: ID!) { revokeTokens(input: { subject: $s, reason: "Left the company" }) { revokedAt } }`, { s: sub }, users.admin),
        read: (query, variables) => remote(b()).gql(query, variables, users.auditor),
        revokeAfterMs,
        startDelays: Array.from({ length: CLIENTS }, (_, i) => i % 5),
      });
      expectCutAtTheRevocation(outcome);
      expect(outcome.acknowledged.length).toBeGreaterThan(0);
      expect(outcome.refusals).toHaveLength(CLIENTS);
    }
  }, 120_000);
});
