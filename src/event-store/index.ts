export * from './event-store.port.js';
export * from './hash-chain.js';
export * from './errors.js';
export { SqliteEventStore, type SqliteEventStoreOptions, type SqliteEventStoreStats } from './sqlite/sqlite-event-store.js';
export { InMemoryEventStore, type InMemoryEventStoreOptions } from './memory/in-memory-event-store.js';
export { createEventStore, EventStoreConfigError, DEFAULT_SQLITE_PATH, type EventStoreConfig, type EventStoreKind } from './create-event-store.js';
export { newEventId } from './event-id.js';
