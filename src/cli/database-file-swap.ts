/**
 * An SQLite file built beside the one in use (`rebuild`'s read models, `import`'s store), put in
 * its place in one rename once it is complete: killed before, the file in use stands as it was.
 */
import { chmodSync, chownSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { syncDirectoryNow } from '../shared/application/durable-files.js';

/**
 * The built file (closed, its WAL checkpointed into it) in the place of `path` (closed too): the
 * old -wal and -shm removed first (an old WAL beside the new file would be replayed into it), the
 * file given the mode and owner of the one it replaces, one rename, and the folder synced.
 */
export function putDatabaseFileInPlace(builtPath: string, path: string): void {
  if (existsSync(`${builtPath}-wal`) && statSync(`${builtPath}-wal`).size > 0) throw new Error(`${builtPath}-wal was not checkpointed into ${builtPath}`);
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${builtPath}${suffix}`, { force: true });
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
  // The file keeps the permissions and the owner someone gave the one it replaces (a rebuild run
  // as root left the read models root's, and the server, another user, could not open them: probe F2).
  if (existsSync(path)) {
    const was = statSync(path);
    chmodSync(builtPath, was.mode & 0o7777);
    giveOwner(builtPath, was);
  }
  renameSync(builtPath, path);
  syncDirectoryNow(dirname(path));
}

/** `path` given the owner of `like` (a command run as root leaves no file the server cannot open). */
export function giveOwner(path: string, like: { uid: number; gid: number }): void {
  try {
    chownSync(path, like.uid, like.gid);
  } catch (error) {
    // Only root gives a file away; anyone else replaces a file that is theirs already.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
  }
}

/** The file and what SQLite keeps beside it. */
export function removeDatabaseFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}

/**
 * Where the file is built, made ready: a folder there is someone's, not a file of ours (it kept
 * the command from exiting: probe F1), and is refused with `refuse`'s error; what an interrupted
 * run left is started over.
 */
export function clearBuildPlace(builtPath: string, refuse: (message: string) => Error): void {
  if (!removableBuildPlace(builtPath)) throw refuse(`${builtPath} is a folder`);
  removeDatabaseFiles(builtPath);
}

/** Whether `path` is a file (or nothing) that removeDatabaseFiles may remove: never a folder someone put there. */
export function removableBuildPlace(path: string): boolean {
  return !statSync(path, { throwIfNoEntry: false })?.isDirectory();
}
