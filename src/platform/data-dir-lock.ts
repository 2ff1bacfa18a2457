import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { JsonLogger } from '../shared/logging/json-logger.js';

/** Name of the lock file in DATA_DIR. */
export const DATA_DIR_LOCK_FILE = 'risk-ledger.lock';

export interface DataDirLockOwner {
  pid: number;
  startedAt: string;
  /** What holds it: 'server' or 'cli rebuild'. */
  holder?: string;
  /** Which process it is, in terms no wall clock moves (Linux; absent in locks of builds before 2026-12-06): processIdentity. */
  process?: ProcessIdentity;
}

/**
 * A process told apart from any other that is given its pid later: the boot it runs in and when
 * it started, in clock ticks since that boot. Both come from the kernel and no step of the wall
 * clock changes them: a server started with its clock 2 h behind and then corrected was taken for
 * a process that started long after its own lock, and a second server took over its store
 * (clock probe of 2026-12-06, H1).
 */
export interface ProcessIdentity {
  bootId: string;
  startTicks: number;
}

/** The locks of a process's local state, held together. */
export interface LocalStateLock {
  release(): void;
  /** Whether one of them was stale, taken over: the process that held it did not stop cleanly (a SIGKILL, an OOM kill, a crash). */
  tookOverStale: boolean;
  /** Whether the embedded store's file is among them (acquireStore): then no other process commits to it (SqliteEventStoreOptions.soleWriter). */
  holdsStore: boolean;
}

/** The folder's local state is in use by another live process. */
export class DataDirLockedError extends Error {
  constructor(
    readonly lockFile: string,
    readonly owner: DataDirLockOwner,
    what = 'this DATA_DIR',
  ) {
    super(
      `${lockFile} is held by ${owner.holder ?? 'a process'} with pid ${owner.pid} (started ${owner.startedAt}): ` +
        `another Risk Ledger process is using ${what}; stop it first`,
    );
    this.name = 'DataDirLockedError';
  }
}

/**
 * "One process owns DATA_DIR's local state": the server holds `DATA_DIR/risk-ledger.lock`
 * ({pid, startedAt}, created exclusively) from start to shutdown, and `npm run cli -- rebuild`
 * refuses to touch the read models while a live process holds it. A lock whose pid is no longer
 * alive (a SIGKILL, a crash) is stale and is taken over with a warning. It guards against
 * mistakes, not against an adversary: a process on another host sharing the folder is not seen.
 */
export class DataDirLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(
    readonly file: string,
    readonly owner: DataDirLockOwner,
    /** The process whose stale lock this one took over (it did not stop cleanly), or null. */
    readonly tookOverFrom: DataDirLockOwner | 'unreadable' | null = null,
  ) {
    // A process.exit() (a failed start-up) still removes it; a SIGKILL leaves it stale.
    process.once('exit', this.onExit);
  }

  /** Takes the lock or throws DataDirLockedError when a live process holds it. */
  static acquire(dataDir: string, holder: string, logger: JsonLogger): DataDirLock {
    return DataDirLock.acquireFile(join(dataDir, DATA_DIR_LOCK_FILE), holder, logger, 'this DATA_DIR');
  }

  /**
   * The embedded event store's writer lock, `<SQLITE_PATH>.lock`: the store keeps its head (position,
   * chain link) in memory, so a second process appending to the same file forks the hash chain.
   * Two servers given different DATA_DIRs (SQLITE_PATH keeps its default) did exactly that.
   */
  static acquireStore(sqlitePath: string, holder: string, logger: JsonLogger): DataDirLock {
    return DataDirLock.acquireFile(`${resolve(sqlitePath)}.lock`, holder, logger, `the event store ${resolve(sqlitePath)}`);
  }

  private static acquireFile(file: string, holder: string, logger: JsonLogger, what: string): DataDirLock {
    mkdirSync(dirname(file), { recursive: true });
    const identity = processIdentity(process.pid);
    const owner: DataDirLockOwner = { pid: process.pid, startedAt: new Date().toISOString(), holder, ...(identity ? { process: identity } : {}) };
    const text = JSON.stringify(owner) + '\n';
    const claim = `${file}.takeover`;
    const giveUpAt = performance.now() + TAKEOVER_WAIT_MS;
    for (;;) {
      if (createExclusively(file, text)) return new DataDirLock(file, owner, null);
      const current = readLockOwner(file);
      if (current && isAlive(current)) throw new DataDirLockedError(file, current, what);
      // A stale lock is taken over by one process at a time, under a claim created exclusively: two
      // processes that both judged it stale could each remove the lock the other had just written,
      // and both hold it (seen in the code by the rebuild probe of 2026-12-06).
      if (!createExclusively(claim, text)) {
        const claimant = readLockOwner(claim);
        const late = performance.now() > giveUpAt;
        if (claimant && isAlive(claimant)) {
          if (late) throw new DataDirLockedError(claim, claimant, what);
        } else if (claimant || late) {
          // Left by a process that ended while taking over (unreadable: being written this very moment, or garbage once late).
          rmSync(claim, { force: true });
        }
        sleepSync(5);
        continue;
      }
      try {
        // Looked at again under the claim: taken over meanwhile by the process that held it before.
        const again = readLockOwner(file);
        if (again && isAlive(again)) throw new DataDirLockedError(file, again, what);
        rmSync(file, { force: true });
        // A process that found no lock at all may have written its own meanwhile: it holds it.
        if (!createExclusively(file, text)) continue;
        logger.warn(`stale ${what === 'this DATA_DIR' ? 'DATA_DIR' : 'event store'} lock taken over: its process is gone`, { lockFile: file, staleOwner: again ?? 'unreadable', holder });
        return new DataDirLock(file, owner, again ?? 'unreadable');
      } finally {
        rmSync(claim, { force: true });
      }
    }
  }

  /**
   * The locks of a process that writes the read models (and, given `sqliteStore`, appends to the
   * embedded store: acquireStore): DATA_DIR's, and that of the read-model
   * file's folder when READ_MODEL_PATH puts it elsewhere. A rebuild pointed at a live server's read
   * models through READ_MODEL_PATH alone, with a DATA_DIR of its own, met no lock and rebuilt them
   * under the server. Both are taken or neither.
   */
  static acquireLocalState(dataDir: string, readModelPath: string, holder: string, logger: JsonLogger, sqliteStore?: string): LocalStateLock {
    const folders = [resolve(dataDir)];
    if (readModelPath !== ':memory:') {
      const readModels = dirname(resolve(readModelPath));
      if (readModels !== folders[0]) folders.push(readModels);
    }
    const held: DataDirLock[] = [];
    try {
      // The store first: a second server on the same file is refused before it touches any local state.
      if (sqliteStore !== undefined) held.push(DataDirLock.acquireStore(sqliteStore, holder, logger));
      for (const folder of folders) held.push(DataDirLock.acquire(folder, holder, logger));
    } catch (error) {
      for (const lock of held) lock.release();
      throw error;
    }
    return { release: () => held.forEach((lock) => lock.release()), tookOverStale: held.some((lock) => lock.tookOverFrom !== null), holdsStore: sqliteStore !== undefined };
  }

  /** The live holder of DATA_DIR's lock, or null when it is free or stale. */
  static liveOwner(dataDir: string): DataDirLockOwner | null {
    const owner = readLockOwner(join(dataDir, DATA_DIR_LOCK_FILE));
    return owner && isAlive(owner) ? owner : null;
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    const current = readLockOwner(this.file);
    if (current && current.pid === this.owner.pid && current.startedAt === this.owner.startedAt) rmSync(this.file, { force: true });
  }
}

