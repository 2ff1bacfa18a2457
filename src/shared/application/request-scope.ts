import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the handling of one HTTP request learns on the way that its answer must say, whatever
 * layer learns it. One scope per request (the HTTP edge runs each request in its own).
 */
export interface RequestScope {
  /**
   * A command committed but the read models did not confirm its position (retrying a storage
   * error, a timeout): the answer, read from them, may not show the command's own effect.
   */
  unconfirmed?: { position: string; reason: string };
}

const scopes = new AsyncLocalStorage<RequestScope>();

/** Runs `next` (the rest of a request's handling) in a scope of its own. */
export function inRequestScope<T>(next: () => T): T {
  return scopes.run({}, next);
}

/** The scope of the request being handled, if any (none outside a request: reactions, the CLI). */
export function requestScope(): RequestScope | undefined {
  return scopes.getStore();
}
