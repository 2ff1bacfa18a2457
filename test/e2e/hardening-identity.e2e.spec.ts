import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';
import { TEST_JWT_SECRET, TestApp, errorOf, users, type GraphQLResponse } from './support/test-app.js';

const ME = `{ me { id } }`;
const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token signed with the test secret, its time claims set (or left out) by hand. */
function handMade(claims: { iat?: number; nbf?: number; exp?: number; name?: string; department?: string }, sub = 'ciso'): Promise<string> {
  return new SignJWT({ name: 'Chief ISO', roles: ['CISO'], ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

function codes(responses: GraphQLResponse[]): string[] {
  return responses.flatMap((r) => (r.errors ?? []).map((e) => String(e.extensions?.code)));
}

describe('JWT_SECRET strength in production', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  beforeAll(() => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-hardening-'));
  }, 120_000);
  afterAll(async () => {
    if (server) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start with a secret shorter than 32 bytes, saying why', async () => {
    const env = { NODE_ENV: 'production', JWT_SECRET: 'only-31-bytes-long-secret-12345', DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite') };
    expect(Buffer.byteLength(env.JWT_SECRET)).toBe(31);
    const failure = await startServer(env).then(
      (s) => {
        server = s;
        return null;
      },
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/server exited with 1/);
    expect(failure).toMatch(/JWT_SECRET is 31 bytes long; NODE_ENV=production needs at least 32 bytes/);
  });

  it('starts in production with a 32-byte secret', async () => {
    const secret = 'exactly-32-bytes-long-secret-123';
    server = await startServer({ NODE_ENV: 'production', JWT_SECRET: secret, DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite') });
    const token = await signToken(secret, users.ciso);
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: ME }) });
    expect(await response.json()).toEqual({ data: { me: { id: 'ciso' } } });
  });
});

describe('token lifetime claims', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start({ store: 'memory' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a token without exp', async () => {
    const error = errorOf(await t.gql(ME, {}, await handMade({ iat: now() })));
    expect(error.extensions.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(/exp/);
  });

  it('refuses nbf or iat in the future beyond the 30 s clock tolerance, and accepts small skews', async () => {
    const exp = now() + 600;
    const responses = [
      await t.gql(ME, {}, await handMade({ iat: now(), nbf: now() + 120, exp })),
      await t.gql(ME, {}, await handMade({ iat: now() + 120, exp })),
      await t.gql(ME, {}, await handMade({ iat: now() + 120, nbf: now() + 120, exp })),
    ];
    expect(codes(responses)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(responses[0]!.errors![0]!.message).toMatch(/nbf/);
    expect(responses[1]!.errors![0]!.message).toMatch(/iat/);
    // A few seconds of skew between the identity provider and this server is normal.
    const skewed = await t.gql(ME, {}, await handMade({ iat: now() + 10, nbf: now() + 10, exp }));
    expect(skewed).toEqual({ data: { me: { id: 'ciso' } } });
    const justExpired = await t.gql(ME, {}, await handMade({ iat: now() - 600, exp: now() - 10 }));
    expect(justExpired).toEqual({ data: { me: { id: 'ciso' } } });
    const longExpired = await t.gql(ME, {}, await handMade({ iat: now() - 600, exp: now() - 120 }));
    expect(codes([longExpired])).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses an exp more than 90 days ahead (a token that never expires), and takes one within', async () => {
    for (const exp of [1e308, now() + 91 * 86_400]) {
      const error = errorOf(await t.gql(ME, {}, await handMade({ iat: now(), exp })));
      expect(error.extensions.code).toBe('UNAUTHENTICATED');
      expect(error.message).toMatch(/"exp" claim is more than 90 days ahead/);
    }
    expect(await t.gql(ME, {}, await handMade({ iat: now(), exp: now() + 89 * 86_400 }))).toEqual({ data: { me: { id: 'ciso' } } });
  });

  it("refuses a sub in the system's prefix in any case or width, and a name with an override or NUL; nothing of it reaches the log", async () => {
    const REGISTER = `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`;
    const input = { name: 'Claims', category: 'SYSTEM', department: 'ops', managerId: 'ciso', confidentiality: 1, integrity: 1, availability: 1 };
    const exp = now() + 600;
    const refused: [string, string, RegExp][] = [
      ['SYSTEM:process-manager', 'Chief ISO', /system:/],
      ['ｓｙｓｔｅｍ:process-manager', 'Chief ISO', /system:/],
      ['ciso', 'Alice\u202Egnp.exe', /Token claim "name"/],
      ['ciso', 'Al\u0000ice', /Token claim "name"/],
    ];
    for (const [sub, name, message] of refused) {
      const token = await handMade({ iat: now(), exp, name }, sub);
      for (const result of [await t.gql(ME, {}, token), await t.gql(REGISTER, { input }, token)]) {
        const error = errorOf(result);
        expect([sub, name, error.extensions.code]).toEqual([sub, name, 'UNAUTHENTICATED']);
        expect(error.message).toMatch(message);
      }
    }
    const { events } = await t.ok(`{ events(first: 500) { edges { node { type } } } }`, {}, users.auditor);
    expect(events.edges.map((e: any) => e.node.type)).not.toContain('AssetRegistered');
  });

  it('ends a graphql-ws subscription with close code 4401 when its token expires', async () => {
    const token = await signToken(TEST_JWT_SECRET, users.auditor, { expiresIn: '2s' });
    const client = await t.wsClient(token);
    let connectedAt = 0;
    client.on('connected', () => (connectedAt = Date.now()));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => client.on('closed', (event) => resolve(event as { code: number; reason: string })));
    const ended = new Promise<unknown>((resolve) =>
      client.subscribe({ query: `subscription { eventAppended { type } }` }, { next: () => undefined, error: (e) => resolve(e), complete: () => resolve('completed') }),
    );
    const event = await closed;
    expect(connectedAt).toBeGreaterThan(0);
    expect(event.code).toBe(4401);
    expect(event.reason).toBe('Token expired');
    expect(await ended).toMatchObject({ code: 4401 });
    await client.dispose();
  }, 10_000);

  it('keeps a subscription whose token is still valid open', async () => {
    const client = await t.wsClient(users.auditor);
    let closedWith: number | undefined;
    client.on('closed', (event) => (closedWith = (event as { code: number }).code));
    const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()));
    const unsubscribe = client.subscribe({ query: `subscription { eventAppended { type } }` }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    await connected;
    await new Promise((r) => setTimeout(r, 300));
    expect(closedWith).toBeUndefined();
    unsubscribe();
    await client.dispose();
  });
});

