import type { EventStore, RecordedEvent } from '../event-store/event-store.port.js';
import { decodePosition } from '../event-store/hash-chain.js';
import { BadInputError } from '../shared/domain/errors.js';
import type { EventUpcasters } from '../shared/application/event-upcasting.js';
import type { Projection } from './projection.js';
import Database from 'better-sqlite3';
import { openReadModelDatabase, type ReadDb } from './read-model-database.js';

/**
 * A past moment: an instant (the events committed at or before it) or a log position (the
 * events at or before it). At most one; neither means now.
 */
export interface PointInTime {
  asOf?: Date | null;
  atPosition?: string | null;
}

/** The point in time a query asked for, validated; null when it asked for now. */
export function pointInTime(asOf?: Date | null, atPosition?: string | null): PointInTime | null {
  if (asOf && atPosition) throw new BadInputError({ atPosition: 'give asOf or atPosition, not both' });
  if (atPosition !== undefined && atPosition !== null) {
    try {
      decodePosition(atPosition);
    } catch {
      throw new BadInputError({ atPosition: 'is not a position of the log' });
    }
    return { atPosition };
  }
  if (asOf) {
    if (Number.isNaN(asOf.getTime())) throw new BadInputError({ asOf: 'is not a valid instant' });
    return { asOf };
  }
  return null;
}

/** Whether an event belongs to the state as it stood at that point. */
export function happenedBy(point: PointInTime): (e: RecordedEvent) => boolean {
  if (point.atPosition) {
    const limit = point.atPosition;
    return (e) => e.position <= limit;
  }
  const limit = point.asOf!.toISOString();
  return (e) => e.recordedAt <= limit;
}

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
    const bases = this.cache.filter((c) => c.last === null || included(c.last as RecordedEvent));
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
