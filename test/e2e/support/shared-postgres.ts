import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type PostgresServer } from '../../support/postgres-cluster.js';
import { TEST_JWT_SECRET } from './test-app.js';

/**
 * One PostgreSQL database for the server processes of a test file (several instances on one
 * store): the cluster, a work folder with a DATA_DIR per instance, and one signing key, which
 * every instance uses (each must trust the commits of the others).
 */
export interface SharedPostgresStore {
  postgres: PostgresServer;
  databaseUrl: string;
  work: string;
  keyPath: string;
  /** The environment of instance `name` (its own DATA_DIR), `extra` added or overriding. */
  env(name: string, extra?: Record<string, string>): Record<string, string>;
  /** Stops the cluster and removes the work folder. */
  stop(): Promise<void>;
}

export async function sharedPostgresStore(database: string): Promise<SharedPostgresStore> {
  const postgres = await startPostgres();
  const work = mkdtempSync(join(tmpdir(), `risk-ledger-${database.replace(/_/g, '-')}-`));
  try {
    const databaseUrl = await postgres.createDatabase(database);
    const keyPath = join(work, 'signing-key.pem');
    writeFileSync(keyPath, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    return {
      postgres,
      databaseUrl,
      work,
      keyPath,
      env: (name, extra = {}) => ({ EVENT_STORE: 'postgres', DATABASE_URL: databaseUrl, DATA_DIR: join(work, name), JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'test', SIGNING_KEY_PATH: keyPath, ...extra }),
      stop: async () => {
        await postgres.stop();
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await postgres.stop();
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}
