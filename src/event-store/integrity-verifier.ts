/**
 * Proof that the log is intact (Art. 31(6), 34(3): the auditors' evidence).
 *
 * One streaming verifier, fed with events in log order from any source: a live EventStore
 * (readAll in pages), or an NDJSON export read line by line. Memory stays flat: besides the
 * event being checked it keeps one entry per stream (its last revision and hash).
 *
 * What it checks, event by event, stopping at the first break:
 *   1. positions strictly increase (the log's order);
 *   2. the event's own hash: recomputed from stream, revision, event id, type, schema version,
 *      data, metadata and prevHash (hash-chain.ts eventHash);
 *   3. the per-stream chain: revision 0 points to the stream's genesis hash, every later
 *      revision follows the previous one (no gap, no repeat) and its prevHash is the previous
 *      event's hash; a stream's positions therefore increase with its revisions;
 *   4. the global chain, where the adapter writes one (SQLite, memory): each chainHash links the
 *      previous link, the position and the event's hash, from LOG_GENESIS; once links are present
 *      a missing one is a break (and with `requireChain`, a missing one anywhere is).
 *
 * What no chain can show on its own: that events were removed from the END of the log (the
 * shorter log is a perfectly valid chain), or that someone with write access rewrote the log and
 * recomputed every hash after the change (the hashes carry no secret). Both are caught by
 * comparing with a head (position + chain hash, per-stream heads) recorded elsewhere earlier, e.g.
 * an export manifest; see evidence-export.ts. recordedAt is not covered by any hash either.
 */
import type { EventStore, RecordedEvent } from './event-store.port.js';
import { LogFormatError } from './errors.js';
import { LOG_GENESIS, chainHash, eventHash, genesisHash, isPosition } from './hash-chain.js';
import { fastEventHash } from './internal/fast-hash.js';
import type { HeadSignature, TrustedKeys } from './signing.js';

export interface IntegrityReport {
  ok: boolean;
  /** Events examined, the broken one included. */
  eventsChecked: number;
  /** Position of the first event at which the log stops being consistent, or null. */
  firstBrokenPosition: string | null;
  /** A sentence saying what is wrong, or null. */
  reason: string | null;
  /** Position of the last event examined (the head when ok), null for an empty log. */
  headPosition: string | null;
  /** Global chain link of that event, null when the log carries no global chain. */
  headChainHash: string | null;
  /** Streams seen. */
  streams: number;
  /** Signed chain heads checked against the trusted keys (0 when no keys were given). */
  signaturesChecked: number;
}

export interface StreamHead {
  revision: number;
  hash: string;
}

export interface VerifierOptions {
  /**
   * The source is known to write the global chain (SQLite, memory, an export whose manifest has
   * a head chain hash): a missing chainHash is then a break even on the first event, so that
   * stripping every link cannot downgrade the check to the per-stream chains.
   */
  requireChain?: boolean;
  /**
   * Keys whose signatures of chain heads are accepted (never read from the log being verified).
   * With keys, every event of hash version 2 must be covered by a signed head at or after it,
   * and every signature must hold and name a head of the log.
   */
  trusted?: TrustedKeys;
  /**
   * Every event, whatever its hash version, must be covered by a signed head of a trusted key: a
   * prefix hashed before signing existed (version 1) only by the first head after it, whose chain
   * link covers it. For an import: the history is signed again with this installation's key, so it
   * must have been signed before.
   */
  requireSigned?: boolean;
  /**
   * The events were read from a store, so their data and metadata are JSON.parse products: their
   * hashes are then recomputed with fast-hash.ts's allocation-lean equivalent of eventHash (same
   * hashes under that precondition) rather than hash-chain.ts's reference (the default).
   */
  parsedEvents?: boolean;
}

/** Where an incremental verification starts: a head verified before (position, chain link, hash version). */
export interface VerifiedHead {
  position: string;
  chainHash: string;
  hashVersion: number;
}

/**
 * The source itself is malformed (an unreadable NDJSON line, a missing field). Thrown by event
 * sources; verifyEvents turns it into a broken report instead of an exception.
 */
