import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';
import { TestApp, users } from './support/test-app.js';

/**
 * The database goes away and comes back (`pg_ctl stop -m fast`, then start), under an instance
 * on EVENT_STORE=postgres: an outside probe saw the projections stop for good ("projection
 * subscription stopped", /health 503 unavailable with a stale checkpoint, the instance's reads
 * missing its own writes), graphql-ws subscriptions go silently dead, and mutations answer
 * INTERNAL_SERVER_ERROR while the database was away.
 */
const REGISTER = `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id version } }`;
const ASSET = `query($id: ID!) { asset(id: $id) { id name } }`;
const asset = (name: string) => ({ input: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 } });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('an instance on PostgreSQL while the database is away and after it is back', () => {
  let postgres: PostgresServer;
  let t: TestApp;
  let detailed: Record<string, string>;
  const health = async () => {
    const response = await fetch(`${t.url}/health`, { headers: detailed });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  /** Stops the database until `during` is done, then starts it again. */
  const outage = async (during: () => Promise<unknown>) => {
    postgres.halt();
    try {
      await during();
    } finally {
      postgres.resume();
    }
  };

  beforeAll(async () => {
    postgres = await startPostgres();
    t = await TestApp.start({ store: 'postgres', databaseUrl: await postgres.createDatabase('rl_outage_e2e') });
    detailed = { authorization: `Bearer ${await t.token(users.auditor)}` };
    // The outages below start at once: every pool's idle connections (the evidence blob store's
    // from its init included) are ended by the server while idle, and must not end the process.
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await postgres?.stop();
  }, 60_000);

  it('the projections retry while it is away, resume from their checkpoint, and /health returns to ok', async () => {
    const before = (await t.ok(REGISTER, asset('Before the outage'), users.opsManager)).registerAsset;
    expect((await health()).body.status).toBe('ok');
    await outage(async () => {
      // The projections meet the lost connection and retry it (backoff), rather than stopping for
      // good. (The reactions' lead is lost with its session: they stop following until it is taken again.)
      const during = await until('the projections to retry', async () => {
        const h = await health();
        return h.body.projections?.retrying ? h : undefined;
      });
      expect(during.status).toBe(503);
      expect(during.body.projections).toMatchObject({ ok: false, retrying: { attempts: expect.any(Number) } });
    });
    const back = await until('/health to be ok again', async () => {
      const h = await health();
      return h.status === 200 ? h : undefined;
    });
    expect(back.body).toMatchObject({ status: 'ok', projections: { ok: true }, processManager: { ok: true } });
    expect(back.body.projections.retrying).toBeUndefined();
    // Read-your-writes again: the instance's own write is in its read models when it answers.
    const after = (await t.ok(REGISTER, asset('After the outage'), users.opsManager)).registerAsset;
    expect((await t.ok(ASSET, { id: after.id }, users.auditor)).asset).toEqual({ id: after.id, name: 'After the outage' });
    expect((await t.ok(ASSET, { id: before.id }, users.auditor)).asset).toEqual({ id: before.id, name: 'Before the outage' });
  }, 90_000);

  it('graphql-ws subscriptions go on after it is back: the next commits reach them, each once', async () => {
    const client = await t.wsClient(users.auditor);
    const received: string[] = [];
    const ended: string[] = [];
    const subscriptionsBefore = t.liveSubscriptions();
    client.subscribe(
      { query: `subscription { eventAppended(types: ["AssetRegistered"]) { type data } }` },
      { next: (msg) => void received.push((msg.data as any).eventAppended.data.name), error: (e) => void ended.push(`error ${JSON.stringify(e)}`), complete: () => void ended.push('complete') },
    );
    try {
      // Only what is committed once the subscription is registered reaches it (a guessed 300 ms before).
      await until('the subscription to be registered', async () => t.liveSubscriptions() > subscriptionsBefore);
      await t.ok(REGISTER, asset('Seen live before'), users.opsManager);
      await until('the first event live', async () => received.length === 1);
      // Long enough for the feed's next read to meet the refused connection.
      await outage(async () => void (await sleep(2_500)));
      const after = await until('a write to succeed again', async () => (await t.gql(REGISTER, asset('Seen live after'), users.opsManager)).data?.registerAsset);
      expect(after.id).toEqual(expect.any(String));
      await until('the event committed after the outage, live', async () => received.length >= 2);
      await t.ok(REGISTER, asset('Seen live later'), users.opsManager);
      await until('the next one too', async () => received.length >= 3);
      await sleep(300);
      expect(received).toEqual(['Seen live before', 'Seen live after', 'Seen live later']);
      expect(ended).toEqual([]);
      const h = await until('/health to be ok', async () => {
        const r = await health();
        return r.status === 200 ? r : undefined;
      });
      expect(h.body.liveEvents).toEqual({ ok: true, checkpoint: expect.any(String) });
    } finally {
      await client.dispose();
    }
  }, 90_000);

  it('a mutation while it is away is a retryable STORE_UNAVAILABLE that says nothing was recorded, never INTERNAL_SERVER_ERROR', async () => {
    let answer: { message: string; extensions?: Record<string, any> } | undefined;
    await outage(async () => {
      answer = (await t.gql(REGISTER, asset('Sent while away'), users.opsManager)).errors?.[0];
    });
    expect(answer?.extensions).toEqual({ code: 'STORE_UNAVAILABLE' });
    expect(answer?.message).toMatch(/nothing was recorded/);
    // It was not: the same command succeeds once the database is back.
    const retried = await until('the retry to succeed', async () => (await t.gql(REGISTER, asset('Sent while away'), users.opsManager)).data?.registerAsset);
    expect(retried.version).toBe(0);
  }, 90_000);

  it('a query that reads the log while it is away is STORE_UNAVAILABLE too, never INTERNAL_SERVER_ERROR', async () => {
    const { id } = (await t.ok(REGISTER, asset('Read while away'), users.opsManager)).registerAsset;
    const answers: Record<string, { message: string; extensions?: Record<string, any> } | undefined> = {};
    await outage(async () => {
      for (const [name, query, variables] of [
        ['history', `query($id: ID!) { history(id: $id) { type } }`, { id }],
        ['events', `{ events(first: 5) { edges { node { type } } } }`, {}],
        ['asOf', `query($id: ID!) { asset(id: $id, asOf: "2020-01-01T00:00:00Z") { id } }`, { id }],
      ] as const) {
        answers[name] = (await t.gql(query, variables, users.auditor)).errors?.[0];
      }
    });
    for (const name of ['history', 'events', 'asOf']) {
      expect({ name, extensions: answers[name]?.extensions }).toEqual({ name, extensions: { code: 'STORE_UNAVAILABLE' } });
      expect(answers[name]?.message).toMatch(/unavailable/);
    }
  }, 90_000);
});

/**
 * The same outage under a server process of its own (in jest's process a driver's error is of
 * another realm, which Nest's logging does not take for an Error): a query that reads the log is
 * answered STORE_UNAVAILABLE and logged as one warning line, where Nest's ExceptionsHandler logged
 * the driver's error at error level with its stack (operations probe 10-c L6).
 */
describe('a server process on PostgreSQL while the database is away', () => {
  const SECRET = 'postgres-outage-secret-0123456789abcdef';
  let postgres: PostgresServer;
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    buildOnce();
    // TestApp.start above left DATABASE_URL set to the other cluster's database, stopped by now:
    // startPostgres would take it for a server given to the tests.
    delete process.env.DATABASE_URL;
    postgres = await startPostgres();
    dataDir = mkdtempSync(join(tmpdir(), 'risk-ledger-pg-outage-'));
    server = await startServer({ JWT_SECRET: SECRET, NODE_ENV: 'test', DATA_DIR: dataDir, EVENT_STORE: 'postgres', DATABASE_URL: await postgres.createDatabase('rl_outage_process') });
  }, 180_000);
  afterAll(async () => {
    if (server) await stopServer(server);
    await postgres?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('answers a query that reads the log STORE_UNAVAILABLE and logs it in one warning line, no stack', async () => {
    const token = await signToken(SECRET, { sub: 'auditor', name: 'Auditor', roles: ['AUDITOR'] });
    const query = async (body: string) => {
      const response = await fetch(server.url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: body }) });
      return (await response.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    };
    expect((await query('{ events(first: 1) { edges { node { type } } } }')).errors).toBeUndefined();
    const before = server.output().length;
    postgres.halt();
    let answer;
    try {
      answer = await query('{ events(first: 5) { edges { node { type } } } }');
    } finally {
      postgres.resume();
    }
    expect(answer.errors?.[0]?.extensions?.code).toBe('STORE_UNAVAILABLE');
    // Its log lines are written by the end of the request's turn; a second request flushes them.
    await query('{ events(first: 1) { edges { node { type } } } }');
    const lines = server.output().slice(before).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === 'operation refused: the event store is unavailable')).toEqual([expect.objectContaining({ level: 'warn', path: ['events'] })]);
    // (The access log and the integrity check say at error level that the database is away: theirs to say.)
    expect(lines.filter((l) => l.context === 'ExceptionsHandler' || JSON.stringify(l).includes('"stack"'))).toEqual([]);
  }, 120_000);
});
