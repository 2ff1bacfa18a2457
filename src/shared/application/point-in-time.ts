import type { EventStore, RecordedEvent } from '../../event-store/event-store.port.js';
import { encodePosition, isPosition } from '../../event-store/hash-chain.js';
import { BadInputError } from '../domain/errors.js';

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
 * than now is refused, as a position past the head is (assertWithinLog): the log has no state
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
 * A position past the log's head names no moment of the log yet: its answer would be the head's
 * state now and another one later, so it is refused (an auditor's point in time must give the same
 * answer every time). Every read at a point passes here (AggregateReader.loadAt, AsOfReplayer.at).
 */
export async function assertWithinLog(store: Pick<EventStore, 'headPosition' | 'awaitCommitted'>, point: PointInTime): Promise<void> {
  if (point.asOf) return settledAt(store, point.asOf);
  if (!point.atPosition) return;
  const head = await store.headPosition();
  // An empty log's one moment is its start (position 0, which documents of an empty log cite).
  if (point.atPosition > (head ?? encodePosition(0n))) {
    throw new BadInputError({ atPosition: `is past the log's head (${head ?? 'the log is empty'}): not a moment of the log yet` });
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
