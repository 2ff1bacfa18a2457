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
import { inWriteTransaction } from './held-client.js';
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

/**
 * What is in `staging` that an import does not make there: tables, views, sequences and types of
 * other names, functions other than the store's. Someone's schema of that name is not ours to drop
 * (an import dropped one with CASCADE, 500 rows of another table with it: probe of 2026-12-06, H1).
 */
export async function foreignObjectsIn(client: Pick<pg.ClientBase, 'query'>, staging: string): Promise<string[]> {
  const { rows } = await client.query<{ what: string }>(
    `SELECT relname AS what FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND NOT (c.relname = ANY($2::text[]))
     UNION ALL
     SELECT p.proname || '()' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = $1 AND NOT (p.proname || '()' = ANY($3::text[]))
     UNION ALL
     SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = $1 AND t.typrelid = 0 AND t.typcategory <> 'A'
     ORDER BY 1`,
    [staging, [...STORE_TABLES], [...STORE_FUNCTIONS]],
  );
  return rows.map((r) => r.what);
}

/** Written on the schema an import makes: only a schema bearing it is ever dropped (names alone were not enough). */
const IMPORT_MARK = 'risk-ledger: an import builds the event store here; dropped when it ends';

/** Makes `staging` for an import, marked as the import's (COMMENT ON SCHEMA). */
export async function createImportSchema(client: Pick<pg.ClientBase, 'query'>, staging: string): Promise<void> {
  await inWriteTransaction(client, async () => {
    await client.query(`CREATE SCHEMA ${quoted(staging)}`);
    await client.query(`COMMENT ON SCHEMA ${quoted(staging)} IS '${IMPORT_MARK}'`);
  });
}

