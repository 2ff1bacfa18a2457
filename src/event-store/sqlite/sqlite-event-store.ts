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
 * - Subscriptions are woken after each durable commit and poll every pollIntervalMs (writes by other processes too).
 * - A lock another process holds is waited for on timers, never on the event loop: the batch is
 *   tried again, whole and first in the queue, until busyTimeoutMs runs out (busy-retry.ts).
 *
 * Durable commit (wal-durability.ts): a batch commits at NORMAL and its appends are acknowledged
 * after an fsync of the WAL that started after the commit. Until then no reader sees its events:
 * readAll, subscriptions, headPosition and readSignatures stop at the durable position (awaitCommitted
 * waits for it); readStream and findIdempotentAppend wait for what they return to be durable.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  READ_PAGE_BYTES, type AppendOptions,
  type AppendResult,
  type StreamHeadLookup,
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
import { LOG_GENESIS } from '../hash-chain.js';
import { EventStoreClosedError, EventStoreSchemaError } from '../errors.js';
import { WalDurability, type WalDurabilityHost } from './wal-durability.js';
import { BusyBackoff, LOOP_BUSY_WAIT_MS, retryWhileBusy } from './busy-retry.js';
import { attemptBatch, settleBatch, waitedOut } from './batch-attempt.js';
import { CommittedStreamHeads } from './committed-stream-heads.js';
import { writeBatch } from './batch-write.js';
import { LogReads } from './log-reads.js';
import type { BatchResult, Outcome, PendingAppend, SqliteEventStoreOptions, SqliteEventStoreStats, UnsyncedBatch } from './store-types.js';
import { RecentEvents } from '../internal/recent-events.js';
import { toRecorded, type EventRow } from '../internal/event-rows.js';
import {
  prepareEvents,
  prepareParts,
  validateExpectedVersion,
  validateIdempotencyKey,
  validHashVersion,
  type PreparedPart,
} from '../internal/append-support.js';
import { trackedSubscription, WakeSignal, type ManagedSubscription } from '../internal/catch-up-subscription.js';
import type { ChainSigner, HeadSignature } from '../signing.js';
import { cappedRows, duplicateEventIdError, prepareStatements, migrate, type Statements } from './rows.js';

export type { SqliteEventStoreOptions, SqliteEventStoreStats } from './store-types.js';

export class SqliteEventStore implements EventStore {
  readonly adapterName = 'sqlite';
  readonly path: string;
  private readonly pollIntervalMs: number;
  private readonly maxBatch: number;
  private readonly busyTimeoutMs: number;
  private readonly signer?: ChainSigner;
  private readonly soleWriter: boolean;

  private db: Database.Database | null = null;
  private s!: Statements;
  private writeTransaction!: Database.Transaction<(batch: PendingAppend[]) => BatchResult>;
  private state: 'new' | 'open' | 'closing' | 'closed' = 'new';
  private closing: Promise<void> | null = null;

  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  /** Another process holds the write lock: the flusher's next try, on a timer (busy-retry.ts). */
  private lockWait: NodeJS.Timeout | null = null;
  private readonly lockBackoff = new BusyBackoff();
  private lastPosition = 0;
  private lastChainHash = LOG_GENESIS;
  /** recordedAt of the newest event: recordedAt never goes backwards along the log. */
  private lastRecordedAt = '';
  /** What this writer committed, while no other connection commits (committed-stream-heads.ts); made at open. */
  private heads!: CommittedStreamHeads;

  private readonly wake = new WakeSignal();
  private readonly subscriptions = new Set<ManagedSubscription>();
  private readonly counters: SqliteEventStoreStats = { transactions: 0, appends: 0, events: 0, largestBatch: 0, syncs: 0, inlineSyncs: 0 };

  // Durable commit (see the class comment and wal-durability.ts).
  private durability!: WalDurability<UnsyncedBatch>;
  private readonly syncWal?: (fd: number) => Promise<void>;
  private readonly checkpointOffLoop: SqliteEventStoreOptions['checkpointOffLoop'];
  /** What this instance committed last: the followers' pages come from here when it holds them. */
  private readonly recent = new RecentEvents();
  private readonly reads = new LogReads({
    open: () => void this.open(),
    db: () => this.db!,
    statements: () => this.s,
    durability: () => this.durability,
    recent: this.recent,
    readRange: (from, cap, maxCount, maxBytes) => this.readRange(from, cap, maxCount, maxBytes),
  });

