/**
 * Event store on PostgreSQL (node-postgres).
 *
 * - **Order by construction.** Every write transaction takes a transaction-level advisory lock
 *   (`pg_advisory_xact_lock`, one key per schema) before it reads the log's head, and holds it
 *   until COMMIT. PostgreSQL makes a committed transaction visible before it releases its locks,
 *   so the next writer, once it has the lock, sees every earlier commit: positions are assigned as
 *   head + 1 (gap-free, never burned: a rolled-back commit assigned nothing that anyone saw) and
 *   are committed in position order. A reader's snapshot therefore always holds a prefix of the
 *   log: `position > checkpoint` never skips an event that commits later (pitfall 1), with any
 *   number of writers, processes or store instances on the same schema.
 * - **Both chains.** Since appends are serialised at commit, the global chain
 *   (chainHash = SHA-256(previous | position | hash)) is computed at append time, as on SQLite,
 *   from the head read under the lock; so are recordedAt (never decreasing) and the signature of
 *   each commit's head (firstPosition..position), inserted in the same transaction.
 * - **Group commit.** append() validates, snapshots and enqueues; one flusher per instance writes
 *   what is queued (up to maxBatch appends) in ONE transaction: BEGIN + lock, one statement for all
 *   heads and keys, one statement for every row (events, idempotency keys, signature, NOTIFY),
 *   COMMIT. Each append is checked on its own: a losing append fails alone with a typed conflict.
 * - **Append-only** by triggers refusing UPDATE, DELETE and TRUNCATE (schema.ts).
 * - **Subscriptions** are woken by this instance's commits and by LISTEN/NOTIFY (commits of other
 *   instances), and poll every pollIntervalMs in case a notification was lost.
 */
import pg from 'pg';
import { createHash } from 'node:crypto';
import {
  READ_PAGE_BYTES,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type MultiAppendOptions,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StoreHealth,
  type StreamAppend,
  type SubscribeOptions,
  type SubscriptionHandle,
  type ReadSnapshotOptions,
  type StreamSnapshot,
} from '../event-store.port.js';
import { prepareSnapshot, snapshotQuery, toSnapshot } from '../internal/snapshot-support.js';
import { CURRENT_HASH_VERSION, LOG_GENESIS } from '../hash-chain.js';
import { CommitOutcomeUnknownError, DuplicateEventIdError, EventStoreClosedError, InvalidAppendError } from '../errors.js';
import {
  normaliseCount,
  prepareEvents,
  prepareParts,
  validateExpectedVersion,
  validateIdempotencyKey,
  validateStreamId,
  validHashVersion,
  type PreparedPart,
} from '../internal/append-support.js';
import { trackedSubscription, WakeSignal, type ManagedSubscription } from '../internal/catch-up-subscription.js';
import type { ChainSigner, HeadSignature } from '../signing.js';
import { parseHeads, planCommit, type Outcome, type PendingAppend, type StoredKey } from './commit-plan.js';
import { padPosition, positionParam, statements, toSignature, type SignatureRow, type Statements } from './rows.js';
import { toRecorded, type EventRow } from '../internal/event-rows.js';
import { migrate, missingAppendOnlyTriggers, validateSchemaName } from './schema.js';
import { BEGIN_WRITE, CONNECTION_LIMITS, standaloneClient, withPooledClient } from './held-client.js';

export interface PostgresEventStoreOptions {
  /** postgres://user@host:port/database */
  connectionString: string;
  /** Schema of the tables (created at init). Default `risk_ledger`. */
  schema?: string;
  /** Signs each commit's chain head (in the commit's transaction). Without one, nothing is signed. */
  signer?: ChainSigner;
  /** Connections of the pool (reads and the writer). Default 10. */
  poolSize?: number;
  /** Most appends written in one transaction. Default 1000. */
  maxBatch?: number;
  /** How often a caught-up subscription polls besides LISTEN/NOTIFY. Default 1000 ms. */
  pollIntervalMs?: number;
}

/** Group-commit counters, for benchmarks and diagnostics. */
export interface PostgresEventStoreStats {
  transactions: number;
  appends: number;
  events: number;
  largestBatch: number;
}

const DEFAULT_READ_COUNT = 1000;
const MAX_REVISION = 2_147_483_647;
const UNIQUE_VIOLATION = '23505';

/** A signed 64-bit advisory lock key derived from a name (the same in every process). */
export function advisoryKey(name: string): string {
  return createHash('sha256').update(`risk-ledger/${name}`).digest().readBigInt64BE(0).toString();
}

