/**
 * Chooses the event store adapter from configuration (EVENT_STORE=sqlite|memory|postgres|kurrentdb).
 */
import type { EventStore } from './event-store.port.js';
import { InMemoryEventStore } from './memory/in-memory-event-store.js';
import { SqliteEventStore } from './sqlite/sqlite-event-store.js';

export type EventStoreKind = 'sqlite' | 'memory' | 'postgres' | 'kurrentdb';

export interface EventStoreConfig {
  kind: EventStoreKind;
  /** SQLite database file (EVENT_STORE=sqlite). Default: data/risk-ledger.sqlite */
  sqlitePath?: string;
  /** PostgreSQL connection string (EVENT_STORE=postgres; planned). */
  databaseUrl?: string;
  /** KurrentDB connection string (EVENT_STORE=kurrentdb; planned). */
  kurrentConnectionString?: string;
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
      return new SqliteEventStore({ path: config.sqlitePath || DEFAULT_SQLITE_PATH });
    case 'memory':
      return new InMemoryEventStore();
    case 'postgres':
    case 'kurrentdb':
      throw new EventStoreConfigError(
        `EVENT_STORE=${config.kind} is planned but not available in this build; use sqlite or memory`,
      );
    default:
      throw new EventStoreConfigError(
        `Unknown EVENT_STORE=${String((config as { kind?: unknown }).kind)}; use sqlite or memory`,
      );
  }
}
