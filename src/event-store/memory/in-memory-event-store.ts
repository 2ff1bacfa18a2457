/**
 * In-memory event store for tests and EVENT_STORE=memory. Same semantics as the SQLite adapter:
 * per-stream hash chain, global chain hash, gap-free positions, expected-version checks,
 * idempotency keys, unique event ids and catch-up subscriptions. Events are kept as JSON text and
 * parsed on every read, so readers never share (and cannot corrupt) the stored objects.
 */
import {
  WrongExpectedVersionError,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StoreHealth,
  type SubscribeOptions,
  type SubscriptionHandle,
} from '../event-store.port.js';
import { LOG_GENESIS, decodePosition, encodePosition, genesisHash, InvalidPositionError } from '../hash-chain.js';
import { DuplicateEventIdError, EventStoreClosedError } from '../errors.js';
import {
  expectedVersionMatches,
  normaliseCount,
  prepareEvents,
  recordEvent,
  validateExpectedVersion,
  validateIdempotencyKey,
  validateStreamId,
} from '../internal/append-support.js';
import { startCatchUpSubscription, WakeSignal, type ManagedSubscription } from '../internal/catch-up-subscription.js';

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
}

interface StreamState {
  /** Indexes into the log, one per revision. */
  indexes: number[];
  lastHash: string;
}

export interface InMemoryEventStoreOptions {
  /** Safety net for subscriptions; appends wake them at once anyway. Default 1000 ms. */
  pollIntervalMs?: number;
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

  constructor(options: InMemoryEventStoreOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
  }

  async init(): Promise<void> {
    this.assertOpen();
  }

  async append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.assertOpen();
    validateExpectedVersion(options?.expectedVersion);
    validateIdempotencyKey(options.idempotencyKey);
    const prepared = prepareEvents(streamId, events);
    const key = options.idempotencyKey;

    if (key !== undefined) {
      const earlier = this.findByKey(key);
      if (earlier) return earlier;
    }

    const stream = this.streams.get(streamId);
    const actual = stream ? stream.indexes.length - 1 : -1;
    if (!expectedVersionMatches(options.expectedVersion, actual)) {
      throw new WrongExpectedVersionError(streamId, options.expectedVersion, actual);
    }
    if (prepared.length === 0) {
      return { streamId, nextExpectedVersion: actual, position: this.head() ?? encodePosition(0), events: [], duplicate: false };
    }
    for (const e of prepared) {
      if (this.eventIds.has(e.eventId)) throw new DuplicateEventIdError(e.eventId, streamId);
    }

    const candidate = options.recordedAt ?? new Date().toISOString();
    const previous = this.log.length ? this.log[this.log.length - 1]!.recordedAt : '';
    const recordedAt = candidate > previous ? candidate : previous;
    let prevHash = stream ? stream.lastHash : genesisHash(streamId);
    let chain = this.lastChainHash;
    const recorded: RecordedEvent[] = new Array(prepared.length);
    const stored: StoredEvent[] = new Array(prepared.length);
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i]!;
      const r = recordEvent(streamId, actual + 1 + i, this.log.length + 1 + i, prevHash, chain, recordedAt, p);
      recorded[i] = r;
      stored[i] = {
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
      };
      prevHash = r.hash;
      chain = r.chainHash!;
    }

    // Commit: nothing above mutated the store, so a throw before this point leaves it untouched.
    const first = this.log.length;
    const state = stream ?? { indexes: [], lastHash: prevHash };
    for (let i = 0; i < stored.length; i++) {
      this.log.push(stored[i]!);
      state.indexes.push(first + i);
      this.eventIds.add(stored[i]!.eventId);
    }
    state.lastHash = prevHash;
    if (!stream) this.streams.set(streamId, state);
    this.lastChainHash = chain;
    if (key !== undefined) this.idempotency.set(key, { first, last: this.log.length - 1, streamId });
    this.wake.notify();

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
    return this.readPage(options.after ?? null, normaliseCount(options.maxCount, 1000, 'maxCount'), options.types);
  }

  private readPage(after: string | null, maxCount: number, types?: string[]): RecordedEvent[] {
    const start = after === null ? 0 : positionIndex(after);
    const out: RecordedEvent[] = [];
    if (maxCount === 0) return out;
    const filter = types ? new Set(types) : null;
    for (let i = start; i < this.log.length; i++) {
      const e = this.log[i]!;
      if (filter && !filter.has(e.type)) continue;
      out.push(materialise(e));
      if (out.length >= maxCount) break;
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

  subscribeToAll(options: SubscribeOptions): SubscriptionHandle {
    this.assertOpen();
    const sub = startCatchUpSubscription(
      {
        readPage: (after, max) => this.readPage(after, max),
        wake: this.wake,
        pollIntervalMs: this.pollIntervalMs,
        defaultBatchSize: 500,
      },
      options,
    );
    this.subscriptions.add(sub);
    void sub.ended.then(() => this.subscriptions.delete(sub));
    return { close: () => sub.close() };
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
  };
}
