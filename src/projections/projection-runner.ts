import { ClockWatch } from './clock-behind-log.js';
import { encodePosition } from '../event-store/hash-chain.js';
import type { EventStore, RecordedEvent, SubscriptionHandle } from '../event-store/event-store.port.js';
import { PositionWaiters } from '../shared/application/position-waiters.js';
import { JsonLogger } from '../shared/logging/json-logger.js';
import { Backoff, retryingError, type RetryState } from '../shared/application/transient-errors.js';
import type { Projection } from './projection.js';
import type { ReadDb } from './read-model-database.js';
import type { ReplaySnapshotStore } from './replay-snapshots.js';
import { ReplaySnapshotWriter } from './replay-snapshot-writer.js';
import { CATCH_UP, type CatchUpOptions } from './catch-up-options.js';
import { pageTransaction, prepareCheckpoints } from './projection-checkpoints.js';
import { ReadModelWorker } from './read-model-worker.js';
import { CHECKPOINT_FAILED } from '../event-store/sqlite/wal-checkpoints.js';
import { setImmediate as nextTurn } from 'node:timers/promises';

type Upcast = (event: RecordedEvent) => RecordedEvent;

// How catch-ups read and commit (catch-up-options.ts); importers name them from here as before.
export { OFFLINE_CATCH_UP, type CatchUpOptions } from './catch-up-options.js';

/** How long a command waits for the read models to reach what it wrote (read-your-writes). */
const COMMAND_WAIT_MS = 10_000;
/** How often a start behind the log logs its progress (ProjectionRunner.reportCatchUp). */
const CATCH_UP_LOG_MS = 5_000;

/** How long `waitFor` waits, and what it does while the projections retry a storage error. */
export interface ReadModelWait {
  /** Default 10 s (a command's read-your-writes wait). */
  timeoutMs?: number;
  /**
   * 'fail' (default): reject at once while the projections retry a storage error (a full
   * read-model disk): they will not get there soon, so a command answers with its committed
   * result at once rather than after the whole timeout (fault probe). 'wait': wait through the
   * retries (a rebuild, a bench's catch-up).
   */
  whileRetrying?: 'fail' | 'wait';
}

/**
 * A catch-up's transaction, open across its pages: the events applied in it, when it began, the
 * in-memory checkpoints it began from (restored if it rolls back), the last event applied and the
 * one before it, and the timer that commits it when no further page comes.
 */
interface OpenSpan {
  events: number;
  began: number;
  committed: Map<string, string | null>;
  end: RecordedEvent;
  previous: string | null;
  idle?: NodeJS.Timeout;
}

/**
 * Feeds every projection from the store's catch-up subscription (never from the in-process
 * event bus, which loses what it has not delivered when the process dies: pitfall 6). One
 * subscription, applied serially in log order (pitfall 7); each page of events is applied to
 * every projection and the checkpoints are stored in the same SQLite transaction.
 *
 * A transient write error (SQLITE_FULL, SQLITE_BUSY, SQLITE_IOERR: a full disk, a lock, an I/O
 * hiccup) rolls the page back and the runner follows the log again from its checkpoint after a
 * backoff (50 ms doubling to 5 s), until the cause goes away; meanwhile `retrying` says so and
 * waiters keep waiting (up to their timeout). Any other error stops it for good (`failed`).
 */
export class ProjectionRunner {
  private subscription?: SubscriptionHandle;
  private readonly reached = new PositionWaiters('Projections');
  private failure?: unknown;
  private readonly log: JsonLogger;
  private onProgress?: (applied: number, position: string) => void;
  private readonly backoff = new Backoff();
  private retryTimer?: NodeJS.Timeout;
  /** Grows on every (re)subscription and on stop: a late error of an older subscription is ignored. */
  private generation = 0;
  /** The file's checkpoints and snapshot images off the event loop (read-model-worker.ts); none for an in-memory database. */
  private worker: ReadModelWorker | null = null;
  /** Snapshots of the read models for time travel, every so many events (replay-snapshot-writer.ts). */
  private readonly snapshots: ReplaySnapshotWriter;

