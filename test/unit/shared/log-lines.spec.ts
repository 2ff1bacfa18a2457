import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { flushLogLines, JsonLogger } from '../../../src/shared/logging/json-logger.js';

/**
 * The logger writes stdout's lines once per turn of the event loop (one write(2) for many
 * request lines under load, issue 13), in order, and loses none at a turn's end, on
 * flushLogLines() or when the process exits; errors reach stderr at once.
 */
describe('log lines: one write to stdout per turn of the event loop', () => {
  const writes: { stream: 'out' | 'err'; text: string }[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const level = process.env.LOG_LEVEL;

  beforeEach(() => {
    writes.length = 0;
    process.env.LOG_LEVEL = 'debug';
    // Only this test's lines (Node's own warnings also reach stderr).
    const capture = (stream: 'out' | 'err') => ((chunk: string | Uint8Array) => (String(chunk).includes('"component":"test"') && writes.push({ stream, text: String(chunk) }), true)) as typeof process.stdout.write;
    process.stdout.write = capture('out');
    process.stderr.write = capture('err');
  });
  afterEach(() => {
    flushLogLines();
    process.stdout.write = out;
    process.stderr.write = err;
    process.env.LOG_LEVEL = level;
  });

  const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; level: string; n?: number });

  it('writes the lines of one turn together at its end, in order', async () => {
    const log = new JsonLogger('test', 'debug');
    for (let n = 0; n < 5; n++) log.info('line', { n });
    log.warn('a warning');
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.map((w) => w.stream)).toEqual(['out']);
    expect(lines(writes[0]!.text).map((l) => [l.msg, l.n])).toEqual([...[0, 1, 2, 3, 4].map((n) => ['line', n]), ['a warning', undefined]]);

    // The next turn's lines are the next write.
    log.info('later');
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(2);
    expect(lines(writes[1]!.text).map((l) => l.msg)).toEqual(['later']);
  });

  it('writes pending lines at once on flushLogLines(), and errors to stderr without waiting', () => {
    const log = new JsonLogger('test', 'debug');
    log.info('pending');
    log.error('broken');
    expect(writes.map((w) => w.stream)).toEqual(['err']);
    expect(lines(writes[0]!.text)).toEqual([expect.objectContaining({ level: 'error', msg: 'broken' })]);
    flushLogLines();
    expect(writes.map((w) => w.stream)).toEqual(['err', 'out']);
    expect(lines(writes[1]!.text).map((l) => l.msg)).toEqual(['pending']);
  });

  it('writes the lines still pending when the process exits', () => {
    // A process that logs and exits in the same turn: its line would have waited for a turn that never comes.
    const script = [
      `const { JsonLogger } = await import(${JSON.stringify(new URL('../../../dist/src/shared/logging/json-logger.js', import.meta.url).href)});`,
      `const log = new JsonLogger('exiting', 'info');`,
      `for (let n = 0; n < 3; n++) log.info('before exit', { n });`,
      `process.exit(3);`,
    ].join('\n');
    let stdout = '';
    try {
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, LOG_LEVEL: 'info' }, encoding: 'utf8' });
    } catch (error) {
      const e = error as { status: number; stdout: string };
      expect(e.status).toBe(3);
      stdout = e.stdout;
    }
    expect(lines(stdout).map((l) => [l.msg, l.n])).toEqual([0, 1, 2].map((n) => ['before exit', n]));
  });
});
