import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Socket } from 'node:net';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';
import { eventually } from '../support/eventually.js';

const SECRET = 'operations-e2e-secret-0123456789abcdef';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const MAIN = join(process.cwd(), 'dist/src/main.js');

const REGISTER = `mutation Register($i: RegisterAssetInput!) { registerAsset(input: $i) { id version } }`;
const asset = (name: string) => ({ i: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 2, integrity: 2, availability: 2 } });

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ body: any; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify({ query, variables }) });
  return { body: await response.json(), headers: response.headers };
}

/** The value of one series (`name{labels}`) in a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return undefined;
}

function exited(server: ServerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve({ code: server.child.exitCode, signal: server.child.signalCode });
    server.child.removeAllListeners('exit');
    server.child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * The service as operators see it (issue 16): /metrics, the request log and its request id
 * reaching the events' correlationId, liveness vs readiness, configuration errors, and a
 * graceful stop. A real server process on a real SQLite file.
 */
describe('operations: metrics, logs, health, configuration, shutdown', () => {
  let dir: string;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let base: string;
  let manager: string;
  let auditor: string;

  beforeAll(async () => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-ops-'));
    env = { SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, NODE_ENV: 'test' };
    manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
    server = await startServer(env);
    base = server.url.replace(/\/graphql$/, '');
  }, 120_000);

  afterAll(async () => {
    if (server) await stopServer(server, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the request id from x-request-id, echoes it, logs it, and writes it as the correlationId of every event the request causes', async () => {
    const { body, headers } = await gql(server!.url, manager, REGISTER, asset('traced'), { 'x-request-id': 'ops-test-request-42' });
    expect(body.errors).toBeUndefined();
    expect(headers.get('x-request-id')).toBe('ops-test-request-42');
    const { body: history } = await gql(server!.url, auditor, `query($id: ID!) { history(id: $id) { type metadata { correlationId } } }`, { id: body.data.registerAsset.id });
    expect(history.data.history.length).toBeGreaterThan(0);
    for (const e of history.data.history) expect(e.metadata.correlationId).toBe('ops-test-request-42');
    // The reservation of the name, appended with it, carries it too.
    const { body: events } = await gql(server!.url, auditor, `{ events(first: 100) { edges { node { type metadata { correlationId } } } } }`);
    const caused = events.data.events.edges.filter((e: any) => e.node.metadata.correlationId === 'ops-test-request-42').map((e: any) => e.node.type);
    expect(caused).toEqual(expect.arrayContaining(['AssetRegistered', 'AssetNameReserved']));

    // One JSON line for the request: no token, no headers.
    const line = server!
      .output()
      .split('\n')
      .filter((l) => l.includes('"requestId":"ops-test-request-42"'))
      .map((l) => JSON.parse(l));
    expect(line).toEqual([expect.objectContaining({ level: 'info', component: 'http', method: 'POST', route: '/graphql', status: 200, operation: 'registerAsset', actorId: 'mgr', msg: 'request completed' })]);
    expect(typeof line[0].durationMs).toBe('number');
    expect(server!.output()).not.toContain(manager);
    expect(server!.output()).not.toMatch(/authorization/i);

    // An insane id is replaced by a new one.
    const { headers: other } = await gql(server!.url, manager, `{ me { id } }`, {}, { 'x-request-id': 'not ok <script>' });
    expect(other.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    // An upload its client abandons half-way is logged 499, at warn: not with the status the handler set.
    const { connect } = await import('node:net');
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /evidence HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${manager}\r\nContent-Type: text/plain\r\nX-Filename: half.txt\r\nX-Request-Id: ops-abandoned-1\r\nContent-Length: 1000\r\n\r\nhalf`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    const abandonedLines = () => server!.output().split('\n').filter((l) => l.includes('"requestId":"ops-abandoned-1"')).map((l) => JSON.parse(l));
    await eventually('the abandoned request in the server log', () => abandonedLines().length > 0);
    const abandoned = abandonedLines();
    expect(abandoned).toEqual([expect.objectContaining({ level: 'warn', route: '/evidence', status: 499, msg: 'request abandoned by the client' })]);
  });

  it('serves /metrics with commands by type and result, GraphQL durations by operation, appends and lags', async () => {
    for (const name of ['m-1', 'm-2']) expect((await gql(server!.url, manager, REGISTER, asset(name))).body.errors).toBeUndefined();
    const refused = await gql(server!.url, manager, `mutation Retire($i: RetireAssetInput!) { retireAsset(input: $i) { id } }`, { i: { assetId: '00000000-0000-4000-8000-000000000000', reason: 'gone' } });
    expect(refused.body.errors[0].extensions.code).toBe('NOT_FOUND');
    expect((await gql(server!.url, auditor, `query Inventory { assets(first: 5) { totalCount } }`)).body.errors).toBeUndefined();
    expect((await gql(server!.url, auditor, `query Past($at: DateTime!) { assets(first: 5, asOf: $at) { totalCount } }`, { at: new Date().toISOString() })).body.errors).toBeUndefined();

    await fetch(`${server!.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    // Operation names are client text: anonymous clients naming operations at will, and requests
    // that fail validation, add no label; several root fields are one label.
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        fetch(server!.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `query ClientText_${i} { me { id } }` }) }),
      ),
    );
    await gql(server!.url, auditor, `query NoSuchField_x { noSuchField }`);
    expect((await gql(server!.url, auditor, `query Both { me { id } assets(first: 1) { totalCount } }`)).body.errors).toBeUndefined();

    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    // Commands by type and result (three registrations so far: one in the test above).
    expect(sample(text, 'risk_ledger_commands_total', { type: 'RegisterAsset', result: 'ok' })).toBe(3);
    expect(sample(text, 'risk_ledger_commands_total', { type: 'RetireAsset', result: 'NOT_FOUND' })).toBe(1);
    // GraphQL operations by root field (as the schema names it) and outcome, never by the client's operation name.
    expect(sample(text, 'risk_ledger_graphql_operation_duration_seconds_count', { operation: 'registerAsset', type: 'mutation', outcome: 'ok' })).toBe(3);
    expect(sample(text, 'risk_ledger_graphql_operation_duration_seconds_count', { operation: 'retireAsset', outcome: 'NOT_FOUND' })).toBe(1);
    expect(sample(text, 'risk_ledger_graphql_operation_duration_seconds_count', { operation: 'assets', type: 'query', outcome: 'ok' })).toBe(2);
    expect(sample(text, 'risk_ledger_graphql_operation_duration_seconds_count', { operation: 'multiple', type: 'query', outcome: 'ok' })).toBe(1);
    expect(text).not.toMatch(/ClientText_|NoSuchField|noSuchField|operation="(Register|Retire|Inventory|Past|Both)"/);
    // Appends: latency and events per append (an asset and its name reservation: 2 each).
    expect(sample(text, 'risk_ledger_event_store_append_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'risk_ledger_event_store_append_batch_size_count')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'risk_ledger_event_store_append_batch_size_bucket', { le: '1' })).toBe(0);
    // Lags: every command waited for both followers, so both are caught up.
    for (const follower of ['projections', 'reactions']) {
      expect(sample(text, 'risk_ledger_follower_lag_events', { follower })).toBe(0);
      expect(sample(text, 'risk_ledger_follower_lag_seconds', { follower })).toBe(0);
    }
    expect(sample(text, 'risk_ledger_replay_cache_total', { result: 'miss' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/graphql', status: '200' })).toBeGreaterThanOrEqual(6);
    // A GET of /graphql (Apollo's landing page, or a query by URL) has the same route label.
    expect(text).not.toContain('route="/graphql/graphql"');
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    // Nothing that identifies anyone or anything on the machine.
    expect(text).not.toContain(dir);
    expect(text).not.toContain('mgr');
    // Scrapes stay out of the request log (debug only).
    expect(server!.output()).not.toMatch(/"route":"\/metrics"/);
  });

  it('answers liveness and readiness separately, with no internals for a caller without a token', async () => {
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok', details: { process: { status: 'up' } } });
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    const readyBody = await ready.json();
    expect(readyBody).toMatchObject({ status: 'ok', details: { eventStore: { status: 'up', adapter: 'sqlite' }, integrity: { status: 'up', state: 'OK' }, projections: { status: 'up' }, reactions: { status: 'up' } } });
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    const healthBody = await health.json();
    expect(healthBody).toMatchObject({ status: 'ok', integrity: 'OK', eventStore: { ok: true, adapter: 'sqlite' } });
    for (const body of [readyBody, healthBody]) {
      expect(JSON.stringify(body)).not.toContain(dir);
      expect(JSON.stringify(body)).not.toContain('checkpoint');
    }
    // A token of this product whose roles it does not know: the summary only (authz probe p14, F7).
    const noRole = await signToken(SECRET, { sub: 'nobody', roles: ['SUPERUSER'] });
    const withoutRole = await (await fetch(`${base}/health`, { headers: { authorization: `Bearer ${noRole}` } })).text();
    expect(withoutRole).not.toContain('checkpoint');
    expect(await (await fetch(`${base}/health/ready`, { headers: { authorization: `Bearer ${noRole}` } })).text()).not.toContain('checkpoint');
    // With a token: the details.
    const detailed = (await (await fetch(`${base}/health`, { headers: { authorization: `Bearer ${auditor}` } })).json()) as any;
    expect(detailed.projections.checkpoint).toMatch(/^\d+$/);
    expect(detailed.eventStore.details.headPosition).toMatch(/^\d+$/);
    // No absolute path, even for a caller with a token.
    expect(JSON.stringify(detailed)).not.toContain(dir);
    const detailedReady = await (await fetch(`${base}/health/ready`, { headers: { authorization: `Bearer ${auditor}` } })).text();
    expect(detailedReady).not.toContain(dir);
  });

  it('on SIGTERM stops taking connections, finishes the request in flight, logs and exits 0', async () => {
    // A request in flight: its headers and half its body sent, the rest after the signal.
    const body = JSON.stringify({ query: REGISTER, variables: asset('in-flight') });
    const url = new URL(server!.url);
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${manager}` } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 20));
      (globalThis as { finishInFlight?: () => void }).finishInFlight = () => req.end(body.slice(20));
    });
    // A keep-alive connection opened before the signal, idle when it comes.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const r = request({ host: url.hostname, port: url.port, path, agent: keepAlive }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        });
        r.on('error', reject);
        r.end();
      });
    expect(await get('/health/live')).toEqual({ status: 200, connection: 'keep-alive' });
    // The server has the request when its socket is open; then the signal.
    await new Promise((r) => setTimeout(r, 300));
    const exit = exited(server!);
    server!.child.kill('SIGTERM');
    for (let i = 0; i < 100 && !server!.output().includes('shutting down'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(server!.output()).toContain('"msg":"shutting down: no new connections; finishing the requests in flight"');
    // No new connection is accepted meanwhile (a connection of its own: fetch would reuse one of its pool).
    const fresh = new Promise((resolve, reject) => {
      const r = request({ host: url.hostname, port: url.port, path: '/health/live', agent: false }, (res) => resolve(res.statusCode));
      r.on('error', reject);
      r.end();
    });
    await expect(fresh).rejects.toThrow(/ECONNREFUSED/);
    // The idle keep-alive connection is not reset under its client while a request is in flight:
    // a request on it is answered, and the answer closes the connection.
    expect(await get('/health/live')).toEqual({ status: 200, connection: 'close' });
    keepAlive.destroy();
    (globalThis as { finishInFlight?: () => void }).finishInFlight!();
    const finished = await answer;
    expect(finished.status).toBe(200);
    expect(JSON.parse(finished.text).data.registerAsset.version).toBe(0);
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(server!.output()).toMatch(/"signal":"SIGTERM","ms":\d+,"msg":"shut down"/);
    server = undefined;
  }, 60_000);

  it('answers readiness 503 while the log fails verification, liveness still 200; /metrics behind METRICS_TOKEN; SIGINT exits 0', async () => {
    // Tamper with the stopped server's log: the next start finds it BROKEN.
    const db = new Database(join(dir, 'events.sqlite'));
    db.exec('DROP TRIGGER IF EXISTS events_no_update');
    db.prepare(`UPDATE events SET data = '{"tampered":true}' WHERE position = (SELECT MIN(position) FROM events)`).run();
    db.close();
    server = await startServer({ ...env, METRICS_TOKEN });
    base = server.url.replace(/\/graphql$/, '');
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    const body = await ready.json();
    expect(body).toMatchObject({ status: 'error', error: { integrity: { status: 'down', state: 'BROKEN' } }, details: { eventStore: { status: 'up' } } });
    expect(JSON.stringify(body)).not.toMatch(/position|reason|checkpoint/);
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual(expect.objectContaining({ status: 'unavailable', integrity: 'BROKEN' }));
    // With a token: where and why.
    const detailed = (await (await fetch(`${base}/health/ready`, { headers: { authorization: `Bearer ${auditor}` } })).json()) as any;
    expect(detailed.error.integrity).toMatchObject({ state: 'BROKEN', position: expect.stringMatching(/^\d+$/), reason: expect.any(String) });

    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${manager}` } })).status).toBe(401);
    const scraped = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('risk_ledger_commands_total');

    const exit = exited(server);
    server.child.kill('SIGINT');
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(server.output()).toMatch(/"signal":"SIGINT","ms":\d+,"msg":"shut down"/);
    server = undefined;
  }, 90_000);

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
    [{ NODE_ENV: 'production', JWT_SECRET: '' }, 'JWT_SECRET'],
    [{ LOG_LEVEL: 'silent', PORT: 'abc' }, 'PORT'],
  ])('refuses to start with %j: exit 1, one line naming %s, no stack', (bad, setting) => {
    const r = spawnSync(process.execPath, [MAIN], { env: { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'info', ...bad }, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 'error', setting });
    expect(entry.msg).toMatch(new RegExp(`^configuration error: .*${setting}`));
    expect(lines[0]).not.toMatch(/\n\s+at |stack/);
  }, 60_000);

  // Refusals and the environment found while starting (after the settings were read) are the
  // operator's to mend: one line saying what, no stack trace (Nest's ExceptionHandler logged one).
  it.each([
    ['its event store held by a live process', (d: string) => writeFileSync(join(d, 'events.sqlite.lock'), JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), holder: 'server' })), {}, /^start-up refused: .*events\.sqlite\.lock is held by server with pid/, { error: 'DataDirLockedError' }],
    ['a signing key file that is not a key', (d: string) => writeFileSync(join(d, 'signing-key.pem'), 'not a key\n'), {}, /^configuration error: SIGNING_KEY_PATH: .*signing-key\.pem cannot be used: not an Ed25519 private key/, { setting: 'SIGNING_KEY_PATH' }],
    ['a trusted key file that does not exist', () => undefined, { SIGNING_TRUSTED_KEYS: '/nonexistent/old-key.pem' }, /^configuration error: SIGNING_TRUSTED_KEYS: \/nonexistent\/old-key\.pem cannot be used: no such file/, { setting: 'SIGNING_TRUSTED_KEYS' }],
    ['an event store file that is not a database', (d: string) => writeFileSync(join(d, 'events.sqlite'), 'not a database, not at all, really not'), {}, /^start-up failed: the event store .*events\.sqlite \(SQLITE_PATH\): file is not a database/, { code: 'SQLITE_NOTADB' }],
    ['PostgreSQL not answering', () => undefined, { EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://ledger:hunter2-secret@127.0.0.1:1/ledger' }, /^start-up failed: connect ECONNREFUSED 127\.0\.0\.1:1/, { code: 'ECONNREFUSED' }],
  ] as const)('refuses to start with %s: exit 1, one line, no stack', (_what, prepare, extra, msg, fields) => {
    const d = mkdtempSync(join(tmpdir(), 'risk-ledger-start-'));
    try {
      prepare(d);
      const r = spawnSync(process.execPath, [MAIN], { env: { ...process.env, JWT_SECRET: SECRET, NODE_ENV: 'test', DATA_DIR: d, SQLITE_PATH: join(d, 'events.sqlite'), PORT: '0', LOG_LEVEL: 'warn', ...extra }, encoding: 'utf8', timeout: 60_000 });
      const output = `${r.stdout}${r.stderr}`;
      expect(r.status).toBe(1);
      const lines = output.split('\n').filter((l) => l.trim() !== '');
      expect(lines).toHaveLength(1);
      const entry = JSON.parse(lines[0]!);
      expect(entry).toMatchObject({ level: 'error', ...fields });
      expect(entry.msg).toMatch(msg);
      expect(output).not.toMatch(/\n\s+at |stack|hunter2/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses to start when DATABASE_URL asks SSL of a database without it (sslmode=require): exit 1, one line giving the reason, no stack, every line JSON', async () => {
    // A "database" that answers pg's SSLRequest with 'N', as a server without SSL does.
    const sockets = new Set<Socket>();
    const noSsl = createNetServer((socket) => {
      sockets.add(socket);
      // The server resets its connection when it gives up: nothing for this test to hear.
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write('N'));
    });
    await new Promise<void>((resolve) => noSsl.listen(0, '127.0.0.1', resolve));
    const port = (noSsl.address() as { port: number }).port;
    const d = mkdtempSync(join(tmpdir(), 'risk-ledger-start-'));
    try {
      const child = spawn(process.execPath, [MAIN], {
        env: { ...process.env, JWT_SECRET: SECRET, NODE_ENV: 'test', DATA_DIR: d, EVENT_STORE: 'postgres', DATABASE_URL: `postgres://ledger:hunter2-secret@127.0.0.1:${port}/ledger?sslmode=require`, PORT: '0', LOG_LEVEL: 'warn' },
      });
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      child.stderr.on('data', (c) => (output += c));
      expect(await new Promise<number | null>((resolve) => child.once('exit', resolve))).toBe(1);
      // Every line JSON: pg's notice on sslmode=require, which Node printed as free text on
      // several lines (probe 10-c L5), is a warning line; then the failure, with its reason.
      const lines = output.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toEqual([
        expect.objectContaining({ level: 'warn', name: 'Warning', msg: expect.stringMatching(/^process warning: SECURITY WARNING: The SSL modes/) }),
        expect.objectContaining({ level: 'error', msg: 'start-up failed: The server does not support SSL connections' }),
      ]);
      expect(output).not.toMatch(/\n\s+at |stack|hunter2/);
    } finally {
      for (const socket of sockets) socket.destroy();
      noSsl.close();
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses to start on a port already taken: exit 1, one line naming the port', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as { port: number }).port;
    const d = mkdtempSync(join(tmpdir(), 'risk-ledger-start-'));
    try {
      // Asynchronously: the port's holder is this process, whose loop must go on meanwhile.
      const child = spawn(process.execPath, [MAIN], { env: { ...process.env, JWT_SECRET: SECRET, NODE_ENV: 'test', DATA_DIR: d, SQLITE_PATH: join(d, 'events.sqlite'), PORT: String(port), LOG_LEVEL: 'warn' } });
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      child.stderr.on('data', (c) => (output += c));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      const lines = output.split('\n').filter((l) => l.trim() !== '');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', code: 'EADDRINUSE', msg: expect.stringMatching(new RegExp(`^start-up failed: listen EADDRINUSE: .*${port}`)) });
    } finally {
      taken.close();
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);

  it('with webhooks on, a start on a port already taken never takes the lead of the notices (PostgreSQL probe F5)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as { port: number }).port;
    const d = mkdtempSync(join(tmpdir(), 'risk-ledger-start-'));
    try {
      const child = spawn(process.execPath, [MAIN], {
        env: { ...process.env, JWT_SECRET: SECRET, NODE_ENV: 'test', DATA_DIR: d, SQLITE_PATH: join(d, 'events.sqlite'), PORT: String(port), LOG_LEVEL: 'info', WEBHOOK_URL: 'http://127.0.0.1:9/hook', WEBHOOK_SECRET: 'a-webhook-secret-of-32-characters!!' },
      });
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      child.stderr.on('data', (c) => (output += c));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      const messages = output.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l).msg as string);
      expect(messages).toContainEqual(expect.stringMatching(/^start-up failed: listen EADDRINUSE/));
      expect(messages.filter((m) => /webhook notices are delivered/.test(m))).toEqual([]);
    } finally {
      taken.close();
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);

  it('on SIGTERM while still starting (a database not answering) logs, exits 0 and leaves no lock behind', async () => {
    // A "database" that takes connections and never answers: the start waits on it (10 s at most).
    const sockets = new Set<Socket>();
    const silent = createNetServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const d = mkdtempSync(join(tmpdir(), 'risk-ledger-start-'));
    try {
      const child = spawn(process.execPath, [MAIN], {
        env: { ...process.env, JWT_SECRET: SECRET, NODE_ENV: 'test', DATA_DIR: d, EVENT_STORE: 'postgres', DATABASE_URL: `postgres://ledger@127.0.0.1:${port}/ledger`, PORT: '0', LOG_LEVEL: 'info' },
      });
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      child.stderr.on('data', (c) => (output += c));
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      for (const started = Date.now(); sockets.size === 0 && Date.now() - started < 30_000; ) await new Promise((r) => setTimeout(r, 50));
      expect(sockets.size).toBeGreaterThan(0);
      expect(readdirSync(d)).toContain('risk-ledger.lock');
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(output).toMatch(/"signal":"SIGTERM","msg":"shut down during start-up"/);
      expect(readdirSync(d)).not.toContain('risk-ledger.lock');
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);
});
