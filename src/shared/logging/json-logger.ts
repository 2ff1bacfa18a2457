import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * The one pino logger of the process (per destination): JSON lines with a textual `level`, an ISO
 * `time` and `msg`. stdout takes everything below error, stderr the errors; command-line tools,
 * whose stdout carries results, log on stderr only.
 */
function createPino(toStderr: boolean): Logger {
  const destination = toStderr
    ? process.stderr
    : pino.multistream(
        [
          { level: 'debug', stream: process.stdout },
          { level: 'error', stream: process.stderr },
        ],
        { dedupe: true },
      );
  return pino(
    {
      level: 'debug',
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label === 'fatal' ? 'error' : label }) },
    },
    destination,
  );
}

let stdoutPino: Logger | undefined;
let stderrPino: Logger | undefined;
const basePino = (toStderr: boolean): Logger => (toStderr ? (stderrPino ??= createPino(true)) : (stdoutPino ??= createPino(false)));

/** LOG_LEVEL as it is now (tests set it after this module was loaded); unknown values: info. */
function currentLevel(): Level | 'silent' {
  const value = process.env.LOG_LEVEL;
  return value === 'silent' || (value !== undefined && value in ORDER) ? (value as Level | 'silent') : 'info';
}

/**
 * Structured logs through pino: one JSON object per line, so that log shippers need no parsing
 * rules. Used by Nest (LoggerService: Nest's own lines go through the same pino logger as ours
 * and as the request log) and by our own code, with the same API as before pino backed it.
 * Command-line tools pass `toStderr` to log on stderr only.
 */
export class JsonLogger implements LoggerService {
  private readonly out: Logger;

  constructor(
    private readonly component = 'app',
    private readonly minLevel: Level = (process.env.LOG_LEVEL as Level) ?? 'info',
    private readonly fields: Record<string, unknown> = {},
    private readonly toStderr = false,
  ) {
    this.out = basePino(toStderr).child({ component, ...fields });
  }

  child(component: string, fields: Record<string, unknown> = {}): JsonLogger {
    return new JsonLogger(component, this.minLevel, { ...this.fields, ...fields }, this.toStderr);
  }

  /**
   * A plain pino child (the HTTP request log), at the level LOG_LEVEL says now.
   */
  pinoChild(component: string): Logger {
    const child = basePino(this.toStderr).child({ component, ...this.fields });
    child.level = currentLevel();
    return child;
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  info(message: unknown, fields?: Record<string, unknown>): void {
    this.write('info', message, fields ? [fields] : []);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  private write(level: Level, message: unknown, rest: unknown[]): void {
    if (process.env.LOG_LEVEL === 'silent' || !(ORDER[level] >= (ORDER[this.minLevel] ?? ORDER.info))) return;
    const entry: Record<string, unknown> = {};
    for (const item of rest) {
      if (item && typeof item === 'object' && !(item instanceof Error)) Object.assign(entry, item);
      else if (item instanceof Error) entry.error = { name: item.name, message: item.message, stack: item.stack };
      else if (typeof item === 'string') {
        // Nest passes its context (class name) as the last string argument, or a stack for errors.
        if (item.includes('\n    at ')) entry.stack = item;
        else entry.context = item;
      }
    }
    let msg: string;
    if (message instanceof Error) {
      msg = message.message;
      entry.error = { name: message.name, message: message.message, stack: message.stack };
    } else msg = typeof message === 'string' ? message : JSON.stringify(message);
    this.out[level](entry, msg);
  }
}

export const rootLogger = new JsonLogger('risk-ledger');
