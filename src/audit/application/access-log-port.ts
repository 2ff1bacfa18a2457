/** The access log as its users see it, whichever store holds it (access-log.ts, access-log-postgres.ts). */
import type { AccessLogBacklog } from './access-log-backlog.js';
import type { AccessLogEntry, AccessLogVerification, AccessRecord } from './access-log-chain.js';
import type { CorrelationLookup } from './access-log-crosscheck.js';
import type { AccessLogFilter } from './access-log-lookups.js';

export const ACCESS_LOG = Symbol('ACCESS_LOG');

/**
 * What the plugin, the download middleware and the resolvers need of the access log, whichever
 * store holds it: a local SQLite file (AccessLogStore) or the shared PostgreSQL database
 * (PostgresAccessLog, access-log-postgres.ts). record() never waits: entries are batched.
 */
export interface AccessLog {
  record(entry: AccessRecord): void;
  /** Entries matching the filter, oldest first (this instance's queued entries are written first). */
  page(filter: AccessLogFilter): AccessLogEntry[] | Promise<AccessLogEntry[]>;
  /**
   * The whole log checked as evidence, and against the event log when it was given one, in slices
   * that hand the event loop back (heavy work never blocks other requests); calls made while a
   * check runs share it, cross-check included.
   */
  verify(): Promise<AccessLogVerification>;
  /** Its unwritten entries, bounded, and the gates that hold while they cannot be written (access-log-backlog.ts). */
  readonly backlog: AccessLogBacklog;
  /** Writes what is queued, then releases the store. Idempotent. */
  close(): void | Promise<void>;
}

/** An access log the event log can be checked against (access-log-crosscheck.ts). */
export type CheckableAccessLog = AccessLog & CorrelationLookup;
