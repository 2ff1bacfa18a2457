import type { EventStore, RecordedEvent } from '../event-store/event-store.port.js';
import { happenedBy, settlePoint, type PointInTime } from '../shared/application/point-in-time.js';
import type { EventUpcasters } from '../shared/application/event-upcasting.js';
import type { Projection, ProjectionOptions } from './projection.js';
import { turnSlice } from '../shared/application/turns.js';
import { isDamagedDatabaseError, type ReadDb } from './read-model-database.js';
import { ReplayFiles } from './replay-files.js';
import { shapeOf, type ReplayHead, type ReplaySnapshotMeta, type ReplaySnapshotStore } from './replay-snapshots.js';

export type { ReplayHead } from './replay-snapshots.js';

/** Stored snapshots of replays (replay-snapshots.ts): where to keep them and how often to take one. */
export interface ReplaySnapshotOptions {
  store: ReplaySnapshotStore;
  /** A snapshot once a replay has applied this many events since its base (0: never). */
  every: number;
}


interface CachedReplay {
  db: ReadDb;
  /** The last event applied: the replay holds exactly the log up to and including it. */
  last: ReplayHead | null;
  /** Leases not yet released (queries reading it, or a replay copying it). */
  users: number;
  /** Out of the cache: closed as soon as (or once) nobody uses it. */
  evicted: boolean;
}

/** A replay lent to one query: read `db`, then `release()` it (once; later calls do nothing). */
export interface ReplayLease {
  readonly db: ReadDb;
  /** The last event applied (null: none). */
  readonly head: ReplayHead | null;
  release(): void;
}

/** A replay being built: everyone asking for the same point waits for it, each with a lease. */
interface InFlight {
  promise: Promise<CachedReplay>;
  /** Leases promised to callers waiting for it, handed over the moment it is cached. */
  waiting: number;
}

/** Events read from the log at a time; a page also ends at 4 MB of them (events may be megabytes). */
const PAGE = 1_000;
const PAGE_BYTES = 4 * 1024 * 1024;

/*
 * Replays work in slices of the event loop (turnSlice): every replay in flight reads a page or
 * applies events (one transaction per slice) only within the turn's slice, and otherwise waits
 * for the next turn, so that other requests (and GET /health) are answered in between. Yielding
 * between full pages of 1,000 events did not: nine replays of a few hundred events holding
 * imported catalogues of 2.4 MB each (aliases at distinct positions in one request) all ran in the
 * request's own turn and held the loop for 0.3–1.1 s. One step still runs at least one page read
 * or one event.
 */

/**
 * Replays built at once; the others wait their turn, first come first served. The slices above
 * bound what a replay does in one turn, but not its steps that cannot be split (the copy of a
 * cached replay's read models, a stored snapshot opened, the last flush), and 16 replays at
 * distinct instants ran those in the same turns: /health/live waited 1.0-1.5 s, and each replay's
 * copy of the read models (~100 MB on a register of 38k risks) took the process from 0.95 to 1.84
 * GB (scale probe of 2026-12-06, M1). A replay answered from the cache, or joined, takes no turn.
 * One at a time: on a register of 54k risks two builds alternating their steps of a 170 MB image
 * still held it 0.9 s (the re-probe), one alone about 0.25 s.
 */
export const MAX_REPLAY_BUILDS = 1;

/**
 * Events between two flushes of the projections' document caches. A replay writes each state it
 * touched once per flush, not once per page: in a register whose risks are analysed in turn,
 * every page touches most risks, and writing them back after each page was half of a replay
 * (bench/rebuild.bench.ts, BENCH_LANES=1000). Bounded, since the states wait in memory until then.
 */
const FLUSH_EVERY = 10_000;

/**
 * How a replay was served, for metrics: `hit` from a cached replay as it was, `shared` by joining
 * a replay being built for the same moment, `partial` from a cached earlier replay plus the events
 * after it, `miss` from the start of the log. The platform wires it to Prometheus; default: nothing.
 */
export type ReplayCacheResult = 'hit' | 'shared' | 'partial' | 'miss';
export interface ReplayInstrumentation {
  replayed(result: ReplayCacheResult): void;
}
const NO_REPLAY_INSTRUMENTATION: ReplayInstrumentation = { replayed: () => {} };

/**
 * Replays are built without the projections' history tables (Projection.historyTables): their
 * queries read the live ones up to the replay's head, so a replay leaves those tables empty.
 */
const REPLAY: ProjectionOptions = { replay: true };

function keyOf(point: PointInTime): string {
  return point.atPosition ? `p:${point.atPosition}` : `t:${point.asOf!.toISOString()}`;
}

