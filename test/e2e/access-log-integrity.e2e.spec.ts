import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { accessEntryHash, type AccessRecord } from '../../src/audit/application/access-log-chain.js';
import { inFlight } from '../../src/audit/application/access-log-crosscheck.js';
import { cliInProcess } from './support/cli-in-process.js';
import { buildOnce, startServer, stopServer } from './support/server-process.js';
import { TEST_JWT_SECRET, TestApp, users } from './support/test-app.js';

/**
 * The access log as evidence: the SQLite file is tampered with directly while the server is down
 * (triggers dropped first, as anyone holding the file could), and both `verifyAccessLog` and
 * `npm run cli -- verify-access-log` must name the first broken entry. A log that lost entries at
 * its end, or the whole file, or that gained unsigned entries, is not continued silently: the
 * server refuses to start until ACCESS_LOG_RESET=1 acknowledges it, and the report keeps saying so.
 */
const VERIFY = `query V { verifyAccessLog { ok eventsChecked firstBrokenPosition reason headPosition headChainHash } }`;
const LOG = `query L { accessLog(first: 500) { edges { node { id actorId operationName operationType targetIds outcome errorCode note } } } }`;
const REGISTER = `mutation R($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`;

/** Runs the CLI in this process against a data folder; returns its exit code and JSON line. */
const cli = (dir: string) => cliInProcess(['verify-access-log'], { EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir });

async function startWith(dir: string, reset = false): Promise<TestApp> {
  if (reset) process.env.ACCESS_LOG_RESET = '1';
  try {
    return await TestApp.start({ dataDir: dir });
  } finally {
    delete process.env.ACCESS_LOG_RESET;
  }
}

/** The real server (node dist/src/main.js) on `dir` must refuse to start: resolves with what it printed. */
async function refusedStart(dir: string): Promise<{ message: string }> {
  const env = { EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'test' };
  const server = await startServer(env).then(
    (s) => s,
    (error: Error) => ({ refused: error }),
  );
  if ('refused' in server) {
    expect(server.refused.message).toMatch(/server exited with 1/);
    return { message: server.refused.message };
  }
  await stopServer(server, 'SIGKILL');
  throw new Error('the server started');
}

