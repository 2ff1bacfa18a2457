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
}

const PAGE = 10_000;

/**
 * Read models as they stood at a past moment: the same projections that serve today's queries,
 * replayed into a private in-memory database from the events of the log up to that moment. The
 * same query code then runs against it, so an auditor sees exactly what a query returned then,
 * never a guess from today's state.
 *
 * The events of a moment are a prefix of the log (positions are ordered and recordedAt never
 * decreases), so a replay stops at the first later event, and a later moment starts from a copy
 * of the longest cached replay it contains instead of from zero.
 */
export class AsOfReplayer {
  private cache: CachedReplay[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly upcasters: EventUpcasters,
    private readonly projections: () => Projection[],
    private readonly cacheSize = 4,
  ) {}

  async at(point: PointInTime): Promise<ReadDb> {
    const included = happenedBy(point);
    const bases = this.cache.filter((c) => c.last === null || included(c.last));
    const base = bases.reduce<CachedReplay | undefined>((best, c) => (!best || (c.last?.position ?? '') > (best.last?.position ?? '') ? c : best), undefined);
    let after = base?.last?.position ?? null;
    if (base) {
      // Nothing new for this moment since the cached replay: answer from it as it is.
      const next = await this.store.readAll({ after, maxCount: 1 });
      if (next.length === 0 || !included(next[0]!)) {
        this.touch(base);
        return base.db;
      }
    }
    let page = await this.store.readAll({ after, maxCount: PAGE });
    let cut = page.findIndex((e) => !included(e));
    const db = base ? new Database(base.db.serialize()) : openReadModelDatabase(':memory:');
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
      after = page[page.length - 1]!.position;
      page = await this.store.readAll({ after, maxCount: PAGE });
      cut = page.findIndex((e) => !included(e));
    }
    const entry = { db, last: last && { position: last.position, recordedAt: last.recordedAt } };
    this.cache.unshift(entry);
    for (const old of this.cache.splice(this.cacheSize)) old.db.close();
    return db;
  }

  private touch(entry: CachedReplay): void {
    this.cache = [entry, ...this.cache.filter((c) => c !== entry)];
  }

  close(): void {
    for (const c of this.cache.splice(0)) c.db.close();
  }
}
