import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inFlight } from '../../src/audit/application/access-log-crosscheck.js';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { backupPacing } from '../../src/cli/backup-command.js';
import { DataDirLock } from '../../src/platform/data-dir-lock.js';
import { JsonLogger } from '../../src/shared/logging/json-logger.js';
import { cliInProcess } from './support/cli-in-process.js';
import { asset, cli, gql, installationSettings, REGISTER } from './support/installation.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';

/**
 * `risk-ledger backup --out DIR` beside a server under load (backup probe of 2026-12-06, F1: the
 * usual copies of a running DATA_DIR came up refused, BROKEN for good, or missing acknowledged
 * events). A server started on the backup serves every write acknowledged before the backup began,
 * verifies, and its access log accounts for the requests in flight at the copy.
 */
const SECRET = 'backup-e2e-secret-0123456789abcdef012345';

const settings = (dir: string) => installationSettings(dir, SECRET);


describe('backup of a running installation', () => {
  const work = mkdtempSync(join(tmpdir(), 'risk-ledger-backup-'));
  const source = join(work, 'source');
  const backup = join(work, 'backups', 'tonight');
  let server: ServerProcess | undefined;
  let restored: ServerProcess | undefined;
  const saved = inFlight.ms;

  beforeAll(() => {
    buildOnce();
    mkdirSync(source);
  });
  afterAll(async () => {
    inFlight.ms = saved;
    if (restored) await stopServer(restored);
    if (server) await stopServer(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('copies it consistently while 4 writers go on: a server on the copy serves every write acknowledged before, verifies, and its access log accounts for the requests in flight', async () => {
    server = await startServer(settings(source));
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    const upload = await fetch(server.url.replace('/graphql', '/evidence'), { method: 'POST', headers: { authorization: `Bearer ${manager}`, 'content-type': 'text/plain', 'x-filename': 'minutes.txt' }, body: 'signed minutes of the board' });
    expect(upload.status).toBe(201);
    const evidenceId = ((await upload.json()) as { id: string }).id;

    const acknowledged: { id: string }[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const answer = await gql(server!.url, manager, REGISTER, asset(`asset ${w}-${i}`));
        if (answer.data?.registerAsset) acknowledged.push({ id: answer.data.registerAsset.id });
      }
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    while (acknowledged.length < 40) await new Promise((r) => setTimeout(r, 20));

    // What was acknowledged before the backup began: those pushed so far (a timestamp of the same
    // millisecond as the start made the 40th count as after it, a flake of a full run).
    const ackedBefore = acknowledged.length;
    const made = await cli(['backup', '--out', backup], settings(source));
    stop = true;
    await Promise.all(writers);
    expect(made).toMatchObject({ code: 0, json: { command: 'backup', ok: true, serverWasRunning: true, evidenceFiles: 1, signingKeyCopied: true } });
    const manifest = JSON.parse(readFileSync(join(backup, 'backup.json'), 'utf8'));
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(
      expect.arrayContaining(['integrity-state.json', 'read-models.sqlite', 'process-manager.sqlite', 'access-log.anchor.json', 'access-log.sqlite', 'events.sqlite', 'signing-key.pem']),
    );
    expect(readdirSync(join(work, 'backups'))).toEqual(['tonight']); // nothing half-made beside it
    expect([statSync(backup).mode & 0o777, statSync(join(backup, 'signing-key.pem')).mode & 0o777]).toEqual([0o700, 0o600]); // the keys stay their owner's
    const before = acknowledged.slice(0, ackedBefore);
    expect(before.length).toBeGreaterThanOrEqual(40);
    await stopServer(server);
    server = undefined;

    // The copy, started as it is: no refusal, no ACCESS_LOG_RESET, integrity OK, everything acknowledged before it began.
    restored = await startServer(settings(backup));
    const health = (await (await fetch(restored.url.replace('/graphql', '/health'))).json()) as { status: string; integrity?: unknown };
    expect(health.status).toBe('ok');
    const auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
    const ids = new Set<string>();
    for (let after: string | null = null; ; ) {
      const page: any = await gql(restored.url, auditor, `query($a: String) { assets(first: 500, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`, { a: after });
      for (const edge of page.data.assets.edges) ids.add(edge.node.id);
      if (!page.data.assets.pageInfo.hasNextPage) break;
      after = page.data.assets.pageInfo.endCursor;
    }
    expect(before.filter((a) => !ids.has(a.id))).toEqual([]);
    const file = await fetch(restored.url.replace('/graphql', `/evidence/${evidenceId}`), { headers: { authorization: `Bearer ${auditor}` } });
    expect([file.status, await file.text()]).toEqual([200, 'signed minutes of the board']);
    await stopServer(restored);
    restored = undefined;

    // The log and the access log of the copy verify (the copy's requests in flight accounted for by the unclean stop its first start recorded).
    expect(await cliInProcess(['verify-store'], settings(backup))).toMatchObject({ code: 0, json: { ok: true } });
    inFlight.ms = 0; // every change is old enough to have been answered
    expect(await cliInProcess(['verify-access-log'], settings(backup))).toMatchObject({ code: 0, json: { ok: true } });
  }, 180_000);

  it('copies every file from snapshots fixed together: copies that take seconds each leave no request of the copied log without its access-log entry (re-probe A: copied one after the other, 480 requests had none)', async () => {
    const slow = join(work, 'backups', 'slow');
    server = await startServer(settings(source));
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    let stop = false;
    let answered = 0;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) if ((await gql(server!.url, manager, REGISTER, asset(`slow ${w}-${i}`))).data?.registerAsset) answered++;
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    while (answered < 20) await new Promise((r) => setTimeout(r, 20));
    backupPacing.afterEachCopyMs = 6_000; // longer than the window an unclean stop accounts for
    try {
      expect(await cliInProcess(['backup', '--out', slow], { ...settings(source), LOG_LEVEL: 'error' })).toMatchObject({ code: 0, json: { ok: true } });
    } finally {
      backupPacing.afterEachCopyMs = 0;
      stop = true;
      await Promise.all(writers);
    }
    await stopServer(server);
    server = undefined;
    restored = await startServer(settings(slow));
    await stopServer(restored);
    restored = undefined;
    inFlight.ms = 0;
    expect(await cliInProcess(['verify-access-log'], settings(slow))).toMatchObject({ code: 0, json: { ok: true } });
  }, 180_000);

  it("an older log restored alone under the newer DATA_DIR is BROKEN, and the files the refusal names moved aside bring it back (backup probe F2: integrity-state.json was not named, and the server stayed BROKEN)", async () => {
    // One more write after the backup, so the log restored below is older than the rest of DATA_DIR.
    server = await startServer(settings(source));
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    expect((await gql(server.url, manager, REGISTER, asset('after the backup'))).data.registerAsset.id).toBeTruthy();
    await new Promise((r) => setTimeout(r, 1_500)); // the monitor records the head it verified
    await stopServer(server);
    server = undefined;
    for (const f of ['events.sqlite-wal', 'events.sqlite-shm']) rmSync(join(source, f), { force: true });
    copyFileSync(join(backup, 'events.sqlite'), join(source, 'events.sqlite'));

    server = await startServer(settings(source));
    const broken = (await (await fetch(server.url.replace('/graphql', '/health'))).json()) as { status: string };
    expect(broken.status).toBe('unavailable');
    const named = /move aside the local state that saw the newer log \(DATA_DIR's read models, process-manager\.sqlite and integrity-state\.json\)/;
    expect(server.output()).toMatch(named);
    await stopServer(server);
    server = undefined;

    const aside = join(work, 'aside');
    mkdirSync(aside);
    for (const f of ['read-models.sqlite', 'process-manager.sqlite', 'integrity-state.json']) renameSync(join(source, f), join(aside, f));
    for (const f of ['read-models.sqlite-wal', 'read-models.sqlite-shm', 'process-manager.sqlite-wal', 'process-manager.sqlite-shm']) rmSync(join(source, f), { force: true });
    server = await startServer(settings(source));
    const health = (await (await fetch(server.url.replace('/graphql', '/health'))).json()) as { status: string };
    expect(health.status).toBe('ok');
    await stopServer(server);
    server = undefined;
  }, 180_000);

  it('a restore without its evidence files says so at start (backup probe F3: /health ok and not a word until a download answered 500)', async () => {
    rmSync(join(backup, 'evidence'), { recursive: true, force: true });
    restored = await startServer(settings(backup));
    const said = /1 of the 1 evidence files the register knows of are missing from the evidence store/;
    for (const until = Date.now() + 20_000; !said.test(restored.output()) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
    expect(restored.output()).toMatch(said);
    await stopServer(restored);
    restored = undefined;
  }, 60_000);

  it('refuses a folder that exists, one inside what it copies, and another store than the embedded one, copying nothing', async () => {
    const existing = await cli(['backup', '--out', backup], settings(source));
    expect(existing.code).toBe(2);
    expect(existing.stderr).toMatch(/exists: backup writes a new folder/);
    const inside = await cli(['backup', '--out', join(source, 'copy')], settings(source));
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/is inside .*which the backup copies/);
    expect(existsSync(join(source, 'copy'))).toBe(false);
    const postgres = await cli(['backup', join(work, 'pg')], { ...settings(source), EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(postgres.code).toBe(2);
    expect(postgres.stderr).toMatch(/pg_dump/);
    expect(existsSync(join(work, 'pg'))).toBe(false);

    // Under a file (re-probe L2: "file already exists, mkdir").
    writeFileSync(join(work, 'a-file'), 'not a folder');
    const underFile = await cli(['backup', '--out', join(work, 'a-file', 'nightly', 'copy')], settings(source));
    expect([underFile.code, underFile.stderr]).toEqual([2, expect.stringMatching(/--out \S*copy: \S*a-file, above it, is a file; backup cannot make its folder \(nothing was copied\)/)]);

    // Into DATA_DIR through a symbolic link (re-probe M7: accepted, the keys copied inside DATA_DIR).
    symlinkSync(source, join(work, 'link-to-source'));
    const linked = await cli(['backup', '--out', join(work, 'link-to-source', 'copy')], settings(source));
    expect([linked.code, linked.stderr]).toEqual([2, expect.stringMatching(/is inside .*which the backup copies/)]);
    expect(existsSync(join(source, 'copy'))).toBe(false);

    // DATA_DIR held by a restore (or a rebuild) midway: not a server to copy as it runs (re-probe H1: copied, OK said, no access log in it).
    const lock = DataDirLock.acquireLocalState(source, join(source, 'read-models.sqlite'), 'cli restore', new JsonLogger('backup-test', 'error'), join(source, 'events.sqlite'));
    try {
      const held = await cli(['backup', '--out', join(work, 'during-restore')], settings(source));
      expect([held.code, held.stderr]).toEqual([2, expect.stringMatching(/is held by cli restore \(pid \d+\): back up once it has finished/)]);
    } finally {
      lock.release();
    }
    expect(existsSync(join(work, 'during-restore'))).toBe(false);
  }, 60_000);

  it("a crashed installation's backup carries its unclean stop, which no server had recorded: the copy's first start records it (upgrade probe F1: the copy's access log was BROKEN for good two minutes on)", async () => {
    const crashed = join(work, 'crashed');
    mkdirSync(crashed);
    server = await startServer(settings(crashed));
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    let stop = false;
    let answered = 0;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) if ((await gql(server!.url, manager, REGISTER, asset(`crash ${w}-${i}`)).catch(() => ({}) as any)).data?.registerAsset) answered++;
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    while (answered < 20) await new Promise((r) => setTimeout(r, 20));
    await stopServer(server, 'SIGKILL');
    server = undefined;
    stop = true;
    await Promise.all(writers);

    // Not restarted: verify-access-log names the stop no server has recorded, whatever its verdict.
    const before = await cli(['verify-access-log'], settings(crashed));
    expect([join(crashed, 'risk-ledger.lock'), join(crashed, 'events.sqlite.lock')]).toContain(before.json.uncleanStopPending);
    expect(before.sentence).toMatch(/A server stopped uncleanly and no server has recorded it yet \(its lock \S*(risk-ledger|events\.sqlite)\.lock is left behind\): the next server start records it/);

    const copy = join(work, 'backups', 'of-crashed');
    const made = await cli(['backup', '--out', copy], settings(crashed));
    expect(made).toMatchObject({ code: 0, json: { ok: true, serverWasRunning: false, uncleanStopCarried: true } });
    expect(made.sentence).toMatch(/with the unclean stop of the installation's last server, which no server has recorded yet/);
    expect(existsSync(join(copy, 'risk-ledger.lock.unclean'))).toBe(true);

    restored = await startServer(settings(copy));
    expect(restored.output()).toMatch(/UncleanStopRecovered|unclean stop/i);
    await stopServer(restored);
    restored = undefined;
    inFlight.ms = 0; // every change is old enough to have been answered: only the recorded stop accounts for those in flight at the crash
    const verified = await cliInProcess(['verify-access-log'], settings(copy));
    expect(verified).toMatchObject({ code: 0, json: { ok: true } });
    expect(verified.json.uncleanStopPending).toBeUndefined();
    const markers = new Database(join(copy, 'access-log.sqlite'), { readonly: true }).prepare(`SELECT count(*) AS n FROM access_log WHERE operation_name = 'UncleanStopRecovered'`).get() as { n: number };
    expect(markers.n).toBe(1);
  }, 180_000);

  it('a backup folder that cannot be made is said in terms of --out (README probe L6: the raw mkdir error of a .partial folder)', async () => {
    const run = await cli(['backup', '--out', '/proc/risk-ledger-backup'], settings(source));
    expect([run.code, run.stderr.trim()]).toEqual([2, expect.stringMatching(/^risk-ledger backup: --out \/proc\/risk-ledger-backup: the backup folder cannot be made in \/proc: .*; nothing was copied/)]);
  }, 60_000);

  it('an installation whose access log is gone is not copied as sound: no server would start on the copy (re-probe H1: OK said, and the restored server refused)', async () => {
    const copy = join(work, 'no-access-log');
    cpSync(source, copy, { recursive: true });
    for (const f of readdirSync(copy).filter((f) => f.startsWith('access-log'))) rmSync(join(copy, f));
    const env = { ...settings(copy) };
    const run = await cli(['backup', '--out', join(work, 'of-no-access-log')], env);
    expect([run.code, run.json?.ok, run.sentence]).toEqual([1, false, expect.stringMatching(/^BROKEN: there is no access log at \S*access-log\.sqlite, though the log holds \d+ events: a server refuses to start .*ACCESS_LOG_RESET=1.*nothing was kept/)]);
    expect(existsSync(join(work, 'of-no-access-log'))).toBe(false);
    expect(readdirSync(work).filter((f) => f.startsWith('of-no-access-log'))).toEqual([]);
  }, 60_000);
});
