import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * process.stdout, written once per turn of the event loop. Each line was one synchronous write(2)
 * (Node writes stdout pipes and files synchronously on Linux), and the line every request logs cost
 * about a tenth of a request's CPU under load (bench/e2e.bench.ts, README "Benchmarks"). The lines
 * of one turn now go out in one write at the end of the turn (setImmediate), and on exit; a
 * SIGKILL loses at most that turn's lines. Errors still go to stderr at once, unbatched.
 * Not pino.destination({ sync: false }) (SonicBoom): it writes to fd 1 itself, past process.stdout,
 * which tests and embedders capture.
 */
class TurnBatchedStdout {
  private pending: string[] = [];
  private scheduled = false;

  constructor() {
    process.once('exit', this.flushSync);
  }

  write(line: string): boolean {
    this.pending.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushSync);
    }
    return true;
  }

  /** Writes what is pending now: at the end of the turn, on exit, and from flushLogLines(). */
  readonly flushSync = (): void => {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    process.stdout.write(chunk);
  };
}

let stdoutLines: TurnBatchedStdout | undefined;

/** Writes the log lines of this turn now (a test that captures process.stdout, a process about to end). */
export function flushLogLines(): void {
  stdoutLines?.flushSync();
}

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
          { level: 'debug', stream: (stdoutLines ??= new TurnBatchedStdout()) },
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
