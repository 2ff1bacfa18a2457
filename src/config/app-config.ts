import { dirname, resolve } from 'node:path';
import { declaredOnly, EVENT_STORES, validateSettings } from './settings.js';
import { webhookSettings, type WebhookSettings } from './webhook-settings.js';
import { evidenceSettings, type EvidenceSettings } from './evidence-settings.js';
import { EVENT_STORE_FILE, notAFolder, PROCESS_MANAGER_FILE, READ_MODELS_FILE, readModelPathClash } from './own-files.js';

export type EventStoreKind = 'sqlite' | 'postgres' | 'kurrentdb' | 'memory';

/** DOCUMENT_MAX_BYTES unset: 64 MiB (four renders at once, MAX_CONCURRENT_RENDERS, hold about 1 GB at most). */
export const DEFAULT_DOCUMENT_MAX_BYTES = 67_108_864;

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
  /**
   * READ_MODEL_MAX_PAGES: a quota on the read-model file in SQLite pages (4 KiB); past it the
   * projections meet SQLITE_FULL as on a full disk, and retry. Unset: no quota (the tests set it).
   */
  readModelMaxPages?: number;
  databaseUrl?: string;
  kurrentConnectionString?: string;
  jwt: {
    secret?: string;
    jwksUrl?: string;
    issuer?: string;
    audience?: string;
  };
  /** DEADLINE_CHECK_INTERVAL_MS: how often overdue controls and reviews falling due are looked for (and recorded). */
  deadlineCheckIntervalMs: number;
  /**
   * INTEGRITY_CHECK_INTERVAL_MS: how often the integrity monitor verifies the commits made since its
   * last look; unset: its default (INTEGRITY_CHECK_INTERVAL_MS in src/platform/integrity-monitor.ts).
   */
  integrityCheckIntervalMs?: number;
  /**
   * Stored snapshots of the replayed read models that register-wide asOf starts from
   * (src/projections/replay-snapshots.ts): one every REPLAY_SNAPSHOT_EVERY events a replay applies
   * (0: none), at most REPLAY_SNAPSHOTS_KEPT kept, in DATA_DIR/replay-snapshots (in memory with the memory store).
   */
  replaySnapshots: { every: number; keep: number };
  /** METRICS_TOKEN: when set, GET /metrics asks for it as a bearer token (see README "Operations"). */
  metricsToken?: string;
  /** GraphQL requests one actor may make per minute (RATE_LIMIT_PER_MINUTE); 0 = no limit. */
  rateLimitPerMinute: number;
  /**
   * The Ed25519 key that signs each commit's chain head (SIGNING_KEY_PATH; generated there when
   * absent; null with the in-memory store and no path: an ephemeral key), and earlier public keys
   * still trusted (SIGNING_TRUSTED_KEYS: comma-separated PEM files), for rotation.
   */
  signing: { keyPath: string | null; trustedKeyPaths: string[] };
  /** ACCESS_LOG_RESET: go on once over a missing, truncated or unsigned access log, recording it as an entry. */
  accessLogReset: boolean;
  /**
   * ACCESS_LOG_MAX_QUEUED: how many entries the access log may hold unwritten (its disk failing)
   * before every request is refused; undefined: the access log's default (access-log-backlog.ts).
   */
  accessLogMaxQueued?: number;
  /** Webhook notices (WEBHOOK_URL, WEBHOOK_SECRET…; see webhook-settings.ts); undefined: off. */
  webhook?: WebhookSettings;
  /** Evidence files: EVIDENCE_MAX_BYTES and EVIDENCE_DIR (see evidence-settings.ts). */
  evidence: EvidenceSettings;
  /**
   * DOCUMENT_MAX_BYTES: the most text one document (GET /documents/...) may render to, before any
   * compression; past it the render stops and is refused (413, DOCUMENT_TOO_LARGE: document-size.ts).
   */
  documentMaxBytes: number;
  /** GraphQL edge limits (see src/graphql/edge-limits.ts). */
  graphql: {
    /** GRAPHQL_MAX_COST: the cost budget of one request. */
    maxCost: number;
    /** GRAPHQL_INTROSPECTION: introspection and "did you mean" suggestions (default: off in production). */
    introspection: boolean;
  };
}

/** A wrong setting: `message` is one line naming it; `setting` is its variable when one is to blame. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly setting?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** HS256 keys shorter than this are guessable offline from a single token (RFC 7518 §3.2). */
export const MIN_JWT_SECRET_BYTES = 32;