describe('introspection and __typename need a token too', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start({ store: 'memory' });
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (query: string, authorization?: string) =>
    fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify({ query }) });

  it('answers an operation of meta-fields alone without a valid token UNAUTHENTICATED, before it runs', async () => {
    const aliases = Array.from({ length: 200 }, (_, i) => `s${i}: __schema { types { name fields { name } } }`).join('\n');
    const queries = [
      `{ __schema { types { name } } }`,
      `{ __typename }`,
      `{ __type(name: "Asset") { name fields { name } } }`,
      `query Named { ...Meta } fragment Meta on Query { __typename }`,
      `{ ... on Query { __schema { queryType { name } } } }`,
      `{ ${aliases} }`,
      // Mixed with a real field: nothing of the schema leaks beside the field's refusal.
      `{ __typename me { id } }`,
    ];
    for (const authorization of [undefined, 'Bearer not-a-jwt', 'Basic abc']) {
      for (const query of queries) {
        const started = Date.now();
        const response = await post(query, authorization);
        const body = (await response.json()) as GraphQLResponse;
        expect([authorization, query.slice(0, 60), response.status, body.data ?? null, codes([body])]).toEqual([authorization, query.slice(0, 60), 200, null, ['UNAUTHENTICATED']]);
        expect(Date.now() - started).toBeLessThan(2_000);
      }
    }
    // Nor does a document that does not parse or validate: its errors would name the schema's fields (authz probe p14).
    for (const query of ['{ acessLog { edges } }', 'mutation { draftPlan(input: { title: 1 }) { id } }', '{ risks(first: "x") { totalCount } }', '{ me { id }', 'query { me { nope } }']) {
      const response = await post(query);
      const text = await response.text();
      expect([query, response.status, codes([JSON.parse(text)])]).toEqual([query, 200, ['UNAUTHENTICATED']]);
      expect(text).not.toMatch(/accessLog|period|Did you mean|Cannot query|Syntax Error|nope/);
    }
    expect(errorOf(await t.gql(`{ __typename }`)).message).toMatch(/Missing bearer token/);
    expect(errorOf(await t.gql(`{ __typename }`, {}, 'not-a-jwt')).message).toMatch(/Invalid token/);
  });

  it('answers them with a valid token (introspection is on outside production)', async () => {
    expect(await t.gql(`{ __typename }`, {}, users.auditor)).toEqual({ data: { __typename: 'Query' } });
    const { __schema } = await t.ok(`{ __schema { queryType { name } types { name } } }`, {}, users.auditor);
    expect(__schema.queryType.name).toBe('Query');
    expect(__schema.types.map((type: { name: string }) => type.name)).toContain('Asset');
    // Nested __typename under a guarded field, as clients add it, is untouched.
    expect(await t.gql(`{ me { __typename id } }`, {}, users.auditor)).toEqual({ data: { me: { __typename: 'Actor', id: 'auditor' } } });
  });
});

describe('RATE_LIMIT_PER_MINUTE', () => {
  let t: TestApp;
  beforeAll(async () => {
    process.env.RATE_LIMIT_PER_MINUTE = '5';
    t = await TestApp.start({ store: 'memory' });
  });
  afterAll(async () => {
    await t.close();
    delete process.env.RATE_LIMIT_PER_MINUTE;
  });

  it('answers RATE_LIMITED with retryAfterSeconds past the limit, per actor', async () => {
    const ciso = await t.token(users.ciso);
    const auditor = await t.token(users.auditor);
    const all: GraphQLResponse[] = [];
    for (let i = 0; i < 5; i++) {
      // Two root fields: a request counts once, however many fields it asks for.
      const ok = await t.gql(`{ a: me { id } b: me { id } }`, {}, ciso);
      all.push(ok);
      expect(ok).toEqual({ data: { a: { id: 'ciso' }, b: { id: 'ciso' } } });
    }
    const sixth = await t.gql(ME, {}, ciso);
    all.push(sixth);
    const error = errorOf(sixth);
    expect(error.extensions.code).toBe('RATE_LIMITED');
    expect(Number.isInteger(error.extensions.retryAfterSeconds)).toBe(true);
    expect(error.extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error.extensions.retryAfterSeconds).toBeLessThanOrEqual(60);
    // Another actor is not affected.
    for (let i = 0; i < 5; i++) {
      const other = await t.gql(ME, {}, auditor);
      all.push(other);
      expect(other).toEqual({ data: { me: { id: 'auditor' } } });
    }
    // Requests without a valid token are not counted against anyone: they stay UNAUTHENTICATED.
    const anonymous = await t.gql(ME, {});
    all.push(anonymous);
    expect(codes([anonymous])).toEqual(['UNAUTHENTICATED']);
    expect(codes(all)).not.toContain('INTERNAL_SERVER_ERROR');
  });
});
