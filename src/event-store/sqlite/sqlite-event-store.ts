/**
 * Embedded event store on SQLite (better-sqlite3).
 *
 * - One connection, opened once with WAL. A promise returned by append() resolves only after
 *   its events are on disk: COMMIT runs at synchronous=NORMAL (crash-safe, but it does not wait
 *   for the disk) and this store then fsyncs the WAL itself, off the event loop (durable commit,
 *   below). Without a WAL file to sync (in memory), commits run at synchronous=FULL.
 * - Group commit: append() only validates, snapshots the events as JSON and enqueues. A flusher
 *   (scheduled with setImmediate, so every append issued in the same turn of the event loop joins
 *   it) writes up to maxBatch appends in ONE immediate transaction, i.e. one fsync. Each append is
 *   checked against the stream's head (its last event, via the (stream_id, revision) index) plus what earlier appends of the same batch wrote, so a
 *   losing append fails alone with WrongExpectedVersionError while the others commit.
 * - Positions are SQLite rowids assigned by the writer (gap-free); the global chain hash is kept
 *   in memory and reloaded inside the write transaction whenever PRAGMA data_version shows that
 *   another connection (another process on the same file) committed in between.
 * - Subscriptions are woken after each durable commit and poll every pollIntervalMs, so
 *   writes by other processes on the same file are delivered as well.
 *
 * Durable commit. The fsync of a commit used to block the event loop for the disk's latency;
 * now a batch is committed at NORMAL and its appends wait, off the loop, for an fsync of the WAL
 * started after that commit (one fsync at a time: batches committed meanwhile share the next).
 * Meanwhile the loop serves other requests and commits the next batch. Until that fsync
 * returns, the batch's events are committed but not durable: a power loss may take them back
 * (SQLite recovers the WAL up to the last synced frame). So nothing may act on them or show
 * them yet:
 *   - readAll, subscriptions, headPosition and readSignatures stop at `durablePosition`;
 *   - readStream and findIdempotentAppend, which the command path needs current (deciding on
 *     an older version would only conflict), wait for the events they return to be durable;
 *   - a duplicate of a key or an append that lost to a not yet durable one settles with its batch.
 * Commits by another process on the same file are fsynced by this store too before its readers
 * see them (PRAGMA data_version shows them). A failed fsync fails the store
 * (EventStoreDurabilityError) rather than guess what reached the disk.
 */
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type MultiAppendOptions,
  type NewEvent,
  type StreamAppend,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StoreHealth,
  type SubscribeOptions,
  type SubscriptionHandle,
  type ReadSnapshotOptions,
  type StreamSnapshot,
} from '../event-store.port.js';
import { prepareSnapshot, snapshotQuery, toSnapshot } from '../internal/snapshot-support.js';
import { CURRENT_HASH_VERSION, LOG_GENESIS, encodePosition, genesisHash } from '../hash-chain.js';
import { DuplicateEventIdError, EventStoreClosedError, EventStoreDurabilityError, EventStoreSchemaError, InvalidAppendError } from '../errors.js';
import {
  checkParts,
  commitInstant,
  normaliseCount,
  prepareEvents,
  prepareParts,
  recordEvent,
  validateExpectedVersion,
  validateIdempotencyKey,
  validateStreamId,
  validHashVersion,
  type PreparedPart,
  type StreamHead,
} from '../internal/append-support.js';
import { trackedSubscription, WakeSignal, type ManagedSubscription } from '../internal/catch-up-subscription.js';
import type { ChainSigner, HeadSignature } from '../signing.js';
import { positionNumber, prepareStatements, migrate, type Statements, type Stmt } from './rows.js';
import { toRecorded, type EventRow } from '../internal/event-rows.js';
import { EVENT_COLUMNS } from '../internal/event-rows.js';

export interface SqliteEventStoreOptions {
  /** Database file; its directory is created if missing. */
  path: string;
  /** How often a caught-up subscription looks for writes by other processes. Default 250 ms. */
  pollIntervalMs?: number;
  /** Most appends written in one transaction. Default 1000. */
  maxBatch?: number;
  /** SQLite busy timeout when another process holds the write lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Signs each commit's chain head (in the commit's transaction). Without one, nothing is signed. */
  signer?: ChainSigner;
  /**
   * How the WAL file is made durable, off the event loop. Default: fs.fdatasync on the thread pool
   * (or fdatasyncSync inline for a lone append, see syncInline). Tests replace it to hold a sync open
   * and watch what waits for it; every sync then goes through it.
   */
  syncWal?: (fd: number) => Promise<void>;
}

