import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { JsonLogger } from '../shared/logging/json-logger.js';
import { KernelLock } from './kernel-lock.js';
import { realFilePath } from './real-file-path.js';
import { DATA_DIR_LOCK_FILE, KERNEL_LOCK_SUFFIX } from '../config/own-files.js';

/** How long a start waits for the kernel's lock while another process only looks at it (liveOwner). */
export const KERNEL_LOCK_WAIT_MS = 1_000;

export interface DataDirLockOwner {
  pid: number;
  startedAt: string;
  /** What holds it: 'server' or 'cli rebuild'. */
  holder?: string;
  /** Which process it is, in terms no wall clock moves (Linux; absent in locks of builds before 2026-12-06): processIdentity. */
  process?: ProcessIdentity;
  /**
   * The lock file's own real path when it was written (absent in locks of builds before 2026-12-07,
   * which held no kernel lock either). A lock naming another path was copied with its folder (a
   * backup, a copy of a running server's DATA_DIR): its process holds the original, not this one.
   */
  file?: string;
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
  /** DataDirLock.watch on each of them (the server's, while it runs). */
  watch(logger: JsonLogger, onLost: (why: string) => void): void;
  /** Whether one of them was stale, taken over: the process that held it did not stop cleanly (a SIGKILL, an OOM kill, a crash). */
  tookOverStale: boolean;
  /** Whether the embedded store's file is among them (acquireStore): then no other process commits to it (SqliteEventStoreOptions.soleWriter). */
  holdsStore: boolean;
}

/** The folder's local state is in use by another live process. */
export class DataDirLockedError extends Error {
  constructor(
    readonly lockFile: string,
    /** What the lock file says of its holder; null when it says nothing readable (the kernel's lock is held all the same). */
    readonly owner: DataDirLockOwner | null,
    what = 'this DATA_DIR',
    /** Whether that holder is out of this process's sight (another container or PID namespace) and known only by the kernel's lock. */
    unseen = false,
  ) {
    super(
      `${lockFile} is held by ${describeOwner(owner)}` +
        (unseen ? ', a process this one cannot see (another container or PID namespace on this host) that holds the lock' : '') +
        `: another Risk Ledger process is using ${what}; stop it first` +
        // A lock of a build before 2026-12-07 names no path and holds no kernel lock: a copy of its
        // folder (cp -a of a running DATA_DIR) names a live process that runs elsewhere (upgrade probe F3).
        (owner !== null && owner.file === undefined && !unseen
          ? `. The lock was written by a build before 2026-12-07, which does not say which folder it locked: if this folder is a copy of a running server's files, that server runs on the original; then remove ${lockFile} here and start again`
          : ''),
    );
    this.name = 'DataDirLockedError';
  }
}

function describeOwner(owner: DataDirLockOwner | null): string {
  return owner ? `${owner.holder ?? 'a process'} with pid ${owner.pid} (started ${owner.startedAt})` : 'a live process (its lock file missing or unreadable)';
}

/**
 * "One process owns DATA_DIR's local state": the server holds `DATA_DIR/risk-ledger.lock`
 * ({pid, startedAt}, created exclusively) from start to shutdown, and `npm run cli -- rebuild`
 * refuses to touch the read models while a live process holds it. A lock whose pid is no longer
 * alive (a SIGKILL, a crash) is stale and is taken over with a warning. Who is alive is the
 * kernel's to say: each holder also holds a kernel lock beside the file (KernelLock,
 * `<lock>.held`), which ends with its process and is seen from every container of the host; the
 * file's pid names the holder, and still refuses a start beside a live process of a build before
 * that lock. It guards against mistakes, not against an adversary: a process on another host
 * sharing the folder is seen only where the file system shares POSIX locks.
 */
export class DataDirLock {
  private released = false;
  private watcher: NodeJS.Timeout | undefined;
  private readonly onExit = () => this.release();

  private constructor(
    readonly file: string,
    readonly owner: DataDirLockOwner,
    private readonly kernel: KernelLock,
    /** The process whose stale lock this one took over (it did not stop cleanly), or null. */
    public tookOverFrom: DataDirLockOwner | 'unreadable' | null = null,
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
    return DataDirLock.acquireFile(storeLockFile(sqlitePath), holder, logger, `the event store ${realFilePath(sqlitePath)}`);
  }

