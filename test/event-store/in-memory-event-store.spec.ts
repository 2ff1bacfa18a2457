import { describe, expect, it } from '@jest/globals';
import { InMemoryEventStore } from '../../src/event-store/memory/in-memory-event-store.js';
import { createEventStore, EventStoreConfigError } from '../../src/event-store/create-event-store.js';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { runEventStoreContract } from './event-store.contract.js';

runEventStoreContract('memory', async (options) => {
  const store = new InMemoryEventStore({ signer: options?.signer });
  return { store, cleanup: () => store.close() };
});

describe('createEventStore', () => {
  it('builds the memory and sqlite adapters', async () => {
    expect(createEventStore({ kind: 'memory' })).toBeInstanceOf(InMemoryEventStore);
    const sqlite = createEventStore({ kind: 'sqlite', sqlitePath: '/tmp/never-opened.sqlite' });
    expect(sqlite).toBeInstanceOf(SqliteEventStore);
    expect(sqlite.adapterName).toBe('sqlite');
    await sqlite.close(); // never opened: nothing to do, nothing created
  });

  it('needs a connection for the networked adapters, and refuses an unknown one, with a clear configuration error', async () => {
    expect(() => createEventStore({ kind: 'postgres' })).toThrow(/EVENT_STORE=postgres needs DATABASE_URL/);
    expect(() => createEventStore({ kind: 'kurrentdb' })).toThrow(/EVENT_STORE=kurrentdb needs KURRENTDB_CONNECTION_STRING/);
    const postgres = createEventStore({ kind: 'postgres', databaseUrl: 'postgres://x@127.0.0.1:1/none' });
    expect(postgres.adapterName).toBe('postgres');
    await postgres.close();
    expect(() => createEventStore({ kind: 'mongo' as never })).toThrow(EventStoreConfigError);
  });
});