/** The event store's tables and functions in the schema `Q` (quoted) dropped, their triggers with them; no CASCADE. */
async function dropStoreObjects(client: Pick<pg.ClientBase, 'query'>, Q: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${STORE_TABLES.map((t) => `${Q}.${t}`).join(', ')}`);
  for (const f of STORE_FUNCTIONS) await client.query(`DROP FUNCTION IF EXISTS ${Q}.${f}`);
}

/**
 * Drops what an earlier import left in `staging` (killed, refused): the next one starts it over.
 * Only a schema an import made (its mark) holding nothing but an import's store, and nothing
 * outside it that depends on it (no CASCADE: a view of someone's on it went with it, re-probe of
 * 2026-12-06, NEW-2; PostgreSQL's refusal names it). Otherwise nothing is dropped and what is not
 * an import's is returned (a table named `events` in a schema of someone's went, NEW-1).
 */
export async function dropImportSchema(client: Pick<pg.ClientBase, 'query'>, staging: string): Promise<{ existed: boolean; dropped: boolean; marked: boolean; foreign: string[] }> {
  const found = await client.query<{ mark: string | null }>('SELECT obj_description(oid, \'pg_namespace\') AS mark FROM pg_namespace WHERE nspname = $1', [staging]);
  if (found.rows.length === 0) return { existed: false, dropped: false, marked: false, foreign: [] };
  const marked = found.rows[0]!.mark === IMPORT_MARK;
  const foreign = await foreignObjectsIn(client, staging);
  if (!marked || foreign.length > 0) return { existed: true, dropped: false, marked, foreign };
  await inWriteTransaction(client, async () => {
    await dropStoreObjects(client, quoted(staging));
    await client.query(`DROP SCHEMA ${quoted(staging)} RESTRICT`);
  });
  return { existed: true, dropped: true, marked, foreign: [] };
}

export type MoveOutcome = { moved: true } | { moved: false; targetHead: string };

/**
 * Moves the store built in `staging` into `target` in one transaction: the target's own store
 * tables (empty) are dropped and the staging ones put in their place, triggers, indexes and
 * append-only fence with them; `staging` is dropped. Refused (nothing changed) when the target
 * holds events by then.
 */
export function moveImportedStore(client: pg.ClientBase, staging: string, target: string): Promise<MoveOutcome> {
  const S = quoted(staging);
  const T = quoted(target);
  return inWriteTransaction(client, async (): Promise<MoveOutcome> => {
    // In the order a migration takes them (then an append's): no process migrates or appends to
    // the target until this commits.
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(`migrate/${target}`)]);
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(`append/${target}`)]);
    const targetHead = await storeHeadIn(client, target);
    if (targetHead !== null) return { moved: false, targetHead };
    await ensureSchema(client, target, T);
    const kept = await ownersAndGrants(client, target);
    await dropStoreObjects(client, T);
    for (const t of STORE_TABLES) await client.query(`ALTER TABLE ${S}.${t} SET SCHEMA ${T}`);
    for (const f of STORE_FUNCTIONS) await client.query(`ALTER FUNCTION ${S}.${f} SET SCHEMA ${T}`);
    await restoreOwnersAndGrants(client, T, kept);
    // Empty now; RESTRICT: anything else found there is not ours to drop silently.
    await client.query(`DROP SCHEMA ${S} RESTRICT`);
    // Processes already serving the (empty) target catch up at once rather than at their next poll.
    await client.query('SELECT pg_notify($1, $2)', [commitChannel(target), 'import']);
    return { moved: true };
  });
}

interface Kept {
  tables: { name: string; owner: string; grants: { grantee: string; privilege: string; grantable: boolean; column: string | null }[] }[];
  functions: { signature: string; owner: string }[];
}

const identifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Who owns the target's store tables and who was granted what on them: the tables put in their
 * place were made by whoever ran the import, with no grants, and a server running as the role
 * that had made the old ones could no longer open them ("permission denied for table
 * event_store_schema"), a reporting role's SELECT gone (probe of 2026-12-06, M3).
 */
async function ownersAndGrants(client: Pick<pg.ClientBase, 'query'>, target: string): Promise<Kept> {
  const tables = await client.query<Kept['tables'][number]>(
    `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner,
            COALESCE((SELECT json_agg(g) FROM (
                SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable, NULL AS "column"
                  FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner
                UNION ALL
                SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, a.is_grantable, att.attname::text
                  FROM pg_attribute att, aclexplode(att.attacl) a
                 WHERE att.attrelid = c.oid AND att.attacl IS NOT NULL AND a.grantee <> c.relowner) g), '[]'::json) AS grants
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname = ANY($2::text[])`,
    [target, [...STORE_TABLES]],
  );
  const functions = await client.query<Kept['functions'][number]>(
    `SELECT p.proname || '()' AS signature, pg_get_userbyid(p.proowner) AS owner
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname || '()' = ANY($2::text[])`,
    [target, [...STORE_FUNCTIONS]],
  );
  return { tables: tables.rows, functions: functions.rows };
}

/** The moved tables given the owners and grants the ones they replace had (none kept: the importer's, as a server's first start makes them). */
async function restoreOwnersAndGrants(client: Pick<pg.ClientBase, 'query'>, T: string, kept: Kept): Promise<void> {
  for (const t of kept.tables) {
    await client.query(`ALTER TABLE ${T}.${identifier(t.name)} OWNER TO ${identifier(t.owner)}`);
    for (const g of t.grants) {
      // privilege_type comes from the catalog (SELECT, INSERT, ...), never from input.
      // (columns too: an INSERT granted on one column was lost, re-probe of 2026-12-06, NEW-3)
      const on = g.column === null ? '' : ` (${identifier(g.column)})`;
      await client.query(`GRANT ${g.privilege}${on} ON ${T}.${identifier(t.name)} TO ${g.grantee === 'PUBLIC' ? 'PUBLIC' : identifier(g.grantee)}${g.grantable ? ' WITH GRANT OPTION' : ''}`);
    }
  }
  for (const f of kept.functions) await client.query(`ALTER FUNCTION ${T}.${f.signature} OWNER TO ${identifier(f.owner)}`);
}
