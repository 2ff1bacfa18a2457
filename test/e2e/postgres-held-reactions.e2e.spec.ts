import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { addRisk, draftPlan, riskWithControls, sharedAsset, todayInJapan } from '../concurrency/support.js';
import { proposeAndApproveCriteria } from './support/scenario.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';
import { sharedPostgresStore, type SharedPostgresStore } from './support/shared-postgres.js';
import { TEST_JWT_SECRET, type GraphQLResponse, type TestApp, type TestUser, users } from './support/test-app.js';

/**
 * Two instances on one PostgreSQL store, and an old row of the log edited behind their backs
 * (PostgreSQL probe F2): the instance that runs the reactions finds it and holds. The other one
 * stops waiting for those reactions at once (it waited 10 s per command, and went on taking
 * writes until its own sweep found the break 77 s later), says why, and verifies the log itself:
 * it refuses writes too within seconds, and its /health says so.
 */
const LEADS = /process manager runs the reactions on this instance/g;

function remote(server: ServerProcess): TestApp {
  const token = (user: TestUser) => signToken(TEST_JWT_SECRET, user);
  const gql = async (query: string, variables: Record<string, unknown> = {}, user?: TestUser | string): Promise<GraphQLResponse> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (user) headers.authorization = `Bearer ${typeof user === 'string' ? user : await token(user)}`;
    return (await (await fetch(server.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) })).json()) as GraphQLResponse;
  };
  const ok = async (query: string, variables: Record<string, unknown>, user: TestUser | string) => {
    const result = await gql(query, variables, user);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data;
  };
  return { url: server.url, gql, ok, token } as unknown as TestApp;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('two instances on one PostgreSQL store, the log edited under them', () => {
  let store: SharedPostgresStore | undefined;
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;

  beforeAll(async () => {
    buildOnce();
    store = await sharedPostgresStore('rl_held');
    a = await startServer(store.env('a'));
    b = await startServer(store.env('b'));
  }, 120_000);
  afterAll(async () => {
    if (a) await stopServer(a);
    if (b) await stopServer(b);
    await store?.stop();
  });

  it('the instance that does not lead stops waiting for reactions held by the one that does, says why, and finds the break itself', async () => {
    const leader = (a!.output().match(LEADS) ?? []).length === 1 ? a! : b!;
    const follower = leader === a ? b! : a!;
    const [onLeader, onFollower] = [remote(leader), remote(follower)];
    await proposeAndApproveCriteria(onFollower);
    const riskId = await riskWithControls(onFollower, await sharedAsset(onFollower, 'Held desk'), 'Held desk fraud');
    const planId = await draftPlan(onFollower, 'Held plan');
    await addRisk(onFollower, planId, riskId);
    await onFollower.ok(`mutation($input: PlanRefInput!) { submitPlan(input: $input) { id } }`, { input: { planId } }, users.committee);

    // An old row edited as a superuser (triggers off), then found by the leader.
    const client = new pg.Client({ connectionString: store!.databaseUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      const { rowCount } = await client.query(`UPDATE risk_ledger.events SET data = replace(data, 'Rare', 'Raer') WHERE position = (SELECT min(position) FROM risk_ledger.events WHERE type = 'RiskCriteriaProposed')`);
      expect(rowCount).toBe(1);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    const found = (await onLeader.ok(`{ verifyIntegrity { ok firstBrokenPosition } }`, {}, users.auditor)).verifyIntegrity;
    expect(found.ok).toBe(false);

    // The follower has not found it: its write is taken (the leader holds as it comes to it), but
    // the follower does not wait 10 s for reactions that will not come.
    const started = Date.now();
    const approved = await onFollower.gql(`mutation($input: RecordBoardResolutionInput!) { recordBoardResolution(input: $input) { id status } }`, {
      input: { planId, resolutionNumber: 'BR-held', meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: 'Minutes held' },
    }, users.secretary);
    const answeredIn = Date.now() - started;
    if (approved.errors?.length) {
      // Or it had already verified the log itself (the hold was seen by an earlier wait): the write is refused.
      expect(approved.errors[0]!.extensions).toMatchObject({ code: 'INTEGRITY_BROKEN' });
    } else {
      expect(approved.data).toMatchObject({ recordBoardResolution: { status: 'APPROVED' } });
      expect((approved as { extensions?: unknown }).extensions).toMatchObject({ readModels: { confirmed: false, message: expect.stringContaining('the reactions hold at') } });
    }
    expect(answeredIn).toBeLessThan(5_000);
    expect(leader.output()).toMatch(/reactions hold: the log fails verification/);
    // And it verifies the log itself at once: BROKEN within seconds (its sweep came after 77 s).
    await until('the follower to find the break', async () => (await fetch(new URL('/health', follower.url))).status === 503);
    const refused = await onFollower.gql(`mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`, {
      input: { name: 'After the break', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 },
    }, users.opsManager);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'INTEGRITY_BROKEN' });
  }, 120_000);
});
