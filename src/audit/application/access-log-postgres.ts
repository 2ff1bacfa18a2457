/**
 * The access log in the shared PostgreSQL database (EVENT_STORE=postgres): ONE chain that every
 * instance appends to, its entries interleaved in one order.
 *
 * - **Order by construction**, as the event store's: each batch is one transaction that takes a
 *   transaction-level advisory lock (its own key, `access-log/<schema>`) and holds it to COMMIT
 *   while it reads the head, assigns seq = head + 1..., computes each entry's hash link and signs
 *   the batch's head. The next writer, once it has the lock, sees every earlier commit: seq is
 *   gap-free and the chain is one, whatever the number of instances. Batching per instance is as
 *   on SQLite (flushDelayMs, maxBatch): a request never waits for the database.
 * - **Tables** `access_log`, `access_log_heads` (each batch's signed head, with the instance that
 *   wrote it), `access_log_meta` (the log's id), migrated in `access_log_schema`; triggers refuse
 *   UPDATE, DELETE and TRUNCATE. Rows and hashes are exactly the SQLite file's: one verifier
 *   (AccessLogWalk) checks both.
 * - **Signatures**: every instance signs with the shared key (SIGNING_KEY_PATH), scope 'access-log'.
 * - **A local anchor per instance** (DATA_DIR/access-log.postgres-anchor.json): the last signed
 *   head this instance wrote (or, when it starts without one, the last it saw). Deleting the
 *   database's tables is seen by the database itself no longer holding a log, but deleting its
 *   newest entries together with their signed heads leaves a chain that verifies: the anchor of
 *   the instance that wrote them still names them. A missing anchor is not a finding here (a new
 *   instance has none); an unreadable one is. Each batch also checks, under the lock, that the log
 *   still holds the head this instance last wrote or saw, and records a discontinuity if not.
 */
import { setImmediate } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { advisoryKey } from '../../event-store/postgres/postgres-event-store.js';
import { ensureRelation, ensureSchema } from '../../event-store/postgres/ensure-schema.js';
import { anInstanceRuns } from '../../event-store/postgres/running-instances.js';
import { BEGIN_WRITE, CONNECTION_LIMITS, withPooledClient } from '../../event-store/postgres/held-client.js';
import type { HeadSignature, SigningKeys, TrustedKeys } from '../../event-store/signing.js';
import type { JsonLogger } from '../../shared/logging/json-logger.js';
import {
  ACCESS_LOG_GENESIS,
  ACCESS_LOG_SLICE_MS,
  AccessLogWalk,
  accessEntryHash,
  discontinuityRecord,
  readAnchor,
  toEntry,
  writeAnchor,
  type AccessLogAnchor,
  type AccessLogEntry,
  type AccessLogRow,
  type AccessLogVerification,
  type AccessRecord,
  type Discontinuity,
  type HeadRow,
} from './access-log-chain.js';
import { SharedVerification } from './shared-verification.js';
import { systemEntryRecord, type HeadAtStart, type SystemEntry } from './access-log-system-entries.js';
import { postgresLookupIn } from './access-log-lookups.js';
import { verifyAccessLogAgainstEvents, type CorrelationLookup, type LoggedCommit } from './access-log-crosscheck.js';
import type { EventStore } from '../../event-store/event-store.port.js';
import { AccessLogRefusedError, AccessLogSchemaError, type AccessLogFilter, type CheckableAccessLog } from './access-log.js';
import { AccessLogBacklog, WRITE_FAILED } from './access-log-backlog.js';
import { ACCESS_LOG_POSTGRES_ANCHOR_FILE } from '../../config/own-files.js';

const COLUMNS = 'seq, at, actor_id, actor_name, actor_roles, operation_name, operation_type, fields, target_ids, outcome, error_code, correlation_id, prev_hash, hash, note, committed_position, committed_event_id';
const PER_ROW = 17;
const SCHEMA_VERSION = 2;
/** How long a page of the log waits for the entries queued before it (see page). */
const PAGE_WAITS_FOR_QUEUE_MS = 1_000;

