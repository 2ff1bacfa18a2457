import { CommitOutcomeUnknownError } from '../../event-store/errors.js';
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
  if (error instanceof DomainError || !isTransientStorageError(error)) return undefined;
  return new StoreUnavailableError(error instanceof CommitOutcomeUnknownError);
}
