/**
 * Event store on KurrentDB (EventStoreDB's successor) through @kurrent/kurrentdb-client.
 * The mapping (envelope, positions, stream states, errors) is in mapping.ts.
 *
 * - Streams are KurrentDB streams (`namespace + streamId`); the log is `$all`, filtered on the
 *   server to this namespace's non-system streams. Positions: see mapping.ts (commit-prepare, 20
 *   digits each). Positions have gaps (log offsets), and there is no global chain hash
 *   (`chainHash` absent) and so no signed commits: readSignatures() is []. The per-stream chain is
 *   kept: each append reads the stream's head, hashes its events on top of it (with recordedAt,
 *   hash version 2) and is sent with that exact revision as `streamState`, so the predecessor it
 *   hashed is the one stored. An `any` append that loses that race is read and hashed again.
 * - Appends of this process are serialised (one at a time, in call order): `any` appends to a
 *   stream keep their call order, and recordedAt (client-side: max(now, the newest recordedAt this
 *   writer has seen)) never decreases along what this process writes. Several writer processes
 *   can each be behind the other's clock: recordedAt is then ordered per writer only.
 * - Event ids are unique across the log (KurrentDB only drops a repeated id in the same stream,
 *   and only "in quick succession"): before an append, each event id is claimed in
 *   `$event-id-<ns><id>` with no_stream, naming the stream and revision it is for. A claim already
 *   there whose event is stored is a DuplicateEventIdError; one whose append never landed (it lost
 *   a race, or the process died) is taken over. Two appends of the same id racing from two
 *   processes can both land (event ids are generated fresh per decision, so only a bug does that).
 * - Idempotency keys: `$idempotency-<ns><sha256(key)>` is written with no_stream AFTER the events
 *   (KurrentDB has no multi-stream transaction), naming the stream and revisions they took. A retry
 *   looks the key up first and answers the first append. A crash between the events and the key
 *   leaves the events without their key: the retry is not recognised, and is stopped instead by
 *   its expected version (the command pipeline always appends at the version it read) or decided
 *   again as "already satisfied". Two processes racing with one key can both append (with `any`).
 * - appendMultiple: atomic with KurrentDB 25.1+ (`multiStreamAppend`: every part's exact revision
 *   checked, all or nothing). Against an older server (UnsupportedError, gRPC 12) it falls back for
 *   the life of the store to reserve-first: every part's version is checked first (a mismatch
 *   writes nothing), then parts[1..] (the claims on other streams: a name reservation, the stream
 *   a command links to) are written before parts[0] (the command's own stream). A lost race on a
 *   reservation therefore writes nothing; a failure after a claim was written cannot be undone (the
 *   store knows no domain "release" event) and is thrown as PartialMultiAppendError naming the
 *   streams written, for the caller to compensate. In the fallback, the parts' positions are not
 *   consecutive and parts[0] comes last.
 * - Subscriptions poll `$all` (woken at once by this process's appends, every pollIntervalMs for
 *   other writers'): KurrentDB serves `$all` only up to its committed checkpoint, so a position,
 *   once read, has no earlier event appearing after it.
 */
import {
  BACKWARDS,
  END,
  FORWARDS,
  KurrentDBClient,
  START,
  jsonEvent,
  streamNameFilter,
  type AppendStreamRequest,
  type Filter,
  type ReadPosition,
} from '@kurrent/kurrentdb-client';
import {
  WrongExpectedVersionError,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ExpectedVersion,
  type MultiAppendOptions,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StoreHealth,
  type StreamAppend,
  type SubscribeOptions,
  type SubscriptionHandle,
} from '../event-store.port.js';
import { CURRENT_HASH_VERSION, genesisHash } from '../hash-chain.js';
import { DuplicateEventIdError, EventStoreClosedError } from '../errors.js';
import {
  expectedVersionMatches,
  normaliseCount,
  prepareEvents,
  prepareParts,
  validateExpectedVersion,
  validateIdempotencyKey,
  validateStreamId,
  type PreparedPart,
} from '../internal/append-support.js';
import { trackedSubscription, WakeSignal, type ManagedSubscription } from '../internal/catch-up-subscription.js';
import type { HeadSignature } from '../signing.js';
import {
  EVENT_ID_GUARD_TYPE,
  IDEMPOTENCY_EVENT_TYPE,
  KURRENT_ZERO_POSITION,
  KurrentStreamNames,
  decodeKurrentPosition,
  fromKurrentEvent,
  isClientConflict,
  isStreamNotFound,
  isUnavailable,
  isUnsupported,
  nextRecordedAt,
  parseEventIdGuard,
  parseIdempotencyRecord,
  redactConnectionString,
  streamStateForHead,
  toKurrentEventData,
  translateAppendError,
  type IdempotencyRecord,
  type KurrentRecordedEvent,
} from './mapping.js';
import { PartialMultiAppendError, hashEvents, validHashVersion, type Head } from './append-helpers.js';