function migrations(S: string): Record<number, string> {
  return {
    1: `
      CREATE TABLE ${S}.access_log (
        seq            bigint PRIMARY KEY,
        at             text   NOT NULL,
        actor_id       text,
        actor_name     text,
        actor_roles    text,
        operation_name text,
        operation_type text,
        fields         text   NOT NULL,
        target_ids     text   NOT NULL,
        outcome        text   NOT NULL CHECK (outcome IN ('ALLOWED', 'DENIED', 'FAILED')),
        error_code     text,
        correlation_id text,
        prev_hash      text   NOT NULL,
        hash           text   NOT NULL,
        note           text
      );
      CREATE INDEX access_log_by_actor ON ${S}.access_log (actor_id, seq);
      CREATE INDEX access_log_by_time ON ${S}.access_log (at);
      CREATE TABLE ${S}.access_log_heads (
        seq         bigint PRIMARY KEY,
        hash        text NOT NULL,
        kid         text NOT NULL,
        signature   text NOT NULL,
        signed_at   text NOT NULL,
        instance_id text NOT NULL
      );
      CREATE TABLE ${S}.access_log_meta (key text PRIMARY KEY, value text NOT NULL);
      CREATE FUNCTION ${S}.access_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the access log is append-only (% on % refused)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER access_log_no_update_delete BEFORE UPDATE OR DELETE ON ${S}.access_log
        FOR EACH ROW EXECUTE FUNCTION ${S}.access_log_refuse_change();
      CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON ${S}.access_log
        FOR EACH STATEMENT EXECUTE FUNCTION ${S}.access_log_refuse_change();
      CREATE TRIGGER access_log_heads_no_update_delete BEFORE UPDATE OR DELETE ON ${S}.access_log_heads
        FOR EACH ROW EXECUTE FUNCTION ${S}.access_log_refuse_change();
      CREATE TRIGGER access_log_heads_no_truncate BEFORE TRUNCATE ON ${S}.access_log_heads
        FOR EACH STATEMENT EXECUTE FUNCTION ${S}.access_log_refuse_change();
      CREATE TRIGGER access_log_meta_no_update_delete BEFORE UPDATE OR DELETE ON ${S}.access_log_meta
        FOR EACH ROW EXECUTE FUNCTION ${S}.access_log_refuse_change();
      CREATE TRIGGER access_log_meta_no_truncate BEFORE TRUNCATE ON ${S}.access_log_meta
        FOR EACH STATEMENT EXECUTE FUNCTION ${S}.access_log_refuse_change();
    `,
    // The last event each request committed (AccessRecord.committed), looked up by position:
    // positions are ordered as strings byte by byte, whatever the database's collation.
    2: `
      ALTER TABLE ${S}.access_log ADD COLUMN committed_position text COLLATE "C", ADD COLUMN committed_event_id text;
      CREATE INDEX access_log_by_commit ON ${S}.access_log (committed_position) WHERE committed_position IS NOT NULL;
    `,
  };
}

/** This instance's anchor of the shared log: DATA_DIR/access-log.postgres-anchor.json. */
export function postgresAccessLogAnchorPath(dataDir: string): string {
  return join(dataDir, ACCESS_LOG_POSTGRES_ANCHOR_FILE);
}

type Queryable = pg.Pool | pg.PoolClient | pg.Client;

interface Head {
  seq: number;
  hash: string;
}

function quoted(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TypeError(`access log: schema must match [a-z_][a-z0-9_]*, got ${JSON.stringify(schema)}`);
  return `"${schema}"`;
}

