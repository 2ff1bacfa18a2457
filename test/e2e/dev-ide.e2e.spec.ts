/**
 * The development GraphQL IDE (Altair, src/graphql/dev-ide/): served by the server itself at /ide
 * when NODE_ENV is not production, every file it loads from this server and its CSP naming no
 * other host; a browser opening /graphql is sent there. In production: 404, and /graphql
 * behaves as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';
import { signToken } from '../../src/identity/cli/issue-token.js';

const SECRET = 'dev-ide-test-secret-0123456789abcdef-012345';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

async function start(nodeEnv: string): Promise<{ server: ServerProcess; base: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-ide-'));
  const server = await startServer({ NODE_ENV: nodeEnv, EVENT_STORE: 'sqlite', DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite'), JWT_SECRET: SECRET });
  return { server, base: server.url.replace(/\/graphql$/, ''), dir };
}

/** Every src/href of an HTML page, and every url() of a stylesheet. */
function referencesOf(text: string): string[] {
  return [...text.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g), ...text.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/g)].map((m) => m[1]!);
}

/** A reference that stays on the server that served it: relative, root-relative, a fragment or data:. */
function isLocal(ref: string, host: string): boolean {
  if (ref.startsWith('data:') || ref.startsWith('#')) return true;
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('//')) return new URL(ref, `http://${host}/`).host === host;
  return true;
}

describe('the GraphQL IDE in development', () => {
  let dev: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    buildOnce();
    dev = await start('development');
  }, 240_000);
  afterAll(async () => {
    await stopServer(dev.server);
    rmSync(dev.dir, { recursive: true, force: true });
  });

  it('serves the page, its options and every file it references from this server; its CSP names no other host', async () => {
    const host = new URL(dev.base).host;
    const page = await fetch(`${dev.base}/ide`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<base href="/ide/">');
    const refs = referencesOf(html);
    expect(refs).toEqual(expect.arrayContaining(['main.js', 'polyfills.js', 'styles.css', 'initial_options.js']));
    expect(refs.filter((r) => !isLocal(r, host))).toEqual([]);

    // Each referenced file is served here, and a stylesheet's own references are local too.
    for (const ref of refs.filter((r) => !r.startsWith('data:'))) {
      const res = await fetch(new URL(ref, `${dev.base}/ide/`));
      expect({ ref, status: res.status }).toEqual({ ref, status: 200 });
      const body = await res.text();
      if (ref.endsWith('.css')) {
        const inner = referencesOf(body).filter((r) => !r.startsWith('data:') && !r.startsWith('#'));
        expect(inner.filter((r) => !isLocal(r, host))).toEqual([]);
        for (const r of inner.slice(0, 5)) expect((await fetch(new URL(r, new URL(ref, `${dev.base}/ide/`)))).status).toBe(200);
      }
    }

    // The options point at this server, over HTTP and graphql-ws, with the token as an environment variable.
    const options = await (await fetch(`${dev.base}/ide/initial_options.js`)).text();
    expect(options).toContain('AltairGraphQL.init(');
    expect(options).toContain('endpointURL: `/graphql`');
    expect(options).toContain(`subscriptionsEndpoint: \`ws://${host}/graphql\``);
    expect(options).toMatch(/Authorization: `Bearer \{\{token\}\}`/);
    expect(options).toContain('disableAccount: true');
    for (const url of options.match(/\b[a-z]+:\/\/[^\s`'"]+/gi) ?? []) expect(new URL(url).host).toBe(host);

    // The policy: nothing but this server, data: and blob:.
    const csp = page.headers.get('content-security-policy')!;
    const sources = csp.split(';').flatMap((d) => d.trim().split(/\s+/).slice(1));
    const foreign = sources.filter((s) => !["'self'", "'none'", "'unsafe-inline'", 'data:', 'blob:', `ws://${host}`, `wss://${host}`].includes(s));
    expect(foreign).toEqual([]);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
  });

  it("loads the schema (its Docs: introspection) with the environment's token, and not before one is set", async () => {
    const introspect = async (authorization: string) => {
      const response = await fetch(`${dev.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ query: '{ __schema { queryType { name } types { name } } }' }) });
      return (await response.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
    };
    // The IDE sends `Bearer {{token}}`: with the environment's token left empty, `Bearer `.
    const empty = await introspect('Bearer ');
    expect(empty.data ?? null).toBeNull();
    expect(empty.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const token = await signToken(SECRET, { sub: 'alice', name: 'Alice', roles: ['ASSET_MANAGER'], department: 'ops' });
    const docs = await introspect(`Bearer ${token}`);
    expect(docs.errors).toBeUndefined();
    expect(docs.data.__schema.queryType.name).toBe('Query');
    expect(docs.data.__schema.types.map((t: { name: string }) => t.name)).toContain('Asset');
  });

  it('keeps its files in its folder (no path out of it)', async () => {
    for (const path of ['/ide/../package.json', '/ide/%2e%2e/%2e%2e/package.json', '/ide/..%2f..%2fpackage.json', '/ide/no-such-file.js']) {
      expect({ path, status: (await fetch(`${dev.base}${path}`)).status }).toEqual({ path, status: 404 });
    }
  });

  it('sends a browser opening /graphql to the IDE; GraphQL clients are untouched', async () => {
    const browser = await fetch(`${dev.base}/graphql`, { headers: { accept: BROWSER_ACCEPT }, redirect: 'manual' });
    expect(browser.status).toBe(302);
    expect(browser.headers.get('location')).toBe('/ide');
    const client = await fetch(`${dev.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ assets(first: 1) { totalCount } }' }) });
    expect(await client.json()).toMatchObject({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })] });
    // A GET without text/html is still Apollo's (its CSRF refusal, not a redirect).
    const plain = await fetch(`${dev.base}/graphql?query=%7B__typename%7D`, { redirect: 'manual' });
    expect(plain.status).not.toBe(302);
  });
});

describe('the GraphQL IDE in production', () => {
  let prod: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    buildOnce();
    prod = await start('production');
  }, 240_000);
  afterAll(async () => {
    await stopServer(prod.server);
    rmSync(prod.dir, { recursive: true, force: true });
  });

  it('does not exist: /ide and its files answer 404, and /graphql redirects no one', async () => {
    for (const path of ['/ide', '/ide/', '/ide/main.js', '/ide/initial_options.js']) {
      const res = await fetch(`${prod.base}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(await res.text()).not.toContain('Altair');
    }
    const browser = await fetch(`${prod.base}/graphql`, { headers: { accept: BROWSER_ACCEPT }, redirect: 'manual' });
    expect(browser.status).not.toBe(302);
    expect(browser.headers.get('location')).toBeNull();
  });
});