export { PartialMultiAppendError } from './append-helpers.js';

export interface KurrentDbEventStoreOptions {
  /** `kurrentdb://host:2113?tls=false` (also `esdb://`). */
  connectionString: string;
  /** Prefix of every stream of this store ('' in production; tests use one per store). */
  namespace?: string;
  /** How often a caught-up subscription polls for other writers' events. Default 200 ms. */
  pollIntervalMs?: number;
  /** Deadline of each call to the server. Default 10 s (health: 2 s). */
  deadlineMs?: number;
  /** Claim event ids to keep them unique across the log (see above). Default true. */
  uniqueEventIds?: boolean;
}

const DEFAULT_READ_COUNT = 1000;
const READ_CHUNK = 500;
const ANY_RETRIES = 20;


export class KurrentDbEventStore implements EventStore {
  readonly adapterName = 'kurrentdb';
  private readonly names: KurrentStreamNames;
  private readonly connectionString: string;
  private readonly pollIntervalMs: number;
  private readonly deadlineMs: number;
  private readonly uniqueEventIds: boolean;
  private readonly filter: Filter;
  private client: KurrentDBClient | null = null;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<void> | null = null;
  /** The tail of the append queue (appends run one at a time, in call order). */
  private tail: Promise<unknown> = Promise.resolve();
  /** Newest recordedAt this process has seen ('' before the first look at the log). */
  private lastRecordedAt = '';
  private headLoaded = false;
  /** null until a multi-stream append tells whether the server supports it. */
  private atomicMulti: boolean | null = null;
  private readonly wake = new WakeSignal();
  private readonly subscriptions = new Set<ManagedSubscription>();

  constructor(options: KurrentDbEventStoreOptions) {
    if (!options || typeof options.connectionString !== 'string' || options.connectionString.length === 0) {
      throw new TypeError('KurrentDbEventStore: options.connectionString is required');
    }
    this.connectionString = options.connectionString;
    this.names = new KurrentStreamNames(options.namespace ?? '');
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.deadlineMs = options.deadlineMs ?? 10_000;
    this.uniqueEventIds = options.uniqueEventIds ?? true;
    this.filter = streamNameFilter({ regex: this.names.allStreamsRegex });
  }

  // ---------------------------------------------------------------- lifecycle

  /** Creates the client (it connects lazily) and reads the log's newest recordedAt when the server answers. */
  async init(): Promise<void> {
    this.assertOpen();
    this.db();
    try {
      await this.loadHead();
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      // Unreachable now: health() says so; the head is read again before the first append.
    }
  }

  /** Refuses new work once close() was called. */
  private assertOpen(): void {
    if (this.state !== 'open') throw new EventStoreClosedError(this.adapterName);
  }

  /** The client; still there while close() lets the queued appends finish. */
  private db(): KurrentDBClient {
    if (this.state === 'closed') throw new EventStoreClosedError(this.adapterName);
    this.client ??= KurrentDBClient.connectionString(this.connectionString);
    return this.client;
  }

  private async loadHead(): Promise<void> {
    if (this.headLoaded) return;
    const [last] = await this.readAllRaw(END, 1, BACKWARDS);
    if (last) this.lastRecordedAt = nextRecordedAt(last.recordedAt, this.lastRecordedAt);
    this.headLoaded = true;
  }

