import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AccessLogStore } from '../../src/audit/application/access-log.js';
import { TestApp, errorOf, users } from './support/test-app.js';

const LOG = `query Log($first: Int, $after: String, $actorId: ID, $outcome: AccessOutcome, $from: DateTime, $to: DateTime) {
  accessLog(first: $first, after: $after, actorId: $actorId, outcome: $outcome, from: $from, to: $to) {
    totalCount
    edges { cursor node { id at actorId actorName actorRoles operationName operationType fields targetIds outcome errorCode correlationId prevHash hash } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  } }`;
const REGISTER = `mutation Register($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`;
const THREAT = `mutation Threat($input: IdentifyThreatInput!) { identifyThreat(input: $input) { id version } }`;
const RETIRE = `mutation Retire($input: RetireAssetInput!) { retireAsset(input: $input) { id } }`;
const asset = { name: 'Hot wallet', description: 'Signs withdrawals', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 3, integrity: 3, availability: 2 };

describe('the access log (Art. 23(2))', () => {
  let t: TestApp;
  /** Every bearer token and Authorization value sent in this suite: none may reach the file. */
  const secrets: string[] = [];
  let auditor: string;
  let manager: string;
  let assetId: string;

  const token = async (user: Parameters<TestApp['token']>[0]) => {
    const value = await t.token(user);
    secrets.push(value);
    return value;
  };
  const log = async (variables: Record<string, unknown> = {}) => (await t.ok(LOG, { first: 500, ...variables }, auditor)).accessLog;
  const nodes = async (variables: Record<string, unknown> = {}) => (await log(variables)).edges.map((e: any) => e.node);

  beforeAll(async () => {
    t = await TestApp.start();
    auditor = await token(users.auditor);
    manager = await token(users.opsManager);
    assetId = (await t.ok(REGISTER, { input: { ...asset, commandId: 'cmd-register-1' } }, manager)).registerAsset.id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('records an allowed mutation with its actor, root fields and target ids (not the commandId, not the input)', async () => {
    await t.ok(THREAT, { input: { assetId, name: 'Key theft', description: 'secret-description-text', affects: ['CONFIDENTIALITY'], commandId: 'cmd-threat-1' } }, manager);
    const mine = await nodes({ actorId: 'mgr-ops' });
    const threat = mine.find((n: any) => n.operationName === 'Threat');
    expect(threat).toMatchObject({
      actorId: 'mgr-ops',
      actorName: 'Ops Manager',
      actorRoles: ['ASSET_MANAGER'],
      operationType: 'mutation',
      fields: ['identifyThreat'],
      targetIds: [assetId],
      outcome: 'ALLOWED',
      errorCode: null,
    });
    expect(threat.correlationId).toMatch(/\S/);
    expect(new Date(threat.at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(JSON.stringify(mine)).not.toMatch(/secret-description-text|cmd-threat-1|Key theft/);
  });

  it('records a FORBIDDEN mutation by an auditor as DENIED, with the targeted id', async () => {
    expect(errorOf(await t.gql(RETIRE, { input: { assetId, reason: 'no' } }, auditor)).extensions.code).toBe('FORBIDDEN');
    const denied = await nodes({ actorId: 'auditor', outcome: 'DENIED' });
    expect(denied.at(-1)).toMatchObject({ actorId: 'auditor', actorRoles: ['AUDITOR'], operationName: 'Retire', operationType: 'mutation', fields: ['retireAsset'], targetIds: [assetId], outcome: 'DENIED', errorCode: 'FORBIDDEN' });
  });

  it('records UNAUTHENTICATED queries (no token, a bad token) with no actor', async () => {
    const bad = 'Bearer.not-a-jwt.secretpart';
    secrets.push(bad);
    expect(errorOf(await t.gql(`query Everything { assets { totalCount } }`, {})).extensions.code).toBe('UNAUTHENTICATED');
    expect(errorOf(await t.gql(`query WithBadToken($id: ID!) { asset(id: $id) { id } }`, { id: assetId }, bad)).extensions.code).toBe('UNAUTHENTICATED');
    const denied = (await nodes({ outcome: 'DENIED' })).filter((n: any) => n.actorId === null);
    expect(denied.map((n: any) => [n.operationName, n.operationType, n.fields, n.targetIds, n.errorCode, n.actorName, n.actorRoles])).toEqual([
      ['Everything', 'query', ['assets'], [], 'UNAUTHENTICATED', null, null],
      ['WithBadToken', 'query', ['asset'], [assetId], 'UNAUTHENTICATED', null, null],
    ]);
  });

  it('refuses a large GraphQL body without a valid token unread, and records it with no operation (hostile probe of 2026-12-07, F4)', async () => {
    // Malformed past 64 KiB: read, it would be 400 "not valid JSON"; refused unread, it is UNAUTHENTICATED.
    const notJson = `{"query": "${'x'.repeat(200_000)}`;
    const send = async (requestId: string, headers: Record<string, string>, body: string | ReadableStream<Uint8Array>, extra: RequestInit = {}, path = '/graphql') => {
      const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...headers }, body, ...extra });
      return { status: res.status, body: (await res.json()) as any };
    };
    const refused = (message: string) => ({ status: 200, body: { errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] } });
    expect(await send('unread-none', {}, notJson)).toEqual(refused('Missing bearer token (Authorization: Bearer <JWT>)'));
    // Every path that reaches GraphQL (Express matches its mount path so) is guarded alike.
    expect(await send('unread-path', {}, notJson, {}, '/GraphQL/')).toEqual(refused('Missing bearer token (Authorization: Bearer <JWT>)'));
    const bad = 'Bearer not.a.jwt';
    secrets.push(bad);
    expect(await send('unread-bad', { authorization: bad }, notJson)).toMatchObject({ status: 200, body: { errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] } });
    // Chunked, its length not declared: the same.
    const chunked = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(new TextEncoder().encode('{"query":"{ me { id } }"}')), c.close()) });
    expect(await send('unread-chunked', {}, chunked, { duplex: 'half' } as RequestInit)).toEqual(refused('Missing bearer token (Authorization: Bearer <JWT>)'));
    // Compressed, it is as large as it inflates to: 200 KB of gzip is a few hundred bytes.
    expect(await send('unread-gzip', { 'content-encoding': 'gzip' }, gzipSync(notJson) as unknown as string)).toEqual(refused('Missing bearer token (Authorization: Bearer <JWT>)'));
    // With a valid token it is read (and refused as malformed); a small one without a token is read too (its operation recorded, as above).
    expect((await send('read-valid', { authorization: `Bearer ${auditor}` }, notJson)).status).toBe(400);
    expect((await send('read-small', {}, JSON.stringify({ query: 'query Small { assets { totalCount } }' }))).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const entries = (await nodes()).filter((n: any) => ['unread-none', 'unread-path', 'unread-bad', 'unread-chunked', 'unread-gzip', 'read-small'].includes(n.correlationId));
    expect(entries.map((n: any) => [n.correlationId, n.actorId, n.operationName, n.fields, n.outcome, n.errorCode])).toEqual([
      ['unread-none', null, null, [], 'DENIED', 'UNAUTHENTICATED'],
      ['unread-path', null, null, [], 'DENIED', 'UNAUTHENTICATED'],
      ['unread-bad', null, null, [], 'DENIED', 'UNAUTHENTICATED'],
      ['unread-chunked', null, null, [], 'DENIED', 'UNAUTHENTICATED'],
      ['unread-gzip', null, null, [], 'DENIED', 'UNAUTHENTICATED'],
      ['read-small', null, 'Small', ['assets'], 'DENIED', 'UNAUTHENTICATED'],
    ]);
  });

  it('records allowed queries, failures with their code, requests that do not parse, and the caller\'s correlation id', async () => {
    await t.ok(`query Mine { me { id } }`, {}, auditor);
    expect(errorOf(await t.gql(`query Nope { history(id: "no-such-entity") { type } }`, {}, auditor)).extensions.code).toBe('NOT_FOUND');
    expect(errorOf(await t.gql(`{ nonsense `, {}, auditor)).extensions.code).toBe('BAD_USER_INPUT');
    const response = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${auditor}`, 'x-correlation-id': 'audit-trail-42' },
      body: JSON.stringify({ query: `query Traced { me { id } }` }),
    });
    expect(response.status).toBe(200);
    const mine = await nodes({ actorId: 'auditor' });
    const by = (name: string | null) => mine.filter((n: any) => n.operationName === name).at(-1);
    expect(by('Mine')).toMatchObject({ operationType: 'query', fields: ['me'], targetIds: [], outcome: 'ALLOWED', errorCode: null });
    expect(by('Nope')).toMatchObject({ fields: ['history'], targetIds: ['no-such-entity'], outcome: 'FAILED', errorCode: 'NOT_FOUND' });
    expect(by(null)).toMatchObject({ operationType: null, fields: [], outcome: 'FAILED', errorCode: 'BAD_USER_INPUT' });
    expect(by('Traced')).toMatchObject({ correlationId: 'audit-trail-42', outcome: 'ALLOWED' });
    // The auditor's own reads of the access log are recorded too.
    expect(mine.some((n: any) => n.operationName === 'Log' && n.fields[0] === 'accessLog')).toBe(true);
  });

  it('is for AUDITOR and CISO only', async () => {
    expect((await t.ok(LOG, { first: 1 }, users.ciso)).accessLog.edges).toHaveLength(1);
    for (const user of [users.riskOwner, users.committee, users.admin, users.opsManager]) {
      expect(errorOf(await t.gql(LOG, {}, user)).extensions.code).toBe('FORBIDDEN');
    }
    const denied = await nodes({ outcome: 'DENIED', actorId: 'admin' });
    expect(denied.at(-1)).toMatchObject({ fields: ['accessLog'], errorCode: 'FORBIDDEN' });
  });

  it('filters by actor, outcome and time range, and pages with cursors', async () => {
    const all = await nodes();
    expect(all.length).toBeGreaterThan(10);
    // Hash-chained, oldest first.
    for (let i = 1; i < all.length; i++) {
      expect(all[i].prevHash).toBe(all[i - 1].hash);
      expect(Number(all[i].id)).toBe(Number(all[i - 1].id) + 1);
    }
    expect((await nodes({ outcome: 'FAILED' })).every((n: any) => n.outcome === 'FAILED')).toBe(true);
    expect((await nodes({ actorId: 'mgr-ops' })).every((n: any) => n.actorId === 'mgr-ops')).toBe(true);

    const middle = all[Math.floor(all.length / 2)];
    const fromMiddle = await nodes({ from: middle.at });
    expect(fromMiddle[0].at >= middle.at).toBe(true);
    expect(fromMiddle.length).toBeLessThan(all.length);
    const beforeMiddle = await nodes({ to: middle.at });
    expect(beforeMiddle.every((n: any) => n.at < middle.at)).toBe(true);
    expect(await nodes({ from: '2000-01-01T00:00:00Z', to: '2000-01-02T00:00:00Z' })).toEqual([]);

    const page1 = await log({ first: 3 });
    expect(page1.edges).toHaveLength(3);
    expect(page1.totalCount).toBeNull();
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = await log({ first: 3, after: page1.pageInfo.endCursor });
    expect(page2.edges.map((e: any) => e.node.id)).toEqual(all.slice(3, 6).map((n: any) => n.id));
    expect(page2.pageInfo.hasPreviousPage).toBe(true);
    expect(errorOf(await t.gql(LOG, { after: 'bm9wZTox' }, auditor)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { after: expect.any(String) } });
    expect(errorOf(await t.gql(LOG, { first: 501 }, auditor)).extensions.code).toBe('BAD_USER_INPUT');
  });

  it('records subscriptions over graphql-ws, and refused socket connections', async () => {
    const client = await t.wsClient(auditor);
    let got = false;
    const received = new Promise<void>((resolve, reject) => {
      client.subscribe({ query: `subscription Feed($s: ID) { eventAppended(streamId: $s) { type } }`, variables: { s: `asset-${assetId}` } }, { next: () => ((got = true), resolve()), error: reject, complete: () => undefined });
    });
    // The subscription is live some time after it is sent (longer on a loaded machine): an event
    // written before misses it, so one is written every 200 ms until it arrives.
    for (let i = 0; !got && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 200));
      if (!got) await t.ok(THREAT, { input: { assetId, name: `Insider ${i}`, affects: ['INTEGRITY'] } }, manager);
    }
    await received;
    await client.dispose();

    // A token with no role of this product may not subscribe: FORBIDDEN, in the contract's shape.
    const roleless = await t.wsClient(await token({ sub: 'nobody', roles: [] }));
    const forbidden = await new Promise<any>((resolve) => roleless.subscribe({ query: `subscription Roleless { eventAppended { type } }` }, { next: (m) => resolve(m), error: (e) => resolve(e), complete: () => resolve(null) }));
    await roleless.dispose();
    expect(forbidden.errors[0].extensions).toEqual({ code: 'FORBIDDEN' });
    // A query that does not validate, over the socket.
    const invalid = await t.wsClient(auditor);
    const rejected = await new Promise<any>((resolve) => invalid.subscribe({ query: `subscription Bad { noSuchField }` }, { next: (m) => resolve(m), error: (e) => resolve(e), complete: () => resolve(null) }));
    await invalid.dispose();
    expect(rejected[0].extensions.code).toBe('BAD_USER_INPUT');

    const refused = await t.wsClient(null);
    await new Promise<void>((resolve) => refused.subscribe({ query: `subscription { eventAppended { type } }` }, { next: () => resolve(), error: () => resolve(), complete: () => resolve() }));
    await refused.dispose();

    const subs = (await nodes()).filter((n: any) => n.operationType === 'subscription');
    expect(subs.map((n: any) => [n.actorId, n.operationName, n.fields, n.targetIds, n.outcome, n.errorCode])).toEqual([
      ['auditor', 'Feed', ['eventAppended'], [`asset-${assetId}`], 'ALLOWED', null],
      ['nobody', 'Roleless', ['eventAppended'], [], 'DENIED', 'FORBIDDEN'],
      ['auditor', 'Bad', ['noSuchField'], [], 'FAILED', 'BAD_USER_INPUT'],
      [null, null, [], [], 'DENIED', 'UNAUTHENTICATED'],
    ]);
  });

  it('keeps the file append-only and tamper-evident, writes what is queued on shutdown, and never stores a token', async () => {
    // Answered just before shutdown: still written (flushed on close).
    await t.ok(`query LastWords { me { id } }`, {}, auditor);
    await t.close({ keepData: true });
    const file = join(t.dataDir, 'access-log.sqlite');
    expect(existsSync(file)).toBe(true);

    const db = new Database(file);
    try {
      const last = db.prepare('SELECT operation_name FROM access_log ORDER BY seq DESC LIMIT 1').pluck().get();
      expect(last).toBe('LastWords');
      expect(() => db.prepare(`UPDATE access_log SET outcome = 'ALLOWED' WHERE outcome = 'DENIED'`).run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM access_log WHERE seq = 1').run()).toThrow(/append-only/);
    } finally {
      db.close();
    }

    const bytes = [file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
    expect(bytes.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(bytes.includes(secret)).toBe(false);
      for (const part of secret.split('.').filter((p) => p.length > 8)) expect(bytes.includes(part)).toBe(false);
    }
    expect(bytes).not.toMatch(/Bearer|authorization/i);

    // An edit made around the triggers shows in the chain.
    const intact = new AccessLogStore(file);
    expect(await intact.verify()).toMatchObject({ ok: true, firstBrokenSeq: null });
    intact.close();
    const attacker = new Database(file);
    attacker.exec('DROP TRIGGER access_log_no_update');
    const deniedSeq = attacker.prepare(`SELECT MIN(seq) FROM access_log WHERE outcome = 'DENIED'`).pluck().get() as number;
    attacker.prepare(`UPDATE access_log SET outcome = 'ALLOWED', error_code = NULL WHERE seq = ?`).run(deniedSeq);
    attacker.close();
    const checker = new AccessLogStore(file);
    const check = await checker.verify();
    checker.close();
    expect(check).toMatchObject({ ok: false, firstBrokenSeq: deniedSeq });
    expect(check.reason).toMatch(/was altered/);
  });
});

describe('the access log with the in-memory store', () => {
  it('lives in memory and still answers', async () => {
    const t = await TestApp.start({ store: 'memory' });
    try {
      await t.ok(`query Hello { me { id } }`, {}, users.opsManager);
      const { accessLog } = await t.ok(`{ accessLog(actorId: "mgr-ops") { edges { node { operationName outcome } } } }`, {}, users.auditor);
      expect(accessLog.edges.map((e: any) => e.node)).toEqual([{ operationName: 'Hello', outcome: 'ALLOWED' }]);
      expect(existsSync(join(t.dataDir, 'access-log.sqlite'))).toBe(false);
    } finally {
      await t.close();
    }
  });
});
