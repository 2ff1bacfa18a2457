/**
 * The shared access log on PostgreSQL names each request's last committed event (schema version
 * 2 of the access log), and verify() checks those events against the shared event log: an entry
 * whose event is not at its position (none, or another one) is reported (10-b M4). A log created
 * at version 1 is read by today's verification as it is (no committed columns), and migrated by
 * the next start.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { PostgresAccessLog, postgresAccessLogLookup, verifyPostgresAccessLog } from '../../src/audit/application/access-log-postgres.js';
import { AccessLogSchemaError } from '../../src/audit/application/access-log.js';
import { instanceLeadKey } from '../../src/event-store/postgres/running-instances.js';
import { accessRecord } from '../support/access-record.js';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';
import { newEvent } from './event-store.contract.js';

let server: PostgresServer;
let databaseUrl = '';

beforeAll(async () => {
  server = await startPostgres();
  databaseUrl = await server.createDatabase('rl_access_commits');
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

const record = accessRecord;

async function sql<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

describe('committed events in the shared access log', () => {
  it('are stored, looked up by position, and checked against the event log', async () => {
    const schema = `c_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const store = new PostgresEventStore({ connectionString: databaseUrl, schema, poolSize: 4, pollIntervalMs: 50 });
    await store.init();
    const log = await PostgresAccessLog.open({ connectionString: databaseUrl, schema, anchorPath: null, flushDelayMs: 1, events: store });
    try {
      const first = await store.append('s-1', [newEvent('Tested')], { expectedVersion: ExpectedVersion.noStream });
      const second = await store.append('s-2', [newEvent('Tested'), newEvent('Tested')], { expectedVersion: ExpectedVersion.noStream });
      const [e1, e3] = [first.events[0]!, second.events[1]!];
      log.record(record('req-1', { position: e1.position, eventId: e1.eventId }));
      log.record(record('req-2', { position: e3.position, eventId: e3.eventId }));
      log.record(record('req-3'));
      await log.flush();
      const pool = new pg.Pool({ connectionString: databaseUrl });
      const fromAnotherConnection = await postgresAccessLogLookup(pool, schema).commitsLogged(null, null, 10).finally(() => pool.end());
      expect(fromAnotherConnection).toEqual([
        { seq: 1, correlationId: 'req-1', position: e1.position, eventId: e1.eventId },
        { seq: 2, correlationId: 'req-2', position: e3.position, eventId: e3.eventId },
      ]);
      expect(await log.commitsLogged(e1.position, e3.position, 10)).toEqual([{ seq: 2, correlationId: 'req-2', position: e3.position, eventId: e3.eventId }]);
      expect(await log.verify()).toMatchObject({ ok: true, reason: null });

      // As a log cut back shows from the access log: an entry past the head, and one whose position holds another event.
      const beyond = (BigInt(e3.position) + 5n).toString().padStart(e3.position.length, '0');
      log.record(record('req-4', { position: beyond, eventId: 'gone-event' }));
      log.record(record('req-5', { position: e1.position, eventId: 'replaced-event' }));
      await log.flush();
      const v = await log.verify();
      expect(v.ok).toBe(false);
      expect(v.reason).toMatch(
        new RegExp(`2 access log entries name events that the event log does not hold .*the first, entry 5 \\(request req-5\\) names event replaced-event at position ${e1.position}, where the event log holds event ${e1.eventId}`),
      );
    } finally {
      await log.close();
      await store.close();
    }
  });

  it('a log of schema version 1 (no committed columns) verifies as it is, and is migrated by the next start', async () => {
    const schema = `v_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const first = await PostgresAccessLog.open({ connectionString: databaseUrl, schema, anchorPath: null, flushDelayMs: 1 });
    first.record(record('old-1'));
    first.record(record('old-2'));
    await first.close();
    // As a build before 2026-12-06 left it.
    await sql(`ALTER TABLE ${schema}.access_log DROP COLUMN committed_position, DROP COLUMN committed_event_id; DELETE FROM ${schema}.access_log_schema WHERE version = 2`);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      expect(await verifyPostgresAccessLog(client, { schema })).toMatchObject({ ok: true, entriesChecked: 2 });
      expect(await postgresAccessLogLookup(client, schema).commitsLogged(null, null, 10)).toEqual([]);
    } finally {
      await client.end();
    }
    const again = await PostgresAccessLog.open({ connectionString: databaseUrl, schema, anchorPath: null, flushDelayMs: 1 });
    try {
      again.record(record('new-1', { position: '0000000000000000001', eventId: 'e-1' }));
      await again.flush();
      expect((await sql<{ v: number }>(`SELECT max(version) AS v FROM ${schema}.access_log_schema`))[0]!.v).toBe(2);
      const rows = await sql<{ correlation_id: string; committed_position: string | null }>(`SELECT correlation_id, committed_position FROM ${schema}.access_log ORDER BY seq`);
      expect(rows).toEqual([
        { correlation_id: 'old-1', committed_position: null },
        { correlation_id: 'old-2', committed_position: null },
        { correlation_id: 'new-1', committed_position: '0000000000000000001' },
      ]);
      expect(await again.verify()).toMatchObject({ ok: true });
    } finally {
      await again.close();
    }
  });

  it('is not migrated while an instance runs on the database (one of the build before: upgrade probe of 2026-12-06, F3), nor opened past the version this build knows', async () => {
    const schema = `r_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const first = await PostgresAccessLog.open({ connectionString: databaseUrl, schema, anchorPath: null, flushDelayMs: 1 });
    first.record(record('old-1'));
    await first.close();
    await sql(`ALTER TABLE ${schema}.access_log DROP COLUMN committed_position, DROP COLUMN committed_event_id; DELETE FROM ${schema}.access_log_schema WHERE version = 2`);
    // A running instance leads the reactions: it holds their lock for as long as its session lives.
    const running = new pg.Client({ connectionString: databaseUrl });
    await running.connect();
    await running.query('SELECT pg_advisory_lock($1::bigint)', [instanceLeadKey(schema)]);
    try {
      const refused = await PostgresAccessLog.open({ connectionString: databaseUrl, schema, anchorPath: null, flushDelayMs: 1 }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(AccessLogSchemaError);
      expect((refused as Error).message).toContain('an instance is running on this database');
      expect((await sql<{ v: number }>(`SELECT max(version) AS v FROM ${schema}.access_log_schema`))[0]!.v).toBe(1);
      expect((await sql<{ n: string }>(`SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = '${schema}' AND column_name = 'committed_position'`))[0]!.n).toBe('0');
    } finally {
      await running.end();
    }
    // Every instance stopped: the next start migrates, and holds no lock of the instances' afterwards.
    const again = await PostgresAccessLog.open({ connectionString: databaseUrl, schema, anchorPath: null, flushDelayMs: 1 });
    await again.close();
    expect((await sql<{ v: number }>(`SELECT max(version) AS v FROM ${schema}.access_log_schema`))[0]!.v).toBe(2);
    expect(await sql(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted`)).toEqual([]);

    // A newer build's schema: refused as a start refusal, named so.
    await sql(`INSERT INTO ${schema}.access_log_schema (version) VALUES (3)`);
    const newer = await PostgresAccessLog.open({ connectionString: databaseUrl, schema, anchorPath: null, flushDelayMs: 1 }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(newer).toBeInstanceOf(AccessLogSchemaError);
    expect((newer as Error).message).toContain('has version 3; this build knows up to 2');
  });
});
