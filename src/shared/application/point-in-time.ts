import type { EventStore, RecordedEvent } from '../../event-store/event-store.port.js';
import { decodePosition, encodePosition, isPosition } from '../../event-store/hash-chain.js';
import { BadInputError } from '../domain/errors.js';

/**
 * The start of the log: position 0, before its first event. A read there (atPosition 0, an asOf
 * before the first event, or any point of an empty log) holds no event, and cites this position.
 */
export const LOG_START = encodePosition(0n);

/**
 * A past moment: an instant (the events committed at or before it) or a log position (the
 * events at or before it). At most one; neither means now.
 */
export interface PointInTime {
  asOf?: Date | null;
  atPosition?: string | null;
}

/**
 * The point in time a query asked for, validated; null when it asked for now. An instant later
 * than now is refused, as a position past the head is (settlePoint): the log has no state
 * then yet, and the answer (today's state) would change as the log grows. The queries that look
 * ahead on purpose (overdueControls, risksDueForReview) take their instant without this.
 */
export function pointInTime(asOf?: Date | null, atPosition?: string | null, now: number = Date.now()): PointInTime | null {
  if (asOf && atPosition) throw new BadInputError({ atPosition: 'cannot be given together with asOf: give one of them' });
  if (atPosition !== undefined && atPosition !== null) {
    if (!isPosition(atPosition)) throw new BadInputError({ atPosition: 'is not a position of the log' });
    // Positions compare as strings: a short decimal is padded to the stores' width ("42" → "000…042").
    return { atPosition: /^\d+$/.test(atPosition) ? encodePosition(BigInt(atPosition)) : atPosition };
  }
  if (asOf) {
    if (Number.isNaN(asOf.getTime())) throw new BadInputError({ asOf: 'is not a valid instant' });
    // The log's instants are this server's (recordedAt at commit): compared with its clock.
    if (asOf.getTime() > now) {
      throw new BadInputError({ asOf: `is later than now (${new Date(now).toISOString()} on the server): not a moment of the log yet; omit asOf for the present state` });
    }
    return { asOf };
  }
  return null;
}

/**
 * The register a query that looks ahead on purpose (overdueControls, risksDueForReview) reads for
 * its instant: the log's state then for a past instant, today's for now or a later one (which the
 * query then judges at that instant). Nested fields of its answer read at the same point
 * (LOOK_AHEAD_EXTENSION, graphql/root-point-in-time.ts).
 */
export function lookAheadPoint(asOf: Date | null | undefined, now: number): PointInTime | null {
  return asOf && asOf.getTime() < now ? { asOf } : null;
}

/**
 * The point a read folds to, checked against the log. A position past the log's head names no
 * moment of the log yet: its answer would be the head's state now and another one later, so it is
 * refused (an auditor's point in time must give the same answer every time). A position inside an
 * append (a command's events with its follow-ups, committed at once) names a state no reader could
 * ever see, such as a plan IN_FORCE over an item its own commit makes STALE: it is moved to the
 * append's last event, as an instant is (an append's events share one recordedAt). Every read at a
 * point passes here and folds to the point it returns (AggregateReader.loadAt, AsOfReplayer.at).
 */
export async function settlePoint(store: Pick<EventStore, 'headPosition' | 'awaitCommitted' | 'readAll'>, point: PointInTime): Promise<PointInTime> {
  if (point.asOf) {
    await settledAt(store, point.asOf);
    return point;
  }
  if (!point.atPosition) return point;
  const head = await store.headPosition();
  // An empty log's one moment is its start (position 0, which documents of an empty log cite).
  if (point.atPosition > (head ?? LOG_START)) {
    throw new BadInputError({ atPosition: `is past the log's head (${head ?? 'the log is empty'}): not a moment of the log yet` });
  }
  const end = await appendEnd(store, point.atPosition);
  return end === point.atPosition ? point : { atPosition: end };
}

/** Pages appendEnd reads: a page ends at this many events or after the one that brings it to this many bytes. */
const APPEND_PAGE = 64;
const APPEND_PAGE_BYTES = 1024 * 1024;

/**
 * The position of the last event of the append that holds the event at `position` (itself when
 * no event is there: a position between appends is a moment readers saw). One append's events
 * are contiguous in the log and share recordedAt and their metadata's correlationId, causationId
 * (a reaction's append has its own: the event it reacts to), occurredAt (the command's time) and
 * actor; on KurrentDB they share the commit part of their positions. Two appends alike in all of
 * these and next to each other (two commands of one request made and committed in the same
 * millisecond) read as one: the point is then the later one's end, a state readers saw too.
 */
async function appendEnd(store: Pick<EventStore, 'readAll'>, position: string): Promise<string> {
  const commit = position.includes('-') ? position.slice(0, position.indexOf('-')) : null;
  let sameAppend: (e: RecordedEvent) => boolean;
  let page: RecordedEvent[];
  if (commit !== null) {
    sameAppend = (e) => e.position.startsWith(`${commit}-`);
    page = await store.readAll({ after: position, maxCount: APPEND_PAGE, maxBytes: APPEND_PAGE_BYTES });
  } else {
    const n = decodePosition(position);
    page = await store.readAll({ after: n === 0n ? null : encodePosition(n - 1n), maxCount: APPEND_PAGE, maxBytes: APPEND_PAGE_BYTES });
    const held = page[0];
    if (held?.position !== position) return position;
    const { recordedAt, metadata } = held;
    sameAppend = (e) =>
      e.recordedAt === recordedAt &&
      e.metadata.correlationId === metadata.correlationId &&
      e.metadata.causationId === metadata.causationId &&
      e.metadata.occurredAt === metadata.occurredAt &&
      e.metadata.actor.id === metadata.actor.id;
  }
  let end = position;
  for (;;) {
    for (const e of page) {
      if (e.position <= position) continue;
      if (!sameAppend(e)) return end;
      end = e.position;
    }
    // A page may end early (its bytes): only an empty page is the end of the log.
    if (page.length === 0) return end;
    page = await store.readAll({ after: page[page.length - 1]!.position, maxCount: APPEND_PAGE, maxBytes: APPEND_PAGE_BYTES });
  }
}

/**
 * An instant's answer may never change once given: every event recorded by then must be readable
 * before it is read. Events are stamped (recordedAt) when their batch commits, and the embedded
 * store shows a batch only once it is synced, so a read waits for the commits made so far; a
 * commit still to come is stamped later than now, so after the instant unless the instant is this
 * very millisecond, which is let pass first.
 */
async function settledAt(store: Pick<EventStore, 'awaitCommitted'>, asOf: Date): Promise<void> {
  const ahead = asOf.getTime() - Date.now();
  // Only this very millisecond (or one or two of clock jitter) is waited for: a later instant never
  // comes from a client (pointInTime refuses it), only from a clock set ahead (tests), which must not wait.
  if (ahead >= 0 && ahead < 3) await new Promise((resolve) => setTimeout(resolve, ahead + 1));
  await store.awaitCommitted?.();
}

/** Whether an event belongs to the state as it stood at that point. */
export function happenedBy(point: PointInTime): (e: Pick<RecordedEvent, 'position' | 'recordedAt'>) => boolean {
  if (point.atPosition) {
    const limit = point.atPosition;
    return (e) => e.position <= limit;
  }
  const limit = point.asOf!.toISOString();
  return (e) => e.recordedAt <= limit;
}
