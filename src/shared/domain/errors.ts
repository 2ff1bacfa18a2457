/**
 * Domain errors. The GraphQL adapter maps each class to the contract's `extensions.code`;
 * anything else a client triggers must be turned into one of these before it leaves the
 * application layer.
 */
import type { DomainActor } from './decider.js';

export abstract class DomainError extends Error {
  abstract readonly code:
    | 'BAD_USER_INPUT'
    | 'NOT_FOUND'
    | 'FORBIDDEN'
    | 'RULE_VIOLATION'
    | 'CONCURRENCY_CONFLICT'
    | 'UNAUTHENTICATED'
    | 'RATE_LIMITED'
    | 'QUERY_TOO_COMPLEX'
    | 'INTEGRITY_BROKEN'
    | 'STORE_UNAVAILABLE';
}

/** Shape or range of the input is wrong. `fields` maps a field path (e.g. "matrix[1][0]") to what is wrong with it. */
export class BadInputError extends DomainError {
  readonly code = 'BAD_USER_INPUT' as const;
  constructor(
    readonly fields: Record<string, string>,
    message = `Invalid input: ${Object.entries(fields).map(([k, v]) => `${k} ${v}`).join('; ')}`,
  ) {
    super(message);
    this.name = 'BadInputError';
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND' as const;
  /** `detail` says more where the entity is known to have been there (a plan item removed). */
  constructor(readonly entity: string, readonly id: string, detail?: string) {
    super(detail ? `${entity} ${id} not found: ${detail}` : `${entity} ${id} not found`);
    this.name = 'NotFoundError';
  }
}

/**
 * The actor's role (or department, or relation to the entity) does not allow the operation.
 * `rule` and `article` name the rule of who may act when it is one of the process's (the
 * separation of duties, Art.23(3): dutiesSeparated), as a RULE_VIOLATION names its rule.
 */
export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN' as const;
  constructor(
    message: string,
    readonly rule?: string,
    readonly article?: string,
  ) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** A rule of the process was broken. `rule` is a stable id, `article` such as "Art.17". */
export class RuleViolationError extends DomainError {
  readonly code = 'RULE_VIOLATION' as const;
  constructor(
    readonly rule: string,
    readonly article: string,
    message: string,
  ) {
    super(message);
    this.name = 'RuleViolationError';
  }
}

export class ConcurrencyConflictError extends DomainError {
  readonly code = 'CONCURRENCY_CONFLICT' as const;
  constructor(
    readonly expectedVersion: number,
    readonly actualVersion: number,
    message = `Expected version ${expectedVersion} but the entity is at version ${actualVersion}: read it again and decide on what it is now`,
  ) {
    super(message);
    this.name = 'ConcurrencyConflictError';
  }
}

export class UnauthenticatedError extends DomainError {
  readonly code = 'UNAUTHENTICATED' as const;
  /**
   * `claimedActor`: whom an authentic token refused for another reason (revoked) names, for the
   * access log only: what a person cut off tried after the revocation is theirs (new-user probe of
   * 2026-12-05, 6: recorded with no actor). Never an actor that may act.
   */
  constructor(
    message = 'A valid bearer token is required',
    readonly claimedActor?: DomainActor,
  ) {
    super(message);
    this.name = 'UnauthenticatedError';
  }
}

/** The actor made more requests than RATE_LIMIT_PER_MINUTE allows; `retryAfterSeconds` says when to try again. */
export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED' as const;
  constructor(
    readonly retryAfterSeconds: number,
    message = `Too many requests: try again in ${retryAfterSeconds} s`,
  ) {
    super(message);
    this.name = 'RateLimitedError';
  }
}

/** The request's estimated cost is over its budget (GRAPHQL_MAX_COST); refused before any resolver runs. */
export class QueryTooComplexError extends DomainError {
  readonly code = 'QUERY_TOO_COMPLEX' as const;
  constructor(
    readonly cost: number,
    readonly limit: number,
    message = `The request costs ${cost}, over its budget of ${limit}`,
  ) {
    super(message);
    this.name = 'QueryTooComplexError';
  }
}

/** The stored event log fails verification: no change is accepted until it is restored (queries go on). */
export class IntegrityBrokenError extends DomainError {
  readonly code = 'INTEGRITY_BROKEN' as const;
  constructor(
    readonly position: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'IntegrityBrokenError';
  }
}

/**
 * The event store could not be reached (the database restarting, a lost connection): retry the
 * command. `maybeWritten` is true only when the connection failed after the commit was sent (its
 * outcome is unknown: retry with the same commandId, which writes nothing twice); otherwise
 * nothing was written.
 */
export class StoreUnavailableError extends DomainError {
  readonly code = 'STORE_UNAVAILABLE' as const;
  constructor(
    readonly maybeWritten: boolean,
    /** Why, when not the store itself (the log still being verified after a start). */
    message?: string,
  ) {
    super(
      message ??
        (maybeWritten
          ? 'The event store became unavailable while the command was being committed: it may or may not have been recorded. Retry with the same commandId (a retry of a recorded command returns its first result and records nothing twice)'
          : 'The event store is unavailable (its database cannot be reached or did not answer in time, or its disk is full): nothing was recorded. Retry the command later'),
    );
    this.name = 'StoreUnavailableError';
  }
}

/** Collects field errors and throws them together, so that a client sees every problem at once. */
export class FieldErrors {
  private readonly fields: Record<string, string> = {};
  add(field: string, problem: string): this {
    if (!(field in this.fields)) this.fields[field] = problem;
    return this;
  }
  check(condition: boolean, field: string, problem: string): this {
    if (!condition) this.add(field, problem);
    return this;
  }
  get any(): boolean {
    return Object.keys(this.fields).length > 0;
  }
  throwIfAny(): void {
    if (this.any) throw new BadInputError({ ...this.fields });
  }
}
