/**
 * Chooses the event store adapter from configuration (EVENT_STORE=sqlite|memory|postgres|kurrentdb).
 */
import type { EventStore } from './event-store.port.js';
import type { ChainSigner } from './signing.js';
import { InMemoryEventStore } from './memory/in-memory-event-store.js';
import { SqliteEventStore } from './sqlite/sqlite-event-store.js';
import { KurrentDbEventStore } from './kurrentdb/kurrentdb-event-store.js';
import { PostgresEventStore } from './postgres/postgres-event-store.js';

export type EventStoreKind = 'sqlite' | 'memory' | 'postgres' | 'kurrentdb';

export interface EventStoreConfig {
  kind: EventStoreKind;
  /** SQLite database file (EVENT_STORE=sqlite). Default: data/risk-ledger.sqlite */
  sqlitePath?: string;
  /** PostgreSQL connection string (EVENT_STORE=postgres): postgres://user@host:port/database. */
  databaseUrl?: string;
  /** PostgreSQL schema of the tables (EVENT_STORE=postgres). Default: risk_ledger */
  postgresSchema?: string;
  /** KurrentDB connection string (EVENT_STORE=kurrentdb): kurrentdb://host:2113?tls=false. */
  kurrentConnectionString?: string;
  /** Signs each commit's chain head. */
  signer?: ChainSigner;
  /** Where the store reports what it survives on its own (a failed checkpoint off the event loop). */
  warn?: (message: string) => void;
  /** SQLite: this process holds the file's lock (SqliteEventStoreOptions.soleWriter). */
  soleWriter?: boolean;
}

/** The configuration asks for a store that this build cannot provide. */
export class EventStoreConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventStoreConfigError';
  }
}

export const DEFAULT_SQLITE_PATH = 'data/risk-ledger.sqlite';

/** Builds (but does not open) the configured store; call init() on it before use. */
export function createEventStore(config: EventStoreConfig): EventStore {
  switch (config.kind) {
    case 'sqlite':
      // The server checkpoints the WAL off the event loop (wal-checkpoints.ts).
      return new SqliteEventStore({ path: config.sqlitePath || DEFAULT_SQLITE_PATH, signer: config.signer, checkpointOffLoop: { warn: config.warn }, soleWriter: config.soleWriter });
    case 'memory':
      return new InMemoryEventStore({ signer: config.signer });
    case 'postgres':
      if (!config.databaseUrl) {
        throw new EventStoreConfigError('EVENT_STORE=postgres needs DATABASE_URL (postgres://user@host:port/database)');
      }
      return new PostgresEventStore({ connectionString: config.databaseUrl, schema: config.postgresSchema, signer: config.signer });
    case 'kurrentdb':
      if (!config.kurrentConnectionString) {
        throw new EventStoreConfigError('EVENT_STORE=kurrentdb needs KURRENTDB_CONNECTION_STRING (kurrentdb://host:2113?tls=false)');
      }
      // No global chain on KurrentDB, so nothing to sign: the signer is not used.
      return new KurrentDbEventStore({ connectionString: config.kurrentConnectionString });
    default:
      throw new EventStoreConfigError(
        `Unknown EVENT_STORE=${String((config as { kind?: unknown }).kind)}; use sqlite or memory, or postgres`,
      );
  }
}
