import type { JsonLogger } from './json-logger.js';

/**
 * A warning that can come once per request while a condition lasts (the read models not
 * confirming commands while they retry a lock): logged at most once per `everyMs`, each line
 * counting the occurrences it stood for since the previous one. One line per command flooded the
 * log: 19,677 lines in one run (store-lock probe 11, L5).
 */
export class ThrottledWarning {
  private last = Number.NEGATIVE_INFINITY;
  private unlogged = 0;

  constructor(
    private readonly log: Pick<JsonLogger, 'warn'>,
    private readonly message: string,
    private readonly everyMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>): void {
    const now = this.now();
    if (now - this.last < this.everyMs) {
      this.unlogged++;
      return;
    }
    this.log.warn(this.message, this.unlogged > 0 ? { ...fields, alsoSinceLastLine: this.unlogged } : fields);
    this.last = now;
    this.unlogged = 0;
  }
}
