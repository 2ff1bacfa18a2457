/**
 * Answers read while the read models do not follow the log say so (`extensions.readModels`:
 * state, checkpoint, message), as /health/ready does: catching up at a start behind the log
 * (read models lost), retrying a storage error (a full read-model disk), stopped for good (an
 * error that is not transient). Once they follow the log again, answers carry nothing. Before,
 * such answers looked complete and current (upgrade probe: answers from 216 of 250 events).
 */
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { loadSigningKeys } from '../../src/event-store/signing.js';
import { writeRegisterLog } from '../../bench/support/register-log.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';
import { wsOperation } from './support/ws-subscription.js';

const SECRET = 'stale-answers-secret-0123456789abcdef';
const POSITION = expect.stringMatching(/^\d{19}$/);

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify({ query, variables }) });
  return response.json();
}

async function healthStatus(url: string): Promise<number> {
  return (await fetch(url.replace(/\/graphql$/, '/health'))).status;
}

async function untilHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await healthStatus(url)) !== 200) {
    if (Date.now() > deadline) throw new Error(`/health did not become ok: ${JSON.stringify(await (await fetch(url.replace(/\/graphql$/, '/health'), { headers: { authorization: `Bearer ${await signToken(SECRET, { sub: 'ops', roles: ['AUDITOR'] })}` } })).json())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id name version } }`;
const ASSETS = `{ assets(first: 5) { edges { node { id name } } } }`;
const asset = (name: string) => ({ i: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 2, integrity: 2, availability: 2 } });

describe('answers read while the read models do not follow the log', () => {
  let manager: string;
  let auditor: string;
  let server: ServerProcess | undefined;
  let dir: string | undefined;
  let ballast: Database.Database | undefined;

  beforeAll(async () => {
    buildOnce();
    manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
  }, 120_000);

  afterEach(async () => {
    ballast?.close();
    ballast = undefined;
    if (server) await stopServer(server, 'SIGKILL');
    server = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A ballast table that takes the read-model file to READ_MODEL_MAX_PAGES: their next page fails (SQLITE_FULL). */
  const fillReadModels = (d: string, maxPages: number): Database.Database => {
    const db = new Database(join(d, 'read-models.sqlite'));
    db.pragma('busy_timeout = 5000');
    db.exec('CREATE TABLE ballast (b BLOB)');
    const fill = db.prepare('INSERT INTO ballast (b) VALUES (?)');
    while ((db.pragma('page_count', { simple: true }) as number) < maxPages + 5) fill.run(randomBytes(3000));
    return db;
  };

  /**
   * A log long enough that catching up with it, or rebuilding from it, outlasts a query (a few
   * seconds of pages), signed with the key the server then finds in `d` (an unsigned log does not
   * verify), with nothing for the server to append at start; its head.
   */
  const longLog = async (d: string): Promise<string | null> => {
    const store = new SqliteEventStore({ path: join(d, 'events.sqlite'), signer: loadSigningKeys(join(d, 'signing-key.pem')).signer });
    // Names reserved as this build reserves them: on a log of an earlier build the server would
    // reserve them itself at start, moving the head the tests compare with.
    await writeRegisterLog(store, { assets: 6_000, analysesPerRisk: 1, nameReservations: true });
    const head = await store.headPosition();
    await store.close();
    return head;
  };

  const envOf = (d: string, extra: Record<string, string> = {}) => ({ SQLITE_PATH: join(d, 'events.sqlite'), DATA_DIR: d, JWT_SECRET: SECRET, NODE_ENV: 'test', ...extra });

  it('catching up at a start behind the log (read models lost): answers say so, with the checkpoint and the head, until caught up', async () => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-stale-catch-up-'));
    const head = await longLog(dir);
    server = await startServer(envOf(dir, { ACCESS_LOG_RESET: '1' }));
    const during = await gql(server.url, auditor, ASSETS);
    expect(during.errors).toBeUndefined();
    expect(during.extensions?.readModels).toMatchObject({ state: 'catching-up', head, message: expect.stringMatching(/catching up with the log.*read it again once \/health is ok/) });
    expect(Object.keys(during.extensions.readModels).sort()).toEqual(['checkpoint', 'head', 'message', 'state']);
    const { checkpoint } = during.extensions.readModels;
    // Null before the first commit, else a position short of the head.
    if (checkpoint !== null) expect(checkpoint < head!).toBe(true);

    await untilHealthy(server.url);
    const after = await gql(server.url, auditor, ASSETS);
    expect(after.errors).toBeUndefined();
    expect(after.extensions?.readModels).toBeUndefined();
  }, 180_000);

  it('rebuilding (rebuildProjections on a running server): answers say they are catching up, /health/ready is 503, until the rebuild reaches the head (PostgreSQL scale probe of 2026-12-06, M1)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-stale-rebuild-'));
    const head = await longLog(dir);
    server = await startServer(envOf(dir, { ACCESS_LOG_RESET: '1' }));
    await untilHealthy(server.url);
    const url = server.url;
    expect((await gql(url, auditor, ASSETS)).extensions?.readModels).toBeUndefined();

    const admin = await signToken(SECRET, { sub: 'ops', roles: ['ADMIN'] });
    const rebuilding = gql(url, admin, `mutation { rebuildProjections { eventsApplied } }`);
    // Read while it runs: said, with the head it rebuilds to, and not ready. Before, the answers
    // came from read models refilled from nothing with no word of it, and ready stayed 200.
    let during: any;
    let ready = 0;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      during = await gql(url, auditor, ASSETS);
      ready = (await fetch(url.replace(/\/graphql$/, '/health/ready'))).status;
      if (during.extensions?.readModels) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(during.errors).toBeUndefined();
    expect(during.extensions?.readModels).toMatchObject({ state: 'catching-up', head, message: expect.stringMatching(/catching up with the log/) });
    expect(ready).toBe(503);
    const done = await rebuilding;
    expect(done.errors).toBeUndefined();
    expect(done.data.rebuildProjections.eventsApplied).toBeGreaterThan(6_000);
    const after = await gql(url, auditor, ASSETS);
    expect(after.extensions?.readModels).toBeUndefined();
    expect((await fetch(url.replace(/\/graphql$/, '/health/ready'))).status).toBe(200);
  }, 180_000);

  /** As in local-state-faults: READ_MODEL_MAX_PAGES caps the read-model file, a ballast table fills it (SQLITE_FULL). */
  it('retrying a storage error (a full read-model disk): queries say so, a mutation says both in one object, over HTTP and graphql-ws, and nothing once they resume', async () => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-stale-retrying-'));
    const MAX_PAGES = 600;
    server = await startServer(envOf(dir, { READ_MODEL_MAX_PAGES: String(MAX_PAGES) }));
    const url = server.url;
    const first = await gql(url, manager, REGISTER, asset('before-full'));
    expect(first.errors).toBeUndefined();
    expect(first.extensions?.readModels).toBeUndefined();
    expect((await gql(url, auditor, ASSETS)).extensions?.readModels).toBeUndefined();
    const wsUrl = url.replace(/^http/, 'ws');
    const wsFirst = await wsOperation(wsUrl, manager, REGISTER, asset('before-full-ws'));
    expect(wsFirst.errors).toBeUndefined();
    expect(wsFirst.extensions?.readModels).toBeUndefined();

    ballast = fillReadModels(dir, MAX_PAGES);

    // Writes until the projections need a page they cannot have: from then on they retry, and
    // the answers of writes say both things in one object.
    const both: any[] = [];
    for (let i = 0; i < 60 && both.length < 2; i++) {
      const w = await gql(url, manager, REGISTER, asset(`during-full-${i}`));
      expect(w.errors).toBeUndefined();
      if (w.extensions?.readModels) both.push(w);
    }
    expect(both.length).toBe(2);
    for (const w of both) {
      expect(w.extensions.readModels).toEqual({ confirmed: false, position: POSITION, state: 'retrying', checkpoint: POSITION, message: expect.stringMatching(/may not show the change.*retrying a storage error since/) });
    }
    const query = await gql(url, auditor, ASSETS);
    expect(query.errors).toBeUndefined();
    expect(query.extensions?.readModels).toEqual({ state: 'retrying', checkpoint: POSITION, message: expect.stringMatching(/retrying a storage error since .* read it again once \/health is ok/) });
    expect(query.extensions.readModels.confirmed).toBeUndefined();
    // The same over graphql-ws: a query, and a write (its events committed, not applied).
    const wsQuery = await wsOperation(wsUrl, auditor, ASSETS);
    expect(wsQuery.errors).toBeUndefined();
    expect(wsQuery.extensions?.readModels).toEqual({ state: 'retrying', checkpoint: POSITION, message: expect.stringMatching(/retrying a storage error since/) });
    const wsWrite = await wsOperation(wsUrl, manager, REGISTER, asset('during-full-ws'));
    expect(wsWrite.errors).toBeUndefined();
    expect(wsWrite.extensions?.readModels).toEqual({ confirmed: false, position: POSITION, state: 'retrying', checkpoint: POSITION, message: expect.stringMatching(/may not show the change.*retrying a storage error since/) });

    ballast.exec('DROP TABLE ballast');
    ballast.close();
    ballast = undefined;
    await untilHealthy(url);
    expect((await gql(url, auditor, ASSETS)).extensions?.readModels).toBeUndefined();
    expect((await wsOperation(wsUrl, auditor, ASSETS)).extensions?.readModels).toBeUndefined();
    const next = await gql(url, manager, REGISTER, asset('after-full'));
    expect(next.errors).toBeUndefined();
    expect(next.extensions?.readModels).toBeUndefined();
  }, 120_000);

  /**
   * The note that a write is unconfirmed is the answer's own, whatever x-request-id clients send
   * (it stays the events' correlationId). Keyed by that id, 30 concurrent writes sharing one got
   * the flag on 2 answers and lost it on 28 (probe F5), and an id reused by a query or after an
   * upload (whose answer says nothing of it) could hand someone else's flag to a clean answer.
   */
  it('retrying: each of N concurrent writes sharing one x-request-id is flagged, queries and later answers with that id never are', async () => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-stale-shared-id-'));
    const MAX_PAGES = 600;
    server = await startServer(envOf(dir, { READ_MODEL_MAX_PAGES: String(MAX_PAGES) }));
    const url = server.url;
    expect((await gql(url, manager, REGISTER, asset('before-full'))).errors).toBeUndefined();
    ballast = fillReadModels(dir, MAX_PAGES);
    // Writes until the projections retry (then every write is unconfirmed at once).
    let retrying = false;
    for (let i = 0; i < 60 && !retrying; i++) {
      const w = await gql(url, manager, REGISTER, asset(`filling-${i}`));
      expect(w.errors).toBeUndefined();
      retrying = w.extensions?.readModels?.state === 'retrying';
    }
    expect(retrying).toBe(true);

    // An upload's answer (REST) says nothing of it: nor may a later answer with its id.
    const upload = await fetch(url.replace(/\/graphql$/, '/evidence'), {
      method: 'POST',
      headers: { authorization: `Bearer ${manager}`, 'content-type': 'text/plain', 'x-filename': 'shared.txt', 'x-request-id': 'shared-id-upload' },
      body: 'evidence while the read models retry',
    });
    expect(upload.status).toBe(201);
    const afterUpload = await gql(url, auditor, ASSETS, {}, { 'x-request-id': 'shared-id-upload' });
    expect(afterUpload.errors).toBeUndefined();
    expect(afterUpload.extensions?.readModels).toMatchObject({ state: 'retrying' });
    expect(afterUpload.extensions.readModels.confirmed).toBeUndefined();

    const N = 30;
    const shared = { 'x-request-id': 'shared-id-1' };
    const writes = Array.from({ length: N }, (_, i) => gql(url, manager, REGISTER, asset(`shared-${i}`), shared));
    const queries = Array.from({ length: N }, () => gql(url, auditor, ASSETS, {}, shared));
    const [written, read] = await Promise.all([Promise.all(writes), Promise.all(queries)]);
    for (const w of written) expect(w.errors).toBeUndefined();
    const flagged = written.filter((w) => w.extensions?.readModels?.confirmed === false);
    expect(flagged.length).toBe(N);
    // Each its own write's position (a note taken by another answer would name another's).
    expect(new Set(flagged.map((w) => w.extensions.readModels.position)).size).toBe(N);
    for (const q of read) {
      expect(q.errors).toBeUndefined();
      expect(q.extensions?.readModels).toMatchObject({ state: 'retrying' });
      expect(q.extensions.readModels.confirmed).toBeUndefined();
    }
    // The id stays what the client sent in the events it caused.
    const events = await gql(url, auditor, `{ events(first: 500) { edges { node { type metadata { correlationId } } } } }`);
    expect(events.errors).toBeUndefined();
    expect(events.data.events.edges.filter((e: any) => e.node.type === 'AssetRegistered' && e.node.metadata.correlationId === 'shared-id-1')).toHaveLength(N);
    // Nothing left behind under the id either.
    const later = await gql(url, auditor, ASSETS, {}, shared);
    expect(later.extensions?.readModels?.confirmed).toBeUndefined();
  }, 120_000);

  it('stopped for good (an error that is not transient): answers say so until a restart follows the log again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-stale-stopped-'));
    const env = envOf(dir);
    server = await startServer(env);
    expect((await gql(server.url, manager, REGISTER, asset('before-stop'))).errors).toBeUndefined();

    // A trigger on a read-model table fails the next page with SQLITE_CONSTRAINT_TRIGGER: not transient.
    ballast = new Database(join(dir, 'read-models.sqlite'));
    ballast.pragma('busy_timeout = 5000');
    ballast.exec(`CREATE TRIGGER refuse_assets BEFORE INSERT ON assets BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    const write = await gql(server.url, manager, REGISTER, asset('stops-them'));
    expect(write.errors).toBeUndefined();
    expect(write.extensions?.readModels).toMatchObject({ confirmed: false, position: POSITION, state: 'stopped' });
    expect(await healthStatus(server.url)).toBe(503);

    const query = await gql(server.url, auditor, ASSETS);
    expect(query.errors).toBeUndefined();
    expect(query.extensions?.readModels).toEqual({ state: 'stopped', checkpoint: POSITION, message: expect.stringMatching(/had stopped .* until an operator restarts the server/) });

    await stopServer(server);
    server = undefined;
    ballast.exec('DROP TRIGGER refuse_assets');
    ballast.close();
    ballast = undefined;
    server = await startServer(env);
    await untilHealthy(server.url);
    const after = await gql(server.url, auditor, ASSETS);
    expect(after.data.assets.edges).toHaveLength(2);
    expect(after.extensions?.readModels).toBeUndefined();
  }, 120_000);
});