function readLockOwner(file: string): DataDirLockOwner | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DataDirLockOwner>;
    if (typeof parsed.pid !== 'number' || !Number.isSafeInteger(parsed.pid) || parsed.pid <= 0) return null;
    const identity = parsed.process;
    const known = identity && typeof identity.bootId === 'string' && identity.bootId !== '' && Number.isSafeInteger(identity.startTicks);
    return { pid: parsed.pid, startedAt: String(parsed.startedAt ?? ''), ...(parsed.holder ? { holder: String(parsed.holder) } : {}), ...(known ? { process: { bootId: identity.bootId, startTicks: identity.startTicks } } : {}) };
  } catch {
    return null; // missing, half-written or garbage: no live owner can be named
  }
}

/**
 * Whether the lock's owner is a live process other than this one. Our own pid in an old lock file
 * is a previous life of this process id (a container restarted as pid 1), or an earlier
 * application of this same process that did not release it (tests): not another owner. A live
 * process under the lock's pid that is not the one that wrote the lock is another program that was
 * given the pid again: a stale lock blocked every start (operations probe 10-c L2). Which process
 * wrote it, the lock says (processIdentity); a lock of an older build, by when it was written.
 */
function isAlive(owner: DataDirLockOwner): boolean {
  if (owner.pid === process.pid) return false;
  let permitted = true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
    permitted = false;
  }
  if (owner.process) {
    const now = processIdentity(owner.pid);
    if (now) return now.bootId === owner.process.bootId && now.startTicks === owner.process.startTicks;
  }
  if (!permitted) return true;
  const started = processStartedAt(owner.pid);
  const locked = Date.parse(owner.startedAt);
  // An owner writes its lock after it starts. The margin is wide on purpose: a wall clock stepped
  // forward after the lock was written moves the start computed here (boot time + ticks) with it,
  // and a live owner taken for gone would let a second process write the same files.
  return started === null || Number.isNaN(locked) || started <= locked + PID_REUSE_MARGIN_MS;
}

/** How long a start waits for another process taking over the same stale lock before it is refused. */
export const TAKEOVER_WAIT_MS = 2_000;

/** Writes `file` only if it does not exist: false when it does. */
function createExclusively(file: string, text: string): boolean {
  try {
    writeFileSync(file, text, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** A pause of the whole thread: taking a lock happens once, at a start, before anything else runs. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** How much later than its lock a process under the lock's pid must have started to be another program. */
export const PID_REUSE_MARGIN_MS = 60 * 60_000;

/** The process under `pid` now (Linux's /proc): null elsewhere, or when it is gone or unreadable. */
export function processIdentity(pid: number): ProcessIdentity | null {
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ticks = startTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return bootId !== '' && Number.isSafeInteger(ticks) ? { bootId, startTicks: ticks } : null;
  } catch {
    return null;
  }
}

/** Field 22 of /proc/<pid>/stat, in clock ticks since boot; the fields after the command name, which may hold spaces and parentheses, are counted from its last ')'. */
function startTicks(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** When a process started (ms since the epoch), from Linux's /proc; null elsewhere or when unreadable. */
export function processStartedAt(pid: number): number | null {
  try {
    const ticks = startTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    // USER_HZ is 100 on every Linux Node supports (sysconf(_SC_CLK_TCK) is not reachable from Node).
    return Number.isFinite(ticks) && Number.isFinite(boot) ? boot * 1000 + ticks * 10 : null;
  } catch {
    return null;
  }
}
