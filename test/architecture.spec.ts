/**
 * The module structure as a test (issue 9): dependencies point down, no cycles, pure domains,
 * and no source file so large that it does several jobs. The rules themselves live in
 * .dependency-cruiser.cjs (also `npm run lint:deps`).
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sourceFiles } from './support/source-files.js';

const MAX_LINES = 600;

describe('architecture', () => {
  it('has no import that breaks a rule of .dependency-cruiser.cjs (cycles, features below, impure domains)', () => {
    const run = spawnSync(process.execPath, ['node_modules/dependency-cruiser/bin/dependency-cruise.mjs', 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[]; totalCruised: number } };
    // A cruise that found nothing would pass vacuously.
    expect(result.summary.totalCruised).toBeGreaterThan(100);
    expect(result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it(`keeps every source file under ${MAX_LINES} lines`, () => {
    const files = sourceFiles('src');
    expect(files.length).toBeGreaterThan(50);
    const large = files.map((f) => ({ f, lines: readFileSync(f, 'utf8').split('\n').length })).filter((x) => x.lines > MAX_LINES);
    expect(large.map((x) => `${x.f}: ${x.lines} lines`)).toEqual([]);
  });
});