  constructor(
    private readonly store: EventStore,
    private readonly db: ReadDb,
    private readonly projections: Projection[],
    private readonly upcast: Upcast,
    logger: JsonLogger,
    options: CatchUpOptions = {},
  ) {
    this.log = logger.child('projections');
    this.clockWatch = new ClockWatch(this.log);
    this.snapshots = new ReplaySnapshotWriter(db, projections, () => this.worker, (error) => this.snapshotFailed(error));
    this.catchUp = { ...CATCH_UP, ...options };
  }

  private readonly catchUp: Required<CatchUpOptions>;
  private span?: OpenSpan;
  /** The position of the last event applied (committed or not); null before any. */
  private appliedEnd: string | null = null;

  /** Whether the server's clock runs behind the log the projections apply (/health, a warn line). */
  readonly clockWatch: ClockWatch;

  /** Creates tables, rebuilds projections whose schema changed, and starts following the log. */
  start(): void {
    const checkpoints = (this.checkpoints = prepareCheckpoints(this.db, this.projections, this.log));
    // Projections that are behind start from the lowest checkpoint; those ahead skip what they have seen.
    const positions = this.projections.map((p) => checkpoints.get(p.name) ?? null);
    const from = positions.includes(null) ? null : positions.sort()[0]!;
    this.furthest = positions.reduce<string | null>((max, p) => (p !== null && (max === null || p > max) ? p : max), null);
    this.reached.reset(from);
    this.startWorker();
    this.committedSinceStart = 0;
    this.subscribe(from);
    void this.reportCatchUp(from);
    this.clockWatch.watch();
    void this.seeLogsLastInstant();
  }

  /**
   * The log's last instant, before anything is applied: a server started with its clock behind a
   * log it had applied before said nothing until the next commit (probe of the clock watch, F3).
   */
  private async seeLogsLastInstant(): Promise<void> {
    try {
      const head = await this.store.headPosition();
      if (head === null || !/^\d+$/.test(head)) return; // KurrentDB's positions name no previous one: its next commit tells
      const [last] = await this.store.readAll({ after: encodePosition(BigInt(head) - 1n), maxCount: 1 });
      if (last) this.clockWatch.applied(last.recordedAt);
    } catch {
      // A report only: the store's own troubles are told by the subscription.
    }
  }

  /**
   * A start behind the log (read models lost, or rebuilt for a new schema) says how far it has
   * come every CATCH_UP_LOG_MS and when it is done: the first start after an upgrade logged that
   * it rebuilt and then nothing, while /health said `catching-up` (upgrade probe p16).
   */
  private async reportCatchUp(from: string | null): Promise<void> {
    const head = await this.store.headPosition().catch(() => null);
    if (head === null || (from !== null && from >= head) || this.caughtUp) return;
    this.catchUpHead = head;
    const began = Date.now();
    let logged = began;
    this.log.info('projections catching up with the log', { from, head });
    // Already there by the time the head was known (a short catch-up): said at once.
    const reached = this.reached.current;
    if (reached !== null && reached >= head) return this.log.info('projections caught up', { events: this.committedSinceStart, position: reached, ms: 0 });
    this.catchUpProgress = (position) => {
      // Counted from the start, also what was committed before the head was known.
      const applied = this.committedSinceStart;
      const now = Date.now();
      if (position >= head) {
        this.catchUpProgress = undefined;
        this.log.info('projections caught up', { events: applied, position, ms: now - began });
      } else if (now - logged >= CATCH_UP_LOG_MS) {
        logged = now;
        this.log.info('projections catching up', { events: applied, position, head, eventsPerSecond: Math.round((applied * 1000) / (now - began)) });
      }
    };
  }
  private catchUpProgress?: (position: string) => void;
  /** The log's head when a start behind it began (queries answered meanwhile name it: read-models-extension.ts). */
  get headAtStart(): string | null {
    return this.catchUpHead;
  }
  private catchUpHead: string | null = null;
  private committedSinceStart = 0;

  /**
   * Also leaves a stored snapshot of the read models (replay-snapshots.ts) every `every` events it
   * applies, so that a register-wide asOf starts near its moment even before any replay has run.
   * The image is the read-model database after a committed page (every projection at the same
   * position), without the history tables. For a database in a file it is built by the worker
   * thread (read-model-worker.ts) from one committed state while the projections go on; in
   * memory, on the event loop (so `every` should be large: default 10,000).
   */
  storeReplaySnapshots(store: ReplaySnapshotStore, every: number): void {
    this.snapshots.store(store, every);
  }

