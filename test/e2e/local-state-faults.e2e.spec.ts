import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';

const SECRET = 'local-state-faults-secret-0123456789abcdef';
const CLI = join(process.cwd(), 'dist/src/cli/main.js');

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return response.json();
}

/** GET /health with a token: the retrying state is a detail, for a caller with a valid token only. */
async function health(url: string): Promise<{ status: number; body: any }> {
  const token = await signToken(SECRET, { sub: 'ops', roles: ['AUDITOR'] });
  const response = await fetch(url.replace(/\/graphql$/, '/health'), { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id name version } }`;
const asset = (name: string) => ({ i: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 2, integrity: 2, availability: 2 } });

/** What the read models serve: every asset (sorted) and the number of events in the log. */
async function snapshot(url: string, auditor: string): Promise<{ assets: unknown[]; events: number }> {
  const assets = await gql(url, auditor, `{ assets(first: 500) { edges { node { id name version status } } } }`);
  expect(assets.errors).toBeUndefined();
  const events = await gql(url, auditor, `{ events(first: 500) { edges { node { position } } } }`);
  expect(events.errors).toBeUndefined();
  const nodes = assets.data.assets.edges.map((e: any) => e.node).sort((a: any, b: any) => a.id.localeCompare(b.id));
  return { assets: nodes, events: events.data.events.edges.length };
}

function cli(env: Record<string, string>, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Ways a local file gets damaged (each leaves the server's files closed: the server is stopped). */
const DAMAGES: Record<string, (file: string) => void> = {
  truncated: (file) => truncateSync(file, Math.floor(statSync(file).size / 2)),
  'replaced by 64 KB of garbage': (file) => writeFileSync(file, randomBytes(65_536)),
  '64 KB of garbage appended': (file) => appendFileSync(file, randomBytes(65_536)),
  '64 KB of garbage over its pages': (file) => {
    // Everything after the first page (the header and schema stay): what the fault injector did.
    const fd = openSync(file, 'r+');
    writeSync(fd, randomBytes(65_536), 0, 65_536, 4096);
    closeSync(fd);
  },
};

const MOVED_ASIDE = 'local state is damaged: moved aside and recreated empty';

/**
 * Local state that heals itself (issue 11). The read models and the process manager's checkpoint
 * are disposable: a damaged file is moved aside and rebuilt from the log, and the server serves
 * what it served before. A full read-model "disk" (a page quota, READ_MODEL_MAX_PAGES, filled by
 * a ballast table from another connection and freed by dropping it) stops nothing for good, and
 * no committed command is answered as failed. `rebuild` refuses while a server holds DATA_DIR.
 */
describe('local state faults', () => {
  let dir: string;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let manager: string;
  let auditor: string;
  let before: { assets: unknown[]; events: number };

  beforeAll(async () => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-local-state-'));
    env = { SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, NODE_ENV: 'test' };
    manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
    server = await startServer(env);
    for (let i = 0; i < 40; i++) {
      const r = await gql(server.url, manager, REGISTER, asset(`seed-${i}`));
      expect(r.errors).toBeUndefined();
      if (i % 4 === 0) {
        const t = await gql(server.url, manager, `mutation($i: IdentifyThreatInput!) { identifyThreat(input: $i) { id } }`, { i: { assetId: r.data.registerAsset.id, name: 'Outage', affects: ['AVAILABILITY'] } });
        expect(t.errors).toBeUndefined();
      }
    }
    before = await snapshot(server.url, auditor);
    expect(before.assets).toHaveLength(40);
    await stopServer(server);
    server = undefined;
  }, 120_000);

  afterAll(async () => {
    if (server) await stopServer(server, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  for (const file of ['read-models.sqlite', 'process-manager.sqlite']) {
    for (const [damage, apply] of Object.entries(DAMAGES)) {
      it(`${file} ${damage}: the server starts and serves what it served before`, async () => {
        const caseDir = mkdtempSync(join(tmpdir(), 'risk-ledger-local-state-case-'));
        try {
          cpSync(dir, caseDir, { recursive: true });
          expect(existsSync(join(caseDir, file + '-wal'))).toBe(false); // closed cleanly: everything is in the file
          apply(join(caseDir, file));
          const caseEnv = { ...env, SQLITE_PATH: join(caseDir, 'events.sqlite'), DATA_DIR: caseDir };
          server = await startServer(caseEnv);
          expect(await snapshot(server.url, auditor)).toEqual(before);
          // Writes go on, and the reactions add nothing of their own (none was lost, none is repeated).
          const r = await gql(server.url, manager, REGISTER, asset('after-the-damage'));
          expect(r.errors).toBeUndefined();
          const after = await snapshot(server.url, auditor);
          expect(after.events).toBe(before.events + 2); // the asset and its name reservation
          expect((await health(server.url)).status).toBe(200);
          const moved = readdirSync(caseDir).filter((f) => f.startsWith(`${file}.corrupt-`));
          const logLines = server.output().split('\n').filter((l) => l.includes(MOVED_ASIDE));
          if (damage === '64 KB of garbage appended') {
            // SQLite reads only the pages its header names: trailing bytes are harmless and kept.
            expect(moved).toEqual([]);
          } else {
            expect(moved.length).toBeGreaterThanOrEqual(1);
            expect(logLines).toHaveLength(1);
            const line = JSON.parse(logLines[0]!);
            expect(line).toMatchObject({ level: 'warn', file: join(caseDir, file), localState: file.startsWith('read') ? 'read models' : 'process-manager checkpoint' });
            expect(line.movedTo).toMatch(new RegExp(`${file.replace('.', '\\.')}\\.corrupt-`));
            expect(line.error).toMatch(/SQLITE_(CORRUPT|NOTADB)|malformed|not a database/);
          }
          await stopServer(server);
          server = undefined;
        } finally {
          if (server) await stopServer(server, 'SIGKILL');
          server = undefined;
          rmSync(caseDir, { recursive: true, force: true });
        }
      }, 60_000);
    }
  }

  it('read models ahead of the log (the log lost its newest commits): BROKEN, writes refused, nothing rebuilt over the gap', async () => {
    // An older copy of the log under read models that saw more, as a deleted WAL file leaves it,
    // with the integrity monitor's own record gone too (it is written less often than the read models).
    const copy = mkdtempSync(join(tmpdir(), 'risk-ledger-lost-tail-'));
    try {
      cpSync(dir, copy, { recursive: true });
      const older = mkdtempSync(join(tmpdir(), 'risk-ledger-older-log-'));
      for (const f of readdirSync(copy).filter((f) => f.startsWith('events.sqlite'))) cpSync(join(copy, f), join(older, f));
      const copyEnv = { ...env, SQLITE_PATH: join(copy, 'events.sqlite'), DATA_DIR: copy };
      server = await startServer(copyEnv);
      for (let i = 0; i < 5; i++) expect((await gql(server.url, manager, REGISTER, asset(`later-${i}`))).errors).toBeUndefined();
      await stopServer(server);
      server = undefined;
      for (const f of readdirSync(copy).filter((f) => f.startsWith('events.sqlite'))) rmSync(join(copy, f));
      for (const f of readdirSync(older)) cpSync(join(older, f), join(copy, f));
      rmSync(join(copy, 'integrity-state.json'), { force: true });
      rmSync(older, { recursive: true, force: true });
      server = await startServer(copyEnv);
      const h = await health(server.url);
      expect(h.body).toMatchObject({ integrity: 'BROKEN' });
      expect(JSON.stringify(h.body)).toMatch(/applied the log up to \d+, but it ends at \d+: events acknowledged before were lost/);
      const refused = await gql(server.url, manager, REGISTER, asset('over the gap'));
      expect(refused.errors?.[0]?.extensions?.code).toBe('INTEGRITY_BROKEN');
      await stopServer(server);
      server = undefined;
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 120_000);

  it('rebuild refuses while a server holds DATA_DIR, works after it stops, and heals a damaged read model itself', async () => {
    server = await startServer(env);
    const refused = cli(env, 'rebuild');
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('Refused:');
    expect(refused.stdout).toContain('another Risk Ledger process is using this DATA_DIR; stop it first');
    expect(refused.stdout).toContain(`pid ${server.child.pid}`);
    // The server was not disturbed.
    expect(await snapshot(server.url, auditor)).toEqual(before);
    await stopServer(server);
    server = undefined;
    expect(existsSync(join(dir, 'risk-ledger.lock'))).toBe(false); // released at shutdown

    writeFileSync(join(dir, 'read-models.sqlite'), randomBytes(65_536));
    const rebuilt = cli(env, 'rebuild');
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toContain('Rebuilt every read model from');
    expect(rebuilt.stderr).toContain(MOVED_ASIDE);
    expect(existsSync(join(dir, 'risk-ledger.lock'))).toBe(false);

    server = await startServer(env);
    expect(await snapshot(server.url, auditor)).toEqual(before);
    await stopServer(server);
    server = undefined;
  }, 60_000);

  it('rebuild on a full disk names the file it could not write and leaves the read models in place (re-probe L6: "failed: database or disk is full")', () => {
    const caseDir = mkdtempSync(join(tmpdir(), 'risk-ledger-rebuild-full-'));
    try {
      cpSync(dir, caseDir, { recursive: true });
      const readModels = join(caseDir, 'read-models.sqlite');
      const was = readFileSync(readModels);
      // READ_MODEL_MAX_PAGES, the server's quota on the file, holds for the rebuilt one too: past it, SQLITE_FULL as on a full disk.
      const r = cli({ ...env, SQLITE_PATH: join(caseDir, 'events.sqlite'), DATA_DIR: caseDir, READ_MODEL_MAX_PAGES: '12', LOG_LEVEL: 'error' }, 'rebuild');
      expect([r.code, r.stderr.trim().split('\n').pop()]).toEqual([2, expect.stringMatching(/^risk-ledger rebuild: the read models could not be written at \S*read-models\.sqlite\.rebuilding \(database or disk is full\): free space on its disk and rebuild again; the read models in place were not replaced/)]);
      expect(readFileSync(readModels)).toEqual(was);
      expect(readdirSync(caseDir).filter((f) => f.includes('.rebuilding'))).toEqual([]);
    } finally {
      rmSync(caseDir, { recursive: true, force: true });
    }
  }, 60_000);

  // Re-probe 10, H2: READ_MODEL_PATH=/etc/hostname renamed it and wrote a database in its place;
  // at the signing key it moved the key aside; at SQLITE_PATH it wrote its tables into the log.
  it.each([
    ['a text file of someone else', (d: string) => { writeFileSync(join(d, 'hostname'), 'vm\n'); return join(d, 'hostname'); }, /^configuration error: READ_MODEL_PATH: .*hostname exists and is not an SQLite database: it is not the file of the read models, and was left untouched/],
    ['the signing key', (d: string) => join(d, 'signing-key.pem'), /^configuration error: READ_MODEL_PATH: .*signing-key\.pem is the signing key \(SIGNING_KEY_PATH\)/],
    ['the event store itself', (d: string) => join(d, 'events.sqlite'), /^configuration error: READ_MODEL_PATH: .*events\.sqlite is the event store's file \(SQLITE_PATH\)/],
    ['an SQLite file that is not the read models', (d: string) => { const db = new Database(join(d, 'other.sqlite')); db.exec('CREATE TABLE notes (t TEXT)'); db.close(); return join(d, 'other.sqlite'); }, /^configuration error: READ_MODEL_PATH: .*other\.sqlite is an SQLite database without a projection_checkpoints table/],
  ])('READ_MODEL_PATH at %s: refused at start (exit 1, one line) and by rebuild, the file neither moved nor written', (_what, target, message) => {
    const caseDir = mkdtempSync(join(tmpdir(), 'risk-ledger-read-model-path-'));
    try {
      cpSync(dir, caseDir, { recursive: true });
      const file = target(caseDir);
      const before = readFileSync(file);
      const listing = readdirSync(caseDir).sort();
      const r = spawnSync(process.execPath, [join(process.cwd(), 'dist/src/main.js')], {
        env: { ...process.env, ...env, SQLITE_PATH: join(caseDir, 'events.sqlite'), DATA_DIR: caseDir, READ_MODEL_PATH: file, PORT: '0', LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        timeout: 30_000, // a server that starts anyway is stopped
      });
      expect(r.status).toBe(1);
      const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
      expect(lines).toHaveLength(1);
      const entry = JSON.parse(lines[0]!);
      expect(entry).toMatchObject({ level: 'error', setting: 'READ_MODEL_PATH' });
      expect(entry.msg).toMatch(message);
      expect(readFileSync(file).equals(before)).toBe(true);
      expect(readdirSync(caseDir).sort()).toEqual(listing); // nothing moved aside, no lock left behind
      // rebuild refuses it too, and exits (it hung with the store left open).
      const rebuilt = cli({ ...env, SQLITE_PATH: join(caseDir, 'events.sqlite'), DATA_DIR: caseDir, READ_MODEL_PATH: file }, 'rebuild');
      expect(rebuilt.code).toBe(2);
      expect(rebuilt.stdout).toContain('Refused: READ_MODEL_PATH: ');
      expect(readFileSync(file).equals(before)).toBe(true);
      // (its look at the store leaves the store's -wal and -shm, as it did before)
      expect(readdirSync(caseDir).filter((f) => !/^events\.sqlite-(wal|shm)$/.test(f)).sort()).toEqual(listing);
    } finally {
      rmSync(caseDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a signing key gone from DATA_DIR over a signed log: refused at start (not a new key that calls the log forged); trusting the old public key starts', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'risk-ledger-lost-key-'));
    try {
      cpSync(dir, copy, { recursive: true });
      const copyEnv = { ...env, SQLITE_PATH: join(copy, 'events.sqlite'), DATA_DIR: copy };
      const keyFile = join(copy, 'signing-key.pem');
      const oldPublic = join(copy, 'old-public.pem');
      writeFileSync(oldPublic, createPublicKey(createPrivateKey(readFileSync(keyFile, 'utf8'))).export({ type: 'spki', format: 'pem' }).toString());
      rmSync(keyFile);
      for (let attempt = 0; attempt < 2; attempt++) {
        await expect(startServer(copyEnv)).rejects.toThrow(/server exited with 1[\s\S]*signing-key\.pem was missing, but the log holds commits signed with key [\w-]+: restore that key file/);
        expect(existsSync(keyFile)).toBe(false); // the key generated by the refused start is not left to be used by the next one
      }
      server = await startServer({ ...copyEnv, SIGNING_TRUSTED_KEYS: oldPublic });
      expect((await health(server.url)).body).toMatchObject({ status: 'ok', integrity: 'OK' });
      expect((await gql(server.url, manager, REGISTER, asset('signed with the new key'))).errors).toBeUndefined();
      await stopServer(server);
      server = undefined;
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 60_000);

  it('no event store at SQLITE_PATH under a DATA_DIR whose monitor verified a log on one: refused at start, nothing created (backup probe F8: a new empty log was made under the old read models)', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'risk-ledger-missing-log-'));
    try {
      cpSync(dir, copy, { recursive: true });
      for (const f of ['events.sqlite', 'events.sqlite-wal', 'events.sqlite-shm']) rmSync(join(copy, f), { force: true });
      expect(JSON.parse(readFileSync(join(copy, 'integrity-state.json'), 'utf8')).position).toMatch(/^\d{19}$/);
      const copyEnv = { ...env, SQLITE_PATH: join(copy, 'events.sqlite'), DATA_DIR: copy };
      await expect(startServer(copyEnv)).rejects.toThrow(/server exited with 1[\s\S]*there is no event store at \S*events\.sqlite, but \S*integrity-state\.json records a log verified up to position \d{19}: the log is missing/);
      expect(existsSync(join(copy, 'events.sqlite'))).toBe(false);
      // The record damaged, then gone (re-probe M8: a new empty log was made and the old read models served, BROKEN).
      writeFileSync(join(copy, 'integrity-state.json'), 'not json');
      await expect(startServer(copyEnv)).rejects.toThrow(/server exited with 1[\s\S]*there is no event store at \S*events\.sqlite, but \S*integrity-state\.json is there \(unreadable\) and \S*read-models\.sqlite is there and \S*process-manager\.sqlite is there and \S*access-log\.anchor\.json records a signed access log and \S*access-log\.sqlite holds entries: the log is missing/);
      rmSync(join(copy, 'integrity-state.json'));
      await expect(startServer(copyEnv)).rejects.toThrow(/server exited with 1[\s\S]*there is no event store at \S*events\.sqlite, but \S*read-models\.sqlite is there and \S*process-manager\.sqlite is there and \S*access-log\.anchor\.json records a signed access log and \S*access-log\.sqlite holds entries: the log is missing/);
      expect(existsSync(join(copy, 'events.sqlite'))).toBe(false);
      // The read models and the checkpoints moved aside too, the access log left (re-probe F1: a new empty log served, health ok); or the log an empty file (F2).
      for (const f of readdirSync(copy).filter((f) => f.startsWith('read-models.sqlite') || f.startsWith('process-manager.sqlite'))) rmSync(join(copy, f));
      await expect(startServer(copyEnv)).rejects.toThrow(/server exited with 1[\s\S]*there is no event store at \S*events\.sqlite, but \S*access-log\.anchor\.json records a signed access log and \S*access-log\.sqlite holds entries: the log is missing/);
      writeFileSync(join(copy, 'events.sqlite'), '');
      await expect(startServer(copyEnv)).rejects.toThrow(/server exited with 1[\s\S]*there is no event store at \S*events\.sqlite, but \S*access-log\.anchor\.json records a signed access log/);
      expect(statSync(join(copy, 'events.sqlite')).size).toBe(0);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 60_000);

  it('a first start that failed on a mistyped SQLITE_PATH does not hold the corrected start back (README probe M2: refused as "the log is missing")', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'risk-ledger-first-start-'));
    try {
      writeFileSync(join(fresh, 'notes.txt'), 'not a database, named as SQLITE_PATH by mistake\n'.repeat(100));
      const mistaken = { ...env, SQLITE_PATH: join(fresh, 'notes.txt'), DATA_DIR: join(fresh, 'data') };
      await expect(startServer(mistaken)).rejects.toThrow(/server exited with 1[\s\S]*start-up failed: the event store \S*notes\.txt \(SQLITE_PATH\): file is not a database/);
      expect(readdirSync(join(fresh, 'data'))).toContain('read-models.sqlite'); // what the failed start made: it followed no log
      server = await startServer({ ...mistaken, SQLITE_PATH: join(fresh, 'data', 'events.sqlite') });
      expect((await gql(server.url, manager, REGISTER, asset('first asset'))).errors).toBeUndefined();
      await stopServer(server);
      server = undefined;
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }, 60_000);

  it("the time-travel replays' folder: what earlier processes left is removed at start whatever its pid (in a container the server is pid 1); one that cannot be made is refused at start", async () => {
    const copy = mkdtempSync(join(tmpdir(), 'risk-ledger-replays-dir-'));
    try {
      cpSync(dir, copy, { recursive: true });
      const copyEnv = { ...env, SQLITE_PATH: join(copy, 'events.sqlite'), DATA_DIR: copy };
      // Left by a server killed in a container (pid 1, which always runs) and by one that ran outside.
      const left = ['risk-ledger-replays-1-abc123', `risk-ledger-replays-${process.pid}-def456`].map((name) => join(copy, 'replays', name));
      for (const folder of left) {
        mkdirSync(folder, { recursive: true });
        writeFileSync(join(folder, 'replay-0.sqlite'), 'a replay of the register as it stood');
      }
      server = await startServer(copyEnv);
      expect(left.map((folder) => existsSync(folder))).toEqual([false, false]);
      expect(readdirSync(join(copy, 'replays'))).toEqual([expect.stringMatching(/^risk-ledger-replays-\d+-/)]);
      await stopServer(server);
      server = undefined;
      expect(readdirSync(join(copy, 'replays'))).toEqual([]);
      rmSync(join(copy, 'replays'), { recursive: true });
      writeFileSync(join(copy, 'replays'), 'not a folder');
      await expect(startServer(copyEnv)).rejects.toThrow(/server exited with 1[\s\S]*the time-travel replays' folder [^ ]*replays cannot be made/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 60_000);

  // A small filesystem of its own for the event store (root only: mount; skipped where not allowed).
  const mountTmpfs = (at: string, size: string): boolean => spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at]).status === 0;
  const canMount = (() => {
    const probe = mkdtempSync(join(tmpdir(), 'risk-ledger-mount-probe-'));
    const ok = mountTmpfs(probe, '1m');
    if (ok) spawnSync('umount', [probe]);
    rmSync(probe, { recursive: true, force: true });
    return ok;
  })();

  (canMount ? it : it.skip)("the event store's disk full: /health says degraded with the appends failing, and ok again once one succeeds", async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'risk-ledger-full-log-'));
    const caseDir = mkdtempSync(join(tmpdir(), 'risk-ledger-full-log-data-'));
    expect(mountTmpfs(logDir, '4m')).toBe(true);
    try {
      const caseEnv = { ...env, SQLITE_PATH: join(logDir, 'events.sqlite'), DATA_DIR: caseDir };
      server = await startServer(caseEnv);
      expect((await gql(server.url, manager, REGISTER, asset('before the disk filled'))).errors).toBeUndefined();
      // Fill what is left of the filesystem.
      spawnSync('dd', ['if=/dev/zero', `of=${join(logDir, 'ballast')}`, 'bs=64k', 'count=100']);
      let refused = 0;
      for (let i = 0; i < 20 && refused === 0; i++) {
        const r = await gql(server.url, manager, REGISTER, asset(`while full ${i} ${'x'.repeat(150)}`));
        if (r.errors) refused++;
      }
      expect(refused).toBe(1);
      const during = await health(server.url);
      expect(during.status).toBe(503);
      expect(during.body).toMatchObject({ status: 'degraded', eventStore: { ok: false, appends: 'failing', details: { appendsFailing: { attempts: expect.any(Number), lastError: expect.stringMatching(/SQLITE_FULL|disk is full|ENOSPC/) } } } });
      // /health/ready (the Docker HEALTHCHECK's) says the same (operations probe 10-c M1: 200 while every write failed).
      const ready = await fetch(server.url.replace(/\/graphql$/, '/health/ready'));
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ error: { eventStore: { status: 'down', appends: 'failing' } } });
      rmSync(join(logDir, 'ballast'));
      expect((await gql(server.url, manager, REGISTER, asset('after space came back'))).errors).toBeUndefined();
      expect((await health(server.url)).body).toMatchObject({ status: 'ok', eventStore: { ok: true } });
      expect((await fetch(server.url.replace(/\/graphql$/, '/health/ready'))).status).toBe(200);
      await stopServer(server);
      server = undefined;
    } finally {
      if (server) await stopServer(server, 'SIGKILL');
      server = undefined;
      spawnSync('umount', [logDir]);
      rmSync(logDir, { recursive: true, force: true });
      rmSync(caseDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a stale lock (its process gone, as after SIGKILL) is taken over with a warning', async () => {
    server = await startServer(env);
    const pid = server.child.pid;
    await stopServer(server, 'SIGKILL');
    server = undefined;
    expect(existsSync(join(dir, 'risk-ledger.lock'))).toBe(true);
    server = await startServer(env);
    const warning = server.output().split('\n').find((l) => l.includes('stale DATA_DIR lock taken over'));
    expect(warning && JSON.parse(warning).staleOwner.pid).toBe(pid);
    expect(await snapshot(server.url, auditor)).toEqual(before);
    await stopServer(server);
    server = undefined;
  }, 60_000);

  it('a second server on the same store file, with a DATA_DIR of its own, is refused before it writes (two writers forked the hash chain); so is an import into it', async () => {
    server = await startServer(env);
    const otherDir = mkdtempSync(join(tmpdir(), 'risk-ledger-second-server-'));
    try {
      const second = { ...env, DATA_DIR: otherDir };
      await expect(startServer(second)).rejects.toThrow(/server exited with 1[\s\S]*events\.sqlite\.lock is held by server with pid \d+[\s\S]*another Risk Ledger process is using the event store/);
      expect(readdirSync(otherDir)).toEqual([]); // refused before any local state was made
      const exportFile = join(mkdtempSync(join(tmpdir(), 'risk-ledger-second-import-')), 'export.ndjson');
      writeFileSync(exportFile, '{}\n');
      const imported = cli({ ...second }, 'import', exportFile);
      expect([imported.code, imported.stdout]).toEqual([2, expect.stringContaining('another Risk Ledger process is using the event store')]);
      rmSync(join(exportFile, '..'), { recursive: true, force: true });
      // The first server was not disturbed, and still writes.
      expect((await gql(server.url, manager, REGISTER, asset('after-second'))).errors).toBeUndefined();
      expect((await health(server.url)).body).toMatchObject({ status: 'ok', integrity: 'OK' });
    } finally {
      await stopServer(server);
      server = undefined;
      rmSync(otherDir, { recursive: true, force: true });
    }
    expect(existsSync(join(dir, 'events.sqlite.lock'))).toBe(false); // released at shutdown
  }, 60_000);

  /**
   * Disk full, without a small filesystem: READ_MODEL_MAX_PAGES caps the read-model file (a
   * per-connection `PRAGMA max_page_count`), another connection fills it with a ballast table up
   * to the cap, so the projections' next page allocation fails with SQLITE_FULL exactly as on a
   * full disk; dropping the ballast frees its pages (to SQLite's free list) as freeing disk
   * space would. The event log is on the same folder but not capped: commands still commit.
   */
  it('a full read-model disk: writes commit and are answered, /health says degraded, and projections resume when space is freed', async () => {
    const caseDir = mkdtempSync(join(tmpdir(), 'risk-ledger-disk-full-'));
    const MAX_PAGES = 600;
    const caseEnv = { ...env, SQLITE_PATH: join(caseDir, 'events.sqlite'), DATA_DIR: caseDir, READ_MODEL_MAX_PAGES: String(MAX_PAGES) };
    let ballast: Database.Database | undefined;
    try {
      server = await startServer(caseEnv);
      const url = server.url;
      expect((await gql(url, manager, REGISTER, asset('before-full'))).errors).toBeUndefined();

      ballast = new Database(join(caseDir, 'read-models.sqlite'));
      ballast.pragma('busy_timeout = 5000');
      ballast.exec('CREATE TABLE ballast (b BLOB)');
      const fill = ballast.prepare('INSERT INTO ballast (b) VALUES (?)');
      while ((ballast.pragma('page_count', { simple: true }) as number) < MAX_PAGES + 5) fill.run(randomBytes(3000));
      expect(ballast.pragma('freelist_count', { simple: true })).toBe(0);

      // Writes while the read models cannot grow: every one is answered (after the read-model
      // wait times out), none as failed, since all were committed.
      const answers = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const name = `during-full-${i}`;
          return { name, response: await gql(url, manager, REGISTER, asset(name)) };
        }),
      );
      const during = await health(url);
      expect(during.status).toBe(503);
      expect(during.body.status).toBe('degraded');
      expect(during.body.projections.ok).toBe(false);
      expect(during.body.projections.retrying.lastError).toMatch(/SQLITE_FULL/);
      expect(server.output()).toContain('projections hit a transient storage error: retrying');
      for (const { response } of answers) {
        expect(response.errors).toBeUndefined();
        expect(response.data.registerAsset.version).toBe(0);
      }
      // Those the read models did not confirm say so (docs probe: answers gave no sign of it).
      const unconfirmed = answers.filter(({ response }) => response.extensions?.readModels);
      expect(unconfirmed.length).toBeGreaterThan(0);
      for (const { response } of unconfirmed) {
        expect(response.extensions.readModels).toMatchObject({ confirmed: false, position: expect.stringMatching(/^\d{19}$/), message: expect.stringMatching(/may not show the change/) });
      }

      // Space is freed: the projections resume by themselves, without a restart.
      ballast.exec('DROP TABLE ballast');
      ballast.close();
      ballast = undefined;
      const deadline = Date.now() + 30_000;
      let after = await health(url);
      while (after.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        after = await health(url);
      }
      expect(after.status).toBe(200);
      expect(after.body.status).toBe('ok');
      // Logged as the retry ends, before /health can say ok; the child's output pipe may bring it a moment after the answer.
      for (const until = Date.now() + 5_000; !server.output().includes('projections resumed after a transient storage error') && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
      expect(server.output()).toContain('projections resumed after a transient storage error');

      // No acknowledged write lost: every answered asset is served, and the log has exactly them.
      const served = await gql(url, manager, `{ assets(first: 500) { edges { node { id name } } } }`);
      const names = new Map(served.data.assets.edges.map((e: any) => [e.node.id, e.node.name]));
      for (const { name, response } of answers) expect(names.get(response.data.registerAsset.id)).toBe(name);
      expect(names.size).toBe(1 + answers.length);
      const log = await gql(url, auditor, `{ events(first: 500) { edges { node { type } } } }`);
      expect(log.data.events.edges.filter((e: any) => e.node.type === 'AssetRegistered')).toHaveLength(1 + answers.length);
      // And writes are read-your-writes again.
      const next = await gql(url, manager, REGISTER, asset('after-full'));
      expect(next.errors).toBeUndefined();
      expect(next.extensions?.readModels).toBeUndefined();
      const one = await gql(url, manager, `query($id: ID!) { asset(id: $id) { name } }`, { id: next.data.registerAsset.id });
      expect(one.data.asset.name).toBe('after-full');
      await stopServer(server);
      server = undefined;
    } finally {
      ballast?.close();
      if (server) await stopServer(server, 'SIGKILL');
      server = undefined;
      rmSync(caseDir, { recursive: true, force: true });
    }
  }, 120_000);
});