const STORES: readonly EventStoreKind[] = EVENT_STORES;

/** Default GRAPHQL_MAX_COST: see src/graphql/edge-limits.ts for how a request is priced. */
export const DEFAULT_GRAPHQL_MAX_COST = 50_000;

function booleanSetting(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(true|1|on|yes)$/i.test(value)) return true;
  if (/^(false|0|off|no)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

function positiveIntegerSetting(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`${name} must be a positive whole number, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * The configuration from the environment. Every variable is declared, with its rule and message,
 * in the schema (settings.ts, class-validator), checked first: a wrong value is one ConfigError
 * naming it. Here the values become AppConfig (defaults, paths) and the rules that span
 * settings are checked. The server reads it through @nestjs/config (config.providers.ts).
 */
export interface LoadOptions {
  /**
   * false for the CLI's commands that neither issue nor verify a token (export, verify, import,
   * rebuild): production's token settings are not asked for. The README's `docker run … cli …
   * verify-access-log` in an image with NODE_ENV=production was refused for want of JWT_SECRET.
   */
  verifiesTokens?: boolean;
}

export function loadConfig(rawEnv: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): AppConfig {
  const tokens = options.verifiesTokens ?? true;
  const checked = validateSettings(rawEnv);
  if ('problem' in checked) throw new ConfigError(checked.problem.message, checked.problem.setting);
  // Below: only declared variables may be read (declaredOnly throws otherwise), an empty one reads as unset.
  const env = declaredOnly(rawEnv);
  const port = Number(env.PORT ?? 3000);
  const eventStore = (env.EVENT_STORE ?? 'sqlite') as EventStoreKind;
  if (!STORES.includes(eventStore)) throw new ConfigError(`EVENT_STORE must be one of ${STORES.join(', ')}, got ${JSON.stringify(env.EVENT_STORE)}`, 'EVENT_STORE');
  const sqlitePath = resolve(env.SQLITE_PATH ?? `./data/${EVENT_STORE_FILE}`);
  const dataDir = resolve(env.DATA_DIR ?? dirname(sqlitePath));
  // NODE_ENV is one of development, test, production (the schema); unset is development.
  const production = env.NODE_ENV === 'production';
  // Checked by the schema (settings.ts).
  const rateLimitPerMinute = Number(env.RATE_LIMIT_PER_MINUTE || 0);
  const graphqlMaxCost = Number(env.GRAPHQL_MAX_COST || DEFAULT_GRAPHQL_MAX_COST);
  const config: AppConfig = {
    port,
    production,
    eventStore,
    sqlitePath,
    dataDir,
    readModelPath: env.READ_MODEL_PATH
      ? env.READ_MODEL_PATH === ':memory:'
        ? ':memory:'
        : resolve(env.READ_MODEL_PATH)
      : eventStore === 'memory'
        ? ':memory:'
        : defaultReadModelPath(dataDir),
    processManagerPath: eventStore === 'memory' ? ':memory:' : resolve(dataDir, PROCESS_MANAGER_FILE),
    readModelMaxPages: positiveIntegerSetting('READ_MODEL_MAX_PAGES', env.READ_MODEL_MAX_PAGES),
    databaseUrl: env.DATABASE_URL || undefined,
    kurrentConnectionString: env.KURRENTDB_CONNECTION_STRING || undefined,
    jwt: {
      secret: env.JWT_SECRET || undefined,
      jwksUrl: env.JWT_JWKS_URL || undefined,
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
    },
    rateLimitPerMinute,
    // Checked by the schema (settings.ts).
    documentMaxBytes: Number(env.DOCUMENT_MAX_BYTES || DEFAULT_DOCUMENT_MAX_BYTES),
    metricsToken: env.METRICS_TOKEN || undefined,
    replaySnapshots: { every: Number(env.REPLAY_SNAPSHOT_EVERY || 10_000), keep: Number(env.REPLAY_SNAPSHOTS_KEPT || 16) },
    deadlineCheckIntervalMs: positiveIntegerSetting('DEADLINE_CHECK_INTERVAL_MS', env.DEADLINE_CHECK_INTERVAL_MS) ?? 60_000,
    integrityCheckIntervalMs: positiveIntegerSetting('INTEGRITY_CHECK_INTERVAL_MS', env.INTEGRITY_CHECK_INTERVAL_MS),
    accessLogReset: booleanSetting('ACCESS_LOG_RESET', env.ACCESS_LOG_RESET, false),
    accessLogMaxQueued: positiveIntegerSetting('ACCESS_LOG_MAX_QUEUED', env.ACCESS_LOG_MAX_QUEUED),
    signing: {
      keyPath: env.SIGNING_KEY_PATH ? resolve(env.SIGNING_KEY_PATH) : eventStore === 'memory' ? null : resolve(dataDir, 'signing-key.pem'),
      trustedKeyPaths: (env.SIGNING_TRUSTED_KEYS ?? '').split(',').map((p) => p.trim()).filter(Boolean).map((p) => resolve(p)),
    },
    graphql: { maxCost: graphqlMaxCost, introspection: booleanSetting('GRAPHQL_INTROSPECTION', env.GRAPHQL_INTROSPECTION, !production) },
    webhook: webhookSettings(env, (message, setting) => new ConfigError(message, setting)),
    evidence: evidenceSettings(env, (message, setting) => new ConfigError(message, setting)),
  };
  if (tokens && production && !config.jwt.secret && !config.jwt.jwksUrl) {
    throw new ConfigError('JWT_SECRET (or JWT_JWKS_URL) is required when NODE_ENV=production', 'JWT_SECRET');
  }
  if (tokens && production && config.jwt.jwksUrl && new URL(config.jwt.jwksUrl).protocol !== 'https:') {
    throw new ConfigError('JWT_JWKS_URL must be an https:// URL when NODE_ENV=production', 'JWT_JWKS_URL');
  }
  if (tokens && production && config.jwt.secret && Buffer.byteLength(config.jwt.secret, 'utf8') < MIN_JWT_SECRET_BYTES) {
    throw new ConfigError(
      `JWT_SECRET is ${Buffer.byteLength(config.jwt.secret, 'utf8')} bytes long; NODE_ENV=production needs at least ${MIN_JWT_SECRET_BYTES} bytes (e.g. \`openssl rand -hex 32\`)`,
      'JWT_SECRET',
    );
  }
  if (eventStore === 'postgres' && !config.databaseUrl) throw new ConfigError('EVENT_STORE=postgres needs DATABASE_URL', 'DATABASE_URL');
  // Several instances sign one log: each must trust the others' commits. A key generated per
  // instance (the default) makes every other instance refuse all writes (INTEGRITY_BROKEN).
  if (production && eventStore === 'postgres' && !env.SIGNING_KEY_PATH) {
    throw new ConfigError('SIGNING_KEY_PATH is required when EVENT_STORE=postgres and NODE_ENV=production: every instance must sign with the same key', 'SIGNING_KEY_PATH');
  }
  if (eventStore === 'kurrentdb' && !config.kurrentConnectionString)
    throw new ConfigError('EVENT_STORE=kurrentdb needs KURRENTDB_CONNECTION_STRING', 'KURRENTDB_CONNECTION_STRING');
  if (eventStore !== 'memory') {
    const problem = notAFolder(dataDir);
    if (problem) throw new ConfigError(`DATA_DIR: ${problem}; DATA_DIR names the folder the server keeps its local state in`, 'DATA_DIR');
    // The folders the other paths go in, named by their setting (re-probe F3: bare EEXIST and ENOTDIR at start-up).
    const folders: [string, string | null][] = [
      ['SQLITE_PATH', eventStore === 'sqlite' ? dirname(sqlitePath) : null],
      ['READ_MODEL_PATH', config.readModelPath === ':memory:' ? null : dirname(config.readModelPath)],
      ['EVIDENCE_DIR', config.evidence.dir],
      ['SIGNING_KEY_PATH', config.signing.keyPath === null ? null : dirname(config.signing.keyPath)],
    ];
    for (const [setting, folder] of folders) {
      const below = folder === null ? null : notAFolder(folder);
      if (below) throw new ConfigError(`${setting}: ${below}, so its folder ${folder} cannot be made`, setting);
    }
  }
  const clash = readModelPathClash(config);
  if (clash) throw new ConfigError(`READ_MODEL_PATH: ${config.readModelPath} is ${clash}; the read models need a file of their own`, 'READ_MODEL_PATH');
  return config;
}

/**
 * DATA_DIR/read-models.sqlite: READ_MODEL_PATH unset. A name of ours in our own folder, so a file
 * there that is no database at all is our damaged file (moved aside); a file the operator named
 * must show it is the read models' before anything is moved (read-model-database.ts).
 */
export function defaultReadModelPath(dataDir: string): string {
  return resolve(dataDir, READ_MODELS_FILE);
}

export const APP_CONFIG = Symbol('APP_CONFIG');
