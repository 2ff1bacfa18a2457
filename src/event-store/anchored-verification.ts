/**
 * A log verified against an anchor: a head recorded earlier (an export manifest, the head this
 * server verified, or one an auditor kept) that the log must still contain. Signatures show that no
 * one without the key appended or rewrote events; only an anchor kept elsewhere shows that the
 * newest commits were removed. Used by verifyIntegrity (in the integrity monitor's worker on the
 * embedded store), the command line's verify-store and the offline verification of an export.
 */
import type { EventStore, RecordedEvent } from './event-store.port.js';
import { readLog, readSignatures, storeWritesChain, verifyEvents, type IntegrityReport, type IntegrityVerifier, type StreamHead } from './integrity-verifier.js';
import type { TrustedKeys } from './signing.js';

/** What a log must still contain: a head recorded earlier (an export manifest, an earlier report's head). */
export interface LogAnchor {
  headPosition: string | null;
  headChainHash: string | null;
  streamHeads?: Record<string, StreamHead>;
}

/**
 * Checks, while a log is verified, that it still contains an anchored head: the event at the
 * anchor's head position with the anchor's chain hash, and every anchored stream head. A log that
 * has grown since passes; a log cut before the anchor, or rewritten, does not.
 */
export class AnchorCheck {
  private reachedHead = false;
  private readonly pending: Map<string, StreamHead>;
  private problem: string | null = null;

  constructor(private readonly anchor: LogAnchor) {
    this.pending = new Map(Object.entries(anchor.streamHeads ?? {}));
  }

  observe(event: RecordedEvent): void {
    if (this.problem) return;
    const headPosition = this.anchor.headPosition;
    if (headPosition !== null && !this.reachedHead && event.position >= headPosition) {
      if (event.position !== headPosition) {
        this.problem = `the anchored head position ${headPosition} is missing from the log (it goes from before it to ${event.position}): events were removed or renumbered`;
        return;
      }
      this.reachedHead = true;
      if (this.anchor.headChainHash !== null && (event.chainHash ?? null) !== this.anchor.headChainHash) {
        this.problem = `the event at the anchored head position ${headPosition} has chain hash ${event.chainHash ?? 'none'}, the anchor (a manifest, or the head this server verified) recorded ${this.anchor.headChainHash}: the log up to that point was rewritten`;
        return;
      }
    }
    const head = this.pending.get(event.streamId);
    if (head && event.revision === head.revision) {
      if (event.hash !== head.hash) {
        this.problem = `stream ${event.streamId} revision ${head.revision} has hash ${event.hash}, the manifest recorded ${head.hash}: the stream was rewritten`;
        return;
      }
      this.pending.delete(event.streamId);
    }
  }

  /** The first problem, or null when the log contains the anchor. Call after the last event. */
  finish(report: IntegrityReport): string | null {
    if (this.problem) return this.problem;
    if (this.anchor.headPosition !== null && !this.reachedHead) {
      return `the log ends at position ${report.headPosition ?? '(empty)'} but the anchor (a manifest, or the head this server verified) recorded a head at position ${this.anchor.headPosition}: events were removed from the end of the log`;
    }
    const missing = this.pending.entries().next();
    if (!missing.done) {
      const [streamId, head] = missing.value;
      return `stream ${streamId} no longer reaches revision ${head.revision} recorded in the manifest (${this.pending.size} stream head(s) missing): events were removed from the end of the stream`;
    }
    return null;
  }
}

export interface AnchoredIntegrityReport extends IntegrityReport {
  /** Null when no anchor was given; else whether the log still contains it. */
  anchorOk: boolean | null;
  anchorReason: string | null;
}

/** The chain's report with the anchor's verdict: not asked (no anchor), not checked (the chain broken), or whether the log still contains it. */
export function anchoredReport(report: IntegrityReport, check: AnchorCheck | null, anchor: LogAnchor | null): AnchoredIntegrityReport {
  if (!check || !anchor) return { ...report, anchorOk: null, anchorReason: null };
  if (!report.ok) return { ...report, anchorOk: false, anchorReason: 'not checked: the chain itself is broken' };
  const problem = check.finish(report);
  if (problem === null) return { ...report, ok: true, reason: null, firstBrokenPosition: null, anchorOk: true, anchorReason: null };
  return { ...report, ok: false, reason: problem, firstBrokenPosition: anchor.headPosition, anchorOk: false, anchorReason: problem };
}

/**
 * Verifies a store's log up to `upTo` (default: its head now) with the signed heads (given
 * `trusted`), and that it still contains `anchor` when one is given: `anchored.ok` requires both;
 * `chain` is the log's own verdict.
 */
export async function verifyAnchored(
  store: EventStore,
  anchor: LogAnchor | null,
  options: { pageSize?: number; upTo?: string | null; trusted?: TrustedKeys; onEvent?: (event: RecordedEvent, verifier: IntegrityVerifier) => void } = {},
): Promise<{ chain: IntegrityReport; anchored: AnchoredIntegrityReport }> {
  const upTo = options.upTo === undefined ? await store.headPosition() : options.upTo;
  const check = anchor ? new AnchorCheck(anchor) : null;
  const { report } = await verifyEvents(readLog(store, { pageSize: options.pageSize, upTo }), {
    requireChain: storeWritesChain(store),
    trusted: options.trusted,
    // Read from a store: data and metadata are JSON.parse products, hashed as the monitor does (a
    // third quicker to verify: the reference canonical form took 35% of verify-store's CPU).
    parsedEvents: true,
    signatures: options.trusted ? readSignatures(store, { upTo }) : undefined,
    onEvent: (event, verifier) => {
      check?.observe(event);
      options.onEvent?.(event, verifier);
    },
  });
  return { chain: report, anchored: anchoredReport(report, check, anchor) };
}
