/**
 * npm 11.16+ reads `allowScripts` in package.json: which dependencies may run install scripts.
 * In npm 11 an unreviewed script still runs (with a warning, which .ci/run turns into a failure);
 * npm 12 skips it, and a skipped better-sqlite3 build leaves an install that succeeds and a
 * server that cannot open its store. So: every locked package with an install script has a
 * decision, and the one native module the application needs is allowed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const lock = JSON.parse(readFileSync(join(process.cwd(), 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { hasInstallScript?: boolean }>;
};
const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };

/** The package's name from its lockfile path (`node_modules/a/node_modules/@s/b` → `@s/b`). */
const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('install scripts (allowScripts)', () => {
  it('every locked package with an install script is approved or denied by name', () => {
    const decided = pkg.allowScripts ?? {};
    const undecided = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
      .map(([path]) => nameOf(path))
      .filter((name) => typeof decided[name] !== 'boolean');
    expect(undecided).toEqual([]);
  });

  it('better-sqlite3, the embedded store\'s native module, may build; nothing else needs to', () => {
    const approved = Object.entries(pkg.allowScripts ?? {}).filter(([, allowed]) => allowed).map(([name]) => name);
    expect(approved).toEqual(['better-sqlite3']);
  });
});
