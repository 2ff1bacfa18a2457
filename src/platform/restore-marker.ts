/**
 * The mark `risk-ledger restore` leaves in DATA_DIR while it puts a backup's files in place
 * (src/cli/restore-command.ts, step 4): the installation's files moved aside, the backup's not
 * all renamed in yet. Killed in that window (a SIGKILL, the machine losing power), DATA_DIR held
 * only part of either, and the next start took it for a new installation: health ok, an empty
 * register, a new signing key (restore probe of 2026-12-07, R3). A server does not start while
 * the mark is there; the same restore run again finishes the job and removes it.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/app-config.js';
import { syncDirectoryNow, syncFileNow } from '../shared/application/durable-files.js';

export const RESTORE_MARKER = 'restore-in-progress.json';

/** What the mark says: which backup was being put in place, and where the files it replaced went. */
export interface RestoreMark {
  pid: number;
  from: string;
  startedAt: string;
  movedAsideTo: string;
}

/** Written durably (a temporary file, fsynced, renamed) before the first rename of step 4. */
export function markRestoreStarted(dataDir: string, mark: RestoreMark): void {
  const file = join(dataDir, RESTORE_MARKER);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(mark) + '\n', { mode: 0o600 });
  syncFileNow(temp);
  renameSync(temp, file);
  syncDirectoryNow(dataDir); // the rename is an entry of the folder: on the disk before step 4 starts
}

/** Removed once every file is in place (or everything was moved back). */
export function markRestoreFinished(dataDir: string): void {
  rmSync(join(dataDir, RESTORE_MARKER), { force: true });
  syncDirectoryNow(dataDir);
}

/** The server's start: refused while a restore is unfinished, saying how to finish it. */
export function refuseUnfinishedRestore(config: { eventStore: string; dataDir: string }): void {
  if (config.eventStore === 'memory') return;
  const file = join(config.dataDir, RESTORE_MARKER);
  if (!existsSync(file)) return;
  let mark: Partial<RestoreMark> = {};
  try {
    mark = JSON.parse(readFileSync(file, 'utf8')) as Partial<RestoreMark>;
  } catch {
    // unreadable: the refusal names the file all the same
  }
  throw new ConfigError(
    `a restore was stopped while it put a backup's files in place (${file}${mark.from ? `, from ${mark.from}` : ''}): this DATA_DIR holds part of the installation and part of the backup. Run risk-ledger restore --from ${mark.from ?? 'DIR'} again to finish it; the files it replaced are in ${mark.movedAsideTo ?? 'DATA_DIR/before-restore-<time>/'}`,
    'DATA_DIR',
  );
}
