/**
 * `risk-ledger` as a user meets it: the built CLI spawned as its own process. Every mistake is one
 * line on stderr (no stack), exit status 2, nothing on stdout; every command has --help; `token`
 * needs --roles and a duration it can read; `npm run token`/`npm run cli` run the build without
 * recompiling, and say so when there is no build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { decodeJwt, jwtVerify } from 'jose';
import { ROLES } from '../../src/shared/domain/decider.js';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpSync, truncateSync } from 'node:fs';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { loadSigningKeys, publicKeyInfo, signerFor, type HeadSignature } from '../../src/event-store/signing.js';
import { IntegrityMonitor } from '../../src/platform/integrity-monitor.js';
import { integrityStatePath } from '../../src/platform/integrity-state.js';
import type { JsonLogger } from '../../src/shared/logging/json-logger.js';
import { newEvent } from '../event-store/event-store.contract.js';
import { buildOnce } from './support/server-process.js';
import { signalWhen } from './support/signal-when.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'dist/src/cli/main.js');
const COMMANDS = ['token', 'export', 'verify', 'verify-store', 'import', 'backup', 'restore', 'rebuild', 'verify-read-models', 'verify-access-log'];
const SECRET = 'cli-test-secret-0123456789abcdef-0123456789';

let work: string;
let env: Record<string, string>;

function run(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env, ...extra }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A friendly refusal: exit 2, exactly one line on stderr naming the program, no stack, nothing on stdout. */
function expectOneLineError(r: ReturnType<typeof run>, pattern: RegExp): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^risk-ledger( [a-z-]+)?: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |Error:|node:internal/);
}

beforeAll(() => {
  buildOnce();
  work = mkdtempSync(join(tmpdir(), 'risk-ledger-cli-'));
  env = { EVENT_STORE: 'sqlite', DATA_DIR: work, SQLITE_PATH: join(work, 'events.sqlite'), JWT_SECRET: SECRET, LOG_LEVEL: 'info' };
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('risk-ledger: mistakes are one line on stderr and exit status 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /missing command: one of token, export, verify/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['a misspelt command (with a suggestion)', ['verfy', 'x.ndjson'], /unknown command 'verfy' \(Did you mean verify\?\)/],
    ['an unknown flag', ['export', '--bogus'], /^risk-ledger export: unknown option '--bogus'/],
    ['a missing argument', ['verify'], /missing required argument 'file'/],
    ['an extra argument', ['rebuild', 'now'], /too many arguments/],
    ['export without --out', ['export'], /export needs --out FILE/],
    ['export to two different files', ['export', 'b.ndjson', '--out', 'c.ndjson'], /export was given two files, b\.ndjson and --out c\.ndjson: give one/],
    ['export to standard output', ['export', '--out', '-'], /export writes files .* not standard output: give --out FILE/],
    ['an unreadable export', ['verify', join('/nonexistent', 'evidence.ndjson')], /cannot read the export .*: no such file/],
    ['a folder given as the file', ['import', '/tmp'], /cannot read the export \/tmp: it is a folder/],
    ['an unreadable manifest', ['verify-store', '--manifest', '/nonexistent/m.json'], /cannot read the manifest/],
    ['an output folder that does not exist', ['export', '--out', '/nonexistent/dir/evidence.ndjson'], /cannot write .*the folder \/nonexistent\/dir does not exist/],
    ['token without --sub', ['token', '--roles', 'CISO'], /required option '--sub <id>'/],
    ['token with an unknown role', ['token', '--sub', 'alice', '--roles', 'ASSET_MANAGER,KING'], /unknown role KING: roles are ASSET_MANAGER, RISK_OWNER/],
    ['token with --expires tomorrow', ['token', '--sub', 'alice', '--roles', 'CISO', '--expires', 'tomorrow'], /--expires 'tomorrow' is not a duration: use a whole number followed by s, m, h or d .* 8h/],
    ['token with --expires 0s', ['token', '--sub', 'alice', '--roles', 'CISO', '--expires', '0s'], /--expires '0s' is no lifetime: it must be at least 1s/],
    ['an ASSET_MANAGER token without --department', ['token', '--sub', 'am', '--roles', 'ASSET_MANAGER'], /--department is required with the role ASSET_MANAGER/],
    ['token with --expires beyond 90 days', ['token', '--sub', 'alice', '--roles', 'CISO', '--expires', '91d'], /longer than 90 days/],
    ['token with --sub in the system prefix, in capitals', ['token', '--sub', 'SYSTEM:process-manager', '--roles', 'CISO'], /--sub may not start with 'system:' \(in any case or width\)/],
    // Refused, not trimmed into a token for carol (probe p10).
    ['token with --sub padded with a space', ['token', '--sub', ' carol', '--roles', 'CISO'], /--sub must be 1 to 128 printable characters, without spaces around them/],
    ['token with --sub ending in a tab', ['token', '--sub', 'carol\t', '--roles', 'CISO'], /--sub must be 1 to 128 printable characters, without spaces around them/],
    ['token with --name holding a bidirectional override', ['token', '--sub', 'alice', '--roles', 'CISO', '--name', 'Alice\u202Egnp.exe'], /--name must not contain control, line-separator, bidirectional-override or invisible characters/],
  ];
  it.each(cases)('%s', (_name, args, pattern) => {
    expectOneLineError(run(args), pattern);
  });

  it('refuses a token without --roles, listing every role (a token without roles could do nothing)', () => {
    for (const args of [['token', '--sub', 'alice'], ['token', '--sub', 'alice', '--roles', ' , ']]) {
      const r = run(args);
      expectOneLineError(r, /--roles is (required|empty)/);
      for (const role of ROLES) expect(r.stderr).toContain(role);
    }
  });

  it('a configuration error of token is one line too (production without JWT_SECRET)', () => {
    const r = run(['token', '--sub', 'alice', '--roles', 'CISO'], { NODE_ENV: 'production', JWT_SECRET: '' });
    expectOneLineError(r, /configuration error: JWT_SECRET/);
  });
});

