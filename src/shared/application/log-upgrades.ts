import type { JsonLogger } from '../logging/json-logger.js';
import { Backoff, describeError } from './transient-errors.js';

/**
 * A repair of what an earlier build left out of the log: a record a rule now relies on that the
 * earlier build did not append (the name reservation of an asset registered before reservations
 * existed). The instance that runs the reactions runs each one whenever it takes the lead: it looks
 * for what is missing and appends it through the command pipeline (each decision version-checked
 * like any command, so it may run beside requests), so once done it finds nothing and appends
 * nothing, and a run cut short by a stop or a crash is finished by the next.
 */
export interface LogUpgrade {
  readonly name: string;
  /**
   * Runs once; `stopping` turns true when the server stops or the lead is lost (stop at the next
   * step). Resolves with what it did, for the log line; `log` is for what an operator must act on.
   */
  run(stopping: () => boolean, log: JsonLogger): Promise<Record<string, unknown>>;
}

/** Waits between the runs of an upgrade that failed (a Backoff: doubling from the first, at most the last). */
export interface UpgradeRetries {
  attempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

/**
 * A failed run (the store out of reach, writes held while the whole log is verified after a start,
 * a full disk) is run again a few times, ~2 minutes in all (pauses of 1, 2, 4 … 60 s), then left
 * to the next lead.
 */
export const UPGRADE_RETRIES: UpgradeRetries = { attempts: 8, firstDelayMs: 1_000, maxDelayMs: 60_000 };

/**
 * Runs the upgrades one after the other, each logged with what it did. One that fails is logged
 * (warn) and run again after a pause (UPGRADE_RETRIES), then left to the next lead: nothing here
 * stops the server or the reactions, and a stop ends the pauses at once.
 */
export async function runLogUpgrades(upgrades: readonly LogUpgrade[], stopping: () => boolean, log: JsonLogger, retries = UPGRADE_RETRIES): Promise<void> {
  for (const upgrade of upgrades) {
    const backoff = new Backoff(retries.firstDelayMs, retries.maxDelayMs);
    for (let attempt = 1; !stopping(); attempt++) {
      const started = Date.now();
      try {
        const done = await upgrade.run(stopping, log);
        log.info('log upgrade ran', { upgrade: upgrade.name, ms: Date.now() - started, stopped: stopping(), ...done });
        break;
      } catch (error) {
        // Cut short by the stop itself (the store closing under it): the next lead finishes it.
        if (stopping()) return log.info('log upgrade stopped with the server or the lead', { upgrade: upgrade.name, error: describeError(error) });
        const last = attempt >= retries.attempts;
        const delay = last ? undefined : backoff.failed(error);
        log.warn(last ? 'log upgrade failed: it runs again when this or another instance next takes the lead of the reactions' : 'log upgrade failed: run again after a pause', {
          upgrade: upgrade.name,
          attempt,
          ...(delay === undefined ? {} : { retryInMs: delay }),
          error: describeError(error),
        });
        if (delay === undefined) break;
        await pause(delay, stopping);
      }
    }
  }
}

/** Waits `ms`, or less once `stopping()` turns true (looked at every 100 ms). */
async function pause(ms: number, stopping: () => boolean): Promise<void> {
  for (const until = Date.now() + ms; Date.now() < until && !stopping(); ) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(100, until - Date.now())));
  }
}
