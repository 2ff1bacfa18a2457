import type { LoggerService } from '@nestjs/common';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Structured logs: one JSON object per line on stdout (stderr for errors), so that log
 * shippers need no parsing rules. Used by Nest (LoggerService) and by our own code.
 * Command-line tools, whose stdout carries results, pass `toStderr` to log on stderr only.
 */
export class JsonLogger implements LoggerService {
  constructor(
    private readonly component = 'app',
    private readonly minLevel: Level = (process.env.LOG_LEVEL as Level) ?? 'info',
    private readonly fields: Record<string, unknown> = {},
    private readonly toStderr = false,
  ) {}

  child(component: string, fields: Record<string, unknown> = {}): JsonLogger {
    return new JsonLogger(component, this.minLevel, { ...this.fields, ...fields }, this.toStderr);
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
    if (ORDER[level] < ORDER[this.minLevel] || process.env.LOG_LEVEL === 'silent') return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, component: this.component, ...this.fields };
    for (const item of rest) {
      if (item && typeof item === 'object' && !(item instanceof Error)) Object.assign(entry, item);
      else if (item instanceof Error) entry.error = { name: item.name, message: item.message, stack: item.stack };
      else if (typeof item === 'string') {
        // Nest passes its context (class name) as the last string argument, or a stack for errors.
        if (item.includes('\n    at ')) entry.stack = item;
        else entry.context = item;
      }
    }
    if (message instanceof Error) {
      entry.msg = message.message;
      entry.error = { name: message.name, message: message.message, stack: message.stack };
    } else entry.msg = typeof message === 'string' ? message : JSON.stringify(message);
    const line = JSON.stringify(entry) + '\n';
    if (level === 'error' || this.toStderr) process.stderr.write(line);
    else process.stdout.write(line);
  }
}

export const rootLogger = new JsonLogger('risk-ledger');
