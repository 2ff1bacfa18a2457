import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { DEFAULT_GRAPHQL_MAX_COST } from '../../src/config/app-config.js';
import { JSON_MAX_SEPARATORS } from '../../src/platform/http/json-limits.js';
import { MAX_ALIASES, WS_MAX_CONNECTIONS_PER_ACTOR, WS_MAX_OPERATIONS_PER_CONNECTION } from '../../src/graphql/edge-limits.js';
import { TestApp, errorOf, users } from './support/test-app.js';
import { flushLogLines } from '../../src/shared/logging/json-logger.js';

/**
 * The GraphQL edge (issue 10): a cost budget checked before any resolver runs, limits on the
 * document's size and shape, introspection and suggestions off in production, security headers,
 * and no subscription over HTTP. Every refusal is a contract error, never an internal one.
 */

/** Starts the app with some environment variables set only while it reads its configuration. */
async function startWith(env: Record<string, string>): Promise<TestApp> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await TestApp.start({ store: 'memory' });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const aliased = (count: number, field: string) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

/** A clean refusal: one of the contract's client codes, no data, no stack trace. */
function expectCleanRefusal(result: { data?: unknown; errors?: { extensions?: Record<string, any> }[] }, codes = ['BAD_USER_INPUT', 'QUERY_TOO_COMPLEX']) {
  expect(result.errors?.length).toBeGreaterThan(0);
  for (const e of result.errors!) expect(codes).toContain(e.extensions?.code);
  expect(result.data ?? null).toBeNull();
  expect(JSON.stringify(result)).not.toMatch(/stacktrace|\n\s+at |INTERNAL_SERVER_ERROR/);
}