describe('the access log as evidence (verifyAccessLog, verify-access-log)', () => {
  const work = mkdtempSync(join(tmpdir(), 'risk-ledger-access-integrity-'));
  let base: string;
  let entries: number;
  let deniedDownload: number;

  /** A copy of the intact data folder, tampered with by `change` (triggers dropped). */
  const tampered = (name: string, change: (db: Database.Database) => void): string => {
    const dir = join(work, name);
    cpSync(base, dir, { recursive: true });
    const db = new Database(join(dir, 'access-log.sqlite'));
    db.exec('DROP TRIGGER access_log_no_update; DROP TRIGGER access_log_no_delete; DROP TRIGGER access_log_heads_no_delete;');
    change(db);
    db.close();
    return dir;
  };

  const verifyOn = async (t: TestApp) => (await t.ok(VERIFY, {}, users.auditor)).verifyAccessLog;

  beforeAll(async () => {
    buildOnce();
    const t = await TestApp.start({ dataDir: join(work, 'base') });
    base = t.dataDir;
    await t.ok(REGISTER, { input: { name: 'Cold wallet', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 3, integrity: 3, availability: 2 } }, users.opsManager);
    for (let i = 0; i < 25; i++) {
      await t.ok(`query Me${i} { me { id } }`, {}, i % 2 ? users.auditor : users.ciso);
      if (i % 5 === 0) await new Promise((r) => setTimeout(r, 40)); // several batches, several signed heads
    }
    // Downloads, allowed and refused.
    const get = (path: string, token?: string) => fetch(`${t.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const ok = await get('/documents/controls.md', await t.token(users.auditor));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/\S/);
    expect((await get('/documents/controls.md')).status).toBe(401);
    expect((await get('/documents/controls.md', await t.token({ sub: 'nobody', roles: [] }))).status).toBe(403);
    await get('/documents/controls.md?riskId=risk-404', await t.token(users.ciso));

    const log = (await t.ok(LOG, {}, users.auditor)).accessLog.edges.map((e: any) => e.node);
    const downloads = log.filter((n: any) => n.operationType === 'http');
    expect(downloads.map((n: any) => [n.actorId, n.operationName, n.outcome, n.errorCode])).toEqual([
      ['auditor', 'GET /documents/controls.md', 'ALLOWED', null],
      [null, 'GET /documents/controls.md', 'DENIED', 'UNAUTHENTICATED'],
      ['nobody', 'GET /documents/controls.md', 'DENIED', 'FORBIDDEN'],
      ['ciso', 'GET /documents/controls.md', expect.any(String), downloads[3].errorCode],
    ]);
    expect(downloads[3].targetIds).toEqual(['risk-404']);
    deniedDownload = Number(downloads[1].id);

    const intact = await verifyOn(t);
    expect(intact).toMatchObject({ ok: true, firstBrokenPosition: null, reason: null });
    expect(intact.eventsChecked).toBeGreaterThan(25);
    await t.close({ keepData: true });
    const db = new Database(join(base, 'access-log.sqlite'), { readonly: true });
    entries = db.prepare('SELECT MAX(seq) FROM access_log').pluck().get() as number;
    expect(db.prepare('SELECT COUNT(*) FROM access_log_heads').pluck().get() as number).toBeGreaterThan(3);
    db.close();
  }, 120_000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('verifies an intact log, from the CLI too, with its signatures', async () => {
    const r = await cli(base);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ command: 'verify-access-log', ok: true, entriesChecked: entries, headSeq: entries, firstBrokenSeq: null });
    expect(r.json.signaturesChecked).toBeGreaterThan(3);
    expect(r.sentence).toMatch(/^OK/);
  });

  it('reports an edited entry at its position', async () => {
    const dir = tampered('edited', (db) => db.prepare(`UPDATE access_log SET outcome = 'ALLOWED', error_code = NULL WHERE seq = ?`).run(deniedDownload));
    const r = await cli(dir);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, firstBrokenSeq: deniedDownload });
    expect(r.json.reason).toMatch(/was altered/);
    const t = await startWith(dir);
    try {
      const v = await verifyOn(t);
      expect(v).toMatchObject({ ok: false, firstBrokenPosition: String(deniedDownload) });
      expect(v.reason).toMatch(/was altered/);
    } finally {
      await t.close();
    }
  });

  it('reports five entries deleted in the middle at the first of them', async () => {
    const dir = tampered('middle', (db) => db.prepare('DELETE FROM access_log WHERE seq BETWEEN 10 AND 14').run());
    const r = await cli(dir);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, firstBrokenSeq: 10 });
    expect(r.json.reason).toMatch(/entry 10 is missing .*5 entries were deleted/);
    const t = await startWith(dir);
    try {
      const v = await verifyOn(t);
      expect(v).toMatchObject({ ok: false, firstBrokenPosition: '10' });
      expect(v.reason).toMatch(/entry 10 is missing/);
    } finally {
      await t.close();
    }
  });

  it('reports the newest entries deleted (with their signed heads): the anchor remembers the head; the server refuses to go on until told', async () => {
    const cut = entries - 4;
    const dir = tampered('truncated', (db) => {
      db.prepare('DELETE FROM access_log WHERE seq >= ?').run(cut);
      db.prepare('DELETE FROM access_log_heads WHERE seq >= ?').run(cut);
    });
    const r = await cli(dir);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, firstBrokenSeq: cut });
    expect(r.json.reason).toMatch(/deleted from the end/);

    expect((await refusedStart(dir)).message).toMatch(/deleted from the end.*ACCESS_LOG_RESET=1/s);
    const t = await startWith(dir, true);
    try {
      const v = await verifyOn(t);
      expect(v).toMatchObject({ ok: false, firstBrokenPosition: String(cut) });
      expect(v.reason).toMatch(/deleted from the end.*ACCESS_LOG_RESET=1/);
      const marker = (await t.ok(LOG, {}, users.auditor)).accessLog.edges.map((e: any) => e.node).find((n: any) => n.operationType === 'system');
      expect(marker).toMatchObject({ id: String(cut), operationName: 'AccessLogDiscontinuity', errorCode: 'ACCESS_LOG_TRUNCATED', targetIds: [String(cut)] });
      expect(marker.note).toMatch(/deleted from the end/);
    } finally {
      await t.close({ keepData: true });
    }
    // Reported for good, by the CLI too.
    const after = await cli(dir);
    expect(after).toMatchObject({ code: 1, json: { ok: false, firstBrokenSeq: cut } });
  });

  it('reports the newest entries deleted even when their signed heads were left', async () => {
    const dir = tampered('truncated-rows-only', (db) => db.prepare('DELETE FROM access_log WHERE seq > ?').run(entries - 3));
    const r = await cli(dir);
    expect(r.json).toMatchObject({ ok: false, firstBrokenSeq: entries - 2 });
    expect(r.json.reason).toMatch(/deleted from the end/);
  });

  it('reports a deleted file and never silently starts a new one', async () => {
    const dir = join(work, 'deleted');
    cpSync(base, dir, { recursive: true });
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `access-log.sqlite${suffix}`), { force: true });
    const r = await cli(dir);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, firstBrokenSeq: 1 });
    expect(r.json.reason).toMatch(new RegExp(`access-log.sqlite is missing: it had reached entry ${entries}`));

    expect((await refusedStart(dir)).message).toMatch(/is missing/);
    expect(existsSync(join(dir, 'access-log.sqlite'))).toBe(false);
    const t = await startWith(dir, true);
    try {
      const v = await verifyOn(t);
      expect(v).toMatchObject({ ok: false, firstBrokenPosition: '1' });
      expect(v.reason).toMatch(new RegExp(`is missing: it had reached entry ${entries}.*ACCESS_LOG_RESET=1`));
    } finally {
      await t.close({ keepData: true });
    }
    expect((await cli(dir)).json).toMatchObject({ ok: false, firstBrokenSeq: 1 });
  });

  it('reports the log cut back to an older copy of itself with that copy\'s anchor: the changes made since have no entry (insider probe p14)', async () => {
    const saved = inFlight.ms;
    inFlight.ms = 0; // every change is old enough to have been answered
    const dir = join(work, 'rolled-back');
    const older = join(work, 'rolled-back-older');
    cpSync(base, dir, { recursive: true });
    try {
      // Intact (the base's registerAsset and its name reservation carry a logged request): OK.
      expect((await cli(dir)).json).toMatchObject({ ok: true, reason: null });
      // An older copy of the access log and its anchor; then a change; then the copy put back.
      cpSync(dir, older, { recursive: true });
      const t = await TestApp.start({ dataDir: dir });
      const { registerAsset } = await t.ok(REGISTER, { input: { name: 'Warm wallet', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 3, integrity: 3, availability: 2 } }, users.opsManager);
      expect((await verifyOn(t)).ok).toBe(true);
      await t.close({ keepData: true });
      for (const suffix of ['.sqlite', '.sqlite-wal', '.sqlite-shm', '.anchor.json']) {
        rmSync(join(dir, `access-log${suffix}`), { force: true });
        if (existsSync(join(older, `access-log${suffix}`))) cpSync(join(older, `access-log${suffix}`), join(dir, `access-log${suffix}`));
      }
      const r = await cli(dir);
      expect(r.code).toBe(1);
      expect(r.json).toMatchObject({ ok: false, firstBrokenSeq: null });
      expect(r.json.reason).toMatch(new RegExp(`1 request whose changes are in the event log has no access log entry .*the first, AssetRegistered on asset-${registerAsset.id}`));
      const again = await TestApp.start({ dataDir: dir });
      try {
        const v = await verifyOn(again);
        expect(v).toMatchObject({ ok: false, firstBrokenPosition: null });
        expect(v.reason).toMatch(/no access log entry/);
      } finally {
        await again.close({ keepData: true });
      }
    } finally {
      inFlight.ms = saved;
    }
  });

  it('still reports a change whose entry is lost under an earlier finding (a reset acknowledged for good) (re-probe p15)', async () => {
    const dir = join(work, 'deleted-then-lost');
    cpSync(join(work, 'deleted'), dir, { recursive: true });
    const t = await TestApp.start({ dataDir: dir });
    const saved = inFlight.ms;
    try {
      await t.ok(REGISTER, { input: { name: 'After the reset', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 } }, users.opsManager);
      inFlight.ms = 0;
      const before = await verifyOn(t);
      expect(before.reason).toMatch(/ACCESS_LOG_RESET=1/);
      expect(before.reason).not.toMatch(/no access log entry/);
      // The request's entry deleted by hand (which breaks the chain too: that finding comes first).
      const db = new Database(join(dir, 'access-log.sqlite'));
      db.exec('DROP TRIGGER access_log_no_delete');
      db.prepare("DELETE FROM access_log WHERE operation_name = 'R'").run();
      db.close();
      expect((await verifyOn(t)).reason).toMatch(/; and 1 request whose changes are in the event log has no access log entry .*AssetRegistered/);
    } finally {
      inFlight.ms = saved;
      await t.close({ keepData: true });
    }
  });

  it('refuses to start a new access log when the file and its anchor are gone but the event log holds events', async () => {
    const dir = join(work, 'deleted-with-anchor');
    cpSync(base, dir, { recursive: true });
    for (const suffix of ['.sqlite', '.sqlite-wal', '.sqlite-shm', '.anchor.json']) rmSync(join(dir, `access-log${suffix}`), { force: true });
    expect((await cli(dir)).json).toMatchObject({ ok: false, firstBrokenSeq: 1, reason: expect.stringMatching(/is missing/) });
    expect((await refusedStart(dir)).message).toMatch(/the event log already holds events/);
    expect(existsSync(join(dir, 'access-log.sqlite'))).toBe(false);
  });

  it('reports an entry appended with valid unkeyed hashes but no signature', async () => {
    const forged = entries + 1;
    const dir = tampered('unsigned', (db) => {
      const prev = db.prepare('SELECT hash FROM access_log WHERE seq = ?').pluck().get(entries) as string;
      const record: AccessRecord = {
        at: new Date().toISOString(), actorId: 'auditor', actorName: 'Auditor', actorRoles: ['AUDITOR'], operationName: 'Alibi', operationType: 'query',
        fields: ['me'], targetIds: [], outcome: 'ALLOWED', errorCode: null, correlationId: 'forged',
      };
      db.prepare(
        `INSERT INTO access_log (seq, at, actor_id, actor_name, actor_roles, operation_name, operation_type, fields, target_ids, outcome, error_code, correlation_id, prev_hash, hash)
         VALUES (?, ?, 'auditor', 'Auditor', '["AUDITOR"]', 'Alibi', 'query', '["me"]', '[]', 'ALLOWED', NULL, 'forged', ?, ?)`,
      ).run(forged, record.at, prev, accessEntryHash(forged, record, prev));
    });
    const r = await cli(dir);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, firstBrokenSeq: forged });
    expect(r.json.reason).toMatch(new RegExp(`entry ${forged} carries no signature`));

    expect((await refusedStart(dir)).message).toMatch(/no signature/);
    const t = await startWith(dir, true);
    try {
      const v = await verifyOn(t);
      expect(v).toMatchObject({ ok: false, firstBrokenPosition: String(forged) });
      expect(v.reason).toMatch(/no signature/);
    } finally {
      await t.close();
    }
  });

  it('reports a log rewritten with recomputed hashes by someone without the key', async () => {
    const dir = tampered('rehashed', (db) => {
      const rows = db.prepare('SELECT * FROM access_log ORDER BY seq').all() as any[];
      let prev = rows[0].prev_hash as string;
      const update = db.prepare('UPDATE access_log SET outcome = ?, error_code = ?, prev_hash = ?, hash = ? WHERE seq = ?');
      for (const row of rows) {
        const outcome = row.seq === deniedDownload ? 'ALLOWED' : row.outcome;
        const errorCode = row.seq === deniedDownload ? null : row.error_code;
        const record: AccessRecord = {
          at: row.at, actorId: row.actor_id, actorName: row.actor_name, actorRoles: row.actor_roles ? JSON.parse(row.actor_roles) : null, operationName: row.operation_name,
          operationType: row.operation_type, fields: JSON.parse(row.fields), targetIds: JSON.parse(row.target_ids), outcome, errorCode, correlationId: row.correlation_id,
          note: row.note, committed: row.committed_position ? { position: row.committed_position, eventId: row.committed_event_id } : null,
        };
        const hash = accessEntryHash(row.seq, record, prev);
        update.run(outcome, errorCode, prev, hash, row.seq);
        prev = hash;
      }
    });
    const r = await cli(dir);
    expect(r.code).toBe(1);
    expect(r.json.ok).toBe(false);
    expect(r.json.firstBrokenSeq).toBeLessThanOrEqual(deniedDownload);
    expect(r.json.reason).toMatch(/rewritten/);
  });

  it('is for AUDITOR and CISO only', async () => {
    const t = await TestApp.start();
    try {
      expect((await t.ok(VERIFY, {}, users.ciso)).verifyAccessLog.ok).toBe(true);
      for (const user of [users.riskOwner, users.admin, users.opsManager]) {
        const r = await t.gql(VERIFY, {}, user);
        expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
    } finally {
      await t.close();
    }
  });
});
