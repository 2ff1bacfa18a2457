/**
 * `npm ci` prints EBADENGINE when an installed package's `engines.node` excludes the running Node
 * (.ci/run fails on it). The same check, on package-lock.json, for this Node (20.19+ here) and
 * for the image's Node 22: the overrides in package.json keep every package within range.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// semver (a declared dev dependency; the same rules npm applies for this very check).
const semver = createRequire(import.meta.url)('semver') as { satisfies(version: string, range: string, options?: object): boolean };

interface LockEntry {
  engines?: { node?: string } | string[];
  dev?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
}
const lock = JSON.parse(readFileSync(join(process.cwd(), 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { engines: { node: string }; overrides: Record<string, unknown> };

/** Packages npm installs on this machine (optional ones for other platforms are skipped, as npm does). */
function installed(): [string, LockEntry][] {
  const fits = (list: string[] | undefined, value: string) => !list || list.some((v) => (v.startsWith('!') ? v.slice(1) !== value : v === value));
  return Object.entries(lock.packages).filter(([path, e]) => path !== '' && fits(e.os, process.platform) && fits(e.cpu, process.arch));
}

function outOfRange(node: string, production: boolean): string[] {
  return installed()
    .filter(([, e]) => !production || !e.dev)
    .filter(([, e]) => !Array.isArray(e.engines) && typeof e.engines?.node === 'string' && !semver.satisfies(node, e.engines.node, { includePrerelease: true }))
    .map(([path, e]) => `${path} needs node ${(e.engines as { node: string }).node}`);
}

describe('engines', () => {
  it('every locked package accepts this Node, so npm ci prints no EBADENGINE warning', () => {
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
    expect(outOfRange(process.version, false)).toEqual([]);
  });

  it('every production package accepts the oldest supported Node (engines) and the image\'s Node 22', () => {
    expect(pkg.overrides).toHaveProperty('file-type');
    expect(outOfRange('20.19.0', false)).toEqual([]);
    expect(outOfRange('22.20.0', true)).toEqual([]);
  });
});
