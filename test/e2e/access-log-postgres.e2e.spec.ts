import { inFlight } from '../../src/audit/application/access-log-crosscheck.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { cliInProcess } from './support/cli-in-process.js';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';
import { sharedPostgresStore, type SharedPostgresStore } from './support/shared-postgres.js';
import { TEST_JWT_SECRET, users } from './support/test-app.js';
import { eventually } from '../support/eventually.js';

/**
 * The access log on PostgreSQL (issue 12): two server processes on one database write ONE access
 * log, their entries interleaved in one order and each batch signed with the shared key; the
 * entries edited in the database (triggers dropped first) are named at their position by
 * `verifyAccessLog` on either instance and by `npm run cli -- verify-access-log`; and the newest
 * entries deleted together with their signed heads are caught by the anchor of the instance that
 * wrote them, which then refuses to start.
 */
const LOG = `query L { accessLog(first: 500) { edges { node { id operationName outcome hash prevHash } } } }`;
const VERIFY = `query V { verifyAccessLog { ok eventsChecked firstBrokenPosition reason headPosition signaturesChecked } }`;

type Node = { id: string; operationName: string | null; outcome: string; hash: string; prevHash: string };

async function gql(server: ServerProcess, query: string): Promise<any> {
  const token = await signToken(TEST_JWT_SECRET, users.auditor);
  const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });
  return response.json();
}

async function entries(server: ServerProcess): Promise<Node[]> {
  const result = await gql(server, LOG);
  expect(result.errors).toBeUndefined();
  return result.data.accessLog.edges.map((e: { node: Node }) => e.node);
}

/**
 * Until `server`'s access log lists an entry of `operationName`: a request's entry is written in
 * the background after its answer (and reading the log through the same instance writes its queue
 * first), so the next request on the other instance comes after it in the one order.
 */
const written = (server: ServerProcess, operationName: string) =>
  eventually(`${operationName} in the access log`, async () => (await entries(server)).some((e) => e.operationName === operationName), 20_000, 50);

async function verify(server: ServerProcess): Promise<any> {
  const result = await gql(server, VERIFY);
  expect(result.errors).toBeUndefined();
  return result.data.verifyAccessLog;
}

