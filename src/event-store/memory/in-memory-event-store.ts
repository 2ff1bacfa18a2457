/**
 * In-memory event store for tests and EVENT_STORE=memory. Same semantics as the SQLite adapter:
 * per-stream hash chain, global chain hash, gap-free positions, expected-version checks,
 * idempotency keys, unique event ids and catch-up subscriptions. Events are kept as JSON text and
 * parsed on every read, so readers never share (and cannot corrupt) the stored objects.
 */
import {
  READ_PAGE_BYTES,
  WrongExpectedVersionError,
  type AppendOptions,
  type AppendResult,
  type StreamHeadLookup,
  type MultiAppendOptions,
  type StreamAppend,
  type EventStore,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StoreHealth,
  type SubscribeOptions,
  type SubscriptionHandle,
  type ReadSnapshotOptions,
  type StreamSnapshot,
} from '../event-store.port.js';
import { prepareSnapshot, snapshotMatches, snapshotQuery, toSnapshot, type PreparedSnapshot } from '../internal/snapshot-support.js';
import { CURRENT_HASH_VERSION, LOG_GENESIS, decodePosition, encodePosition, genesisHash, InvalidPositionError } from '../hash-chain.js';
import type { ChainSigner, HeadSignature } from '../signing.js';
import { DuplicateEventIdError, EventStoreClosedError, InvalidAppendError } from '../errors.js';
import {
  expectedVersionMatches,
  normaliseCount,
  prepareEvents,
  prepareParts,
  type PreparedEvent,
  type PreparedPart,
  recordEvent,
  validateExpectedVersion,
  validateIdempotencyKey,
  validateStreamId,
  validHashVersion,
} from '../internal/append-support.js';
import { trackedSubscription, WakeSignal, type ManagedSubscription } from '../internal/catch-up-subscription.js';

interface StoredEvent {
  eventId: string;
  type: string;
  schemaVersion: number;
  dataJson: string;
  metadataJson: string;
  streamId: string;
  revision: number;
  position: string;
  recordedAt: string;
  prevHash: string;
  hash: string;
  chainHash: string;
  hashVersion: number;
}

interface StreamState {
  /** Indexes into the log, one per revision. */
  indexes: number[];
  lastHash: string;
}

export interface InMemoryEventStoreOptions {
  /** Safety net for subscriptions; appends wake them at once anyway. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Signs each commit's chain head. Without one, nothing is signed. */
  signer?: ChainSigner;
}

export class InMemoryEventStore implements EventStore {
  readonly adapterName = 'memory';
  private readonly log: StoredEvent[] = [];
  private readonly streams = new Map<string, StreamState>();
  private readonly eventIds = new Set<string>();
  private readonly idempotency = new Map<string, { first: number; last: number; streamId: string }>();
  private lastChainHash = LOG_GENESIS;
  private readonly wake = new WakeSignal();
  private readonly subscriptions = new Set<ManagedSubscription>();
  private closed = false;
  private readonly pollIntervalMs: number;
  private readonly signer?: ChainSigner;
  private readonly signatures: HeadSignature[] = [];
  /** Snapshots beside the log: stream → `${stateVersion}` → by revision (JSON text, never shared). */
  private readonly snapshots = new Map<string, Map<string, Map<number, PreparedSnapshot>>>();

  constructor(options: InMemoryEventStoreOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.signer = options.signer;
  }

  async readSignatures(options: { after?: string | null; upTo?: string | null; maxCount?: number } = {}): Promise<HeadSignature[]> {
    this.assertOpen();
    const max = normaliseCount(options.maxCount, 1000, 'maxCount');
    return this.signatures.filter((s) => (!options.after || s.position > options.after) && (!options.upTo || s.position <= options.upTo)).slice(0, max);
  }

  async init(): Promise<void> {
    this.assertOpen();
  }

