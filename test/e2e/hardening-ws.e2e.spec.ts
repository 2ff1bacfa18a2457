import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GraphQLModule } from '@nestjs/graphql';
import WebSocket from 'ws';
import { WS_MAX_OPERATIONS_PER_CONNECTION } from '../../src/graphql/edge-limits.js';
import { JSON_MAX_NESTING, JSON_MAX_SEPARATORS } from '../../src/platform/http/json-limits.js';
import { WS_MAX_AWAITING_INIT_PER_ADDRESS, WS_SLOW_CONSUMER_CLOSE_CODE, wsSlowConsumer } from '../../src/graphql/ws-hardening.js';

const defaultGraceMs = wsSlowConsumer.graceMs;
import { liveEventLimits } from '../../src/shared/application/live-events.js';
import { TestApp, users } from './support/test-app.js';
import { wsOperation } from './support/ws-subscription.js';

/**
 * graphql-ws sockets under abuse: a consumer that stops reading is closed once its unsent data
 * passes the cap (4413) and holds nothing afterwards, a peer that resets is logged once, refused
 * tokens close with 4401, a message only the server sends closes with 4400, and one address
 * holds a bounded number of sockets awaiting connection_init.
 */

const IMPORT = `mutation($input: ImportBaselineCatalogueInput!) { importBaselineCatalogue(input: $input) { id } }`;

/** A catalogue of about 2.3 MB: its BaselineCatalogueImported event is as large. */
function bigCatalogue(name: string) {
  return {
    name,
    version: '1',
    requirements: Array.from({ length: 450 }, (_, i) => ({ id: `R-${i}`, title: `Requirement ${i}`, statement: `${i} `.padEnd(5_000, 'x'), reference: '' })),
  };
}

type Raw = WebSocket & { _socket: import('node:net').Socket };

/** A raw graphql-ws socket, acknowledged (or closed: `closed` resolves with the code). */
async function rawSocket(t: TestApp, payload: unknown): Promise<{ socket: Raw; closed: Promise<number>; acked: Promise<boolean> }> {
  const socket = new WebSocket(t.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws') as Raw;
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const acked = new Promise<boolean>((resolve) => {
    socket.on('message', (m) => JSON.parse(String(m)).type === 'connection_ack' && resolve(true));
    void closed.then(() => resolve(false));
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload }));
  return { socket, closed, acked };
}

/** The server's side of the graphql-ws sockets. */
function serverSockets(t: TestApp): Set<WebSocket> {
  const adapter = (t.app.get(GraphQLModule, { strict: false }) as any).graphQlAdapter;
  return adapter._subscriptionService.wss.clients as Set<WebSocket>;
}

function liveListeners(t: TestApp): number {
  return t.liveSubscriptions();
}