  /** Runs the queued appends first, stops the subscriptions, then disposes of the client. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.state = 'closing';
    this.closing = (async () => {
      try {
        await this.tail.catch(() => undefined);
        await Promise.all([...this.subscriptions].map((sub) => sub.close()));
      } finally {
        const client = this.client;
        this.client = null;
        this.state = 'closed';
        await client?.dispose().catch(() => undefined);
      }
    })();
    return this.closing;
  }

  /** Queues a write behind the others (and ahead of close()). */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private callOptions() {
    return { deadline: this.deadlineMs };
  }

  // ---------------------------------------------------------------- writes

  append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    let part: PreparedPart;
    let hashVersion: number;
    try {
      this.assertOpen();
      validateExpectedVersion(options?.expectedVersion);
      validateIdempotencyKey(options.idempotencyKey);
      this.names.toKurrent(streamId);
      part = { streamId, events: prepareEvents(streamId, events), expected: options.expectedVersion };
      hashVersion = validHashVersion(options.hashVersion);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(async () => {
      const key = options.idempotencyKey;
      if (key !== undefined) {
        const earlier = await this.findByKey(key);
        if (earlier) return earlier;
      }
      const result = await this.appendOne(part, options.recordedAt, hashVersion);
      if (key !== undefined && result.events.length > 0) await this.recordKey(key, result);
      return result;
    });
  }

  private async appendOne(part: PreparedPart, recordedAtOption: string | undefined, hashVersion: number): Promise<AppendResult> {
    const { streamId, expected } = part;
    const name = this.names.toKurrent(streamId);
    for (let attempt = 0; ; attempt++) {
      const head = await this.readHead(streamId);
      if (!expectedVersionMatches(expected, head.version)) throw new WrongExpectedVersionError(streamId, expected, head.version);
      if (part.events.length === 0) {
        return { streamId, nextExpectedVersion: head.version, position: head.position ?? KURRENT_ZERO_POSITION, events: [], duplicate: false };
      }
      const recordedAt = await this.recordedAtFor(recordedAtOption);
      const recorded = hashEvents(streamId, part.events, head, recordedAt, hashVersion);
      if (this.uniqueEventIds) await this.claimEventIds(recorded);
      try {
        await this.db().appendToStream(name, recorded.map((e) => toKurrentEventData(e)), {
          streamState: streamStateForHead(head.version),
          ...this.callOptions(),
        });
      } catch (error) {
        if (isClientConflict(error) && expected.kind === 'any' && attempt < ANY_RETRIES) continue; // read and hash again
        throw this.translate(error, [part]);
      }
      return this.committed(streamId, recorded);
    }
  }

