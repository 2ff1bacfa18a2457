import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_DIR_LOCK_FILE, DataDirLock, DataDirLockedError, PID_REUSE_MARGIN_MS, processIdentity, processStartedAt, TAKEOVER_WAIT_MS } from '../../../src/platform/data-dir-lock.js';
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
    expect(DataDirLock.liveOwner(dir)?.pid).toBe(process.ppid);
    expect(JSON.parse(readFileSync(join(dir, DATA_DIR_LOCK_FILE), 'utf8')).pid).toBe(process.ppid); // untouched
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
      expect(DataDirLock.liveOwner(dir)?.pid).toBe(other.pid);
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
