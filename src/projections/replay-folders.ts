/**
 * The folders asOf replays keep their files in (replay-files.ts): how they are named on disk, and
 * the sweep of those that processes which stopped without closing left behind.
 */
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Folders of replay files are named `<prefix><pid>-<random>`: the pid tells whether their owner still runs. */
export const REPLAY_FOLDER_PREFIX = 'risk-ledger-replays-';

/** Whether a process of that id runs (one we may not signal runs too). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the folders of replay files in `parent` whose process no longer runs; with `allBut`,
 * every folder but that one: for a parent no other process uses (DATA_DIR/replays, under the
 * DATA_DIR lock), where a folder's pid tells nothing (in a container the server is always pid 1,
 * so the folder an OOM kill left bore the new server's own pid and stayed for good: probe of
 * 2026-12-07, M1).
 */
export function sweepReplayFolders(parent: string = tmpdir(), allBut?: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(REPLAY_FOLDER_PREFIX)) continue;
    const path = join(parent, name);
    if (allBut !== undefined) {
      if (path !== allBut) rmSync(path, { recursive: true, force: true });
      continue;
    }
    const pid = Number(name.slice(REPLAY_FOLDER_PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !running(pid)) rmSync(path, { recursive: true, force: true });
  }
}
