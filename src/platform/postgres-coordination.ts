import pg from 'pg';
import { instanceLeadKey } from '../event-store/postgres/running-instances.js';
import { CONNECTION_LIMITS, sessionCannotWrite, standaloneClient, withPooledClient } from '../event-store/postgres/held-client.js';
import { ensureRelation } from '../event-store/postgres/ensure-schema.js';
import type { ReactionsCoordination } from '../shared/application/reactions-coordination.js';
import type { JsonLogger } from '../shared/logging/json-logger.js';

/**
 * Several instances on one PostgreSQL store: the reactions run where a session-level advisory
 * lock is held (PostgreSQL releases it when that session ends, so when the instance dies another
 * one takes it over within a poll), and their checkpoint lives in the shared database, so the
 * next leader resumes where the last one stopped and every instance can wait for the reactions
 * to its own commands.
 */
/** How long the lead outlives a leader that stopped answering (see keepAlive), and its heartbeat. */
const LEAD_LEASE_MS = 30_000;
const LEAD_HEARTBEAT_MS = 5_000;

export class PostgresCoordination implements ReactionsCoordination {
  /** The instances that do not lead wait for this checkpoint (ProcessManager.waitFor). */
  readonly othersWait = true;
  private readonly pool: pg.Pool;
  private leader?: pg.Client;
  private readonly lockKey: string;
  private readonly table: string;
  private lostListeners: (() => void)[] = [];
  private ready?: Promise<void>;
  /** The last statement sent on the leader's session (see onLeaderSession). */
  private leaderTurn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connectionString: string,
    private readonly schema: string,
    private readonly log: JsonLogger,
    /** What the lead is for: one advisory lock per name (the reactions; the webhook notices…). */
    lockName = 'reactions',
    private readonly lease = { ms: LEAD_LEASE_MS, heartbeatMs: LEAD_HEARTBEAT_MS },
  ) {
    this.pool = new pg.Pool({ connectionString, max: 2, ...CONNECTION_LIMITS });
    this.pool.on('error', (error) => this.log.warn('reactions coordination: idle connection error', { error: error.message }));
    this.lockKey = instanceLeadKey(schema, lockName);
    this.table = `"${schema.replace(/"/g, '""')}".process_checkpoints`;
  }

  private setup(): Promise<void> {
    this.ready ??= withPooledClient(this.pool, (client) => ensureRelation(client, this.table, `CREATE TABLE IF NOT EXISTS ${this.table} (name TEXT PRIMARY KEY, position TEXT)`));
    return this.ready;
  }

  async tryLead(): Promise<boolean> {
    if (this.leader) return true;
    await this.setup();
    // The lock lives as long as this session: losing the connection is losing the lead. The
    // listener is there from the start: an error while connecting or asking for the lock (the
    // server restarting) must not go unhandled.
    const lost = (error?: Error) => {
      if (this.leader !== client) return;
      this.leader = undefined;
      this.log.warn('reactions coordination: the session holding the lead ended', { error: error?.message });
      for (const listener of this.lostListeners) listener();
    };
    const client = standaloneClient(this.connectionString, lost);
    let locked = false;
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [this.lockKey]);
      locked = rows[0]?.locked === true;
    } finally {
      if (!locked) await client.end().catch(() => undefined);
    }
    if (!locked) return false;
    client.on('end', () => lost());
    this.leader = client;
    this.keepAlive(client);
    return true;
  }

  /**
   * The lead is a lease: the session holding the lock asks the database to end it after
   * LEAD_LEASE_MS idle (PostgreSQL 14+), and says something every LEAD_HEARTBEAT_MS. An instance
   * that stalls (SIGSTOP, a hung VM) while its connection stays open stops saying anything, its
   * session ends and the lock with it, and another instance takes the lead: the stalled leader
   * had held it for as long as it stayed stalled, and every other instance's commands waited
   * 10 s each for reactions that never came (PostgreSQL probe). When it wakes, its session is gone:
   * `lost` tells it.
   */
  private keepAlive(client: pg.Client): void {
    void this.onLeaderSession(client, `SET idle_session_timeout = ${Math.floor(this.lease.ms)}`).catch((error: Error) => this.log.warn('reactions coordination: the lead is not a lease on this PostgreSQL (idle_session_timeout needs version 14)', { error: error.message }));
    // One heartbeat at a time: while the database does not answer, the beats are not piled up.
    let beating = false;
    const beat = setInterval(() => {
      if (this.leader !== client) return clearInterval(beat);
      if (beating) return;
      beating = true;
      void this.onLeaderSession(client, 'SELECT 1')
        .catch(() => undefined)
        .finally(() => (beating = false));
    }, this.lease.heartbeatMs);
    beat.unref();
  }

  /**
   * One statement at a time on the session that holds the lead (heartbeats and checkpoints share
   * it). node-postgres queues a statement sent while another runs, a use it deprecates and pg@9
   * drops: its warning was printed when the database froze (operations probe 10-c L5).
   */
  private onLeaderSession<R extends pg.QueryResultRow>(client: pg.Client, sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    const turn = this.leaderTurn.then(() => client.query<R>(sql, params));
    this.leaderTurn = turn.catch(() => undefined);
    return turn;
  }

  async confirmLead(): Promise<boolean> {
    const leader = this.leader;
    if (!leader) return false;
    try {
      // A round trip on the session that holds the lock: a session the database ended while this
      // process was stalled fails here (and `lost` runs), where a timer firing on waking did not ask.
      await this.onLeaderSession(leader, 'SELECT 1');
    } catch {
      return false;
    }
    return this.leader === leader;
  }

  onLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }

  async load(name: string): Promise<{ position: string | null } | undefined> {
    await this.setup();
    const { rows } = await this.pool.query<{ position: string | null }>(`SELECT position FROM ${this.table} WHERE name = $1`, [name]);
    return rows[0] ? { position: rows[0].position } : undefined;
  }

  async loadMany(names: readonly string[]): Promise<Map<string, string | null>> {
    await this.setup();
    const { rows } = await this.pool.query<{ name: string; position: string | null }>(`SELECT name, position FROM ${this.table} WHERE name = ANY($1::text[])`, [names]);
    return new Map(rows.map((row) => [row.name, row.position]));
  }

  async save(name: string, position: string): Promise<void> {
    const sql = `INSERT INTO ${this.table} (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = excluded.position`;
    const leader = this.leader;
    if (!leader) {
      await withPooledClient(this.pool, (client) => client.query(sql, [name, position]));
      return;
    }
    await this.onLeaderSession(leader, sql, [name, position]).catch(async (error: unknown) => {
      // A session that cannot write again (held-client.ts) gives up the lead: a fresh one takes it.
      if (sessionCannotWrite(error)) await leader.end().catch(() => undefined);
      throw error;
    });
  }

  async close(): Promise<void> {
    const leader = this.leader;
    this.leader = undefined;
    this.lostListeners = [];
    await leader?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
