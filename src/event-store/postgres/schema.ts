/**
 * PostgreSQL schema of the event store, versioned in `<schema>.event_store_schema` (one row per
 * migration applied). Add a migration step (and bump SCHEMA_VERSION) for every change; never edit
 * a step that has shipped. Migrations run at init, in one transaction, under a transaction-level
 * advisory lock, so that several processes starting together create the schema once.
 *
 * Columns hold exactly what SQLite holds: data and metadata as the JSON text that was hashed
 * (`text`, not jsonb: jsonb reorders keys, rewrites numbers and refuses some strings), recordedAt
 * as the ISO string that was hashed.
 */
import type pg from 'pg';
import { EventStoreSchemaError } from '../errors.js';
import { ensureSchema } from './ensure-schema.js';
import { BEGIN_WRITE } from './held-client.js';

export const SCHEMA_VERSION = 2;

/**
 * Every table and function the migrations below create, the version table included: what an
 * import built beside the store moves into it (staged-import.ts). A step that adds one adds it
 * here (test/event-store/postgres-staged-import.spec.ts compares this list with a migrated schema).
 */
export const STORE_TABLES = ['events', 'idempotency', 'chain_signatures', 'snapshots', 'event_store_schema'] as const;
export const STORE_FUNCTIONS = ['refuse_change()'] as const;
/** The append-only fence: triggers step 1 creates (named here so that their absence can be told). */
export const APPEND_ONLY_TRIGGERS = ['events_no_update_delete', 'events_no_truncate', 'chain_signatures_no_update_delete', 'chain_signatures_no_truncate', 'idempotency_no_update_delete'] as const;

/** The append-only triggers missing from `schema` or disabled (ALTER TABLE … DISABLE TRIGGER). */
export async function missingAppendOnlyTriggers(db: pg.Pool | pg.ClientBase, schema: string): Promise<string[]> {
  const { rows } = await db.query<{ tgname: string }>(
    `SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND t.tgname = ANY($2::text[]) AND t.tgenabled <> 'D'`,
    [schema, [...APPEND_ONLY_TRIGGERS]],
  );
  const present = new Set(rows.map((r) => r.tgname));
  return APPEND_ONLY_TRIGGERS.filter((t) => !present.has(t));
}

/** A schema name safe to splice into SQL (we quote it too). */
export function validateSchemaName(schema: string): string {
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new TypeError(`PostgresEventStore: schema must match [a-z_][a-z0-9_]* (at most 63 characters), got ${JSON.stringify(schema)}`);
  }
  return schema;
}

/** Step n takes the schema from version n-1 to n. `S` is the quoted schema name. */
export function migrations(S: string): Record<number, string> {
  return {
    1: `
      CREATE TABLE ${S}.events (
        position       bigint   PRIMARY KEY,
        event_id       text     NOT NULL UNIQUE,
        stream_id      text     NOT NULL,
        revision       integer  NOT NULL,
        type           text     NOT NULL,
        schema_version integer  NOT NULL,
        data           text     NOT NULL,
        metadata       text     NOT NULL,
        recorded_at    text     NOT NULL,
        prev_hash      text     NOT NULL,
        hash           text     NOT NULL,
        chain_hash     text     NOT NULL,
        hash_version   smallint NOT NULL,
        UNIQUE (stream_id, revision)
      );
      CREATE TABLE ${S}.idempotency (
        key            text   PRIMARY KEY,
        stream_id      text   NOT NULL,
        first_position bigint NOT NULL,
        last_position  bigint NOT NULL
      );
      CREATE TABLE ${S}.chain_signatures (
        position       bigint PRIMARY KEY,
        first_position bigint NOT NULL,
        chain_hash     text   NOT NULL,
        kid            text   NOT NULL,
        signature      text   NOT NULL
      );
      -- The log is append-only: the hash chain is the evidence, these triggers are the fence.
      CREATE FUNCTION ${S}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% are append-only (% refused)', TG_ARGV[0], TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON ${S}.events
        FOR EACH ROW EXECUTE FUNCTION ${S}.refuse_change('events');
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON ${S}.events
        FOR EACH STATEMENT EXECUTE FUNCTION ${S}.refuse_change('events');
      CREATE TRIGGER chain_signatures_no_update_delete BEFORE UPDATE OR DELETE ON ${S}.chain_signatures
        FOR EACH ROW EXECUTE FUNCTION ${S}.refuse_change('signatures');
      CREATE TRIGGER chain_signatures_no_truncate BEFORE TRUNCATE ON ${S}.chain_signatures
        FOR EACH STATEMENT EXECUTE FUNCTION ${S}.refuse_change('signatures');
      CREATE TRIGGER idempotency_no_update_delete BEFORE UPDATE OR DELETE ON ${S}.idempotency
        FOR EACH ROW EXECUTE FUNCTION ${S}.refuse_change('idempotency keys');
    `,
    // Write-side snapshots beside the log (never events, never hashed, never exported): a
    // stream's state folded up to a revision, per state version. An optimisation only: rows may
    // be deleted, and they are updated in place (no append-only trigger).
    2: `
      CREATE TABLE ${S}.snapshots (
        stream_id     text    NOT NULL,
        state_version text    NOT NULL,
        revision      integer NOT NULL,
        position      text    NOT NULL,
        recorded_at   text    NOT NULL,
        state         text    NOT NULL,
        PRIMARY KEY (stream_id, state_version, revision)
      );
    `,
  };
}

/** Creates or migrates the schema to SCHEMA_VERSION; refuses a newer one. */
export async function migrate(client: pg.PoolClient | pg.Client, schema: string, lockKey: string): Promise<number> {
  const S = `"${schema}"`;
  const current = async (): Promise<number> => {
    const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${S}.event_store_schema`]);
    if (!exists.rows[0]?.t) return 0;
    const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${S}.event_store_schema`);
    return r.rows[0]?.v ?? 0;
  };
  const check = (version: number): void => {
    if (version > SCHEMA_VERSION) {
      throw new EventStoreSchemaError(`PostgreSQL schema ${schema} has event store schema version ${version}; this build knows up to ${SCHEMA_VERSION}`);
    }
  };
  const seen = await current();
  check(seen);
  if (seen === SCHEMA_VERSION) return seen;

  await client.query(BEGIN_WRITE);
  try {
    // The migration lock is not the append lock (another key): appends of an up-to-date process
    // never wait for it. Re-read under the lock: another process may have migrated meanwhile.
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey]);
    await ensureSchema(client, schema, S);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${S}.event_store_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    let version = await current();
    check(version);
    const steps = migrations(S);
    while (version < SCHEMA_VERSION) {
      version++;
      const step = steps[version];
      if (!step) throw new EventStoreSchemaError(`missing migration to schema version ${version}`);
      await client.query(step);
      await client.query(`INSERT INTO ${S}.event_store_schema (version) VALUES ($1)`, [version]);
    }
    await client.query('COMMIT');
    return version;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
