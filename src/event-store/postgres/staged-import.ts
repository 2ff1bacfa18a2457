/**
 * An import into PostgreSQL is built beside the store, in a schema of its own
 * (`<schema>_importing`), and its tables are moved into the store's schema in one transaction once
 * every event is in and checked. Until 2026-12-06 the events went into the store's own tables as
 * they came: an import killed half-way left a prefix of the history there, which `verify-store`
 * called OK and a second import refused as not empty (the embedded store had the same fault and
 * builds its file beside it: src/cli/database-file-swap.ts).
 *
 * The move takes the store's migration and append locks, so no process appends to the target or
 * migrates it meanwhile; a target that received events during the import is left as it is and the
 * import refused. Only the event store's own tables move: the access log, the evidence files and
 * the coordination tables that share the schema stay where they are.
 */
import type pg from 'pg';
import { ensureSchema } from './ensure-schema.js';
import { BEGIN_WRITE } from './held-client.js';
import { STORE_FUNCTIONS, STORE_TABLES, validateSchemaName } from './schema.js';
import { advisoryKey, commitChannel } from './postgres-event-store.js';

/** The schema an import into `schema` is built in. */
export function importSchemaFor(schema: string): string {
  return validateSchemaName(`${schema}_importing`);
}

const quoted = (schema: string): string => `"${validateSchemaName(schema)}"`;

/** The newest position of the store in `schema`, or null when it has no events (or no tables yet). */
export async function storeHeadIn(client: Pick<pg.ClientBase, 'query'>, schema: string): Promise<string | null> {
  const table = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${quoted(schema)}.events`]);
  if (!table.rows[0]?.t) return null;
  const head = await client.query<{ p: string | null }>(`SELECT max(position)::text AS p FROM ${quoted(schema)}.events`);
  return head.rows[0]?.p ?? null;
}

/** Drops what an earlier import left in `staging` (killed, refused): the next one starts it over. */
export async function dropImportSchema(client: Pick<pg.ClientBase, 'query'>, staging: string): Promise<boolean> {
  const existed = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM pg_namespace WHERE nspname = $1', [staging]);
  await client.query(`DROP SCHEMA IF EXISTS ${quoted(staging)} CASCADE`);
  return existed.rows[0]?.n === '1';
}

export type MoveOutcome = { moved: true } | { moved: false; targetHead: string };

/**
 * Moves the store built in `staging` into `target` in one transaction: the target's own store
 * tables (empty) are dropped and the staging ones put in their place, triggers, indexes and
 * append-only fence with them; `staging` is dropped. Refused (nothing changed) when the target
 * holds events by then.
 */
export async function moveImportedStore(client: pg.ClientBase, staging: string, target: string): Promise<MoveOutcome> {
  const S = quoted(staging);
  const T = quoted(target);
  await client.query(BEGIN_WRITE);
  try {
    // In the order a migration takes them (then an append's): no process migrates or appends to
    // the target until this commits.
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(`migrate/${target}`)]);
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(`append/${target}`)]);
    const targetHead = await storeHeadIn(client, target);
    if (targetHead !== null) {
      await client.query('ROLLBACK');
      return { moved: false, targetHead };
    }
    await ensureSchema(client, target, T);
    await client.query(`DROP TABLE IF EXISTS ${STORE_TABLES.map((t) => `${T}.${t}`).join(', ')}`);
    for (const f of STORE_FUNCTIONS) await client.query(`DROP FUNCTION IF EXISTS ${T}.${f}`);
    for (const t of STORE_TABLES) await client.query(`ALTER TABLE ${S}.${t} SET SCHEMA ${T}`);
    for (const f of STORE_FUNCTIONS) await client.query(`ALTER FUNCTION ${S}.${f} SET SCHEMA ${T}`);
    // Empty now; RESTRICT: anything else found there is not ours to drop silently.
    await client.query(`DROP SCHEMA ${S} RESTRICT`);
    // Processes already serving the (empty) target catch up at once rather than at their next poll.
    await client.query('SELECT pg_notify($1, $2)', [commitChannel(target), 'import']);
    await client.query('COMMIT');
    return { moved: true };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
