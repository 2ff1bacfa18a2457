/**
 * Where `import` builds the store, and how it is put in place once complete and checked: killed or
 * refused half-way, the target holds no prefix of the history (2026-12-06: it did, and
 * `verify-store` called it OK).
 *
 * - SQLite: a file beside the store, `<real SQLITE_PATH>.importing`, renamed over it
 *   (database-file-swap.ts); the store's lock held throughout, so no server starts on it.
 * - PostgreSQL: a schema beside the store's, `risk_ledger_importing`, whose tables are moved into
 *   the store's schema in one transaction (staged-import.ts); a session advisory lock keeps a second
 *   import out, and dies with the process.
 * - KurrentDB: written in place, as before (its streams cannot be moved in one step).
 */
import { existsSync } from 'node:fs';
import type pg from 'pg';
import type { AppConfig } from '../config/app-config.js';
import type { EventStore } from '../event-store/event-store.port.js';
import type { SigningKeys } from '../event-store/signing.js';
import { standaloneClient } from '../event-store/postgres/held-client.js';
import { advisoryKey } from '../event-store/postgres/postgres-event-store.js';
import { padPosition } from '../event-store/postgres/rows.js';
import { createImportSchema, dropImportSchema, importSchemaFor, moveImportedStore, storeHeadIn } from '../event-store/postgres/staged-import.js';
import { ImportRefusedError } from '../audit/application/evidence-import.js';
import { openConfiguredEventStore } from '../platform/configured-event-store.js';
import { DataDirLock } from '../platform/data-dir-lock.js';
import { realFilePath } from '../platform/real-file-path.js';
import type { JsonLogger } from '../shared/logging/json-logger.js';
import { clearBuildPlace, putDatabaseFileInPlace, removableBuildPlace, removeDatabaseFiles } from './database-file-swap.js';
import { UsageError } from './usage-error.js';

/** Beside SQLITE_PATH, the file an import builds the store in. */
export const IMPORT_STAGING_SUFFIX = '.importing';
/** The schema of the PostgreSQL store (one per database). */
const POSTGRES_SCHEMA = 'risk_ledger';

export interface ImportPlace {
  /** Opens the store the import writes to: beside the target's, empty. */
  open(): Promise<EventStore>;
  /** Puts the store built beside (closed by then) in place of the target's. */
  putInPlace(): Promise<void>;
  /** Removes what was built beside, unless it was put in place. */
  discard(): Promise<void>;
  /** On an interrupting signal: what was built beside removed, the locks released (synchronously where it can be). */
  interrupted(): void | Promise<void>;
  /** Releases the locks the import holds. */
  release(): Promise<void>;
  /** What a stopped import had been building beside the store, for its message; null: it wrote the store in place. */
  readonly building: string | null;
}

/**
 * Refuses a target that is not empty, clears what an earlier import left beside it and takes the
 * locks. Throws ImportRefusedError or UsageError having released what it took.
 */
export async function prepareImportPlace(config: AppConfig, keys: SigningKeys, log: JsonLogger): Promise<ImportPlace> {
  if (config.eventStore === 'sqlite') return sqlitePlace(config, keys, log);
  if (config.eventStore === 'postgres' && config.databaseUrl) return postgresPlace(config, keys, config.databaseUrl, log);
  return {
    open: () => openConfiguredEventStore(config, keys.signer),
    putInPlace: async () => undefined,
    discard: async () => undefined,
    interrupted: () => undefined,
    release: async () => undefined,
    building: null,
  };
}

const notEmpty = (adapter: string, head: string): ImportRefusedError =>
  new ImportRefusedError(`the target ${adapter} store is not empty (head position ${head}): import only into an empty store`);

