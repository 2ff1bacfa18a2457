/**
 * Step 4 of `risk-ledger restore` (restore-command.ts): what is in the way moved aside, the
 * verified copies renamed into place, under the mark of an unfinished restore (restore-marker.ts).
 *
 * Killed midway, the same restore run again finishes the job in the same folder of replaced files
 * (re-probe of 2026-12-07, M1: a second `before-restore-*` folder took the rest, the result named
 * only that one, and a second kill left the mark naming a folder that never existed). A file in
 * the way that is also in the folder of replaced files is a copy (a key kept in place, a copy the
 * killed run put in place: the installation's own was moved, not copied) and is removed; any other
 * is moved aside, never removed, whatever the mark's phase says: a run killed while it moved
 * files back after a failure (or files moved back by hand) left originals in DATA_DIR under a
 * mark saying 'placing', and a re-run that trusted the phase deleted the original log (re-probe of
 * 2026-12-07 08:52, H1). At worst a copy of a file the installation lacked is kept as replaced.
 */
import { chmodSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { AppConfig } from '../config/app-config.js';
import { uncleanNotePaths } from '../platform/data-dir-lock.js';
import { markRestoreFinished, markRestoreStarted, RESTORE_MARKER, type RestoreMark } from '../platform/restore-marker.js';
import { DEV_SECRET_FILE } from '../config/own-files.js';
import { syncDirectoryNow, syncFileNow } from '../shared/application/durable-files.js';
import { evidenceDir, isWithin } from './backup-command.js';
import { giveOwner } from './database-file-swap.js';
import { log } from './evidence-commands.js';
import { UsageError } from './usage-error.js';

/** One file of the backup and where it goes. */
export interface Placement {
  name: string;
  target: string;
  /** Where its copy is made before it is put in place. */
  staged: string;
  sqlite: boolean;
}

/** A rename done while putting the copies in place, to undo if a later one fails. */
type Move = [from: string, to: string];

export const SQLITE_SIDE_FILES = ['-wal', '-shm', '-journal'];

/** Where the replaced files go: one folder in DATA_DIR, and `<file>.before-restore-<stamp>` beside each file elsewhere. */
export interface AsidePlaces {
  dir: string;
  stamp: string;
  /** Where `path` (a file of the installation) is kept once moved aside. */
  of(path: string): string;
}

/** The places of a new restore, or those of the interrupted one its mark names. */
export function asidePlaces(config: AppConfig, resumed: RestoreMark | null): AsidePlaces {
  const dataDir = resolve(config.dataDir);
  const dir = resumed?.movedAsideTo ?? join(dataDir, `before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const stamp = basename(dir).slice('before-restore-'.length);
  return { dir, stamp, of: (path) => (isWithin(path, dataDir) ? join(dir, relative(dataDir, path)) : `${path}.before-restore-${stamp}`) };
}

/** The installation's development token secret and signing key, when the backup brings none of its own: they stay (tokens and signatures go on). */
export function keptFiles(config: AppConfig, places: Placement[]): string[] {
  return [join(resolve(config.dataDir), DEV_SECRET_FILE), config.signing.keyPath].filter((kept): kept is string => kept !== null && !places.some((p) => p.target === kept));
}

/** Each kept file missing from its place (moved aside by a restore killed before it copied it back: M2) copied back from where it was kept. */
export function bringBackKeptFiles(config: AppConfig, places: Placement[], aside: AsidePlaces): void {
  for (const kept of keptFiles(config, places)) if (!existsSync(kept) && existsSync(aside.of(kept))) copyInto(aside.of(kept), kept);
}

/** A copy (cloned where the file system can) with the mode of its source, fsynced. */
export function copyInto(source: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  copyFileSync(source, target, constants.COPYFILE_FICLONE);
  chmodSync(target, statSync(source).mode & 0o777);
  syncFileNow(target);
}

/** Step 4. Returns where the replaced files are. A failure moves back what this run moved and says so. */
export function putInPlace(config: AppConfig, places: Placement[], staging: string, backup: string, aside: AsidePlaces, resumed: RestoreMark | null): string[] {
  const dataDir = resolve(config.dataDir);
  const asideDir = aside.dir;
  const held = new Set([staging, asideDir, resolve(evidenceDir(config))]);
  const dataDirOwner = statSync(dataDir);
  const kept = new Set(keptFiles(config, places));
  const moves: Move[] = [];
  const keptCopies: string[] = [];
  const move = (from: string, to: string) => {
    if (!existsSync(dirname(to))) {
      mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
      giveOwner(dirname(to), dataDirOwner); // its owner can clear it away
    }
    renameSync(from, to);
    moves.push([from, to]);
  };
  /**
   * Whether what is at `path` (+ `suffix`: SQLite's -wal and -shm, kept as `<file>.before-restore-<stamp>-wal`)
   * is a copy this restore made: the installation's own is where replaced files are kept already.
   */
  const copyOfOurs = (path: string, suffix = '') => existsSync(aside.of(path) + suffix);
  // The renames below are synchronous: a signal meanwhile is taken after them, by these listeners,
  // and does not end the process with the files half in place.
  const absorb = () => undefined;
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, absorb);
  const owners = new Map(places.map((p) => [p.target, statSync(p.target, { throwIfNoEntry: false }) ?? dataDirOwner]));
  const mark: RestoreMark = { pid: process.pid, from: backup, startedAt: resumed?.startedAt ?? new Date().toISOString(), movedAsideTo: asideDir, phase: resumed?.phase ?? 'aside' };
  markRestoreStarted(dataDir, mark);
  try {
    // Inside DATA_DIR: every entry but the locks, the mark, the evidence folder (merged before), earlier restores' folders and the copies.
    for (const entry of readdirSync(dataDir)) {
      const path = join(dataDir, entry);
      if (held.has(path) || entry.startsWith(RESTORE_MARKER) || isWithin(evidenceDir(config), path) || entry.startsWith('before-restore-') || /\.lock(\.held|\.takeover)?$/.test(entry)) continue;
      if (kept.has(path)) {
        // Kept in place, a copy kept with the replaced files for the record: no moment without the key (M2).
        if (!existsSync(aside.of(path))) {
          copyInto(path, aside.of(path));
          keptCopies.push(aside.of(path));
        }
      } else if (copyOfOurs(path)) {
        rmSync(path, { recursive: true, force: true }); // put there by the interrupted run: the backup's copy comes again
      } else {
        move(path, aside.of(path));
      }
    }
    // A kept file in a folder moved aside (SIGNING_KEY_PATH in a folder of DATA_DIR): copied back.
    for (const file of kept) if (!existsSync(file) && existsSync(aside.of(file))) copyInto(aside.of(file), file);
    // Elsewhere: each file with what SQLite keeps beside it; the read models too when the backup
    // has none (taken with READ_MODEL_PATH=:memory:): left, they were newer than the log (R2).
    const outside = places.filter((p) => !isWithin(p.target, dataDir));
    const replacedOutside = [...outside.map((p) => p.target), ...(config.readModelPath !== ':memory:' && !isWithin(config.readModelPath, dataDir) && !places.some((p) => p.target === config.readModelPath) ? [config.readModelPath] : [])];
    for (const target of replacedOutside) {
      // Each file judged alone: a WAL the killed run had not moved yet is the installation's (L1).
      for (const suffix of ['', ...SQLITE_SIDE_FILES]) {
        if (!existsSync(target + suffix)) continue;
        if (copyOfOurs(target, suffix)) rmSync(target + suffix, { force: true });
        else move(target + suffix, aside.of(target) + suffix);
      }
    }
    // A note of an unclean stop beside a lock outside DATA_DIR (the store's, the read models'
    // folder's, written when this command took over a killed server's lock) speaks of the log
    // replaced: the restored server would record that stop in the restored access log.
    for (const note of outsideLockNotes(config, dataDir)) {
      if (existsSync(note)) move(note, aside.of(note));
    }
    markRestoreStarted(dataDir, { ...mark, phase: 'placing' });
    for (const p of places) giveOwner(p.staged, owners.get(p.target)!);
    ownFolders(staging, dataDirOwner);
    for (const p of outside) move(p.staged, p.target);
    if (existsSync(staging)) for (const entry of readdirSync(staging)) move(join(staging, entry), join(dataDir, entry));
    rmSync(staging, { recursive: true, force: true });
    for (const folder of new Set([dataDir, ...replacedOutside.map((target) => dirname(target))])) syncDirectoryNow(folder);
    markRestoreFinished(dataDir);
    return [...(existsSync(asideDir) ? [asideDir] : []), ...replacedOutside.map((target) => aside.of(target)).filter((file) => existsSync(file))];
  } catch (error) {
    // What goes back is the installation's again: a kill among these renames leaves a mark saying so.
    // A mark that cannot be written (the disk that failed the step, say) does not stop the moves back.
    try {
      markRestoreStarted(dataDir, { ...mark, phase: 'aside' });
    } catch (markError) {
      log.error('restore: could not update its mark before moving the files back', { error: (markError as Error).message });
    }
    for (const [from, to] of moves.reverse()) {
      try {
        renameSync(to, from);
      } catch {
        log.error('restore: could not move a file back', { from: to, to: from });
      }
    }
    if (!resumed) {
      for (const copy of keptCopies) rmSync(copy, { force: true });
      try {
        rmdirSync(asideDir); // emptied by the moves back; kept when a file could not go back
      } catch {
        // not there, or not empty
      }
      markRestoreFinished(dataDir);
    }
    throw new UsageError(
      `the files could not be put in place (${(error as Error).message}); ${resumed ? `what this run moved was moved back; the restore interrupted at ${resumed.startedAt} is still unfinished: run it again` : 'everything was moved back: nothing was changed'}`,
    );
  } finally {
    for (const signal of signals) process.removeListener(signal, absorb);
  }
}

/** Every folder under `root` (the copies' folders) given the owner of DATA_DIR: moved in, root's, the server could not write in them. */
function ownFolders(root: string, like: { uid: number; gid: number }): void {
  if (!existsSync(root)) return;
  giveOwner(root, like);
  for (const entry of readdirSync(root, { withFileTypes: true })) if (entry.isDirectory()) ownFolders(join(root, entry.name), like);
}

/** The notes of an unclean stop that the locks restore takes outside DATA_DIR may carry. */
function outsideLockNotes(config: AppConfig, dataDir: string): string[] {
  return uncleanNotePaths(config.dataDir, config.readModelPath, config.sqlitePath).filter((note) => !isWithin(note, dataDir));
}
