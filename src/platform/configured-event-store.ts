import type { AppConfig } from '../config/app-config.js';
import { createEventStore } from '../event-store/create-event-store.js';
import type { EventStore } from '../event-store/event-store.port.js';
import type { ChainSigner } from '../event-store/signing.js';
import { CHECKPOINT_FAILED } from '../event-store/sqlite/wal-checkpoints.js';
import { rootLogger } from '../shared/logging/json-logger.js';

const log = rootLogger.child('event-store');

/**
 * The event store the configuration names, opened (the server and the CLI share it).
 * `postgresSchema`: another schema than the store's (an import builds the store beside it).
 */
export async function openConfiguredEventStore(config: AppConfig, signer?: ChainSigner, options: { soleWriter?: boolean; postgresSchema?: string } = {}): Promise<EventStore> {
  const store = createEventStore({
    kind: config.eventStore,
    sqlitePath: config.sqlitePath,
    databaseUrl: config.databaseUrl,
    postgresSchema: options.postgresSchema,
    kurrentConnectionString: config.kurrentConnectionString,
    signer,
    warn: (error) => log.warn(CHECKPOINT_FAILED, { error }),
    soleWriter: options.soleWriter,
  });
  try {
    await store.init();
  } catch (error) {
    // SQLite says "file is not a database" without saying which: the store's file is named here
    // (its code is kept: the CLI reports a damaged store by it).
    const code = (error as { code?: unknown }).code;
    if (config.eventStore !== 'sqlite' || typeof code !== 'string' || !code.startsWith('SQLITE_')) throw error;
    throw Object.assign(new Error(`the event store ${config.sqlitePath} (SQLITE_PATH): ${(error as Error).message}`, { cause: error }), { code });
  }
  return store;
}
