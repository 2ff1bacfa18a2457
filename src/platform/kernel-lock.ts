import { chownSync, closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { inRealFolder } from './real-file-path.js';

/**
 * A lock the kernel holds for this process, released when the process ends however it ends (a
 * SIGKILL, an OOM kill, a crash): SQLite's exclusive file lock (POSIX `fcntl`) on a small
 * file of its own, kept for the life of the connection (`locking_mode = EXCLUSIVE`).
 *
 * Why not the lock file's pid alone: a process in another PID namespace (a second container
 * on the same volume, a rolling update that starts the new container before the old one stops)
 * cannot see the holder's pid, took its lock for stale and wrote to the same store beside it
 * (probe of 2026-12-06 16:29: two servers in two namespaces both served; the second's
 * projections stopped on a UNIQUE constraint and the access log broke, 11 discontinuities).
 * A kernel lock is the same file's lock in every namespace of the host, needs no judgement of
 * who is alive, and no clock.
 *
 * The file is never removed: a process waiting on it while another unlinked it would lock a
 * file no one else opens any more, beside a new one.
 */
export class KernelLock {
  /** Locks this process holds, by file: a second hold in the same process shares the first (SQLite refuses a second connection's lock). */
  private static readonly held = new Map<string, { db: Database.Database; dev: number; ino: number; holders: number }>();
  private released = false;

  private constructor(private readonly key: string) {}

  /**
   * Takes the lock on `file` (created if missing), waiting up to `waitMs` for a process merely
   * looking at it; null when another process holds it.
   */
  static tryAcquire(file: string, waitMs: number): KernelLock | null {
    const key = inRealFolder(file);
    const mine = KernelLock.held.get(key);
    if (mine) {
      mine.holders++;
      return new KernelLock(key);
    }
    const locked = lockFile(key, waitMs);
    if (!locked) return null;
    KernelLock.held.set(key, { ...locked, holders: 1 });
    return new KernelLock(key);
  }

  /**
   * Whether the file at the lock's path is still the one this process locked ('same'). Removed or
   * replaced (an operator clearing "stale" lock files while the server runs), the lock is taken on
   * the file now there, created if missing ('retaken'), before another process starts beside this
   * one; 'lost' when another process holds that file already.
   */
  reassert(): 'same' | 'retaken' | 'lost' {
    const mine = KernelLock.held.get(this.key);
    if (!mine || this.released) return 'lost';
    const now = statSync(this.key, { throwIfNoEntry: false });
    if (now && now.dev === mine.dev && now.ino === mine.ino) return 'same';
    const locked = lockFile(this.key, 0);
    if (!locked) return 'lost';
    // The old file (unlinked, or renamed away) keeps no one out any more: its lock goes with it.
    mine.db.close();
    Object.assign(mine, locked);
    return 'retaken';
  }

  /**
   * Whether another process holds the lock on `file` now (a look that takes it for an instant
   * when it is free: a process taking it meanwhile waits, see tryAcquire's `waitMs`).
   */
  static heldByAnother(file: string): boolean {
    const key = inRealFolder(file);
    if (KernelLock.held.has(key)) return false;
    let db: Database.Database;
    try {
      db = new Database(key, { timeout: 0, readonly: true, fileMustExist: true });
    } catch {
      return false; // never created: no process of this build has held it
    }
    try {
      db.pragma('schema_version');
      return false;
    } catch (error) {
      return (error as { code?: string }).code === 'SQLITE_BUSY';
    } finally {
      db.close();
    }
  }

  /** Lets the lock go (when the last holder in this process releases it). Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const mine = KernelLock.held.get(this.key);
    if (!mine || --mine.holders > 0) return;
    KernelLock.held.delete(this.key);
    mine.db.close();
  }
}

/** SQLite's exclusive lock on `key`, kept for the connection's life; null when another process holds it. */
function lockFile(key: string, waitMs: number): { db: Database.Database; dev: number; ino: number } | null {
  // Created (or opened for writing) by Node first: a folder or file this process may not write is
  // then `EACCES: permission denied, open '<file>'`, as for the lock file itself, where SQLite
  // says only "unable to open database file" (or, for a file it may only read, opened it read-only
  // and took a shared lock that kept no one out: container probe of 2026-12-06, H2).
  // Its identity is read here, before SQLite locks it: closing any descriptor of the file after
  // that would let the lock go (POSIX locks are the process's, per file). Removed or replaced
  // between this and SQLite's open, the watch finds it another file and locks that (reassert).
  const fd = openSync(key, 'a');
  let dev: number;
  let ino: number;
  try {
    ({ dev, ino } = fstatSync(fd));
  } finally {
    closeSync(fd);
  }
  givenToFolderOwner(key);
  const db = new Database(key, { timeout: waitMs });
  try {
    // No journal file beside it; the lock, once taken by the first transaction, kept until close.
    db.pragma('journal_mode = MEMORY');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (error) {
    db.close();
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_BUSY') return null;
    // Said in one line (its code marks it the environment's, not a fault of ours: reportStartFailure).
    if (code === 'SQLITE_NOTADB') throw Object.assign(new Error(`${key} is not the lock file this program keeps there (${(error as Error).message}); remove it if no Risk Ledger process runs`), { code });
    throw Object.assign(new Error(`${key}: the lock could not be taken (${(error as Error).message})`), { code });
  }
  return { db, dev, ino };
}

/**
 * The file stays after its process (see above), so one made by root (a CLI command run with sudo)
 * would keep the server, another user, from ever opening it again: root gives it to the owner of
 * its folder, as a rebuild run as root keeps the read models' owner.
 */
function givenToFolderOwner(file: string): void {
  if (process.getuid?.() !== 0) return;
  const folder = statSync(dirname(file));
  const own = statSync(file);
  if (own.uid !== folder.uid || own.gid !== folder.gid) chownSync(file, folder.uid, folder.gid);
}