async function tablesExist(db: Queryable, S: string): Promise<boolean> {
  const r = await db.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${S}.access_log`]);
  return Boolean(r.rows[0]?.t);
}

/** What the cross-check asks of the shared log, on any connection (the server's and the CLI's): access-log-lookups.ts. */
export function postgresAccessLogLookup(db: Queryable, schema = 'risk_ledger'): CorrelationLookup {
  return postgresLookupIn(db, quoted(schema));
}

/** Whether the shared access log exists (a CLI that must not create it asks first). */
export function postgresAccessLogExists(db: Queryable, schema = 'risk_ledger'): Promise<boolean> {
  return tablesExist(db, quoted(schema));
}

/** Creates or migrates the tables, under a transaction-level advisory lock (instances starting together). */
async function migrate(client: pg.PoolClient | pg.Client, schema: string): Promise<void> {
  const S = quoted(schema);
  await client.query(BEGIN_WRITE);
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(`access-log-migrate/${schema}`)]);
    await ensureSchema(client, schema, S);
    await ensureRelation(client, `${S}.access_log_schema`, `CREATE TABLE IF NOT EXISTS ${S}.access_log_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    let version = (await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${S}.access_log_schema`)).rows[0]?.v ?? 0;
    if (version > SCHEMA_VERSION) {
      throw new AccessLogSchemaError(`the access log in schema ${schema} has version ${version}; this build knows up to ${SCHEMA_VERSION}: a newer build migrated it (start that build, or restore the copy taken before the upgrade: README, Upgrading)`);
    }
    // An instance of the build before, still running, would go on writing entries this schema's
    // checks cannot place, and report the log as edited: the upgrade waits for every one to stop.
    if (version > 0 && version < SCHEMA_VERSION && (await anInstanceRuns(client, schema))) {
      throw new AccessLogSchemaError(
        `the access log in schema ${schema} is at version ${version} and this build migrates it to ${SCHEMA_VERSION}, but an instance is running on this database: stop every instance of the earlier build, then start this one (README, Upgrading)`,
      );
    }
    const steps = migrations(S);
    while (version < SCHEMA_VERSION) {
      version++;
      await client.query(steps[version]!);
      await client.query(`INSERT INTO ${S}.access_log_schema (version) VALUES ($1)`, [version]);
    }
    await client.query(`INSERT INTO ${S}.access_log_meta (key, value) VALUES ('log_id', $1), ('created_at', $2) ON CONFLICT (key) DO NOTHING`, [randomUUID(), new Date().toISOString()]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

const toRow = (r: AccessLogRow): AccessLogRow => ({ ...r, seq: Number(r.seq) });

async function readHead(db: Queryable, S: string): Promise<Head> {
  const r = await db.query<Head>(`SELECT seq, hash FROM ${S}.access_log ORDER BY seq DESC LIMIT 1`);
  const row = r.rows[0];
  return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: ACCESS_LOG_GENESIS };
}

async function logIdOf(db: Queryable, S: string): Promise<string | null> {
  if (!(await tablesExist(db, S))) return null;
  return (await db.query<{ value: string }>(`SELECT value FROM ${S}.access_log_meta WHERE key = 'log_id'`)).rows[0]?.value ?? null;
}

export interface PostgresAccessLogVerifyOptions {
  /** Default `risk_ledger`. */
  schema?: string;
  trusted?: TrustedKeys | null;
  /** An instance's anchor file; a missing one is not a finding (an instance may not have written yet). */
  anchorPath?: string | null;
}

/**
 * Walks the whole shared log in one REPEATABLE READ snapshot (so that batches committed meanwhile
 * by other instances cannot look like a truncation): every row, every signed head, the anchor.
 */
export async function verifyPostgresAccessLog(client: pg.PoolClient | pg.Client, options: PostgresAccessLogVerifyOptions = {}): Promise<AccessLogVerification> {
  const schema = options.schema ?? 'risk_ledger';
  const S = quoted(schema);
  const anchor = options.anchorPath ? readAnchor(options.anchorPath) : null;
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const heads = new Map<number, HeadRow>();
    const exists = await tablesExist(client, S);
    if (exists) {
      for (const h of (await client.query<HeadRow>(`SELECT seq, hash, kid, signature FROM ${S}.access_log_heads ORDER BY seq`)).rows) heads.set(Number(h.seq), { ...h, seq: Number(h.seq) });
    }
    const walk = new AccessLogWalk(heads, options.trusted ?? null, anchor && anchor !== 'unreadable' ? anchor.seq : null);
    if (!exists) {
      if (anchor && anchor !== 'unreadable') return walk.report(false, 1, `the access log is missing from PostgreSQL schema ${schema}: it had reached entry ${anchor.seq} (hash ${anchor.hash}, signed ${anchor.signedAt})`);
    } else {
      // Pages of 1,000 rows (each parsed in one go when it arrives), hashed in slices of
      // ACCESS_LOG_SLICE_MS with a turn of the event loop between them, as on SQLite.
      let after = 0;
      let slice = performance.now();
      for (;;) {
        // Every column the table has: a schema an older build created, read by a newer CLI, lacks the newest (toEntry reads them as null).
        const page = (await client.query<AccessLogRow>(`SELECT * FROM ${S}.access_log WHERE seq > $1 ORDER BY seq LIMIT 1000`, [after])).rows;
        slice = performance.now();
        for (const raw of page) {
          const row = toRow(raw);
          const broken = walk.step(row);
          if (broken) return broken;
          after = row.seq;
          if (performance.now() - slice > ACCESS_LOG_SLICE_MS) {
            await setImmediate();
            slice = performance.now();
          }
        }
        if (page.length < 1000) break;
      }
    }
    const truncated = walk.headsBeyondEnd();
    if (truncated) return truncated;
    if (anchor === 'unreadable') return walk.report(false, null, `this instance's access log anchor ${options.anchorPath} is not readable: whether entries were removed from the end cannot be checked`);
    if (anchor) {
      const broken = walk.againstAnchor(anchor, await logIdOf(client, S), `(${options.anchorPath})`);
      if (broken) return broken;
    }
    return walk.finish();
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

export interface PostgresAccessLogOptions {
  connectionString: string;
  /** Default `risk_ledger` (the event store's). */
  schema?: string;
  /** This instance's anchor file (DATA_DIR/access-log.postgres-anchor.json); null: none. */
  anchorPath: string | null;
  signing?: SigningKeys | null;
  logger?: JsonLogger;
  flushDelayMs?: number;
  maxBatch?: number;
  /** Entries held unwritten at most (ACCESS_LOG_MAX_QUEUED, access-log-backlog.ts). */
  maxQueued?: number;
  /** ACCESS_LOG_RESET=1: go on over a missing, truncated or unsigned log, recording that as an entry. */
  reset?: boolean;
  /** Why there must have been an access log already (e.g. "the event log already holds events"), or null. */
  priorState?: () => Promise<string | null>;
  /** The event log verify() checks the log against (access-log-crosscheck.ts), in the same shared run; none: the log alone. */
  events?: EventStore | null;
  /** This instance's previous run stopped uncleanly, leaving this event log head: recorded before any request (access-log-system-entries.ts). */
  uncleanStop?: HeadAtStart | null;
}

export class PostgresAccessLog implements CheckableAccessLog {
  private readonly pool: pg.Pool;
  private readonly S: string;
  private readonly schema: string;
  private readonly appendLock: string;
  private readonly flushDelayMs: number;
  private readonly maxBatch: number;
  /** Names this process in access_log_heads. */
  readonly instanceId = randomUUID();
  private logId = '';
  private queue: AccessRecord[] = [];
  /** The entries of the batch being written. */
  private writingCount = 0;
  readonly backlog: AccessLogBacklog;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  /** The verification under way, which concurrent verify() calls share. */
  private readonly verification = new SharedVerification(() => this.options.logger);
  /** The cross-check's queries on the entries written, as the CLI asks them (the queue is added to them below). */
  private readonly written: CorrelationLookup;
  /** The head this instance last wrote or saw: the log must still hold it. */
  private known: Head = { seq: 0, hash: ACCESS_LOG_GENESIS };

  /**
   * Connects, creates the tables if needed and checks the shared log against this instance's
   * anchor; refuses (AccessLogRefusedError) to go on over a log that went missing, lost its newest
   * entries or ends in unsigned entries, unless `reset`: each finding is then recorded, signed.
   */
  static async open(options: PostgresAccessLogOptions): Promise<PostgresAccessLog> {
    const log = new PostgresAccessLog(options);
    try {
      await log.start();
    } catch (error) {
      await log.pool.end().catch(() => undefined);
      throw error;
    }
    return log;
  }

  private constructor(private readonly options: PostgresAccessLogOptions) {
    this.schema = options.schema ?? 'risk_ledger';
    this.S = quoted(this.schema);
    this.appendLock = advisoryKey(`access-log/${this.schema}`);
    this.flushDelayMs = options.flushDelayMs ?? 25;
    this.maxBatch = options.maxBatch ?? 500;
    this.backlog = new AccessLogBacklog({ queued: () => this.queue.length + this.writingCount, retrying: () => false }, options.maxQueued);
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: 3, ...CONNECTION_LIMITS });
    this.written = postgresLookupIn(this.pool, this.S);
    this.pool.on('error', (error) => options.logger?.warn('access log: idle connection error', { error: error.message }));
  }

  private async start(): Promise<void> {
    const { anchorPath, signing } = this.options;
    const anchor = anchorPath ? readAnchor(anchorPath) : null;
    const findings: Discontinuity[] = [];
    await withPooledClient(this.pool, async (client) => {
      const existed = await tablesExist(client, this.S);
      if (!existed) {
        if (anchor && anchor !== 'unreadable') {
          findings.push({ kind: 'ACCESS_LOG_MISSING', fromSeq: 1, note: `there is no access log in PostgreSQL schema ${this.schema}, but this instance's anchor ${anchorPath} records one that had reached entry ${anchor.seq}: it was deleted` });
        } else {
          const prior = await this.options.priorState?.();
          if (prior) findings.push({ kind: 'ACCESS_LOG_MISSING', fromSeq: 1, note: `there is no access log in PostgreSQL schema ${this.schema}, but ${prior}: an access log that existed may have been deleted` });
        }
        if (findings.length && !this.options.reset) throw new AccessLogRefusedError(findings);
      }
      await migrate(client, this.schema);
      this.logId = (await logIdOf(client, this.S))!;
      let lastSigned: (HeadRow & { seq: number }) | null = null;
      // One snapshot, so that a batch another instance commits meanwhile cannot look like a truncation.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        this.known = await readHead(client, this.S);
        const h = (await client.query<HeadRow>(`SELECT seq, hash, kid, signature FROM ${this.S}.access_log_heads ORDER BY seq DESC LIMIT 1`)).rows[0];
        lastSigned = h ? { ...h, seq: Number(h.seq) } : null;
        if (existed) findings.push(...(await this.startupFindings(client, anchor, lastSigned)));
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
      }
      if (findings.length && !this.options.reset) throw new AccessLogRefusedError(findings);
      if (findings.length) {
        this.options.logger?.error('access log discontinuity acknowledged with ACCESS_LOG_RESET=1: recorded in the access log, verifyAccessLog reports it', { findings });
        await this.write(findings.map((f) => discontinuityRecord(f, new Date().toISOString())));
      } else if (anchorPath && signing && (anchor === null || anchor === 'unreadable')) {
        // No anchor yet (a new instance): anchor the last signed head it sees, or the genesis.
        if (lastSigned && lastSigned.seq <= this.known.seq) this.anchor(lastSigned, { position: String(lastSigned.seq), chainHash: lastSigned.hash, kid: lastSigned.kid, signature: lastSigned.signature });
        else if (this.known.seq === 0) this.anchor(this.known, signing.signer.sign('access-log', '0', ACCESS_LOG_GENESIS));
      }
    });
    if (this.options.uncleanStop) await this.write([systemEntryRecord({ kind: 'uncleanStop', head: this.options.uncleanStop }, new Date().toISOString())]);
  }

  private async startupFindings(client: pg.PoolClient, anchor: AccessLogAnchor | 'unreadable' | null, lastSigned: Head | null): Promise<Discontinuity[]> {
    const out: Discontinuity[] = [];
    const head = this.known;
    const hashAt = async (seq: number) => (await client.query<{ hash: string }>(`SELECT hash FROM ${this.S}.access_log WHERE seq = $1`, [seq])).rows[0]?.hash;
    if (anchor === 'unreadable') {
      out.push({ kind: 'ACCESS_LOG_ANCHOR_MISSING', fromSeq: head.seq + 1, note: `this instance's access log anchor ${this.options.anchorPath} is not readable: whether entries after ${head.seq} were removed cannot be checked` });
    } else if (anchor && anchor.logId !== this.logId) {
      out.push({ kind: 'ACCESS_LOG_MISSING', fromSeq: 1, note: `the access log in PostgreSQL schema ${this.schema} is not the one this instance's anchor records (log ${anchor.logId}, which had reached entry ${anchor.seq}): it was replaced` });
    } else if (anchor && anchor.seq > head.seq) {
      out.push({ kind: 'ACCESS_LOG_TRUNCATED', fromSeq: head.seq + 1, note: `access log entries ${head.seq + 1} to ${anchor.seq} were deleted from the end: this instance's anchor records a signed head at entry ${anchor.seq} (hash ${anchor.hash})` });
    } else if (anchor && anchor.seq > 0 && (await hashAt(anchor.seq)) !== anchor.hash) {
      out.push({ kind: 'ACCESS_LOG_REWRITTEN', fromSeq: anchor.seq, note: `access log entry ${anchor.seq} is not the one this instance's anchor records: the log was rewritten up to it` });
    }
    const truncated = out.some((f) => f.kind === 'ACCESS_LOG_TRUNCATED');
    if (lastSigned && lastSigned.seq > head.seq && !truncated) {
      out.push({ kind: 'ACCESS_LOG_TRUNCATED', fromSeq: head.seq + 1, note: `access log entries ${head.seq + 1} to ${lastSigned.seq} were deleted from the end: entry ${lastSigned.seq} had been signed` });
    }
    const signedUpTo = lastSigned?.seq ?? 0;
    if (this.options.signing && head.seq > signedUpTo && !out.some((f) => f.kind === 'ACCESS_LOG_TRUNCATED')) {
      out.push({ kind: 'ACCESS_LOG_UNSIGNED', fromSeq: signedUpTo + 1, note: `access log entries ${signedUpTo + 1} to ${head.seq} carry no signature: written by someone without the signing key` });
    }
    return out;
  }

  private anchor(head: Head, signature: HeadSignature): void {
    if (!this.options.anchorPath) return;
    try {
      writeAnchor(this.options.anchorPath, { version: 1, logId: this.logId, seq: head.seq, hash: head.hash, kid: signature.kid, signature: signature.signature, signedAt: new Date().toISOString() });
    } catch (error) {
      this.options.logger?.error('access log: could not write its anchor', { path: this.options.anchorPath, error: (error as Error).message });
    }
  }

  /** One batch in one transaction, under the append lock: seq, links and the signed head. */
  private async write(records: AccessRecord[]): Promise<void> {
    const result = await withPooledClient(this.pool, async (client): Promise<{ head: Head; signature: HeadSignature | null }> => {
      await client.query(BEGIN_WRITE);
      try {
        await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [this.appendLock]);
        const last = await readHead(client, this.S);
        const known = this.known;
        // Other instances' batches are expected; losing what this instance wrote or saw is not.
        if (last.seq < known.seq) {
          const note = `access log entries ${last.seq + 1} to ${known.seq} were deleted from the end while the server ran (instance ${this.instanceId} had seen entry ${known.seq})`;
          records = [discontinuityRecord({ kind: 'ACCESS_LOG_TRUNCATED', fromSeq: last.seq + 1, note }, new Date().toISOString()), ...records];
        } else if (known.seq > 0) {
          const at = (await client.query<{ hash: string }>(`SELECT hash FROM ${this.S}.access_log WHERE seq = $1`, [known.seq])).rows[0]?.hash;
          if (at !== known.hash) {
            const note = `access log entry ${known.seq} is not the one instance ${this.instanceId} had seen: the log was rewritten up to it while the server ran`;
            records = [discontinuityRecord({ kind: 'ACCESS_LOG_REWRITTEN', fromSeq: known.seq, note }, new Date().toISOString()), ...records];
          }
        }
        let seq = last.seq;
        let prev = last.hash;
        const params: unknown[] = [];
        const values: string[] = [];
        for (const r of records) {
          seq++;
          const hash = accessEntryHash(seq, r, prev);
          const base = params.length;
          values.push(`(${Array.from({ length: PER_ROW }, (_, i) => `$${base + i + 1}`).join(', ')})`);
          params.push(seq, r.at, r.actorId, r.actorName, r.actorRoles === null ? null : JSON.stringify(r.actorRoles), r.operationName, r.operationType);
          params.push(JSON.stringify(r.fields), JSON.stringify(r.targetIds), r.outcome, r.errorCode, r.correlationId, prev, hash, r.note ?? null, r.committed?.position ?? null, r.committed?.eventId ?? null);
          prev = hash;
        }
        await client.query(`INSERT INTO ${this.S}.access_log (${COLUMNS}) VALUES ${values.join(', ')}`, params);
        const signature = this.options.signing ? this.options.signing.signer.sign('access-log', String(seq), prev) : null;
        if (signature) {
          await client.query(`INSERT INTO ${this.S}.access_log_heads (seq, hash, kid, signature, signed_at, instance_id) VALUES ($1, $2, $3, $4, $5, $6)`, [
            seq,
            prev,
            signature.kid,
            signature.signature,
            new Date().toISOString(),
            this.instanceId,
          ]);
        }
        await client.query('COMMIT');
        return { head: { seq, hash: prev }, signature };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
    this.known = result.head;
    if (result.signature) this.anchor(result.head, result.signature);
  }

  record(entry: AccessRecord): void {
    if (this.closed) {
      this.options.logger?.warn('access log closed: entry not recorded', { operationName: entry.operationName, outcome: entry.outcome });
      return;
    }
    if (!this.backlog.admits(entry)) return;
    this.queue.push(entry);
    this.flushSoon(this.queue.length >= this.maxBatch ? 0 : this.flushDelayMs);
  }

  private flushSoon(delay: number): void {
    if (this.timer && delay > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delay);
  }

  /** Writes every queued entry (one batch at a time per instance). Never rejects: a failed batch is queued again. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.writing = this.writing.then(async () => {
      const batch = this.backlog.batch(this.queue.splice(0, this.maxBatch));
      if (batch.length === 0) return;
      this.writingCount = batch.length;
      try {
        await this.write(batch);
        this.backlog.written();
      } catch (error) {
        this.queue = batch.concat(this.queue);
        this.backlog.writeFailed(error);
        this.options.logger?.error(WRITE_FAILED, { error: (error as Error).message, queued: this.queue.length });
        if (!this.closed) this.flushSoon(1000);
        return;
      } finally {
        this.writingCount = 0;
      }
      if (this.queue.length) this.flushSoon(0);
    });
    return this.writing;
  }

  async page(filter: AccessLogFilter): Promise<AccessLogEntry[]> {
    // The entries queued before the read are written first, but not for longer than
    // PAGE_WAITS_FOR_QUEUE_MS: behind a busy queue (each batch takes the instances' lock) an
    // auditor's page waited 30-122 s under load (probe p12); after that it reads what is committed.
    await this.flushedOrAfter(PAGE_WAITS_FOR_QUEUE_MS);
    const params: unknown[] = [filter.afterSeq ?? 0];
    const where: string[] = ['seq > $1'];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(`${sql} $${params.length}`);
    };
    if (filter.actorId) add('actor_id =', filter.actorId);
    if (filter.outcome) add('outcome =', filter.outcome);
    if (filter.from) add('at >=', filter.from);
    if (filter.to) add('at <', filter.to);
    params.push(filter.limit);
    const rows = await this.pool.query<AccessLogRow>(`SELECT ${COLUMNS} FROM ${this.S}.access_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${params.length}`, params);
    return rows.rows.map((r) => toEntry(toRow(r)));
  }

  private async flushedOrAfter(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    try {
      await Promise.race([this.flush(), bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  async firstEntryAt(): Promise<string | null> {
    return (await this.written.firstEntryAt()) ?? this.queue[0]?.at ?? null;
  }

  async correlationsLogged(ids: readonly string[]): Promise<Set<string>> {
    await this.ensureCorrelationIndex();
    const found = await this.written.correlationsLogged(ids);
    for (const r of this.queue) if (r.correlationId) found.add(r.correlationId);
    return found;
  }

  systemEntriesLogged(): Promise<SystemEntry[]> {
    return this.written.systemEntriesLogged();
  }

  commitsLogged(after: string | null, upTo: string | null, limit: number): Promise<LoggedCommit[]> {
    return this.written.commitsLogged(after, upTo, limit);
  }

  /** The index the cross-check looks requests up by (logs created before it have none). */
  private correlationIndex?: Promise<unknown>;
  private ensureCorrelationIndex(): Promise<unknown> {
    this.correlationIndex ??= withPooledClient(this.pool, (client) => ensureRelation(client, `${this.S}.access_log_by_correlation`, `CREATE INDEX IF NOT EXISTS access_log_by_correlation ON ${this.S}.access_log (correlation_id)`)).catch((error: Error) => {
      this.correlationIndex = undefined;
      this.options.logger?.warn('access log: could not create the correlation index (the cross-check reads without it)', { error: error.message });
    });
    return this.correlationIndex;
  }

  /** Calls made while a verification runs share it (one snapshot, one walk; one cross-check against the event log), as on SQLite. */
  verify(): Promise<AccessLogVerification> {
    return this.verification.run(async () => {
      await this.flush();
      const walked = await withPooledClient(this.pool, (client) => verifyPostgresAccessLog(client, { schema: this.schema, trusted: this.options.signing?.trusted ?? null, anchorPath: this.options.anchorPath }));
      return this.options.events ? verifyAccessLogAgainstEvents(walked, this.options.events, this) : walked;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.pool.end();
  }
}
