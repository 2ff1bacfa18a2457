/**
 * The mark `risk-ledger restore` leaves in DATA_DIR while it puts a backup's files in place
 * (src/cli/restore-command.ts, step 4): the installation's files moved aside, the backup's not
 * all renamed in yet. Killed in that window (a SIGKILL, the machine losing power), DATA_DIR held
 * only part of either, and the next start took it for a new installation: health ok, an empty
 * register, a new signing key (restore probe of 2026-12-07, R3). A server does not start while
 * the mark is there; the same restore run again finishes the job and removes it.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../config/app-config.js';
import { syncDirectoryNow, syncFileNow } from '../shared/application/durable-files.js';

export const RESTORE_MARKER = 'restore-in-progress.json';

/** What the mark says: which backup was being put in place, and where the files it replaced went. */
export interface RestoreMark {
  pid: number;
  from: string;
  startedAt: string;
  movedAsideTo: string;
  /**
   * 'aside' while the installation's files are moved aside (or moved back after a failure),
   * 'placing' once they all are and the copies go in place. It tells where the log replaced is;
   * what a re-run removes it never decides (restore-placement.ts: a kill while files went back
   * left originals under 'placing'). Absent in marks of the first version: read as 'aside'.
   */
  phase?: 'aside' | 'placing';
}

/**
 * The mark, when there is one whose folder of replaced files is a `before-restore-*` folder of
 * DATA_DIR (the one restore makes), else null: a mark that cannot be read still refuses a start
 * (refuseUnfinishedRestore), and the restore run again starts a new folder.
 */
export function readRestoreMark(dataDir: string): RestoreMark | null {
  try {
    const mark = JSON.parse(readFileSync(join(dataDir, RESTORE_MARKER), 'utf8')) as Partial<RestoreMark>;
    const aside = typeof mark.movedAsideTo === 'string' ? mark.movedAsideTo : '';
    if (dirname(aside) !== resolve(dataDir) || !/^before-restore-[0-9A-Za-z-]+$/.test(basename(aside))) return null;
    return { pid: Number(mark.pid), from: String(mark.from), startedAt: String(mark.startedAt), movedAsideTo: aside, phase: mark.phase === 'placing' ? 'placing' : 'aside' };
  } catch {
    return null;
  }
}

/** Written durably (a temporary file, fsynced, renamed) before the first rename of step 4, and again when its phase changes. */
export function markRestoreStarted(dataDir: string, mark: RestoreMark): void {
  const file = join(dataDir, RESTORE_MARKER);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(mark) + '\n', { mode: 0o600 });
    syncFileNow(temp);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true }); // not left beside the mark (a full disk, a folder in the mark's place)
    throw error;
  }
  syncDirectoryNow(dataDir); // the rename is an entry of the folder: on the disk before step 4 starts
}

/** Removed once every file is in place (or everything was moved back). */
export function markRestoreFinished(dataDir: string): void {
  rmSync(join(dataDir, RESTORE_MARKER), { force: true });
  syncDirectoryNow(dataDir);
}

/** A start or command refused over an unfinished restore: a configuration error to the server, a refusal to the CLI. */
export class UnfinishedRestoreError extends ConfigError {}

/** The server's start: refused while a restore is unfinished, saying how to finish it. */
export function refuseUnfinishedRestore(config: { eventStore: string; dataDir: string }): void {
  if (config.eventStore === 'memory') return;
  const file = join(config.dataDir, RESTORE_MARKER);
  if (!existsSync(file)) return;
  // Read as the re-run reads it: a mark it would not trust names no backup or folder here either.
  const mark = readRestoreMark(config.dataDir);
  throw new UnfinishedRestoreError(
    `a restore was stopped while it put a backup's files in place (${file}${mark ? `, from ${mark.from}` : ', unreadable'}): this DATA_DIR holds part of the installation and part of the backup. Run risk-ledger restore --from ${mark?.from ?? 'DIR'} again to finish it; the files it replaced are in ${mark?.movedAsideTo ?? 'DATA_DIR/before-restore-<time>/'}`,
    'DATA_DIR',
  );
}
