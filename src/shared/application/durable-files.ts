/**
 * Files that must survive a crash once we say they were written (an export an auditor takes
 * away, an evidence blob): their bytes synced before they are renamed into place, and the folder
 * synced after, since a rename is an entry of the folder. One home for the open-sync-close steps
 * that were written out in each place that needed them.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';

/** Flushes a file's bytes (and size) to the disk. */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a folder's entries (a file created or renamed in it) to the disk. */
export async function syncDirectory(dir: string): Promise<void> {
  await syncFile(dir);
}

/**
 * The same two on the calling thread, for the command line's steps that run one after another
 * with nothing else to serve (restore, the rebuild's swap of a database file).
 */
export function syncFileNow(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function syncDirectoryNow(dir: string): void {
  syncFileNow(dir);
}

/**
 * Writes `data` to a new file at `path` (what was there removed first, a symbolic link included:
 * never written through) and syncs it before returning.
 */
export async function writeFileDurably(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
  await rm(path, { force: true });
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