  /**
   * `firstUntrusted()` names the first position the read models must not apply (the log fails
   * verification from there: IntegrityMonitor), or null. Pages are cut there and the runner holds:
   * on PostgreSQL an instance whose recorded head was lost (an older dump restored) went on
   * applying what the other instances wrote next onto the history the log no longer holds, and
   * served assets of both.
   */
  holdFrom(firstUntrusted: () => string | null): void {
    this.firstUntrusted = firstUntrusted;
  }
  private firstUntrusted: () => string | null = () => null;
  /** Where the runner holds (holdFrom), once it does. */
  private heldFrom?: string;

  /** The furthest checkpoint any read model had when the runner started (IntegrityMonitor.witness). */
  get startedAfter(): string | null {
    return this.furthest;
  }
  private furthest: string | null = null;

  /** The position every projection has applied (null: nothing yet). */
  get checkpoint(): string | null {
    return this.reached.current;
  }

  get failed(): unknown {
    return this.failure;
  }

  /** The run of retries of a transient error in progress (undefined when applying normally). */
  get retrying(): RetryState | undefined {
    return this.backoff.retrying;
  }

  /**
   * Whether the read models have reached the end of the log once since the start or the last
   * rebuild (rebuild() sets it back): until then a start behind the log (read models lost, or
   * rebuilt for a new schema) or a rebuild answers queries from read models that lack events of
   * the log, and /health/ready says so (Readiness).
   */
  get caughtUpOnce(): boolean {
    return this.caughtUp;
  }
  private caughtUp = false;
  private caughtUpWaiters: (() => void)[] = [];

  /** Resolves once caughtUpOnce is true (at once when it is): what a check of the whole register at start waits for. */
  whenCaughtUp(): Promise<void> {
    return this.caughtUp ? Promise.resolve() : new Promise((resolve) => this.caughtUpWaiters.push(resolve));
  }

  private reachedTheHead(): void {
    this.caughtUp = true;
    for (const resolve of this.caughtUpWaiters.splice(0)) resolve();
  }

  /**
   * Resolves once every projection has applied `position` (read-your-writes); rejects after
   * `timeoutMs`, or at once when the projection subscription stops on an error.
   */
  waitFor(position: string, options: ReadModelWait = {}): Promise<void> {
    const { timeoutMs = COMMAND_WAIT_MS, whileRetrying = 'fail' } = options;
    // Holding where the log fails verification: nothing more comes, and what came is all there is.
    if (this.heldFrom !== undefined && position >= this.heldFrom) return Promise.resolve();
    const retrying = this.backoff.retrying;
    const current = this.reached.current;
    if (retrying && whileRetrying === 'fail' && (current === null || position > current)) return Promise.reject(retryingError(retrying));
    return this.reached.wait(position, timeoutMs, whileRetrying === 'fail');
  }

