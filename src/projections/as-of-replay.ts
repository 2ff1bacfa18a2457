import type { EventStore, RecordedEvent } from '../event-store/event-store.port.js';
import { happenedBy, type PointInTime } from '../shared/application/point-in-time.js';
import type { EventUpcasters } from '../shared/application/event-upcasting.js';
import type { Projection } from './projection.js';
import Database from 'better-sqlite3';
import { openReadModelDatabase, type ReadDb } from './read-model-database.js';

interface CachedReplay {
  db: ReadDb;
  /** The last event applied: the replay holds exactly the log up to and including it. */
  last: { position: string; recordedAt: string } | null;
  /** Leases not yet released (queries reading it, or a replay copying it). */
  users: number;
  /** Out of the cache: closed as soon as (or once) nobody uses it. */
  evicted: boolean;
}

/** A replay lent to one query: read `db`, then `release()` it (once; later calls do nothing). */
export interface ReplayLease {
  readonly db: ReadDb;
  release(): void;
}

/** A replay being built: everyone asking for the same point waits for it, each with a lease. */
interface InFlight {
  promise: Promise<CachedReplay>;
  /** Leases promised to callers waiting for it, handed over the moment it is cached. */
  waiting: number;
}

/**
 * Events read and applied in one synchronous step. A cold replay of a long log is many steps,
 * with a turn of the event loop between them, so that other requests (and GET /health) keep
 * being answered while it runs.
 */
const PAGE = 1_000;

function keyOf(point: PointInTime): string {
  return point.atPosition ? `p:${point.atPosition}` : `t:${point.asOf!.toISOString()}`;
}

/**
 * Read models as they stood at a past moment: the same projections that serve today's queries,
 * replayed into a private in-memory database from the events of the log up to that moment. The
 * same query code then runs against it, so an auditor sees exactly what a query returned then,
 * never a guess from today's state.
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
  private closed = false;

  constructor(
    private readonly store: EventStore,
    private readonly upcasters: EventUpcasters,
    private readonly projections: () => Projection[],
    private readonly cacheSize = 4,
  ) {}

  /** Runs `query` on the read models as they stood at `point`, holding the replay meanwhile. */
  async read<T>(point: PointInTime, query: (db: ReadDb) => T | Promise<T>): Promise<T> {
    const lease = await this.at(point);
    try {
      return await query(lease.db);
    } finally {
      lease.release();
    }
  }

  /** A lease on the replay of `point`; the caller must release it once it has read. */
  async at(point: PointInTime): Promise<ReplayLease> {
    if (this.closed) throw new Error('AsOfReplayer is closed');
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
    }
    flight.waiting += 1;
    const entry = await flight.promise;
    return this.lease(entry, true);
  }

  /** Closes every replay nobody uses; the ones still lent close when released. */
  close(): void {
    this.closed = true;
    for (const entry of this.cache.splice(0)) this.evict(entry);
  }

  /** The replay of `point`, with one lease held for the flight (see `at`). */
  private async replay(point: PointInTime): Promise<CachedReplay> {
    const included = happenedBy(point);
    const bases = this.cache.filter((c) => c.last === null || included(c.last));
    const base = bases.reduce<CachedReplay | undefined>((best, c) => (!best || (c.last?.position ?? '') > (best.last?.position ?? '') ? c : best), undefined);
    // Held while it is read and copied, so no eviction closes it under us.
    const baseLease = base ? this.lease(base) : null;
    let handedOver = false;
    try {
      let after = base?.last?.position ?? null;
      if (base) {
        // Nothing new for this moment since the cached replay: answer from it as it is.
        const next = await this.store.readAll({ after, maxCount: 1 });
        if (next.length === 0 || !included(next[0]!)) {
          handedOver = true; // the base lease becomes the flight's hold
          return base;
        }
      }
      let page = await this.store.readAll({ after, maxCount: PAGE });
      let cut = page.findIndex((e) => !included(e));
      const db = base ? new Database(base.db.serialize()) : openReadModelDatabase(':memory:');
      try {
        const projections = this.projections();
        for (const p of projections) p.setup(db);
        let last = base?.last ?? null;
        const apply = db.transaction((events: RecordedEvent[]) => {
          for (const raw of events) {
            const event = this.upcasters.upcast(raw);
            for (const p of projections) p.apply(event, db);
          }
          for (const p of projections) p.flush?.(db);
        });
        for (;;) {
          const events = cut === -1 ? page : page.slice(0, cut);
          if (events.length) {
            apply(events);
            last = events[events.length - 1]!;
          }
          if (cut !== -1 || page.length < PAGE) break;
          await new Promise<void>((resolve) => setImmediate(resolve));
          after = page[page.length - 1]!.position;
          page = await this.store.readAll({ after, maxCount: PAGE });
          cut = page.findIndex((e) => !included(e));
        }
        return { db, last: last && { position: last.position, recordedAt: last.recordedAt }, users: 1, evicted: false };
      } catch (error) {
        db.close();
        throw error;
      }
    } finally {
      if (!handedOver) baseLease?.release();
    }
  }

  /** A lease on `entry`; `counted` when its place in `users` was already taken (by a flight). */
  private lease(entry: CachedReplay, counted = false): ReplayLease {
    let released = false;
    if (!counted) entry.users += 1;
    return {
      db: entry.db,
      release: () => {
        if (released) return;
        released = true;
        entry.users -= 1;
        if (entry.users === 0 && entry.evicted) entry.db.close();
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
    if (entry.users === 0) entry.db.close();
  }
}