/** Counters of the group commit, for benchmarks and diagnostics. */
export interface SqliteEventStoreStats {
  /** Write transactions committed (or attempted). */
  transactions: number;
  /** Appends settled (committed, duplicate or rejected by the flusher). */
  appends: number;
  /** Events written. */
  events: number;
  /** Largest number of appends in one transaction. */
  largestBatch: number;
  /** fsyncs of the WAL issued by the store (durable commit); 0 when SQLite syncs each commit. */
  syncs: number;
  /** Of those, run inline for a lone append (the others ran off the event loop). */
  inlineSyncs: number;
}

/** A committed batch whose appends are settled once an fsync started after its commit returns. */
interface UnsyncedBatch {
  batch: PendingAppend[];
  outcomes: Outcome[];
}

/** A reader waiting for a position to become durable. */
interface DurableWaiter {
  position: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

// fdatasync: the data and the file size needed to read it back, without the timestamps (about
// 130 against 170 µs median per sync on this machine). SQLite's own os_unix.c holds that
// "an fdatasync() is always adequate" for its files; its bundled build here calls fsync only
// because it is not compiled with HAVE_FDATASYNC.
const fsyncOffLoop = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));

/** One queued append: a single stream, or several streams written atomically (appendMultiple). */
interface PendingAppend {
  parts: PreparedPart[];
  key: string | undefined;
  recordedAt: string | undefined;
  hashVersion: number;
  /** append(): settles with its one part's result; appendMultiple(): with all of them. */
  single: boolean;
  resolve: (value: AppendResult | AppendResult[]) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; results: AppendResult[] } | { ok: false; error: unknown };

interface BatchResult {
  outcomes: Outcome[];
  /** Head position and global chain hash after the batch. */
  position: number;
  chain: string;
  written: number;
  /** Stream heads the batch wrote. */
  streams: Map<string, StreamHead> | null;
  /** recordedAt of the batch's newest event. */
  lastRecordedAt: string;
}

/** Stream heads kept in memory; the cache is dropped when it grows past this. */
const STREAM_CACHE_LIMIT = 100_000;

const DEFAULT_READ_COUNT = 1000;
const MAX_TYPED_STATEMENTS = 64;

export class SqliteEventStore implements EventStore {
  readonly adapterName = 'sqlite';
  readonly path: string;
  private readonly pollIntervalMs: number;
  private readonly maxBatch: number;
  private readonly busyTimeoutMs: number;
  private readonly signer?: ChainSigner;

  private db: Database.Database | null = null;
  private s!: Statements;
  private writeTransaction!: Database.Transaction<(batch: PendingAppend[]) => BatchResult>;
  private state: 'new' | 'open' | 'closing' | 'closed' = 'new';
  private closing: Promise<void> | null = null;

  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private lastPosition = 0;
  private lastChainHash = LOG_GENESIS;
  /** recordedAt of the newest event: recordedAt never goes backwards along the log. */
  private lastRecordedAt = '';
  private dataVersion = 0;
  /**
   * Committed stream heads, valid while no other connection writes (PRAGMA data_version
   * unchanged): saves a SELECT per append. Cleared whenever another connection committed.
   */
  private streamCache = new Map<string, StreamHead>();

  private readonly wake = new WakeSignal();
  private readonly subscriptions = new Set<ManagedSubscription>();
  private readonly counters: SqliteEventStoreStats = { transactions: 0, appends: 0, events: 0, largestBatch: 0, syncs: 0, inlineSyncs: 0 };

