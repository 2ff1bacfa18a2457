import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { eventually } from '../support/eventually.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';

const SECRET = 'access-log-unwritable-secret-0123456789ab';
const PORT = 4617;
const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`;
const asset = (name: string) => ({ i: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 2, integrity: 2, availability: 2 } });

/**
 * The server whose access log cannot be written (a stand-in for its full disk: a trigger that
 * makes every insert fail, as in the unit tests): mutations are refused STORE_UNAVAILABLE and
 * commit nothing, reads go on, /health says the access log is failing; once it can be written
 * again, everything queued is written and mutations are accepted (operations probe 10-c M4).
 * The cap on unwritten entries is the server's setting ACCESS_LOG_MAX_QUEUED (5000 here).
 */
describe('a server whose access log cannot be written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-access-log-unwritable-'));
  let server: ServerProcess;
  let manager: string;
  let auditor: string;

  const gql = async (token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> =>
    (await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) })).json();
  const health = async () => {
    const r = await fetch(server.url.replace(/\/graphql$/, '/health'), { headers: { authorization: `Bearer ${auditor}` } });
    return { status: r.status, body: (await r.json()) as any };
  };
  const assetCount = async () => (await gql(auditor, '{ assets { totalCount } }')).data.assets.totalCount as number;

  beforeAll(async () => {
    buildOnce();
    server = await startServer({ EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, NODE_ENV: 'test', PORT: String(PORT), ACCESS_LOG_MAX_QUEUED: '5000' });
    manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
  }, 180_000);

  afterAll(async () => {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses mutations STORE_UNAVAILABLE, committing nothing, while reads go on; /health degraded; then recovers with every entry written', async () => {
    try {
      await scenario();
    } catch (error) {
      // What the server said, to tell a failure of this test from a server that went away.
      throw new Error(`${(error as Error).stack}\n--- server output (exit ${server.child.exitCode ?? server.child.signalCode}):\n${server.output().slice(-4000)}`);
    }
  });

  async function scenario(): Promise<void> {
    expect((await gql(manager, REGISTER, asset('before'))).data?.registerAsset?.id).toEqual(expect.any(String));
    expect(await health()).toMatchObject({ status: 200, body: { status: 'ok', accessLog: { ok: true, state: 'writing' } } });
    const before = await assetCount();

    const other = new Database(join(dir, 'access-log.sqlite'));
    other.exec(`CREATE TRIGGER full_disk BEFORE INSERT ON access_log BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    // A read's entry is the first batch that fails.
    await eventually('the access log to report failing writes', async () => {
      await assetCount();
      return (await health()).body.accessLog?.state === 'writes-failing';
    });
    const h = await health();
    expect(h).toMatchObject({ status: 503, body: { status: 'degraded', accessLog: { ok: false, state: 'writes-failing', details: { queued: expect.any(Number), maxQueued: 5000, writesFailing: { lastError: expect.stringMatching(/disk is full/) } } } } });

    const refused = await gql(manager, REGISTER, asset('during'));
    expect(refused.errors?.[0]?.extensions?.code).toBe('STORE_UNAVAILABLE');
    expect(refused.data?.registerAsset ?? null).toBeNull();
    expect(await assetCount()).toBe(before); // nothing committed, and reads still answered

    other.exec('DROP TRIGGER full_disk');
    other.close();
    await eventually('the access log to be written again', async () => (await health()).body.accessLog?.ok === true);
    expect((await gql(manager, REGISTER, asset('after'))).data?.registerAsset?.id).toEqual(expect.any(String));
    const verified = await gql(auditor, '{ verifyAccessLog { ok reason } }');
    expect(verified.data?.verifyAccessLog).toEqual({ ok: true, reason: null });
    const log = await gql(auditor, '{ accessLog(first: 200) { edges { node { operationType outcome errorCode fields } } } }');
    const refusedEntries = log.data.accessLog.edges.filter((e: any) => e.node.fields.includes('registerAsset') && e.node.errorCode === 'STORE_UNAVAILABLE');
    expect(refusedEntries).toHaveLength(1); // the refusal itself is in the log
  }
});
