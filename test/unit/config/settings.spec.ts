import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/app-config.js';
import { declaredOnly, MIN_GRAPHQL_MAX_COST, misspelledSettings, SETTING_NAMES } from '../../../src/config/settings.js';
import { buildSchema, getNamedType, isLeafType, parse } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { COST, costEstimator } from '../../../src/graphql/edge-limits.js';

/** The variables named in the first column of the README's Configuration table. */
function documentedSettings(): string[] {
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const section = readme.split(/^## Configuration\s*$/m)[1]!.split(/^#{2,3} /m)[0]!;
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  return rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
}

const WEBHOOK = { WEBHOOK_URL: 'https://hooks.example/ledger', WEBHOOK_SECRET: 'w'.repeat(32) };

function problem(env: Record<string, string>): { setting?: string; message: string } {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return { setting: (error as ConfigError).setting, message: (error as Error).message };
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('configuration schema', () => {
  it('documents every setting of the schema in the README table, and nothing else', () => {
    const documented = documentedSettings();
    expect(documented.length).toBeGreaterThan(20);
    expect(SETTING_NAMES.filter((name) => !documented.includes(name))).toEqual([]);
    expect(documented.filter((name) => !SETTING_NAMES.includes(name))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('keeps the shape and defaults of AppConfig', () => {
    const config = loadConfig({ SQLITE_PATH: '/srv/ledger/events.sqlite' });
    expect(config).toMatchObject({
      port: 3000,
      production: false,
      eventStore: 'sqlite',
      sqlitePath: '/srv/ledger/events.sqlite',
      dataDir: '/srv/ledger',
      readModelPath: '/srv/ledger/read-models.sqlite',
      processManagerPath: '/srv/ledger/process-manager.sqlite',
      rateLimitPerMinute: 0,
      accessLogReset: false,
      signing: { keyPath: '/srv/ledger/signing-key.pem', trustedKeyPaths: [] },
      graphql: { maxCost: 50_000, introspection: true },
    });
    expect(config.readModelMaxPages).toBeUndefined();
    expect(config.metricsToken).toBeUndefined();
    expect(loadConfig({ EVENT_STORE: 'memory', PORT: '0', GRAPHQL_INTROSPECTION: 'off', METRICS_TOKEN: 'x'.repeat(16) })).toMatchObject({
      port: 0,
      readModelPath: ':memory:',
      signing: { keyPath: null },
      graphql: { introspection: false },
      metricsToken: 'x'.repeat(16),
    });
  });

  it('reads an empty value as unset', () => {
    expect(loadConfig({ PORT: '', GRAPHQL_MAX_COST: '', READ_MODEL_PATH: '', SQLITE_PATH: '/x/e.sqlite' })).toMatchObject({ port: 3000, graphql: { maxCost: 50_000 }, readModelPath: '/x/read-models.sqlite' });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', 'PORT must be a port number (0 to 65535), got "abc"'],
    [{ PORT: '70000' }, 'PORT', 'PORT must be a port number (0 to 65535), got "70000"'],
    [{ PORT: ' ' }, 'PORT', 'PORT must be a port number (0 to 65535), got " "'],
    [{ PORT: '0x50' }, 'PORT', 'PORT must be a port number (0 to 65535), got "0x50"'],
    [{ PORT: '1e3' }, 'PORT', 'PORT must be a port number (0 to 65535), got "1e3"'],
    [{ PORT: '-1' }, 'PORT', 'PORT must be a port number (0 to 65535), got "-1"'],
    [{ NODE_ENV: 'prod' }, 'NODE_ENV', 'NODE_ENV must be one of development, test, production, got "prod"'],
    [{ NODE_ENV: 'Production' }, 'NODE_ENV', 'NODE_ENV must be one of development, test, production, got "Production"'],
    [{ JWT_JWKS_URL: 'idp.example/jwks' }, 'JWT_JWKS_URL', 'JWT_JWKS_URL must be an http:// or https:// URL, got "idp.example/jwks"'],
    [{ JWT_JWKS_URL: 'file:///etc/jwks.json' }, 'JWT_JWKS_URL', 'JWT_JWKS_URL must be an http:// or https:// URL, got "file:///etc/jwks.json"'],
    [{ NODE_ENV: 'production', JWT_JWKS_URL: 'http://idp.example/jwks' }, 'JWT_JWKS_URL', 'JWT_JWKS_URL must be an https:// URL when NODE_ENV=production'],
    [{ EVENT_STORE: 'postgres', DATABASE_URL: 'localhost:5432/ledger' }, 'DATABASE_URL', 'DATABASE_URL must be a postgres:// or postgresql:// URL'],
    [{ DATABASE_URL: 'mysql://u:p@h/db' }, 'DATABASE_URL', 'DATABASE_URL must be a postgres:// or postgresql:// URL'],
    [{ EVENT_STORE: 'oracle' }, 'EVENT_STORE', 'EVENT_STORE must be one of sqlite, postgres, kurrentdb, memory, got "oracle"'],
    [{ READ_MODEL_MAX_PAGES: '0' }, 'READ_MODEL_MAX_PAGES', 'READ_MODEL_MAX_PAGES must be a positive whole number, got "0"'],
    [{ RATE_LIMIT_PER_MINUTE: '-1' }, 'RATE_LIMIT_PER_MINUTE', 'RATE_LIMIT_PER_MINUTE must be a whole number of requests (0 = no limit), got "-1"'],
    [{ GRAPHQL_MAX_COST: '1.5' }, 'GRAPHQL_MAX_COST', 'GRAPHQL_MAX_COST must be a whole number of at least 502 (the cost of the cheapest request: below it every request is refused), got "1.5"'],
    [{ GRAPHQL_MAX_COST: '501' }, 'GRAPHQL_MAX_COST', 'GRAPHQL_MAX_COST must be a whole number of at least 502 (the cost of the cheapest request: below it every request is refused), got "501"'],
    [{ GRAPHQL_INTROSPECTION: 'maybe' }, 'GRAPHQL_INTROSPECTION', 'GRAPHQL_INTROSPECTION must be true or false, got "maybe"'],
    [{ ACCESS_LOG_RESET: '2' }, 'ACCESS_LOG_RESET', 'ACCESS_LOG_RESET must be true or false, got "2"'],
    [{ ACCESS_LOG_MAX_QUEUED: '99' }, 'ACCESS_LOG_MAX_QUEUED', 'ACCESS_LOG_MAX_QUEUED must be a whole number of entries from 100 to 1000000, got "99"'],
    [{ ACCESS_LOG_MAX_QUEUED: '1000001' }, 'ACCESS_LOG_MAX_QUEUED', 'ACCESS_LOG_MAX_QUEUED must be a whole number of entries from 100 to 1000000, got "1000001"'],
    [{ DOCUMENT_MAX_BYTES: '65535' }, 'DOCUMENT_MAX_BYTES', 'DOCUMENT_MAX_BYTES must be a whole number of bytes of at least 65536, got "65535"'],
    [{ DOCUMENT_MAX_BYTES: '64MB' }, 'DOCUMENT_MAX_BYTES', 'DOCUMENT_MAX_BYTES must be a whole number of bytes of at least 65536, got "64MB"'],
    [{ SNAPSHOT_EVERY: '-2' }, 'SNAPSHOT_EVERY', 'SNAPSHOT_EVERY must be a non-negative integer (0 disables snapshots), got "-2"'],
    // Digits only, as the README says of every number (operations probe 10-c L1: these three were taken).
    [{ SNAPSHOT_EVERY: '1e3' }, 'SNAPSHOT_EVERY', 'SNAPSHOT_EVERY must be a non-negative integer (0 disables snapshots), got "1e3"'],
    [{ SNAPSHOT_EVERY: '0x10' }, 'SNAPSHOT_EVERY', 'SNAPSHOT_EVERY must be a non-negative integer (0 disables snapshots), got "0x10"'],
    [{ SNAPSHOT_EVERY: ' 5' }, 'SNAPSHOT_EVERY', 'SNAPSHOT_EVERY must be a non-negative integer (0 disables snapshots), got " 5"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'LOG_LEVEL must be one of debug, info, warn, error, silent, got "loud"'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN', 'METRICS_TOKEN must be at least 16 characters (e.g. `openssl rand -hex 32`)'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET', 'JWT_SECRET (or JWT_JWKS_URL) is required when NODE_ENV=production'],
    [{ NODE_ENV: 'production', JWT_SECRET: 'too-short' }, 'JWT_SECRET', 'JWT_SECRET is 9 bytes long; NODE_ENV=production needs at least 32 bytes (e.g. `openssl rand -hex 32`)'],
    [{ EVENT_STORE: 'postgres' }, 'DATABASE_URL', 'EVENT_STORE=postgres needs DATABASE_URL'],
    // Past Node's longest timer an interval fired every millisecond (15,000 warnings in 10 s).
    [{ DEADLINE_CHECK_INTERVAL_MS: '2592000000' }, 'DEADLINE_CHECK_INTERVAL_MS', 'DEADLINE_CHECK_INTERVAL_MS must be a whole number of milliseconds from 1 to 2147483647 (about 24.8 days), got "2592000000"'],
    [{ INTEGRITY_CHECK_INTERVAL_MS: '0x10' }, 'INTEGRITY_CHECK_INTERVAL_MS', 'INTEGRITY_CHECK_INTERVAL_MS must be a whole number of milliseconds from 1 to 2147483647 (about 24.8 days), got "0x10"'],
    [{ ...WEBHOOK, WEBHOOK_TIMEOUT_MS: '3000000000' }, 'WEBHOOK_TIMEOUT_MS', 'WEBHOOK_TIMEOUT_MS must be a whole number of milliseconds from 1 to 2147483647 (about 24.8 days), got "3000000000"'],
    [{ ...WEBHOOK, WEBHOOK_RETRY_INITIAL_MS: '1e3' }, 'WEBHOOK_RETRY_INITIAL_MS', 'WEBHOOK_RETRY_INITIAL_MS must be a whole number of milliseconds from 1 to 2147483647 (about 24.8 days), got "1e3"'],
    [{ ...WEBHOOK, WEBHOOK_SECRET: 'short' }, 'WEBHOOK_SECRET', 'WEBHOOK_URL needs WEBHOOK_SECRET of at least 32 bytes (e.g. `openssl rand -hex 32`) to sign the notices'],
    [{ EVIDENCE_MAX_BYTES: ' 1000' }, 'EVIDENCE_MAX_BYTES', 'EVIDENCE_MAX_BYTES must be a positive whole number of bytes, got " 1000"'],
    [{ RATE_LIMIT_PER_MINUTE: ' ' }, 'RATE_LIMIT_PER_MINUTE', 'RATE_LIMIT_PER_MINUTE must be a whole number of requests (0 = no limit), got " "'],
    [{ METRICS_TOKEN: ' '.repeat(16) }, 'METRICS_TOKEN', 'METRICS_TOKEN must be at least 16 characters (e.g. `openssl rand -hex 32`)'],
    [{ EVENT_STORE: 'kurrentdb' }, 'KURRENTDB_CONNECTION_STRING', 'EVENT_STORE=kurrentdb needs KURRENTDB_CONNECTION_STRING'],
    [
      { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://u@h/db' },
      'SIGNING_KEY_PATH',
      'SIGNING_KEY_PATH is required when EVENT_STORE=postgres and NODE_ENV=production: every instance must sign with the same key',
    ],
  ])('refuses %j, naming %s', (env, setting, message) => {
    expect(problem(env)).toEqual({ setting, message });
  });

  it('reads the largest document, 64 MiB when unset', () => {
    expect(loadConfig({ DOCUMENT_MAX_BYTES: '1000000' }).documentMaxBytes).toBe(1_000_000);
    expect(loadConfig({}).documentMaxBytes).toBe(67_108_864);
  });

  it("reads the access log's cap, leaving it to the access log's default when unset", () => {
    expect(loadConfig({ ACCESS_LOG_MAX_QUEUED: '2500' }).accessLogMaxQueued).toBe(2500);
    expect(loadConfig({}).accessLogMaxQueued).toBeUndefined();
  });

  it('accepts the NODE_ENV values, well-formed URLs and port numbers', () => {
    expect(loadConfig({ NODE_ENV: 'test', PORT: '8080' })).toMatchObject({ production: false, port: 8080 });
    expect(loadConfig({ NODE_ENV: 'development', PORT: '65535' })).toMatchObject({ production: false, port: 65535 });
    expect(loadConfig({ NODE_ENV: 'production', JWT_JWKS_URL: 'https://idp.example/jwks' })).toMatchObject({ production: true, jwt: { jwksUrl: 'https://idp.example/jwks' } });
    expect(loadConfig({ JWT_JWKS_URL: 'http://localhost:9000/jwks' }).jwt.jwksUrl).toBe('http://localhost:9000/jwks');
    expect(loadConfig({ EVENT_STORE: 'postgres', DATABASE_URL: 'postgresql://u:p@db:5432/ledger' }).databaseUrl).toBe('postgresql://u:p@db:5432/ledger');
  });

  it('never echoes a secret in its message', () => {
    expect(problem({ DATABASE_URL: 'mysql://user:pa55word@h/db' }).message).not.toContain('pa55word');
    expect(problem({ METRICS_TOKEN: 'secret-ish' }).message).not.toContain('secret-ish');
    expect(problem({ NODE_ENV: 'production', JWT_SECRET: 'hunter2-hunter2' }).message).not.toContain('hunter2');
  });

  it('refuses to read a variable the schema does not declare', () => {
    const env = declaredOnly({ PORT: '1', NOT_A_SETTING: 'x' });
    expect(env.PORT).toBe('1');
    expect(() => env.NOT_A_SETTING).toThrow(/NOT_A_SETTING is read as a setting but is not declared in src\/config\/settings.ts/);
  });

  it('names variables that nearly spell a setting, and leaves the usual environment alone', () => {
    const env = { SQLITE_PAHT: '/x', JWT_SECRTE: 'x', WEBHOOK_URI: 'x', NODE_OPTIONS: '', NODE_VERSION: '20', HOSTNAME: 'h', PATH: '/bin', PGPORT: '5432', HTTP_PROXY: 'x', TEST_DATABASE_URL: 'x', SQLITE_PATH: '/y' };
    expect(misspelledSettings(env)).toEqual([
      { variable: 'SQLITE_PAHT', setting: 'SQLITE_PATH' },
      { variable: 'JWT_SECRTE', setting: 'JWT_SECRET' },
      { variable: 'WEBHOOK_URI', setting: 'WEBHOOK_URL' },
    ]);
    // Two swaps of neighbours, or a swap and a letter missing, are two mistakes (a plain
    // Levenshtein distance counts each swap twice and let these pass without a word: re-probe).
    expect(misspelledSettings({ SQLTIE_PAHT: 'x', SQLITEPAHT: 'x', JWT_SCEERT: 'x', DTAA_DRI: 'x' }).map((m) => m.setting)).toEqual(['SQLITE_PATH', 'SQLITE_PATH', 'JWT_SECRET', 'DATA_DIR']);
    // Another unit, or lower case, is as good as a misspelling: read as nothing (probe p10).
    expect(misspelledSettings({ DEADLINE_CHECK_INTERVAL_SECONDS: '5', EVIDENCE_MAX_MB: '1', deadline_check_interval_ms: '9', log_level: 'debug', http_proxy: 'x', no_proxy: 'y', port: '1', npm_config_cache: '/c' })).toEqual([
      { variable: 'DEADLINE_CHECK_INTERVAL_SECONDS', setting: 'DEADLINE_CHECK_INTERVAL_MS' },
      { variable: 'EVIDENCE_MAX_MB', setting: 'EVIDENCE_MAX_BYTES' },
      { variable: 'deadline_check_interval_ms', setting: 'DEADLINE_CHECK_INTERVAL_MS' },
      { variable: 'log_level', setting: 'LOG_LEVEL' },
    ]);
    // A setting without its unit is more than two letters away, and still meant (probe p9).
    expect(misspelledSettings({ DEADLINE_CHECK_INTERVAL: '5', WEBHOOK_TIMEOUT: '1', EVIDENCE_MAX: '1', SIGNING_KEY: 'x', INTERVAL: '1' })).toEqual([
      { variable: 'DEADLINE_CHECK_INTERVAL', setting: 'DEADLINE_CHECK_INTERVAL_MS' },
      { variable: 'WEBHOOK_TIMEOUT', setting: 'WEBHOOK_TIMEOUT_MS' },
      { variable: 'EVIDENCE_MAX', setting: 'EVIDENCE_MAX_BYTES' },
      { variable: 'SIGNING_KEY', setting: 'SIGNING_KEY_PATH' },
    ]);
  });

  it('refuses a DATA_DIR that is a file, or under one, naming DATA_DIR (README probe L6: a bare ENOTDIR at start-up)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-data-dir-'));
    try {
      const file = join(dir, 'notes.txt');
      writeFileSync(file, 'x');
      const problem = (dataDir: string) => {
        try {
          loadConfig({ DATA_DIR: dataDir, SQLITE_PATH: join(dir, 'events.sqlite') });
          return null;
        } catch (error) {
          return { setting: (error as ConfigError).setting, message: (error as Error).message };
        }
      };
      expect(problem(file)).toEqual({ setting: 'DATA_DIR', message: `DATA_DIR: ${file} is a file, not a folder; DATA_DIR names the folder the server keeps its local state in` });
      expect(problem(join(file, 'data', 'more'))).toEqual({ setting: 'DATA_DIR', message: `DATA_DIR: ${file}, above it, is a file; DATA_DIR names the folder the server keeps its local state in` });
      expect(problem(join(dir, 'not', 'yet'))).toBeNull(); // made at start
      // The other paths' folders, named by their setting (re-probe F3).
      for (const setting of ['SQLITE_PATH', 'READ_MODEL_PATH', 'EVIDENCE_DIR', 'SIGNING_KEY_PATH']) {
        const env = { SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: join(dir, 'data'), [setting]: join(file, 'sub', 'x') };
        expect(() => loadConfig(env)).toThrow(new RegExp(`^${setting}: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, above it, is a file, so its folder \\S+ cannot be made$`));
      }
      expect(() => loadConfig({ EVENT_STORE: 'memory', DATA_DIR: file })).not.toThrow(); // nothing kept there
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the least GRAPHQL_MAX_COST is the price of the cheapest request, one root field and one scalar (new-user probe 3; 501 refused even that, README probe M1)', () => {
    const schema = buildSchema(readFileSync(join(process.cwd(), 'schema.gql'), 'utf8'));
    const price = (query: string) => getComplexity({ schema, query: parse(query), variables: {}, estimators: [costEstimator] });
    expect(price('{ me { id } }')).toBe(MIN_GRAPHQL_MAX_COST);
    expect(MIN_GRAPHQL_MAX_COST).toBe(COST.field + COST.rootField + COST.field);
    // Nothing cheaper exists: every root field returns an object, so it selects at least one field of it.
    const scalarRoots = [schema.getQueryType(), schema.getMutationType()].flatMap((type) => Object.values(type!.getFields())).filter((field) => isLeafType(getNamedType(field.type)));
    expect(scalarRoots.map((field) => field.name)).toEqual([]);
    expect(loadConfig({ GRAPHQL_MAX_COST: String(MIN_GRAPHQL_MAX_COST), SQLITE_PATH: '/x/e.sqlite' }).graphql.maxCost).toBe(MIN_GRAPHQL_MAX_COST);
    expect(() => loadConfig({ GRAPHQL_MAX_COST: String(MIN_GRAPHQL_MAX_COST - 1), SQLITE_PATH: '/x/e.sqlite' })).toThrow(ConfigError);
  });
});