  private static acquireFile(file: string, holder: string, logger: JsonLogger, what: string): DataDirLock {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 }); // DATA_DIR when it is made: the register, for this user only
    file = realFilePath(file);
    const kernel = KernelLock.tryAcquire(`${file}${KERNEL_LOCK_SUFFIX}`, KERNEL_LOCK_WAIT_MS);
    if (!kernel) {
      const named = readLockOwner(file);
      throw new DataDirLockedError(file, named, what, named !== null && !isAlive(named));
    }
    try {
      return DataDirLock.writeFile(file, holder, logger, what, kernel).passOnUncleanStop();
    } catch (error) {
      kernel.release();
      throw error;
    }
  }

  /** Under the kernel's lock: the file written, or taken over from a process that is gone. */
  private static writeFile(file: string, holder: string, logger: JsonLogger, what: string, kernel: KernelLock): DataDirLock {
    const identity = processIdentity(process.pid);
    const owner: DataDirLockOwner = { pid: process.pid, startedAt: new Date().toISOString(), holder, ...(identity ? { process: identity } : {}), file };
    const text = JSON.stringify(owner) + '\n';
    const claim = `${file}.takeover`;
    const giveUpAt = performance.now() + TAKEOVER_WAIT_MS;
    for (;;) {
      if (createExclusively(file, text)) return new DataDirLock(file, owner, kernel, null);
      const current = readLockOwner(file);
      if (current && holdsThis(current, file)) throw new DataDirLockedError(file, current, what);
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
        if (again && holdsThis(again, file)) throw new DataDirLockedError(file, again, what);
        rmSync(file, { force: true });
        // A process that found no lock at all may have written its own meanwhile: it holds it.
        if (!createExclusively(file, text)) continue;
        const copied = again !== null && copiedLock(again, file);
        logger.warn(
          `stale ${what === 'this DATA_DIR' ? 'DATA_DIR' : 'event store'} lock taken over: ${copied ? `it was copied from ${again.file} (a backup or a copy of a running server's files), whose process holds that one, not this` : 'its process is gone'}`,
          { lockFile: file, staleOwner: again ?? 'unreadable', holder },
        );
        return new DataDirLock(file, owner, kernel, again ?? 'unreadable');
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
    const folders = localStateFolders(dataDir, readModelPath);
    const held: DataDirLock[] = [];
    try {
      // The store first: a second server on the same file is refused before it touches any local state.
      if (sqliteStore !== undefined) held.push(DataDirLock.acquireStore(sqliteStore, holder, logger));
      for (const folder of folders) held.push(DataDirLock.acquire(folder, holder, logger));
    } catch (error) {
      for (const lock of held) lock.release();
      throw error;
    }
    return {
      release: () => held.forEach((lock) => lock.release()),
      watch: (logger, onLost) => held.forEach((lock) => lock.watch(logger, onLost)),
      tookOverStale: held.some((lock) => lock.tookOverFrom !== null),
      holdsStore: sqliteStore !== undefined,
    };
  }

  /** The live holder of DATA_DIR's lock (what its file says, 'unreadable' when nothing), or null when it is free or stale. */
  static liveOwner(dataDir: string): DataDirLockOwner | 'unreadable' | null {
    return liveOwnerOf(join(dataDir, DATA_DIR_LOCK_FILE));
  }

  /**
   * A server's unclean stop that no server has recorded yet, in any place acquireLocalState locks:
   * a note a command left (passOnUncleanStop), or a lock no live process holds whose holder was a
   * server (SIGKILL, a crash, a power cut: a clean stop removes it). Its next start records it
   * (UncleanStopRecovered); a copy of the files must carry it, or the requests in flight at that
   * stop are changes without entries for good (upgrade probe of 2026-12-07, F1: a backup of a
   * crashed installation said nothing of it, and the restored access log was BROKEN two minutes on).
   */
  static unrecordedUncleanStop(dataDir: string, readModelPath: string, sqliteStore?: string): { kind: 'note' | 'lock'; path: string; owner: DataDirLockOwner | 'unreadable' } | null {
    const locks = localStateLockFiles(dataDir, readModelPath, sqliteStore);
    for (const note of locks.map((lock) => lock + UNCLEAN_NOTE_SUFFIX)) if (existsSync(note)) return { kind: 'note', path: note, owner: readLockOwner(note) ?? 'unreadable' };
    for (const lock of locks) {
      if (!existsSync(lock) || liveOwnerOf(lock) !== null) continue;
      const owner = readLockOwner(lock);
      if (owner === null || (owner.holder ?? SERVER_HOLDER) === SERVER_HOLDER) return { kind: 'lock', path: lock, owner: owner ?? 'unreadable' };
    }
    return null;
  }

  /**
   * Looks at the lock every `everyMs` while it is held (a server's, from start to shutdown). Its
   * kernel file removed or replaced (an operator clearing "stale" lock files: a second server in
   * another container then started beside this one, container probe of 2026-12-06, H1) is locked
   * again at once; its file, gone or garbage, written again. `onLost` when another process holds
   * the kernel's lock by then: two writers, and this one is to give way. A file naming another
   * process (a build before the kernel's lock wrote its own over this one's) is said in an error line.
   */
  watch(logger: JsonLogger, onLost: (why: string) => void, everyMs = LOCK_WATCH_MS): void {
    if (this.watcher || this.released) return;
    let complained = false;
    let failing = false;
    this.watcher = setInterval(() => {
      try {
        const kernel = this.kernel.reassert();
        if (kernel === 'lost') {
          clearInterval(this.watcher);
          onLost(`${this.file}${KERNEL_LOCK_SUFFIX} was removed or replaced while this process held it, and another process holds the lock on the file there now`);
          return;
        }
        if (kernel === 'retaken') logger.warn('lock file removed or replaced while the server held it: locked again', { lockFile: `${this.file}${KERNEL_LOCK_SUFFIX}` });
        const current = readLockOwner(this.file);
        if (current === null) {
          // Written beside and renamed over: a reader never meets half of it.
          try {
            writeFileSync(`${this.file}.writing`, JSON.stringify(this.owner) + '\n');
            renameSync(`${this.file}.writing`, this.file);
          } finally {
            rmSync(`${this.file}.writing`, { force: true }); // a disk full left it empty
          }
          logger.warn('lock file removed or damaged while the server held it: written again', { lockFile: this.file });
        } else if (current.pid !== process.pid && !complained) {
          complained = true;
          logger.error('another process wrote its lock over this one\'s (a build before the kernel\'s lock?): two processes may be writing the same files; stop one', { lockFile: this.file, other: current, holder: this.owner });
        }
        if (failing) logger.info('the lock can be looked at again', { lockFile: this.file });
        failing = false;
      } catch (error) {
        // A file removed between two steps, a folder put in its place, a disk full: looked at
        // again at the next turn, said once until then. It stopped for good at the first error,
        // and a second server then started beside this one (re-probe of 2026-12-06, H1).
        if (!failing) logger.warn('the lock could not be looked at: trying again every second', { lockFile: this.file, error: (error as Error).message });
        failing = true;
      }
    }, everyMs);
    this.watcher.unref();
  }

  /**
   * A stale lock says the process that held it did not stop cleanly, which the server records at
   * its start (the access log's UncleanStopRecovered: what that process committed may have no
   * entry). A CLI command that takes one over (import, rebuild, run before the server after a
   * crash) leaves a note (`<lock>.unclean`) that the next server takes as its own finding: it found
   * the lock free, recorded nothing, and the access log was BROKEN for good two minutes later
   * (container probe of 2026-12-06, M2).
   */
  private passOnUncleanStop(): DataDirLock {
    const note = `${this.file}${UNCLEAN_NOTE_SUFFIX}`;
    // Only a server's (or an unnamed holder's) unclean stop is the server's to record: a killed
    // command answered no request (a server recorded one for a SIGKILLed rebuild, and excused
    // requests of its own without entries: re-probe of 2026-12-06, M1).
    const stale = this.tookOverFrom;
    const serverStop = stale !== null && (stale === 'unreadable' || (stale.holder ?? SERVER_HOLDER) === SERVER_HOLDER);
    if (this.owner.holder !== SERVER_HOLDER) {
      if (serverStop) createExclusively(note, JSON.stringify(stale) + '\n');
      return this;
    }
    if (!serverStop) this.tookOverFrom = null;
    let noted: string;
    try {
      noted = readFileSync(note, 'utf8');
    } catch {
      return this;
    }
    rmSync(note, { force: true });
    if (this.tookOverFrom === null) {
      const owner = readLockOwnerText(noted);
      this.tookOverFrom = owner ?? 'unreadable';
    }
    return this;
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    clearInterval(this.watcher);
    process.removeListener('exit', this.onExit);
    const current = readLockOwner(this.file);
    if (current && current.pid === this.owner.pid && current.startedAt === this.owner.startedAt) rmSync(this.file, { force: true });
    // After the file: the next holder never finds this process's file beside a free kernel lock.
    this.kernel.release();
  }
}

/** The live holder of the lock `file` (what it says, 'unreadable' when nothing), or null when it is free or stale. */
function liveOwnerOf(file: string): DataDirLockOwner | 'unreadable' | null {
  const owner = readLockOwner(file);
  if (owner && holdsThis(owner, realFilePath(file))) return owner;
  return KernelLock.heldByAnother(`${file}${KERNEL_LOCK_SUFFIX}`) ? (owner ?? 'unreadable') : null;
}

function readLockOwner(file: string): DataDirLockOwner | null {
  try {
    return readLockOwnerText(readFileSync(file, 'utf8'));
  } catch {
    return null; // missing or unreadable
  }
}

function readLockOwnerText(text: string): DataDirLockOwner | null {
  try {
    const parsed = JSON.parse(text) as Partial<DataDirLockOwner>;
    if (typeof parsed.pid !== 'number' || !Number.isSafeInteger(parsed.pid) || parsed.pid <= 0) return null;
    const identity = parsed.process;
    const known = identity && typeof identity.bootId === 'string' && identity.bootId !== '' && Number.isSafeInteger(identity.startTicks);
    return {
      pid: parsed.pid,
      startedAt: String(parsed.startedAt ?? ''),
      ...(parsed.holder ? { holder: String(parsed.holder) } : {}),
      ...(known ? { process: { bootId: identity.bootId, startTicks: identity.startTicks } } : {}),
      ...(typeof parsed.file === 'string' && parsed.file !== '' ? { file: parsed.file } : {}),
    };
  } catch {
    return null; // missing, half-written or garbage: no live owner can be named
  }
}

/**
 * Whether the process a lock file names holds that lock: it is alive, and the file was written
 * where it is now. A lock of this build copied from elsewhere with its folder names the process of
 * the original (alive, on the same host): a copy of a running DATA_DIR was refused "stop it first",
 * naming the production server (backup probe of 2026-12-06, F4). Whoever reads it here holds the
 * kernel's lock on this file already, which that process, had it written this file, would hold.
 */
function holdsThis(owner: DataDirLockOwner, file: string): boolean {
  return !copiedLock(owner, file) && isAlive(owner);
}

function copiedLock(owner: DataDirLockOwner, file: string): boolean {
  return owner.file !== undefined && owner.file !== file;
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


/** What the server's locks say holds them (the CLI's say what command). */
export const SERVER_HOLDER = 'server';

/** Beside a lock file, the note of a stale lock a CLI command took over (passOnUncleanStop). */
export const UNCLEAN_NOTE_SUFFIX = '.unclean';

/** DATA_DIR's note of an unclean stop, and its name in a backup (which carries the stop of the server it copied). */
export const UNCLEAN_NOTE_FILE = DATA_DIR_LOCK_FILE + UNCLEAN_NOTE_SUFFIX;

/** The folders whose lock a process writing the read models takes (acquireLocalState): DATA_DIR, and the read-model file's when elsewhere. */
function localStateFolders(dataDir: string, readModelPath: string): string[] {
  const folders = [resolve(dataDir)];
  if (readModelPath !== ':memory:') {
    const readModels = dirname(resolve(readModelPath));
    if (readModels !== folders[0]) folders.push(readModels);
  }
  return folders;
}

/** The event store's lock file, beside the file SQLITE_PATH resolves to (acquireStore). */
function storeLockFile(sqlitePath: string): string {
  return `${realFilePath(sqlitePath)}.lock`;
}

/** Every lock acquireLocalState takes: the store's (given `sqliteStore`), DATA_DIR's, and the read models' folder's when elsewhere. */
function localStateLockFiles(dataDir: string, readModelPath: string, sqliteStore?: string): string[] {
  const locks = localStateFolders(dataDir, readModelPath).map((folder) => join(folder, DATA_DIR_LOCK_FILE));
  if (sqliteStore !== undefined) locks.unshift(storeLockFile(sqliteStore));
  return locks;
}

/**
 * Every place a note of an unclean stop can wait for the next server (passOnUncleanStop): beside
 * each lock acquireLocalState takes, the store's included. verify-access-log names the one it finds
 * and restore moves those outside DATA_DIR aside; each had its own list, and they disagreed.
 */
export function uncleanNotePaths(dataDir: string, readModelPath: string, sqliteStore?: string): string[] {
  return localStateLockFiles(dataDir, readModelPath, sqliteStore).map((lock) => lock + UNCLEAN_NOTE_SUFFIX);
}

/** How often a held lock is looked at (DataDirLock.watch). */
export const LOCK_WATCH_MS = 1_000;

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
