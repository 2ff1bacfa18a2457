import type { EventStore, RecordedEvent } from '../event-store/event-store.port.js';
import { decodePosition } from '../event-store/hash-chain.js';
import { BadInputError } from '../shared/domain/errors.js';
import type { EventUpcasters } from '../shared/application/event-upcasting.js';
import type { Projection } from './projection.js';
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
  key: string;
  db: ReadDb;
  events: number;
}

/**
 * Read models as they stood at a past instant: the same projections that serve today's queries,
 * replayed into a private in-memory database from the events committed at or before that instant.
 * The same query code then runs against it, so an auditor sees exactly what a query returned
 * then, never a guess from today's state. Recent replays are cached per (instant, log head).
 */
export class AsOfReplayer {
  private readonly cache: CachedReplay[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly upcasters: EventUpcasters,
    private readonly projections: () => Projection[],
    private readonly cacheSize = 4,
  ) {}

  async at(point: PointInTime): Promise<ReadDb> {
    const included = happenedBy(point);
    const head = await this.store.headPosition();
    const key = `${point.atPosition ?? point.asOf!.toISOString()}@${head}`;
    const hit = this.cache.find((c) => c.key === key);
    if (hit) return hit.db;
    const db = openReadModelDatabase(':memory:');
    const projections = this.projections();
    for (const p of projections) p.setup(db);
    let after: string | null = null;
    let applied = 0;
    const apply = db.transaction((events: Awaited<ReturnType<EventStore['readAll']>>) => {
      for (const raw of events) {
        if (!included(raw)) continue;
        const event = this.upcasters.upcast(raw);
        for (const p of projections) p.apply(event, db);
        applied++;
      }
      for (const p of projections) p.flush?.(db);
    });
    for (;;) {
      const page = await this.store.readAll({ after, maxCount: 10_000 });
      if (page.length === 0) break;
      apply(page);
      after = page[page.length - 1]!.position;
    }
    this.cache.unshift({ key, db, events: applied });
    for (const old of this.cache.splice(this.cacheSize)) old.db.close();
    return db;
  }

  close(): void {
    for (const c of this.cache.splice(0)) c.db.close();
  }
}
