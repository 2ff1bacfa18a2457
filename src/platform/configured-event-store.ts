import type { AppConfig } from '../config/app-config.js';
import { createEventStore } from '../event-store/create-event-store.js';
import type { EventStore } from '../event-store/event-store.port.js';
import type { ChainSigner } from '../event-store/signing.js';
import { CHECKPOINT_FAILED } from '../event-store/sqlite/wal-checkpoints.js';
import { rootLogger } from '../shared/logging/json-logger.js';

const log = rootLogger.child('event-store');

/** The event store the configuration names, opened (the server and the CLI share it). */
export async function openConfiguredEventStore(config: AppConfig, signer?: ChainSigner): Promise<EventStore> {
  const store = createEventStore({
    kind: config.eventStore,
    sqlitePath: config.sqlitePath,
    databaseUrl: config.databaseUrl,
    kurrentConnectionString: config.kurrentConnectionString,
    signer,
    warn: (error) => log.warn(CHECKPOINT_FAILED, { error }),
  });
  await store.init();
  return store;
}
