import pg from 'pg';

/**
 * Connections held across awaits, made safe against the server going away.
 *
 * node-postgres emits 'error' on a client whose connection dies (`57P01 terminating connection
 * due to administrator command` on `pg_ctl restart -m fast`, `Connection terminated
 * unexpectedly`), even while a query of ours is running on it; an EventEmitter 'error' without a
 * listener kills the process. pg-pool listens only while a client is idle in the pool: it takes
 * its listener off for as long as the client is checked out. So every client held by this
 * product (a transaction, a LISTEN session, an advisory-lock session) gets its own listener from
 * the moment it exists, and a pooled client that failed is released with the error, so that the
 * pool discards it instead of handing a dead connection to the next caller.
 */

/**
 * Checks a client out of `pool`, runs `work` with it and releases it, with the connection's error
 * when the connection failed, so that the pool drops it. An 'error' event on the client meanwhile
 * is recorded (`lost()` tells it), never unhandled; the statement in flight fails with it anyway.
 */
export async function withPooledClient<T>(pool: pg.Pool, work: (client: pg.PoolClient, lost: () => Error | undefined) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error): void => {
    lost ??= error;
  };
  client.on('error', onError);
  try {
    return await work(client, () => lost);
  } catch (error) {
    // A session that can never write again is discarded too (the next try opens a fresh one).
    if (sessionCannotWrite(error)) lost ??= error as Error;
    throw error;
  } finally {
    client.removeListener('error', onError);
    // Also when `work` swallowed it (a failed ROLLBACK): a client that lost its connection is discarded.
    client.release(lost ?? (isDead(client) ? new Error('connection lost') : undefined));
  }
}

/**
 * Every connection of this product gives up on a database that stopped answering instead of
 * waiting for ever: 10 s to connect (a database paused, or a host that swallows packets, hung a
 * start with no log line and no port), 30 s for one query (a command waited 150 s, then was
 * committed behind its client's back). A query given up on while its COMMIT was sent is an
 * outcome unknown (postgres-event-store.ts: retry with the same commandId); before, nothing was
 * written. Transient (transient-errors.ts): followers retry, commands answer STORE_UNAVAILABLE.
 * And the database gives up on a session of ours left idle inside a transaction for 10 s: an
 * instance stalled mid-commit (SIGSTOP, a hung VM) held the append lock, and every other
 * instance's writes waited behind it for as long as it stayed stalled (PostgreSQL probe). Its
 * transaction is rolled back; when it wakes, its commit is an outcome unknown, as above.
 */
export const CONNECTION_LIMITS = { connectionTimeoutMillis: 10_000, query_timeout: 30_000, idle_in_transaction_session_timeout: 10_000 } as const;

/**
 * A write refused because the session is read-only (SQLSTATE 25006): the database's
 * `default_transaction_read_only` (a DBA's write freeze) or a standby behind the URL. A session
 * keeps the default it connected with, so once the database is writable again only a new session
 * writes: the instances kept retrying on the sessions opened during the freeze and refused every
 * write until restarted (PostgreSQL probe of 2026-12-06, H2). Transient (transient-errors.ts).
 */
export function sessionCannotWrite(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '25006';
}

/**
 * How every write transaction of this product begins. The database's default isolation may be
 * REPEATABLE READ or SERIALIZABLE (a DBA's setting); each of ours takes an advisory lock and then
 * reads the head it extends, which needs each statement's own snapshot: under the stricter
 * defaults the access log read a head another instance had moved past and a third of the
 * mutations on two instances failed (duplicate key, could not serialize: probe of 2026-12-06, M2).
 * Read-only is left to the database (a write freeze must hold).
 */
export const BEGIN_WRITE = 'BEGIN ISOLATION LEVEL READ COMMITTED';

/** `work` in one write transaction on `client` (BEGIN_WRITE … COMMIT), rolled back when it throws. */
export async function inWriteTransaction<T>(client: Pick<pg.ClientBase, 'query'>, work: () => Promise<T>): Promise<T> {
  await client.query(BEGIN_WRITE);
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** A client of its own (LISTEN, a session-level lock, a one-off command): errors go to `onError`, never unhandled. */
export function standaloneClient(connectionString: string, onError: (error: Error) => void = () => undefined): pg.Client {
  const client = new pg.Client({ connectionString, ...CONNECTION_LIMITS });
  client.on('error', onError);
  return client;
}

/** pg marks a client whose connection failed as not queryable. */
function isDead(client: pg.PoolClient): boolean {
  const c = client as unknown as { _queryable?: boolean; _ending?: boolean };
  return c._queryable === false || c._ending === true;
}