export { LogFormatError };

/** The incremental core: call check() with each event in log order. */
export class IntegrityVerifier {
  private readonly heads = new Map<string, StreamHead>();
  private checked = 0;
  private lastPositionText: string | null = null;
  private chain: 'unknown' | 'present' | 'absent' = 'unknown';
  private chainHead: string = LOG_GENESIS;
  private brokenAt: string | null = null;
  private why: string | null = null;
  private headChain: string | null = null;
  private hashVersion = 1;
  /** The first event after the last signed commit, and the first of hash version 2 among them. */
  private firstUncovered: string | null = null;
  private firstUnsigned: string | null = null;
  private signatures = 0;
  private lastSigned: VerifiedHead | null = null;

  constructor(private readonly options: VerifierOptions = {}) {}

  /** Continues after a head verified earlier (incremental verification). */
  resume(from: VerifiedHead): void {
    if (!isPosition(from.position)) throw new Error(`invalid position ${from.position}`);
    this.lastPositionText = from.position;
    this.chain = 'present';
    this.chainHead = from.chainHash;
    this.headChain = from.chainHash;
    this.hashVersion = from.hashVersion;
  }

  knows(streamId: string): boolean {
    return this.heads.has(streamId);
  }

  /** The last event of a stream before the resumed head, read from the store. */
  seedHead(streamId: string, head: StreamHead): void {
    this.heads.set(streamId, head);
  }

  /** The head verified so far, to resume from later. */
  verifiedHead(): VerifiedHead | null {
    return this.lastPositionText && this.headChain ? { position: this.lastPositionText, chainHash: this.headChain, hashVersion: this.hashVersion } : null;
  }

  /** The last signed head checked: where a later incremental verification can resume. */
  lastSignedHead(): VerifiedHead | null {
    return this.lastSigned;
  }

  get signaturesChecked(): number {
    return this.signatures;
  }

  /** Events of hash version 2 after the last signed head (null: none). */
  get unsignedFrom(): string | null {
    return this.firstUnsigned;
  }

  get broken(): boolean {
    return this.why !== null;
  }

  get eventsChecked(): number {
    return this.checked;
  }