describe('GraphQL edge: cost budget and document limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start({ store: 'memory' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses 1,000 aliased events(first: 500) as QUERY_TOO_COMPLEX with its cost and the limit', async () => {
    const result = await t.gql(aliased(1000, 'events(first: 500) { edges { node { position } } }'), {}, users.auditor);
    const { extensions } = errorOf(result);
    expect(extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: DEFAULT_GRAPHQL_MAX_COST });
    expect(extensions.cost).toBeGreaterThan(DEFAULT_GRAPHQL_MAX_COST);
    expect(result.data ?? null).toBeNull();
  });

  it('prices the page size given by a variable, and a single large page fits', async () => {
    const query = `query($n: Int) { events(first: $n) { edges { node { position type streamId revision recordedAt hash } } pageInfo { hasNextPage endCursor } } }`;
    expect((await t.gql(query, { n: 500 }, users.auditor)).errors).toBeUndefined();
    const many = `query($n: Int) { ${Array.from({ length: 50 }, (_, i) => `a${i}: events(first: $n) { edges { node { position type } } }`).join(' ')} }`;
    expect(errorOf(await t.gql(many, { n: 500 }, users.auditor)).extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect((await t.gql(many, { n: 1 }, users.auditor)).errors).toBeUndefined();
  });

  it('prices a document sent again the same way (its price is kept), and @skip/@include by their variables', async () => {
    const costly = `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: events(first: 500) { edges { node { position type } } }`).join(' ')} }`;
    const first = errorOf(await t.gql(costly, {}, users.auditor)).extensions;
    expect(first).toMatchObject({ code: 'QUERY_TOO_COMPLEX', cost: expect.any(Number) });
    expect(errorOf(await t.gql(costly, {}, users.auditor)).extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', cost: first.cost });
    const optional = `query($big: Boolean!) { ${Array.from({ length: 50 }, (_, i) => `a${i}: events(first: 500) @include(if: $big) { edges { node { position type } } }`).join(' ')} events(first: 1) { edges { node { position } } } }`;
    expect((await t.gql(optional, { big: false }, users.auditor)).errors).toBeUndefined();
    expect(errorOf(await t.gql(optional, { big: true }, users.auditor)).extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect((await t.gql(optional, { big: false }, users.auditor)).errors).toBeUndefined();
  });

  it('applies the same limits to operations sent over graphql-ws', async () => {
    const client = await t.wsClient(users.auditor);
    const answer = (query: string, operationName?: string) =>
      new Promise<any>((resolve) => client.subscribe({ query, ...(operationName !== undefined ? { operationName } : {}) }, { next: (m) => resolve(m), error: (e) => resolve(e), complete: () => resolve(null) }));
    try {
      const costly = await answer(aliased(1000, 'events(first: 500) { edges { node { position } } }'));
      expect(costly[0]?.extensions ?? costly.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: DEFAULT_GRAPHQL_MAX_COST });
      const deep = await answer(`{ ${'events(first: 1) { edges { node { '.repeat(10)}position${' } } }'.repeat(10)} }`);
      expect(JSON.stringify(deep)).not.toMatch(/INTERNAL_SERVER_ERROR/);
      const huge = await answer(`{ ${'__typename '.repeat(40_000)}}`);
      expect((huge[0]?.extensions ?? huge.errors?.[0]?.extensions)?.code).toBe('BAD_USER_INPUT');
      // An operation the document does not hold is BAD_USER_INPUT, as over HTTP (it read QUERY_TOO_COMPLEX, probe 2026-12-04).
      for (const [query, name] of [['{ me { id } }', ''], ['{ me { id } }', 'Other'], ['query A { me { id } } query B { me { id } }', undefined]] as const) {
        const unknown = await answer(query, name);
        expect([query, name, unknown[0]?.extensions ?? unknown.errors?.[0]?.extensions]).toMatchObject([query, name, { code: 'BAD_USER_INPUT', fields: { operationName: expect.any(String) } }]);
      }
      // An ordinary operation still runs over the socket, named or not.
      const fine = await answer('{ events(first: 1) { edges { node { position } } } }');
      expect(fine.errors).toBeUndefined();
      expect((await answer('query A { me { id } } query B { me { id } }', 'B')).errors).toBeUndefined();
    } finally {
      await client.dispose();
    }
  });

  it('refuses oversized query arguments (ids, text, lists; variables and nested inputs too) with BAD_USER_INPUT naming the field', async () => {
    const refused = async (query: string, variables: Record<string, unknown> = {}) => {
      const { extensions } = errorOf(await t.gql(query, variables, users.auditor));
      return { code: extensions.code, fields: extensions.fields };
    };
    expect(await refused(`query($id: ID!) { asset(id: $id) { id } }`, { id: 'a'.repeat(129) })).toEqual({ code: 'BAD_USER_INPUT', fields: { id: 'must be at most 128 characters' } });
    expect(await refused(`{ risk(id: "${'r'.repeat(5000)}") { id } }`)).toEqual({ code: 'BAD_USER_INPUT', fields: { id: 'must be at most 128 characters' } });
    expect(await refused(`query($o: ID) { risks(first: 1, filter: { ownerId: $o }) { edges { cursor } } }`, { o: 'o'.repeat(129) })).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'filter.ownerId': 'must be at most 128 characters' } });
    expect(await refused(`query($t: [String!]) { events(first: 1, types: $t) { edges { cursor } } }`, { t: Array.from({ length: 501 }, (_, i) => `T${i}`) })).toEqual({ code: 'BAD_USER_INPUT', fields: { types: 'must have at most 500 items' } });
    expect(await refused(`query($d: String) { assets(first: 1, department: $d) { edges { cursor } } }`, { d: 'd'.repeat(10_001) })).toEqual({ code: 'BAD_USER_INPUT', fields: { department: 'must be at most 10000 characters' } });
    // A blank id names no entity: refused, not looked up and answered NOT_FOUND (or an empty page).
    // Blank as a text is: no visible character (a zero-width space or word joiner alone was looked up, race probe of 2026-12-06, F2).
    for (const blank of ['', '  ', '\t', '\u200b', ' \u2060 ', '\u200d']) {
      expect(await refused(`query($id: ID!) { history(id: $id) { type } }`, { id: blank })).toEqual({ code: 'BAD_USER_INPUT', fields: { id: 'must not be blank: an id names an entity' } });
    }
    expect(await refused(`{ risk(id: "") { id } }`)).toEqual({ code: 'BAD_USER_INPUT', fields: { id: 'must not be blank: an id names an entity' } });
    // An optional id: blank is not "none" (a client that meant one got every entry).
    expect(await refused(`{ accessLog(first: 1, actorId: " ") { edges { cursor } } }`)).toEqual({ code: 'BAD_USER_INPUT', fields: { actorId: 'must not be blank: an id names an entity (leave it out instead)' } });
    expect(await refused(`query($o: ID) { risks(first: 1, filter: { ownerId: $o }) { edges { cursor } } }`, { o: ' ' })).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'filter.ownerId': 'must not be blank: an id names an entity (leave it out instead)' } });
    // At the limits, the same queries run.
    expect((await t.gql(`query($id: ID!) { asset(id: $id) { id } }`, { id: 'a'.repeat(128) }, users.auditor)).errors).toBeUndefined();
    expect((await t.gql(`query($t: [String!]) { events(first: 1, types: $t) { edges { cursor } } }`, { t: Array.from({ length: 500 }, (_, i) => (i % 2 ? 'RiskAnalysed' : 'AssetRegistered')) }, users.auditor)).errors).toBeUndefined();
    // A type that does not exist matched nothing, silently: refused, naming it (and the type meant).
    expect(await refused(`{ events(first: 1, types: [""]) { edges { cursor } } }`)).toEqual({ code: 'BAD_USER_INPUT', fields: { types: '"" is no event type' } });
    expect(await refused(`{ events(first: 1, types: ["RiskAnalysed", "RiskIdentifed"]) { edges { cursor } } }`)).toEqual({ code: 'BAD_USER_INPUT', fields: { types: '"RiskIdentifed" is no event type (did you mean RiskIdentified?)' } });
  });

  it(`over graphql-ws: oversized subscription arguments are refused, and one connection runs at most ${WS_MAX_OPERATIONS_PER_CONNECTION} operations at once`, async () => {
    const client = await t.wsClient(users.auditor);
    const first = (query: string, variables: Record<string, unknown> = {}) =>
      new Promise<any>((resolve) => client.subscribe({ query, variables }, { next: (m) => resolve(m), error: (e) => resolve(e), complete: () => resolve(null) }));
    try {
      const types = await first(`subscription($t: [String!]) { eventAppended(types: $t) { position } }`, { t: Array.from({ length: 10_001 }, (_, i) => `T${i}`) });
      expect(types[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { types: 'must have at most 500 items' } });
      const stream = await first(`subscription($s: ID) { eventAppended(streamId: $s) { position } }`, { s: 's'.repeat(200_000) });
      expect(stream[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { streamId: 'must be at most 128 characters' } });
      // An empty stream id is not "every stream" (a client meaning one stream got all of them).
      const empty = await first(`subscription($s: ID) { eventAppended(streamId: $s) { position } }`, { s: ' ' });
      expect(empty[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { streamId: 'must not be blank: an id names an entity (leave it out instead)' } });
      // Nor is a type that does not exist (it would never deliver anything).
      for (const [type, message] of [['', '"" is no event type'], ['PlanSubmited', '"PlanSubmited" is no event type (did you mean PlanSubmitted?)']]) {
        const unknown = await first(`subscription($t: [String!]) { eventAppended(types: $t) { position } }`, { t: [type] });
        expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { types: message } });
      }

      // The allowed live subscriptions are taken; the next is refused; once one completes, another is taken.
      const live = Array.from({ length: WS_MAX_OPERATIONS_PER_CONNECTION }, () => client.subscribe({ query: 'subscription { eventAppended { position } }' }, { next: () => {}, error: () => {}, complete: () => {} }));
      await new Promise((r) => setTimeout(r, 200));
      const over = await first('subscription { eventAppended { position } }');
      expect(over[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { subscription: expect.stringContaining(`at most ${WS_MAX_OPERATIONS_PER_CONNECTION} operations`) } });
      live[0]!();
      await new Promise((r) => setTimeout(r, 100));
      let againError: unknown;
      const again = client.subscribe({ query: 'subscription { eventAppended { position } }' }, { next: () => {}, error: (e) => (againError = e), complete: () => {} });
      await new Promise((r) => setTimeout(r, 100));
      expect(againError).toBeUndefined();
      again();
      for (const stop of live.slice(1)) stop();
    } finally {
      await client.dispose();
    }
  });

  it('over graphql-ws: a frame over 1 MiB closes the socket (1009) before it is parsed, even before connection_init is answered', async () => {
    const socket = new WebSocket(t.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.on('error', () => {});
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(2 * 1024 * 1024) } }));
    expect(await closed).toBe(1009);
    // Everyone else is served.
    expect((await t.gql('{ me { id } }', {}, users.auditor)).errors).toBeUndefined();
  });

  it('answers and closes a WebSocket upgrade asked on any path but /graphql (they were left open, one file descriptor each)', async () => {
    const { connect } = await import('node:net');
    const port = Number(new URL(t.url).port);
    for (const path of ['/nope', '/health', '/evidence']) {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (c) => (answer += c.toString()));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`${path}: the server kept the socket open`)), 3_000))]);
      expect([path, answer.split('\r\n')[0]]).toEqual([path, 'HTTP/1.1 404 Not Found']);
    }
    expect((await t.gql('{ me { id } }', {}, users.auditor)).errors).toBeUndefined();
  });

  it("answers what Node's parser refuses (a 270 KB bearer token, a broken request line) in the endpoint's error shape, not a bare status line (authz probe p14, F7)", async () => {
    const { connect } = await import('node:net');
    const port = Number(new URL(t.url).port);
    const raw = async (request: string) => {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (c) => (answer += c.toString()));
      socket.on('error', () => {});
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(request);
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the server kept the socket open')), 3_000))]);
      const [head, body] = answer.split('\r\n\r\n');
      return { status: head!.split('\r\n')[0], close: /\r\nConnection: close/i.test(head!), body: JSON.parse(body!) };
    };
    const token = 'x'.repeat(270_000);
    expect(await raw(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nContent-Length: 2\r\n\r\n{}`)).toEqual({
      status: 'HTTP/1.1 431 Request Header Fields Too Large',
      close: true,
      body: { errors: [{ message: expect.stringMatching(/^The request's URL and headers are larger than \d+ bytes/), extensions: { code: 'BAD_USER_INPUT', fields: { request: expect.stringMatching(/^has a URL and headers over \d+ bytes$/) } } }] },
    });
    expect(await raw(`GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`)).toEqual({
      status: 'HTTP/1.1 431 Request Header Fields Too Large',
      close: true,
      body: { error: { code: 'BAD_USER_INPUT', message: expect.stringMatching(/^The request's URL and headers are larger than/) } },
    });
    // A long query string is the same case, and said so.
    expect(await raw(`GET /documents/register.csv?section=${'r'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)).toEqual({
      status: 'HTTP/1.1 431 Request Header Fields Too Large',
      close: true,
      body: { error: { code: 'BAD_USER_INPUT', message: expect.stringMatching(/^The request's URL and headers are larger than \d+ bytes \(a query string or a bearer token that long is refused\)/) } },
    });
    expect(await raw('GARBAGE\r\n\r\n')).toEqual({ status: 'HTTP/1.1 400 Bad Request', close: true, body: { error: { code: 'BAD_USER_INPUT', message: 'The request is not valid HTTP' } } });
    expect((await t.gql('{ me { id } }', {}, users.auditor)).errors).toBeUndefined();
  });

  it(`over graphql-ws: one actor holds at most ${WS_MAX_CONNECTIONS_PER_ACTOR} connections at once; a closed one frees its place`, async () => {
    const token = await t.token({ sub: 'ws-many', name: 'Many sockets', roles: ['AUDITOR'] });
    const clients = await Promise.all(Array.from({ length: WS_MAX_CONNECTIONS_PER_ACTOR + 1 }, () => t.wsClient(token)));
    const ask = (client: (typeof clients)[number]) =>
      new Promise<any>((resolve) => client.subscribe({ query: '{ me { id } }' }, { next: (m) => resolve(m), error: (e) => resolve(e), complete: () => resolve(null) }));
    // A live subscription keeps each connection open (the test client closes an idle one): 20
    // connections answer, the next is refused (4403).
    const hold = (client: (typeof clients)[number]) => client.subscribe({ query: 'subscription { eventAppended { position } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    try {
      const answers = [];
      for (const client of clients.slice(0, WS_MAX_CONNECTIONS_PER_ACTOR)) {
        hold(client);
        answers.push(await ask(client));
      }
      expect(answers.map((a) => a?.data?.me?.id)).toEqual(Array(WS_MAX_CONNECTIONS_PER_ACTOR).fill('ws-many'));
      const refused = await ask(clients[WS_MAX_CONNECTIONS_PER_ACTOR]!);
      expect(refused?.code).toBe(4403);
      await clients[0]!.dispose();
      // Its place is free once the server has handled the close (after ending its subscription):
      // connect again until then (refused 4403 meanwhile), not once after a guessed 100 ms.
      let answer: any;
      for (const deadline = Date.now() + 20_000; ; ) {
        const another = await t.wsClient(token);
        clients.push(another);
        hold(another);
        answer = await ask(another);
        if (answer?.code !== 4403 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(answer?.data?.me?.id).toBe('ws-many');
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });

  it('answers a body that is not JSON, or over 5 MB, in the GraphQL error shape, without quoting the parser', async () => {
    const post = async (body: string | Buffer) => {
      const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(users.auditor)}` }, body });
      return { status: res.status, body: (await res.json()) as any };
    };
    for (const body of ['{"query": "{ me { id } }"', 'null x', '{"query":']) {
      const answer = await post(body);
      expect(answer).toEqual({ status: 400, body: { errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_USER_INPUT', fields: { body: 'is not valid JSON' } } }] } });
    }
    const huge = await post(JSON.stringify({ query: '{ me { id } }', variables: { padding: 'x'.repeat(6 * 1024 * 1024) } }));
    expect(huge).toEqual({ status: 413, body: { errors: [{ message: 'The request body is larger than 5mb', extensions: { code: 'BAD_USER_INPUT', fields: { body: 'is larger than 5mb' } } }] } });
    // A form body is no endpoint's input: not parsed at all (it was read, up to a 100 kB limit whose
    // 413 came in Nest's own shape), refused by Apollo's CSRF rule in the GraphQL error shape.
    const form = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${await t.token(users.auditor)}` }, body: `query=${'x'.repeat(200_000)}` });
    expect([form.status, ((await form.json()) as { errors: { message: string }[] }).errors[0]!.message]).toEqual([400, expect.stringContaining('Cross-Site Request Forgery')]);
    // A body that does not decompress: the same shape, not zlib's words (with a token: a compressed
    // body without one is not read at all, src/identity/http/unauthenticated-bodies.ts).
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding, authorization: `Bearer ${await t.token(users.auditor)}` }, body: 'this is not compressed' });
      expect([encoding, res.status, await res.json()]).toEqual([encoding, 400, { errors: [{ message: 'The request body could not be read (its content-encoding or its bytes)', extensions: { code: 'BAD_USER_INPUT', fields: { body: 'could not be read' } } }] }]);
      const anonymous = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body: 'this is not compressed' });
      expect([encoding, anonymous.status, ((await anonymous.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code]).toEqual([encoding, 200, 'UNAUTHENTICATED']);
    }
    // Nested past 64 levels: refused before JSON.parse spends the event loop on it (also without a token).
    const deep = await post(`{"query":"{ me { id } }","variables":{"v":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}}`);
    expect(deep).toEqual({ status: 400, body: { errors: [{ message: 'The request body nests arrays and objects deeper than 64', extensions: { code: 'BAD_USER_INPUT', fields: { body: 'nests deeper than 64' } } }] } });
    // Brackets inside strings are text, not nesting.
    expect((await post(JSON.stringify({ query: '{ me { id } }', variables: { v: '['.repeat(1000) } }))).status).toBe(200);
    // More than JSON_MAX_SEPARATORS values (`,` and `:` outside strings): refused before JSON.parse too.
    const members = (n: number) => JSON.stringify({ query: '{ me { id } }', variables: { v: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 1])) } });
    const tooMany = { status: 400, body: { errors: [{ message: `The request body has more than ${JSON_MAX_SEPARATORS} values`, extensions: { code: 'BAD_USER_INPUT', fields: { body: `has more than ${JSON_MAX_SEPARATORS} values` } } }] } };
    expect(await post(members(JSON_MAX_SEPARATORS / 2))).toEqual(tooMany); // a member has two: its `:` and the `,` after it
    expect(await post(JSON.stringify({ query: '{ me { id } }', variables: { v: Array.from({ length: JSON_MAX_SEPARATORS + 1 }, () => 0) } }))).toEqual(tooMany);
    expect((await post(members(JSON_MAX_SEPARATORS / 2 - 10))).status).toBe(200);
    // Separators inside strings are text.
    expect((await post(JSON.stringify({ query: '{ me { id } }', variables: { v: ',:'.repeat(JSON_MAX_SEPARATORS) } }))).status).toBe(200);
    // The server goes on answering.
    expect((await t.gql('{ me { id } }', {}, users.auditor)).errors).toBeUndefined();
  });

  it('prices the fields that read the whole register: aliases of them no longer hold the event loop for seconds', async () => {
    const tooMuch = async (count: number, field: string) => errorOf(await t.gql(aliased(count, field), {}, users.auditor)).extensions.code;
    expect(await tooMuch(1_999, 'controlsDocument { markdown }')).toBe('QUERY_TOO_COMPLEX');
    expect(await tooMuch(30, 'controlsDocument { markdown }')).toBe('QUERY_TOO_COMPLEX');
    expect(await tooMuch(1_999, 'heatMap { total }')).toBe('QUERY_TOO_COMPLEX');
    expect(await tooMuch(1_999, 'overdueControls { riskId }')).toBe('QUERY_TOO_COMPLEX');
    // A few of them, as a dashboard asks, still run.
    expect((await t.gql(aliased(10, 'controlsDocument { markdown }'), {}, users.auditor)).errors).toBeUndefined();
    expect((await t.gql(aliased(50, 'heatMap { total }'), {}, users.auditor)).errors).toBeUndefined();
  });

  it('prices lists of linked entities by what they may hold: incidents and risks nested in each other are refused before any is read (probe p12: out of memory)', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    const code = async (query: string) => errorOf(await t.gql(query, { id }, users.auditor))?.extensions.code;
    expect(await code('query($id: ID!) { incident(id: $id) { risks { incidents { risks { incidents { risks { id } } } } } } }')).toBe('QUERY_TOO_COMPLEX');
    expect(await code('query($id: ID!) { incident(id: $id) { risks { incidents { risks { id title status } } } } }')).toBe('QUERY_TOO_COMPLEX');
    expect(await code('{ incidents(first: 500) { edges { node { risks { incidents { id } } } } } }')).toBe('QUERY_TOO_COMPLEX');
    expect(await code('{ risks(first: 500) { edges { node { analyses { incidents { id title risks { id } } } } } } }')).toBe('QUERY_TOO_COMPLEX');
    // One level of them, as a tool reads them, runs (an unknown incident is simply null).
    const one = await t.gql('query($id: ID!) { incident(id: $id) { risks { id title incidents { id title } } } }', { id }, users.auditor);
    expect(one.errors).toBeUndefined();
    expect((await t.gql('{ risks(first: 100) { edges { node { id incidents { id title } analyses { incidents { id } } } } } }', {}, users.auditor)).errors).toBeUndefined();
  });

  it('bounds the root fields of one request: each is priced, aliases are capped, and a request without a token is refused once', async () => {
    // Without a token: one UNAUTHENTICATED for the request, before execution (the guard ran and
    // threw for each root field), past the budget too (refused before validation, then answered
    // as the anonymous request it is: authz probe p14); with one, one QUERY_TOO_COMPLEX.
    const anonymous = await t.gql(aliased(90, 'me { id name roles }'));
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect('data' in anonymous).toBe(false);
    const manyAnonymous = await t.gql(aliased(1_999, 'me { id name roles }'));
    expect(manyAnonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const many = await t.gql(aliased(1_999, 'me { id name roles }'), {}, users.auditor);
    expect(many.errors?.map((e) => e.extensions)).toEqual([{ code: 'QUERY_TOO_COMPLEX', cost: 1_999 * 501, limit: DEFAULT_GRAPHQL_MAX_COST }]);
    expect('data' in many).toBe(false);
    // The meta-fields too (introspection needs a token: hardening-identity.e2e.spec.ts).
    expect((await t.gql('{ __typename }')).errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    // With one: 1,000 aliases of a field priced 1 each ran (0.2-0.9 s); every root field is priced now.
    const plans = await t.gql(aliased(1_000, 'plans(first: 1) { totalCount }'), {}, users.auditor);
    expect(errorOf(plans).extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: DEFAULT_GRAPHQL_MAX_COST });
    expect(errorOf(await t.gql(aliased(101, 'me { id }'), {}, users.auditor)).extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(Object.keys((await t.ok(aliased(90, 'me { id }'), {}, users.auditor)) as object)).toHaveLength(90);
    // Aliases below the root are cheap each, but capped.
    const nested = (n: number) => `{ me { ${Array.from({ length: n }, (_, i) => `f${i}: id`).join(' ')} } }`;
    const tooMany = errorOf(await t.gql(nested(MAX_ALIASES + 1), {}, users.auditor));
    expect([tooMany.extensions.code, tooMany.message]).toEqual(['BAD_USER_INPUT', `The document has ${MAX_ALIASES + 1} aliases, more than ${MAX_ALIASES}`]);
    // BAD_USER_INPUT names what to change (the contract's extensions.fields): here the document.
    expect(tooMany.extensions.fields).toEqual({ document: tooMany.message });
    expect((await t.gql(nested(MAX_ALIASES), {}, users.auditor)).errors).toBeUndefined();
    // Over graphql-ws, the same: 1,999 aliases are refused before anything runs.
    const client = await t.wsClient(users.auditor);
    try {
      const answer = await new Promise<any>((resolve) => client.subscribe({ query: aliased(1_999, 'me { id name roles }') }, { next: resolve, error: resolve, complete: () => resolve(null) }));
      expect(answer[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    } finally {
      await client.dispose();
    }
  });

  it('refuses 1,000 aliased verifyIntegrity (AUDITOR) before verifying anything', async () => {
    const started = Date.now();
    const result = await t.gql(aliased(1000, 'verifyIntegrity { ok eventsChecked }'), {}, users.auditor);
    expect(errorOf(result).extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: DEFAULT_GRAPHQL_MAX_COST, cost: expect.any(Number) });
    expect(result.data ?? null).toBeNull();
    expect(Date.now() - started).toBeLessThan(5_000);
    // One verification is an ordinary request.
    expect((await t.ok(`{ verifyIntegrity { ok } }`, {}, users.auditor)).verifyIntegrity.ok).toBe(true);
  });

  it('refuses 300 heatMap(atPosition) replays, and prices asOf the same way', async () => {
    const { events } = await t.ok(`{ events(first: 1) { edges { node { position } } } }`, {}, users.auditor);
    const position = events.edges[0]?.node.position ?? '0';
    const replays = await t.gql(aliased(300, `heatMap(atPosition: "${position}") { levels { level count } }`), {}, users.auditor);
    expect(errorOf(replays).extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: DEFAULT_GRAPHQL_MAX_COST });
    const asOf = await t.gql(aliased(300, `risks(asOf: "2020-01-01T00:00:00Z", first: 1) { totalCount }`), {}, users.auditor);
    expect(errorOf(asOf).extensions.code).toBe('QUERY_TOO_COMPLEX');
    // The same query without the replay argument fits (at most 100 root fields fit the budget: see below).
    expect((await t.gql(aliased(50, `heatMap { levels { level count } }`), {}, users.auditor)).errors).toBeUndefined();
    // A later instant is no replay (overdueControls judges today's register then): priced as without it.
    const later = new Date(Date.now() + 3_600_000).toISOString();
    expect((await t.gql(aliased(50, `overdueControls(asOf: "${later}") { riskId }`), {}, users.auditor)).errors).toBeUndefined();
    expect(errorOf(await t.gql(aliased(50, `overdueControls(asOf: "2020-01-01T00:00:00Z") { riskId }`), {}, users.auditor)).extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('answers 10,000 chained fragments with a clean client error', async () => {
    for (const length of [10_000, 3_700, 30]) {
      let query = `query { ...F0 }\n`;
      for (let i = 0; i < length; i++) query += `fragment F${i} on Query { ${i === length - 1 ? 'me { id }' : `...F${i + 1}`} }\n`;
      expectCleanRefusal(await t.gql(query, {}, users.auditor));
    }
    // A few chained fragments are fine.
    let short = `query { ...F0 }\n`;
    for (let i = 0; i < 5; i++) short += `fragment F${i} on Query { ${i === 4 ? 'me { id }' : `...F${i + 1}`} }\n`;
    expect((await t.ok(short, {}, users.auditor)).me.id).toBe(users.auditor.sub);
  });

  it('answers deep nesting, a fragment bomb, a huge document and too many aliases with clean client errors', async () => {
    // Nested selections far past any real depth (the parser or the depth rule refuses them).
    for (const depth of [30, 5_000]) {
      const result = await t.gql(`{ ${'... on Query { '.repeat(depth)}me { id }${' }'.repeat(depth)} }`, {}, users.auditor);
      expectCleanRefusal(result);
      if (depth === 30) expect(errorOf(result).message).toMatch(/deeper than/);
    }
    // Deep enough to overflow the parser itself: still said in words of the document, not of the engine.
    for (const depth of [5_000, 20_000]) {
      const result = await t.gql(`{ me { ${'id { '.repeat(depth)}id${' }'.repeat(depth)} } }`, {}, users.auditor);
      expectCleanRefusal(result);
      expect(errorOf(result).message).not.toMatch(/call stack/i);
    }
    // Each fragment spreads the next one 10 times: 10^8 selections from a few hundred bytes.
    let bomb = `query { ...B0 }\n`;
    for (let i = 0; i < 8; i++) bomb += `fragment B${i} on Query { ${Array.from({ length: 10 }, (_, j) => `b${j}: me { id } ...B${i + 1}`).join(' ')} }\n`;
    bomb += `fragment B8 on Query { me { id } }\n`;
    expectCleanRefusal(await t.gql(bomb, {}, users.auditor));
    // A document of 200,000 tokens, and 100,000 duplicated fields.
    expectCleanRefusal(await t.gql(aliased(20_000, 'me { id roles }'), {}, users.auditor));
    expectCleanRefusal(await t.gql(`{ ${'me { id } '.repeat(40_000)} }`, {}, users.auditor));
    // More aliases than the limit, each cheap.
    expectCleanRefusal(await t.gql(aliased(2_500, 'me { id }'), {}, users.auditor));
    // The server is still fine.
    expect((await t.ok(`{ me { id } }`, {}, users.auditor)).me.id).toBe(users.auditor.sub);
  });

  it('answers a subscription sent by HTTP POST with BAD_USER_INPUT and logs no stack trace', async () => {
    const writes: string[] = [];
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'debug';
    process.stdout.write = ((chunk: any, ...rest: any[]) => (writes.push(String(chunk)), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: any, ...rest: any[]) => (writes.push(String(chunk)), true)) as typeof process.stderr.write;
    let result;
    try {
      result = await t.gql(`subscription { eventAppended { position type } }`, {}, users.auditor);
    } finally {
      // The request's log lines may still wait for the end of the turn.
      flushLogLines();
      process.stdout.write = out;
      process.stderr.write = err;
      process.env.LOG_LEVEL = level;
    }
    expect(errorOf(result).extensions.code).toBe('BAD_USER_INPUT');
    expect(result.data ?? null).toBeNull();
    expect(writes.join('')).not.toMatch(/"stack"|\n\s+at |INTERNAL_SERVER_ERROR/);
  });

  it('refuses an over-budget mutation before its resolver runs (GRAPHQL_MAX_COST)', async () => {
    // A root field costs 500 and each field below it 1: 505 admits a count, not this mutation.
    const tight = await startWith({ GRAPHQL_MAX_COST: '505' });
    try {
      const input = { name: 'Never registered', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 };
      const result = await tight.gql(`mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id version name department value status } }`, { input }, users.opsManager);
      expect(errorOf(result).extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', cost: 507, limit: 505 });
      expect((await tight.ok(`{ assets(first: 0) { totalCount } }`, {}, users.auditor)).assets.totalCount).toBe(0);
    } finally {
      await tight.close();
    }
  });

  it('answers with security headers and without X-Powered-By', async () => {
    for (const response of [
      await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) }),
      await fetch(`${t.url}/health`),
    ]) {
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    }
    // No GraphQL answer may be cached, whatever its outcome (Apollo's cache-control rule, kept without its per-field hook).
    for (const query of ['{ __typename }', '{ __typenam }', 'mutation { registerAsset }']) {
      const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('keeps introspection and suggestions outside production', async () => {
    expect((await t.ok(`{ __schema { queryType { name } } }`, {}, users.auditor)).__schema.queryType.name).toBe('Query');
    expect(errorOf(await t.gql(`{ mee { id } }`, {}, users.auditor)).message).toMatch(/Did you mean "me"\?/);
  });
});

describe('GraphQL edge in production', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startWith({ NODE_ENV: 'production' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses introspection', async () => {
    for (const query of [`{ __schema { types { name } } }`, `{ __type(name: "Query") { fields { name } } }`]) {
      const result = await t.gql(query, {}, users.auditor);
      expect(errorOf(result).extensions.code).toBe('BAD_USER_INPUT');
      expect(result.data ?? null).toBeNull();
      // Our words, not Apollo's advice on how to configure the server.
      expect(errorOf(result).extensions.fields).toEqual({ document: expect.stringContaining('Introspection is off on this server') });
      expect(JSON.stringify(result)).not.toMatch(/ApolloServer/);
    }
  });

  it('names no field of the schema in the error of a misspelt field or argument', async () => {
    for (const query of [`{ mee { id } }`, `{ me { idd } }`, `{ assets(frist: 1) { totalCount } }`, `{ risks(filter: { status: TO_TRAET }) { totalCount } }`]) {
      const result = await t.gql(query, {}, users.auditor);
      expect(errorOf(result).extensions.code).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(result)).not.toMatch(/Did you mean/);
    }
  });

  it('answers without X-Powered-By and with helmet headers, the landing page included', async () => {
    const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    const landing = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(landing.headers.get('x-powered-by')).toBeNull();
    expect(landing.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
