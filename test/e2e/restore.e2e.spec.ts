import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { appendFileSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { inFlight } from '../../src/audit/application/access-log-crosscheck.js';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { cliInProcess } from './support/cli-in-process.js';
import { asset, cli, gql, installationSettings, REGISTER } from './support/installation.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';

/**
 * `risk-ledger restore --from DIR` (backup probe of 2026-12-06: the restore by hand left a WAL
 * beside the restored log, F5, the log alone under newer local state, F2, or a server started on
 * the backup folder itself, re-probe C). The restored installation serves what the backup held
 * and nothing after it, verifies, and every file replaced is kept.
 */
const SECRET = 'restore-e2e-secret-0123456789abcdef01234';

async function upload(server: ServerProcess, token: string, body: string): Promise<{ id: string; sha256: string }> {
  const response = await fetch(server.url.replace('/graphql', '/evidence'), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'x-filename': 'minutes.txt' }, body });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; sha256: string };
}

async function assetIds(server: ServerProcess, token: string): Promise<string[]> {
  const page: any = await gql(server.url, token, `{ assets(first: 500) { edges { node { id } } } }`);
  return page.data.assets.edges.map((e: { node: { id: string } }) => e.node.id).sort();
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const eventCount = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

const settings = (dir: string) => installationSettings(dir, SECRET);

describe('restore of a backup', () => {
  const work = mkdtempSync(join(tmpdir(), 'risk-ledger-restore-'));
  const source = join(work, 'source');
  const backup = join(work, 'backups', 'monday');
  let server: ServerProcess | undefined;
  const saved = inFlight.ms;

  beforeAll(() => {
    buildOnce();
    mkdirSync(source);
  });
  afterAll(async () => {
    inFlight.ms = saved;
    if (server) await stopServer(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('puts a backup of a running server back: the restored server serves what it held and nothing after, verifies, every replaced file is kept aside, and the backup stays restorable', async () => {
    server = await startServer(settings(source));
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    const auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
    const minutes = await upload(server, manager, 'signed minutes of the board');
    for (let i = 0; i < 5; i++) expect((await gql(server.url, manager, REGISTER, asset(`before ${i}`))).data.registerAsset.id).toBeTruthy();
    const held = await assetIds(server, auditor);
    expect(await cli(['backup', '--out', backup], settings(source))).toMatchObject({ code: 0, json: { ok: true, serverWasRunning: true } });
    const manifest = JSON.parse(readFileSync(join(backup, 'backup.json'), 'utf8'));
    for (let i = 0; i < 3; i++) expect((await gql(server.url, manager, REGISTER, asset(`after ${i}`))).data.registerAsset.id).toBeTruthy();
    await upload(server, manager, 'a file stored after the backup');
    await stopServer(server);
    server = undefined;
    const newer = eventCount(join(source, 'events.sqlite'));
    expect(newer).toBeGreaterThan(manifest.events.count);

    const restored = await cli(['restore', '--from', backup], settings(source));
    expect(restored).toMatchObject({ code: 0, json: { command: 'restore', ok: true, events: manifest.events.count, headPosition: manifest.events.headPosition, evidenceFiles: 1, evidenceFilesCopied: 0, evidenceFilesNotInBackup: 1, replacedHeadPosition: expect.stringMatching(/^\d{19}$/) } });
    const aside: string[] = restored.json.movedAside;
    expect(aside).toEqual([expect.stringMatching(new RegExp(`^${join(source, 'before-restore-')}`))]);
    // The replaced installation is all there, the newer log with it.
    expect(eventCount(join(aside[0]!, 'events.sqlite'))).toBe(newer);
    expect(readdirSync(aside[0]!)).toEqual(expect.arrayContaining(['read-models.sqlite', 'process-manager.sqlite', 'access-log.sqlite', 'integrity-state.json', 'signing-key.pem']));
    expect(readdirSync(source).filter((f) => f.startsWith('.restoring'))).toEqual([]);
    expect(eventCount(join(source, 'events.sqlite'))).toBe(manifest.events.count);

    server = await startServer(settings(source));
    const health = (await (await fetch(server.url.replace('/graphql', '/health'))).json()) as { status: string };
    expect(health.status).toBe('ok');
    expect(await assetIds(server, auditor)).toEqual(held);
    const file = await fetch(server.url.replace('/graphql', `/evidence/${minutes.id}`), { headers: { authorization: `Bearer ${auditor}` } });
    expect([file.status, await file.text()]).toEqual([200, 'signed minutes of the board']);
    expect((await gql(server.url, manager, REGISTER, asset('after the restore'))).data.registerAsset.id).toBeTruthy(); // the chain goes on
    await stopServer(server);
    server = undefined;
    expect(await cliInProcess(['verify-store'], settings(source))).toMatchObject({ code: 0, json: { ok: true } });
    inFlight.ms = 0; // every change is old enough to have been answered
    expect(await cliInProcess(['verify-access-log'], settings(source))).toMatchObject({ code: 0, json: { ok: true } });

    // Read, never written: the same backup restores again (a server started on the backup folder had changed it: re-probe C).
    const again = await cli(['restore', backup], settings(source));
    expect(again).toMatchObject({ code: 0, json: { ok: true, events: manifest.events.count } });
    expect(again.json.movedAside[0]).not.toBe(aside[0]);
    expect(existsSync(join(source, 'restore-in-progress.json'))).toBe(false);

    // Killed while it put the files in place (R3: the next start took the half-done DATA_DIR for a
    // new installation, with an empty register and a new key): its mark refuses a start, and the
    // same restore run again finishes the job.
    writeFileSync(join(source, 'restore-in-progress.json'), JSON.stringify({ pid: 1, from: backup, startedAt: new Date().toISOString(), movedAsideTo: join(source, 'before-restore-x') }));
    await expect(startServer(settings(source))).rejects.toThrow(/a restore was stopped while it put a backup's files in place .*Run risk-ledger restore --from \S*monday again to finish it/);
    // Nor does any other command act on the mixture (they did: rebuild and backup ran, token made a development key).
    const before = readdirSync(source).sort();
    for (const args of [['rebuild'], ['backup', '--out', join(work, 'backups', 'of-a-mixture')], ['export', join(work, 'mixture.ndjson')], ['verify-store'], ['verify-read-models'], ['verify-access-log'], ['import', join(work, 'mixture.ndjson')]]) {
      const run = await cli(args, settings(source));
      expect([args[0], run.code, run.json?.error]).toEqual([args[0], 2, expect.stringMatching(/a restore was stopped while it put a backup's files in place .*Run risk-ledger restore --from \S*monday again/)]);
    }
    const { JWT_SECRET: _secret, ...withoutSecret } = settings(source);
    const token = await cli(['token', '--sub', 'alice', '--roles', 'AUDITOR'], withoutSecret);
    expect([token.code, token.stdout, token.stderr]).toEqual([2, '', expect.stringMatching(/^risk-ledger token: Refused: a restore was stopped/)]);
    expect(readdirSync(source).sort()).toEqual(before);
    expect(existsSync(join(work, 'backups', 'of-a-mixture'))).toBe(false);
    expect(await cli(['restore', backup], settings(source))).toMatchObject({ code: 0, json: { ok: true } });
    expect(existsSync(join(source, 'restore-in-progress.json'))).toBe(false);
    server = await startServer(settings(source));
    expect(await assetIds(server, auditor)).toEqual(held);
    await stopServer(server);
    server = undefined;
  }, 180_000);

  it('refuses while a server runs, a folder without backup.json, a backup that no longer matches it, and another store, changing nothing', async () => {
    server = await startServer(settings(source));
    const running = await cli(['restore', '--from', backup], settings(source));
    expect(running.code).toBe(2);
    expect(running.stderr).toMatch(/refused/);
    await stopServer(server);
    server = undefined;
    const log = sha256(join(source, 'events.sqlite'));
    const entries = readdirSync(source).sort();

    // Where the log goes is not guessed (re-probe H2): SQLITE_PATH's default is in the folder the command runs in.
    const { SQLITE_PATH: _log, ...withoutLog } = settings(source);
    const guessed = await cli(['restore', '--from', backup], withoutLog);
    expect([guessed.code, guessed.stderr]).toEqual([2, expect.stringMatching(/SQLITE_PATH is not set: the log would go to \S*data\/events\.sqlite \(\.\/data\/events\.sqlite of the folder this command runs in\), outside DATA_DIR/)]);
    // A path that is not there, or not a folder, is said as such (re-probe M5: "it has no backup.json").
    expect((await cli(['restore', '--from', join(work, 'nowhere')], settings(source))).stderr).toMatch(/nowhere does not exist/);
    expect((await cli(['restore', '--from', join(source, 'events.sqlite')], settings(source))).stderr).toMatch(/events\.sqlite is not a folder/);
    // A backup.json without the log (M6: the check created a store in the folder the command ran in) or without the access log (H1: OK, then the server refused).
    const editedCopy = (name: string, keep: (file: { name: string }) => boolean) => {
      const folder = join(work, 'backups', name);
      cpSync(backup, folder, { recursive: true });
      const manifest = JSON.parse(readFileSync(join(backup, 'backup.json'), 'utf8'));
      writeFileSync(join(folder, 'backup.json'), JSON.stringify({ ...manifest, files: manifest.files.filter(keep) }));
      return folder;
    };
    const noLog = await cli(['restore', '--from', editedCopy('no-log', (f) => f.name !== 'events.sqlite')], settings(source));
    expect([noLog.code, noLog.stderr]).toEqual([2, expect.stringMatching(/lists no events\.sqlite/)]);
    const noAccessLog = await cli(['restore', '--from', editedCopy('no-access-log', (f) => !f.name.startsWith('access-log'))], settings(source));
    expect([noAccessLog.code, noAccessLog.sentence]).toEqual([1, expect.stringMatching(/^BROKEN: \S+ is not a backup a server starts on \(it holds no access log, though its log holds \d+ events/)]);

    const notBackup = await cli(['restore', '--from', source], { ...settings(join(work, 'elsewhere')) });
    expect(notBackup.code).toBe(2);
    expect(notBackup.stderr).toMatch(/is not a backup: it has no backup\.json/);

    const changed = join(work, 'backups', 'changed');
    cpSync(backup, changed, { recursive: true });
    appendFileSync(join(changed, 'read-models.sqlite'), 'x');
    const refused = await cli(['restore', '--from', changed], settings(source));
    expect(refused).toMatchObject({ code: 1, json: { ok: false, reason: expect.stringMatching(/read-models\.sqlite has \d+ bytes/) } });

    // backup.json edited to take a file from outside the backup folder as the signing key.
    const outside = join(work, 'backups', 'outside-names');
    cpSync(backup, outside, { recursive: true });
    const edited = JSON.parse(readFileSync(join(outside, 'backup.json'), 'utf8'));
    edited.settings = { ...edited.settings, dataDir: join(work, 'x'), signingKeyPath: join(work, 'source', 'signing-key.pem') };
    edited.files = edited.files.map((f: { name: string }) => (f.name === 'signing-key.pem' ? { ...f, name: join('..', 'source', 'signing-key.pem') } : f));
    writeFileSync(join(outside, 'backup.json'), JSON.stringify(edited));
    const escaping = await cli(['restore', '--from', outside], settings(source));
    expect(escaping.code).toBe(2);
    expect(escaping.stderr).toMatch(/lists "\.\.\/source\/signing-key\.pem", which is not a file of the backup folder/);

    // A malformed entry, and an evidence file that no longer hashes to its name (R6: an internal error, and exit 2).
    const malformed = join(work, 'backups', 'malformed');
    cpSync(backup, malformed, { recursive: true });
    writeFileSync(join(malformed, 'backup.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(backup, 'backup.json'), 'utf8')), files: [null] }));
    const badEntry = await cli(['restore', '--from', malformed], settings(source));
    expect(badEntry.code).toBe(2);
    expect(badEntry.stderr).toMatch(/is not a backup\.json of format 1/);
    const damagedEvidence = join(work, 'backups', 'damaged-evidence');
    cpSync(backup, damagedEvidence, { recursive: true });
    const shard = readdirSync(join(damagedEvidence, 'evidence')).find((d) => !d.startsWith('.'))!;
    appendFileSync(join(damagedEvidence, 'evidence', shard, readdirSync(join(damagedEvidence, 'evidence', shard))[0]!), 'x');
    expect(await cli(['restore', '--from', damagedEvidence], settings(source))).toMatchObject({ code: 1, json: { ok: false, reason: expect.stringMatching(/does not hash to its name/) } });

    // A backup inside DATA_DIR, named through a symbolic link (R4: accepted, and the backup moved aside with DATA_DIR).
    const inside = join(source, 'kept-backup');
    cpSync(backup, inside, { recursive: true });
    symlinkSync(inside, join(work, 'link-to-inside'));
    const linked = await cli(['restore', '--from', join(work, 'link-to-inside')], settings(source));
    expect(linked.code).toBe(2);
    expect(linked.stderr).toMatch(/overlap/);
    expect(existsSync(join(inside, 'backup.json'))).toBe(true);
    rmSync(inside, { recursive: true });

    // A folder where the mark goes (re-probe L3: "illegal operation on a directory" at step 4, and a .tmp left beside it).
    mkdirSync(join(source, 'restore-in-progress.json'));
    const folderMark = await cli(['restore', '--from', backup], settings(source));
    expect([folderMark.code, folderMark.stderr]).toEqual([2, expect.stringMatching(/restore-in-progress\.json is not a file, so not a mark restore wrote: move it away and run restore again; nothing was changed/)]);
    expect(readdirSync(source).filter((f) => f.startsWith('restore-in-progress.json.'))).toEqual([]);
    rmSync(join(source, 'restore-in-progress.json'), { recursive: true });

    const postgres = await cli(['restore', '--from', backup], { ...settings(source), EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(postgres.code).toBe(2);
    expect(postgres.stderr).toMatch(/pg_restore/);

    expect(sha256(join(source, 'events.sqlite'))).toBe(log);
    expect(readdirSync(source).sort()).toEqual(entries);
  }, 120_000);

  it('puts files outside DATA_DIR back too: a log killed with its WAL beside it is moved aside with it (probe F5), and evidence files missing from EVIDENCE_DIR are copied back', async () => {
    const dataDir = join(work, 'd2');
    const env = { ...settings(dataDir), SQLITE_PATH: join(work, 'store', 'events.sqlite'), EVIDENCE_DIR: join(work, 'evidence') };
    server = await startServer(env);
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    const auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
    const minutes = await upload(server, manager, 'minutes kept outside DATA_DIR');
    for (let i = 0; i < 2; i++) await gql(server.url, manager, REGISTER, asset(`kept ${i}`));
    const held = await assetIds(server, auditor);
    const outside = join(work, 'backups', 'outside');
    expect(await cli(['backup', '--out', outside], env)).toMatchObject({ code: 0, json: { ok: true } });
    for (let i = 0; i < 2; i++) await gql(server.url, manager, REGISTER, asset(`lost ${i}`));
    await stopServer(server, 'SIGKILL');
    server = undefined;
    expect(existsSync(join(work, 'store', 'events.sqlite-wal'))).toBe(true);
    rmSync(join(work, 'evidence', minutes.sha256.slice(0, 2)), { recursive: true }); // the file and its shard folder

    // What a restore killed before it put anything in place left (R5): copies nothing removed, a private key among them.
    mkdirSync(join(dataDir, '.restoring-999999'));
    writeFileSync(join(work, 'store', 'events.sqlite.restoring-999999'), 'a copy left by a killed restore');
    // A server run by another user than the restore (R1: evidence files copied in were root's, and every download 503).
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(join(work, 'evidence'), 4242, 4242);

    const restored = await cli(['restore', '--from', outside], env);
    expect(restored).toMatchObject({ code: 0, json: { ok: true, evidenceFilesCopied: 1 } });
    expect(existsSync(join(dataDir, '.restoring-999999'))).toBe(false);
    expect(existsSync(join(work, 'store', 'events.sqlite.restoring-999999'))).toBe(false);
    if (asRoot) {
      const owners = [join(work, 'evidence', minutes.sha256.slice(0, 2)), join(work, 'evidence', minutes.sha256.slice(0, 2), minutes.sha256)].map((f) => statSync(f).uid);
      expect(owners).toEqual([4242, 4242]);
    }
    const storeFiles = readdirSync(join(work, 'store'));
    expect(storeFiles.filter((f) => /^events\.sqlite\.before-restore-.*-wal$/.test(f))).toHaveLength(1);
    expect(storeFiles.filter((f) => f.includes('.restoring-'))).toEqual([]);
    // The killed server's stale store lock, taken over by the restore, leaves no note of its unclean stop to the restored log.
    expect(storeFiles).not.toContain('events.sqlite.lock.unclean');

    server = await startServer(env);
    expect(((await (await fetch(server.url.replace('/graphql', '/health'))).json()) as { status: string }).status).toBe('ok');
    expect(await assetIds(server, auditor)).toEqual(held);
    const file = await fetch(server.url.replace('/graphql', `/evidence/${minutes.id}`), { headers: { authorization: `Bearer ${auditor}` } });
    expect(file.status).toBe(200);
    await stopServer(server);
    server = undefined;
    expect(await cliInProcess(['verify-store'], env)).toMatchObject({ code: 0, json: { ok: true } });
    inFlight.ms = 0;
    expect(await cliInProcess(['verify-access-log'], env)).toMatchObject({ code: 0, json: { ok: true } });
  }, 180_000);

  it('a backup without read models (READ_MODEL_PATH=:memory:) moves the installation\'s read models aside all the same (R2: left, they were newer than the log, and the server served them, BROKEN)', async () => {
    const memory = join(work, 'memory');
    const memoryEnv = { ...settings(memory), READ_MODEL_PATH: ':memory:' };
    server = await startServer(memoryEnv);
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    const auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
    await gql(server.url, manager, REGISTER, asset('the only asset'));
    const held = await assetIds(server, auditor);
    const noReadModels = join(work, 'backups', 'no-read-models');
    expect(await cli(['backup', '--out', noReadModels], memoryEnv)).toMatchObject({ code: 0, json: { ok: true } });
    await stopServer(server);
    server = undefined;
    expect(existsSync(join(noReadModels, 'read-models.sqlite'))).toBe(false);

    const target = join(work, 'target');
    const targetEnv = { ...settings(target), READ_MODEL_PATH: join(work, 'target-read-models', 'read-models.sqlite') };
    server = await startServer(targetEnv);
    for (let i = 0; i < 3; i++) await gql(server.url, manager, REGISTER, asset(`newer ${i}`));
    await stopServer(server);
    server = undefined;

    const restored = await cli(['restore', '--from', noReadModels], targetEnv);
    expect(restored).toMatchObject({ code: 0, json: { ok: true } });
    expect(readdirSync(join(work, 'target-read-models')).filter((f) => /^read-models\.sqlite\.before-restore-[^-]/.test(f) || /^read-models\.sqlite\.before-restore-.*Z$/.test(f))).toHaveLength(1);
    server = await startServer(targetEnv);
    expect(((await (await fetch(server.url.replace('/graphql', '/health'))).json()) as { status: string }).status).toBe('ok');
    expect(await assetIds(server, auditor)).toEqual(held);
    await stopServer(server);
    server = undefined;
  }, 180_000);
});
