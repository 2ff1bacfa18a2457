import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { acknowledgedSocket, subscribedSocket } from './support/ws-subscription.js';
import { errorOf, TEST_JWT_SECRET, TestApp, users } from './support/test-app.js';

/**
 * Revocation of one person's tokens (authz probe F6: a departed risk owner or board secretary kept
 * every right until the token expired, only a new JWT_SECRET cut anyone). The real application on
 * a real SQLite file: the revoked token is refused over GraphQL (query and mutation), on /evidence,
 * /documents and on graphql-ws, a token issued after it works, nobody else is touched, and a restart keeps it.
 */

const REVOKE = `mutation($input: RevokeTokensInput!) { revokeTokens(input: $input) { subject revokedAt reason revokedBy } }`;
const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`;
const asset = (name: string, department = 'ops') => ({ i: { name, category: 'SYSTEM', department, managerId: department === 'ops' ? 'mgr-ops' : 'mgr-fin', confidentiality: 2, integrity: 2, availability: 2 } });
const REVOCATION_EVENTS = `{ events(first: 50, types: ["TokensRevoked"]) { edges { node { type streamId data metadata { actor { id } commandId } } } } }`;

/** A token of `user` issued at `iat` (seconds since the epoch), as an identity provider would issue it. */
function tokenIssuedAt(user: { sub: string; name?: string; roles: string[]; department?: string }, iat: number | undefined): Promise<string> {
  const jwt = new SignJWT({ name: user.name ?? user.sub, roles: user.roles, ...(user.department ? { department: user.department } : {}) }).setProtectedHeader({ alg: 'HS256' }).setSubject(user.sub).setExpirationTime('8h');
  if (iat !== undefined) jwt.setIssuedAt(iat);
  return jwt.sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

/** A graphql-ws socket with one live subscription; `closed` resolves with the close code. */
function subscribed(t: TestApp, token: string): Promise<{ socket: WebSocket; closed: Promise<number> }> {
  return subscribedSocket(t.url.replace('http', 'ws') + '/graphql', token, 'subscription { eventAppended(types: ["AssetRegistered"]) { streamId } }');
}

async function uploadEvidence(t: TestApp, token: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${t.url}/evidence`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'x-filename': 'note.txt' }, body: 'evidence' });
  return { status: response.status, body: await response.text() };
}

/**
 * A token of mgr-ops issued after the revocation at `revokedAt`: more than the clock tolerance (30 s)
 * after it, since an iat up to that far ahead may belong to a token minted before (re-probe F2).
 * Waits until such an iat is no further ahead of the server's clock than the tolerance.
 */
async function tokenIssuedAfter(revokedAt: string): Promise<string> {
  const revokedMs = Date.parse(revokedAt);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, revokedMs + 1_000 - Date.now())));
  return tokenIssuedAt(users.opsManager, Math.floor(revokedMs / 1000) + 31);
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref())]);
}