  /** Drops every read model and replays the whole log; reports progress at each commit. */
  async rebuild(onProgress?: (applied: number, position: string) => void): Promise<{ events: number; position: string | null }> {
    await this.stop();
    // Catching up from here, as at a start behind the log: answers read meanwhile say so and
    // /health/ready is 503 until the rebuild reaches the head. They were read from read models
    // refilled from nothing with no word of it (0, then 795 of 3,060 risks), and ready stayed 200
    // while another instance answered the whole register (PostgreSQL scale probe of 2026-12-06, M1).
    this.caughtUp = false;
    // One projection at a time, with a turn of the event loop between: dropping a table frees its
    // every page, and all of them in one transaction held the loop 15-41 ms at the start of a
    // rebuild of 11,000 events (probe of 2026-12-06, M1), 51 ms for read models of 51 MB (34 of
    // them the risk register's). A projection reset alone is at its checkpoint's start, as after a
    // crash between two: the next start applies the log from the lowest checkpoint.
    // Waiters wait for the rebuild from here: read-your-writes must not read a read model being reset.
    this.reached.reset();
    const resetOne = this.db.transaction((p: Projection) => {
      p.reset(this.db);
      this.db
        .prepare('INSERT INTO projection_checkpoints (name, schema_version, position) VALUES (?, ?, NULL) ON CONFLICT(name) DO UPDATE SET schema_version = excluded.schema_version, position = NULL')
        .run(p.name, p.schemaVersion);
    });
    for (const p of this.projections) {
      resetOne(p);
      await nextTurn();
    }
    // Forget the in-memory checkpoints too, or applyBatch would skip every event already seen.
    for (const p of this.projections) this.checkpoints.set(p.name, null);
    this.failure = undefined;
    this.backoff.succeeded();
    this.startWorker();
    const head = await this.store.headPosition();
    this.catchUpHead = head;
    let applied = 0;
    this.onProgress = (n, pos) => {
      applied += n;
      onProgress?.(applied, pos);
    };
    this.subscribe(null);
    this.clockWatch.watch();
    if (head) await this.waitFor(head, { timeoutMs: 24 * 3600_000, whileRetrying: 'wait' });
    // At the head it rebuilt to: following the log again, whether or not the subscription has said
    // so yet (an answer read right after the mutation's is not flagged).
    this.reachedTheHead();
    this.onProgress = undefined;
    return { events: applied, position: this.reached.current };
  }

  async stop(): Promise<void> {
    this.generation++;
    this.clockWatch.unwatch();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const s = this.subscription;
    this.subscription = undefined;
    await s?.close();
    // What a catch-up applied is kept: its pages are whole, and the checkpoints say how far.
    if (this.span) {
      try {
        this.commitSpan();
      } catch (error) {
        this.log.warn('projections: the last pages applied could not be committed; they are applied again on the next start', { error: describe(error) });
      }
    }
    // The snapshot being built is stored (or given up) before the worker goes.
    await this.snapshots.settled();
    const worker = this.worker;
    this.worker = null;
    await worker?.close();
  }

  private startWorker(): void {
    if (this.worker || !this.db.open) return;
    this.worker = ReadModelWorker.start(this.db, { warn: (message) => this.log.warn(`read models: ${CHECKPOINT_FAILED}`, { error: message }) });
  }

  private subscribe(from: string | null): void {
    const generation = ++this.generation;
    this.appliedEnd = from;
    this.subscription = this.store.subscribeToAll({
      from,
      // Full pages while catching up; a live page is what is new.
      batchSize: this.catchUp.pageSize,
      onEvent: (e) => this.applyBatch([e]),
      onBatch: (events) => this.applyBatch(events),
      onError: (error) => this.stopped(error, generation),
      // Back after a transient error with nothing new to apply: the retry is over all the same.
      onCaughtUp: () => {
        this.reachedTheHead();
        this.backoff.resumed((ended) => this.log.info('projections resumed after a transient storage error', { since: ended.since, attempts: ended.attempts, position: this.reached.current }));
      },
    });
  }

  /** The subscription (or the commit of a catch-up) failed: follow the log again after a transient error, else stop. */
  private stopped(error: unknown, generation: number): void {
    if (generation !== this.generation) return;
    const since = this.backoff.retrying?.since;
    const givingUp = since !== undefined && Date.now() - Date.parse(since) > this.catchUp.retryForMs;
    const timer = givingUp ? undefined : this.backoff.retryLater(
      error,
      (retry) => this.log.warn('projections hit a transient storage error: retrying', { ...retry, checkpoint: this.reached.current }),
      () => {
        this.retryTimer = undefined;
        if (generation === this.generation) this.subscribe(this.reached.current);
      },
    );
    if (timer) {
      this.subscription = undefined;
      this.retryTimer = timer;
      this.reached.rejectRetrying(retryingError(this.backoff.retrying!));
      return;
    }
    this.failure = error;
    this.log.error('projection subscription stopped', { error: describe(error) });
    this.reached.fail(new Error(`Projections stopped at ${this.reached.current ?? 'the start of the log'}: ${describe(error)}`));
  }

  private checkpoints = new Map<string, string | null>();

  /** A page's transaction, made once (projection-checkpoints.ts). */
  private pageTransaction?: (events: RecordedEvent[], from: number, ahead: boolean, deadline: number, writeBack: boolean) => number;

