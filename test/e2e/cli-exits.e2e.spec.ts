import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { newEvent } from '../event-store/event-store.contract.js';
import { buildOnce } from './support/server-process.js';

/**
 * A command that fails after it opened the store prints its one line and exits: rebuild with a
 * signing key that is a folder printed "illegal operation on a directory" and ran on for good, the
 * store's worker and timers open (container probe of 2026-12-06, M1: a Job that never ends).
 */
const CLI = join(process.cwd(), 'dist/src/cli/main.js');

describe('a CLI command failing after it opened the store', () => {
  let dir: string;
  beforeAll(async () => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-cli-exits-'));
    const store = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
    await store.init();
    await store.append('tested-1', [newEvent('Tested', { n: 1 })], { expectedVersion: ExpectedVersion.noStream });
    await store.close();
    mkdirSync(join(dir, 'a-folder'));
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['rebuild', 'verify-read-models', 'export'])('%s: one line and exit 2 (killed after 30 s otherwise)', async (command) => {
    const child = spawn(process.execPath, [CLI, ...command.split(' '), ...(command === 'export' ? ['--out', join(dir, 'out.ndjson')] : [])], {
      env: { ...process.env, DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite'), SIGNING_KEY_PATH: join(dir, 'a-folder'), LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    expect({ code, signal }).toEqual({ code: 2, signal: null });
    expect(stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(new RegExp(`^risk-ledger ${command}: `))]);
    // Nothing of its own left behind: no half-built file, no empty read models (re-probe L2).
    expect(readdirSync(dir).filter((f) => f.startsWith('read-models'))).toEqual([]);
  }, 60_000);
});

describe('a CLI whose reader closes early', () => {
  beforeAll(() => buildOnce(), 180_000);

  it('exits quietly on EPIPE: `risk-ledger --help | head -1` printed an unhandled error with its stack (race probe of 2026-12-07, F4)', async () => {
    for (let run = 0; run < 3; run++) {
      const child = spawn(process.execPath, [CLI, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
      // The reading end gone before the command writes: every write of its output fails with EPIPE.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect(stderr).not.toMatch(/EPIPE|Unhandled|    at /);
      expect(code).toBe(0);
    }
  }, 60_000);
});
