import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_DIR_LOCK_FILE, KERNEL_LOCK_SUFFIX } from '../../../src/config/own-files.js';
import { DataDirLock, DataDirLockedError, PID_REUSE_MARGIN_MS, UNCLEAN_NOTE_SUFFIX, processIdentity, processStartedAt, TAKEOVER_WAIT_MS } from '../../../src/platform/data-dir-lock.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';

const silent = new JsonLogger('test', 'error');

describe('DATA_DIR lock', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is written exclusively with {pid, startedAt} and removed at release', () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lock = DataDirLock.acquire(dir, 'server', silent);
    const content = JSON.parse(readFileSync(join(dir, DATA_DIR_LOCK_FILE), 'utf8'));
    expect(content).toMatchObject({ pid: process.pid, holder: 'server' });
    expect(typeof content.startedAt).toBe('string');
    lock.release();
    expect(existsSync(join(dir, DATA_DIR_LOCK_FILE))).toBe(false);
  });

  it('refuses while a live process holds it (here: our parent)', () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    writeFileSync(join(dir, DATA_DIR_LOCK_FILE), JSON.stringify({ pid: process.ppid, startedAt: 'then', holder: 'server' }));
    expect(() => DataDirLock.acquire(dir, 'cli rebuild', silent)).toThrow(DataDirLockedError);
    expect(DataDirLock.liveOwner(dir)).toMatchObject({ pid: process.ppid });
    expect(JSON.parse(readFileSync(join(dir, DATA_DIR_LOCK_FILE), 'utf8')).pid).toBe(process.ppid); // untouched
  });

  it("refusing a live holder's lock of a build before 2026-12-07 (no path named), says what to do if this folder is a copy (upgrade probe F3)", () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockFile = join(dir, DATA_DIR_LOCK_FILE);
    writeFileSync(lockFile, JSON.stringify({ pid: process.ppid, startedAt: 'then', holder: 'server' }));
    expect(() => DataDirLock.acquire(dir, 'server', silent)).toThrow(/stop it first\. The lock was written by a build before 2026-12-07, which does not say which folder it locked: if this folder is a copy of a running server's files, that server runs on the original; then remove \S*risk-ledger\.lock here and start again$/);
    // A lock naming its own path is this folder's: no such words.
    writeFileSync(lockFile, JSON.stringify({ pid: process.ppid, startedAt: 'then', holder: 'server', file: realpathSync(lockFile) }));
    expect(() => DataDirLock.acquire(dir, 'server', silent)).toThrow(/stop it first$/);
  });

  it('finds an unclean stop no server has recorded: a note first, else a server lock no live process holds; a clean stop or a live server leaves none (upgrade probe F1)', () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const store = join(dir, 'events.sqlite');
    expect(DataDirLock.unrecordedUncleanStop(dir, join(dir, 'read-models.sqlite'), store)).toBeNull();
    DataDirLock.acquireLocalState(dir, join(dir, 'read-models.sqlite'), 'server', silent, store).release();
    expect(DataDirLock.unrecordedUncleanStop(dir, join(dir, 'read-models.sqlite'), store)).toBeNull();
    // A live server (our parent): not stale.
    writeFileSync(join(dir, DATA_DIR_LOCK_FILE), JSON.stringify({ pid: process.ppid, startedAt: 'then', holder: 'server' }));
    expect(DataDirLock.unrecordedUncleanStop(dir, join(dir, 'read-models.sqlite'), store)).toBeNull();
    // Its process gone: pending. A stale rebuild's lock is no server's stop.
    writeFileSync(join(dir, DATA_DIR_LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 1, startedAt: 'then', holder: 'cli rebuild' }));
    expect(DataDirLock.unrecordedUncleanStop(dir, join(dir, 'read-models.sqlite'), store)).toBeNull();
    writeFileSync(join(dir, DATA_DIR_LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 1, startedAt: 'then', holder: 'server' }));
    expect(DataDirLock.unrecordedUncleanStop(dir, join(dir, 'read-models.sqlite'), store)).toEqual({ kind: 'lock', path: join(dir, DATA_DIR_LOCK_FILE), owner: { pid: 2 ** 22 + 1, startedAt: 'then', holder: 'server' } });
    // A note beside the read models' folder's lock (READ_MODEL_PATH elsewhere) comes first.
    const readModels = mkdtempSync(join(tmpdir(), 'lock-read-models-'));
    try {
      writeFileSync(join(readModels, DATA_DIR_LOCK_FILE + UNCLEAN_NOTE_SUFFIX), JSON.stringify({ pid: 7, startedAt: 'before', holder: 'server' }));
      expect(DataDirLock.unrecordedUncleanStop(dir, join(readModels, 'read-models.sqlite'), store)).toEqual({ kind: 'note', path: join(readModels, DATA_DIR_LOCK_FILE + UNCLEAN_NOTE_SUFFIX), owner: { pid: 7, startedAt: 'before', holder: 'server' } });
    } finally {
      rmSync(readModels, { recursive: true, force: true });
    }
  });

  it('also locks the read models\' folder when READ_MODEL_PATH puts them outside DATA_DIR, both or neither', () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const [server, readModels, cli] = ['server-data', 'shared-read-models', 'cli-data'].map((d) => join(dir, d));
    const readModelPath = join(readModels!, 'read-models.sqlite');
    const held = DataDirLock.acquireLocalState(server!, readModelPath, 'server', silent);
    expect(held.holdsStore).toBe(false);
    expect([existsSync(join(server!, DATA_DIR_LOCK_FILE)), existsSync(join(readModels!, DATA_DIR_LOCK_FILE))]).toEqual([true, true]);
    held.release();
    expect([existsSync(join(server!, DATA_DIR_LOCK_FILE)), existsSync(join(readModels!, DATA_DIR_LOCK_FILE))]).toEqual([false, false]);
    // A live server (our parent) holds the read models' folder: a rebuild with a DATA_DIR of its own is refused, and keeps no lock.
    writeFileSync(join(readModels!, DATA_DIR_LOCK_FILE), JSON.stringify({ pid: process.ppid, startedAt: 'then', holder: 'server' }));
    expect(() => DataDirLock.acquireLocalState(cli!, readModelPath, 'cli rebuild', silent)).toThrow(DataDirLockedError);
    expect(existsSync(join(cli!, DATA_DIR_LOCK_FILE))).toBe(false);
    // Read models inside DATA_DIR: one lock.
    const inside = DataDirLock.acquireLocalState(cli!, join(cli!, 'read-models.sqlite'), 'cli rebuild', silent);
    expect(existsSync(join(cli!, DATA_DIR_LOCK_FILE))).toBe(true);
    inside.release();
  });

  it('locks the embedded store\'s file too (<SQLITE_PATH>.lock), first, wherever it is: a live holder refuses another DATA_DIR', () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const [server, other, stores] = ['server-data', 'other-data', 'stores'].map((d) => join(dir, d));
    const sqlitePath = join(stores!, 'events.sqlite');
    const held = DataDirLock.acquireLocalState(server!, join(server!, 'read-models.sqlite'), 'server', silent, sqlitePath);
    expect(JSON.parse(readFileSync(`${sqlitePath}.lock`, 'utf8'))).toMatchObject({ pid: process.pid, holder: 'server' });
    // What makes the server's store a sole writer (SqliteEventStoreOptions.soleWriter).
    expect(held.holdsStore).toBe(true);
    held.release();
    expect(existsSync(`${sqlitePath}.lock`)).toBe(false);
    // A live server (our parent) writes that store: another DATA_DIR on it is refused and takes nothing.
    writeFileSync(`${sqlitePath}.lock`, JSON.stringify({ pid: process.ppid, startedAt: 'then', holder: 'server' }));
    expect(() => DataDirLock.acquireLocalState(other!, join(other!, 'read-models.sqlite'), 'server', silent, sqlitePath)).toThrow(/another Risk Ledger process is using the event store/);
    expect(existsSync(join(other!, DATA_DIR_LOCK_FILE))).toBe(false);
    expect(() => DataDirLock.acquireStore(sqlitePath, 'cli import', silent)).toThrow(DataDirLockedError);
    // Another store in the same folder is another lock.
    DataDirLock.acquireStore(join(stores!, 'other.sqlite'), 'server', silent).release();
  });

  it('takes over a lock whose pid was given to another program since (it started long after the lock), and still refuses its owner (probe 10-c L2)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => other.once('spawn', resolve));
      const started = processStartedAt(other.pid!);
      expect(started).not.toBeNull();
      const lockFile = join(dir, DATA_DIR_LOCK_FILE);
      // Written by the process itself (after it started): a live owner, refused.
      writeFileSync(lockFile, JSON.stringify({ pid: other.pid, startedAt: new Date(started! + 1_000).toISOString(), holder: 'server' }));
      expect(() => DataDirLock.acquire(dir, 'server', silent)).toThrow(DataDirLockedError);
      // Written more than the margin before the process under that pid started: someone else's pid now.
      writeFileSync(lockFile, JSON.stringify({ pid: other.pid, startedAt: new Date(started! - PID_REUSE_MARGIN_MS - 60_000).toISOString(), holder: 'server' }));
      expect(DataDirLock.liveOwner(dir)).toBeNull();
      const lock = DataDirLock.acquire(dir, 'server', silent);
      expect(lock.tookOverFrom).toMatchObject({ pid: other.pid });
      lock.release();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('names its process by boot and start ticks, so that no step of the wall clock makes a live owner look gone or a new one look old (clock probe of 2026-12-06, H1)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const own = DataDirLock.acquire(dir, 'server', silent);
    expect(JSON.parse(readFileSync(join(dir, DATA_DIR_LOCK_FILE), 'utf8')).process).toEqual(processIdentity(process.pid));
    own.release();
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => other.once('spawn', resolve));
      const identity = processIdentity(other.pid!);
      expect(identity).toMatchObject({ bootId: expect.stringMatching(/\S/), startTicks: expect.any(Number) });
      const started = processStartedAt(other.pid!)!;
      const lockFile = join(dir, DATA_DIR_LOCK_FILE);
      // Written by a live server whose clock was 2 h behind: by the clock, its process started long after; by the kernel, it is the one.
      writeFileSync(lockFile, JSON.stringify({ pid: other.pid, startedAt: new Date(started - 2 * 3600_000).toISOString(), holder: 'server', process: identity }));
      expect(() => DataDirLock.acquire(dir, 'cli rebuild', silent)).toThrow(DataDirLockedError);
      expect(DataDirLock.liveOwner(dir)).toMatchObject({ pid: other.pid });
      expect(JSON.parse(readFileSync(lockFile, 'utf8')).startedAt).toBe(new Date(started - 2 * 3600_000).toISOString()); // untouched
      // Its pid given to another program since: taken over, however recent the lock looks by the clock.
      for (const stranger of [{ ...identity!, startTicks: identity!.startTicks - 1 }, { ...identity!, bootId: 'another-boot' }]) {
        writeFileSync(lockFile, JSON.stringify({ pid: other.pid, startedAt: new Date(started + 1_000).toISOString(), holder: 'server', process: stranger }));
        expect(DataDirLock.liveOwner(dir)).toBeNull();
        const lock = DataDirLock.acquire(dir, 'server', silent);
        expect(lock.tookOverFrom).toMatchObject({ pid: other.pid, process: stranger });
        lock.release();
      }
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('a stale lock is taken over under a claim: while a live process holds the claim it waits, then is refused naming it; a claim left by a dead process is cleared', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockFile = join(dir, DATA_DIR_LOCK_FILE);
    const dead = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => dead.once('exit', resolve));
    const staleLock = JSON.stringify({ pid: dead.pid, startedAt: new Date().toISOString(), holder: 'server' });
    writeFileSync(lockFile, staleLock);
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => other.once('spawn', resolve));
      writeFileSync(`${lockFile}.takeover`, JSON.stringify({ pid: other.pid, startedAt: new Date().toISOString(), holder: 'server', process: processIdentity(other.pid!) }));
      const began = performance.now();
      expect(() => DataDirLock.acquire(dir, 'server', silent)).toThrow(/risk-ledger\.lock\.takeover is held by server with pid \d+/);
      expect(performance.now() - began).toBeGreaterThanOrEqual(TAKEOVER_WAIT_MS - 50);
      expect(readFileSync(lockFile, 'utf8')).toBe(staleLock); // left for the claimant
    } finally {
      other.kill('SIGKILL');
    }
    // Its claimant gone: the claim is cleared and the stale lock taken over.
    writeFileSync(`${lockFile}.takeover`, JSON.stringify({ pid: dead.pid, startedAt: new Date().toISOString(), holder: 'server' }));
    const lock = DataDirLock.acquire(dir, 'server', silent);
    expect(lock.tookOverFrom).toMatchObject({ pid: dead.pid });
    expect(existsSync(`${lockFile}.takeover`)).toBe(false);
    lock.release();
  });

  it('refuses beside a holder it cannot see (another PID namespace: the file names a pid that is not, or is this process, here) while that holder keeps the kernel\'s lock; takes it over once the holder is killed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockFile = join(dir, DATA_DIR_LOCK_FILE);
    // Another server's process, as the kernel sees it: SQLite's exclusive lock on risk-ledger.lock.held, kept until it ends.
    const holder = spawn(process.execPath, ['-e', `const Database = require(${JSON.stringify(join(process.cwd(), 'node_modules', 'better-sqlite3'))});
const db = new Database(${JSON.stringify(lockFile + KERNEL_LOCK_SUFFIX)});
db.pragma('journal_mode = MEMORY'); db.pragma('locking_mode = EXCLUSIVE'); db.exec('BEGIN EXCLUSIVE; COMMIT');
process.stdout.write('held'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
      });
      // In two containers each server is pid 1: the file names this very pid, which the pid alone took for a previous life of this process.
      for (const pid of [process.pid, 2 ** 22 + 12345]) {
        const written = JSON.stringify({ pid, startedAt: new Date().toISOString(), holder: 'server', process: { bootId: 'b', startTicks: 1 } });
        writeFileSync(lockFile, written);
        expect(() => DataDirLock.acquire(dir, 'server', silent)).toThrow(/held by server with pid \d+ .*a process this one cannot see \(another container or PID namespace/);
        expect(readFileSync(lockFile, 'utf8')).toBe(written); // untouched
        expect(DataDirLock.liveOwner(dir)).toMatchObject({ pid });
      }
      rmSync(lockFile);
      expect(() => DataDirLock.acquire(dir, 'server', silent)).toThrow(/held by a live process \(its lock file missing or unreadable\)/);
      expect(DataDirLock.liveOwner(dir)).toBe('unreadable');
      writeFileSync(lockFile, JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: 'then', holder: 'server' }));
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((resolve) => holder.once('exit', resolve));
    // The kernel let its lock go with the process: the file's stale lock is taken over.
    expect(DataDirLock.liveOwner(dir)).toBeNull();
    const lock = DataDirLock.acquire(dir, 'server', silent);
    expect(lock.tookOverFrom).toMatchObject({ pid: 2 ** 22 + 12345 });
    lock.release();
    expect(existsSync(lockFile)).toBe(false);
    expect(existsSync(lockFile + KERNEL_LOCK_SUFFIX)).toBe(true); // never removed (see KernelLock)
  });

  it('refuses, naming it, a file at the kernel lock\'s name that is not its database; shares the kernel\'s lock with an earlier hold in the same process', () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const held = join(dir, DATA_DIR_LOCK_FILE + KERNEL_LOCK_SUFFIX);
    writeFileSync(held, 'not a database, something planted here'.repeat(200));
    expect(() => DataDirLock.acquire(dir, 'server', silent)).toThrow(expect.objectContaining({ code: 'SQLITE_NOTADB', message: expect.stringContaining(`${held} is not the lock file this program keeps there`) }));
    expect(existsSync(join(dir, DATA_DIR_LOCK_FILE))).toBe(false);
    rmSync(held);
    // An application started twice in one process (tests): the second hold shares the first; the kernel's lock lasts until both let go.
    const first = DataDirLock.acquire(dir, 'server', silent);
    const second = DataDirLock.acquire(dir, 'server', silent);
    first.release();
    second.release();
    const again = DataDirLock.acquire(dir, 'server', silent);
    expect(again.tookOverFrom).toBeNull();
    again.release();
  });

  // Root only: root may give a file away (and the server's own user could not open a root-owned one again).
  (process.getuid?.() === 0 ? it : it.skip)('run as root (a CLI command with sudo), gives the kernel lock\'s file, which stays, to the owner of its folder', () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    chownSync(dir, 65534, 65534);
    DataDirLock.acquire(dir, 'cli rebuild', silent).release();
    const held = statSync(join(dir, DATA_DIR_LOCK_FILE + KERNEL_LOCK_SUFFIX));
    expect([held.uid, held.gid]).toEqual([65534, 65534]);
  });

  it('watched while held: its files removed are written and locked again at once; its kernel file replaced by one another process holds: lost, said once (container probe of 2026-12-06, H1)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockFile = join(dir, DATA_DIR_LOCK_FILE);
    const held = lockFile + KERNEL_LOCK_SUFFIX;
    const lock = DataDirLock.acquire(dir, 'server', silent);
    const lost: string[] = [];
    lock.watch(silent, (why) => lost.push(why), 20);
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    /** Another process holding SQLite's exclusive lock on `file`: 'held', or 'busy' when it cannot. */
    const holder = (file: string) =>
      spawn(process.execPath, ['-e', `const Database = require(${JSON.stringify(join(process.cwd(), 'node_modules', 'better-sqlite3'))});
try { const db = new Database(${JSON.stringify(file)}, { timeout: 0 });
db.pragma('journal_mode = MEMORY'); db.pragma('locking_mode = EXCLUSIVE'); db.exec('BEGIN EXCLUSIVE; COMMIT'); process.stdout.write('held'); setInterval(() => {}, 1000); }
catch (error) { process.stdout.write('busy'); }`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const said = (child: ReturnType<typeof holder>) => new Promise<string>((resolve) => child.stdout!.once('data', (c: Buffer) => resolve(c.toString())));
    try {
      // An operator "clearing stale locks": both files removed while the server runs.
      rmSync(lockFile);
      rmSync(held);
      await until(() => existsSync(lockFile) && existsSync(held));
      expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toEqual(lock.owner);
      const second = holder(held);
      expect(await said(second)).toBe('busy'); // a second server is refused again
      // A folder put in its place for a moment: the watch goes on (it stopped for good at its first error: re-probe H1).
      rmSync(held);
      mkdirSync(held);
      await new Promise((resolve) => setTimeout(resolve, 100));
      rmSync(held, { recursive: true });
      await until(() => existsSync(held) && statSync(held).isFile());
      expect(await said(holder(held))).toBe('busy');
      // A file another process holds put in its place: lost, and said once.
      const other = holder(`${held}.other`);
      try {
        expect(await said(other)).toBe('held');
        renameSync(`${held}.other`, held);
        await until(() => lost.length > 0);
        expect(lost).toEqual([expect.stringContaining('was removed or replaced while this process held it, and another process holds the lock on the file there now')]);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(lost).toHaveLength(1);
      } finally {
        other.kill('SIGKILL');
      }
    } finally {
      lock.release();
    }
  });

  it("a crashed server's stale lock taken over by a CLI command leaves a note the next server takes as its own finding; a CLI's own stale lock does not (container probe of 2026-12-06, M2)", () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockFile = join(dir, DATA_DIR_LOCK_FILE);
    const crashed = { pid: 2 ** 22 + 12345, startedAt: 'then', holder: 'server' };
    writeFileSync(lockFile, JSON.stringify(crashed));
    const rebuild = DataDirLock.acquire(dir, 'cli rebuild', silent);
    expect(rebuild.tookOverFrom).toEqual(crashed);
    rebuild.release();
    expect(existsSync(lockFile)).toBe(false);
    expect(existsSync(lockFile + UNCLEAN_NOTE_SUFFIX)).toBe(true);
    // A second command meanwhile keeps the first note.
    DataDirLock.acquire(dir, 'cli import', silent).release();
    const server = DataDirLock.acquire(dir, 'server', silent);
    expect(server.tookOverFrom).toEqual(crashed); // the unclean stop is recorded at this start
    server.release();
    expect(existsSync(lockFile + UNCLEAN_NOTE_SUFFIX)).toBe(false);
    const next = DataDirLock.acquire(dir, 'server', silent);
    expect(next.tookOverFrom).toBeNull(); // once
    next.release();
    // A command's own stale lock (it was killed): no server stopped uncleanly, for a command or a server taking it over (re-probe M1).
    writeFileSync(lockFile, JSON.stringify({ ...crashed, holder: 'cli rebuild' }));
    DataDirLock.acquire(dir, 'cli rebuild', silent).release();
    expect(existsSync(lockFile + UNCLEAN_NOTE_SUFFIX)).toBe(false);
    writeFileSync(lockFile, JSON.stringify({ ...crashed, holder: 'cli rebuild' }));
    const afterKilledCommand = DataDirLock.acquire(dir, 'server', silent);
    expect(afterKilledCommand.tookOverFrom).toBeNull();
    afterKilledCommand.release();
  });

  it('locks the store by its one name: through a symbolic link, the lock of its target (re-probe of 2026-12-06, H2: two servers wrote one store)', () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const target = join(dir, 'stores', 'events.sqlite');
    mkdirSync(join(dir, 'stores'));
    writeFileSync(target, '');
    symlinkSync(target, join(dir, 'linked.sqlite'));
    const viaLink = DataDirLock.acquireStore(join(dir, 'linked.sqlite'), 'server', silent);
    expect([existsSync(`${target}.lock`), existsSync(join(dir, 'linked.sqlite.lock'))]).toEqual([true, false]);
    viaLink.release();
  });

  it('takes over a lock copied with its folder (a backup, a copy of a running DATA_DIR) though its process lives: that process holds the original, and the copy starts as after a crash (backup probe of 2026-12-06, F4)', () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockFile = join(dir, DATA_DIR_LOCK_FILE);
    const original = { pid: process.ppid, startedAt: 'then', holder: 'server', file: '/srv/production/data/risk-ledger.lock' };
    writeFileSync(lockFile, JSON.stringify(original));
    expect(DataDirLock.liveOwner(dir)).toBeNull();
    const lock = DataDirLock.acquire(dir, 'server', silent);
    expect(lock.tookOverFrom).toEqual(original); // an unclean stop: requests in flight at the copy may have no access-log entry
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, file: realpathSync(lockFile) });
    lock.release();
    // The same live process, its lock written here: it holds it.
    writeFileSync(lockFile, JSON.stringify({ ...original, file: realpathSync(dir) + '/' + DATA_DIR_LOCK_FILE }));
    expect(() => DataDirLock.acquire(dir, 'server', silent)).toThrow(DataDirLockedError);
    expect(DataDirLock.liveOwner(dir)).toMatchObject({ pid: process.ppid });
    // The embedded store's lock too.
    const store = join(dir, 'events.sqlite');
    writeFileSync(`${store}.lock`, JSON.stringify({ ...original, file: '/srv/production/data/events.sqlite.lock' }));
    DataDirLock.acquireStore(store, 'server', silent).release();
  });

  it('takes over a stale lock (dead pid, or garbage)', () => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    for (const stale of [JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: 'then' }), 'garbage{']) {
      writeFileSync(join(dir, DATA_DIR_LOCK_FILE), stale);
      expect(DataDirLock.liveOwner(dir)).toBeNull();
      const lock = DataDirLock.acquire(dir, 'server', silent);
      expect(JSON.parse(readFileSync(join(dir, DATA_DIR_LOCK_FILE), 'utf8')).pid).toBe(process.pid);
      // What start-up learns: the previous process did not stop cleanly (the access log records it).
      expect(lock.tookOverFrom).toEqual(stale.startsWith('{') ? { pid: 2 ** 22 + 12345, startedAt: 'then' } : 'unreadable');
      lock.release();
    }
    // Released cleanly, then taken again: nothing taken over.
    const clean = DataDirLock.acquireLocalState(dir, join(dir, 'read-models.sqlite'), 'server', silent);
    expect(clean.tookOverStale).toBe(false);
    clean.release();
    writeFileSync(join(dir, DATA_DIR_LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: 'then' }));
    const after = DataDirLock.acquireLocalState(dir, join(dir, 'read-models.sqlite'), 'server', silent);
    expect(after.tookOverStale).toBe(true);
    after.release();
  });
});
