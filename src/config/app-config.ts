import { dirname, resolve } from 'node:path';

export type EventStoreKind = 'sqlite' | 'postgres' | 'kurrentdb' | 'memory';

/** Everything the process reads from its environment, read once at start-up. */
export interface AppConfig {
  port: number;
  production: boolean;
  eventStore: EventStoreKind;
  sqlitePath: string;
  /** Folder for local state: the read models' database and the development JWT secret. */
  dataDir: string;
  /** better-sqlite3 file of the read models (':memory:' with the in-memory store). */
  readModelPath: string;
  /** The process manager's checkpoint, kept apart from the disposable read models. */
  processManagerPath: string;
  databaseUrl?: string;
  kurrentConnectionString?: string;
  jwt: {
    secret?: string;
    jwksUrl?: string;
    issuer?: string;
    audience?: string;
  };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const STORES: EventStoreKind[] = ['sqlite', 'postgres', 'kurrentdb', 'memory'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a port number, got ${env.PORT}`);
  const eventStore = (env.EVENT_STORE ?? 'sqlite') as EventStoreKind;
  if (!STORES.includes(eventStore)) throw new ConfigError(`EVENT_STORE must be one of ${STORES.join(', ')}, got ${env.EVENT_STORE}`);
  const sqlitePath = resolve(env.SQLITE_PATH ?? './data/events.sqlite');
  const dataDir = resolve(env.DATA_DIR ?? dirname(sqlitePath));
  const production = env.NODE_ENV === 'production';
  const config: AppConfig = {
    port,
    production,
    eventStore,
    sqlitePath,
    dataDir,
    readModelPath:
      env.READ_MODEL_PATH ?? (eventStore === 'memory' ? ':memory:' : resolve(dataDir, 'read-models.sqlite')),
    processManagerPath: eventStore === 'memory' ? ':memory:' : resolve(dataDir, 'process-manager.sqlite'),
    databaseUrl: env.DATABASE_URL || undefined,
    kurrentConnectionString: env.KURRENTDB_CONNECTION_STRING || undefined,
    jwt: {
      secret: env.JWT_SECRET || undefined,
      jwksUrl: env.JWT_JWKS_URL || undefined,
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
    },
  };
  if (production && !config.jwt.secret && !config.jwt.jwksUrl) {
    throw new ConfigError('JWT_SECRET (or JWT_JWKS_URL) is required when NODE_ENV=production');
  }
  if (eventStore === 'postgres' && !config.databaseUrl) throw new ConfigError('EVENT_STORE=postgres needs DATABASE_URL');
  if (eventStore === 'kurrentdb' && !config.kurrentConnectionString)
    throw new ConfigError('EVENT_STORE=kurrentdb needs KURRENTDB_CONNECTION_STRING');
  return config;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
