/**
 * Whether a server instance is running on a PostgreSQL database: every running instance, of any
 * build since 2026-11-30, contends for the reactions' lead (PostgresCoordination), a session-level
 * advisory lock that one of them holds for as long as its session lives. A migration of a shared
 * schema that running instances of an earlier build would read wrongly asks first (upgrade probe
 * of 2026-12-06, F3: the access log moved to schema 2 under a running instance of the build before).
 */
import type pg from 'pg';
import { advisoryKey } from './postgres-event-store.js';

/** The lock the instances contend for to lead the reactions (and, with `webhooks`, the notices). */
export function instanceLeadKey(schema: string, lockName = 'reactions'): string {
  return advisoryKey(`${lockName}/${schema}`);
}

/**
 * True when another session holds the reactions' lead on `schema`: an instance is running. Taken
 * and given back at once when free, so that it is never held by the caller past this question (a
 * server asks before its own coordination starts).
 */
export async function anInstanceRuns(client: pg.PoolClient | pg.Client, schema: string): Promise<boolean> {
  const key = instanceLeadKey(schema);
  const got = (await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS got', [key])).rows[0]?.got === true;
  if (got) await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
  return !got;
}
