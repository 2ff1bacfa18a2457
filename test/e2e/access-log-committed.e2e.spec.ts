import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliInProcess } from './support/cli-in-process.js';
import { TestApp, errorOf, users } from './support/test-app.js';

/**
 * The access log and the event log, checked the other way (10-b M4): an entry names the event its
 * request committed last (committedPosition, committedEventId), so an event log cut back to an
 * older copy (with the server's record of its heads, the whole data folder but the access log)
 * shows as entries whose events it no longer holds. Until 2026-12-06 every check said OK.
 */
const LOG = `query($from: DateTime) { accessLog(first: 500, from: $from) { edges { node { id operationName outcome correlationId committedPosition committedEventId } } } }`;
const EVENTS = `query($after: String) { events(first: 500, after: $after) { edges { node { eventId position type metadata { correlationId } } } } }`;
const VERIFY = `query { verifyAccessLog { ok firstBrokenPosition reason } }`;
const REGISTER = `mutation R($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`;
const asset = (name: string, extra: Record<string, unknown> = {}) => ({ name, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 2, integrity: 2, availability: 1, ...extra });

async function allEvents(t: TestApp): Promise<{ eventId: string; position: string; type: string; metadata: { correlationId: string } }[]> {
  const out = [];
  for (let after: string | null = null; ; ) {
    const page: any[] = (await t.ok(EVENTS, { after }, users.auditor)).events.edges.map((e: any) => e.node);
    out.push(...page);
    if (page.length < 500) return out;
    after = page[page.length - 1].position;
  }
}

/** The request's last event: the highest position among those carrying its correlation id. */
async function lastEventOf(t: TestApp, correlationId: string) {
  const mine = (await allEvents(t)).filter((e) => e.metadata.correlationId === correlationId);
  expect(mine.length).toBeGreaterThan(0);
  return mine.reduce((a, b) => (b.position > a.position ? b : a));
}

/** The one entry of the request with this correlation id (entries are written within ~25 ms of the answer). */
async function entryOf(t: TestApp, correlationId: string, since: string): Promise<any> {
  for (let i = 0; ; i++) {
    const entries = (await t.ok(LOG, { from: since }, users.auditor)).accessLog.edges.map((e: any) => e.node).filter((e: any) => e.correlationId === correlationId);
    if (entries.length > 0 || i >= 100) {
      expect(entries).toHaveLength(1);
      return entries[0];
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function post(t: TestApp, correlationId: string, query: string, variables: Record<string, unknown>, user: typeof users.auditor): Promise<any> {
  const response = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(user)}`, 'x-request-id': correlationId },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

describe('an access-log entry names the event its request committed last', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('over HTTP, over graphql-ws and for an upload; nothing for a retry, a refusal or a query; the log verifies', async () => {
    const since = new Date().toISOString();
    const created = await post(t, 'committed-1', REGISTER, { input: asset('Cold wallet', { commandId: 'committed-key' }) }, users.opsManager);
    expect(created.errors).toBeUndefined();
    const last = await lastEventOf(t, 'committed-1');
    expect(await entryOf(t, 'committed-1', since)).toMatchObject({ outcome: 'ALLOWED', committedPosition: last.position, committedEventId: last.eventId });

    // The retry answers the first result and commits nothing: its entry names nothing.
    expect((await post(t, 'committed-2', REGISTER, { input: asset('Cold wallet', { commandId: 'committed-key' }) }, users.opsManager)).data.registerAsset.id).toBe(created.data.registerAsset.id);
    expect(await entryOf(t, 'committed-2', since)).toMatchObject({ outcome: 'ALLOWED', committedPosition: null, committedEventId: null });
    const refused = await post(t, 'committed-3', REGISTER, { input: asset('Not mine') }, users.financeManager);
    expect(errorOf(refused).extensions.code).toBe('FORBIDDEN');
    expect(await entryOf(t, 'committed-3', since)).toMatchObject({ outcome: 'DENIED', committedPosition: null });
    await post(t, 'committed-4', `query { assets(first: 5) { totalCount } }`, {}, users.auditor);
    expect(await entryOf(t, 'committed-4', since)).toMatchObject({ outcome: 'ALLOWED', committedPosition: null });

    // Over graphql-ws: the operation's correlation id is the server's.
    const client = await t.wsClient(users.opsManager);
    const overWs = await new Promise<any>((resolve, reject) =>
      client.subscribe({ query: `mutation OverWs($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`, variables: { input: asset('Socket HSM') } }, { next: resolve, error: reject, complete: () => undefined }),
    );
    await client.dispose();
    const registered = (await allEvents(t)).filter((e) => e.type === 'AssetRegistered').pop()!;
    expect(registered).toBeDefined();
    let wsEntry: any;
    for (let i = 0; i < 100 && !wsEntry; i++) {
      if (i) await new Promise((r) => setTimeout(r, 20));
      wsEntry = (await t.ok(LOG, { from: since }, users.auditor)).accessLog.edges.map((e: any) => e.node).find((e: any) => e.operationName === 'OverWs');
    }
    const wsLast = await lastEventOf(t, wsEntry.correlationId);
    expect(overWs.data.registerAsset.id).toBeTruthy();
    expect(wsEntry).toMatchObject({ committedPosition: wsLast.position, committedEventId: wsLast.eventId });

    // An upload's entry names the file's event.
    const upload = await fetch(`${t.url}/evidence`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await t.token(users.secretary)}`, 'content-type': 'text/plain', 'x-filename': 'minutes.txt', 'x-request-id': 'committed-upload' },
      body: 'Minutes of the board, 2026-12-06.',
    });
    expect(upload.status).toBe(201);
    const stored = await lastEventOf(t, 'committed-upload');
    expect(await entryOf(t, 'committed-upload', since)).toMatchObject({ operationName: 'POST /evidence', committedPosition: stored.position, committedEventId: stored.eventId });

    expect((await t.ok(VERIFY, {}, users.auditor)).verifyAccessLog).toEqual({ ok: true, firstBrokenPosition: null, reason: null });
  });
});

