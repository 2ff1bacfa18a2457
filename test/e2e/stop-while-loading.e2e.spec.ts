import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOnce } from './support/server-process.js';

const MAIN = join(process.cwd(), 'dist/src/main.js');
const SECRET = 'stop-while-loading-secret-0123456789abcdef';

/**
 * When the signal is sent: a delay after the process began loading Nest (NODE_DEBUG=esm names each
 * module as Node's loader takes it up: the entry asks for the server, whose first dependencies
 * include @nestjs/core, once its handlers are installed); once the process has run so much CPU
 * time (Node's own start and the entry's first line take some 80-90 ms of it, whatever the load,
 * where the wall clock from the spawn went from 90 to 360 ms on a loaded machine); or once it serves.
 */
type When = { afterNestLoadMs: number } | { afterCpuMs: number } | 'serving';

const NEST_LOADING = /Storing file:\/\/\S*\/node_modules\/@nestjs\/core\/index\.js/;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** What the data folder holds once the process has ended. */
  left: string[];
}

/** The CPU time a process has run, all its threads (Linux: /proc/<pid>/stat, utime and stime in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Starts `node dist/src/main.js` on a fresh data folder, sends `signal` at `when`, resolves once the process has ended. */
async function stopAt(when: When, signal: NodeJS.Signals = 'SIGTERM', extra: Record<string, string> = {}): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-early-stop-'));
  try {
    const debug = typeof when === 'object' && 'afterNestLoadMs' in when ? { NODE_DEBUG: 'esm' } : {};
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, JWT_SECRET: SECRET, NODE_ENV: 'test', DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite'), PORT: '0', LOG_LEVEL: 'info', ...debug, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const send = (delay = 0) => {
      if (sent) return;
      sent = true;
      setTimeout(() => child.kill(signal), delay);
    };
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    // A process still running past this is the test's to end (and the test fails: it should have stopped).
    const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // A process serving before it ran the CPU time asked for (a fast machine) is stopped then: it runs little more.
      if ((when === 'serving' || (typeof when === 'object' && 'afterCpuMs' in when)) && stdout.includes('"msg":"Risk Ledger is serving"')) send();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && typeof when === 'object' && 'afterNestLoadMs' in when && NEST_LOADING.test(stderr)) send(when.afterNestLoadMs);
    });
    const cpuWatch =
      typeof when === 'object' && 'afterCpuMs' in when
        ? setInterval(() => {
            if (cpuMs(child.pid!) >= when.afterCpuMs) send();
          }, 2)
        : undefined;
    const exit = await ended;
    clearTimeout(deadline);
    clearInterval(cpuWatch);
    if (!sent) throw new Error(`the process ended (exit ${exit.code}, signal ${exit.signal}) before the signal was sent (killed at 60 s: the moment never came):\n${stdout}${stderr.slice(0, 2000)}`);
    return { ...exit, stdout, stderr, left: readdirSync(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The output's lines, each parsed: a line that is not JSON fails the test. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a line that is not JSON: ${line}`);
      }
    });
}

/** Exit 0 with the stop's line naming the signal, every line JSON, no lock file left in the data folder. */
function expectStopped(run: Run, signal: NodeJS.Signals, msg: string | RegExp, debugOnStderr = false): void {
  expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
  const lines = jsonLines(run.stdout);
  // NODE_DEBUG writes Node's loader's own lines on stderr: those runs only show that no JSON error line is among them.
  if (debugOnStderr) expect(run.stderr).not.toMatch(/"level":"error"/);
  else lines.push(...jsonLines(run.stderr));
  expect(lines.filter((line) => line.level === 'error')).toEqual([]);
  expect(lines.at(-1)).toMatchObject({ level: 'info', component: 'risk-ledger', signal, msg: typeof msg === 'string' ? msg : expect.stringMatching(msg) });
  expect(run.left.filter((name) => name.endsWith('.lock'))).toEqual([]);
}

/**
 * A stop in the first second of a start (operations probe 10-c L4): the server's modules take
 * 0.5-1.5 s to load, and the process ended at the signal, exit 143 without a line, while they
 * loaded. The entry (src/main.ts) now answers from its first line: whatever the moment, the process
 * logs the stop naming its signal and exits 0, leaving no lock behind. Before the entry's first line
 * Node itself is starting (some 80-90 ms of CPU; 90-360 ms from the spawn on a loaded machine): a
 * signal then still ends the process (Node re-raises it once it has reset the terminal), which no
 * code of ours can change; the moments below start past it.
 */
describe('a stop while the server loads or starts', () => {
  beforeAll(() => buildOnce(), 120_000);

  it.each([0, 50, 150, 400])('SIGTERM %i ms after the process began loading Nest: exit 0, one JSON line naming the signal, no lock left', async (afterNestLoadMs) => {
    const run = await stopAt({ afterNestLoadMs });
    expectStopped(run, 'SIGTERM', 'shut down during start-up', true);
  }, 90_000);

  // Without NODE_DEBUG, so that every line of both streams is checked. The server's modules load in
  // some 1.5 s of CPU and it serves after some 4 s: the last ones stop it in main(), where
  // stopDuringStart answers; had it started serving already, it is the graceful stop's line.
  it.each([250, 500, 1_000, 2_000, 3_000])('SIGTERM once the process has run %i ms of CPU: exit 0, every line JSON, the last naming the signal, no lock left', async (afterCpuMs) => {
    const run = await stopAt({ afterCpuMs });
    expectStopped(run, 'SIGTERM', /^shut down( during start-up)?$/);
  }, 90_000);

  it('SIGINT while the server loads: exit 0, one JSON line naming SIGINT', async () => {
    const run = await stopAt({ afterNestLoadMs: 100 }, 'SIGINT');
    expectStopped(run, 'SIGINT', 'shut down during start-up', true);
  }, 90_000);

  it('with LOG_LEVEL=silent, a stop while the server loads exits 0 without a line, as the server logs nothing at that level', async () => {
    const run = await stopAt({ afterCpuMs: 500 }, 'SIGTERM', { LOG_LEVEL: 'silent' });
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
    expect(run.stdout + run.stderr).toBe('');
  }, 90_000);

  it('SIGTERM once it serves: the graceful stop, exit 0, every line JSON, no lock left', async () => {
    const run = await stopAt('serving');
    expectStopped(run, 'SIGTERM', 'shut down');
    expect(jsonLines(run.stdout).map((line) => line.msg)).toContain('shutting down: no new connections; finishing the requests in flight');
  }, 90_000);
});