async function sqlitePlace(config: AppConfig, keys: SigningKeys, log: JsonLogger): Promise<ImportPlace> {
  // No server may append to the target meanwhile (it keeps the store's head in memory).
  const lock = DataDirLock.acquireStore(config.sqlitePath, 'cli import', log);
  // Beside the store's own file, a link at SQLITE_PATH followed (a rename over the link replaced it,
  // and the import went beside it: re-probe of 2026-12-06, M2).
  const storeFile = realFilePath(config.sqlitePath);
  const staging = `${storeFile}${IMPORT_STAGING_SUFFIX}`;
  let inPlace = false;
  try {
    // A missing file is empty and is not created, so that a refused import leaves nothing.
    if (existsSync(config.sqlitePath)) {
      const target = await openConfiguredEventStore(config, keys.signer);
      const head = await target.headPosition().finally(() => target.close());
      if (head !== null) throw notEmpty(target.adapterName, head);
    }
    clearBuildPlace(staging, (folder) => new UsageError(`${folder}: import builds the store in a file of that name; move it away`));
  } catch (error) {
    lock.release();
    throw error;
  }
  const discard = (): void => {
    if (!inPlace && removableBuildPlace(staging)) removeDatabaseFiles(staging);
  };
  return {
    open: () => openConfiguredEventStore({ ...config, sqlitePath: staging }, keys.signer),
    putInPlace: async () => {
      putDatabaseFileInPlace(staging, storeFile);
      inPlace = true;
    },
    discard: async () => discard(),
    interrupted: () => {
      discard();
      lock.release();
    },
    release: async () => lock.release(),
    building: 'the file it was building beside the store',
  };
}

async function postgresPlace(config: AppConfig, keys: SigningKeys, databaseUrl: string, log: JsonLogger): Promise<ImportPlace> {
  const staging = importSchemaFor(POSTGRES_SCHEMA);
  // One session for the import's lock and the move; the lock ends with it, however the process ends.
  const client: pg.Client = standaloneClient(databaseUrl);
  await client.connect();
  let inPlace = false;
  try {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [advisoryKey(`import/${POSTGRES_SCHEMA}`)]);
    if (!rows[0]?.ok) throw new ImportRefusedError(`another import into this PostgreSQL database is running (schema ${staging}): wait for it to end`);
    const head = await storeHeadIn(client, POSTGRES_SCHEMA);
    if (head !== null) throw notEmpty('postgres', padPosition(head));
    const earlier = await dropImportSchema(client, staging);
    if (earlier.existed && !earlier.dropped) {
      const holds = earlier.foreign.length > 0 ? `holds ${earlier.foreign.slice(0, 5).join(', ')}${earlier.foreign.length > 5 ? ` and ${earlier.foreign.length - 5} more` : ''}, which no import makes` : 'was not made by an import (it bears no import\'s mark)';
      throw new ImportRefusedError(`the schema ${staging}, where an import builds the store, ${holds}: it is someone else's; rename or drop it`);
    }
    if (earlier.dropped) log.warn('an earlier import left its schema unfinished (killed, or refused): dropped, started over', { schema: staging });
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return {
    open: async () => {
      await createImportSchema(client, staging);
      return openConfiguredEventStore(config, keys.signer, { postgresSchema: staging });
    },
    putInPlace: async () => {
      const moved = await moveImportedStore(client, staging, POSTGRES_SCHEMA).catch((error: unknown) => {
        // PostgreSQL names what stood in the way in the error's detail (a DBA's view on the
        // events: "cannot drop desired object(s)" alone named nothing, probe of 2026-12-06, L3).
        const detail = (error as { detail?: unknown }).detail;
        throw new Error(`the imported store could not be put in place of ${POSTGRES_SCHEMA}'s: ${(error as Error).message}${typeof detail === 'string' ? ` (${detail.replace(/\n/g, '; ')})` : ''}; nothing was put in place`, { cause: error });
      });
      if (!moved.moved) {
        throw new ImportRefusedError(
          `the target postgres store received events while the import ran (head position ${padPosition(moved.targetHead)}): nothing was put in place; import only into an empty store, with no server writing to it`,
        );
      }
      inPlace = true;
    },
    discard: async () => {
      // Never over the error that ended the import: what stands in the way is said, the schema left.
      if (!inPlace) await dropImportSchema(client, staging).catch((error: Error) => log.warn(`the schema ${staging} the import was building in could not be dropped: ${error.message}`, { detail: (error as { detail?: string }).detail }));
    },
    // The schema dropped as the process ends (the import's appends wait behind the drop's lock and
    // fail after it); given up after ASYNC_CLEANUP_MS, the next import drops it and starts over.
    // The import's lock ends with its session.
    interrupted: async () => {
      if (!inPlace) await dropImportSchema(client, staging);
    },
    release: () => client.end().catch(() => undefined),
    building: `the schema ${staging} it was building beside the store's`,
  };
}