describe('revokeTokens: one person cut off, the others untouched', () => {
  let t: TestApp;
  let oldToken: string;
  let noIatToken: string;
  /** Minted before the revocation by an identity provider whose clock runs 25 s ahead of the server's. */
  let aheadToken: string;
  let revokedAt: string;

  beforeAll(async () => {
    t = await TestApp.start();
    const now = Math.floor(Date.now() / 1000);
    oldToken = await tokenIssuedAt(users.opsManager, now - 60);
    noIatToken = await tokenIssuedAt(users.opsManager, undefined);
    aheadToken = await tokenIssuedAt(users.opsManager, now + 25);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('accepts the token before, and refuses revokeTokens to anyone but an ADMIN, recording nothing', async () => {
    expect((await t.gql('{ me { id } }', {}, oldToken)).data?.me.id).toBe('mgr-ops');
    expect((await t.gql('{ me { id } }', {}, noIatToken)).data?.me.id).toBe('mgr-ops');
    expect((await t.gql('{ me { id } }', {}, aheadToken)).data?.me.id).toBe('mgr-ops');
    for (const user of [users.ciso, users.auditor, users.opsManager]) {
      const refused = await t.gql(REVOKE, { input: { subject: 'mgr-ops', reason: 'Left' } }, user);
      expect(errorOf(refused).extensions.code).toBe('FORBIDDEN');
    }
    expect((await t.ok(REVOCATION_EVENTS, {}, users.auditor)).events.edges).toEqual([]);
    expect((await t.gql('{ me { id } }', {}, oldToken)).data?.me.id).toBe('mgr-ops');
  });

  it('refuses the revoked tokens on a query, a mutation, /evidence and graphql-ws, and closes their open subscriptions with 4401', async () => {
    const open = await subscribed(t, oldToken);
    const other = await subscribed(t, await t.token(users.financeManager));
    const result = await t.ok(REVOKE, { input: { subject: 'mgr-ops', reason: 'Left the company', commandId: 'revoke-mgr-ops-1' } }, users.admin);
    revokedAt = result.revokeTokens.revokedAt;
    expect(result.revokeTokens).toEqual({ subject: 'mgr-ops', revokedAt: expect.any(String), reason: 'Left the company', revokedBy: 'admin' });

    expect(await within(open.closed, 5_000, 'the revoked subscription to close')).toBe(4401);

    for (const token of [oldToken, noIatToken, aheadToken]) {
      const query = errorOf(await t.gql('{ me { id } }', {}, token));
      expect(query.extensions.code).toBe('UNAUTHENTICATED');
      expect(query.message).toMatch(/revoked/i);
      expect(query.message).toMatch(/new token/i);
      const mutation = errorOf(await t.gql(REGISTER, asset(`after-revocation-${token.length}`), token));
      expect(mutation.extensions.code).toBe('UNAUTHENTICATED');
      const upload = await uploadEvidence(t, token);
      expect(upload.status).toBe(401);
      expect(upload.body).toMatch(/revoked/i);
      const document = await fetch(`${t.url}/documents/controls.md`, { headers: { authorization: `Bearer ${token}` } });
      expect(document.status).toBe(401);
      expect(await document.text()).toMatch(/revoked/i);
      const refused = new WebSocket(t.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
      const code = new Promise<number>((resolve) => refused.once('close', (c) => resolve(c)));
      refused.once('open', () => refused.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } })));
      expect(await within(code, 5_000, 'the refused connection to close')).toBe(4401);
    }

    // The access log names whom the refused requests were from (new-user probe 6: actor null, so accessLog(actorId) missed them).
    const refusedSince = async () => {
      const { accessLog } = await t.ok(`query($from: DateTime) { accessLog(first: 500, from: $from, actorId: "mgr-ops") { edges { node { operationName operationType outcome errorCode } } } }`, { from: revokedAt }, users.auditor);
      return accessLog.edges.map((e: any) => e.node).filter((n: any) => n.errorCode === 'UNAUTHENTICATED');
    };
    for (let i = 0; i < 100 && (await refusedSince()).length < 12; i++) await new Promise((r) => setTimeout(r, 20));
    const refused = await refusedSince();
    // Per token: the query, the mutation, the upload and the document.
    expect(refused.filter((n: any) => n.operationType === 'http').map((n: any) => n.operationName).sort()).toEqual([...Array(3).fill('GET /documents/controls.md'), ...Array(3).fill('POST /evidence')]);
    expect(refused.filter((n: any) => n.operationType !== 'http')).toHaveLength(6);

    // Another subject: its subscription still open, its requests served.
    expect(other.socket.readyState).toBe(WebSocket.OPEN);
    other.socket.close();
    await t.ok(REGISTER, asset('finance-still-works', 'finance'), users.financeManager);
  });

  it('accepts a token of the same subject issued after the revocation', async () => {
    const fresh = await tokenIssuedAfter(revokedAt);
    expect((await t.ok('{ me { id } }', {}, fresh)).me.id).toBe('mgr-ops');
    expect((await t.ok(REGISTER, asset('registered-with-a-new-token'), fresh)).registerAsset.id).toEqual(expect.any(String));
    expect((await uploadEvidence(t, fresh)).status).toBe(201);
    expect((await fetch(`${t.url}/documents/controls.md`, { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(200);
  });

  it('records one TokensRevoked with its actor, nothing more for the same commandId, and lists it for auditors', async () => {
    const again = await t.ok(REVOKE, { input: { subject: 'mgr-ops', reason: 'Left the company', commandId: 'revoke-mgr-ops-1' } }, users.admin);
    expect(again.revokeTokens.revokedAt).toBe(revokedAt);
    // The same commandId naming another subject: refused, nothing recorded, that subject not revoked
    // (re-probe F1: INTERNAL_SERVER_ERROR, every revocation being on one stream; then, until the
    // input was compared beside the key (README probe M3), answered ok with the first revocation).
    const reused = await t.gql(REVOKE, { input: { subject: 'mgr-fin', reason: 'Another', commandId: 'revoke-mgr-ops-1' } }, users.admin);
    expect(reused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/another input/) } });
    expect((await t.ok('{ me { id } }', {}, users.financeManager)).me.id).toBe('mgr-fin');
    const events = (await t.ok(REVOCATION_EVENTS, {}, users.auditor)).events.edges.map((e: any) => e.node);
    expect(events).toEqual([
      { type: 'TokensRevoked', streamId: 'token-revocations-all', data: { subject: 'mgr-ops', revokedAt, reason: 'Left the company', revokedBy: 'admin' }, metadata: { actor: { id: 'admin' }, commandId: 'revoke-mgr-ops-1' } },
    ]);
    const history = await t.ok('{ history(id: "all") { type data } }', {}, users.auditor);
    expect(history.history).toEqual([{ type: 'TokensRevoked', data: events[0].data }]);
    const listed = await t.ok('{ tokenRevocations { subject revokedAt reason revokedBy } }', {}, users.auditor);
    expect(listed.tokenRevocations).toEqual([{ subject: 'mgr-ops', revokedAt, reason: 'Left the company', revokedBy: 'admin' }]);
    expect(errorOf(await t.gql('{ tokenRevocations { subject } }', {}, users.financeManager)).extensions.code).toBe('FORBIDDEN');
  });

  it('answers an ADMIN who revokes their own tokens over graphql-ws before closing the socket with 4401', async () => {
    const self = await tokenIssuedAt({ sub: 'admin-self', name: 'Admin Self', roles: ['ADMIN'] }, Math.floor(Date.now() / 1000) - 5);
    const { socket, closed } = await acknowledgedSocket(t.url.replace('http', 'ws') + '/graphql', self);
    const messages: any[] = [];
    socket.on('message', (m) => messages.push(JSON.parse(String(m))));
    socket.send(JSON.stringify({ id: 'live', type: 'subscribe', payload: { query: 'subscription { eventAppended(types: ["AssetRegistered"]) { streamId } }' } }));
    socket.send(JSON.stringify({ id: 'revoke', type: 'subscribe', payload: { query: REVOKE, variables: { input: { subject: 'admin-self', reason: 'Rotating my own access' } } } }));
    expect(await within(closed, 15_000, 'the socket to close')).toBe(4401);
    // The mutation's answer came before the close (re-probe F6: the socket closed first, no answer).
    const answer = messages.find((m) => m.id === 'revoke' && m.type === 'next');
    expect(answer?.payload.errors).toBeUndefined();
    expect(answer?.payload.data.revokeTokens).toMatchObject({ subject: 'admin-self', revokedBy: 'admin-self' });
    expect(errorOf(await t.gql('{ me { id } }', {}, self)).extensions.code).toBe('UNAUTHENTICATED');
  });

  it('still refuses the revoked token after a restart, and still accepts the later one', async () => {
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    t = await TestApp.start({ dataDir });
    const refused = errorOf(await t.gql('{ me { id } }', {}, oldToken));
    expect(refused.extensions.code).toBe('UNAUTHENTICATED');
    expect(refused.message).toMatch(/revoked/i);
    const fresh = await tokenIssuedAfter(revokedAt);
    expect((await t.ok('{ me { id } }', {}, fresh)).me.id).toBe('mgr-ops');
    expect(errorOf(await t.gql('{ me { id } }', {}, aheadToken)).extensions.code).toBe('UNAUTHENTICATED');
    expect((await t.ok('{ me { id } }', {}, users.financeManager)).me.id).toBe('mgr-fin');
  }, 60_000);
});
