import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, IsOptional, ValidateBy, validateSync, type ValidationError } from 'class-validator';
import { withinEdits } from '../shared/application/near-miss.js';
import { parseSnapshotEvery } from '../shared/application/snapshot-policy.js';

/**
 * THE SCHEMA OF THE ENVIRONMENT: every variable the process reads, one property each, named as
 * the variable, with its rule and the message a wrong value gets (class-validator). Values are the
 * raw text (an empty value counts as unset); `loadConfig` (app-config.ts) turns them into
 * `AppConfig` and checks the rules that span settings. To add a setting: a property here, its
 * field in `AppConfig`, and its row in the README's Configuration table (a test compares the
 * table with this class both ways). Reading an undeclared variable in `loadConfig` throws.
 */

/** A rule on the raw text: `check` passes or `message(value)` is the one line the operator reads. */
function rule(check: (value: string) => boolean, message: (value: string) => string): PropertyDecorator {
  return ValidateBy({
    name: 'setting',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && check(value),
      defaultMessage: (args) => message(String(args?.value)),
    },
  });
}

/** Digits only: `Number()` would also take " 5", "0x10" and "1e3", and " " as 0. */
export const isWholeNumberText = (v: string): boolean => /^\d+$/.test(v) && Number.isSafeInteger(Number(v));
const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: string) => isWholeNumberText(v) && Number(v) >= min && Number(v) <= max;
/**
 * The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days): past it setTimeout fires
 * after 1 ms, so an interval of 30 days ran every millisecond.
 */
export const MAX_TIMER_MS = 2_147_483_647;
const timerMessage = (name: string) => (v: string) => `${name} must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS} (about 24.8 days), got ${JSON.stringify(v)}`;
const isBoolean = (v: string) => /^(true|1|on|yes|false|0|off|no)$/i.test(v);
const booleanMessage = (name: string) => (v: string) => `${name} must be true or false, got ${JSON.stringify(v)}`;

