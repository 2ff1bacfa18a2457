import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook } from '../../../src/notifications/application/webhook-client.js';
import { ConfigError, loadConfig } from '../../../src/config/app-config.js';

/** A receiver on loopback answering with `handler`; records the paths it was asked for. */
async function receiver(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: URL; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`), paths };
}

const body = Buffer.from('{"type":"PlanSubmitted"}');

describe('postWebhook', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  it('counts only a 2xx as delivered, with the body and headers it was given', async () => {
    let seen: { headers: IncomingMessage['headers']; body: string } | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = { headers: req.headers, body: Buffer.concat(chunks).toString() };
        res.writeHead(req.url === '/fail' ? 503 : 204).end();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await postWebhook({ url: new URL(`${base}/ok`), body, headers: { 'content-type': 'application/json', 'x-test': 'yes' }, timeoutMs: 5_000 })).toEqual({ delivered: true, status: 204 });
    expect(seen).toEqual({ headers: expect.objectContaining({ 'content-type': 'application/json', 'x-test': 'yes', 'content-length': String(body.length) }), body: body.toString() });
    expect(await postWebhook({ url: new URL(`${base}/fail`), body, headers: {}, timeoutMs: 5_000 })).toEqual({ delivered: false, status: 503, error: 'HTTP 503' });
  });

  it('does not follow a redirect', async () => {
    const r = await receiver((req, res) => res.writeHead(req.url === '/hook' ? 307 : 200, { location: '/elsewhere' }).end());
    servers.push(r.server);
    const outcome = await postWebhook({ url: r.url, body, headers: {}, timeoutMs: 5_000 });
    expect(outcome).toEqual({ delivered: false, status: 307, error: 'HTTP 307: redirects are not followed' });
    expect(r.paths).toEqual(['/hook']);
  });

  it('reads at most 64 KiB of an answer and ignores it', async () => {
    let written = 0;
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      // An endless answer: stops only when the client cuts the connection.
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => undefined);
      pump();
    });
    servers.push(r.server);
    expect(await postWebhook({ url: r.url, body, headers: {}, timeoutMs: 20_000 })).toEqual({ delivered: true, status: 200 });
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const r = await receiver(() => undefined);
    servers.push(r.server);
    const outcome = await postWebhook({ url: r.url, body, headers: {}, timeoutMs: 200 });
    expect(outcome).toEqual({ delivered: false, error: 'no complete answer within 200 ms' });
  });

  it('reports a refused connection as a failed delivery', async () => {
    const r = await receiver(() => undefined);
    await new Promise((resolve) => r.server.close(resolve));
    const outcome = await postWebhook({ url: r.url, body, headers: {}, timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ delivered: false, error: expect.stringContaining('ECONNREFUSED') });
  });

  it('stops at once when delivery is aborted (shutdown)', async () => {
    const r = await receiver(() => undefined);
    servers.push(r.server);
    const abort = new AbortController();
    const pending = postWebhook({ url: r.url, body, headers: {}, timeoutMs: 60_000, signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    expect(await pending).toEqual({ delivered: false, error: 'delivery stopped (shutting down)' });
  });
});

describe('WEBHOOK_* settings', () => {
  const base = { JWT_SECRET: 'x'.repeat(32), SQLITE_PATH: '/tmp/rl-webhook-config/events.sqlite' };
  const secret = 's'.repeat(32);

  it('are off without WEBHOOK_URL, and read with their defaults with it', () => {
    expect(loadConfig({ ...base }).webhook).toBeUndefined();
    const config = loadConfig({ ...base, WEBHOOK_URL: 'https://hooks.example.com/risk-ledger?token=abc', WEBHOOK_SECRET: secret });
    expect(config.webhook).toEqual({ url: new URL('https://hooks.example.com/risk-ledger?token=abc'), secret, timeoutMs: 10_000, retryInitialMs: 1_000, retryMaxMs: 300_000 });
    expect(loadConfig({ ...base, WEBHOOK_URL: 'http://127.0.0.1:9/h', WEBHOOK_SECRET: secret, WEBHOOK_RETRY_INITIAL_MS: '20', WEBHOOK_RETRY_MAX_MS: '100', WEBHOOK_TIMEOUT_MS: '500' }).webhook).toMatchObject({ timeoutMs: 500, retryInitialMs: 20, retryMaxMs: 100 });
  });

  it.each([
    ['ftp://hooks.example.com/x', secret, /http:\/\/ or https:\/\//],
    ['file:///etc/passwd', secret, /http:\/\/ or https:\/\//],
    ['hooks.example.com/x', secret, /absolute http/],
    ['http://', secret, /absolute http/],
    ['https://hooks.example.com/x', '', /WEBHOOK_SECRET of at least 32 bytes/],
    ['https://hooks.example.com/x', 'short', /WEBHOOK_SECRET of at least 32 bytes/],
  ])('refuse WEBHOOK_URL=%s (secret %s)', (url, s, message) => {
    expect(() => loadConfig({ ...base, WEBHOOK_URL: url, WEBHOOK_SECRET: s })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, WEBHOOK_URL: url, WEBHOOK_SECRET: s })).toThrow(message);
  });

  it('refuse retry settings that are not positive, or a cap below the first wait', () => {
    const hook = { ...base, WEBHOOK_URL: 'https://hooks.example.com/x', WEBHOOK_SECRET: secret };
    expect(() => loadConfig({ ...hook, WEBHOOK_RETRY_INITIAL_MS: '0' })).toThrow(/WEBHOOK_RETRY_INITIAL_MS/);
    expect(() => loadConfig({ ...hook, WEBHOOK_TIMEOUT_MS: 'soon' })).toThrow(/WEBHOOK_TIMEOUT_MS/);
    expect(() => loadConfig({ ...hook, WEBHOOK_RETRY_INITIAL_MS: '5000', WEBHOOK_RETRY_MAX_MS: '1000' })).toThrow(/WEBHOOK_RETRY_MAX_MS/);
  });
});
