/**
 * A token revoked while its holder's writes are in flight (race probe of 2026-12-07, F3: with only
 * the request's check, writes already past it committed up to ~40 ms after the revocation). Sixteen
 * clients register assets with one subject's token, each sending its next request as soon as the
 * last is answered, and the revocation is sent while they run. What the log must then show: every
 * write of that subject before the revocation, the ones acknowledged all there, nothing after.
 */
import { expect } from '@jest/globals';
import { SignJWT } from 'jose';
import { TEST_JWT_SECRET } from './test-app.js';

export const CLIENTS = 16;
const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`;
const EVENTS = `query($after: String, $types: [String!]) { events(first: 500, after: $after, types: $types) { edges { node { position type streamId data metadata { actor { id } } } } pageInfo { hasNextPage endCursor } } }`;

type Gql = (query: string, variables: Record<string, unknown>, token: string) => Promise<{ data?: any; errors?: { message: string; extensions?: Record<string, any> }[] }>;

/** A token of `sub` (an ops ASSET_MANAGER) issued a minute ago, as an identity provider would issue it. */
export function racerToken(sub: string): Promise<string> {
  return new SignJWT({ name: sub, roles: ['ASSET_MANAGER'], department: 'ops' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(Math.floor(Date.now() / 1000) - 60)
    .setExpirationTime('8h')
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

export interface RaceOutcome {
  /** Ids of the assets whose registration was answered with data. */
  acknowledged: string[];
  /** Codes of the refused registrations. */
  refusals: string[];
  /** The revocation's position, and the subject's AssetRegistered events (position, asset id). */
  revokedAt: string;
  written: { position: string; assetId: string }[];
}

/**
 * Runs one race: `writers[i]` is the GraphQL endpoint client i writes to (one instance, or several
 * on one database), `revoke` sends the revocation after `revokeAfterMs`; each client starts
 * `startDelays[i]` ms late. Clients stop at their first refusal or once the revocation has been
 * answered for 500 ms (the refusals of a revoked token come at once after it).
 */
export async function raceRevocation(options: {
  sub: string;
  writers: Gql[];
  revoke: () => Promise<{ data?: any; errors?: unknown[] }>;
  read: (query: string, variables: Record<string, unknown>) => Promise<{ data?: any; errors?: unknown[] }>;
  revokeAfterMs: number;
  startDelays: readonly number[];
}): Promise<RaceOutcome> {
  const token = await racerToken(options.sub);
  const acknowledged: string[] = [];
  const refusals: string[] = [];
  let answeredAt: number | undefined;
  const client = async (i: number) => {
    await new Promise((r) => setTimeout(r, options.startDelays[i] ?? 0));
    for (let n = 0; n < 400; n++) {
      if (answeredAt !== undefined && Date.now() - answeredAt > 500) return;
      const name = `${options.sub} asset ${i}-${n}`;
      const answer = await options.writers[i % options.writers.length]!(REGISTER, { i: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 2, integrity: 2, availability: 2 } }, token);
      if (answer.errors?.length) {
        refusals.push(String(answer.errors[0]!.extensions?.code ?? answer.errors[0]!.message));
        return;
      }
      acknowledged.push(answer.data.registerAsset.id);
    }
  };
  const revocation = (async () => {
    await new Promise((r) => setTimeout(r, options.revokeAfterMs));
    const answer = await options.revoke();
    answeredAt = Date.now();
    if (answer.errors?.length) throw new Error(`revokeTokens failed: ${JSON.stringify(answer.errors)}`);
  })();
  await Promise.all([revocation, ...Array.from({ length: CLIENTS }, (_, i) => client(i))]);

  const events: { position: string; type: string; data: any; metadata: { actor: { id: string } } }[] = [];
  for (let after: string | null = null; ; ) {
    const page = await options.read(EVENTS, { after, types: ['AssetRegistered', 'TokensRevoked'] });
    if (page.errors?.length) throw new Error(`events failed: ${JSON.stringify(page.errors)}`);
    events.push(...page.data.events.edges.map((e: { node: (typeof events)[number] }) => e.node));
    if (!page.data.events.pageInfo.hasNextPage) break;
    after = page.data.events.pageInfo.endCursor;
  }
  const revokedEvent = events.find((e) => e.type === 'TokensRevoked' && e.data.subject === options.sub);
  if (!revokedEvent) throw new Error(`no TokensRevoked for ${options.sub}`);
  const written = events.filter((e) => e.type === 'AssetRegistered' && e.metadata.actor.id === options.sub).map((e) => ({ position: e.position, assetId: e.data.assetId as string }));
  return { acknowledged, refusals, revokedAt: revokedEvent.position, written };
}

/** What every round must show, whichever way the race went. */
export function expectCutAtTheRevocation(outcome: RaceOutcome): void {
  const late = outcome.written.filter((w) => w.position > outcome.revokedAt);
  expect(late).toEqual([]);
  // Nothing acknowledged lost, nothing written that was answered as refused.
  expect(outcome.written.map((w) => w.assetId).sort()).toEqual([...outcome.acknowledged].sort());
  expect(new Set(outcome.refusals)).toEqual(new Set(outcome.refusals.length ? ['UNAUTHENTICATED'] : []));
}
