import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';
import { holdSqliteLock, type HeldSqliteLock } from '../support/sqlite-lock.js';

const SECRET = 'outside-store-lock-secret-0123456789abcdef';
const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id name version } }`;
const asset = (name: string) => ({ i: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 2, integrity: 2, availability: 2 } });

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return response.json();
}

/**
 * Operations probe 10-c M2: another process holds BEGIN EXCLUSIVE on the live events.sqlite (an
 * operator's `sqlite3` session, a backup tool). The store's busy handler used to wait on the event
 * loop: /health/live answered in 4.7 s, and a 30 s lock got the container restarted by its
 * HEALTHCHECK. Now a mutation waits for the lock on timers, the process answers meanwhile, and
 * the mutation commits once the lock is released. Ordering only: nothing here measures a duration.
 */
describe('a lock on the store file held by another process', () => {
  let dir: string;
  let server: ServerProcess;
  let manager: string;
  let lock: HeldSqliteLock | undefined;

  beforeAll(async () => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-outside-lock-'));
    manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    server = await startServer({ SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, NODE_ENV: 'test' });
    // The store file exists and the server has written to it once.
    const first = await gql(server.url, manager, REGISTER, asset('before the lock'));
    expect(first.errors).toBeUndefined();
  });

  afterAll(async () => {
    await lock?.release();
    if (server) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('/health/live answers while a mutation waits for the lock, and the mutation commits once it is released', async () => {
    lock = await holdSqliteLock(join(dir, 'events.sqlite'));
    let settled = false;
    const mutation = gql(server.url, manager, REGISTER, asset('during the lock')).finally(() => (settled = true));
    // Twenty probes one after the other (each after a 10 ms timer): the mutation has long reached
    // the store meanwhile, and still waits for the lock (5 s budget, SqliteEventStoreOptions).
    const live = server.url.replace(/\/graphql$/, '/health/live');
    for (let i = 0; i < 20; i++) {
      const response = await fetch(live);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      expect(settled).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    await lock.release();
    lock = undefined;
    const answer = await mutation;
    expect(answer.errors).toBeUndefined();
    expect(answer.data.registerAsset).toMatchObject({ name: 'during the lock', version: 0 });
  });
});
