/**
 * SIGTERM while writers write and a subscription is open: every event acknowledged to a writer
 * reaches the subscription before its socket closes. The subscription used to close with the last
 * 2-4 acknowledged events of 16 writers still on their way (fault probe, 2026-12-01): the feed had
 * not handed them over when the application closed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';

const SECRET = 'shutdown-subscriptions-secret-0123456789abcdef';
const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`;

describe('shutdown with an open subscription', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  beforeAll(() => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-shutdown-subs-'));
  });
  afterAll(async () => {
    if (server) await stopServer(server, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** `sockets` clients with `each` subscriptions each; 16 writers; SIGTERM; what every subscription received. */
  async function stopUnderLoad(sockets: number, each: number, loadMs: number): Promise<{ acknowledged: string[]; received: Set<string>[] }> {
    server = await startServer({ SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, NODE_ENV: 'test' });
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    const auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
    const url = server.url;
    const clients = Array.from({ length: sockets }, () => createClient({ url: url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${auditor}` }, retryAttempts: 0 }));
    const subscriptions = clients.flatMap((client) =>
      Array.from({ length: each }, () => {
        const received = new Set<string>();
        const ended = new Promise<void>((resolve) => {
          client.subscribe<{ eventAppended: { streamId: string; type: string } }>(
            { query: `subscription { eventAppended(types: ["AssetRegistered"]) { streamId type data } }` },
            { next: (m) => void (m.data && received.add(m.data.eventAppended.streamId)), error: () => resolve(), complete: () => resolve() },
          );
        });
        return { received, ended };
      }),
    );
    // The subscriptions are open once each has received an event.
    for (let k = 0; k < 50 && subscriptions.some(({ received }) => received.size === 0); k++) {
      await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${manager}` }, body: JSON.stringify({ query: REGISTER, variables: { i: { name: `probe ${k}`, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 1, integrity: 1, availability: 1 } } }) });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(subscriptions.every(({ received }) => received.size > 0)).toBe(true);
    const received = subscriptions[0]!.received;
    expect([...received][0]).toMatch(/^asset-/);

    const acknowledged: string[] = [];

    const writer = async (w: number) => {
      for (let n = 0; ; n++) {
        try {
          const r = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${manager}` }, body: JSON.stringify({ query: REGISTER, variables: { i: { name: `w${w}-${n}`, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 1, integrity: 1, availability: 1 } } }) })).json()) as any;
          if (r.data?.registerAsset?.id) acknowledged.push(`asset-${r.data.registerAsset.id}`);
        } catch {
          return; // refused or reset: the server is going
        }
      }
    };
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    await new Promise((r) => setTimeout(r, loadMs));

    const exit = new Promise<number | null>((resolve) => server!.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    await Promise.all(writers);
    expect(await exit).toBe(0);
    server = undefined;
    await Promise.all(subscriptions.map(({ ended }) => ended));
    await Promise.all(clients.map((client) => client.dispose()));
    return { acknowledged, received: subscriptions.map((sub) => sub.received) };
  }

  it('every registration acknowledged before the exit reaches the subscription before its socket closes', async () => {
    const { acknowledged, received } = await stopUnderLoad(1, 1, 800);
    expect(acknowledged.length).toBeGreaterThan(16);
    expect(acknowledged.filter((id) => !received[0]!.has(id))).toEqual([]);
  }, 60_000);

  it('so it does with 200 subscriptions, seconds behind the writers when the stop comes', async () => {
    // With them, the feed had handed the events over but the subscriptions' queues still held
    // most of them when the sockets closed: one missed 946 of 978 (re-probe).
    const { acknowledged, received } = await stopUnderLoad(10, 20, 5_000);
    expect(acknowledged.length).toBeGreaterThan(16);
    const missed = received.map((r) => acknowledged.filter((id) => !r.has(id)).length);
    expect(missed.filter((n) => n > 0)).toEqual([]);
  }, 90_000);
  it('a request still arriving once the requests in flight are done is refused (503 SERVER_SHUTTING_DOWN) and not run', async () => {
    // Node's closeIdleConnections() leaves open a connection whose request is on its way (its
    // headers partly received). That request ran while the subscriptions were being closed: its
    // client got 200 and the subscriptions never saw the event (2 acknowledged registrations
    // missing from the test above in a CI run, 2026-12-02). Here its headers are sent in two parts,
    // the second once the server has logged the signal (nothing else is in flight).
    const data = mkdtempSync(join(tmpdir(), 'risk-ledger-shutdown-late-'));
    const env = { SQLITE_PATH: join(data, 'events.sqlite'), DATA_DIR: data, JWT_SECRET: SECRET, NODE_ENV: 'test' };
    try {
      server = await startServer(env);
      const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
      const body = JSON.stringify({ query: REGISTER, variables: { i: { name: 'late', category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 1, integrity: 1, availability: 1 } } });
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      const socketClosed = new Promise((resolve) => socket.once('close', resolve));
      socket.write('POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      await new Promise((r) => setTimeout(r, 100));

      const exit = new Promise<number | null>((resolve) => server!.child.once('exit', (code) => resolve(code)));
      server.child.kill('SIGTERM');
      for (let k = 0; k < 200 && !server.output().includes('"msg":"shutting down'); k++) await new Promise((r) => setTimeout(r, 5));
      socket.write(`Content-Type: application/json\r\nAuthorization: Bearer ${manager}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await socketClosed;
      expect(await exit).toBe(0);
      server = undefined;

      const [head, payload] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 503 /);
      expect(head).toMatch(/\r\nretry-after: 5\r\n/i);
      expect(head).toMatch(/\r\nconnection: close\r\n/i);
      const refusal = JSON.parse(payload!) as { errors: { message: string; extensions: { code: string } }[] };
      expect(refusal.errors[0]!.extensions.code).toBe('SERVER_SHUTTING_DOWN');
      expect(refusal.errors[0]!.message).toMatch(/not run/);

      // Nothing was recorded: the log after a restart holds no registration.
      server = await startServer(env);
      const auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
      const r = (await (await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${auditor}` }, body: JSON.stringify({ query: '{ events(first: 500, types: ["AssetRegistered"]) { edges { node { streamId } } } }' }) })).json()) as any;
      expect(r.data.events.edges).toEqual([]);
      await stopServer(server);
      server = undefined;
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  }, 60_000);
});