/**
 * Read models as they stood at a past moment: the same projections that serve today's queries,
 * replayed into a private in-memory database from the events of the log up to that moment. The
 * same query code then runs against it, so an auditor sees exactly what a query returned then,
 * never a guess from today's state. The projections' history tables (Projection.historyTables:
 * append-only rows that each carry their event's position, such as a risk's analyses) are the
 * exception: a replay leaves them empty and its queries read the live ones cut at its head.
 *
 * The events of a moment are a prefix of the log (positions are ordered and recordedAt never
 * decreases), so a replay stops at the first later event, and a later moment starts from a copy
 * of the longest cached replay it contains instead of from zero.
 *
 * Replays are lent, never handed over: `at()` returns a lease and the replay stays open until
 * every lease on it is released, even when the cache (least recently used first, `cacheSize`
 * entries) has already let it go; it is closed when its last user releases it. A replay that is
 * being copied as the base of another is leased by that copy too. Concurrent requests for the
 * same point share one replay (one build in flight per point). Prefer `read()`, which releases
 * for you.
 */
export class AsOfReplayer {
  private cache: CachedReplay[] = [];
  private readonly inFlight = new Map<string, InFlight>();
  /** Replays being built (MAX_REPLAY_BUILDS at most), and those waiting for their turn. */
  private builds = 0;
  private readonly buildQueue: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly store: EventStore,
    private readonly upcasters: EventUpcasters,
    private readonly projections: (options?: ProjectionOptions) => Projection[],
    private readonly cacheSize = 4,
    private readonly instrumentation: ReplayInstrumentation = NO_REPLAY_INSTRUMENTATION,
    private readonly snapshots?: ReplaySnapshotOptions,
    /** Where the replays' databases are kept (replay-files.ts; default: a folder in the system's temporary folder). */
    private readonly files: ReplayFiles = new ReplayFiles(),
  ) {}

  private shapeCache?: string;
  /** The read models' shape, for stored snapshots. */
  private get shape(): string {
    return (this.shapeCache ??= shapeOf(this.projections(REPLAY)));
  }

  /**
   * The newest stored snapshot at or before the point and after `after` (the cached base), opened,
   * once checked against the log: the event it ends at must still be there with its hash.
   */
  private async storedBase(included: (e: Pick<RecordedEvent, 'position' | 'recordedAt'>) => boolean, after: string | null): Promise<{ db: ReadDb; last: ReplayHead } | null> {
    const stored = this.snapshots?.store;
    if (!stored || !this.snapshots!.every) return null;
    for (;;) {
      const meta = stored.newest(this.shape, included, after);
      if (!meta) return null;
      const [head] = await this.store.readAll({ after: meta.previousPosition, maxCount: 1 });
      if (head && head.position === meta.head.position && head.hash === meta.head.hash) {
        let db: ReadDb | null = null;
        try {
          // Copied into a file of the replay's (a snapshot stored with a WAL header is switched to
          // a journal in memory when it is opened), checked, then opened.
          db = await this.files.fromFile((path) => stored.loadInto(meta, path));
          if (!db) continue; // gone, or not sealed: forgotten by the store
          db.prepare('SELECT COUNT(*) FROM sqlite_master').get(); // "file is not a database" shows here
          return { db, last: meta.head };
        } catch (error) {
          if (db) this.files.release(db);
          // Not a database (a damaged file): forgotten, and the next one looked for. Anything else
          // (the replay's file could not be written: a full disk) fails the replay, and the snapshot stays.
          if (!isDamagedDatabaseError(error)) throw error;
        }
      }
      stored.discard(meta);
    }
  }

  /**
   * Saves the image of the replay's read models as they stand (best effort: a snapshot is an
   * optimisation). A replay leaves its history and live-only tables empty, so its file is the
   * image as it is (snapshotImage's copy without them, and its VACUUM, held the loop up to 0.77 s).
   */
  private async saveSnapshot(copy: string, head: ReplayHead, previousPosition: string | null): Promise<void> {
    const meta: ReplaySnapshotMeta = { head, previousPosition, shape: this.shape };
    try {
      await this.snapshots!.store.saveFile(meta, copy);
    } catch {
      // Disk full or read-only: replays still work, from further back.
    }
  }

  /** Runs `query` on the read models as they stood at `point`, holding the replay meanwhile. */
  async read<T>(point: PointInTime, query: (db: ReadDb) => T | Promise<T>): Promise<T> {
    return this.readWithHead(point, (db) => query(db));
  }

  /** `read` at `point`, or `query` on the live read models `live` when there is none (the present): every query with an asOf asks this. */
  async readAtOrNow<T>(point: PointInTime | null | undefined, live: ReadDb, query: (db: ReadDb) => T | Promise<T>): Promise<T> {
    return point ? this.read(point, query) : query(live);
  }

  /**
   * Like `read`, and tells the query which event the replay ends with (null: no event by then):
   * what a document rendered from it cites so that it can be regenerated and compared.
   */
  async readWithHead<T>(point: PointInTime, query: (db: ReadDb, head: ReplayHead | null) => T | Promise<T>): Promise<T> {
    const lease = await this.at(point);
    try {
      return await query(lease.db, lease.head);
    } finally {
      lease.release();
    }
  }

  /** A lease on the replay of `point`; the caller must release it once it has read. */
  async at(asked: PointInTime): Promise<ReplayLease> {
    if (this.closed) throw new Error('AsOfReplayer is closed');
    const point = await settlePoint(this.store, asked);
    const key = keyOf(point);
    let flight = this.inFlight.get(key);
    if (!flight) {
      const started: InFlight = { waiting: 0, promise: undefined as never };
      started.promise = this.replay(point).then(
        (entry) => {
          // In one synchronous step: turn the build's own hold into the waiters' leases (there is
          // at least one, its starter), then cache (which may evict).
          entry.users += started.waiting - 1;
          this.inFlight.delete(key);
          this.remember(entry);
          return entry;
        },
        (error: unknown) => {
          this.inFlight.delete(key);
          throw error;
        },
      );
      this.inFlight.set(key, started);
      flight = started;
    } else this.instrumentation.replayed('shared');
    flight.waiting += 1;
    const entry = await flight.promise;
    return this.lease(entry, true);
  }

  /** Closes every replay nobody uses; the ones still lent close when released. */
  close(): void {
    this.closed = true;
    for (const entry of this.cache.splice(0)) this.evict(entry);
    this.files.close();
  }

  /**
   * The replay of `point`, with one lease held for the flight (see `at`): a cached one when nothing
   * was recorded for the moment since it, else one built in its turn (MAX_REPLAY_BUILDS).
   */
  private async replay(point: PointInTime): Promise<CachedReplay> {
    const included = happenedBy(point);
    const cached = await this.cachedAsItIs(included);
    if (cached) return cached;
    // The base is chosen in the build's turn: chosen before, a build waiting behind others held a
    // lease on it, and an evicted replay could not be closed (the re-probe of 2026-12-06 saw 4.4 GB).
    await this.buildTurn();
    try {
      // Another build may have cached this moment's state meanwhile.
      return (await this.cachedAsItIs(included)) ?? (await this.build(included));
    } finally {
      this.buildEnded();
    }
  }

  /** The cached replay nearest before the moment, if any. */
  private nearestCached(included: (e: Pick<RecordedEvent, 'position' | 'recordedAt'>) => boolean): CachedReplay | undefined {
    const bases = this.cache.filter((c) => c.last === null || included(c.last));
    return bases.reduce<CachedReplay | undefined>((best, c) => (!best || (c.last?.position ?? '') > (best.last?.position ?? '') ? c : best), undefined);
  }

  /** The nearest cached replay when nothing was recorded for the moment since it: leased, the lease being the flight's hold. */
  private async cachedAsItIs(included: (e: Pick<RecordedEvent, 'position' | 'recordedAt'>) => boolean): Promise<CachedReplay | null> {
    const base = this.nearestCached(included);
    if (!base) return null;
    const lease = this.lease(base);
    let next: RecordedEvent[];
    try {
      next = await this.store.readAll({ after: base.last?.position ?? null, maxCount: 1 });
    } catch (error) {
      lease.release();
      throw error;
    }
    if (next.length === 0 || !included(next[0]!)) {
      this.instrumentation.replayed('hit');
      return base;
    }
    lease.release();
    return null;
  }

  /** Builds the replay of the moment from the nearest cached replay or stored snapshot, else from the start of the log. */
  private async build(included: (e: Pick<RecordedEvent, 'position' | 'recordedAt'>) => boolean): Promise<CachedReplay> {
    const base = this.nearestCached(included);
    // Held while it is read and copied, so no eviction closes it under us.
    const baseLease = base ? this.lease(base) : null;
    try {
      let after = base?.last?.position ?? null;
      // A stored snapshot nearer the point than any cached replay is a better start.
      const stored = await this.storedBase(included, after);
      this.instrumentation.replayed(base || stored ? 'partial' : 'miss');
      if (stored) after = stored.last.position;
      const db = stored ? stored.db : base ? await this.files.copyOf(base.db) : this.files.fresh();
      try {
        await turnSlice();
        let page = await this.store.readAll({ after, maxCount: PAGE, maxBytes: PAGE_BYTES });
        let cut = page.findIndex((e) => !included(e));
        const projections = this.projections(REPLAY);
        this.files.writing(() => projections.forEach((p) => p.setup(db)));
        let last: ReplayHead | null = stored?.last ?? base?.last ?? null;
        let sinceSnapshot = 0;
        // Written off the loop while the replay goes on; the replay ends when they are stored.
        const saving: Promise<void>[] = [];
        let sinceFlush = 0;
        // The states are written at a snapshot, every FLUSH_EVERY events and at the end: nobody
        // reads the database before the replay ends, and a projection that reads its own rows
        // while applying flushes first (risk-register.projection.ts).
        // Applies events[from, to) until the slice's deadline passes (at least one event): the index reached.
        const apply = db.transaction((events: RecordedEvent[], from: number, to: number, deadline: number): number => {
          let i = from;
          while (i < to) {
            const event = this.upcasters.upcast(events[i++]!);
            for (const p of projections) p.apply(event, db);
            if (performance.now() > deadline) break;
          }
          return i;
        });
        // In slices too: one part per transaction (a projection that cannot split flushes whole, once).
        const flushPart = db.transaction((deadline: number): boolean => {
          let done = true;
          for (const p of projections) {
            if (p.flushUntil) done = p.flushUntil(db, deadline) && done;
            else p.flush?.(db);
          }
          return done;
        });
        const flush = async (): Promise<void> => {
          for (let done = false; !done; ) {
            const deadline = await turnSlice();
            done = this.files.writing(() => flushPart(deadline));
          }
        };
        for (;;) {
          const events = cut === -1 ? page : page.slice(0, cut);
          // Applied in pieces that end where a stored snapshot is due (every N events since the base)
          // or where the slice's time is up.
          for (let from = 0; from < events.length; ) {
            const every = this.snapshots?.every ?? 0;
            const to = Math.min(events.length, every ? from + every - sinceSnapshot : Infinity);
            const deadline = await turnSlice();
            const reached = this.files.writing(() => apply(events, from, to, deadline));
            const applied = reached - from;
            const end = events[reached - 1]!;
            const previousPosition = applied > 1 ? events[reached - 2]!.position : (last?.position ?? null);
            last = { position: end.position, recordedAt: end.recordedAt, hash: end.hash, chainHash: end.chainHash ?? null };
            sinceFlush += applied;
            sinceSnapshot += applied;
            if (every && sinceSnapshot >= every) {
              await flush();
              sinceFlush = 0;
              // Copied while the replay waits (nothing writes the file meanwhile), stored while it goes on.
              const copy = await this.files.copy(db).catch(() => null);
              if (copy) saving.push(this.saveSnapshot(copy, last, previousPosition));
              sinceSnapshot = 0;
            } else if (sinceFlush >= FLUSH_EVERY) {
              await flush();
              sinceFlush = 0;
            }
            from = reached;
          }
          // Only an empty page is the end of the log (a short one may have ended at READ_PAGE_BYTES).
          if (cut !== -1 || page.length === 0) break;
          after = page[page.length - 1]!.position;
          await turnSlice();
          page = await this.store.readAll({ after, maxCount: PAGE, maxBytes: PAGE_BYTES });
          cut = page.findIndex((e) => !included(e));
        }
        if (sinceFlush > 0) await flush();
        await Promise.all(saving);
        this.files.finish(db);
        return { db, last, users: 1, evicted: false };
      } catch (error) {
        this.files.release(db);
        throw error;
      }
    } finally {
      baseLease?.release();
    }
  }

  /** Resolves when this replay may be built (MAX_REPLAY_BUILDS at once). */
  private async buildTurn(): Promise<void> {
    if (this.builds < MAX_REPLAY_BUILDS) {
      this.builds += 1;
      return;
    }
    await new Promise<void>((resolve) => this.buildQueue.push(resolve));
  }

  /** A build ended: its turn goes to the first waiting, if any. */
  private buildEnded(): void {
    const next = this.buildQueue.shift();
    if (next) next();
    else this.builds -= 1;
  }

  /** A lease on `entry`; `counted` when its place in `users` was already taken (by a flight). */
  private lease(entry: CachedReplay, counted = false): ReplayLease {
    let released = false;
    if (!counted) entry.users += 1;
    return {
      db: entry.db,
      head: entry.last,
      release: () => {
        if (released) return;
        released = true;
        entry.users -= 1;
        if (entry.users === 0 && entry.evicted) this.files.release(entry.db);
      },
    };
  }

  /** Most recently used first; what falls off the end is evicted. */
  private remember(entry: CachedReplay): void {
    if (this.closed) {
      this.evict(entry);
      return;
    }
    // A base answered as it is may have fallen out of the cache meanwhile; it is still open
    // (leased), so it simply comes back.
    entry.evicted = false;
    this.cache = [entry, ...this.cache.filter((c) => c !== entry)];
    for (const old of this.cache.splice(this.cacheSize)) this.evict(old);
  }

  private evict(entry: CachedReplay): void {
    entry.evicted = true;
    if (entry.users === 0) this.files.release(entry.db);
  }
}