describe('risk-ledger --help', () => {
  it('lists every command, and each command has its own help (exit 0, on stdout)', () => {
    const top = run(['--help']);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) expect(top.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    for (const args of [...COMMANDS.map((c) => [c, '--help']), ['help', 'verify']]) {
      const r = run(args);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(r.stdout).toContain(`Usage: risk-ledger ${args[0] === 'help' ? args[1] : args[0]}`);
      if (args[0] === 'token') expect(r.stdout).toMatch(/--expires <duration>[\s\S]*8h, 7d/);
    }
  }, 180_000);
});

describe('risk-ledger token', () => {
  it('prints a token the server accepts: signed with JWT_SECRET, with the roles, department and lifetime asked for', async () => {
    const r = run(['token', '--sub', 'alice', '--name', 'Alice', '--roles', 'ASSET_MANAGER,RISK_OWNER', '--department', 'ops', '--expires', '30m']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const token = r.stdout.trim();
    expect(r.stdout).toBe(`${token}\n`);
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET));
    expect(payload).toMatchObject({ sub: 'alice', name: 'Alice', roles: ['ASSET_MANAGER', 'RISK_OWNER'], department: 'ops' });
    expect(payload.exp! - payload.iat!).toBe(30 * 60);
    // The default lifetime is 8 hours.
    const plain = decodeJwt(run(['token', '--sub', 'bob', '--roles', 'AUDITOR']).stdout.trim());
    expect(plain.exp! - plain.iat!).toBe(8 * 3600);
  });
});

