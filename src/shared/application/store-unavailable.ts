import { CommitOutcomeUnknownError, EventStoreDurabilityError } from '../../event-store/errors.js';
import { DomainError, StoreUnavailableError } from '../domain/errors.js';
import { isTransientStorageError } from './transient-errors.js';

/**
 * The store out of reach (a database restarting or paused, a lost connection, a full disk), as
 * every edge answers it: the domain's STORE_UNAVAILABLE, for the client to retry, never an
 * internal error. Whether a command may have been recorded is known only from the store's error
 * (one after COMMIT was sent). Undefined for anything else. The one place commands, queries and
 * the HTTP endpoints map it: queries and the consent pipeline's reads answered
 * INTERNAL_SERVER_ERROR with a stack in the log during a PostgreSQL outage (PostgreSQL probe).
 */
export function storeUnavailable(error: unknown): StoreUnavailableError | undefined {
  // A store whose writes could not be made durable (a failed fsync, its file removed or replaced
  // under it) takes no more appends until restarted: what it committed last may or may not be
  // on disk (operations probe 10-c M3: INTERNAL_SERVER_ERROR before).
  if (error instanceof EventStoreDurabilityError) return new StoreUnavailableError(true);
  if (error instanceof DomainError || !isTransientStorageError(error)) return undefined;
  return new StoreUnavailableError(error instanceof CommitOutcomeUnknownError);
}