describe('the event log rolled back to an older copy, the access log kept (10-b M4)', () => {
  const work = mkdtempSync(join(tmpdir(), 'risk-ledger-rolled-back-events-'));
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });
  const cli = (dir: string) => cliInProcess(['verify-access-log'], { EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir });

  it('names the first entry whose event is gone, from the CLI and from a server started on it, also once its position is reused', async () => {
    const dir = join(work, 'data');
    const older = join(work, 'older');
    let t = await TestApp.start({ dataDir: dir });
    const since = new Date().toISOString();
    expect((await post(t, 'kept-1', REGISTER, { input: asset('Kept') }, users.opsManager)).errors).toBeUndefined();
    await t.close({ keepData: true });
    // The older copy: every file of the data folder.
    cpSync(dir, older, { recursive: true });
    t = await TestApp.start({ dataDir: dir });
    expect((await post(t, 'lost-1', REGISTER, { input: asset('Lost') }, users.opsManager)).errors).toBeUndefined();
    const lost = await lastEventOf(t, 'lost-1');
    const lostEntry = await entryOf(t, 'lost-1', since);
    expect(lostEntry.committedEventId).toBe(lost.eventId);
    expect((await t.ok(VERIFY, {}, users.auditor)).verifyAccessLog.ok).toBe(true);
    await t.close({ keepData: true });
    expect((await cli(dir)).code).toBe(0);

    // Everything but the access log (and its anchor) put back as it was: the event log, its signed heads, the server's record of them, the read models.
    for (const name of readdirSync(dir)) if (!name.startsWith('access-log')) rmSync(join(dir, name), { recursive: true, force: true });
    for (const name of readdirSync(older)) if (!name.startsWith('access-log')) cpSync(join(older, name), join(dir, name), { recursive: true });
    const r = await cli(dir);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, firstBrokenSeq: null });
    expect(r.json.reason).toMatch(new RegExp(`1 access log entry names an event that the event log does not hold .*entry ${lostEntry.id} \\(request lost-1\\) names event ${lost.eventId} at position ${lost.position}, where the event log holds no event`));

    // A server started on it takes writes (nothing else shows the cut), and the next ones reuse the lost positions.
    t = await TestApp.start({ dataDir: dir });
    try {
      expect((await post(t, 'after-1', REGISTER, { input: asset('After') }, users.opsManager)).errors).toBeUndefined();
      const reused = (await allEvents(t)).find((e) => e.position === lost.position);
      expect(reused).toMatchObject({ metadata: { correlationId: 'after-1' } });
      const v = (await t.ok(VERIFY, {}, users.auditor)).verifyAccessLog;
      expect(v).toMatchObject({ ok: false, firstBrokenPosition: null });
      expect(v.reason).toMatch(new RegExp(`entry ${lostEntry.id} \\(request lost-1\\) names event ${lost.eventId} at position ${lost.position}, where the event log holds event ${reused!.eventId}`));
    } finally {
      await t.close({ keepData: true });
    }
  });
});