  constructor(options: SqliteEventStoreOptions) {
    if (!options || typeof options.path !== 'string' || options.path.length === 0) {
      throw new TypeError('SqliteEventStore: options.path is required');
    }
    this.path = options.path;
    this.signer = options.signer;
    this.soleWriter = options.soleWriter === true;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.maxBatch = options.maxBatch ?? 1000;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.syncWal = options.syncWal;
    this.checkpointOffLoop = options.checkpointOffLoop;
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
    if (!inMemory) mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
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
      this.heads = new CommittedStreamHeads(this.s.dataVersion.get() as number);
      this.durability = WalDurability.open(db, inMemory ? null : this.path, this.durabilityHost(), this.syncWal, this.checkpointOffLoop);
      // From now on SQLite's busy handler, which sleeps on the event loop, waits an instant only:
      // writes wait for another process's lock on timers (flushBatch, writeSnapshot).
      db.pragma(`busy_timeout = ${Math.min(LOOP_BUSY_WAIT_MS, Math.floor(this.busyTimeoutMs))}`);
    } catch (err) {
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
        // The close drives the flusher now, lock waits included (nothing is appended while closing).
        if (this.lockWait) clearTimeout(this.lockWait);
        this.lockWait = null;
        while (this.queue.length > 0) {
          const wait = this.flushBatch();
          if (wait !== undefined) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        // Every committed batch is synced and settled before the file is closed.
        await this.durability?.close();
      } finally {
        await Promise.all([...this.subscriptions].map((sub) => sub.close()));
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
      if (this.durability.failure) throw this.durability.failure;
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
      if (this.durability.failure) throw this.durability.failure;
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
    this.lockWait = null;
    if (this.queue.length === 0 || !this.db || this.state !== 'open') return;
    const wait = this.flushBatch();
    if (wait !== undefined) {
      // Appends made meanwhile queue behind the batch that waits (flushScheduled stays set).
      this.flushScheduled = true;
      this.lockWait = setTimeout(this.onFlushTimer, wait);
      return;
    }
    if (this.queue.length > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.onFlushTimer);
    }
  };

  /**
   * Commits up to maxBatch queued appends in one transaction and settles their promises (after
   * the sync: durability.committed). When another process holds the write lock, what was not
   * written goes back to the head of the queue, in order, and the delay before the next try is
   * returned; the appends that waited busyTimeoutMs fail with SQLite's busy error instead.
   */
  private flushBatch(): number | undefined {
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
    const failure = this.durability.failure;
    if (failure) {
      for (const append of batch) append.reject(failure);
      return undefined;
    }

    const attempt = attemptBatch(batch, (appends) => this.commit(appends), (error, append) => duplicateEventIdError(this.s, error, append.parts));
    const { settled, outcomes } = attempt;
    if (attempt.unwritten === undefined) {
      this.lockBackoff.succeeded();
      this.durability.committed({ batch, outcomes }, batch.length === 1 && this.queue.length === 0, this.lastPosition);
      return undefined;
    }
    if (settled.length > 0) this.durability.committed({ batch: settled, outcomes }, false, this.lastPosition);
    const now = Date.now();
    // Every append in the queue waits for the lock from now, not only this batch's: those past
    // maxBatch had waited 5 s more per batch ahead of them (store-lock probe 11, L1).
    const waiting = attempt.unwritten.concat(this.queue);
    const expired = waitedOut(waiting, now, this.busyTimeoutMs);
    if (expired > 0) {
      const failed = waiting.slice(0, expired);
      this.durability.committed({ batch: failed, outcomes: failed.map(() => ({ ok: false, error: attempt.busy })) }, false, this.lastPosition);
    }
    this.queue = waiting.slice(expired);
    // The next lock's tries start short again (L2).
    if (this.queue.length === 0) return void this.lockBackoff.succeeded();
    return this.lockBackoff.failed(this.busyTimeoutMs - (now - (this.queue[0]!.busySince ?? now)));
  }

