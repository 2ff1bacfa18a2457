import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * A file's one name, its symbolic links followed (its folder's, when it does not exist yet): what
 * the store's lock is named after (a store reached through a link and through its target got two
 * locks, and two servers wrote it: re-probe of 2026-12-06, H2), and where a file built beside the
 * read models or the store is put (a rename over a link replaced the link and left its target:
 * probe F5, re-probe M2).
 */
export function realFilePath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return inRealFolder(path);
  }
}

/** The path with its folders' links followed (of those that exist) and the file's own name kept (a link there is not followed). */
export function inRealFolder(path: string): string {
  const p = resolve(path);
  const folder = dirname(p);
  return folder === p ? p : join(realFilePath(folder), basename(p));
}
