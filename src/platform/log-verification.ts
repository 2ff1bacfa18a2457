import { verifyAnchored, type AnchoredIntegrityReport, type LogAnchor } from '../event-store/anchored-verification.js';
import type { EventStore } from '../event-store/event-store.port.js';
import { readLog, readSignatures, storeHeadOf, verifyEvents, type IntegrityReport, type VerifiedHead } from '../event-store/integrity-verifier.js';
import type { TrustedKeys } from '../event-store/signing.js';

/** Events read per page by the monitor: a page is read in one go (about 6 µs an event). */
const MONITOR_PAGE = 200;

/** What one verification of a stretch of the log found, and the last signed head it verified. */
export type VerificationRun = IntegrityReport & { lastSigned?: VerifiedHead | null };

/**
 * Where the integrity monitor's verifications run: on the main thread, against the server's own
 * store, or in a worker thread with a connection of its own (worker-log-verification.ts).
 */
export interface LogVerification {
  readonly thread: 'main' | 'worker';
  /** Verifies the log after `from` (a signed head), or all of it, up to `upTo` (a durable head read before). */
  run(from: VerifiedHead | null, upTo: string | null, signal?: AbortSignal): Promise<VerificationRun>;
  /** The whole log, up to its head now, and whether it still contains `anchor` (verifyIntegrity); `onProgress` hears the events checked now and then. */
  runAnchored(anchor: LogAnchor | null, onProgress?: (checked: number) => void): Promise<AnchoredIntegrityReport>;
  close(): Promise<void>;
}

/** Events between two progress reports of an anchored verification. */
export const PROGRESS_EVERY = 2_000;

/** verifyIntegrity's verification: pages as small as the monitor's (each read is one synchronous step). */
export function verifyLogAnchored(store: EventStore, trusted: TrustedKeys, anchor: LogAnchor | null, onProgress?: (checked: number) => void): Promise<AnchoredIntegrityReport> {
  const onEvent = onProgress && ((_event: unknown, verifier: { eventsChecked: number }) => verifier.eventsChecked % PROGRESS_EVERY === 0 && onProgress(verifier.eventsChecked));
  return verifyAnchored(store, anchor, { pageSize: MONITOR_PAGE, trusted, ...(onEvent ? { onEvent } : {}) }).then((result) => result.anchored);
}

/**
 * The monitor's verification of a stretch of the log: its events from `from` (incremental: the
 * streams' earlier heads read from the store) up to `upTo`, with the signed heads among them.
 * The one definition, whichever thread runs it.
 */
export async function verifyLogRange(store: EventStore, trusted: TrustedKeys, from: VerifiedHead | null, upTo: string | null, signal?: AbortSignal): Promise<VerificationRun> {
  const { report, verifier } = await verifyEvents(readLog(store, { after: from?.position ?? null, upTo, pageSize: MONITOR_PAGE }), {
    requireChain: true,
    trusted,
    parsedEvents: true,
    signatures: readSignatures(store, { after: from?.position ?? null, upTo }),
    ...(from ? { resumeFrom: from, headOf: storeHeadOf(store) } : {}),
    ...(signal ? { signal } : {}),
  });
  return { ...report, lastSigned: verifier.lastSignedHead() ?? from };
}

/** Verifications on the main thread, with the server's own store (every adapter; the fallback of the worker). */
export class MainThreadVerification implements LogVerification {
  readonly thread = 'main' as const;

  constructor(
    private readonly store: EventStore,
    private readonly trusted: TrustedKeys,
  ) {}

  run(from: VerifiedHead | null, upTo: string | null, signal?: AbortSignal): Promise<VerificationRun> {
    return verifyLogRange(this.store, this.trusted, from, upTo, signal);
  }

  runAnchored(anchor: LogAnchor | null, onProgress?: (checked: number) => void): Promise<AnchoredIntegrityReport> {
    return verifyLogAnchored(this.store, this.trusted, anchor, onProgress);
  }

  async close(): Promise<void> {}
}