  private durabilityHost(): WalDurabilityHost<UnsyncedBatch> {
    return {
      adapterName: this.adapterName,
      head: () => (this.s.head.get() as number | null) ?? 0,
      dataVersion: () => this.s.dataVersion.get() as number,
      // Wakes the subscriptions when the batch wrote anything.
      settle: ({ batch, outcomes }) => settleBatch(batch, outcomes, this.counters) && this.wake.notify(),
      reject: ({ batch }, failure) => {
        for (const append of batch) append.reject(failure);
      },
      advanced: () => this.wake.notify(),
    };
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
    // For the followers (recent-events.ts), once COMMIT has returned.
    if (done.written > 0) this.recent.addCommit(done.position - done.written + 1, done.position, done.outcomes);
    if (done.streams) this.heads.committed(done.streams);
    return done.outcomes;
  }

  /** Body of the write transaction (wrapped once in db.transaction at open): batch-write.ts. */
  private writeBatch(batch: PendingAppend[]): BatchResult {
    // Another connection committed since our last transaction: reload the global chain head.
    if (!this.heads.stillOwn(this.s.dataVersion.get() as number)) {
      const head = this.s.headWithChain.get() as [number, string, string] | undefined;
      this.lastPosition = head ? head[0] : 0;
      this.lastChainHash = head ? head[1] : LOG_GENESIS;
      this.lastRecordedAt = head ? head[2] : '';
    }
    const log = { position: this.lastPosition, chain: this.lastChainHash, recordedAt: this.lastRecordedAt };
    return writeBatch(this.s, batch, log, this.heads, this.signer);
  }

  // ---------------------------------------------------------------- reads

  // Reads stop at the durable position, or wait for what they return to be durable (log-reads.ts).
  readSignatures(options: { after?: string | null; upTo?: string | null; maxCount?: number } = {}): Promise<HeadSignature[]> {
    return this.reads.readSignatures(options);
  }

  readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    return this.reads.readStream(streamId, options);
  }

  readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.reads.readAll(options);
  }

  awaitCommitted(): Promise<void> {
    return this.reads.awaitCommitted();
  }

  headPosition(): Promise<string | null> {
    return this.reads.headPosition();
  }

  streamVersion(streamId: string): Promise<number> {
    return this.reads.streamVersion(streamId);
  }

  /** Heads this writer committed, while no other connection has committed since (CommittedStreamHeads.lookup). */
  currentStreamHeads(): StreamHeadLookup {
    if (this.state !== 'open') return () => undefined;
    return this.heads.lookup(() => this.s.dataVersion.get() as number, () => this.state === 'open', this.soleWriter);
  }

  findIdempotentAppend(idempotencyKey: string): Promise<AppendResult | null> {
    return this.reads.findIdempotentAppend(idempotencyKey);
  }

  private readRange(from: number, cap: number, maxCount: number, maxBytes = READ_PAGE_BYTES): RecordedEvent[] {
    const rows: EventRow[] = cappedRows(this.s.readAll, [from, cap, maxCount], maxBytes);
    const out: RecordedEvent[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = toRecorded(rows[i]!);
    return out;
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
    // Another process's lock is waited for on timers; each try is the whole upsert or nothing.
    // Spaced wider than the appends' (50 ms to 0.5 s): one wait per snapshot, and they are optional.
    await retryWhileBusy(() => {
      this.open();
      this.s.upsertSnapshot.run(p.streamId, p.stateVersion, p.revision, p.position, p.recordedAt, p.stateJson);
    }, this.busyTimeoutMs, new BusyBackoff(50, 500));
  }

  // ---------------------------------------------------------------- subscriptions

  subscribeToAll(options: SubscribeOptions): SubscriptionHandle {
    this.open();
    return trackedSubscription(
      this.subscriptions,
      {
        readPage: (after, max) => {
          if (this.state !== 'open') throw new EventStoreClosedError(this.adapterName);
          return this.reads.subscriptionPage(after, max);
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
      const failure = this.durability.failure;
      if (failure) return { ok: false, adapter: this.adapterName, details: { headPosition, error: failure.message } };
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
    return { ...this.counters, syncs: this.durability?.syncs ?? 0, inlineSyncs: this.durability?.inlineSyncs ?? 0 };
  }
}