describe('npm run token / npm run cli', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };

  it('run the built CLI without compiling first; `npm ci` builds through prepare; `bin` is the built CLI', () => {
    expect(pkg.bin).toEqual({ 'risk-ledger': 'dist/src/cli/main.js' });
    // Each script: a check that dist/ is there (a message, exit 2), then the built CLI, nothing compiled.
    expect(pkg.scripts.token.split('; ').pop()).toBe('node dist/src/cli/main.js token');
    expect(pkg.scripts.cli.split('; ').pop()).toBe('node dist/src/cli/main.js');
    for (const name of ['token', 'cli']) expect(pkg.scripts[name]!.replace(/'[^']*'/g, '')).not.toMatch(/npm run|\btsc\b/);
    expect(pkg.scripts.prepare).toContain('npm run -s build');
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('say what to do when there is no build (one line, exit 2)', () => {
    const bare = mkdtempSync(join(tmpdir(), 'risk-ledger-nodist-'));
    try {
      copyFileSync(join(ROOT, 'package.json'), join(bare, 'package.json'));
      for (const script of ['token', 'cli']) {
        const r = spawnSync('npm', ['run', '-s', script, '--', '--help'], { cwd: bare, encoding: 'utf8', timeout: 60_000 });
        expect(r.status).toBe(2);
        expect(r.stderr.trim()).toBe('risk-ledger: dist/ is missing: run npm run build first (npm ci does it through the prepare script)');
      }
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('warn, and still run it, when src/ has changed since the last build (probe 8a: an outdated dist/ ran silently)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-stale-'));
    try {
      copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
      mkdirSync(join(dir, 'dist', 'src', 'cli'), { recursive: true });
      mkdirSync(join(dir, 'src'));
      writeFileSync(join(dir, 'dist', 'src', 'cli', 'main.js'), "console.log('ran');\n");
      writeFileSync(join(dir, 'dist', '.built'), '');
      writeFileSync(join(dir, 'src', 'main.ts'), '');
      const at = (file: string, seconds: number) => utimesSync(join(dir, file), seconds, seconds);
      const warning = 'risk-ledger: src/ has changed since the last build: this runs the older dist/ (npm run build)';
      for (const [built, source, warned] of [[1_000, 2_000, true], [3_000, 2_000, false]] as const) {
        at('dist/.built', built);
        at('src/main.ts', source);
        for (const script of ['token', 'cli']) {
          const r = spawnSync('npm', ['run', '-s', script], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
          expect([r.status, r.stdout.trim(), r.stderr.trim()]).toEqual([0, 'ran', warned ? warning : '']);
        }
      }
      // `npm run build` leaves the stamp the scripts compare with.
      expect(pkg.scripts.build).toMatch(/&& touch dist\/\.built$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says so on stderr when it had to generate the development key (a DATA_DIR no server has used), and not the next time', () => {
    const fresh = join(work, 'fresh-data-dir');
    const env = { JWT_SECRET: '', NODE_ENV: 'development', DATA_DIR: fresh };
    const first = run(['token', '--sub', 'dana', '--roles', 'AUDITOR'], env);
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(first.stderr.trim()).toBe(`risk-ledger token: no development key was in ${fresh}: one was generated at ${join(fresh, 'dev-jwt-secret')}; only a server started with DATA_DIR=${fresh} accepts this token`);
    const second = run(['token', '--sub', 'dana', '--roles', 'AUDITOR'], env);
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('npm run -s token prints the token alone', () => {
    const r = spawnSync('npm', ['run', '-s', 'token', '--', '--sub', 'carol', '--roles', 'COMMITTEE_MEMBER'], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(decodeJwt(r.stdout.trim())).toMatchObject({ sub: 'carol', roles: ['COMMITTEE_MEMBER'] });
  });
});

describe('verify with a trusted key file that is not a key', () => {
  it('is refused in one line', () => {
    const file = join(work, 'some.ndjson');
    writeFileSync(file, '');
    const key = join(work, 'key.pem');
    writeFileSync(key, 'not a key');
    expectOneLineError(run(['verify', file, '--trusted-key', key]), /--trusted-key: not a public key in PEM/);
    // The keys' JSON saved as it is: said so, without OpenSSL's error code (README probe L6).
    const json = join(work, 'keys.json');
    writeFileSync(json, JSON.stringify({ keys: [{ keyId: 'k', publicKeyPem: 'x' }] }));
    const refused = run(['verify', file, '--trusted-key', json]);
    expectOneLineError(refused, /keys\.json is JSON: write the publicKeyPem of \/\.well-known\/risk-ledger\/keys into a \.pem file/);
    expect(refused.stderr).not.toMatch(/error:[0-9A-F]{8}/);
  });
});

describe('commands that read the store refuse a store that is not there', () => {
  it('export, verify-store, rebuild, verify-read-models and verify-access-log: exit 2, one line naming the setting, nothing created', () => {
    const empty = join(work, 'elsewhere');
    mkdirSync(empty);
    const where = { DATA_DIR: empty, SQLITE_PATH: join(empty, 'events.sqlite') };
    for (const args of [['export', '--out', join(empty, 'out.ndjson')], ['verify-store'], ['rebuild'], ['verify-read-models']]) {
      expectOneLineError(run(args, where), /no event store at .*elsewhere\/events\.sqlite: set SQLITE_PATH/);
    }
    expectOneLineError(run(['verify-access-log'], where), /no access log at .*elsewhere\/access-log\.sqlite .*set DATA_DIR/);
    expect(readdirSync(empty)).toEqual([]);
  });

  it('with EVENT_STORE=memory: export, verify-store, rebuild and import exit 2 in one line, nothing created (a README probe: verify-store said OK on 0 events, import "Imported 103 events" and kept none)', () => {
    const memory = join(work, 'memory-store');
    mkdirSync(memory);
    const settings = { EVENT_STORE: 'memory', DATA_DIR: memory, SQLITE_PATH: join(memory, 'events.sqlite') };
    const someExport = join(work, 'some-export.ndjson');
    writeFileSync(someExport, '');
    for (const args of [['export', '--out', join(memory, 'out.ndjson')], ['verify-store'], ['rebuild'], ['import', someExport]]) {
      expectOneLineError(run(args, settings), /EVENT_STORE=memory: that log lives only in a running server's memory/);
    }
    expectOneLineError(run(['verify-access-log'], settings), /EVENT_STORE=memory/);
    expect(readdirSync(memory)).toEqual([]);
  });

  it('in production, only the token command asks for JWT_SECRET: the store commands run without it (a Docker image)', () => {
    const empty = join(work, 'production-image');
    mkdirSync(empty);
    const image = { NODE_ENV: 'production', JWT_SECRET: '', DATA_DIR: empty, SQLITE_PATH: join(empty, 'events.sqlite') };
    for (const args of [['export', '--out', join(empty, 'out.ndjson')], ['verify-store'], ['rebuild']]) {
      expectOneLineError(run(args, image), /no event store at .*production-image\/events\.sqlite: set SQLITE_PATH/);
    }
    expectOneLineError(run(['token', '--sub', 'alice', '--roles', 'AUDITOR'], image), /JWT_SECRET/);
  });

  it('export, verify-store and rebuild on an empty file or on another SQLite database: exit 2, the file left as it was', () => {
    const elsewhere = join(work, 'not-a-store');
    mkdirSync(elsewhere);
    const empty = join(elsewhere, 'empty.sqlite');
    writeFileSync(empty, '');
    const foreign = join(elsewhere, 'foreign.sqlite');
    const db = new Database(foreign);
    db.exec('CREATE TABLE foo (x)');
    db.close();
    for (const [file, what] of [[empty, /an empty SQLite file/], [foreign, /an SQLite database without an event store in it/]] as const) {
      const before = readFileSync(file);
      for (const args of [['verify-store'], ['export', '--out', join(elsewhere, 'out.ndjson')], ['rebuild']]) {
        expectOneLineError(run(args, { DATA_DIR: elsewhere, SQLITE_PATH: file }), new RegExp(`is not an event store \\(${what.source}\\).*nothing was changed`));
        expect(readFileSync(file).equals(before)).toBe(true);
      }
      // With no access log beside it either: the wrong folder, not a lost access log (exit 1).
      expectOneLineError(run(['verify-access-log'], { DATA_DIR: elsewhere, SQLITE_PATH: file }), /no access log at .*not-a-store\/access-log\.sqlite/);
    }
  });

  it('verify-store on a file that is not a database: exit 1 (broken), not 2', () => {
    const damaged = join(work, 'damaged');
    mkdirSync(damaged);
    writeFileSync(join(damaged, 'events.sqlite'), Buffer.alloc(8192, 0x41));
    const r = run(['verify-store'], { DATA_DIR: damaged, SQLITE_PATH: join(damaged, 'events.sqlite') });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toMatchObject({ command: 'verify-store', ok: false, error: expect.stringMatching(/^SQLITE_NOTADB/) });
    expect(r.stdout).toMatch(/^BROKEN: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(damaged, 'events.sqlite'))).toBe(true);
  });

  it('rebuild on a damaged store (random bytes, a store cut to half): exit 1 (broken) as verify-store and export, not 2 (probe 8-b C)', async () => {
    const damaged = join(work, 'damaged-rebuild');
    mkdirSync(damaged);
    const random = join(damaged, 'random.sqlite');
    writeFileSync(random, randomBytes(8192));
    const half = join(damaged, 'half.sqlite');
    const store = new SqliteEventStore({ path: half });
    for (let i = 0; i < 20; i++) {
      await store.append(`stream-${i}`, Array.from({ length: 50 }, (_, n) => newEvent('Tested', { n, text: 'x'.repeat(1_000) })), { expectedVersion: ExpectedVersion.noStream });
    }
    await store.close();
    // A store whose events table was dropped: opening it as a store would make a new, empty one.
    const noEvents = join(damaged, 'no-events.sqlite');
    copyFileSync(half, noEvents);
    const db = new Database(noEvents);
    db.exec('DROP TABLE events');
    db.close();
    // And one whose idempotency or snapshots table was dropped (re-probe 9: exit 2, "no such table").
    const dropped = ['idempotency', 'snapshots'].map((table) => {
      const file = join(damaged, `no-${table}.sqlite`);
      copyFileSync(half, file);
      const d = new Database(file);
      d.exec(`DROP TABLE ${table}`);
      d.close();
      return file;
    });
    // And one whose every event still reads, an index of it overwritten (operations probe 10-c M3:
    // a WAL replayed onto another file; rebuild answered 0 over a file failing PRAGMA quick_check).
    const badIndex = join(damaged, 'bad-index.sqlite');
    copyFileSync(half, badIndex);
    const look = new Database(badIndex, { readonly: true });
    const pageSize = look.pragma('page_size', { simple: true }) as number;
    const rootPage = look.prepare("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY rootpage DESC LIMIT 1").pluck().get() as number;
    look.close();
    const bytes = readFileSync(badIndex);
    randomBytes(pageSize - 200).copy(bytes, (rootPage - 1) * pageSize + 100);
    writeFileSync(badIndex, bytes);
    truncateSync(half, Math.floor(readFileSync(half).length / 2));
    for (const file of [random, half, noEvents, ...dropped, badIndex]) {
      const before = readFileSync(file);
      const r = run(['rebuild'], { DATA_DIR: damaged, SQLITE_PATH: file, READ_MODEL_PATH: join(damaged, 'read-models.sqlite') });
      expect({ file, code: r.code }).toEqual({ file, code: 1 });
      expect(JSON.parse(r.stdout.split('\n')[0]!)).toMatchObject({ command: 'rebuild', ok: false, error: expect.stringMatching(/^SQLITE_(NOTADB|CORRUPT)|^the store file is damaged: (the store's table (events|idempotency|snapshots) is missing|PRAGMA quick_check)/) });
      expect(r.stdout).toMatch(/^BROKEN: /m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readFileSync(file).equals(before)).toBe(true);
    }
  });
});

/** The JSON line and the sentence of a command's answer. */
function answer(r: ReturnType<typeof run>) {
  const [json, sentence] = r.stdout.split('\n');
  return { code: r.code, json: JSON.parse(json!), sentence: sentence! };
}

const TRIGGERS = ['events', 'chain_signatures'].flatMap((table) => ['update', 'delete'].map((op) => `${table}_no_${op}`));

describe('verify-store and export without --manifest: anchored on the head the server verified (auditor probe 10-b M2)', () => {
  let dir: string;
  let recorded: string;
  const where = (d: string) => ({ DATA_DIR: d, SQLITE_PATH: join(d, 'events.sqlite') });
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet } as unknown as JsonLogger;

  /** A copy of the store and its DATA_DIR, changed as someone holding the file would (the append-only triggers dropped, then put back). */
  function copyOf(name: string, change?: (db: Database.Database) => void): string {
    const copy = join(work, name);
    cpSync(dir, copy, { recursive: true });
    if (change) {
      const db = new Database(join(copy, 'events.sqlite'));
      const triggers = TRIGGERS.map((t) => db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?").pluck().get(t) as string);
      for (const t of TRIGGERS) db.exec(`DROP TRIGGER ${t}`);
      change(db);
      for (const sql of triggers) db.exec(sql);
      db.close();
    }
    return copy;
  }

  beforeAll(async () => {
    // A signed log, verified by the server's integrity monitor, which records its head in DATA_DIR.
    dir = join(work, 'anchored');
    mkdirSync(dir);
    const keys = loadSigningKeys(join(dir, 'signing-key.pem'));
    const store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), signer: keys.signer });
    await store.init();
    for (let i = 0; i < 4; i++) await store.append(`s-${i}`, [newEvent('Tested', { i }), newEvent('Tested', { i })], { expectedVersion: ExpectedVersion.noStream });
    const monitor = new IntegrityMonitor(store, keys.trusted, integrityStatePath({ eventStore: 'sqlite', dataDir: dir }), quiet);
    await monitor.start();
    await monitor.stop();
    await store.close();
    recorded = (JSON.parse(readFileSync(join(dir, 'integrity-state.json'), 'utf8')) as { position: string }).position;
    expect(recorded).toBe('8'.padStart(19, '0'));
  });

  const cut = () =>
    copyOf(`newest-commit-deleted-${randomBytes(4).toString('hex')}`, (db) => {
      // The newest commit, its events and its signed head: what is left is a valid signed log.
      const first = db.prepare('SELECT first_position FROM chain_signatures ORDER BY position DESC LIMIT 1').pluck().get() as number;
      db.prepare('DELETE FROM events WHERE position >= ?').run(first);
      db.prepare('DELETE FROM chain_signatures WHERE position >= ?').run(first);
    });

  it('an intact log: OK, naming the recorded head it still contains', () => {
    const r = answer(run(['verify-store'], where(copyOf('intact'))));
    expect(r).toMatchObject({ code: 0, json: { ok: true, anchorOk: true, anchor: { source: 'server-record', position: recorded }, anchorNote: null } });
    expect(r.sentence).toContain(`the log still contains the head ${recorded} that the server verified, recorded in `);
  });

  it('the newest commit deleted with its signature: verify-store and export BROKEN (exit 1) at the recorded head, the export still written', () => {
    const d = cut();
    const store = answer(run(['verify-store'], where(d)));
    expect(store).toMatchObject({ code: 1, json: { ok: false, anchorOk: false, firstBrokenPosition: recorded, anchor: { source: 'server-record', position: recorded, file: join(d, 'integrity-state.json') } } });
    expect(store.json.reason).toMatch(`recorded a head at position ${recorded}: events were removed from the end of the log`);
    expect(store.sentence).toMatch(new RegExp(`^BROKEN: .*; the anchor: the head ${recorded} that the server verified, recorded in .*integrity-state\\.json\\.$`));
    const file = join(d, 'export.ndjson');
    const exported = answer(run(['export', '--out', file], where(d)));
    expect(exported).toMatchObject({ code: 1, json: { ok: false, integrity: { ok: false, firstBrokenPosition: recorded }, anchor: { source: 'server-record', position: recorded } } });
    expect(exported.sentence).toMatch(`but the log is BROKEN at position ${recorded}`);
    expect(JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')).integrity).toMatchObject({ ok: false, firstBrokenPosition: recorded });
    // The export matches its manifest, which says the log was broken: not an OK export.
    const verified = answer(run(['verify', file]));
    expect(verified).toMatchObject({ code: 1, json: { ok: false, firstBrokenPosition: recorded, reason: expect.stringMatching(/^the export matches its manifest, but its manifest records the log as BROKEN when it was exported: the log ends at/) } });
    // With --manifest, the manifest stays the anchor.
    const intact = join(work, 'intact-export.ndjson');
    expect(run(['export', '--out', intact], where(copyOf('intact-for-manifest'))).code).toBe(0);
    const anchored = answer(run(['verify-store', '--manifest', `${intact}.manifest.json`], where(d)));
    expect(anchored).toMatchObject({ code: 1, json: { ok: false, anchorOk: false, anchor: { source: 'manifest', position: recorded } } });
  });

  it('a record verified on another store, or unreadable: not used, and said so (exit 0 as before)', () => {
    for (const [record, note] of [
      [{ ...JSON.parse(readFileSync(join(dir, 'integrity-state.json'), 'utf8')), adapter: 'postgres' }, /verified on the postgres store, this is the sqlite store: not used as an anchor/],
      ['{not json', /integrity-state\.json is unreadable: not used as an anchor/],
    ] as const) {
      const d = cut();
      writeFileSync(join(d, 'integrity-state.json'), typeof record === 'string' ? record : JSON.stringify(record));
      const store = answer(run(['verify-store'], where(d)));
      expect(store).toMatchObject({ code: 0, json: { ok: true, anchorOk: null, anchor: null, anchorNote: expect.stringMatching(note) } });
      expect(store.sentence).toMatch(new RegExp(`Note: .*${note.source}`));
      const exported = answer(run(['export', '--out', join(d, 'export.ndjson')], where(d)));
      expect(exported).toMatchObject({ code: 0, json: { ok: true, anchor: null, anchorNote: expect.stringMatching(note) } });
    }
  });
});

describe('verify names the keys it checked the signed heads with (auditor probe 10-b M3)', () => {
  it("the export's own keys: OK (exit 0) with the kid and a warning; re-signed with another key, the same, and exit 1 with the server's key", async () => {
    const d = join(work, 'keys');
    mkdirSync(d);
    const env = { DATA_DIR: d, SQLITE_PATH: join(d, 'events.sqlite') };
    const keys = loadSigningKeys(join(d, 'signing-key.pem'));
    const ownKid = keys.signer.kid;
    const serverKey = join(d, 'server-public.pem');
    writeFileSync(serverKey, keys.trusted.list()[0]!.publicKeyPem);
    const store = new SqliteEventStore({ path: join(d, 'events.sqlite'), signer: keys.signer });
    for (let i = 0; i < 3; i++) await store.append(`s-${i}`, [newEvent('Tested', { i })], { expectedVersion: ExpectedVersion.noStream });
    await store.close();
    mkdirSync(join(d, 'genuine'));
    const genuine = join(d, 'genuine', 'log.ndjson');
    expect(run(['export', '--out', genuine], env).code).toBe(0);

    const plain = answer(run(['verify', genuine]));
    expect(plain).toMatchObject({ code: 0, json: { ok: true, keys: { source: 'export', kids: [ownKid] }, keysWarning: expect.stringMatching(/consistent with itself, not who made it.*--trusted-key.*GET \/\.well-known\/risk-ledger\/keys/) } });
    expect(plain.sentence).toMatch(new RegExp(`Signed heads checked with key ${ownKid}, but the keys were taken from the export's own manifest`));
    const trusted = answer(run(['verify', genuine, '--trusted-key', serverKey]));
    expect(trusted).toMatchObject({ code: 0, json: { ok: true, keys: { source: 'verifier', kids: [ownKid] }, keysWarning: null } });
    expect(trusted.sentence).toMatch(`Signed heads checked with key ${ownKid}, given with --trusted-key (the verifier's own).`);

    // Re-signed with someone else's key, put in the manifest (signatures file's SHA-256 recomputed).
    cpSync(join(d, 'genuine'), join(d, 'forged'), { recursive: true });
    const forged = join(d, 'forged', 'log.ndjson');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const forger = signerFor(privateKey);
    const lines = readFileSync(`${forged}.signatures.ndjson`, 'utf8').split('\n').filter(Boolean);
    const text = lines.map((l) => JSON.parse(l) as HeadSignature).map((s) => JSON.stringify(forger.sign('log', s.position, s.chainHash, s.firstPosition)) + '\n').join('');
    writeFileSync(`${forged}.signatures.ndjson`, text);
    const manifest = JSON.parse(readFileSync(`${forged}.manifest.json`, 'utf8'));
    manifest.publicKeys = [publicKeyInfo(publicKey)];
    manifest.signatures.sha256 = createHash('sha256').update(text).digest('hex');
    writeFileSync(`${forged}.manifest.json`, JSON.stringify(manifest, null, 2));

    const own = answer(run(['verify', forged]));
    expect(own).toMatchObject({ code: 0, json: { ok: true, keys: { source: 'export', kids: [forger.kid] }, keysWarning: expect.stringContaining("the keys were taken from the export's own manifest") } });
    expect(own.sentence).toContain(`Signed heads checked with key ${forger.kid}, but the keys were taken from the export's own manifest`);
    const refused = answer(run(['verify', forged, '--trusted-key', serverKey]));
    expect(refused).toMatchObject({ code: 1, json: { ok: false, keys: { source: 'verifier', kids: [forger.kid] }, reason: expect.stringContaining(`signed with key ${forger.kid}, which this verifier does not trust`) } });
  });
});

describe('rebuild builds the read models beside them and puts them in place once the log verifies', () => {
  /** A signed log of `commits` commits of 1,000 events in a DATA_DIR of its own, and read models built from it. */
  async function signedLog(commits: number): Promise<{ dir: string; env: Record<string, string>; readModels: string }> {
    const dir = mkdtempSync(join(work, 'rebuild-beside-'));
    const keys = loadSigningKeys(join(dir, 'signing-key.pem'));
    const store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), signer: keys.signer });
    await store.init();
    for (let i = 0; i < commits; i++) await store.append(`tested-${i}`, Array.from({ length: 1_000 }, (_, n) => newEvent('Tested', { n })), { expectedVersion: ExpectedVersion.noStream });
    await store.close();
    const dirEnv = { DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite') };
    expect(run(['rebuild'], dirEnv).code).toBe(0);
    return { dir, env: dirEnv, readModels: join(dir, 'read-models.sqlite') };
  }

  it('a half-built file a killed rebuild left is started over; rows not from the log are gone; the mode is kept; nothing is left beside', async () => {
    const { dir, env: dirEnv, readModels } = await signedLog(3);
    const db = new Database(readModels);
    db.prepare("INSERT INTO risk_register_retired_assets (asset_id) VALUES ('planted')").run();
    db.close();
    chmodSync(readModels, 0o640);
    writeFileSync(`${readModels}.rebuilding`, randomBytes(8_192));
    const r = run(['rebuild'], dirEnv);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toMatchObject({ command: 'rebuild', ok: true, eventsApplied: 3_000, position: '3000'.padStart(19, '0') });
    expect(r.stderr).toMatch(/rebuild: verifying the log and applying it .*6000\/6000 events/);
    expect(statSync(readModels).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).filter((f) => f.startsWith('read-models')).sort()).toEqual(['read-models.sqlite']);
    const rebuilt = new Database(readModels, { readonly: true });
    try {
      expect(rebuilt.prepare('SELECT count(*) FROM risk_register_retired_assets').pluck().get()).toBe(0);
      expect(rebuilt.prepare('SELECT DISTINCT position FROM projection_checkpoints').pluck().all()).toEqual(['3000'.padStart(19, '0')]);
    } finally {
      rebuilt.close();
    }
  }, 120_000);

  it('killed in the middle, it leaves the read models byte for byte as they were (they were reset in place before)', async () => {
    const { env: dirEnv, readModels } = await signedLog(20);
    const before = readFileSync(readModels);
    const child = spawn(process.execPath, [CLI, 'rebuild'], { env: { ...process.env, ...env, ...dirEnv }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let running = true;
    void exited.then(() => (running = false));
    // Killed as soon as it has begun to build (the file beside the read models exists).
    let seen = false;
    while (running && !seen) {
      seen = existsSync(`${readModels}.rebuilding`);
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    child.kill('SIGKILL');
    await exited;
    expect(seen).toBe(true);
    expect(readFileSync(readModels).equals(before)).toBe(true);
    // The next rebuild starts the half-built file over and ends as the first did.
    const again = run(['rebuild'], dirEnv);
    expect(again.code).toBe(0);
    expect(existsSync(`${readModels}.rebuilding`)).toBe(false);
  }, 120_000);

  it("keeps the read models' owner and a symbolic link to them; a folder where it would build is refused in one line, and it exits (probe of 2026-12-06, F1, F2, F5)", async () => {
    const { dir, env: dirEnv, readModels } = await signedLog(1);
    // Owned by the server's user (here: nobody), rebuilt by root.
    chownSync(readModels, 65534, 65534);
    expect(run(['rebuild'], dirEnv).code).toBe(0);
    expect([statSync(readModels).uid, statSync(readModels).gid]).toEqual([65534, 65534]);
    // READ_MODEL_PATH a link to the file elsewhere: the link stays, its target is rebuilt.
    const elsewhere = mkdtempSync(join(work, 'read-models-elsewhere-'));
    const target = join(elsewhere, 'read-models.sqlite');
    copyFileSync(readModels, target);
    const link = join(dir, 'linked-read-models.sqlite');
    symlinkSync(target, link);
    const db = new Database(target);
    db.prepare("INSERT INTO risk_register_retired_assets (asset_id) VALUES ('planted')").run();
    db.close();
    expect(run(['rebuild'], { ...dirEnv, READ_MODEL_PATH: link }).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readdirSync(elsewhere)).toEqual(['read-models.sqlite']);
    const rebuilt = new Database(target, { readonly: true });
    expect(rebuilt.prepare('SELECT count(*) FROM risk_register_retired_assets').pluck().get()).toBe(0);
    rebuilt.close();
    // A folder where the file would be built: refused, the folder and the read models left as they are.
    mkdirSync(`${readModels}.rebuilding`);
    const before = readFileSync(readModels);
    const refused = run(['rebuild'], dirEnv);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/read-models\.sqlite\.rebuilding is a folder: rebuild builds the read models in a file of that name; move it away/);
    expect(readFileSync(readModels).equals(before)).toBe(true);
    expect(statSync(`${readModels}.rebuilding`).isDirectory()).toBe(true);
    expect(existsSync(join(dir, 'risk-ledger.lock'))).toBe(false);
  }, 120_000);

  it('interrupted (SIGTERM, SIGINT), rebuild and verify-read-models leave no lock, no half-built file and no copy of the read models (probe F4, F7)', async () => {
    const { dir, env: dirEnv, readModels } = await signedLog(20);
    const scratch = () => new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('risk-ledger-verify-read-models-')));
    const before = readFileSync(readModels);
    const scratchBefore = scratch();
    for (const [command, signal, until] of [
      ['rebuild', 'SIGTERM', () => existsSync(`${readModels}.rebuilding`)],
      ['rebuild', 'SIGINT', () => existsSync(`${readModels}.rebuilding`)],
      ['verify-read-models', 'SIGTERM', () => [...scratch()].some((f) => !scratchBefore.has(f))],
    ] as const) {
      const child = spawn(process.execPath, [CLI, command], { env: { ...process.env, ...env, ...dirEnv }, stdio: 'ignore' });
      const { seen, code } = await signalWhen(child, signal, until);
      expect({ command, signal, seen }).toEqual({ command, signal, seen: true });
      expect(code).toBe(signal === 'SIGTERM' ? 143 : 130);
      // (the read models' own -wal and -shm may stay: they were open, unwritten, when the signal came)
      expect(readdirSync(dir).filter((f) => (f.startsWith('read-models') && !/^read-models\.sqlite-(wal|shm)$/.test(f)) || f.endsWith('.lock')).sort()).toEqual(['read-models.sqlite']);
      expect(readFileSync(readModels).equals(before)).toBe(true);
      expect([...scratch()].filter((f) => !scratchBefore.has(f))).toEqual([]);
    }
  }, 120_000);

  it('over a log that fails verification: nothing is put in place and nothing is left beside, though the rebuild ran beside the check', async () => {
    const { dir, env: dirEnv, readModels } = await signedLog(2);
    const before = readFileSync(readModels);
    const db = new Database(join(dir, 'events.sqlite'));
    db.exec('DROP TRIGGER IF EXISTS events_no_update');
    db.exec(`UPDATE events SET data = json_set(data, '$.n', 'forged') WHERE position = 1500`);
    db.close();
    const r = run(['rebuild'], dirEnv);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toMatchObject({ command: 'rebuild', ok: false, firstBrokenPosition: '1500'.padStart(19, '0') });
    expect(r.stdout).toMatch(/Nothing was rebuilt: the read models may still hold what the log said before/);
    expect(readFileSync(readModels).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('read-models')).sort()).toEqual(['read-models.sqlite']);
  }, 120_000);
});
