import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { inFlight } from '../../src/audit/application/access-log-crosscheck.js';
import { accessEntryHash } from '../../src/audit/application/access-log-chain.js';
import { systemEntryRecord } from '../../src/audit/application/access-log-system-entries.js';
import { cliInProcess } from './support/cli-in-process.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';
import { TestApp, users } from './support/test-app.js';
import { DATA_DIR_LOCK_FILE } from '../../src/config/own-files.js';

/**
 * An export imported into an installation that has already answered requests (finding p16): the
 * imported changes were access-logged where they were made, not here, and made after this access
 * log's first entry. The import records itself in the access log, signed, so verify-access-log is
 * OK; a rollback of the access log afterwards is still reported. SQLite and PostgreSQL.
 */
const REGISTER = `mutation R($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`;
const asset = (name: string) => ({ input: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 2, integrity: 2, availability: 2 } });

/** The CLI in this process with these settings; its exit code and JSON line. */
const cli = (args: string[], env: Record<string, string>) => cliInProcess(args, env);

const sqliteEnv = (dir: string) => ({ EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir });

describe('importing an export into an installation that has answered requests (access-log cross-check)', () => {
  const work = mkdtempSync(join(tmpdir(), 'risk-ledger-access-import-'));
  let exportFile: string;
  let exporterKey: string;
  let saved: number;

  /** An installation with an access log whose first entry is older than the export's changes. */
  async function answeredRequests(start: () => Promise<TestApp>): Promise<void> {
    const t = await start();
    await t.ok('query Me { me { id } }', {}, users.auditor);
    await t.close({ keepData: true });
    await new Promise((r) => setTimeout(r, 20));
  }

  const sqliteTarget = join(work, 'target');
  const forgedTarget = join(work, 'forged');
  const pgTarget = join(work, 'pg-target');
  let postgres: PostgresServer;
  let databaseUrl: string;

  beforeAll(async () => {
    saved = inFlight.ms;
    inFlight.ms = 0; // every change is old enough to have been answered
    postgres = await startPostgres();
    databaseUrl = await postgres.createDatabase('rl_access_import');
    for (const dir of [sqliteTarget, forgedTarget, pgTarget]) mkdirSync(dir);
    await answeredRequests(() => TestApp.start({ dataDir: sqliteTarget }));
    await answeredRequests(() => TestApp.start({ dataDir: forgedTarget }));
    await answeredRequests(() => TestApp.start({ store: 'postgres', databaseUrl, dataDir: pgTarget }));
    // The other installation's changes, made after the target's first request, then exported.
    const source = join(work, 'source');
    mkdirSync(source);
    const t = await TestApp.start({ dataDir: source });
    await t.ok(REGISTER, asset('Imported wallet'), users.opsManager);
    await t.close({ keepData: true });
    exportFile = join(work, 'evidence.ndjson');
    expect((await cli(['export', '--out', exportFile], sqliteEnv(source))).code).toBe(0);
    exporterKey = join(work, 'exporter-public.pem');
    writeFileSync(exporterKey, createPublicKey(createPrivateKey(readFileSync(join(source, 'signing-key.pem'), 'utf8'))).export({ type: 'spki', format: 'pem' }).toString());
  }, 120_000);

  afterAll(async () => {
    inFlight.ms = saved;
    await postgres?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('SQLite: the import is OK against the access log; a rollback of the access log afterwards is still reported', async () => {
    const dir = sqliteTarget;
    const imported = await cli(['import', exportFile, '--trusted-key', exporterKey], sqliteEnv(dir));
    expect(imported).toMatchObject({ code: 0, json: { ok: true, accessLogEntry: true } });
    expect(await cli(['verify-access-log'], sqliteEnv(dir))).toMatchObject({ code: 0, json: { ok: true, reason: null } });

    // An older copy of the access log and its anchor; a change; then the copy put back.
    const older = join(work, 'target-older');
    mkdirSync(older);
    for (const f of ['access-log.sqlite', 'access-log.anchor.json']) copyFileSync(join(dir, f), join(older, f));
    const t = await TestApp.start({ dataDir: dir });
    try {
      expect((await t.ok(`query V { verifyAccessLog { ok reason } }`, {}, users.auditor)).verifyAccessLog).toEqual({ ok: true, reason: null });
      await t.ok(REGISTER, asset('After the import'), users.opsManager);
    } finally {
      await t.close({ keepData: true });
    }
    for (const f of ['access-log.sqlite-wal', 'access-log.sqlite-shm']) rmSync(join(dir, f), { force: true });
    for (const f of ['access-log.sqlite', 'access-log.anchor.json']) copyFileSync(join(older, f), join(dir, f));
    const r = await cli(['verify-access-log'], sqliteEnv(dir));
    expect(r.code).toBe(1);
    expect(r.json.reason).toMatch(/^1 request whose changes are in the event log has no access log entry .*AssetRegistered/);
  }, 60_000);

  it('SQLite: an import entry added without the signing key hides no rollback', async () => {
    const dir = forgedTarget;
    const older = join(work, 'forged-older');
    mkdirSync(older);
    for (const f of ['access-log.sqlite', 'access-log.anchor.json']) copyFileSync(join(dir, f), join(older, f));
    const t = await TestApp.start({ dataDir: dir });
    await t.ok(REGISTER, asset('Logged then rolled back'), users.opsManager);
    await t.close({ keepData: true });
    // The older log put back, then an import entry claiming the whole event log appended with valid (unkeyed) hashes.
    for (const f of ['access-log.sqlite-wal', 'access-log.sqlite-shm']) rmSync(join(dir, f), { force: true });
    for (const f of ['access-log.sqlite', 'access-log.anchor.json']) copyFileSync(join(older, f), join(dir, f));
    const events = new Database(join(dir, 'events.sqlite'), { readonly: true });
    const { head, count } = events.prepare('SELECT MAX(position) AS head, COUNT(*) AS count FROM events').get() as { head: unknown; count: number };
    events.close();
    const db = new Database(join(dir, 'access-log.sqlite'));
    const last = db.prepare('SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
    const forged = systemEntryRecord({ kind: 'import', upTo: String(head), events: count, file: 'forged.ndjson' }, new Date().toISOString());
    const seq = last.seq + 1;
    db.prepare(
      `INSERT INTO access_log (seq, at, actor_id, actor_name, actor_roles, operation_name, operation_type, fields, target_ids, outcome, error_code, correlation_id, prev_hash, hash, note)
       VALUES (?, ?, NULL, NULL, NULL, ?, 'system', '[]', ?, 'ALLOWED', NULL, NULL, ?, ?, ?)`,
    ).run(seq, forged.at, forged.operationName, JSON.stringify(forged.targetIds), last.hash, accessEntryHash(seq, forged, last.hash), forged.note);
    db.close();
    const r = await cli(['verify-access-log'], sqliteEnv(dir));
    expect(r.code).toBe(1);
    expect(r.json.reason).toMatch(/carries no signature.*; and 1 request whose changes are in the event log has no access log entry .*AssetRegistered/);
  }, 60_000);

  it('SQLite: writes nothing into an access log whose DATA_DIR a live process holds (its one writer), and says so', async () => {
    const dir = join(work, 'held');
    mkdirSync(dir);
    await answeredRequests(() => TestApp.start({ dataDir: dir }));
    // Held by another live process (this one's parent stands in for a server on another store).
    const lock = join(dir, DATA_DIR_LOCK_FILE);
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, startedAt: new Date().toISOString(), holder: 'server' }));
    try {
      expect(await cli(['import', exportFile, '--trusted-key', exporterKey], sqliteEnv(dir))).toMatchObject({ code: 0, json: { ok: true, accessLogEntry: false } });
    } finally {
      rmSync(lock, { force: true });
    }
    const db = new Database(join(dir, 'access-log.sqlite'), { readonly: true });
    expect(db.prepare(`SELECT COUNT(*) FROM access_log WHERE operation_name = 'EventLogImported'`).pluck().get()).toBe(0);
    db.close();
  }, 60_000);

  it('PostgreSQL: the import is OK against the shared access log; a rollback of it afterwards is still reported', async () => {
    const dir = pgTarget;
    const pgEnv = { EVENT_STORE: 'postgres', DATABASE_URL: databaseUrl, DATA_DIR: dir };
    const sql = async (text: string, params: unknown[] = []): Promise<any[]> => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        return (await client.query(text, params)).rows;
      } finally {
        await client.end();
      }
    };
    const imported = await cli(['import', exportFile, '--trusted-key', exporterKey], pgEnv);
    expect(imported).toMatchObject({ code: 0, json: { ok: true, accessLogEntry: true } });
    expect(await sql(`SELECT operation_type FROM risk_ledger.access_log WHERE operation_name = 'EventLogImported'`)).toEqual([{ operation_type: 'system' }]);
    expect(await cli(['verify-access-log'], pgEnv)).toMatchObject({ code: 0, json: { ok: true, reason: null } });

    const anchorFile = join(dir, 'access-log.postgres-anchor.json');
    const olderAnchor = readFileSync(anchorFile, 'utf8');
    const lastSeq = Number((await sql('SELECT MAX(seq) AS s FROM risk_ledger.access_log'))[0].s);
    const t = await TestApp.start({ store: 'postgres', databaseUrl, dataDir: dir });
    try {
      expect((await t.ok(`query V { verifyAccessLog { ok reason } }`, {}, users.auditor)).verifyAccessLog).toEqual({ ok: true, reason: null });
      await t.ok(REGISTER, asset('After the import'), users.opsManager);
    } finally {
      await t.close({ keepData: true });
    }
    // Cut back to the older log, with this instance's anchor of that moment.
    await sql('DROP TRIGGER access_log_no_update_delete ON risk_ledger.access_log');
    await sql('DROP TRIGGER access_log_heads_no_update_delete ON risk_ledger.access_log_heads');
    await sql('DELETE FROM risk_ledger.access_log WHERE seq > $1', [lastSeq]);
    await sql('DELETE FROM risk_ledger.access_log_heads WHERE seq > $1', [lastSeq]);
    writeFileSync(anchorFile, olderAnchor);
    const r = await cli(['verify-access-log'], pgEnv);
    expect(r.code).toBe(1);
    expect(r.json.reason).toMatch(/^1 request whose changes are in the event log has no access log entry .*AssetRegistered/);
  }, 120_000);
});
