import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every TypeScript file under `dir`, however deep (tests that read the sources: structure, ids, limits). */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}
