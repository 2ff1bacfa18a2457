/**
 * SIGTERM while requests are still receiving their body: a body that completes once the server has
 * closed to requests (the 8 s drain gave up on it) is refused 503 SERVER_SHUTTING_DOWN and not run.
 * The shutdown edge checked only at a request's arrival, before the body parser: 6 registerAsset
 * requests whose bodies came 8.7 s after the signal were all answered 200 and recorded while the
 * subscriptions were being closed without their events (fault probe F4, 2026-12-02).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';

const SECRET = 'shutdown-late-body-secret-0123456789abcdef';
const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`;

/** A raw HTTP/1.1 request: its head and the first bytes of its body now, the rest when asked. */
interface HalfSent {
  rest(): void;
  /** Everything the server sent, once it closed the connection. */
  answer: Promise<{ status: number; head: string; json: any }>;
}

async function halfSend(port: number, head: string, body: string, sentFirst: number): Promise<HalfSent> {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  const answer = new Promise<{ status: number; head: string; json: any }>((resolve) =>
    socket.once('close', () => {
      const [h = '', payload = ''] = received.split('\r\n\r\n');
      let json: unknown = null;
      try {
        json = JSON.parse(payload);
      } catch {
        json = payload;
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(h)?.[1] ?? 0), head: h, json });
    }),
  );
  const bytes = Buffer.from(body);
  socket.write(`${head}Content-Length: ${bytes.length}\r\n\r\n`);
  socket.write(bytes.subarray(0, sentFirst));
  return { rest: () => void socket.write(bytes.subarray(sentFirst)), answer };
}

