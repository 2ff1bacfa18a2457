import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DATA_DIR_LOCK_FILE } from '../../src/config/own-files.js';
import { buildOnce } from './support/server-process.js';

/**
 * Sixteen processes starting at once on a DATA_DIR whose lock a crashed server left: exactly one
 * takes it over, the others are refused naming it (each judged it stale, and without the claim
 * each could remove the lock another had just written: rebuild probe of 2026-12-06).
 */
const LOCK_MODULE = pathToFileURL(join(process.cwd(), 'dist/src/platform/data-dir-lock.js')).href;

interface Contender {
  outcome: Promise<string>;
  /** Lets it end (a holder releases the lock as it exits) and resolves once it has. */
  end: () => Promise<void>;
}

/** A process taking the lock; a holder keeps it until told to end, so that every other contender meets a live holder. */
function contender(dir: string): Contender {
  const script = `const { DataDirLock } = await import(${JSON.stringify(LOCK_MODULE)});
const log = { warn() {}, info() {}, error() {}, debug() {}, child() { return log; } };
process.stdin.on('end', () => process.exit(0)).resume();
try { DataDirLock.acquire(${JSON.stringify(dir)}, 'server', log); process.stdout.write('held'); }
catch (error) { process.stdout.write(error.name); }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const outcome = new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (c: Buffer) => resolve(c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve(`exited ${code}`));
  });
  return {
    outcome,
    end: () => {
      child.stdin.end();
      return exited;
    },
  };
}

describe('a stale lock and sixteen starts at once', () => {
  let work: string;
  beforeAll(() => {
    buildOnce();
    work = mkdtempSync(join(tmpdir(), 'risk-ledger-stale-lock-race-'));
  }, 180_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('one takes it over, fifteen are refused, in each of 5 rounds; no claim is left', async () => {
    const dead = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => dead.once('exit', resolve));
    for (let round = 0; round < 5; round++) {
      const dir = mkdtempSync(join(work, 'round-'));
      writeFileSync(join(dir, DATA_DIR_LOCK_FILE), JSON.stringify({ pid: dead.pid, startedAt: new Date().toISOString(), holder: 'server' }));
      const contenders = Array.from({ length: 16 }, () => contender(dir));
      const outcomes = await Promise.all(contenders.map((c) => c.outcome));
      await Promise.all(contenders.map((c) => c.end()));
      expect(outcomes.filter((o) => o === 'held')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'DataDirLockedError')).toHaveLength(15);
      expect(existsSync(join(dir, `${DATA_DIR_LOCK_FILE}.takeover`))).toBe(false);
      // The holder released it when it exited.
      expect(existsSync(join(dir, DATA_DIR_LOCK_FILE)) ? readFileSync(join(dir, DATA_DIR_LOCK_FILE), 'utf8') : '').toBe('');
    }
  }, 120_000);
});
