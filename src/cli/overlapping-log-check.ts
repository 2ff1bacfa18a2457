/**
 * The log's verification before read models are built from it (rebuild, verify-read-models), run
 * beside the replay instead of before it: on the embedded store in a worker thread with a
 * connection of its own (the integrity monitor's, worker-log-verification.ts), elsewhere on the
 * main thread between the replay's pages. Verifying took as long as the rebuild itself (100,000
 * events: 2.2 s and 1.8 s), so the two in turn took their sum on a machine with a second core idle.
 * The verdict is brokenLog's; the callers act on a replay only once it says the log verifies.
 */
import type { AppConfig } from '../config/app-config.js';
import type { EventStore } from '../event-store/event-store.port.js';
import { configuredTrustedKeys } from '../audit/application/access-log-chain.js';
import { monitorVerification } from '../platform/worker-log-verification.js';
import { brokenVerdict, log, type BrokenLog } from './evidence-commands.js';
import { serverRecordAnchor } from './store-anchor.js';

export interface OverlappingLogCheck {
  /** null when the log verifies, else what brokenLog says. */
  readonly verdict: Promise<BrokenLog | null>;
  /** Events verified so far. */
  readonly checked: () => number;
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
  return { verdict, checked: () => checked, close: () => verification.close() };
}
