import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { accessEntryHash, type AccessRecord } from '../../src/audit/application/access-log-chain.js';
import { inFlight } from '../../src/audit/application/access-log-crosscheck.js';
import { cliInProcess } from './support/cli-in-process.js';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';
import { TestApp, users } from './support/test-app.js';

/**
 * A server killed under load (SIGKILL: an OOM kill, a crash) loses the access-log entries still
 * batched in memory, while the changes of those requests are committed (answered or not). The next
 * start finds the stale lock and records the unclean stop in the access log (UncleanStopRecovered,
 * signed): verify-access-log then acknowledges the unlogged changes of the few seconds before the
 * head it found instead of reporting BROKEN for ever (upgrade probe p16, M-4). The acknowledgement
 * is bounded: an access log cut back further is still reported, and a marker nobody signed is not
 * believed.
 */
const SECRET = 'unclean-stop-secret-0123456789abcdef0123';
const PORT = 4610;
const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`;
const asset = (name: string) => ({ i: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 2, integrity: 2, availability: 2 } });

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return response.json();
}

const envOf = (dir: string) => ({ EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, NODE_ENV: 'test', PORT: String(PORT) });

/** verify-access-log in this process (inFlight lowered by the caller): exit code, JSON line, sentence. */
const cli = (dir: string) => cliInProcess(['verify-access-log'], { EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET });

const unloggedIn = (r: { json: any }): number => Number(/(\d+) requests? whose changes are in the event log ha(?:s|ve) no access log entry/.exec(r.json.reason ?? '')?.[1] ?? 0);

/** 8 writers until some writes are answered, then SIGKILL. */
async function killUnderLoad(dir: string): Promise<void> {
  const server = await startServer(envOf(dir));
  const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
  let answered = 0;
  let stop = false;
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      try {
        if ((await gql(server.url, manager, REGISTER, asset(`a-${Date.now()}-${w}-${i}`))).data?.registerAsset) answered++;
      } catch {
        return; // the server is gone
      }
    }
  };
  const writers = Array.from({ length: 8 }, (_, w) => writer(w));
  for (const started = Date.now(); answered <= 30 && Date.now() - started < 60_000; ) await new Promise((r) => setTimeout(r, 20));
  await stopServer(server, 'SIGKILL');
  stop = true;
  await Promise.all(writers);
}

describe('an unclean stop recorded in the access log (UncleanStopRecovered)', () => {
  const work = mkdtempSync(join(tmpdir(), 'risk-ledger-unclean-stop-'));
  const crashed = join(work, 'crashed');
  let lost = 0;
  let server: ServerProcess | undefined;
  const saved = inFlight.ms;

  beforeAll(async () => {
    buildOnce();
    inFlight.ms = 0; // every change is old enough to have been answered
    // Until a kill leaves changes without entries (almost always the first time, under 8 writers).
    for (let round = 0; round < 4 && lost === 0; round++) {
      rmSync(crashed, { recursive: true, force: true });
      await killUnderLoad(crashed);
      const before = await cli(crashed);
      lost = unloggedIn(before);
      if (lost) expect(before).toMatchObject({ code: 1, json: { ok: false } });
    }
    expect(lost).toBeGreaterThan(0);
  }, 300_000);

  afterAll(async () => {
    inFlight.ms = saved;
    if (server) await stopServer(server, 'SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  it('after the restart, verify-access-log says OK and counts the changes lost with the process as acknowledged', async () => {
    const dir = join(work, 'restarted');
    cpSync(crashed, dir, { recursive: true });
    server = await startServer(envOf(dir));
    expect(server.output()).toMatch(/stale DATA_DIR lock taken over/);
    await stopServer(server, 'SIGTERM');
    server = undefined;

    const r = await cli(dir);
    expect(r.json.reason).toBeNull(); // before: BROKEN, "N requests whose changes are in the event log have no access log entry"
    expect(r.code).toBe(0);
    const db = new Database(join(dir, 'access-log.sqlite'), { readonly: true });
    const markers = db.prepare(`SELECT seq, target_ids FROM access_log WHERE operation_name = 'UncleanStopRecovered' AND operation_type = 'system'`).all() as { seq: number; target_ids: string }[];
    db.close();
    expect(markers).toHaveLength(1);
    expect(r.json).toMatchObject({ ok: true, reason: null, acknowledged: { requests: lost, uncleanStops: [{ seq: markers[0]!.seq, upTo: JSON.parse(markers[0]!.target_ids)[0] }] } });
    expect(r.sentence).toMatch(new RegExp(`^OK: .*; ${lost} requests? whose changes .*UncleanStopRecovered entry ${markers[0]!.seq} at event log position \\d+, .*lost with the process before or after their answers were sent; acknowledged`));

    // verifyAccessLog says the same (in this process, where the in-flight window is lowered).
    const app = await TestApp.start({ dataDir: dir });
    try {
      const v = (await app.ok(`query V { verifyAccessLog { ok reason acknowledgedUnlogged acknowledgement } }`, {}, users.auditor)).verifyAccessLog;
      expect(v).toMatchObject({ ok: true, reason: null, acknowledgedUnlogged: lost });
      expect(v.acknowledgement).toMatch(new RegExp(`UncleanStopRecovered entry ${markers[0]!.seq} at event log position`));
    } finally {
      await app.close({ keepData: true });
    }

    // A second, clean restart records no new marker and keeps the verdict.
    server = await startServer(envOf(dir));
    expect(server.output()).not.toMatch(/stale DATA_DIR lock taken over/);
    await stopServer(server, 'SIGTERM');
    server = undefined;
    expect((await cli(dir)).json).toMatchObject({ ok: true, acknowledged: { requests: lost } });
  }, 120_000);

  it('still reports an access log cut back to an older copy: the window covers only the seconds before the head at start', async () => {
    const dir = join(work, 'rolled-back');
    const older = join(work, 'rolled-back-older');
    cpSync(crashed, dir, { recursive: true });
    // A clean start and stop after the crash (its marker acknowledges the crash's losses), then an older copy of the access log and its anchor.
    server = await startServer(envOf(dir));
    await stopServer(server, 'SIGTERM');
    cpSync(dir, older, { recursive: true });
    // A change, another 6 s later, then the older copy put back, and a stale lock left as if the server had been killed.
    server = await startServer(envOf(dir));
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    const early = (await gql(server.url, manager, REGISTER, asset('Removed long before'))).data.registerAsset.id;
    await new Promise((r) => setTimeout(r, 6_000));
    const late = (await gql(server.url, manager, REGISTER, asset('Removed just before'))).data.registerAsset.id;
    await stopServer(server, 'SIGTERM');
    server = undefined;
    expect(late).not.toBe(early);
    for (const suffix of ['.sqlite', '.sqlite-wal', '.sqlite-shm', '.anchor.json']) {
      rmSync(join(dir, `access-log${suffix}`), { force: true });
      if (existsSync(join(older, `access-log${suffix}`))) cpSync(join(older, `access-log${suffix}`), join(dir, `access-log${suffix}`));
    }
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(dir, 'risk-ledger.lock'), JSON.stringify({ pid: dead, startedAt: new Date().toISOString(), holder: 'server' }) + '\n');
    server = await startServer(envOf(dir));
    expect(server.output()).toMatch(/stale DATA_DIR lock taken over/);
    await stopServer(server, 'SIGTERM');
    server = undefined;

    const r = await cli(dir);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, firstBrokenSeq: null });
    // The early change (6 s before the head) is reported; the late one is in the second marker's window.
    expect(r.json.reason).toMatch(new RegExp(`^1 request whose changes are in the event log has no access log entry .*the first, AssetRegistered on asset-${early}`));
    // The crash's losses (first marker) and the late change's request (second marker).
    expect(r.json.acknowledged.requests).toBe(lost + 1);
    expect(r.json.acknowledged.uncleanStops).toHaveLength(2);
  }, 120_000);

  it('does not believe a marker no signed head covers', async () => {
    const dir = join(work, 'forged');
    cpSync(crashed, dir, { recursive: true });
    rmSync(join(dir, 'risk-ledger.lock'), { force: true });
    const events = new Database(join(dir, 'events.sqlite'), { readonly: true });
    const head = events.prepare('SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1').get() as { position: number | string; recorded_at: string };
    events.close();
    const db = new Database(join(dir, 'access-log.sqlite'));
    db.exec('DROP TRIGGER access_log_no_update; DROP TRIGGER access_log_no_delete; DROP TRIGGER access_log_heads_no_delete;');
    const last = db.prepare('SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
    const position = String(head.position).padStart(19, '0');
    const record: AccessRecord = {
      at: new Date().toISOString(), actorId: null, actorName: null, actorRoles: null, operationName: 'UncleanStopRecovered', operationType: 'system',
      fields: [], targetIds: [position, head.recorded_at], outcome: 'ALLOWED', errorCode: null, correlationId: null, note: 'forged',
    };
    const seq = last.seq + 1;
    db.prepare(
      `INSERT INTO access_log (seq, at, actor_id, actor_name, actor_roles, operation_name, operation_type, fields, target_ids, outcome, error_code, correlation_id, prev_hash, hash, note)
       VALUES (?, ?, NULL, NULL, NULL, 'UncleanStopRecovered', 'system', '[]', ?, 'ALLOWED', NULL, NULL, ?, ?, 'forged')`,
    ).run(seq, record.at, JSON.stringify(record.targetIds), last.hash, accessEntryHash(seq, record, last.hash));
    db.close();

    const r = await cli(dir);
    expect(r.code).toBe(1);
    expect(r.json.reason).toMatch(new RegExp(`entry ${seq} carries no signature`));
    expect(r.json.reason).toMatch(new RegExp(`; and ${lost} requests? whose changes are in the event log ha(s|ve) no access log entry`));
    expect(r.json.acknowledged ?? null).toBeNull();
  }, 60_000);
});