  appendMultiple(parts: StreamAppend[], options: MultiAppendOptions = {}): Promise<AppendResult[]> {
    let prepared: PreparedPart[];
    try {
      this.assertOpen();
      validateIdempotencyKey(options.idempotencyKey);
      prepared = prepareParts(parts);
      for (const p of prepared) this.names.toKurrent(p.streamId);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(async () => {
      const key = options.idempotencyKey;
      if (key !== undefined) {
        const earlier = await this.findByKey(key);
        if (earlier) return [earlier];
      }
      const results = await this.appendParts(prepared);
      if (key !== undefined && results[0]!.events.length > 0) await this.recordKey(key, results[0]!);
      return results;
    });
  }

  private async appendParts(parts: PreparedPart[]): Promise<AppendResult[]> {
    // Every part's version first: a mismatch writes nothing.
    const heads: Head[] = [];
    for (const part of parts) {
      const head = await this.readHead(part.streamId);
      if (!expectedVersionMatches(part.expected, head.version)) throw new WrongExpectedVersionError(part.streamId, part.expected, head.version);
      heads.push(head);
    }
    const recordedAt = await this.recordedAtFor(undefined);
    const recorded = parts.map((part, i) => hashEvents(part.streamId, part.events, heads[i]!, recordedAt, CURRENT_HASH_VERSION));
    if (this.uniqueEventIds) await this.claimEventIds(recorded.flat());

    if (this.atomicMulti !== false) {
      const requests: AppendStreamRequest[] = parts
        .map((part, i) => ({
          streamName: this.names.toKurrent(part.streamId),
          events: recorded[i]!.map((e) => toKurrentEventData(e)),
          expectedState: streamStateForHead(heads[i]!.version),
        }))
        .filter((r) => r.events.length > 0);
      try {
        if (requests.length > 0) await this.db().multiStreamAppend(requests);
        this.atomicMulti = true;
        return await Promise.all(parts.map((part, i) => this.committedOrEmpty(part.streamId, recorded[i]!, heads[i]!)));
      } catch (error) {
        if (!isUnsupported(error)) throw this.translate(error, parts);
        this.atomicMulti = false;
      }
    }

    // Reserve-first fallback (see the header): parts[1..] first, the command's own stream last.
    const order = [...parts.keys()].slice(1).concat(0);
    const results: AppendResult[] = new Array(parts.length);
    const written: AppendResult[] = [];
    for (const i of order) {
      const part = parts[i]!;
      try {
        if (recorded[i]!.length > 0) {
          await this.db().appendToStream(this.names.toKurrent(part.streamId), recorded[i]!.map((e) => toKurrentEventData(e)), {
            streamState: streamStateForHead(heads[i]!.version),
            ...this.callOptions(),
          });
        }
      } catch (error) {
        const translated = this.translate(error, parts);
        if (written.length > 0 && translated instanceof WrongExpectedVersionError) throw new PartialMultiAppendError(translated, written);
        throw translated;
      }
      results[i] = await this.committedOrEmpty(part.streamId, recorded[i]!, heads[i]!);
      if (recorded[i]!.length > 0) written.push(results[i]!);
    }
    return results;
  }

  private translate(error: unknown, parts: PreparedPart[]): unknown {
    return translateAppendError(
      error,
      (id) => parts.find((p) => p.streamId === id)?.expected,
      (name) => this.names.fromKurrent(name),
      parts[0]!.streamId,
    );
  }

  private async recordedAtFor(option: string | undefined): Promise<string> {
    if (!this.headLoaded) await this.loadHead();
    this.lastRecordedAt = nextRecordedAt(option ?? new Date().toISOString(), this.lastRecordedAt);
    return this.lastRecordedAt;
  }

  /** Reads back what was written (the positions come from the server) and wakes the subscriptions. */
  private async committed(streamId: string, recorded: RecordedEvent[]): Promise<AppendResult> {
    const first = recorded[0]!.revision;
    const stored = await this.readStream(streamId, { fromRevision: first, toRevision: first + recorded.length - 1 });
    if (stored.length !== recorded.length || stored.some((e, i) => e.eventId !== recorded[i]!.eventId || e.hash !== recorded[i]!.hash)) {
      throw new Error(`KurrentDB: the events read back from ${streamId} at ${first} are not the ones appended`);
    }
    this.wake.notify();
    return { streamId, nextExpectedVersion: stored[stored.length - 1]!.revision, position: stored[stored.length - 1]!.position, events: stored, duplicate: false };
  }

  private committedOrEmpty(streamId: string, recorded: RecordedEvent[], head: Head): Promise<AppendResult> {
    if (recorded.length > 0) return this.committed(streamId, recorded);
    return Promise.resolve({ streamId, nextExpectedVersion: head.version, position: head.position ?? KURRENT_ZERO_POSITION, events: [], duplicate: false });
  }

  /** Claims each event id (see the header); throws DuplicateEventIdError for an id already stored. */
  private async claimEventIds(events: RecordedEvent[]): Promise<void> {
    await Promise.all(
      events.map(async (e) => {
        const guard = this.names.eventIdGuard(e.eventId);
        const claim = () =>
          jsonEvent({ type: EVENT_ID_GUARD_TYPE, data: { streamId: e.streamId, revision: e.revision } });
        try {
          await this.db().appendToStream(guard, claim(), { streamState: 'no_stream', ...this.callOptions() });
          return;
        } catch (error) {
          if (!isClientConflict(error)) throw error;
        }
        const last = await this.readLastRaw(guard);
        const earlier = last ? parseEventIdGuard(last.data) : null;
        if (earlier && (earlier.streamId !== e.streamId || earlier.revision !== e.revision)) {
          const [there] = await this.readStream(earlier.streamId, { fromRevision: earlier.revision, toRevision: earlier.revision });
          if (there?.eventId === e.eventId) throw new DuplicateEventIdError(e.eventId, e.streamId);
        } else if (earlier) {
          return; // our own claim from an attempt that lost a race: still ours
        }
        try {
          await this.db().appendToStream(guard, claim(), { streamState: last ? last.revision : 'no_stream', ...this.callOptions() });
        } catch (error) {
          if (isClientConflict(error)) throw new DuplicateEventIdError(e.eventId, e.streamId);
          throw error;
        }
      }),
    );
  }

  private async recordKey(key: string, result: AppendResult): Promise<void> {
    const record: IdempotencyRecord = {
      streamId: result.streamId,
      firstRevision: result.events[0]!.revision,
      lastRevision: result.events[result.events.length - 1]!.revision,
    };
    try {
      await this.db().appendToStream(this.names.idempotency(key), jsonEvent({ type: IDEMPOTENCY_EVENT_TYPE, data: { ...record } }), {
        streamState: 'no_stream',
        ...this.callOptions(),
      });
    } catch (error) {
      // Another process recorded the key meanwhile: our events stand, the key names theirs.
      if (!isClientConflict(error)) throw error;
    }
  }

  private async findByKey(key: string): Promise<AppendResult | null> {
    const last = await this.readLastRaw(this.names.idempotency(key));
    const record = last ? parseIdempotencyRecord(last.data) : null;
    if (!record) return null;
    const events = await this.readStream(record.streamId, { fromRevision: record.firstRevision, toRevision: record.lastRevision });
    if (events.length === 0) return null;
    const lastEvent = events[events.length - 1]!;
    return { streamId: record.streamId, nextExpectedVersion: lastEvent.revision, position: lastEvent.position, events, duplicate: true };
  }

  // ---------------------------------------------------------------- reads

  private async readHead(streamId: string): Promise<Head> {
    const last = await this.readLastRaw(this.names.toKurrent(streamId));
    if (!last) return { version: -1, hash: genesisHash(streamId), position: null };
    const e = fromKurrentEvent(last, streamId);
    return { version: e.revision, hash: e.hash, position: e.position };
  }

  /** The last event of a KurrentDB stream, or null when there is none. */
  private async readLastRaw(name: string): Promise<KurrentRecordedEvent | null> {
    try {
      for await (const resolved of this.db().readStream(name, { direction: BACKWARDS, fromRevision: END, maxCount: 1, ...this.callOptions() })) {
        if (resolved.event) return resolved.event as KurrentRecordedEvent;
      }
      return null;
    } catch (error) {
      if (isStreamNotFound(error)) return null;
      throw error;
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    validateStreamId(streamId);
    const name = this.names.toKurrent(streamId);
    const from = normaliseCount(options.fromRevision, 0, 'fromRevision');
    const to = normaliseCount(options.toRevision, Number.MAX_SAFE_INTEGER, 'toRevision');
    if (from > to) return [];
    const out: RecordedEvent[] = [];
    try {
      const maxCount = to === Number.MAX_SAFE_INTEGER ? undefined : to - from + 1;
      for await (const resolved of this.db().readStream(name, {
        direction: FORWARDS,
        fromRevision: from === 0 ? START : BigInt(from),
        ...(maxCount === undefined ? {} : { maxCount }),
        ...this.callOptions(),
      })) {
        if (resolved.event) out.push(fromKurrentEvent(resolved.event as KurrentRecordedEvent, streamId));
      }
    } catch (error) {
      if (isStreamNotFound(error)) return [];
      throw error;
    }
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const types = options.types;
    if (types !== undefined && types !== null && !Array.isArray(types)) throw new TypeError('types must be an array of strings');
    return this.readPage(options.after ?? null, normaliseCount(options.maxCount, DEFAULT_READ_COUNT, 'maxCount'), types ?? undefined);
  }

  /** Up to maxCount events strictly after `after` (types filtered here: the server filters on stream names). */
  private async readPage(after: string | null, maxCount: number, types?: string[]): Promise<RecordedEvent[]> {
    let cursor: ReadPosition = after === null ? START : decodeKurrentPosition(after);
    let floor = after;
    if (maxCount === 0 || (types && types.length === 0)) return [];
    const wanted = types ? new Set(types) : null;
    const out: RecordedEvent[] = [];
    for (;;) {
      const chunk = await this.readAllRaw(cursor, Math.min(READ_CHUNK, maxCount - out.length + 1), FORWARDS);
      let fresh = 0;
      for (const e of chunk) {
        if (floor !== null && e.position <= floor) continue; // fromPosition is inclusive
        fresh++;
        floor = e.position;
        if (!wanted || wanted.has(e.type)) out.push(e);
        if (out.length === maxCount) return out;
      }
      if (fresh === 0 || floor === null) return out;
      cursor = decodeKurrentPosition(floor);
    }
  }

  private async readAllRaw(from: ReadPosition, maxCount: number, direction: typeof FORWARDS | typeof BACKWARDS): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    for await (const resolved of this.db().readAll({ fromPosition: from, maxCount, direction, filter: this.filter, ...this.callOptions() })) {
      const event = resolved.event as KurrentRecordedEvent | undefined;
      if (!event) continue;
      const streamId = this.names.fromKurrent(event.streamId);
      if (streamId === null) continue; // the server filter already excludes these
      out.push(fromKurrentEvent(event, streamId));
    }
    if (out.length > 0) this.lastRecordedAt = nextRecordedAt(out[out.length - 1]!.recordedAt, this.lastRecordedAt);
    return out;
  }

  async headPosition(): Promise<string | null> {
    const [last] = await this.readAllRaw(END, 1, BACKWARDS);
    return last ? last.position : null;
  }

  async streamVersion(streamId: string): Promise<number> {
    validateStreamId(streamId);
    return (await this.readHead(streamId)).version;
  }

  async findIdempotentAppend(idempotencyKey: string): Promise<AppendResult | null> {
    validateIdempotencyKey(idempotencyKey);
    if (idempotencyKey === undefined) return null;
    this.db();
    return this.findByKey(idempotencyKey);
  }

  /** No global chain, so no signed commits. */
  async readSnapshot(): Promise<null> { return null; } // no snapshots kept: an optimisation only, readers fold the whole stream
  async writeSnapshot(): Promise<void> {}
  async readSignatures(): Promise<HeadSignature[]> {
    return [];
  }

  // ---------------------------------------------------------------- subscriptions

  subscribeToAll(options: SubscribeOptions): SubscriptionHandle {
    this.assertOpen();
    // The shared loop accepts this adapter's commit-prepare positions (hash-chain.ts isPosition).
    return trackedSubscription(
      this.subscriptions,
      {
        readPage: (after, max) => {
          if (this.state === 'closed') throw new EventStoreClosedError(this.adapterName);
          if (after !== null) decodeKurrentPosition(after);
          return this.readPage(after, max);
        },
        wake: this.wake,
        pollIntervalMs: this.pollIntervalMs,
        defaultBatchSize: 500,
      },
      options,
    );
  }

  // ---------------------------------------------------------------- diagnostics

  async health(): Promise<StoreHealth> {
    const connection = redactConnectionString(this.connectionString);
    try {
      if (this.state !== 'open') throw new EventStoreClosedError(this.adapterName);
      const [last] = await this.readAllRaw(END, 1, BACKWARDS);
      return {
        ok: true,
        adapter: this.adapterName,
        details: { connection, headPosition: last?.position ?? null, atomicMultiStreamAppend: this.atomicMulti },
      };
    } catch (error) {
      return {
        ok: false,
        adapter: this.adapterName,
        details: {
          connection,
          reason: isUnavailable(error) ? 'unreachable' : 'error',
          error: error instanceof Error ? error.message : String(error),
        },
      };
    }
  }
}