  // Durable commit (see the class comment). walFd null: SQLite syncs each commit itself.
  private walFd: number | null = null;
  private readonly syncWal: (fd: number) => Promise<void>;
  /** Every event at or below this position is on disk; readers of the log stop here. */
  private durablePosition = 0;
  /** PRAGMA data_version as the readers last saw it: another connection's commits need our fsync. */
  private readerDataVersion = 0;
  private unsynced: UnsyncedBatch[] = [];
  private durableWaiters: DurableWaiter[] = [];
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  /** No appends overlapped lately: a lone append is synced inline (see syncInline). */
  private quiet: boolean;
  private readonly inlineSyncAllowed: boolean;
  private durabilityFailure: EventStoreDurabilityError | null = null;
  /**
   * The last page a subscription read. After a commit every follower (projections, reactions,
   * live events, webhooks) asks for the same new events: the first one reads and parses them,
   * the others get the same page, frozen so that no follower can change what another sees.
   */
  private sharedPage: { from: number; cap: number; maxCount: number; events: RecordedEvent[] } | null = null;

  constructor(options: SqliteEventStoreOptions) {
    if (!options || typeof options.path !== 'string' || options.path.length === 0) {
      throw new TypeError('SqliteEventStore: options.path is required');
    }
    this.path = options.path;
    this.signer = options.signer;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.maxBatch = options.maxBatch ?? 1000;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.syncWal = options.syncWal ?? fsyncOffLoop;
    this.inlineSyncAllowed = options.syncWal === undefined;
    this.quiet = this.inlineSyncAllowed;
    if (!(this.pollIntervalMs > 0)) throw new RangeError('pollIntervalMs must be > 0');
    if (!Number.isSafeInteger(this.maxBatch) || this.maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
  }

  // ---------------------------------------------------------------- lifecycle

  async init(): Promise<void> {
    this.open();
  }

  /** Opens the database on first use (init() is optional); throws once the store is closed. */
  private open(): Database.Database {
    if (this.db) {
      if (this.state !== 'open') throw new EventStoreClosedError(this.adapterName);
      return this.db;
    }
    if (this.state !== 'new') throw new EventStoreClosedError(this.adapterName);

    const inMemory = this.path === ':memory:' || this.path.startsWith('file::memory:');
    if (!inMemory) mkdirSync(dirname(this.path), { recursive: true });
    const db = new Database(this.path, { timeout: this.busyTimeoutMs });
    try {
      // Pragmas once, at open, on the only connection (pitfall 10). busy_timeout first: switching
      // to WAL needs a lock that another process may hold for a moment.
      db.pragma(`busy_timeout = ${Math.floor(this.busyTimeoutMs)}`);
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (!inMemory && String(mode).toLowerCase() !== 'wal') {
        throw new EventStoreSchemaError(`could not switch ${this.path} to WAL (journal_mode=${String(mode)})`);
      }
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db, this.path);
      this.s = prepareStatements(db);
      this.writeTransaction = db.transaction((batch: PendingAppend[]) => this.writeBatch(batch));
      const head = this.s.headWithChain.get() as [number, string, string] | undefined;
      this.lastPosition = head ? head[0] : 0;
      this.lastChainHash = head ? head[1] : LOG_GENESIS;
      this.lastRecordedAt = head ? head[2] : '';
      this.dataVersion = this.s.dataVersion.get() as number;
      this.readerDataVersion = this.dataVersion;
      if (!inMemory) this.walFd = openWal(db, this.path);
      // What the file holds now is durable: synced just above (a process that died before its
      // fsync may have left committed frames in the page cache only).
      this.durablePosition = this.lastPosition;
    } catch (err) {
      if (this.walFd !== null) closeSync(this.walFd);
      this.walFd = null;
      db.close();
      throw err;
    }
    this.db = db;
    this.state = 'open';
    return db;
  }

