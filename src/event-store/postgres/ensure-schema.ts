import type pg from 'pg';

/**
 * `CREATE SCHEMA IF NOT EXISTS` is not safe against itself: two sessions creating the same schema
 * at once can fail with a unique violation on pg_namespace. Every part of the product that
 * creates its tables in a schema (the event store, the shared access log, the evidence blobs)
 * calls this inside its migration transaction: one advisory lock per schema name, whatever the
 * caller's own migration lock, orders the creations. Held until the caller's transaction ends.
 */
export async function ensureSchema(client: Pick<pg.ClientBase, 'query'>, schema: string, quoted: string): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtext('risk-ledger/create-schema/' || $1)::bigint)", [schema]);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
}