  async append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.assertOpen();
    validateExpectedVersion(options?.expectedVersion);
    validateIdempotencyKey(options.idempotencyKey);
    const prepared = prepareEvents(streamId, events);
    return (await this.commitParts([{ streamId, events: prepared, expected: options.expectedVersion }], options.idempotencyKey, options.recordedAt, options.hashVersion))[0]!;
  }

  async appendMultiple(parts: StreamAppend[], options: MultiAppendOptions = {}): Promise<AppendResult[]> {
    this.assertOpen();
    validateIdempotencyKey(options.idempotencyKey);
    return this.commitParts(prepareParts(parts), options.idempotencyKey);
  }

  /** Checks every part, then writes them all: a throw before the first write leaves the store untouched. */
  private commitParts(parts: PreparedPart[], key: string | undefined, recordedAtOption?: string, hashVersion: number = CURRENT_HASH_VERSION): AppendResult[] {
    validHashVersion(hashVersion);
    if (key !== undefined) {
      const earlier = this.findByKey(key);
      if (earlier) return [earlier];
    }
    for (const part of parts) {
      const stream = this.streams.get(part.streamId);
      const actual = stream ? stream.indexes.length - 1 : -1;
      if (!expectedVersionMatches(part.expected, actual)) throw new WrongExpectedVersionError(part.streamId, part.expected, actual);
      for (const e of part.events) {
        if (this.eventIds.has(e.eventId)) throw new DuplicateEventIdError(e.eventId, part.streamId);
      }
    }
    const candidate = recordedAtOption ?? new Date().toISOString();
    const previous = this.log.length ? this.log[this.log.length - 1]!.recordedAt : '';
    const recordedAt = candidate > previous ? candidate : previous;
    const firstOfCommit = encodePosition(this.log.length + 1);
    const results = parts.map((part) => this.write(part.streamId, part.events, recordedAt, hashVersion));
    // The commit's chain head, signed with the commit.
    if (this.signer && results.some((r) => r.events.length > 0)) this.signatures.push(this.signer.sign('log', this.log[this.log.length - 1]!.position, this.lastChainHash, firstOfCommit));
    const primary = results[0]!;
    if (key !== undefined && primary.events.length > 0) {
      this.idempotency.set(key, { first: positionIndex(primary.events[0]!.position) - 1, last: positionIndex(primary.position) - 1, streamId: primary.streamId });
    }
    if (results.some((r) => r.events.length > 0)) this.wake.notify();
    return results;
  }

  private write(streamId: string, prepared: PreparedEvent[], recordedAt: string, hashVersion: number): AppendResult {
    const stream = this.streams.get(streamId);
    const actual = stream ? stream.indexes.length - 1 : -1;
    if (prepared.length === 0) {
      return { streamId, nextExpectedVersion: actual, position: this.head() ?? encodePosition(0), events: [], duplicate: false };
    }
    let prevHash = stream ? stream.lastHash : genesisHash(streamId);
    let chain = this.lastChainHash;
    const recorded: RecordedEvent[] = new Array(prepared.length);
    const first = this.log.length;
    const state = stream ?? { indexes: [], lastHash: prevHash };
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i]!;
      const r = recordEvent(streamId, actual + 1 + i, first + 1 + i, prevHash, chain, recordedAt, p, hashVersion);
      recorded[i] = r;
      this.log.push({
        eventId: r.eventId,
        type: r.type,
        schemaVersion: r.schemaVersion,
        dataJson: p.dataJson,
        metadataJson: p.metadataJson,
        streamId,
        revision: r.revision,
        position: r.position,
        recordedAt,
        prevHash,
        hash: r.hash,
        chainHash: r.chainHash!,
        hashVersion,
      });
      state.indexes.push(first + i);
      this.eventIds.add(r.eventId);
      prevHash = r.hash;
      chain = r.chainHash!;
    }
    state.lastHash = prevHash;
    if (!stream) this.streams.set(streamId, state);
    this.lastChainHash = chain;
    const last = recorded[recorded.length - 1]!;
    return { streamId, nextExpectedVersion: last.revision, position: last.position, events: recorded, duplicate: false };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    validateStreamId(streamId);
    const stream = this.streams.get(streamId);
    if (!stream) return [];
    const from = normaliseCount(options.fromRevision, 0, 'fromRevision');
    const to = Math.min(normaliseCount(options.toRevision, Number.MAX_SAFE_INTEGER, 'toRevision'), stream.indexes.length - 1);
    const out: RecordedEvent[] = [];
    for (let r = from; r <= to; r++) out.push(materialise(this.log[stream.indexes[r]!]!));
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const maxBytes = normaliseCount(options.maxBytes, READ_PAGE_BYTES, 'maxBytes');
    return this.readPage(options.after ?? null, normaliseCount(options.maxCount, 1000, 'maxCount'), options.types, maxBytes);
  }

  private readPage(after: string | null, maxCount: number, types?: string[], maxBytes = READ_PAGE_BYTES): RecordedEvent[] {
    const start = after === null ? 0 : positionIndex(after);
    const out: RecordedEvent[] = [];
    if (maxCount === 0) return out;
    const filter = types ? new Set(types) : null;
    let bytes = 0;
    for (let i = start; i < this.log.length; i++) {
      const e = this.log[i]!;
      if (filter && !filter.has(e.type)) continue;
      out.push(materialise(e));
      bytes += Buffer.byteLength(e.dataJson) + Buffer.byteLength(e.metadataJson); // UTF-8, as the other stores count
      if (out.length >= maxCount || bytes >= maxBytes) break;
    }
    return out;
  }

  async headPosition(): Promise<string | null> {
    this.assertOpen();
    return this.head();
  }

  private head(): string | null {
    return this.log.length === 0 ? null : this.log[this.log.length - 1]!.position;
  }

  async streamVersion(streamId: string): Promise<number> {
    this.assertOpen();
    validateStreamId(streamId);
    const stream = this.streams.get(streamId);
    return stream ? stream.indexes.length - 1 : -1;
  }

  /** Every head is current here: nothing else writes this log. */
  currentStreamHeads(): StreamHeadLookup {
    return (streamId) => {
      const stream = this.closed ? undefined : this.streams.get(streamId);
      if (!stream) return undefined;
      return { revision: stream.indexes.length - 1, position: this.log[stream.indexes[stream.indexes.length - 1]!]!.position };
    };
  }

  async findIdempotentAppend(idempotencyKey: string): Promise<AppendResult | null> {
    this.assertOpen();
    validateIdempotencyKey(idempotencyKey);
    return idempotencyKey === undefined ? null : this.findByKey(idempotencyKey);
  }

  private findByKey(key: string): AppendResult | null {
    const earlier = this.idempotency.get(key);
    if (!earlier) return null;
    const events = this.log.slice(earlier.first, earlier.last + 1).map(materialise);
    const last = events[events.length - 1]!;
    return { streamId: earlier.streamId, nextExpectedVersion: last.revision, position: last.position, events, duplicate: true };
  }

  async readSnapshot(streamId: string, stateVersion: string, options: ReadSnapshotOptions = {}): Promise<StreamSnapshot | null> {
    this.assertOpen();
    const query = snapshotQuery(streamId, stateVersion, options);
    let best: PreparedSnapshot | undefined;
    for (const s of this.snapshots.get(streamId)?.get(stateVersion)?.values() ?? []) {
      if (snapshotMatches(s, query) && (!best || s.revision > best.revision)) best = s;
    }
    return best ? toSnapshot(best) : null;
  }

  async writeSnapshot(snapshot: StreamSnapshot): Promise<void> {
    this.assertOpen();
    const p = prepareSnapshot(snapshot);
    let byVersion = this.snapshots.get(p.streamId);
    if (!byVersion) this.snapshots.set(p.streamId, (byVersion = new Map()));
    let byRevision = byVersion.get(p.stateVersion);
    if (!byRevision) byVersion.set(p.stateVersion, (byRevision = new Map()));
    byRevision.set(p.revision, p);
  }

  subscribeToAll(options: SubscribeOptions): SubscriptionHandle {
    this.assertOpen();
    return trackedSubscription(
      this.subscriptions,
      {
        readPage: (after, max) => this.readPage(after, max),
        wake: this.wake,
        pollIntervalMs: this.pollIntervalMs,
        defaultBatchSize: 500,
      },
      options,
    );
  }

  async health(): Promise<StoreHealth> {
    return {
      ok: !this.closed,
      adapter: this.adapterName,
      details: { events: this.log.length, streams: this.streams.size, headPosition: this.head() },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreClosedError(this.adapterName);
  }
}

function positionIndex(after: string): number {
  if (typeof after !== 'string') throw new InvalidPositionError(String(after));
  const n = decodePosition(after);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidPositionError(after);
  return Number(n);
}

function materialise(e: StoredEvent): RecordedEvent {
  return {
    eventId: e.eventId,
    type: e.type,
    schemaVersion: e.schemaVersion,
    data: JSON.parse(e.dataJson) as Record<string, unknown>,
    metadata: JSON.parse(e.metadataJson) as RecordedEvent['metadata'],
    streamId: e.streamId,
    revision: e.revision,
    position: e.position,
    recordedAt: e.recordedAt,
    prevHash: e.prevHash,
    hash: e.hash,
    chainHash: e.chainHash,
    hashVersion: e.hashVersion,
  };
}