  /** Writes what is queued, stops the subscriptions, then closes the database. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.state === 'new') {
      this.state = 'closed';
      this.closing = Promise.resolve();
      return this.closing;
    }
    this.state = 'closing';
    this.closing = (async () => {
      try {
        while (this.queue.length > 0) this.flushBatch();
        // Every committed batch is synced and settled before the file is closed.
        while (this.syncing || this.unsynced.length > 0 || this.durableWaiters.length > 0) {
          if (this.durabilityFailure) break;
          if (!this.syncing) this.requestSync();
          await this.syncing;
        }
      } finally {
        await Promise.all([...this.subscriptions].map((sub) => sub.close()));
        if (this.walFd !== null) closeSync(this.walFd);
        this.walFd = null;
        this.db?.close();
        this.db = null;
        this.state = 'closed';
      }
    })();
    return this.closing;
  }

  // ---------------------------------------------------------------- writes

  append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    let part: PreparedPart;
    try {
      this.open();
      if (this.durabilityFailure) throw this.durabilityFailure;
      validateExpectedVersion(options?.expectedVersion);
      validateIdempotencyKey(options.idempotencyKey);
      part = { streamId, events: prepareEvents(streamId, events), expected: options.expectedVersion };
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue<AppendResult>([part], true, options.idempotencyKey, options.recordedAt, options.hashVersion);
  }

  appendMultiple(parts: StreamAppend[], options: MultiAppendOptions = {}): Promise<AppendResult[]> {
    let prepared: PreparedPart[];
    try {
      this.open();
      if (this.durabilityFailure) throw this.durabilityFailure;
      validateIdempotencyKey(options.idempotencyKey);
      prepared = prepareParts(parts);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue<AppendResult[]>(prepared, false, options.idempotencyKey, undefined);
  }

  /** Queues an append; the flusher settles the promise (single: with the first part's result). */
  private enqueue<T extends AppendResult | AppendResult[]>(
    parts: PreparedPart[],
    single: boolean,
    key: string | undefined,
    recordedAt: string | undefined,
    hashVersion?: number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ parts, single, key, recordedAt, hashVersion: validHashVersion(hashVersion), resolve: resolve as PendingAppend['resolve'], reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.onFlushTimer);
      }
    });
  }

  private readonly onFlushTimer = (): void => {
    this.flushScheduled = false;
    if (this.queue.length === 0 || !this.db) return;
    this.flushBatch();
    if (this.queue.length > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.onFlushTimer);
    }
  };

  /** Commits up to maxBatch queued appends in one transaction and settles their promises. */
  private flushBatch(): void {
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
    if (this.durabilityFailure) {
      for (const append of batch) append.reject(this.durabilityFailure);
      return;
    }

    let outcomes: Outcome[];
    try {
      outcomes = this.commit(batch);
    } catch (batchError) {
      // Something other than a version conflict failed and the whole transaction rolled back.
      // A constraint violation (a duplicate event id) belongs to one append: retry each append
      // alone so that only the culprit fails. Anything else (busy, I/O, disk full) fails them all.
      const isConstraint = String((batchError as { code?: unknown } | null)?.code ?? '').startsWith('SQLITE_CONSTRAINT');
      outcomes =
        batch.length === 1 || !isConstraint
          ? batch.map((append) => ({ ok: false, error: this.translateError(batchError, append) }) as Outcome)
          : batch.map((append) => {
              try {
                return this.commit([append])[0]!;
              } catch (error) {
                return { ok: false, error: this.translateError(error, append) };
              }
            });
    }

    if (this.walFd === null) {
      this.settle(batch, outcomes);
      return;
    }
    this.unsynced.push({ batch, outcomes });
    if (this.quiet && batch.length === 1 && this.unsynced.length === 1 && !this.syncing && this.queue.length === 0) {
      this.syncInline();
      return;
    }
    // Appends overlap: sync off the loop until one sync passes with nothing committed meanwhile.
    this.quiet = false;
    this.requestSync();
  }

  /** Settles a batch's appends, in order, and wakes the subscriptions if it wrote anything. */
  private settle(batch: PendingAppend[], outcomes: Outcome[]): void {
    let committed = false;
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i]!;
      const append = batch[i]!;
      if (outcome.ok) {
        const { results } = outcome;
        if (!committed) for (const r of results) if (!r.duplicate && r.events.length > 0) committed = true;
        append.resolve(append.single ? results[0]! : results);
      } else {
        append.reject(outcome.error);
      }
    }
    this.counters.appends += batch.length;
    if (batch.length > this.counters.largestBatch) this.counters.largestBatch = batch.length;
    if (committed) this.wake.notify();
  }

  // ---------------------------------------------------------------- durable commit

  /**
   * Starts an fsync of the WAL unless one is running (then another follows it). It covers every
   * event committed before it starts, by this connection or another: `upTo` is read first.
   */
  private requestSync(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    if (this.walFd === null || this.durabilityFailure || !this.db) return;
    this.syncAgain = false;
    const upTo = (this.s.head.get() as number | null) ?? 0;
    const settling = this.unsynced;
    this.unsynced = [];
    this.counters.syncs++;
    this.syncing = this.syncWal(this.walFd).then(
      () => {
        this.syncing = null;
        this.synced(upTo, settling);
        if (this.syncAgain || this.unsynced.length > 0 || this.durableWaiters.length > 0) this.requestSync();
        else if (this.queue.length === 0) this.quiet = this.inlineSyncAllowed;
      },
      (error: unknown) => {
        this.syncing = null;
        this.fail(new EventStoreDurabilityError(this.adapterName, error), settling);
      },
    );
  }

  /**
   * A lone append while nothing else is in flight (one writer awaiting each append): the fsync
   * runs right here. Handing it to the thread pool would add two thread wake-ups to a wait that
   * nothing else can use (the one-writer bench measured 0.55 of raw that way, 0.75 inline).
   */
  private syncInline(): void {
    const upTo = this.lastPosition;
    const settling = this.unsynced;
    this.unsynced = [];
    this.counters.syncs++;
    this.counters.inlineSyncs++;
    try {
      fdatasyncSync(this.walFd!);
    } catch (error) {
      this.fail(new EventStoreDurabilityError(this.adapterName, error), settling);
      return;
    }
    this.synced(upTo, settling);
  }

  /** An fsync that covered every event up to `upTo` returned: settle, release and wake. */
  private synced(upTo: number, settling: UnsyncedBatch[]): void {
    const advanced = upTo > this.durablePosition;
    if (advanced) this.durablePosition = upTo;
    for (const { batch, outcomes } of settling) this.settle(batch, outcomes);
    if (this.durableWaiters.length > 0) {
      const waiting = this.durableWaiters;
      this.durableWaiters = [];
      for (const w of waiting) {
        if (w.position <= this.durablePosition) w.resolve();
        else this.durableWaiters.push(w);
      }
    }
    if (advanced) this.wake.notify();
  }

  /** After a failed fsync nothing more is acknowledged: what waits fails, and so will later appends. */
  private fail(failure: EventStoreDurabilityError, settling: UnsyncedBatch[]): void {
    this.durabilityFailure = failure;
    for (const { batch } of [...settling, ...this.unsynced]) for (const append of batch) append.reject(failure);
    this.unsynced = [];
    for (const w of this.durableWaiters) w.reject(failure);
    this.durableWaiters = [];
  }

  /** Resolves once `position` is durable (at once when it is). */
  private whenDurable(position: number): Promise<void> | null {
    if (position <= this.durablePosition || this.walFd === null) return null;
    if (this.durabilityFailure) return Promise.reject(this.durabilityFailure);
    return new Promise<void>((resolve, reject) => {
      this.durableWaiters.push({ position, resolve, reject });
      this.requestSync();
    });
  }

  /** The last position readers of the log may see. */
  private readerCap(): number {
    if (this.walFd === null) return Number.MAX_SAFE_INTEGER;
    // Another process committed: visible to this connection, durable only once synced (by its
    // writer, unknown to us, or by the sync requested here, which wakes the subscriptions).
    const dataVersion = this.s.dataVersion.get() as number;
    if (dataVersion !== this.readerDataVersion) {
      this.readerDataVersion = dataVersion;
      this.requestSync();
    }
    return this.durablePosition;
  }

  /**
   * One immediate transaction over the batch. Version conflicts become per-append outcomes;
   * any other error aborts (and rolls back) the whole batch. In-memory state (head position,
   * chain hash) changes only once COMMIT has returned.
   */
  private commit(batch: PendingAppend[]): Outcome[] {
    this.counters.transactions++;
    const done = this.writeTransaction.immediate(batch);
    this.lastPosition = done.position;
    this.lastChainHash = done.chain;
    this.lastRecordedAt = done.lastRecordedAt;
    this.counters.events += done.written;
    if (done.streams) {
      if (this.streamCache.size + done.streams.size > STREAM_CACHE_LIMIT) this.streamCache.clear();
      for (const [id, head] of done.streams) this.streamCache.set(id, head);
    }
    return done.outcomes;
  }

  /** Body of the write transaction (wrapped once in db.transaction at open). */
  private writeBatch(batch: PendingAppend[]): BatchResult {
    const s = this.s;
    let written = 0;
    // Another connection committed since our last transaction: reload the global chain head.
    const dataVersion = s.dataVersion.get() as number;
    if (dataVersion !== this.dataVersion) {
      const head = s.headWithChain.get() as [number, string, string] | undefined;
      this.lastPosition = head ? head[0] : 0;
      this.lastChainHash = head ? head[1] : LOG_GENESIS;
      this.lastRecordedAt = head ? head[2] : '';
      this.dataVersion = dataVersion;
      this.streamCache.clear();
    }
    let position = this.lastPosition;
    const firstOfCommit = position + 1;
    let chain = this.lastChainHash;
    const now = new Date().toISOString();
    let lastRecordedAt = this.lastRecordedAt;
    const outcomes: Outcome[] = new Array(batch.length);
    // Stream heads and idempotency keys written earlier in this batch.
    let streams: Map<string, StreamHead> | null = null;
    let keys: Map<string, AppendResult> | null = null;

    for (let i = 0; i < batch.length; i++) {
      const a = batch[i]!;
      const { parts, key } = a;

      if (key !== undefined) {
        const earlier = keys?.get(key) ?? this.findByKey(key);
        if (earlier) {
          outcomes[i] = { ok: true, results: [{ ...earlier, events: earlier.events.slice(), duplicate: true }] };
          continue;
        }
      }

      const checked = checkParts(parts, (streamId) => {
        const known = streams?.get(streamId) ?? this.streamCache.get(streamId);
        if (known) return known;
        const row = s.selectStream.get(streamId) as [number, string] | undefined;
        return { version: row ? row[0] : -1, lastHash: row ? row[1] : '' };
      });
      if ('conflict' in checked) {
        outcomes[i] = { ok: false, error: checked.conflict };
        continue;
      }
      const { heads } = checked;
      const recordedAt = commitInstant(a.recordedAt ?? now, lastRecordedAt);
      const results: AppendResult[] = new Array(parts.length);
      for (let k = 0; k < parts.length; k++) {
        const { streamId, events } = parts[k]!;
        let { version, lastHash } = heads[k]!;
        if (events.length === 0) {
          results[k] = { streamId, nextExpectedVersion: version, position: encodePosition(position), events: [], duplicate: false };
          continue;
        }
        lastRecordedAt = recordedAt;
        let prevHash = version === -1 ? genesisHash(streamId) : lastHash;
        const firstPosition = position + 1;
        const recorded: RecordedEvent[] = new Array(events.length);
        for (let j = 0; j < events.length; j++) {
          const p = events[j]!;
          position++;
          const r = recordEvent(streamId, version + 1 + j, position, prevHash, chain, recordedAt, p, a.hashVersion);
          s.insertEvent.run(
            position, p.eventId, streamId, r.revision, p.type, p.schemaVersion,
            p.dataJson, p.metadataJson, recordedAt, prevHash, r.hash, r.chainHash, a.hashVersion,
          );
          recorded[j] = r;
          prevHash = r.hash;
          chain = r.chainHash!;
        }
        version += events.length;
        written += events.length;
        lastHash = prevHash;
        (streams ??= new Map()).set(streamId, { version, lastHash });
        results[k] = {
          streamId,
          nextExpectedVersion: version,
          position: recorded[recorded.length - 1]!.position,
          events: recorded,
          duplicate: false,
        };
        // The idempotency key stands for the first part: the command's own stream.
        if (k === 0 && key !== undefined) {
          s.insertKey.run(key, streamId, firstPosition, position);
          (keys ??= new Map()).set(key, results[0]!);
        }
      }
      outcomes[i] = { ok: true, results };
    }
    // The commit's chain head, signed in the same transaction as its events.
    if (written > 0 && this.signer) {
      const head = this.signer.sign('log', encodePosition(position), chain, encodePosition(firstOfCommit));
      s.insertSignature.run(position, firstOfCommit, head.chainHash, head.kid, head.signature);
    }
    return { outcomes, position, chain, written, streams, lastRecordedAt };
  }

  /** The committed append that used this idempotency key, as append() returned it. */
  private findByKey(key: string): AppendResult | undefined {
    const row = this.s.selectKey.get(key) as [string, number, number] | undefined;
    if (!row) return undefined;
    const events = (this.s.eventsBetween.all(row[1], row[2]) as EventRow[]).map(toRecorded);
    const last = events[events.length - 1]!;
    return { streamId: row[0], nextExpectedVersion: last.revision, position: last.position, events, duplicate: true };
  }

  private translateError(error: unknown, append: PendingAppend): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' && /event_id/.test(String((error as Error).message))) {
      try {
        for (const part of append.parts) {
          const dup = part.events.find((e) => this.s.eventIdExists.get(e.eventId) !== undefined);
          if (dup) return new DuplicateEventIdError(dup.eventId, part.streamId);
        }
      } catch {
        // fall through to the original error
      }
    }
    return error;
  }

  // ---------------------------------------------------------------- reads

  async readSignatures(options: { after?: string | null; upTo?: string | null; maxCount?: number } = {}): Promise<HeadSignature[]> {
    this.open();
    const after = options.after ? positionNumber(options.after) : 0;
    const upTo = Math.min(options.upTo ? positionNumber(options.upTo) : Number.MAX_SAFE_INTEGER, this.readerCap());
    const rows = this.s.readSignatures.all(after, upTo, normaliseCount(options.maxCount, DEFAULT_READ_COUNT, 'maxCount')) as [number, number, string, string, string][];
    return rows.map(([position, first, chainHash, kid, signature]) => ({ firstPosition: encodePosition(first), position: encodePosition(position), chainHash, kid, signature }));
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.open();
    validateStreamId(streamId);
    const from = normaliseCount(options.fromRevision, 0, 'fromRevision');
    const to = normaliseCount(options.toRevision, Number.MAX_SAFE_INTEGER, 'toRevision');
    if (from > to) return [];
    const rows = this.s.readStream.all(streamId, from, to) as EventRow[];
    if (rows.length > 0) await this.whenDurable(rows[rows.length - 1]![0] as number);
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.open();
    return this.readPage(options.after ?? null, normaliseCount(options.maxCount, DEFAULT_READ_COUNT, 'maxCount'), options.types);
  }

  private readPage(after: string | null, maxCount: number, types?: string[]): RecordedEvent[] {
    const from = after === null ? 0 : positionNumber(after);
    if (maxCount === 0) return [];
    return this.readRange(from, this.readerCap(), maxCount, types);
  }

  /** A subscription's page: the shared one when it covers the same range (see sharedPage). */
  private subscriptionPage(after: string | null, maxCount: number): RecordedEvent[] {
    const from = after === null ? 0 : positionNumber(after);
    const cap = this.readerCap();
    const shared = this.sharedPage;
    // Positions up to cap never change, so a page of (from, cap] read before is still that
    // range: whole if it was shorter than its limit, else good for as many events as it holds.
    if (shared && shared.from === from && shared.cap === cap && (shared.events.length < shared.maxCount || maxCount <= shared.events.length)) {
      return shared.events.length <= maxCount ? shared.events : shared.events.slice(0, maxCount);
    }
    const events = this.readRange(from, cap, maxCount);
    for (const event of events) deepFreeze(event);
    this.sharedPage = { from, cap, maxCount, events: Object.freeze(events) as RecordedEvent[] };
    return events;
  }

  private readRange(from: number, cap: number, maxCount: number, types?: string[]): RecordedEvent[] {
    let rows: EventRow[];
    if (types === undefined || types === null) {
      rows = this.s.readAll.all(from, cap, maxCount) as EventRow[];
    } else {
      if (!Array.isArray(types)) throw new TypeError('types must be an array of strings');
      if (types.length === 0) return [];
      rows = this.typedStatement(types.length).all(from, cap, ...types, maxCount) as EventRow[];
    }
    const out: RecordedEvent[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = toRecorded(rows[i]!);
    return out;
  }

  private typedStatement(count: number): Stmt {
    let stmt = this.s.readAllTyped.get(count);
    if (!stmt) {
      const placeholders = new Array(count).fill('?').join(', ');
      stmt = this.db!.prepare(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ? AND type IN (${placeholders}) ORDER BY position LIMIT ?`,
      ).raw(true) as Stmt;
      if (this.s.readAllTyped.size < MAX_TYPED_STATEMENTS) this.s.readAllTyped.set(count, stmt);
    }
    return stmt;
  }

  async headPosition(): Promise<string | null> {
    this.open();
    const cap = this.readerCap();
    const head = this.s.head.get() as number | null;
    if (head === null || head === undefined) return null;
    // Positions are gap-free: the durable head is the cap itself when the log reaches past it.
    const durable = Math.min(head, cap);
    return durable === 0 ? null : encodePosition(durable);
  }

  async streamVersion(streamId: string): Promise<number> {
    this.open();
    validateStreamId(streamId);
    const version = this.s.streamVersion.get(streamId) as number | null | undefined;
    return version ?? -1;
  }

  async findIdempotentAppend(idempotencyKey: string): Promise<AppendResult | null> {
    this.open();
    validateIdempotencyKey(idempotencyKey);
    if (idempotencyKey === undefined) return null;
    const found = this.findByKey(idempotencyKey);
    if (!found) return null;
    // Answered from a first append that is not yet on disk: wait until it is.
    await this.whenDurable(positionNumber(found.position));
    return found;
  }

  // ---------------------------------------------------------------- snapshots (beside the log)

  async readSnapshot(streamId: string, stateVersion: string, options: ReadSnapshotOptions = {}): Promise<StreamSnapshot | null> {
    this.open();
    const { maxRevision, maxPosition, maxRecordedAt } = snapshotQuery(streamId, stateVersion, options);
    const row = this.s.readSnapshot.get(streamId, stateVersion, maxRevision, maxPosition, maxPosition, maxRecordedAt, maxRecordedAt) as [number, string, string, string] | undefined;
    if (!row) return null;
    return toSnapshot({ streamId, stateVersion, revision: row[0], position: row[1], recordedAt: row[2], stateJson: row[3] });
  }

  /**
   * Autocommit upsert on the store's connection, between group commits (better-sqlite3 is
   * synchronous, so it never lands inside an append's transaction). Another process's snapshot
   * only makes this writer re-read its head once (PRAGMA data_version), as any foreign commit does.
   */
  async writeSnapshot(snapshot: StreamSnapshot): Promise<void> {
    this.open();
    const p = prepareSnapshot(snapshot);
    this.s.upsertSnapshot.run(p.streamId, p.stateVersion, p.revision, p.position, p.recordedAt, p.stateJson);
  }

  // ---------------------------------------------------------------- subscriptions

  subscribeToAll(options: SubscribeOptions): SubscriptionHandle {
    this.open();
    return trackedSubscription(
      this.subscriptions,
      {
        readPage: (after, max) => {
          if (this.state !== 'open') throw new EventStoreClosedError(this.adapterName);
          return this.subscriptionPage(after, max);
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
    try {
      const headPosition = await this.headPosition();
      // No path: health details are shown to any valid token, and an absolute path is the host's.
      if (this.durabilityFailure) return { ok: false, adapter: this.adapterName, details: { headPosition, error: this.durabilityFailure.message } };
      return { ok: true, adapter: this.adapterName, details: { headPosition } };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        adapter: this.adapterName,
        details: { error: message.split(this.path).join(basename(this.path)) },
      };
    }
  }

  /** Group-commit counters since the store was created. */
  stats(): SqliteEventStoreStats {
    return { ...this.counters };
  }
}

/**
 * Opens the WAL file for the store's own fsyncs and switches commits to synchronous=NORMAL, after
 * syncing what the file holds. null (commits stay at FULL) when there is no WAL file to open.
 */
function openWal(db: Database.Database, path: string): number | null {
  let fd: number;
  try {
    fd = openSync(`${path}-wal`, 'r+');
  } catch {
    return null;
  }
  try {
    fdatasyncSync(fd);
    db.pragma('synchronous = NORMAL');
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Freezes an event read from the log and everything in it (plain JSON: objects and arrays). */
function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  if (Array.isArray(value)) for (const item of value) deepFreeze(item);
  else for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
}
