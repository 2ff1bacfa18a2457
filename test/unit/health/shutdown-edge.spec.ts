/**
 * The HTTP edge at shutdown (shutdown-edge.ts), on a real HTTP server: requests run until the
 * requests in flight are done (each answer closing its connection), none after, liveness always.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { refuseWhenClosed, shutdownEdge } from '../../../src/health/shutdown-edge.js';
import { ShutdownState } from '../../../src/health/shutdown-state.js';

describe('shutdown edge', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serve(state: ShutdownState): Promise<{ url: string; ran: string[] }> {
    const ran: string[] = [];
    const edge = shutdownEdge(state);
    server = createServer((req, res) =>
      edge(req, res, () => {
        ran.push(`${req.method} ${req.url}`);
        res.end('ran');
      }),
    );
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, ran };
  }

  it('runs every request while serving, with keep-alive', async () => {
    const { url, ran } = await serve(new ShutdownState());
    const r = await fetch(`${url}/graphql`, { method: 'POST', body: '{}' });
    expect(r.status).toBe(200);
    expect(r.headers.get('connection')).not.toBe('close');
    expect(ran).toEqual(['POST /graphql']);
  });

  it('from the signal, still runs them but closes each connection after its answer', async () => {
    const state = new ShutdownState();
    state.begin();
    const { url, ran } = await serve(state);
    const r = await fetch(`${url}/graphql`, { method: 'POST', body: '{}' });
    expect(r.status).toBe(200);
    expect(r.headers.get('connection')).toBe('close');
    expect(ran).toEqual(['POST /graphql']);
  });

  it('once the requests in flight are done, refuses every request unrun (503 SERVER_SHUTTING_DOWN in the endpoint shape) except liveness', async () => {
    const state = new ShutdownState();
    state.begin();
    state.closeToRequests();
    const { url, ran } = await serve(state);

    const graphql = await fetch(`${url}/graphql?x=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"mutation { x }"}' });
    expect(graphql.status).toBe(503);
    expect(graphql.headers.get('retry-after')).toBe('5');
    expect(graphql.headers.get('connection')).toBe('close');
    const g = (await graphql.json()) as { errors: { message: string; extensions: { code: string; retryAfterSeconds: number } }[] };
    expect(g.errors[0]!.extensions).toEqual({ code: 'SERVER_SHUTTING_DOWN', retryAfterSeconds: 5 });
    expect(g.errors[0]!.message).toMatch(/shutting down: this request was not run/);

    const upload = await fetch(`${url}/evidence`, { method: 'POST', body: 'a file' });
    expect(upload.status).toBe(503);
    expect(((await upload.json()) as { error: { code: string } }).error.code).toBe('SERVER_SHUTTING_DOWN');

    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    await ready.arrayBuffer();

    const live = await fetch(`${url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.text()).toBe('ran');
    expect(ran).toEqual(['GET /health/live']);
  });

  it('mounted again after the body is read, refuses a request admitted while open whose body completed once the server closed to requests', async () => {
    // A client stalled mid-body holds the drain until it gives up; its request used to run when the body came in.
    const state = new ShutdownState();
    const ran: string[] = [];
    const edge = shutdownEdge(state);
    server = createServer((req, res) =>
      edge(req, res, () => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () =>
          edge(req, res, () => {
            ran.push(body);
            res.end('ran');
          }),
        );
      }),
    );
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n{"query":"');
    await new Promise((r) => setTimeout(r, 50));
    state.begin();
    state.closeToRequests();
    socket.write('mutation { x }"}');
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(answer.split('\r\n\r\n')[1]!).errors[0].extensions.code).toBe('SERVER_SHUTTING_DOWN');
    expect(ran).toEqual([]);
  });

  it('refuseWhenClosed writes nothing while requests may run, and the REST shape outside /graphql once closed', async () => {
    const state = new ShutdownState();
    const answers: boolean[] = [];
    server = createServer((req, res) => {
      const refused = refuseWhenClosed(state, req, res);
      answers.push(refused);
      if (!refused) res.end('ran');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
    state.begin();
    expect(await (await fetch(`${url}/evidence`, { method: 'POST', body: 'x' })).text()).toBe('ran');
    state.closeToRequests();
    const refused = await fetch(`${url}/evidence`, { method: 'POST', body: 'x' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('connection')).toBe('close');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('SERVER_SHUTTING_DOWN');
    expect(answers).toEqual([false, true]);
  });
});