  private page(): (events: RecordedEvent[], from: number, ahead: boolean, deadline: number, writeBack: boolean) => number {
    return (this.pageTransaction ??= pageTransaction(this.db, this.projections, this.upcast, () => this.checkpoints, (ms) => (this.lastFlushMs = ms)));
  }

  /** Applies a page the subscription delivered; a promise only while a long page of a catch-up is applied in slices. */
  private applyBatch(page: RecordedEvent[]): void | Promise<void> {
    const events = this.trusted(page);
    if (events.length === 0) {
      if (this.span) this.commitSpan();
      return;
    }
    // Only right after a start from the lowest checkpoint can a projection be ahead of the page;
    // otherwise every projection takes every event, without a per-event checkpoint lookup.
    const first = events[0]!.position;
    const ahead = this.projections.some((p) => {
      const cp = this.checkpoints.get(p.name) ?? null;
      return cp !== null && cp >= first;
    });
    // A full page: more is waiting, so the transaction stays open for the next pages (CatchUpOptions).
    const full = events.length >= this.catchUp.pageSize;
    let span = this.span;
    if (span) clearTimeout(span.idle);
    else if (full) {
      this.db.exec('BEGIN');
      span = this.span = { events: 0, began: performance.now(), committed: new Map(this.checkpoints), end: events[0]!, previous: null };
    }
    if (!span) {
      // What is new, in a transaction of its own, applied whole.
      const { previous } = this.applyPiece(events, 0, ahead, Infinity);
      this.committed(events.length, events[events.length - 1]!, previous);
      return;
    }
    // Inside a span, better-sqlite3 runs each piece as a savepoint.
    const end = this.applyToSpan(span, events, 0, ahead);
    if (end < events.length) return this.applyRestInSlices(span, events, end, ahead, full);
    this.pageApplied(span, full);
  }

  /**
   * The rest of a catch-up's page, a slice of `sliceMs` at a time with a turn of the event loop
   * between them: a page of 1,000 events took ~300 ms of the loop on a loaded PostgreSQL instance
   * during a live rebuild, and `/health/live` waited that long (PostgreSQL scale probe, L1). Each
   * piece leaves the read models whole at its last event (pageTransaction; with the server's
   * `writeBack: 'piece'`), so a query on this connection between two sees them as of that event,
   * as between two pages.
   */
  private async applyRestInSlices(span: OpenSpan, events: RecordedEvent[], from: number, ahead: boolean, full: boolean): Promise<void> {
    const generation = this.generation;
    let at = from;
    while (at < events.length) {
      await nextTurn();
      // Stopped meanwhile (stop() commits what the span applied; a rebuild starts again from nothing): the rest is not applied.
      if (generation !== this.generation || this.span !== span) return;
      at = this.applyToSpan(span, events, at, ahead);
    }
    this.pageApplied(span, full);
  }

  /**
   * How long the last piece's flush took: each piece writes back every state it touched (a risk's
   * document of a few KB), which took up to 23 ms after a 20 ms slice on a register of 3,060 risks
   * (PostgreSQL live-rebuild profile of 2026-12-06), so the next piece applies for the slice less that.
   */
  private lastFlushMs = 0;

  /** Applies events from `from` on in the open span, for up to `sliceMs` with the flush; the index after the last applied. */
  private applyToSpan(span: OpenSpan, events: RecordedEvent[], from: number, ahead: boolean): number {
    const slice = this.catchUp.sliceMs;
    const applying = Math.max(slice / 4, slice - this.lastFlushMs);
    const { end, previous } = this.applyPiece(events, from, ahead, slice === Infinity ? Infinity : performance.now() + applying);
    span.events += end - from;
    span.end = events[end - 1]!;
    span.previous = previous;
    return end;
  }

