/**
 * The log's verification before read models are built from it (rebuild, verify-read-models), run
 * beside the replay instead of before it: on the embedded store in a worker thread with a
 * connection of its own (the integrity monitor's, worker-log-verification.ts), elsewhere on the
 * main thread between the replay's pages. Verifying took as long as the rebuild itself (100,000
 * events: 2.2 s and 1.8 s), so the two in turn took their sum on a machine with a second core idle.
 * The verdict is brokenVerdict's; the callers act on a replay only once it says the log verifies.
 */
import type { AppConfig } from '../config/app-config.js';
import type { EventStore } from '../event-store/event-store.port.js';
import { configuredTrustedKeys } from '../audit/application/access-log-chain.js';
import { monitorVerification } from '../platform/worker-log-verification.js';
import { brokenVerdict, log, type BrokenLog } from './evidence-commands.js';
import { ProgressBar } from './progress-bar.js';
import { serverRecordAnchor } from './store-anchor.js';

export interface OverlappingLogCheck {
  /** null when the log verifies, else why it does not (brokenVerdict). */
  readonly verdict: Promise<BrokenLog | null>;
  /**
   * The verdict and `work` (a replay, reporting the events it applied), both settled, under one
   * progress bar counting the events verified plus the events applied, out of `total`.
   */
  alongside<T>(label: string, total: number, work: (applied: (events: number) => void) => Promise<T>): Promise<[PromiseSettledResult<BrokenLog | null>, PromiseSettledResult<T>]>;
  close(): Promise<void>;
}

export function startLogCheck(config: AppConfig, store: EventStore): OverlappingLogCheck {
  const verification = monitorVerification(store, configuredTrustedKeys(config.signing), config.eventStore === 'sqlite' ? config.sqlitePath : null, log);
  let checked = 0;
  const anchor = serverRecordAnchor(config, store.adapterName).anchor;
  const verdict = verification.runAnchored(anchor, (n) => (checked = n)).then((report) => {
    checked = report.eventsChecked;
    return brokenVerdict(config, report);
  });
  // Awaited by the caller; a failure is theirs to report, never an unhandled rejection meanwhile.
  verdict.catch(() => {});
  return {
    verdict,
    alongside: async (label, total, work) => {
      const bar = new ProgressBar({ label, total });
      let applied = 0;
      const ticker = setInterval(() => bar.update(checked + applied), 250);
      try {
        return await Promise.allSettled([verdict, work((n) => (applied = n))]);
      } finally {
        clearInterval(ticker);
        bar.finish(checked + applied);
      }
    },
    close: () => verification.close(),
  };
}
