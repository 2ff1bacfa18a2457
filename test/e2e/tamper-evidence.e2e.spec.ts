import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { LOG_GENESIS, chainHash, eventHash, genesisHash } from '../../src/event-store/hash-chain.js';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';

/**
 * Tamper evidence the server acts on (issue 11). A log is written by a real server, then its
 * SQLite file is changed the way someone holding the file would (append-only triggers dropped
 * first). On the next start the server must name the first broken position, answer GET /health
 * 503 with integrity BROKEN, refuse every mutation with INTEGRITY_BROKEN and keep serving
 * queries; the offline `verify` of an export of the same file must agree.
 */
const SECRET = 'tamper-evidence-secret-0123456789abcdef';
const pos = (n: number) => n.toString().padStart(19, '0');
const run = promisify(execFile);

type Row = { position: number; stream_id: string; revision: number; event_id: string; type: string; schema_version: number; data: string; metadata: string; recorded_at: string; prev_hash: string; hash: string; chain_hash: string; hash_version: number };

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return response.json();
}

const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id version } }`;
const THREAT = `mutation($i: IdentifyThreatInput!) { identifyThreat(input: $i) { id version } }`;
const register = (name: string) => ({ i: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 2, integrity: 2, availability: 2 } });

function hashOf(r: Row, data = JSON.parse(r.data), recordedAt = r.recorded_at): string {
  return eventHash({ streamId: r.stream_id, revision: r.revision, eventId: r.event_id, type: r.type, schemaVersion: r.schema_version, data, metadata: JSON.parse(r.metadata), prevHash: r.prev_hash, recordedAt, hashVersion: r.hash_version });
}

/** What a competent forger does after any change: every stream chain and the global chain recomputed. */
function rehashEverything(db: Database.Database): void {
  const rows = db.prepare('SELECT * FROM events ORDER BY position').all() as Row[];
  const last = new Map<string, string>();
  let link = LOG_GENESIS;
  const update = db.prepare('UPDATE events SET prev_hash = ?, hash = ?, chain_hash = ? WHERE position = ?');
  for (const r of rows) {
    const prev = last.get(r.stream_id) ?? genesisHash(r.stream_id);
    const hash = hashOf({ ...r, prev_hash: prev });
    link = chainHash(link, pos(r.position), hash);
    update.run(prev, hash, link, r.position);
    last.set(r.stream_id, hash);
  }
}

describe('tamper evidence the server acts on', () => {
  let base: string;
  let work: string;
  let manager: string;
  let auditor: string;
  let owner: string;
  let head: number;
  /** An export of the untouched log, kept "elsewhere": the anchor that shows a cut at a commit boundary. */
  let anchor: string;

  const env = (dir: string, extra: Record<string, string> = {}) => ({ SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, NODE_ENV: 'test', ...extra });

  /** A copy of the base data directory (log, signing key, verified head), changed by `change`. */
  function tampered(name: string, change: (db: Database.Database) => void): string {
    const dir = join(work, name);
    cpSync(base, dir, { recursive: true });
    const db = new Database(join(dir, 'events.sqlite'));
    db.exec('DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete; DROP TRIGGER IF EXISTS chain_signatures_no_update; DROP TRIGGER IF EXISTS chain_signatures_no_delete;');
    change(db);
    db.close();
    return dir;
  }

  /**
   * Starts a server on `dir` and checks that it acts on a broken log at `at`; then that the offline
   * verifier agrees: on an export of the file, or (`anchored`: a cut at a commit boundary leaves a
   * valid signed log) on the file against the manifest of an export made before the tampering.
   */
  async function expectBrokenAt(dir: string, at: string, reason: RegExp, offline: 'export' | 'anchored' = 'export'): Promise<void> {
    const server = await startServer(env(dir));
    try {
      const base = server.url.replace(/\/graphql$/, '');
      // The position and the reason are details: for a caller with a valid token only.
      const health = await fetch(`${base}/health`, { headers: { authorization: `Bearer ${auditor}` } });
      const body = (await health.json()) as any;
      expect(health.status).toBe(503);
      expect(body).toMatchObject({ integrity: 'BROKEN', integrityFailure: { position: at } });
      expect(body.integrityFailure.reason).toMatch(reason);
      // Every mutation is refused; queries are still served (auditors look).
      const refused = await gql(server.url, manager, REGISTER, register(`after-${randomUUID()}`));
      expect(refused.errors[0].extensions).toMatchObject({ code: 'INTEGRITY_BROKEN', position: at });
      // Whatever the input: an unknown target or a text too long answered NOT_FOUND or BAD_USER_INPUT
      // where the commands look their target up first (contract probe of 2026-12-06, M6).
      for (const [token, query, input] of [
        [manager, 'mutation($i: AddCommentInput!) { addComment(input: $i) { id } }', { entityId: 'nope', text: 'x' }],
        [manager, 'mutation($i: AddCommentInput!) { addComment(input: $i) { id } }', { entityId: 'nope', text: 'x'.repeat(10_001) }],
        [owner, 'mutation($i: AcceptResidualRiskInput!) { acceptResidualRisk(input: $i) { id } }', { planId: 'nope', riskId: 'nope', statement: 'ok' }],
      ] as const) {
        expect((await gql(server.url, token, query, { i: input })).errors[0].extensions).toMatchObject({ code: 'INTEGRITY_BROKEN', position: at });
      }
      const read = await gql(server.url, auditor, '{ assets(first: 5) { totalCount } verifyIntegrity { ok firstBrokenPosition signaturesChecked } }');
      expect(read.errors).toBeUndefined();
      expect(read.data.verifyIntegrity).toMatchObject({ ok: false, firstBrokenPosition: at });
      // And every answer says so (auditor probe F4: a forged record's present and past disagreed unflagged).
      expect(read.extensions?.integrity).toMatchObject({ status: 'BROKEN', firstBrokenPosition: at });
      expect(read.extensions.integrity.message).toContain(`fails verification at position ${at}`);
      // Found by the server's verification worker (worker-log-verification.ts), not a fallback on the main thread.
      expect(server.output()).toMatch(/"thread":"worker","msg":"integrity: the event log fails verification; mutations are refused"/);
      expect(server.output()).not.toMatch(/verification worker stopped/);
    } finally {
      await stopServer(server);
    }
    const cli = join(process.cwd(), 'dist/src/cli/main.js');
    if (offline === 'anchored') {
      const anchored = await run(process.execPath, [cli, 'verify-store', '--manifest', `${anchor}.manifest.json`], { env: { ...process.env, ...env(dir) } }).catch((e: { stdout: string }) => e);
      expect(JSON.parse(anchored.stdout.split('\n')[0]!)).toMatchObject({ ok: false, anchorOk: false, firstBrokenPosition: at });
      return;
    }
    // The offline verifier agrees on the export of the same file, with the server's public key.
    const file = join(dir, 'export.ndjson');
    const exported = await run(process.execPath, [cli, 'export', '--out', file], { env: { ...process.env, ...env(dir) } }).catch((e: { stdout: string }) => e);
    expect(JSON.parse(exported.stdout.split('\n')[0]!)).toMatchObject({ integrity: { ok: false, firstBrokenPosition: at } });
    const verified = await run(process.execPath, [cli, 'verify', file], { env: { ...process.env, ...env(dir) } }).catch((e: { stdout: string }) => e);
    expect(JSON.parse(verified.stdout.split('\n')[0]!)).toMatchObject({ ok: false, firstBrokenPosition: at });
  }

  beforeAll(async () => {
    buildOnce();
    work = mkdtempSync(join(tmpdir(), 'risk-ledger-tamper-'));
    base = join(work, 'base');
    manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
    owner = await signToken(SECRET, { sub: 'owen', roles: ['RISK_OWNER'] });
    const server = await startServer(env(base));
    try {
      for (let i = 0; i < 4; i++) {
        const asset = await gql(server.url, manager, REGISTER, register(`asset ${i}`));
        await gql(server.url, manager, THREAT, { i: { assetId: asset.data.registerAsset.id, name: 'Outage', affects: ['AVAILABILITY'] } });
      }
      const report = await gql(server.url, auditor, '{ verifyIntegrity { ok eventsChecked signaturesChecked headPosition } }');
      expect(report.data.verifyIntegrity).toMatchObject({ ok: true, signaturesChecked: 8 });
      head = Number(report.data.verifyIntegrity.headPosition);
    } finally {
      await stopServer(server);
    }
    expect(existsSync(join(base, 'integrity-state.json'))).toBe(true);
    expect(existsSync(join(base, 'signing-key.pem'))).toBe(true);
    anchor = join(work, 'anchor.ndjson');
    await run(process.execPath, [join(process.cwd(), 'dist/src/cli/main.js'), 'export', '--out', anchor], { env: { ...process.env, ...env(base) } });
  }, 180_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('starts on an untouched log, publishes its key and verifies incrementally from the head it recorded', async () => {
    const dir = tampered('untouched', () => undefined);
    const server = await startServer(env(dir));
    try {
      const base = server.url.replace(/\/graphql$/, '');
      const health = (await (await fetch(`${base}/health`)).json()) as any;
      expect(health).toMatchObject({ status: 'ok', integrity: 'OK' });
      const keys = (await (await fetch(`${base}/.well-known/risk-ledger/keys`)).json()) as any;
      expect(keys.keys).toEqual([expect.objectContaining({ alg: 'Ed25519', kid: keys.signingKid, publicKeyPem: expect.stringContaining('BEGIN PUBLIC KEY') })]);
      expect(server.output()).toMatch(/"incremental":true.*"msg":"integrity: the event log verifies"/);
      expect((await gql(server.url, manager, REGISTER, register('one more'))).errors).toBeUndefined();
    } finally {
      await stopServer(server);
    }
  }, 60_000);

  it('detects the newest events deleted in the middle of a commit, at the first event left unsigned', async () => {
    const dir = tampered('truncated-mid-commit', (db) => {
      // The last register commit wrote two events; keep its first only, and drop later signatures.
      const lastTwoEventCommit = db.prepare('SELECT first_position, position FROM chain_signatures WHERE position > first_position ORDER BY position DESC LIMIT 1').get() as { first_position: number; position: number };
      db.prepare('DELETE FROM events WHERE position > ?').run(lastTwoEventCommit.first_position);
      db.prepare('DELETE FROM chain_signatures WHERE position > ?').run(lastTwoEventCommit.first_position);
      cut = lastTwoEventCommit.first_position;
    });
    await expectBrokenAt(dir, pos(cut), /covered by no signed head|lies in no signed commit/);
  }, 90_000);
  let cut = 0;

  it('detects whole commits deleted from the end (with their signatures) by the head it recorded before; offline, with an anchor', async () => {
    const dir = tampered('truncated-at-commit', (db) => {
      const boundary = db.prepare('SELECT MAX(position) FROM chain_signatures WHERE position < ?').pluck().get(head - 1) as number;
      db.prepare('DELETE FROM events WHERE position > ?').run(boundary);
      db.prepare('DELETE FROM chain_signatures WHERE position > ?').run(boundary);
    });
    await expectBrokenAt(dir, pos(head), /newest events were deleted/, 'anchored');
  }, 90_000);

  it('verify-store reads the file before opening it as a store: newest events deleted with their signed heads left, an emptied log, a dropped table', async () => {
    const cli = join(process.cwd(), 'dist/src/cli/main.js');
    const verifyStore = async (dir: string) => {
      const r = await run(process.execPath, [cli, 'verify-store'], { env: { ...process.env, ...env(dir) } }).then(
        (ok) => ({ code: 0, stdout: ok.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      );
      return { code: r.code, json: JSON.parse(r.stdout.split('\n')[0]!), sentence: r.stdout.split('\n')[1] };
    };
    // Readers of the log stop at its head, so signatures past it were never looked at: "OK".
    const lastGone = tampered('last-event-deleted', (db) => db.prepare('DELETE FROM events WHERE position = ?').run(head));
    expect(await verifyStore(lastGone)).toMatchObject({ code: 1, json: { ok: false, reason: expect.stringMatching(`signed head at ${pos(head)} is missing from the log .*newest events were deleted`) }, sentence: expect.stringMatching(/^BROKEN: /) });
    const emptied = tampered('log-emptied', (db) => db.exec('DELETE FROM events'));
    expect(await verifyStore(emptied)).toMatchObject({ code: 1, json: { ok: false, reason: expect.stringContaining('newest events were deleted') } });
    const dropped = tampered('events-dropped', (db) => db.exec('DROP TABLE events'));
    const before = readFileSync(join(dropped, 'events.sqlite'));
    expect(await verifyStore(dropped)).toMatchObject({ code: 1, json: { ok: false, reason: "the store file is damaged: the store's table events is missing" } });
    // Looked at, not repaired: the table was not created again.
    expect(readFileSync(join(dropped, 'events.sqlite')).equals(before)).toBe(true);
  }, 90_000);

  it('detects a log rewritten with recomputed hashes: the signed heads no longer match', async () => {
    const dir = tampered('rewritten', (db) => {
      const row = db.prepare('SELECT * FROM events WHERE position = 3').get() as Row;
      db.prepare('UPDATE events SET data = ? WHERE position = 3').run(JSON.stringify({ ...JSON.parse(row.data), name: 'Rewritten' }));
      rehashEverything(db);
    });
    // The first signed head at or after the change: the commit that wrote position 3.
    const signed = new Database(join(dir, 'events.sqlite'), { readonly: true });
    const first = signed.prepare('SELECT first_position FROM chain_signatures WHERE position >= 3 ORDER BY position LIMIT 1').pluck().get() as number;
    signed.close();
    await expectBrokenAt(dir, pos(first), /signed head at .* does not name the log's chain link/);
  }, 90_000);

  it('detects a whole stream deleted and the log renumbered and rehashed', async () => {
    const dir = tampered('stream-deleted', (db) => {
      const stream = (db.prepare('SELECT stream_id FROM events WHERE position = 1').get() as { stream_id: string }).stream_id;
      db.prepare('DELETE FROM events WHERE stream_id = ?').run(stream);
      const rows = db.prepare('SELECT position FROM events ORDER BY position').pluck().all() as number[];
      const move = db.prepare('UPDATE events SET position = ? WHERE position = ?');
      rows.forEach((p, i) => move.run(i + 1, p));
      rehashEverything(db);
    });
    // The first signed commit no longer matches: none of its events is proven.
    await expectBrokenAt(dir, pos(1), /signed head at .* does not name the log's chain link/);
  }, 90_000);

  it('detects a forged event with valid unkeyed hashes appended at the end, by its missing signature', async () => {
    const dir = tampered('forged-tail', (db) => {
      const last = db.prepare('SELECT * FROM events ORDER BY position DESC LIMIT 1').get() as Row;
      const forged: Row = {
        ...last, position: last.position + 1, event_id: randomUUID(), stream_id: 'asset-forged', revision: 0, type: 'AssetRetired', data: JSON.stringify({ reason: 'forged' }),
        prev_hash: genesisHash('asset-forged'), recorded_at: new Date().toISOString(), hash_version: 2,
      };
      const hash = hashOf(forged);
      db.prepare(`INSERT INTO events (position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at, prev_hash, hash, chain_hash, hash_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        forged.position, forged.event_id, forged.stream_id, 0, forged.type, 1, forged.data, forged.metadata, forged.recorded_at, forged.prev_hash, hash, chainHash(last.chain_hash, pos(forged.position), hash), 2,
      );
    });
    await expectBrokenAt(dir, pos(head + 1), /covered by no signed head|lies in no signed commit/);
  }, 90_000);

  it('serves documents from a failing log with a warning on each copy, and INTEGRITY_BROKEN (never a 500) where forged events cannot be folded', async () => {
    /** A copy of the log with one forged event (valid unkeyed hashes, no signature) at its end. */
    const forgedTail = (name: string, streamId: string, type: string, data: unknown) =>
      tampered(name, (db) => {
        const last = db.prepare('SELECT * FROM events ORDER BY position DESC LIMIT 1').get() as Row;
        const forged: Row = { ...last, position: last.position + 1, event_id: randomUUID(), stream_id: streamId, revision: 0, type, data: JSON.stringify(data), prev_hash: genesisHash(streamId), recorded_at: new Date().toISOString(), hash_version: 2 };
        const hash = hashOf(forged);
        db.prepare(`INSERT INTO events (position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at, prev_hash, hash, chain_hash, hash_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
          forged.position, forged.event_id, forged.stream_id, 0, forged.type, 1, forged.data, forged.metadata, forged.recorded_at, forged.prev_hash, hash, chainHash(last.chain_hash, pos(forged.position), hash), 2,
        );
      });
    const documentsOf = async (dir: string) => {
      const server = await startServer(env(dir));
      try {
        const base = server.url.replace(/\/graphql$/, '');
        const health = await fetch(`${base}/health`, { headers: { authorization: `Bearer ${auditor}` } });
        expect(((await health.json()) as any).integrity).toBe('BROKEN');
        expect([health.headers.get('x-integrity'), health.headers.get('x-integrity-broken-position')]).toEqual(['BROKEN', pos(head + 1)]);
        const anonymous = await fetch(`${base}/health`);
        expect([anonymous.headers.get('x-integrity'), anonymous.headers.get('x-integrity-broken-position')]).toEqual(['BROKEN', null]);
        const get = async (path: string) => {
          const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${auditor}` } });
          return { status: res.status, integrity: res.headers.get('x-integrity'), at: res.headers.get('x-integrity-broken-position'), body: await res.text() };
        };
        // No event can be appended: nor is a file stored for one.
        const upload = await fetch(`${base}/evidence`, { method: 'POST', headers: { authorization: `Bearer ${manager}`, 'content-type': 'text/plain', 'x-filename': 'minutes.txt' }, body: `minutes ${randomUUID()}` });
        const uploaded = { status: upload.status, at: upload.headers.get('x-integrity-broken-position'), body: (await upload.json()) as any };
        // Refused before GraphQL reads them (a batched body, malformed JSON): flagged all the same.
        const refusedEarly = async (body: string) => {
          const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${auditor}`, 'content-type': 'application/json' }, body });
          return { status: res.status, integrity: res.headers.get('x-integrity') };
        };
        const early = [await refusedEarly(JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }])), await refusedEarly('{"query": ')];
        // Refused by Node's parser before any middleware: headers over 16 KiB (431).
        const big = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-padding': 'p'.repeat(20_000) }, body: '{}' });
        early.push({ status: big.status, integrity: big.headers.get('x-integrity') });
        return { controls: await get('/documents/controls.md'), register: await get('/documents/register.csv'), uploaded, early, output: server.output() };
      } finally {
        await stopServer(server);
      }
    };

    // Well-formed: the documents render, and say the log fails from the forged position on.
    const readable = await documentsOf(forgedTail('forged-readable', 'asset-forged-doc', 'AssetRetired', { reason: 'forged' }));
    expect(readable.controls).toMatchObject({ status: 200, integrity: 'BROKEN', at: pos(head + 1) });
    expect(readable.controls.body).toMatch(new RegExp(`^> \\*\\*WARNING: the event log fails verification at position ${pos(head + 1)} `));
    expect(readable.register).toMatchObject({ status: 200, integrity: 'BROKEN', at: pos(head + 1) });
    expect(readable.register.body).not.toMatch(/WARNING/);
    expect(readable.uploaded).toMatchObject({ status: 503, at: pos(head + 1), body: { error: { code: 'INTEGRITY_BROKEN', position: pos(head + 1) } } });
    expect(readable.early).toEqual([{ status: 400, integrity: 'BROKEN' }, { status: 400, integrity: 'BROKEN' }, { status: 431, integrity: 'BROKEN' }]);
    const stored = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).filter((f) => statSync(join(dir, f)).isFile()) : []);
    expect(stored(join(work, 'forged-readable', 'evidence'))).toEqual([]);

    // Malformed (no decider wrote it): the fold itself fails; the answer is the log's state.
    const unreadable = await documentsOf(forgedTail('forged-unreadable', 'risk-forged-doc', 'RiskIdentified', {}));
    for (const doc of [unreadable.controls, unreadable.register]) {
      expect(doc.status).toBe(503);
      expect(JSON.parse(doc.body)).toMatchObject({ error: { code: 'INTEGRITY_BROKEN', position: pos(head + 1) } });
    }
  }, 90_000);

  it('fails the log at an event whose stored data is not JSON: mutations refused, documents 503, verify-store and export BROKEN (exit 1, nothing written)', async () => {
    const dir = tampered('data-not-json', (db) => db.prepare("UPDATE events SET data = '{not json' WHERE position = 3").run());
    const server = await startServer(env(dir));
    try {
      const base = server.url.replace(/\/graphql$/, '');
      const health = (await (await fetch(`${base}/health`, { headers: { authorization: `Bearer ${auditor}` } })).json()) as any;
      expect(health).toMatchObject({ integrity: 'BROKEN', integrityFailure: { position: pos(3) } });
      expect(health.integrityFailure.reason).toMatch(/not JSON/);
      const refused = await gql(server.url, manager, REGISTER, register(`after-${randomUUID()}`));
      expect(refused.errors[0].extensions).toMatchObject({ code: 'INTEGRITY_BROKEN', position: pos(3) });
      const report = await gql(server.url, auditor, '{ verifyIntegrity { ok firstBrokenPosition } }');
      expect(report.data.verifyIntegrity).toEqual({ ok: false, firstBrokenPosition: pos(3) });
      const document = await fetch(`${base}/documents/controls.md`, { headers: { authorization: `Bearer ${auditor}` } });
      expect(document.status).toBe(503);
      expect(((await document.json()) as any).error).toMatchObject({ code: 'INTEGRITY_BROKEN', position: pos(3) });
    } finally {
      await stopServer(server);
    }
    const cli = join(process.cwd(), 'dist/src/cli/main.js');
    const outcome = (args: string[]) =>
      run(process.execPath, [cli, ...args], { env: { ...process.env, ...env(dir) } }).then(
        (ok) => ({ code: 0, json: JSON.parse(ok.stdout.split('\n')[0]!) }),
        (e: { code: number; stdout: string }) => ({ code: e.code, json: JSON.parse(e.stdout.split('\n')[0]!) }),
      );
    expect(await outcome(['verify-store'])).toMatchObject({ code: 1, json: { ok: false, firstBrokenPosition: pos(3) } });
    const exportFile = join(dir, 'broken-export.ndjson');
    expect(await outcome(['export', '--out', exportFile])).toMatchObject({ code: 1, json: { ok: false, integrity: { ok: false, firstBrokenPosition: pos(3) } } });
    expect(readdirSync(dir).filter((f) => f.startsWith('broken-export'))).toEqual([]);
  }, 90_000);

  it('detects an event moved in time: recordedAt is covered by its hash', async () => {
    const dir = tampered('backdated', (db) => {
      db.prepare("UPDATE events SET recorded_at = '2001-01-01T00:00:00.000Z' WHERE position = 4").run();
    });
    await expectBrokenAt(dir, pos(4), /event hash mismatch .*recordedAt/);
  }, 90_000);

  it("refuses a copy of the log that someone else's server signed with its own key", async () => {
    // The copy travels, a server with another key appends to it, and it comes back.
    const elsewhere = tampered('elsewhere', () => undefined);
    // That server has its own key, and trusts ours (so it accepts the log it was given).
    const ours = join(work, 'our-public-key.pem');
    writeFileSync(ours, createPublicKey(createPrivateKey(readFileSync(join(base, 'signing-key.pem'), 'utf8'))).export({ type: 'spki', format: 'pem' }));
    rmSync(join(elsewhere, 'signing-key.pem'));
    rmSync(join(elsewhere, 'integrity-state.json'));
    const other = await startServer(env(elsewhere, { SIGNING_TRUSTED_KEYS: ours }));
    try {
      expect((await gql(other.url, manager, REGISTER, register('written elsewhere'))).errors).toBeUndefined();
    } finally {
      await stopServer(other);
    }
    const back = join(work, 'back');
    cpSync(base, back, { recursive: true });
    cpSync(join(elsewhere, 'events.sqlite'), join(back, 'events.sqlite'));
    // Our server does not trust their key: the first commit they signed is not proven.
    await expectBrokenAt(back, pos(head + 1), /which this verifier does not trust/);
  }, 120_000);

  it('notices, while it runs, an event another process slips into the log', async () => {
    const dir = tampered('live', () => undefined);
    const server = await startServer(env(dir));
    try {
      const url = server.url;
      const base = url.replace(/\/graphql$/, '');
      // Another process writes to the file, hashing correctly but without the key.
      const db = new Database(join(dir, 'events.sqlite'));
      const last = db.prepare('SELECT * FROM events ORDER BY position DESC LIMIT 1').get() as Row;
      const forged: Row = { ...last, position: last.position + 1, event_id: randomUUID(), stream_id: 'asset-slipped', revision: 0, prev_hash: genesisHash('asset-slipped'), recorded_at: new Date().toISOString(), hash_version: 2 };
      const hash = hashOf(forged);
      db.prepare(`INSERT INTO events (position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at, prev_hash, hash, chain_hash, hash_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        forged.position, forged.event_id, forged.stream_id, 0, forged.type, 1, forged.data, forged.metadata, forged.recorded_at, forged.prev_hash, hash, chainHash(last.chain_hash, pos(forged.position), hash), 2,
      );
      db.close();
      let body: any;
      for (let i = 0; i < 50; i++) {
        body = await (await fetch(`${base}/health`, { headers: { authorization: `Bearer ${auditor}` } })).json();
        if (body.integrity === 'BROKEN') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(body).toMatchObject({ integrity: 'BROKEN', integrityFailure: { position: pos(head + 1) } });
      expect((await gql(url, manager, REGISTER, register('refused'))).errors[0].extensions.code).toBe('INTEGRITY_BROKEN');
    } finally {
      await stopServer(server);
    }
  }, 90_000);

  it('keeps its signing key in DATA_DIR, readable by the owner only', () => {
    const mode = statSync(join(base, 'signing-key.pem')).mode;
    expect(mode & 0o077).toBe(0);
    expect(readFileSync(join(base, 'signing-key.pem'), 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
  });
});