  /** One transaction (a savepoint inside a span) of events from `from` on until `deadline`; the in-memory checkpoints follow. */
  private applyPiece(events: RecordedEvent[], from: number, ahead: boolean, deadline: number): { end: number; previous: string | null } {
    let end: number;
    try {
      if (this.span) this.assertSpanOpen();
      // Inside a span of a catch-up nobody queries, the states are written back at its commit.
      end = this.page()(events, from, ahead, deadline, !this.span || this.catchUp.writeBack === 'piece');
    } catch (error) {
      this.abandonSpan();
      throw error;
    }
    const last = events[end - 1]!.position;
    for (const p of this.projections) {
      const cp = this.checkpoints.get(p.name) ?? null;
      if (cp === null || cp < last) this.checkpoints.set(p.name, last);
    }
    const previous = end >= 2 ? events[end - 2]!.position : this.appliedEnd;
    this.appliedEnd = last;
    return { end, previous };
  }

  /** A page applied in the open span: commit now, or leave it open for the next page (CatchUpOptions). */
  private pageApplied(span: OpenSpan, full: boolean): void {
    if (full && span.events < this.catchUp.commitEvery && performance.now() - span.began < this.catchUp.commitAfterMs) {
      // Committed by the next page, or now if none comes (caught up at a page's boundary).
      const generation = this.generation;
      span.idle = setTimeout(() => {
        if (this.span !== span) return;
        try {
          this.commitSpan();
        } catch (error) {
          const s = this.subscription;
          this.subscription = undefined;
          void s?.close();
          this.stopped(error, generation);
        }
      }, this.catchUp.idleCommitMs);
      return;
    }
    this.commitSpan();
  }

  /** The part of a page before the first untrusted position (holdFrom); past it the runner holds. */
  private trusted(events: RecordedEvent[]): RecordedEvent[] {
    const bound = events.length === 0 ? null : this.firstUntrusted();
    if (bound === null || events[events.length - 1]!.position < bound) return events;
    if (this.heldFrom === undefined) {
      this.heldFrom = bound;
      // Whoever waits for it or a later position has all the read models will apply.
      this.reached.releaseFrom(bound);
      this.log.error('projections hold: the log fails verification from this position, and nothing from there on is applied to the read models', { from: bound, checkpoint: this.reached.current });
      const s = this.subscription;
      this.subscription = undefined;
      this.generation++;
      void s?.close();
    }
    return events.filter((e) => e.position < bound);
  }

  /** Commits the open span; rolls it back and rethrows when the commit fails. */
  private commitSpan(): void {
    const span = this.span!;
    clearTimeout(span.idle);
    try {
      this.assertSpanOpen();
      if (this.catchUp.writeBack === 'commit') for (const p of this.projections) p.flush?.(this.db);
      this.db.exec('COMMIT');
    } catch (error) {
      this.abandonSpan();
      throw error;
    }
    this.span = undefined;
    this.worker?.checkpointSoon();
    this.committed(span.events, span.end, span.previous);
  }

  /**
   * Nothing but this runner writes to the read models' connection; were the open span rolled back
   * under it (SQLite does so on some errors), its pages would be lost while the checkpoints went on.
   */
  private assertSpanOpen(): void {
    if (!this.db.inTransaction) throw new Error("the read models' transaction was rolled back while pages were applied in it");
  }

  /** After a failed page or commit: the caches go, and so does the open span, back to its checkpoints. */
  private abandonSpan(): void {
    for (const p of this.projections) p.discard?.();
    const span = this.span;
    if (!span) return;
    clearTimeout(span.idle);
    this.span = undefined;
    if (this.db.open && this.db.inTransaction) this.db.exec('ROLLBACK');
    this.checkpoints = span.committed;
    this.appliedEnd = this.reached.current;
  }

  /** `count` events up to `end` are committed: waiters, progress and snapshots learn it. */
  private committed(count: number, end: RecordedEvent, previous: string | null): void {
    const ended = this.backoff.succeeded();
    if (ended) this.log.info('projections resumed after a transient storage error', { since: ended.since, attempts: ended.attempts, position: end.position });
    this.onProgress?.(count, end.position);
    this.committedSinceStart += count;
    this.catchUpProgress?.(end.position);
    this.reached.advance(end.position);
    this.clockWatch.applied(end.recordedAt);
    this.snapshots.committed(count, end, previous);
  }

  private readonly snapshotFailed = (error: unknown): void => {
    this.log.warn('could not store a snapshot of the read models (an optimisation only)', { error: describe(error) });
  };

}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