export const EVENT_STORES = ['sqlite', 'postgres', 'kurrentdb', 'memory'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export const NODE_ENVS = ['development', 'test', 'production'] as const;

/** A URL whose scheme is one of `schemes` (e.g. 'https:'), or false. */
const urlWith = (schemes: readonly string[]) => (v: string) => {
  try {
    return schemes.includes(new URL(v).protocol);
  } catch {
    return false;
  }
};
/** METRICS_TOKEN: a shared secret shorter than this is guessable. */
export const MIN_METRICS_TOKEN_LENGTH = 16;

/**
 * The least GRAPHQL_MAX_COST: the price of `{ me { id } }`, one root field (COST.field + COST.rootField)
 * selecting one scalar (COST.field). No root field returns a scalar, so nothing useful costs less;
 * 501 was allowed, and refused every request but `{ __typename }` (README probe of 2026-12-07, M1).
 * test/unit/config prices the request with edge-limits.ts's estimator against the schema.
 */
export const MIN_GRAPHQL_MAX_COST = 502;

/** The least DOCUMENT_MAX_BYTES (64 KiB): below it the source block and headers of an empty register would not fit. */
export const MIN_DOCUMENT_MAX_BYTES = 65_536;

export class EnvironmentSettings {
  // ---- the process
  // Only these: a near miss (prod, Production) would otherwise run as development (dev secret, /ide).
  @IsOptional() @rule((v) => (NODE_ENVS as readonly string[]).includes(v), (v) => `NODE_ENV must be one of ${NODE_ENVS.join(', ')}, got ${JSON.stringify(v)}`) NODE_ENV?: string;
  // 0 (a free port) is kept: the end-to-end tests start servers on it.
  @IsOptional() @rule((v) => /^\d{1,5}$/.test(v) && Number(v) <= 65535, (v) => `PORT must be a port number (0 to 65535), got ${JSON.stringify(v)}`) PORT?: string;
  @IsOptional() @rule((v) => (LOG_LEVELS as readonly string[]).includes(v), (v) => `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(v)}`) LOG_LEVEL?: string;
  @IsOptional()
  @rule((v) => v.trim().length >= MIN_METRICS_TOKEN_LENGTH, () => `METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`)
  METRICS_TOKEN?: string;

  // ---- the event store and local state
  @IsOptional() @rule((v) => (EVENT_STORES as readonly string[]).includes(v), (v) => `EVENT_STORE must be one of ${EVENT_STORES.join(', ')}, got ${JSON.stringify(v)}`) EVENT_STORE?: string;
  @IsOptional() SQLITE_PATH?: string;
  @IsOptional() DATA_DIR?: string;
  @IsOptional() READ_MODEL_PATH?: string;
  @IsOptional() @rule(wholeNumber(1), (v) => `READ_MODEL_MAX_PAGES must be a positive whole number, got ${JSON.stringify(v)}`) READ_MODEL_MAX_PAGES?: string;
  @IsOptional() @rule(urlWith(['postgres:', 'postgresql:']), () => 'DATABASE_URL must be a postgres:// or postgresql:// URL') DATABASE_URL?: string;
  @IsOptional() KURRENTDB_CONNECTION_STRING?: string;
  @IsOptional()
  @rule(
    (v) => {
      try {
        parseSnapshotEvery(v);
        return true;
      } catch {
        return false;
      }
    },
    (v) => `SNAPSHOT_EVERY must be a non-negative integer (0 disables snapshots), got ${JSON.stringify(v)}`,
  )
  SNAPSHOT_EVERY?: string;
  @IsOptional() @rule(wholeNumber(0), (v) => `REPLAY_SNAPSHOT_EVERY must be a whole number of events (0 = no stored replay snapshots), got ${JSON.stringify(v)}`) REPLAY_SNAPSHOT_EVERY?: string;
  @IsOptional() @rule(wholeNumber(2), (v) => `REPLAY_SNAPSHOTS_KEPT must be a whole number of at least 2, got ${JSON.stringify(v)}`) REPLAY_SNAPSHOTS_KEPT?: string;

  // ---- tokens
  @IsOptional() JWT_SECRET?: string;
  // https in production: checked in loadConfig (a rule that spans settings).
  @IsOptional() @rule(urlWith(['http:', 'https:']), (v) => `JWT_JWKS_URL must be an http:// or https:// URL, got ${JSON.stringify(v)}`) JWT_JWKS_URL?: string;
  @IsOptional() JWT_ISSUER?: string;
  @IsOptional() JWT_AUDIENCE?: string;

  // ---- signatures and the access log
  @IsOptional() SIGNING_KEY_PATH?: string;
  @IsOptional() SIGNING_TRUSTED_KEYS?: string;
  @IsOptional() @rule(isBoolean, booleanMessage('ACCESS_LOG_RESET')) ACCESS_LOG_RESET?: string;
  // Below 100 a short stall of its disk would refuse every request; each entry held is ~1 KB of memory.
  @IsOptional() @rule(wholeNumber(100, 1_000_000), (v) => `ACCESS_LOG_MAX_QUEUED must be a whole number of entries from 100 to 1000000, got ${JSON.stringify(v)}`) ACCESS_LOG_MAX_QUEUED?: string;

  // ---- GraphQL edge
  // The cheapest request costs MIN_GRAPHQL_MAX_COST: a budget under it started, then refused every request (new-user probe 3).
  @IsOptional()
  @rule(wholeNumber(MIN_GRAPHQL_MAX_COST), (v) => `GRAPHQL_MAX_COST must be a whole number of at least ${MIN_GRAPHQL_MAX_COST} (the cost of the cheapest request: below it every request is refused), got ${JSON.stringify(v)}`)
  GRAPHQL_MAX_COST?: string;
  @IsOptional() @rule(isBoolean, booleanMessage('GRAPHQL_INTROSPECTION')) GRAPHQL_INTROSPECTION?: string;
  @IsOptional() @rule(wholeNumber(0), (v) => `RATE_LIMIT_PER_MINUTE must be a whole number of requests (0 = no limit), got ${JSON.stringify(v)}`) RATE_LIMIT_PER_MINUTE?: string;

  // ---- deadlines (overdue controls, reviews falling due)
  @IsOptional() @rule(wholeNumber(1, MAX_TIMER_MS), timerMessage('DEADLINE_CHECK_INTERVAL_MS')) DEADLINE_CHECK_INTERVAL_MS?: string;

  // ---- the live integrity monitor
  @IsOptional() @rule(wholeNumber(1, MAX_TIMER_MS), timerMessage('INTEGRITY_CHECK_INTERVAL_MS')) INTEGRITY_CHECK_INTERVAL_MS?: string;

  // ---- documents (GET /documents/...): the largest one rendered (hostile probe of 2026-12-07, Finding 1)
  @IsOptional()
  @rule(wholeNumber(MIN_DOCUMENT_MAX_BYTES), (v) => `DOCUMENT_MAX_BYTES must be a whole number of bytes of at least ${MIN_DOCUMENT_MAX_BYTES}, got ${JSON.stringify(v)}`)
  DOCUMENT_MAX_BYTES?: string;

  // ---- evidence files: their rules are in evidence-settings.ts
  @IsOptional() EVIDENCE_MAX_BYTES?: string;
  @IsOptional() EVIDENCE_DIR?: string;

  // ---- webhook notices: their rules (URL, secret length, the retry bounds) are in webhook-settings.ts
  @IsOptional() WEBHOOK_URL?: string;
  @IsOptional() WEBHOOK_SECRET?: string;
  @IsOptional() WEBHOOK_TIMEOUT_MS?: string;
  @IsOptional() WEBHOOK_RETRY_INITIAL_MS?: string;
  @IsOptional() WEBHOOK_RETRY_MAX_MS?: string;
}

/** Every variable of the schema, in declaration order. */
export const SETTING_NAMES: readonly string[] = [
  ...new Set(getMetadataStorage().getTargetValidationMetadatas(EnvironmentSettings, '', true, false).map((m) => m.propertyName)),
];

/** A setting's value is wrong: `setting` names it, `message` is the one line the operator reads. */
export interface SettingProblem {
  setting: string;
  message: string;
}

/**
 * Validates the declared variables of `env` (an empty value is unset) and returns them, or the
 * first problem found (one line is easier to act on than a list, and the rest is usually right).
 */
export function validateSettings(env: Record<string, string | undefined>): { settings: EnvironmentSettings } | { problem: SettingProblem } {
  const plain: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const value = env[name];
    if (value !== undefined && value !== '') plain[name] = value;
  }
  const settings = plainToInstance(EnvironmentSettings, plain);
  const [error] = validateSync(settings, { stopAtFirstError: true, forbidUnknownValues: false });
  if (error) return { problem: { setting: error.property, message: firstMessage(error) } };
  return { settings };
}