  /** Checks the next event; false (and the report records why) on the first problem. */
  check(e: RecordedEvent): boolean {
    if (this.broken) return false;
    this.checked++;
    const at = typeof e?.position === 'string' ? e.position : null;

    // 1. Order of the log (positions are opaque; their string order is the log's order).
    if (!isPosition(e?.position)) {
      return this.fail(at, `invalid position ${JSON.stringify(e?.position)}: not a position of the log`);
    }
    if (this.lastPositionText !== null && (e.position.length !== this.lastPositionText.length || e.position <= this.lastPositionText)) {
      return this.fail(
        at,
        `position ${e.position} does not follow ${this.lastPositionText}: the log's positions must strictly increase (events were reordered or duplicated)`,
      );
    }

    // Hash versions never go back: an event hashed without recordedAt cannot follow one hashed with it.
    const version = e.hashVersion ?? 1;
    if (version < this.hashVersion) {
      return this.fail(at, `hash version ${version} at position ${e.position} follows version ${this.hashVersion}: an event was forged without its recordedAt in the hash`);
    }

    // 2. The event's own hash.
    let recomputed: string;
    try {
      recomputed = this.options.parsedEvents ? fastEventHash(e) : eventHash(e);
    } catch (error) {
      return this.fail(at, `event at position ${e.position} cannot be hashed: ${(error as Error).message}`);
    }
    if (recomputed !== e.hash) {
      return this.fail(at, `event hash mismatch at position ${e.position} (stream ${e.streamId}, revision ${e.revision}): ${version >= 2 ? 'data, metadata or recordedAt' : 'data or metadata'} was altered`);
    }

    // 3. The per-stream chain.
    const head = this.heads.get(e.streamId);
    const expectedRevision = head ? head.revision + 1 : 0;
    if (e.revision !== expectedRevision) {
      if (Number.isInteger(e.revision) && e.revision > expectedRevision) {
        return this.fail(
          at,
          `revision gap in stream ${e.streamId}: expected ${expectedRevision}, found ${e.revision} (an event of the stream was deleted or moved)`,
        );
      }
      return this.fail(
        at,
        `revision out of order in stream ${e.streamId}: expected ${expectedRevision}, found ${e.revision} (an event of the stream was duplicated, inserted or reordered)`,
      );
    }
    const expectedPrev = head ? head.hash : genesisHash(e.streamId);
    if (e.prevHash !== expectedPrev) {
      return this.fail(
        at,
        head
          ? `prevHash does not match the previous event of stream ${e.streamId}: an event was deleted, inserted or reordered`
          : `prevHash of the first event of stream ${e.streamId} is not the stream's genesis hash: the stream's beginning was replaced`,
      );
    }

    // 4. The global chain.
    const link = typeof e.chainHash === 'string' && e.chainHash !== '' ? e.chainHash : null;
    if (link === null) {
      if (this.chain === 'present' || (this.chain === 'unknown' && this.options.requireChain)) {
        return this.fail(at, `chainHash missing at position ${e.position}: the global chain was cut or stripped`);
      }
      this.chain = 'absent';
    } else {
      if (this.chain === 'absent') {
        return this.fail(at, `chainHash appears at position ${e.position} after events without one: the global chain cannot have started there`);
      }
      this.chain = 'present';
      const expected = chainHash(this.chainHead, e.position, e.hash);
      if (link !== expected) {
        return this.fail(
          at,
          `global chain broken at position ${e.position}: its chainHash does not link to the previous event of the log (an event before it was deleted, inserted, reordered or rewritten)`,
        );
      }
      this.chainHead = link;
    }

    this.heads.set(e.streamId, { revision: e.revision, hash: e.hash });
    this.lastPositionText = e.position;
    this.headChain = link;
    this.hashVersion = version;
    if (this.firstUncovered === null) this.firstUncovered = e.position;
    if (version >= 2 && this.firstUnsigned === null) this.firstUnsigned = e.position;
    return true;
  }

  /**
   * Checks a signed head; call it right after the event at its position was checked. It must
   * name that event's chain link and verify with a trusted key; the events up to it are then
   * covered.
   */
  checkSignature(s: HeadSignature): boolean {
    if (this.broken) return false;
    const trusted = this.options.trusted;
    if (!trusted) return true;
    // A commit that no longer matches its signature is reported at its first event: none of its
    // events is proven any more.
    const commitStart = s.firstPosition !== undefined && s.firstPosition <= s.position ? s.firstPosition : s.position;
    if (s.position !== this.lastPositionText || s.chainHash !== this.headChain) {
      return this.fail(commitStart, `the signed head at ${s.position} does not name the log's chain link there: the commit from ${commitStart} (or the log before it) was rewritten`);
    }
    const problem = trusted.check('log', s);
    if (problem) return this.fail(commitStart, `the commit ${commitStart}..${s.position} is not proven: ${problem}`);
    // Signed commits tile the log: each starts right after the previous one. Before the first,
    // only events hashed before signing existed (version 1) may stand unsigned.
    const first = s.firstPosition;
    if (first === undefined || first > s.position) return this.fail(s.position, `the signed head at ${s.position} names no commit`);
    if (this.firstUncovered !== null && first !== this.firstUncovered) {
      // A prefix hashed before signing existed (an installation upgraded from such a build) is
      // proven by this first head: its chain link covers every event before it. An import takes it
      // too (a history no head covers at all is still refused, in finish()).
      const legacyPrefix = this.signatures === 0 && first > this.firstUncovered && (this.firstUnsigned === null || this.firstUnsigned >= first);
      if (!legacyPrefix) {
        const at = first > this.firstUncovered ? (this.firstUnsigned !== null && this.firstUnsigned < first ? this.firstUnsigned : this.firstUncovered) : first;
        return this.fail(at, `the event at ${at} lies in no signed commit: it was appended (or rewritten) without the signing key`);
      }
    }
    this.signatures++;
    this.firstUncovered = null;
    this.firstUnsigned = null;
    this.lastSigned = { position: s.position, chainHash: s.chainHash, hashVersion: this.hashVersion };
    return true;
  }