describe('shutdown with requests still receiving their body', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  beforeAll(() => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-shutdown-body-'));
  });
  afterAll(async () => {
    if (server) await stopServer(server, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a body completed after the drain is refused (503 SERVER_SHUTTING_DOWN) and not run: GraphQL, /evidence, /documents', async () => {
    const env = { SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, NODE_ENV: 'test' };
    server = await startServer(env);
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    const auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
    const port = Number(new URL(server.url).port);

    const registration = JSON.stringify({ query: REGISTER, variables: { i: { name: 'late body', category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 1, integrity: 1, availability: 1, commandId: 'late-body-1' } } });
    const graphql = await halfSend(port, `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${manager}\r\n`, registration, 10);
    const upload = await halfSend(port, `POST /evidence HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nX-Filename: late.txt\r\nAuthorization: Bearer ${manager}\r\n`, 'minutes of the board, sent slowly\n', 10);
    // A GET with a JSON body: the body parser holds it until the body is in, as for /graphql.
    const document = await halfSend(port, `GET /documents/controls.md HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${auditor}\r\n`, '{"padding":"x"}', 5);
    // The three are in flight (their heads read and past the edge) before the signal.
    await new Promise((r) => setTimeout(r, 300));

    const exit = new Promise<number | null>((resolve) => server!.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    // They hold the drain until it gives up (8 s); then the server is closed to requests.
    for (let k = 0; k < 2_000 && !server.output().includes('"msg":"closed to requests'); k++) await new Promise((r) => setTimeout(r, 5));
    const closed = server.output().split('\n').find((line) => line.includes('"msg":"closed to requests'));
    expect(closed).toContain('did not all finish in time');
    expect(closed).toContain('"inFlight":3');
    for (const request of [graphql, upload, document]) request.rest();
    const [g, u, d] = await Promise.all([graphql.answer, upload.answer, document.answer]);
    expect(await exit).toBe(0);
    server = undefined;

    for (const answer of [g, u, d]) {
      expect({ status: answer.status, body: answer.json }).toMatchObject({ status: 503 });
      expect(answer.head).toMatch(/\r\nretry-after: 5\r\n/i);
      expect(answer.head).toMatch(/\r\nconnection: close\r\n/i);
    }
    expect(g.json.errors[0].extensions).toEqual({ code: 'SERVER_SHUTTING_DOWN', retryAfterSeconds: 5 });
    expect(g.json.errors[0].message).toMatch(/not run/);
    for (const rest of [u, d]) expect(rest.json.error.code).toBe('SERVER_SHUTTING_DOWN');

    // Nothing was recorded (the log after a restart on the same data), nor any file kept.
    server = await startServer(env);
    const r = (await (await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${auditor}` }, body: JSON.stringify({ query: '{ events(first: 500, types: ["AssetRegistered", "EvidenceFileStored"]) { edges { node { type streamId } } } }' }) })).json()) as any;
    expect(r.data.events.edges).toEqual([]);
    await stopServer(server);
    server = undefined;
    const blobs = join(dir, 'evidence');
    const evidence = existsSync(blobs) ? readdirSync(blobs, { recursive: true }).map(String).filter((p) => !p.startsWith('.uploads') || p.endsWith('.part')) : [];
    expect(evidence).toEqual([]);
  }, 60_000);
  it('an upload whose body never completes is cut at the stop and still has its access-log entry (README probe M2)', async () => {
    const cut = mkdtempSync(join(tmpdir(), 'risk-ledger-shutdown-cut-'));
    const env = { SQLITE_PATH: join(cut, 'events.sqlite'), DATA_DIR: cut, JWT_SECRET: SECRET, NODE_ENV: 'test' };
    let running: ServerProcess | undefined = await startServer(env);
    try {
      const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
      const auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
      const port = Number(new URL(running.url).port);
      const upload = await halfSend(port, `POST /evidence HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nX-Filename: cut.txt\r\nX-Request-Id: cut-upload-1\r\nAuthorization: Bearer ${manager}\r\n`, 'minutes of the board, never sent whole\n', 10);
      await new Promise((r) => setTimeout(r, 300));
      const exit = new Promise<number | null>((resolve) => running!.child.once('exit', (code) => resolve(code)));
      running.child.kill('SIGTERM');
      // The body never comes: the drain gives up (8 s), the connection is cut, the server stops.
      expect(await exit).toBe(0);
      await upload.answer;
      const output = running.output();
      expect(output).not.toContain('entry not recorded');
      running = await startServer(env);
      const r = (await (await fetch(running.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${auditor}` }, body: JSON.stringify({ query: '{ accessLog(first: 500) { edges { node { operationName outcome errorCode correlationId actorId } } } }' }) })).json()) as any;
      const entries = r.data.accessLog.edges.map((e: any) => e.node).filter((n: any) => n.correlationId === 'cut-upload-1');
      expect(entries).toEqual([{ operationName: 'POST /evidence', outcome: 'FAILED', errorCode: 'ABORTED', correlationId: 'cut-upload-1', actorId: 'mgr' }]);
    } finally {
      if (running) await stopServer(running, 'SIGKILL');
      rmSync(cut, { recursive: true, force: true });
    }
  }, 60_000);
  it('a download whose client half-closed and never reads does not hold the stop: exit 0, not 9.5 s and exit 1 (re-probe 9)', async () => {
    const stuck = mkdtempSync(join(tmpdir(), 'risk-ledger-shutdown-download-'));
    const env = { SQLITE_PATH: join(stuck, 'events.sqlite'), DATA_DIR: stuck, JWT_SECRET: SECRET, NODE_ENV: 'test' };
    let running: ServerProcess | undefined = await startServer(env);
    try {
      const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
      const bytes = Buffer.alloc(12 * 1024 * 1024, 'evidence of a large kind\n');
      const stored = (await (await fetch(`${new URL(running.url).origin}/evidence`, { method: 'POST', headers: { authorization: `Bearer ${manager}`, 'content-type': 'text/plain', 'x-filename': 'large.txt' }, body: bytes })).json()) as { id: string };
      // Asked for, then FIN, and nothing read: the answer fills the socket's buffers and stops.
      const socket = connect(Number(new URL(running.url).port), '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.pause();
      socket.end(`GET /evidence/${stored.id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${manager}\r\n\r\n`);
      await new Promise((r) => setTimeout(r, 500));
      const exit = new Promise<number | null>((resolve) => running!.child.once('exit', (code) => resolve(code)));
      running.child.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(running.output()).toContain('"msg":"shut down"');
      running = undefined;
      socket.destroy();
    } finally {
      if (running) await stopServer(running, 'SIGKILL');
      rmSync(stuck, { recursive: true, force: true });
    }
  }, 60_000);
});