function firstMessage(error: ValidationError): string {
  return Object.values(error.constraints ?? {})[0] ?? `${error.property} is not valid`;
}

/**
 * `env` where reading a variable the schema does not declare is a programming error: a setting
 * read in `loadConfig` without a rule, a default and a README row would slip past all three.
 */
export function declaredOnly(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const declared = new Set(SETTING_NAMES);
  return new Proxy(env, {
    get(target, key) {
      if (typeof key === 'string' && /^[A-Z][A-Z0-9_]*$/.test(key) && !declared.has(key)) {
        throw new Error(`${key} is read as a setting but is not declared in src/config/settings.ts (add it there and to the README's Configuration table)`);
      }
      const value = Reflect.get(target, key);
      return value === '' ? undefined : value;
    },
  });
}

/** The unit a setting's name ends with. */
const UNIT_SUFFIX = /_(MS|SECONDS|BYTES|MB|MINUTES|DAYS|PATHS?)$/;

/**
 * Variables of the environment that are not settings but nearly spell one (optimal string
 * alignment distance 2 or less, from damerau-levenshtein: two letters added, missing, changed or
 * swapped with their neighbour; for names of 6 letters or more), with the setting meant:
 * SQLITE_PAHT was ignored without a word, and the store went to ./data/events.sqlite (docs probe);
 * or that name one without its unit (DEADLINE_CHECK_INTERVAL: probe p9).
 */
export function misspelledSettings(env: Record<string, string | undefined>): { variable: string; setting: string }[] {
  const declared = new Set(SETTING_NAMES);
  const found: { variable: string; setting: string }[] = [];
  for (const variable of Object.keys(env)) {
    // Lower case too (deadline_check_interval_ms): read as nothing, like a misspelling (probe p10).
    if (declared.has(variable) || !/^[A-Za-z][A-Za-z0-9_]*$/.test(variable)) continue;
    const upper = variable.toUpperCase();
    const setting =
      SETTING_NAMES.find((name) => name.length >= 6 && withinEdits(name, upper, 2)) ??
      // The unit left out or another one given (DEADLINE_CHECK_INTERVAL or DEADLINE_CHECK_INTERVAL_SECONDS
      // for DEADLINE_CHECK_INTERVAL_MS), more than two letters.
      SETTING_NAMES.find((name) => UNIT_SUFFIX.test(name) && [upper, upper.replace(UNIT_SUFFIX, '')].includes(name.replace(UNIT_SUFFIX, '')));
    if (setting) found.push({ variable, setting });
  }
  return found;
}