  /** Ends a run: with trusted keys, events after the last signed head are unsigned (appended without the key). */
  finish(): void {
    if (this.broken) return;
    if (this.options.requireSigned && (!this.options.trusted || this.firstUncovered !== null)) {
      const at = this.firstUncovered ?? this.lastPositionText;
      this.fail(at, `the event at ${at ?? '(none)'} is covered by no signed head of a trusted key: only a signed history is taken`);
      return;
    }
    if (!this.options.trusted || this.firstUnsigned === null) return;
    this.fail(this.firstUnsigned, `the event at ${this.firstUnsigned} is covered by no signed head: it was appended (or rewritten) without the signing key`);
  }

  /** Records a break found outside check() (a malformed source). */
  fail(position: string | null, reason: string): false {
    if (!this.broken) {
      this.brokenAt = position;
      this.why = reason;
    }
    return false;
  }

  report(): IntegrityReport {
    return {
      ok: !this.broken,
      eventsChecked: this.checked,
      firstBrokenPosition: this.brokenAt,
      reason: this.why,
      headPosition: this.lastPositionText,
      headChainHash: this.headChain,
      streams: this.heads.size,
      signaturesChecked: this.signatures,
    };
  }

  /** Last revision and hash of every stream seen (up to the break, if any). */
  streamHeads(): ReadonlyMap<string, StreamHead> {
    return this.heads;
  }
}

/**
 * Longest stretch of verification between two turns of the event loop. The server's monitor
 * verifies while requests are served: its 5 ms slices (plus the page read before them) were among
 * the longest tasks on the loop in the e2e profile; a turn costs a few µs.
 */
const YIELD_EVERY_MS = 2;

/**
 * Verifies a sequence of events in log order, with the signed heads of the log when given (in
 * position order). A LogFormatError from the source ends the run as a broken report; other
 * errors (I/O) propagate.
 */
export async function verifyEvents(
  events: AsyncIterable<RecordedEvent> | Iterable<RecordedEvent>,
  options: VerifierOptions & {
    onEvent?: (event: RecordedEvent, verifier: IntegrityVerifier) => void;
    signatures?: AsyncIterable<HeadSignature> | Iterable<HeadSignature>;
    /** Incremental: continue after this head; the streams' earlier heads come from `headOf`. */
    resumeFrom?: VerifiedHead;
    headOf?: (streamId: string, revision: number) => Promise<StreamHead | undefined>;
    /** Ends the run (throwing the signal's reason) at the next turn of the event loop once aborted. */
    signal?: AbortSignal;
  } = {},
): Promise<{ report: IntegrityReport; verifier: IntegrityVerifier }> {
  const verifier = new IntegrityVerifier(options);
  if (options.resumeFrom) verifier.resume(options.resumeFrom);
  const signatures = options.signatures ? iterate(options.signatures) : null;
  let pending = signatures ? await signatures.next() : null;
  // A signed head must name an event of the log: one before the event being checked names
  // none (deleted), one after the last event names the newest events, deleted.
  const settleSignaturesUpTo = async (position: string | null, inclusive = true): Promise<boolean> => {
    while (pending && !pending.done) {
      const s = pending.value;
      if (position !== null && (s.position > position || (!inclusive && s.position === position))) return true;
      if (position === null || s.position < position) {
        const last = verifier.verifiedHead()?.position ?? null;
        if (s.position !== last) {
          verifier.fail(s.position, position === null ? `the signed head at ${s.position} is missing from the log: the newest events were deleted` : `the signed head at ${s.position} names no event of the log: events were deleted, inserted or reordered`);
          return false;
        }
      }
      if (!verifier.checkSignature(s)) return false;
      pending = await signatures!.next();
    }
    return true;
  };
  // Hashing is CPU work: hand the event loop back every few milliseconds, so that a long
  // verification never keeps other requests (or GET /health) waiting.
  let slice = performance.now();
  try {
    if (options.resumeFrom && !(await settleSignaturesUpTo(options.resumeFrom.position))) return { report: verifier.report(), verifier };
    for await (const event of events) {
      if (pending && !pending.done && pending.value.position < event.position && !(await settleSignaturesUpTo(event.position, false))) break;
      if (options.headOf && !verifier.knows(event.streamId) && Number.isInteger(event.revision) && event.revision > 0) {
        const head = await options.headOf(event.streamId, event.revision - 1);
        if (head) verifier.seedHead(event.streamId, head);
      }
      if (!verifier.check(event)) break;
      options.onEvent?.(event, verifier);
      if (pending && !pending.done && pending.value.position === event.position && !(await settleSignaturesUpTo(event.position))) break;
      if (performance.now() - slice > YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        options.signal?.throwIfAborted();
        slice = performance.now();
      }
    }
    if (!verifier.broken) {
      // Signed heads beyond the last event: the newest events were deleted.
      if (pending && !pending.done) await settleSignaturesUpTo(null);
      verifier.finish();
    }
  } catch (error) {
    if (!(error instanceof LogFormatError)) throw error;
    verifier.fail(error.position, error.message);
  }
  return { report: verifier.report(), verifier };
}

