/**
 * Settings a DBA gives the database (PostgreSQL probe of 2026-12-06): a stricter default isolation
 * (M2) and a write freeze lifted again (H2, L4), against a real server. Each case has a database
 * of its own: ALTER DATABASE ... SET applies to every new session on it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { PostgresAccessLog } from '../../src/audit/application/access-log-postgres.js';
import { accessRecord } from '../support/access-record.js';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { PostgresBlobStore } from '../../src/evidence/infrastructure/postgres-blob-store.js';
import { PostgresCoordination } from '../../src/platform/postgres-coordination.js';
import { JsonLogger } from '../../src/shared/logging/json-logger.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTransientStorageError } from '../../src/shared/application/transient-errors.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';
import { newEvent } from './event-store.contract.js';

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

async function asAdmin(databaseUrl: string, ...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const text of statements) await client.query(text);
  } finally {
    await client.end();
  }
}

const record = accessRecord;

describe('PostgreSQL as a DBA configures it', () => {
  it.each(['repeatable read', 'serializable'])(
    "default_transaction_isolation = '%s': two instances writing the access log at once lose no batch (a third failed: duplicate key, could not serialize)",
    async (isolation) => {
      const databaseUrl = await server.createDatabase('rl_isolation');
      const database = new URL(databaseUrl).pathname.slice(1);
      await asAdmin(server.adminUrl, `ALTER DATABASE "${database}" SET default_transaction_isolation = '${isolation}'`);
      const logs = await Promise.all([0, 1].map(() => PostgresAccessLog.open({ connectionString: databaseUrl, anchorPath: null, flushDelayMs: 1 })));
      try {
        // 16 writers, each flushing its own batches: the two logs' transactions really overlap.
        const outcomes = await Promise.allSettled(
          Array.from({ length: 16 }, async (_, w) => {
            for (let i = 0; i < 10; i++) {
              logs[w % 2]!.record(record(`w${w}-${i}`));
              await logs[w % 2]!.flush();
            }
          }),
        );
        expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
        expect(await logs[0]!.verify()).toMatchObject({ ok: true, reason: null, entriesChecked: 160 });
      } finally {
        for (const log of logs) await log.close();
      }
    },
    60_000,
  );

  it('a write freeze (default_transaction_read_only) lifted again: appends are STORE_UNAVAILABLE while it lasts and succeed at once after (they stayed refused until a restart)', async () => {
    const databaseUrl = await server.createDatabase('rl_freeze');
    const database = new URL(databaseUrl).pathname.slice(1);
    const store = new PostgresEventStore({ connectionString: databaseUrl, poolSize: 2, pollIntervalMs: 50 });
    try {
      await store.append('before', [newEvent('Tested')], { expectedVersion: ExpectedVersion.noStream });
      // The DBA freezes writes and ends the sessions, which reconnect read-only.
      await asAdmin(server.adminUrl, `ALTER DATABASE "${database}" SET default_transaction_read_only = on`, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database}' AND pid <> pg_backend_pid()`);
      for (let i = 0; i < 4; i++) {
        const refused = await store.append(`during-${i}`, [newEvent('Tested')], { expectedVersion: ExpectedVersion.noStream }).then(
          () => null,
          (error: unknown) => error,
        );
        // A connection the termination killed fails first; then the read-only session's refusal.
        expect(refused).not.toBeNull();
        expect(isTransientStorageError(refused)).toBe(true);
      }
      await asAdmin(server.adminUrl, `ALTER DATABASE "${database}" RESET default_transaction_read_only`);
      const after = await store.append('after', [newEvent('Tested')], { expectedVersion: ExpectedVersion.noStream });
      expect(after.events).toHaveLength(1);
    } finally {
      await store.close();
    }
  }, 60_000);

  /** Every part that keeps tables in PostgreSQL, opened as `role` on `databaseUrl`, each writing once. */
  async function serveAs(databaseUrl: string, role: string): Promise<void> {
    const url = new URL(databaseUrl);
    url.username = role;
    const asRole = url.toString();
    const store = new PostgresEventStore({ connectionString: asRole, poolSize: 2 });
    const log = await PostgresAccessLog.open({ connectionString: asRole, anchorPath: null, flushDelayMs: 1 });
    const uploads = mkdtempSync(join(tmpdir(), 'risk-ledger-pg-uploads-'));
    const blobs = new PostgresBlobStore(asRole, uploads);
    const coordination = new PostgresCoordination(asRole, 'risk_ledger', new JsonLogger('test', 'error'));
    try {
      await store.append(`s-${randomUUID()}`, [newEvent('Tested')], { expectedVersion: ExpectedVersion.noStream });
      log.record(record(`as-${role}`));
      await log.flush();
      await blobs.init();
      const file = join(tmpdir(), `blob-${randomUUID()}`);
      writeFileSync(file, role);
      await blobs.put(createHash('sha256').update(role).digest('hex'), file, role.length);
      await coordination.load('reactions'); // as the process manager starts: its checkpoint read first
      await coordination.save('reactions', '1');
      expect(await coordination.load('reactions')).toEqual({ position: '1' });
    } finally {
      await coordination.close();
      await blobs.close();
      await log.close();
      await store.close();
      rmSync(uploads, { recursive: true, force: true });
    }
  }

  it('a role given only the schema, with no CREATE on the database, starts and writes (it needed CREATE on the database)', async () => {
    const databaseUrl = await server.createDatabase('rl_schema_owner');
    const role = `so_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    await asAdmin(databaseUrl, `CREATE ROLE ${role} LOGIN`, 'REVOKE ALL ON SCHEMA public FROM PUBLIC', `REVOKE CREATE ON DATABASE "${new URL(databaseUrl).pathname.slice(1)}" FROM PUBLIC`, `CREATE SCHEMA risk_ledger AUTHORIZATION ${role}`);
    await serveAs(databaseUrl, role);
  }, 60_000);

  it('a role with rights on the tables only, once the owner has created them, starts and writes (it needed CREATE on the database and the schema)', async () => {
    const databaseUrl = await server.createDatabase('rl_runtime_role');
    const role = `rt_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    await serveAs(databaseUrl, 'postgres');
    await asAdmin(
      databaseUrl,
      `CREATE ROLE ${role} LOGIN`,
      `REVOKE CREATE ON DATABASE "${new URL(databaseUrl).pathname.slice(1)}" FROM PUBLIC`,
      `GRANT USAGE ON SCHEMA risk_ledger TO ${role}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA risk_ledger TO ${role}`,
    );
    await serveAs(databaseUrl, role);
  }, 60_000);

  it('append-only triggers dropped or disabled by the tables\' owner are named in the store\'s health (it said ok, and nothing was logged)', async () => {
    const databaseUrl = await server.createDatabase('rl_fence');
    const store = new PostgresEventStore({ connectionString: databaseUrl, poolSize: 2 });
    try {
      await store.init();
      expect(await store.health()).toMatchObject({ ok: true });
      expect((await store.health()).warnings).toBeUndefined();
      await asAdmin(databaseUrl, 'ALTER TABLE risk_ledger.events DISABLE TRIGGER events_no_truncate', 'DROP TRIGGER idempotency_no_update_delete ON risk_ledger.idempotency');
      const health = await store.health();
      expect(health.ok).toBe(true);
      expect(health.warnings).toEqual([expect.stringMatching(/^the append-only triggers events_no_truncate, idempotency_no_update_delete of schema risk_ledger are missing or disabled/)]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
