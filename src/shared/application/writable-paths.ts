import { accessSync, constants, existsSync } from 'node:fs';

/** access(2) with W_OK: throws EACCES, EROFS… when the process may not write the path. */
export type WriteAccessCheck = (path: string) => void;

const accessForWriting: WriteAccessCheck = (path) => accessSync(path, constants.W_OK);

/**
 * Checks at start-up that this process may write each path that exists (a file, or a folder it
 * creates files in). A store file left root-owned by a restore started fine and failed every
 * write ("attempt to write a readonly database", re-probe 10 H1). The first that is not
 * writable throws an error naming it and what it is, keeping access(2)'s code and syscall, so
 * start-up reports it as one line (`start-up failed: … not writable …`, with code).
 */
export function assertPathsWritable(paths: readonly { path: string; what: string }[], check: WriteAccessCheck = accessForWriting): void {
  for (const { path, what } of paths) {
    if (!existsSync(path)) continue;
    try {
      check(path);
    } catch (error) {
      const { code, syscall } = error as NodeJS.ErrnoException;
      if (typeof code !== 'string') throw error;
      const uid = process.getuid?.();
      throw Object.assign(new Error(`${what} ${path} is not writable by this process${uid === undefined ? '' : ` (uid ${uid})`}: ${code}; give it to the server's user (or mount it read-write)`), {
        code,
        syscall: syscall ?? 'access',
        path,
      });
    }
  }
}

/** An SQLite file with its -wal and -shm, and the folder SQLite creates them in. */
export function sqliteFiles(path: string, what: string): { path: string; what: string }[] {
  return [
    { path, what },
    { path: `${path}-wal`, what: `${what} (its WAL)` },
    { path: `${path}-shm`, what: `${what} (its shared memory)` },
  ];
}