function iterate<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in source ? (source as AsyncIterable<T>)[Symbol.asyncIterator]() : (source as Iterable<T>)[Symbol.iterator]();
}

/** The store's signed heads, page by page, after `after` and up to `upTo` (inclusive). */
export async function* readSignatures(store: EventStore, options: { after?: string | null; upTo?: string | null; pageSize?: number } = {}): AsyncGenerator<HeadSignature> {
  const pageSize = options.pageSize ?? 1000;
  let after = options.after ?? null;
  for (;;) {
    const page = await store.readSignatures({ after, upTo: options.upTo ?? null, maxCount: pageSize });
    yield* page;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.position;
  }
}

/** The last event of a stream at a revision, as a chain head (incremental verification). */
export function storeHeadOf(store: EventStore): (streamId: string, revision: number) => Promise<StreamHead | undefined> {
  return async (streamId, revision) => {
    const [event] = await store.readStream(streamId, { fromRevision: revision, toRevision: revision });
    return event ? { revision: event.revision, hash: event.hash } : undefined;
  };
}

/**
 * The store's log in order, page by page, up to `upTo` (inclusive; default: the head when the read
 * starts, so that a busy log does not keep the reader going forever).
 */
export async function* readLog(
  store: EventStore,
  options: { pageSize?: number; upTo?: string | null; after?: string | null } = {},
): AsyncGenerator<RecordedEvent> {
  const pageSize = options.pageSize ?? 1000;
  const upTo = options.upTo === undefined ? await store.headPosition() : options.upTo;
  if (upTo === null) return;
  let after: string | null = options.after ?? null;
  for (;;) {
    const page = await store.readAll({ after, maxCount: pageSize });
    for (const event of page) {
      if (event.position > upTo) return;
      yield event;
    }
    // A short page is not the end (a page also ends at READ_PAGE_BYTES); an empty one, or upTo, is.
    if (page.length === 0 || page[page.length - 1]!.position === upTo) return;
    after = page[page.length - 1]!.position;
    // Let requests run between pages of a long read.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Adapters that write the global chain (and sign commits) on every event: their appends are serialised at commit. */
export function storeWritesChain(store: EventStore): boolean {
  return store.adapterName === 'sqlite' || store.adapterName === 'memory' || store.adapterName === 'postgres';
}

/** Verifies a store's whole log (up to its head when the call starts), and its signed heads with `trusted`. */
export async function verifyStore(
  store: EventStore,
  options: { pageSize?: number; onProgress?: (checked: number) => void; trusted?: TrustedKeys } = {},
): Promise<IntegrityReport> {
  const upTo = await store.headPosition();
  const { report } = await verifyEvents(readLog(store, { pageSize: options.pageSize, upTo }), {
    requireChain: storeWritesChain(store),
    trusted: options.trusted,
    signatures: options.trusted ? readSignatures(store, { upTo }) : undefined,
    onEvent: options.onProgress ? (_e, v) => options.onProgress!(v.eventsChecked) : undefined,
  });
  return report;
}
