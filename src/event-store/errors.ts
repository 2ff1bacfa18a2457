/**
 * Errors raised by the event store adapters besides the port's WrongExpectedVersionError and
 * hash-chain's InvalidPositionError. They live outside the port file so that the port stays the
 * shared contract; adapters and callers import them from here (or from ./index.js).
 */

/** The append itself is malformed (empty stream id, missing event id, data not an object...). */
export class InvalidAppendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAppendError';
  }
}

/** An event id is already stored (event ids are unique across the whole log). */
export class DuplicateEventIdError extends Error {
  constructor(readonly eventId: string, readonly streamId: string) {
    super(`Event ${eventId} (stream ${streamId}) is already stored`);
    this.name = 'DuplicateEventIdError';
  }
}

/** The store was closed (or is closing) when the operation was requested. */
export class EventStoreClosedError extends Error {
  constructor(adapter: string) {
    super(`The ${adapter} event store is closed`);
    this.name = 'EventStoreClosedError';
  }
}

/**
 * The connection failed after COMMIT was sent and before its answer came: the transaction may
 * or may not be in the log. `cause` is the connection's error (a transient one: a retry with the
 * same idempotency key tells which, and writes nothing twice).
 */
export class CommitOutcomeUnknownError extends Error {
  constructor(override readonly cause: unknown) {
    super(`The connection failed while the commit was being confirmed: it may or may not have been written (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = 'CommitOutcomeUnknownError';
  }
}

/** The stored schema is newer than this build understands (or otherwise unusable). */
export class EventStoreSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventStoreSchemaError';
  }
}

/**
 * The store could not make committed events durable (an fsync failed). After a failed fsync the
 * kernel may have dropped the written pages, so nothing is acknowledged and no further append
 * is taken until the process restarts and SQLite recovers the file.
 */
export class EventStoreDurabilityError extends Error {
  constructor(adapter: string, cause: unknown) {
    super(`The ${adapter} event store could not make its writes durable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'EventStoreDurabilityError';
  }
}

/** The log (a stored row, an export line) is not in the form the store writes: reported as broken at `position`. */
export class LogFormatError extends Error {
  constructor(message: string, readonly position: string | null = null) {
    super(message);
    this.name = 'LogFormatError';
  }
}