describe('the access log in the shared PostgreSQL database', () => {
  let store: SharedPostgresStore;
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;
  const env = (name: string) => store.env(name);

  /** The CLI in this process with instance `name`'s configuration. */
  const cli = (name: string) => cliInProcess(['verify-access-log'], env(name));

  async function sql<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: store.databaseUrl });
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    buildOnce();
    store = await sharedPostgresStore('rl_access_log');
    a = await startServer(env('a'));
    b = await startServer(env('b'));
  }, 120_000);
  afterAll(async () => {
    if (a) await stopServer(a);
    if (b) await stopServer(b);
    await store?.stop();
  });

  it('lists the entries of both instances in one order, on either, and verifies them', async () => {
    // Each entry written before the next request (not 80 ms later: an instance slower to write its batch swapped them).
    for (let i = 0; i < 3; i++) {
      await gql(a!, `query FromA${i} { __typename }`);
      await written(a!, `FromA${i}`);
      await gql(b!, `query FromB${i} { __typename }`);
      await written(b!, `FromB${i}`);
    }
    const onA = await entries(a!);
    const onB = await entries(b!);
    // One chain: seq 1..n without gaps, each entry linked to the one before, whichever instance wrote it.
    expect(onA.map((e) => e.id)).toEqual(onA.map((_, i) => String(i + 1)));
    for (let i = 1; i < onA.length; i++) expect(onA[i]!.prevHash).toBe(onA[i - 1]!.hash);
    // The same log on both instances (B's list was asked later, so it may hold more).
    expect(onB.slice(0, onA.length)).toEqual(onA);
    const order = onB.map((e) => e.operationName).filter((n): n is string => /^From[AB]\d$/.test(n ?? ''));
    expect(order).toEqual(['FromA0', 'FromB0', 'FromA1', 'FromB1', 'FromA2', 'FromB2']);

    const heads = await sql<{ instance_id: string }>('SELECT DISTINCT instance_id FROM risk_ledger.access_log_heads');
    expect(heads.length).toBe(2);
    for (const server of [a!, b!]) {
      const report = await verify(server);
      expect(report).toMatchObject({ ok: true, firstBrokenPosition: null, reason: null });
      expect(report.signaturesChecked).toBeGreaterThan(0);
      expect(report.eventsChecked).toBeGreaterThanOrEqual(onB.length);
    }
    const offline = await cli('a');
    expect(offline.code).toBe(0);
    expect(offline.json).toMatchObject({ command: 'verify-access-log', database: 'postgres', ok: true });
    expect(offline.json.signaturesChecked).toBeGreaterThan(0);

    // A change on each instance: the CLI finds both requests in the shared log (the cross-check
    // with the event log, here over every change however young).
    const ciso = await signToken(TEST_JWT_SECRET, users.ciso);
    for (const [server, name, operation] of [[a!, 'Shared log A', 'SharedLogA'], [b!, 'Shared log B', 'SharedLogB']] as const) {
      const input = { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 2, integrity: 2, availability: 2 };
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ciso}` }, body: JSON.stringify({ query: `mutation ${operation}($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`, variables: { input } }) });
      expect(((await response.json()) as any).errors).toBeUndefined();
      // Its entry in the shared log before the CLI looks (not a guessed 300 ms).
      await written(server, operation);
    }
    const saved = inFlight.ms;
    inFlight.ms = 0;
    try {
      expect((await cli('b')).json).toMatchObject({ ok: true, reason: null });
    } finally {
      inFlight.ms = saved;
    }

    // The triggers refuse changes.
    await expect(sql(`UPDATE risk_ledger.access_log SET outcome = 'DENIED' WHERE seq = 1`)).rejects.toThrow(/append-only/);
    await expect(sql('DELETE FROM risk_ledger.access_log_heads')).rejects.toThrow(/append-only/);
    await expect(sql('TRUNCATE risk_ledger.access_log')).rejects.toThrow(/append-only/);
  }, 60_000);

  it('names an entry edited in the database at its position, on both instances and in the CLI', async () => {
    const [target] = await sql<{ seq: string; operation_name: string }>(`SELECT seq, operation_name FROM risk_ledger.access_log WHERE operation_name = 'FromB1'`);
    const seq = target!.seq;
    await sql('DROP TRIGGER access_log_no_update_delete ON risk_ledger.access_log');
    await sql(`UPDATE risk_ledger.access_log SET operation_name = 'Nothing' WHERE seq = $1`, [seq]);
    for (const server of [a!, b!]) {
      const report = await verify(server);
      expect(report).toMatchObject({ ok: false, firstBrokenPosition: seq });
      expect(report.reason).toMatch(new RegExp(`entry ${seq} was altered`));
    }
    const offline = await cli('b');
    expect(offline.code).toBe(1);
    expect(offline.json).toMatchObject({ ok: false, firstBrokenSeq: Number(seq) });
    // Put it back: the chain verifies again.
    await sql(`UPDATE risk_ledger.access_log SET operation_name = 'FromB1' WHERE seq = $1`, [seq]);
    expect(await verify(a!)).toMatchObject({ ok: true });
  }, 60_000);

  it('catches the newest entries deleted with their signed heads by the anchor of the instance that wrote them', async () => {
    await stopServer(b!);
    b = undefined;
    const anchor = JSON.parse(readFileSync(join(store.work, 'b', 'access-log.postgres-anchor.json'), 'utf8')) as { seq: number };
    expect(anchor.seq).toBeGreaterThan(0);
    await sql('DROP TRIGGER access_log_heads_no_update_delete ON risk_ledger.access_log_heads');
    await sql('DELETE FROM risk_ledger.access_log WHERE seq >= $1', [anchor.seq]);
    await sql('DELETE FROM risk_ledger.access_log_heads WHERE seq >= $1', [anchor.seq]);

    const offline = await cli('b');
    expect(offline.code).toBe(1);
    expect(offline.json).toMatchObject({ ok: false, firstBrokenSeq: anchor.seq });
    expect(offline.json.reason).toMatch(/deleted from the end/);
    // B does not go on over it.
    const refused = await startServer(env('b')).then(
      async (s) => {
        await stopServer(s, 'SIGKILL');
        return null;
      },
      (error: Error) => error.message,
    );
    expect(refused).toMatch(/server exited with 1/);
    expect(refused).toMatch(/deleted from the end/);
    // A, whose own newest batch went too, records the loss in the log when it next writes.
    const report = await verify(a!);
    expect(report.ok).toBe(false);
  }, 60_000);
});
