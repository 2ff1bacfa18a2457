/**
 * The KurrentDB adapter's append helpers: hashing an append on top of the stream head it read, and
 * the error of the non-atomic multi-stream fallback.
 */
import { WrongExpectedVersionError, type AppendResult, type RecordedEvent } from '../event-store.port.js';
import { CURRENT_HASH_VERSION, genesisHash } from '../hash-chain.js';
import { InvalidAppendError } from '../errors.js';
import { streamEventHash, type PreparedEvent } from '../internal/append-support.js';
export { validHashVersion } from '../internal/append-support.js';

/** A stream's head as read before an append. */
export interface Head {
  version: number;
  hash: string;
  position: string | null;
}

/** Thrown by the non-atomic fallback of appendMultiple when some parts were written before another failed. */
export class PartialMultiAppendError extends WrongExpectedVersionError {
  constructor(cause: WrongExpectedVersionError, readonly written: AppendResult[]) {
    super(cause.streamId, cause.expectedVersion, cause.actualVersion);
    this.name = 'PartialMultiAppendError';
    this.message += ` (after ${written.map((r) => r.streamId).join(', ')} had been written: KurrentDB cannot undo them)`;
  }
}

/** Hashes the events of one stream's append on top of its head (hash version 2 covers recordedAt). */
export function hashEvents(streamId: string, events: PreparedEvent[], head: Head, recordedAt: string, hashVersion: number): RecordedEvent[] {
  let prevHash = head.version < 0 ? genesisHash(streamId) : head.hash;
  return events.map((e, i) => {
    const revision = head.version + 1 + i;
    const hash = streamEventHash(streamId, revision, prevHash, recordedAt, e, hashVersion);
    const recorded: RecordedEvent = {
      eventId: e.eventId,
      type: e.type,
      schemaVersion: e.schemaVersion,
      data: e.data,
      metadata: e.metadata,
      streamId,
      revision,
      position: '', // known once stored
      recordedAt,
      prevHash,
      hash,
      hashVersion,
    };
    prevHash = hash;
    return recorded;
  });
}
