import type pg from 'pg';

/**
 * `CREATE SCHEMA IF NOT EXISTS` is not safe against itself: two sessions creating the same schema
 * at once can fail with a unique violation on pg_namespace. Every part of the product that
 * creates its tables in a schema (the event store, the shared access log, the evidence blobs)
 * calls this inside its migration transaction: one advisory lock per schema name, whatever the
 * caller's own migration lock, orders the creations. Held until the caller's transaction ends.
 *
 * A schema that exists is not created again: PostgreSQL checks CREATE on the database before it
 * looks whether the schema exists, so a role given only the schema (created for it by a DBA), or
 * only the rights on its tables, could not start (probe of 2026-12-06, M1).
 */
export async function ensureSchema(client: Pick<pg.ClientBase, 'query'>, schema: string, quoted: string): Promise<void> {
  if (await schemaExists(client, schema)) return;
  await client.query("SELECT pg_advisory_xact_lock(hashtext('risk-ledger/create-schema/' || $1)::bigint)", [schema]);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
}

async function schemaExists(client: Pick<pg.ClientBase, 'query'>, schema: string): Promise<boolean> {
  const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [schema]);
  return rows[0]?.n === 1;
}

/**
 * Runs `create` (a CREATE TABLE or INDEX ... IF NOT EXISTS) only when `qualified` does not exist
 * yet: `IF NOT EXISTS` alone still needs CREATE on the schema (M1 above).
 */
export async function ensureRelation(client: Pick<pg.ClientBase, 'query'>, qualified: string, create: string): Promise<void> {
  const { rows } = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [qualified]);
  if (rows[0]?.t == null) await client.query(create);
}