async function until(condition: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Captures what the process writes (the JSON log lines) while `run` runs. */
async function captureLogs(run: () => Promise<void>): Promise<string[]> {
  const writes: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const level = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'info';
  process.stdout.write = ((chunk: unknown) => (writes.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown) => (writes.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    await run();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.env.LOG_LEVEL = level;
  }
  return writes;
}

describe('graphql-ws sockets under abuse', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await TestApp.start({ store: 'memory' });
    token = await t.token(users.auditor);
  });
  afterAll(async () => {
    await t.close();
  });

  const subscribeAll = (socket: WebSocket, count: number) => {
    for (let i = 0; i < count; i++) socket.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: 'subscription { eventAppended(types: ["BaselineCatalogueImported"]) { data } }' } }));
  };

  it('closes a consumer that stopped reading once its unsent data passes the cap (4413), ends its subscriptions and keeps nothing of it', async () => {
    const listenersBefore = liveListeners(t);
    const stopsReading = async () => {
      const raw = await rawSocket(t, { Authorization: `Bearer ${token}` });
      expect(await raw.acked).toBe(true);
      subscribeAll(raw.socket, WS_MAX_OPERATIONS_PER_CONNECTION);
      await until(() => liveListeners(t) === listenersBefore + WS_MAX_OPERATIONS_PER_CONNECTION, 'the subscriptions');
      raw.socket._socket.pause();
      return raw;
    };
    const importAndWaitForTheClose = async (name: string) => {
      expect((await t.gql(IMPORT, { input: bigCatalogue(name) }, users.committee)).errors).toBeUndefined();
      // The server closes it (its close frame waits behind the unsent data).
      await until(() => [...serverSockets(t)].every((s) => s.readyState !== WebSocket.OPEN), 'the server to close the slow consumer');
    };
    let stuck!: Awaited<ReturnType<typeof rawSocket>>;
    const logs = await captureLogs(async () => {
      // One reads again once the server has given up on it: it gets the close frame, 4413. It has
      // some 40 MB to read first: the grace is long here (2 s were not always enough on a loaded
      // CI machine: 1006, cut, once).
      const back = await stopsReading();
      wsSlowConsumer.graceMs = 60_000;
      try {
        await importAndWaitForTheClose('Slow consumer one');
        back.socket._socket.resume();
        expect(await back.closed).toBe(WS_SLOW_CONSUMER_CLOSE_CODE);
      } finally {
        wsSlowConsumer.graceMs = defaultGraceMs;
      }
      await until(() => serverSockets(t).size === 0 && liveListeners(t) === listenersBefore, 'the reader to be gone');
      // The one that never reads again is cut after the grace: nothing of it stays on the server, nor its subscriptions.
      stuck = await stopsReading();
      await importAndWaitForTheClose('Slow consumer stuck');
      await until(() => serverSockets(t).size === 0, 'the stuck socket to be released');
      await until(() => liveListeners(t) === listenersBefore, 'the subscriptions to end');
    });
    // Its operations ended without an error line each (nor a stack).
    expect(logs.filter((l) => /unexpected error while executing/.test(l))).toEqual([]);
    expect(logs.filter((l) => /\n\s+at /.test(l))).toEqual([]);
    expect(logs.filter((l) => /fell too far behind/.test(l))).toHaveLength(2);
    stuck.socket.terminate();
    // Everyone else is served, subscriptions included.
    const client = await t.wsClient(users.auditor);
    try {
      const subscriptions = liveListeners(t);
      const next = new Promise<any>((resolve, reject) => client.subscribe({ query: 'subscription { eventAppended(types: ["BaselineCatalogueImported"]) { streamId } }' }, { next: resolve, error: reject, complete: () => undefined }));
      // Live from when the server registers it (not after a guessed 200 ms): the import must come after.
      await until(() => liveListeners(t) > subscriptions, 'the subscription');
      expect((await t.gql(IMPORT, { input: bigCatalogue('Slow consumer two') }, users.committee)).errors).toBeUndefined();
      expect((await next).data.eventAppended.streamId).toContain('slow-consumer-two');
    } finally {
      await client.dispose();
    }
  }, 60_000);

  it('closes a consumer whose one subscription stopped taking events (4413) once it falls further behind than liveEventLimits, and keeps nothing of it', async () => {
    await until(() => serverSockets(t).size === 0, 'the sockets of the test before to close');
    const listenersBefore = liveListeners(t);
    const slow = await rawSocket(t, { Authorization: `Bearer ${token}` });
    expect(await slow.acked).toBe(true);
    slow.socket.send(JSON.stringify({ id: 'all', type: 'subscribe', payload: { query: 'subscription { eventAppended { position data } }' } }));
    await until(() => liveListeners(t) === listenersBefore + 1, 'the subscription');
    slow.socket._socket.pause();
    const limits = { ...liveEventLimits };
    Object.assign(liveEventLimits, { maxQueued: 40 });
    try {
      const logs = await captureLogs(async () => {
        // Two large events fill the socket's buffers (graphql-ws then waits on the send), and the
        // small ones after them wait in the subscription's queue: one message at a time, the 16 MiB
        // check of unsent data never fires (consumers probe: a backlog without a bound).
        for (const name of ['Backlog one', 'Backlog two']) expect((await t.gql(IMPORT, { input: bigCatalogue(name) }, users.committee)).errors).toBeUndefined();
        for (let i = 0; i < 30; i++) {
          const r = await t.gql(`mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`, { input: { name: `Backlog asset ${i}`, category: 'SYSTEM', department: 'ops', managerId: 'm', confidentiality: 1, integrity: 1, availability: 1 } }, users.ciso);
          expect(r.errors).toBeUndefined();
        }
        await until(() => [...serverSockets(t)].every((s) => s.readyState !== WebSocket.OPEN), 'the server to close the slow consumer');
        slow.socket._socket.resume();
        expect(await slow.closed).toBe(WS_SLOW_CONSUMER_CLOSE_CODE);
        await until(() => liveListeners(t) === listenersBefore, 'the subscription to end');
      });
      expect(logs.filter((l) => /live event subscription fell too far behind/.test(l))).toHaveLength(1);
    } finally {
      Object.assign(liveEventLimits, limits);
    }
  }, 60_000);

  it('logs a peer that resets with deliveries in flight once, without a stack, not once per operation', async () => {
    await until(() => serverSockets(t).size === 0, 'the sockets of the test before to close');
    await new Promise((r) => setTimeout(r, 100));
    const listenersBefore = liveListeners(t);
    const peer = await rawSocket(t, { Authorization: `Bearer ${token}` });
    expect(await peer.acked).toBe(true);
    subscribeAll(peer.socket, WS_MAX_OPERATIONS_PER_CONNECTION);
    await until(() => liveListeners(t) === listenersBefore + WS_MAX_OPERATIONS_PER_CONNECTION, 'the subscriptions');
    peer.socket._socket.pause();
    const logs = await captureLogs(async () => {
      // Deliveries wait on the paused peer (about 12 MB in all: under the cap, over what the
      // kernel takes), then it resets.
      const medium = { ...bigCatalogue('Reset peer'), requirements: bigCatalogue('Reset peer').requirements.slice(0, 120) };
      expect((await t.gql(IMPORT, { input: medium }, users.committee)).errors).toBeUndefined();
      await until(() => [...serverSockets(t)].some((s) => s.bufferedAmount > 0), 'deliveries in flight');
      await new Promise((r) => setTimeout(r, 300));
      expect([...serverSockets(t)].map((s) => s.readyState)).toEqual([WebSocket.OPEN]);
      peer.socket._socket.resetAndDestroy();
      await until(() => serverSockets(t).size === 0, 'the server to drop the socket');
      await until(() => liveListeners(t) === listenersBefore, 'the subscriptions to end');
      await new Promise((r) => setTimeout(r, 200));
    });
    expect(logs.filter((l) => /unexpected error while executing/.test(l))).toEqual([]);
    expect(logs.filter((l) => /\n\s+at /.test(l))).toEqual([]);
    expect(logs.filter((l) => /"level":"error"/.test(l))).toEqual([]);
    expect(logs.filter((l) => /peer went away/.test(l)).length).toBeLessThanOrEqual(1);
  }, 30_000);

  it('closes with 4401 a connection whose Authorization is not one string, and with 4400 one that sends a server message', async () => {
    for (const payload of [{ Authorization: 42 }, { Authorization: { token } }, { Authorization: `Bearer ${token}`, authorization: `Bearer ${token}` }, { Authorization: 'Bearer nope' }, {}]) {
      const { closed } = await rawSocket(t, payload);
      expect([payload, await closed]).toEqual([payload, 4401]);
    }
    // Lower case alone is a token.
    const lower = await rawSocket(t, { authorization: `Bearer ${token}` });
    expect(await lower.acked).toBe(true);
    for (const message of [{ id: '1', type: 'next', payload: { data: {} } }, { id: '1', type: 'error', payload: [] }, { type: 'connection_ack' }]) {
      const { socket, closed, acked } = await rawSocket(t, { Authorization: `Bearer ${token}` });
      expect(await acked).toBe(true);
      socket.send(JSON.stringify(message));
      expect([message.type, await closed]).toEqual([message.type, 4400]);
    }
    lower.socket.close();
  });

  it('closes with 4400, before parsing it, a message past the JSON limits of an HTTP body, before connection_init or after', async () => {
    const members = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 1]));
    const subscribe = (variables: unknown) => JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ me { id } }', variables } });
    const closedWith = async (socket: Raw, closed: Promise<number>) => {
      const reason = new Promise<string>((resolve) => socket.once('close', (_code, why) => resolve(String(why))));
      return [await closed, await reason];
    };
    // After connection_init: a subscribe of too many values, then one nested too deeply.
    for (const [variables, reason] of [
      [{ v: members(JSON_MAX_SEPARATORS / 2) }, `Invalid message received: more than ${JSON_MAX_SEPARATORS} values`],
      [{ v: JSON.parse('['.repeat(JSON_MAX_NESTING + 1) + ']'.repeat(JSON_MAX_NESTING + 1)) }, `Invalid message received: nested deeper than ${JSON_MAX_NESTING}`],
    ] as const) {
      const { socket, closed, acked } = await rawSocket(t, { Authorization: `Bearer ${token}` });
      expect(await acked).toBe(true);
      const outcome = closedWith(socket, closed);
      socket.send(subscribe(variables));
      expect(await outcome).toEqual([4400, reason]);
    }
    // As the connection_init itself (no token checked yet).
    const { socket, closed } = await rawSocket(t, members(JSON_MAX_SEPARATORS / 2));
    expect(await closedWith(socket, closed)).toEqual([4400, `Invalid message received: more than ${JSON_MAX_SEPARATORS} values`]);
    // Under the limits, the same subscribe runs.
    const fine = await rawSocket(t, { Authorization: `Bearer ${token}` });
    expect(await fine.acked).toBe(true);
    const answer = new Promise<any>((resolve) => fine.socket.on('message', (m) => JSON.parse(String(m)).type === 'next' && resolve(JSON.parse(String(m)))));
    fine.socket.send(subscribe({ v: members(JSON_MAX_SEPARATORS / 2 - 10) }));
    expect((await answer).payload).toEqual({ data: { me: { id: expect.any(String) } } });
    fine.socket.close();
  });

  it('refuses the upgrade (429) past the sockets one address may hold before connection_init; they count until init or close', async () => {
    const url = t.url.replace('http', 'ws') + '/graphql';
    const open = (): Promise<{ socket: WebSocket; status: number }> =>
      new Promise((resolve) => {
        const socket = new WebSocket(url, 'graphql-transport-ws');
        socket.on('error', () => undefined);
        socket.once('open', () => resolve({ socket, status: 101 }));
        socket.once('unexpected-response', (_req, res) => resolve({ socket, status: res.statusCode ?? 0 }));
      });
    const idle = [];
    for (let i = 0; i < WS_MAX_AWAITING_INIT_PER_ADDRESS; i++) idle.push(await open());
    expect(idle.every((s) => s.status === 101)).toBe(true);
    expect((await open()).status).toBe(429);
    // One that sends its connection_init frees its place.
    idle[0]!.socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
    await new Promise((r) => setTimeout(r, 100));
    const another = await open();
    expect(another.status).toBe(101);
    expect((await open()).status).toBe(429);
    for (const s of [...idle, another]) s.socket.terminate();
    await until(() => serverSockets(t).size === 0, 'the sockets to close');
    // Once they are gone, clients connect again.
    const client = await t.wsClient(users.auditor);
    try {
      const me = await new Promise<any>((resolve, reject) => client.subscribe({ query: '{ me { id } }' }, { next: resolve, error: reject, complete: () => undefined }));
      expect(me.data.me.id).toBe(users.auditor.sub);
    } finally {
      await client.dispose();
    }
  });
  it('logs every operation over a socket, an operation id reused after the first completed included (re-probe p15)', async () => {
    const token = await t.token(users.ciso);
    const { socket, acked } = await rawSocket(t, { Authorization: `Bearer ${token}` });
    expect(await acked).toBe(true);
    const completed = (id: string) => new Promise<void>((resolve) => socket.on('message', (m) => { const msg = JSON.parse(String(m)); if (msg.id === id && (msg.type === 'complete' || msg.type === 'error')) resolve(); }));
    const names = ['Reused id 1', 'Reused id 2', 'Reused id 3'];
    for (const name of names) {
      const done = completed('1');
      const input = { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 };
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'mutation R($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }', operationName: 'R', variables: { input } } }));
      await done;
    }
    socket.close();
    await new Promise((r) => setTimeout(r, 200));
    const log = (await t.ok(`{ accessLog(first: 500, actorId: "ciso") { edges { node { operationName operationType outcome } } } }`, {}, users.auditor)).accessLog.edges.map((e: any) => e.node);
    expect(log.filter((n: any) => n.operationName === 'R' && n.operationType === 'mutation')).toEqual(names.map(() => ({ operationName: 'R', operationType: 'mutation', outcome: 'ALLOWED' })));
  });

  it('answers variables that do not coerce as over HTTP: BAD_USER_INPUT naming the argument it feeds, no error line, no stack (probe 8-b A)', async () => {
    const wsUrl = t.url.replace('http', 'ws') + '/graphql';
    const subscription = (variable: string, argument: string) => `subscription($v:${variable}) { eventAppended(${argument}:$v) { position } }`;
    const cases: [string, Record<string, unknown>, string][] = [
      // Named as the argument or input field the variable feeds, with the place inside it (new-user probe of 2026-12-05, 4).
      [subscription('[String!]', 'types'), { v: [1] }, 'types[0]'],
      [subscription('[String!]', 'types'), { v: [null] }, 'types[0]'],
      [subscription('ID', 'streamId'), { v: {} }, 'streamId'],
      [subscription('String', 'after'), { v: true }, 'after'],
      ['query($v:Int) { events(first:$v) { totalCount } }', { v: 'x' }, 'first'],
      ['mutation($v:ID!) { addComment(input:{entityId:$v, text:"t"}) { id } }', { v: {} }, 'entityId'],
    ];
    const answers: any[] = [];
    const logs = await captureLogs(async () => {
      for (const [query, variables] of cases) answers.push(await wsOperation(wsUrl, token, query, variables));
    });
    for (const [i, [query, variables, named]] of cases.entries()) {
      const errors = answers[i].errors;
      expect(errors).toHaveLength(1);
      expect(errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(errors[0].message).toMatch(/^Variable "\$v" got invalid value/);
      expect(Object.keys(errors[0].extensions.fields)).toContain(named);
      // Queries and mutations: the very answer HTTP gives (a subscription is refused over HTTP).
      if (!query.startsWith('subscription')) expect(errors).toEqual((await t.gql(query, variables, token)).errors);
    }
    expect(logs.filter((l) => /"level":"error"/.test(l))).toEqual([]);
    expect(logs.filter((l) => /unexpected error while executing/.test(l))).toEqual([]);
    expect(logs.filter((l) => /\n\s+at |GraphQLError/.test(l))).toEqual([]);
  });
});
