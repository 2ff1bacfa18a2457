import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { infoLogged, logLine } from '../../src/main.js';
import { flushLogLines, JsonLogger } from '../../src/shared/logging/json-logger.js';

/**
 * The entry (src/main.ts) writes its lines by hand, before the logger is loaded (pino takes some
 * 35 ms to load: that long a stop would end the process without a line). They must read as the
 * logger's: the same fields in the same order, at the same levels.
 */
describe("the entry's log lines: the logger's shape, without the logger", () => {
  const written: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const level = process.env.LOG_LEVEL;

  beforeEach(() => {
    written.length = 0;
    const capture = ((chunk: string | Uint8Array) => (String(chunk).includes('"component":"risk-ledger"') && written.push(String(chunk)), true)) as typeof process.stdout.write;
    process.stdout.write = capture;
    process.stderr.write = capture;
  });
  afterEach(() => {
    process.stdout.write = out;
    process.stderr.write = err;
    process.env.LOG_LEVEL = level;
  });

  /** A line as JSON, its time checked and set aside. */
  const parsed = (line: string) => {
    const { time, ...rest } = JSON.parse(line) as Record<string, unknown>;
    expect(new Date(time as string).toISOString()).toBe(time);
    return rest;
  };

  it('writes the stop during start-up as the logger does: fields and their order', () => {
    process.env.LOG_LEVEL = 'info';
    new JsonLogger('risk-ledger').info('shut down during start-up', { signal: 'SIGTERM' });
    flushLogLines();
    expect(written).toHaveLength(1);
    const entry = logLine('info', 'shut down during start-up', { signal: 'SIGTERM' });
    expect(entry.endsWith('\n')).toBe(true);
    expect(Object.keys(JSON.parse(entry))).toEqual(Object.keys(JSON.parse(written[0]!)));
    expect(parsed(entry)).toEqual(parsed(written[0]!));
  });

  it('writes a server that did not load as the logger writes a start that failed with a stack', () => {
    process.env.LOG_LEVEL = 'info';
    const error = new Error("Cannot find package '@nestjs/core'");
    new JsonLogger('risk-ledger').error('start-up failed', error);
    expect(written).toHaveLength(1);
    const { name, message, stack } = error;
    const entry = logLine('error', 'start-up failed', { error: { name, message, stack } });
    expect(Object.keys(JSON.parse(entry))).toEqual(Object.keys(JSON.parse(written[0]!)));
    expect(parsed(entry)).toEqual(parsed(written[0]!));
  });

  it.each(['debug', 'info', 'warn', 'error', 'silent', 'verbose', undefined])('with LOG_LEVEL=%s writes an info line exactly when the logger does', (value) => {
    if (value === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = value;
    new JsonLogger('risk-ledger').info('shut down during start-up', { signal: 'SIGINT' });
    flushLogLines();
    expect(infoLogged()).toBe(written.length === 1);
  });
});