/** The channel on which a commit to the store in `schema` is announced (LISTEN/NOTIFY). */
export function commitChannel(schema: string): string {
  return `risk_ledger_${schema}`.slice(0, 63);
}

export class PostgresEventStore implements EventStore {
  readonly adapterName = 'postgres';
  readonly schema: string;
  private readonly connectionString: string;
  private readonly signer?: ChainSigner;
  private readonly poolSize: number;
  private readonly maxBatch: number;
  private readonly pollIntervalMs: number;
  private readonly sql: Statements;
  private readonly appendLock: string;
  private readonly migrationLock: string;
  private readonly channel: string;

  private pool: pg.Pool | null = null;
  private listener: pg.Client | null = null;
  private listenerRetry: NodeJS.Timeout | null = null;
  private opening: Promise<void> | null = null;
  private state: 'new' | 'open' | 'closing' | 'closed' = 'new';
  private closing: Promise<void> | null = null;

  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private readonly wake = new WakeSignal();
  private readonly subscriptions = new Set<ManagedSubscription>();
  private readonly counters: PostgresEventStoreStats = { transactions: 0, appends: 0, events: 0, largestBatch: 0 };

  constructor(options: PostgresEventStoreOptions) {
    if (!options || typeof options.connectionString !== 'string' || options.connectionString.length === 0) {
      throw new TypeError('PostgresEventStore: options.connectionString is required');
    }
    this.connectionString = options.connectionString;
    this.schema = validateSchemaName(options.schema ?? 'risk_ledger');
    this.signer = options.signer;
    this.poolSize = options.poolSize ?? 10;
    this.maxBatch = options.maxBatch ?? 1000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    if (!Number.isSafeInteger(this.poolSize) || this.poolSize < 1) throw new RangeError('poolSize must be a positive integer');
    if (!Number.isSafeInteger(this.maxBatch) || this.maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
    if (!(this.pollIntervalMs > 0)) throw new RangeError('pollIntervalMs must be > 0');
    this.sql = statements(`"${this.schema}"`);
    this.appendLock = advisoryKey(`append/${this.schema}`);
    this.migrationLock = advisoryKey(`migrate/${this.schema}`);
    this.channel = commitChannel(this.schema);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Connects, creates or migrates the schema, starts listening. Idempotent. */
  init(): Promise<void> {
    return this.ready();
  }

  private ready(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return Promise.reject(new EventStoreClosedError(this.adapterName));
    if (!this.opening) {
      this.opening = this.open();
      // A failed open may be retried by the next call.
      this.opening.catch(() => {
        if (this.state === 'new') this.opening = null;
      });
    }
    return this.opening;
  }

  private async open(): Promise<void> {
    const pool = new pg.Pool({ connectionString: this.connectionString, max: this.poolSize, ...CONNECTION_LIMITS });
    // An idle client whose backend went away must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      await withPooledClient(pool, (client) => migrate(client, this.schema, this.migrationLock));
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    if (this.state !== 'new') {
      await pool.end().catch(() => undefined);
      throw new EventStoreClosedError(this.adapterName);
    }
    this.pool = pool;
    this.state = 'open';
    await this.listen();
  }

  /** LISTEN on the schema's channel; reconnects (polling covers the gap) when the connection drops. */
  private async listen(): Promise<void> {
    if (this.state !== 'open') return;
    const retry = (): void => {
      if (this.listener === client) this.listener = null;
      client.end().catch(() => undefined);
      if (this.state !== 'open' || this.listenerRetry) return;
      this.listenerRetry = setTimeout(() => {
        this.listenerRetry = null;
        void this.listen();
      }, 1000);
      this.listenerRetry.unref();
    };
    const client = standaloneClient(this.connectionString, retry);
    client.on('notification', () => this.wake.notify());
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch {
      retry();
      return;
    }
    if (this.state !== 'open') {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    this.wake.notify(); // anything committed while we were not listening
  }

  /** Writes what is queued, stops the subscriptions, then closes the connections. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const wasOpening = this.opening;
    this.closing = (async () => {
      if (wasOpening) await wasOpening.catch(() => undefined);
      if (this.state === 'open') this.state = 'closing';
      try {
        await this.drain();
      } finally {
        this.state = 'closing';
        await Promise.all([...this.subscriptions].map((sub) => sub.close()));
        if (this.listenerRetry) clearTimeout(this.listenerRetry);
        const listener = this.listener;
        this.listener = null;
        await listener?.end().catch(() => undefined);
        await this.pool?.end().catch(() => undefined);
        this.pool = null;
        this.state = 'closed';
      }
    })();
    return this.closing;
  }

  private async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) {
      if (!this.flushing) this.flushing = this.flushLoop();
      await this.flushing;
    }
  }

  private checkOpen(): void {
    if (this.state === 'closing' || this.state === 'closed') throw new EventStoreClosedError(this.adapterName);
  }

  private async db(): Promise<pg.Pool> {
    this.checkOpen();
    await this.ready();
    if (!this.pool) throw new EventStoreClosedError(this.adapterName);
    return this.pool;
  }

  private async rows<R>(text: string, values: unknown[]): Promise<R[]> {
    const pool = await this.db();
    const result = await pool.query({ text, values, rowMode: 'array' });
    return result.rows as R[];
  }

  // ---------------------------------------------------------------- writes

  append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    let part: PreparedPart;
    let hashVersion: number;
    try {
      this.checkOpen();
      validateExpectedVersion(options?.expectedVersion);
      validateIdempotencyKey(options.idempotencyKey);
      part = { streamId, events: prepareEvents(streamId, events), expected: options.expectedVersion };
      hashVersion = validHashVersion(options.hashVersion);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue([part], options.idempotencyKey, options.recordedAt, hashVersion).then((results) => results[0]!);
  }

  appendMultiple(parts: StreamAppend[], options: MultiAppendOptions = {}): Promise<AppendResult[]> {
    let prepared: PreparedPart[];
    try {
      this.checkOpen();
      validateIdempotencyKey(options.idempotencyKey);
      prepared = prepareParts(parts);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(prepared, options.idempotencyKey, undefined, CURRENT_HASH_VERSION);
  }

  private enqueue(parts: PreparedPart[], key: string | undefined, recordedAt: string | undefined, hashVersion: number): Promise<AppendResult[]> {
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ parts, key, recordedAt, hashVersion, resolve, reject });
      // Appends issued in the same turn of the event loop, or while a commit is in flight, join one batch.
      if (!this.flushing) {
        this.flushing = new Promise<void>((r) => setImmediate(r)).then(() => this.flushLoop());
      }
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      // Opened already (or opening): close() may have begun, and still wants the queue written.
      await (this.opening ?? this.ready());
      while (this.queue.length > 0) {
        const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
        this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
        await this.flushBatch(batch);
      }
    } catch (error) {
      // The store could not open: every queued append fails with that error.
      const failed = this.queue;
      this.queue = [];
      for (const a of failed) a.reject(error);
    } finally {
      this.flushing = null;
    }
  }

  /** Commits one batch and settles its promises. */
  private async flushBatch(batch: PendingAppend[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.commit(batch);
    } catch (batchError) {
      // Something other than a version conflict failed and the transaction rolled back. A unique
      // violation (a duplicate event id) belongs to one append: retry each alone so that only the
      // culprit fails. Anything else (connection lost, disk full) fails them all.
      const isUnique = (batchError as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;
      outcomes = [];
      for (const append of batch) {
        if (batch.length === 1 || !isUnique) {
          outcomes.push({ ok: false, error: await this.translateError(batchError, append) });
          continue;
        }
        try {
          outcomes.push((await this.commit([append]))[0]!);
        } catch (error) {
          outcomes.push({ ok: false, error: await this.translateError(error, append) });
        }
      }
    }

    let committed = false;
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.ok === true) {
        if (outcome.results.some((r) => !r.duplicate && r.events.length > 0)) committed = true;
        batch[i]!.resolve(outcome.results);
      } else if (outcome.ok === 'stored') {
        this.resolveStored(outcome.key).then((r) => batch[i]!.resolve([r]), batch[i]!.reject);
      } else {
        batch[i]!.reject(outcome.error);
      }
    }
    this.counters.appends += batch.length;
    if (batch.length > this.counters.largestBatch) this.counters.largestBatch = batch.length;
    if (committed) this.wake.notify();
  }

  /**
   * One transaction over the batch, serialised with every other writer of the schema by the
   * advisory lock (see the file comment). Version conflicts become per-append outcomes; any other
   * error rolls the whole batch back and is thrown.
   */
  private async commit(batch: PendingAppend[]): Promise<Outcome[]> {
    const pool = this.pool;
    if (!pool) throw new EventStoreClosedError(this.adapterName);
    this.counters.transactions++;
    const streamIds = new Set<string>();
    const keys = new Set<string>();
    for (const a of batch) {
      for (const p of a.parts) streamIds.add(p.streamId);
      if (a.key !== undefined) keys.add(a.key);
    }
    return withPooledClient(pool, (client) => this.commitOn(client, batch, streamIds, keys));
  }

  private async commitOn(client: pg.PoolClient, batch: PendingAppend[], streamIds: Set<string>, keys: Set<string>): Promise<Outcome[]> {
    let commitSent = false;
    try {
      // READ COMMITTED whatever the server's default: each statement after the lock sees every
      // commit that released it. The key is our own decimal number, not input.
      await client.query(`${BEGIN_WRITE}; SELECT pg_advisory_xact_lock(${this.appendLock})`);
      const headRows = await client.query(this.sql.heads, [[...streamIds], [...keys]]);
      const heads = parseHeads(headRows.rows[0], LOG_GENESIS);
      const plan = planCommit(batch, heads, new Date().toISOString(), this.signer, this.channel);
      if (plan.params) await client.query(this.sql.write, plan.params);
      commitSent = true;
      await client.query('COMMIT');
      this.counters.events += plan.written;
      return plan.outcomes;
    } catch (error) {
      // Before COMMIT, a failure rolls everything back; while COMMIT is answered, a lost
      // connection leaves the outcome unknown (a refusal the server explains did roll back).
      if (commitSent && !/^(23|40)/.test(String((error as { code?: unknown } | null)?.code ?? ''))) throw new CommitOutcomeUnknownError(error);
      // A client whose connection failed (ROLLBACK fails too) is destroyed by withPooledClient.
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  private async resolveStored(key: StoredKey): Promise<AppendResult> {
    const rows = await this.rows<EventRow>(this.sql.eventsBetween, [key.firstPosition, key.lastPosition]);
    const events = rows.map(toRecorded);
    const last = events[events.length - 1]!;
    return { streamId: key.streamId, nextExpectedVersion: last.revision, position: last.position, events, duplicate: true };
  }

  private async translateError(error: unknown, append: PendingAppend): Promise<unknown> {
    const e = error as { code?: unknown; constraint?: unknown } | null;
    if (e?.code === UNIQUE_VIOLATION && typeof e.constraint === 'string' && e.constraint.includes('event_id')) {
      try {
        const ids = append.parts.flatMap((p) => p.events.map((ev) => ev.eventId));
        const existing = new Set((await this.rows<[string]>(this.sql.existingEventIds, [ids])).map((r) => r[0]));
        for (const part of append.parts) {
          const dup = part.events.find((ev) => existing.has(ev.eventId));
          if (dup) return new DuplicateEventIdError(dup.eventId, part.streamId);
        }
        // Not stored: the same id twice across the parts of this append.
        const seen = new Set<string>();
        for (const part of append.parts) {
          for (const ev of part.events) {
            if (seen.has(ev.eventId)) return new DuplicateEventIdError(ev.eventId, part.streamId);
            seen.add(ev.eventId);
          }
        }
      } catch {
        // fall through to the original error
      }
    }
    return error;
  }

  // ---------------------------------------------------------------- reads

  async readSignatures(options: { after?: string | null; upTo?: string | null; maxCount?: number } = {}): Promise<HeadSignature[]> {
    const after = options.after ? positionParam(options.after) : '0';
    const upTo = options.upTo ? positionParam(options.upTo) : '9223372036854775807';
    const max = normaliseCount(options.maxCount, DEFAULT_READ_COUNT, 'maxCount');
    if (max === 0) return [];
    return (await this.rows<SignatureRow>(this.sql.readSignatures, [after, upTo, max])).map(toSignature);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    validateStreamId(streamId);
    const from = normaliseCount(options.fromRevision, 0, 'fromRevision');
    const to = normaliseCount(options.toRevision, MAX_REVISION, 'toRevision');
    if (from > to || from > MAX_REVISION) return [];
    return (await this.rows<EventRow>(this.sql.readStream, [streamId, from, Math.min(to, MAX_REVISION)])).map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const maxBytes = normaliseCount(options.maxBytes, READ_PAGE_BYTES, 'maxBytes');
    return this.readPage(options.after ?? null, normaliseCount(options.maxCount, DEFAULT_READ_COUNT, 'maxCount'), options.types, maxBytes);
  }

  private async readPage(after: string | null, maxCount: number, types?: string[], maxBytes = READ_PAGE_BYTES): Promise<RecordedEvent[]> {
    const from = after === null ? '0' : positionParam(after);
    if (maxCount === 0) return [];
    let rows: EventRow[];
    if (types === undefined || types === null) {
      rows = await this.rows<EventRow>(this.sql.readAll, [from, maxCount, maxBytes]);
    } else {
      if (!Array.isArray(types)) throw new TypeError('types must be an array of strings');
      if (types.length === 0) return [];
      rows = await this.rows<EventRow>(this.sql.readAllTyped, [from, types, maxCount, maxBytes]);
    }
    return rows.map(toRecorded);
  }

  /**
   * Every commit stamps its recordedAt under the append lock and holds it until COMMIT: taking the
   * lock shared (let go at once) waits for the commit in flight, on whichever instance, so that a
   * read as of an instant just past cannot leave out a commit stamped before it and see it when
   * asked again (PostgreSQL probe F3: 11 of 120 such reads changed with two instances).
   */
  async awaitCommitted(): Promise<void> {
    this.checkOpen();
    await this.rows(`SELECT pg_advisory_xact_lock_shared(${this.appendLock})`, []);
  }

  async headPosition(): Promise<string | null> {
    const [row] = await this.rows<[string | null]>(this.sql.head, []);
    return row?.[0] == null ? null : padPosition(row[0]);
  }

  async streamVersion(streamId: string): Promise<number> {
    validateStreamId(streamId);
    const [row] = await this.rows<[number | null]>(this.sql.streamVersion, [streamId]);
    return row?.[0] ?? -1;
  }

  async readSnapshot(streamId: string, stateVersion: string, options: ReadSnapshotOptions = {}): Promise<StreamSnapshot | null> {
    const { maxRevision, maxPosition, maxRecordedAt } = snapshotQuery(streamId, stateVersion, options);
    const [row] = await this.rows<[number, string, string, string]>(this.sql.readSnapshot, [streamId, stateVersion, Math.min(maxRevision, MAX_REVISION), maxPosition, maxRecordedAt]);
    if (!row) return null;
    return toSnapshot({ streamId, stateVersion, revision: row[0], position: row[1], recordedAt: row[2], stateJson: row[3] });
  }

  /** A plain upsert outside the append lock: snapshots are not part of the log. */
  async writeSnapshot(snapshot: StreamSnapshot): Promise<void> {
    const p = prepareSnapshot(snapshot);
    if (p.revision > MAX_REVISION) return;
    await this.rows(this.sql.upsertSnapshot, [p.streamId, p.stateVersion, p.revision, p.position, p.recordedAt, p.stateJson]);
  }

  async findIdempotentAppend(idempotencyKey: string): Promise<AppendResult | null> {
    validateIdempotencyKey(idempotencyKey);
    if (idempotencyKey === undefined) return null;
    const [row] = await this.rows<[string, string, string]>(this.sql.selectKey, [idempotencyKey]);
    if (!row) return null;
    return this.resolveStored({ streamId: row[0], firstPosition: row[1], lastPosition: row[2] });
  }

  // ---------------------------------------------------------------- subscriptions

  subscribeToAll(options: SubscribeOptions): SubscriptionHandle {
    this.checkOpen();
    return trackedSubscription(
      this.subscriptions,
      {
        readPage: (after, max) => {
          if (this.state === 'closing' || this.state === 'closed') throw new EventStoreClosedError(this.adapterName);
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
    const details = { schema: this.schema, listening: this.listener !== null };
    try {
      const headPosition = await this.headPosition();
      // The triggers are the fence, the hash chain the evidence: the store serves without them,
      // but an owner who dropped or disabled them is told (it went unsaid: DBA probe of 2026-12-06, L2).
      const missing = await missingAppendOnlyTriggers(await this.db(), this.schema);
      const warnings = missing.length > 0 ? [`the append-only triggers ${missing.join(', ')} of schema ${this.schema} are missing or disabled: the database no longer refuses edits of the log (verify-store still finds them)`] : undefined;
      return { ok: true, adapter: this.adapterName, details: { ...details, headPosition }, ...(warnings ? { warnings } : {}) };
    } catch (error) {
      return { ok: false, adapter: this.adapterName, details: { ...details, error: error instanceof Error ? error.message : String(error) } };
    }
  }

  stats(): PostgresEventStoreStats {
    return { ...this.counters };
  }
}
