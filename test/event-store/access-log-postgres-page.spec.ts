/**
 * A page of the shared access log on PostgreSQL while this instance's queue cannot be written
 * (another instance holds the log's lock, or a loaded loop makes every batch slow): the page
 * waits a bounded time for the entries queued before it, then lists what is committed. It used
 * to wait behind the whole queue: 30-122 s under load (probe p12).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { PostgresAccessLog } from '../../src/audit/application/access-log-postgres.js';
import type { AccessRecord } from '../../src/audit/application/access-log-chain.js';
import { advisoryKey, PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';

let server: PostgresServer;
let databaseUrl = '';

beforeAll(async () => {
  server = await startPostgres();
  databaseUrl = await server.createDatabase('rl_access_page');
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

const record = (i: number): AccessRecord => ({
  at: new Date().toISOString(),
  actorId: 'auditor-probe',
  actorName: 'Probe',
  actorRoles: ['AUDITOR'],
  operationName: `op${i}`,
  operationType: 'query',
  fields: ['accessLog'],
  targetIds: [],
  outcome: 'ALLOWED',
  errorCode: null,
  correlationId: null,
});

it('lists what is committed when the queue cannot be written, and the rest once it is', async () => {
  const schema = `p_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const store = new PostgresEventStore({ connectionString: databaseUrl, schema, poolSize: 4, pollIntervalMs: 50 });
  await store.init();
  const log = await PostgresAccessLog.open({ connectionString: databaseUrl, schema, anchorPath: null, flushDelayMs: 1 });
  const holder = new pg.Client({ connectionString: databaseUrl });
  await holder.connect();
  try {
    log.record(record(1));
    log.record(record(2));
    expect((await log.page({ afterSeq: 0, limit: 10 })).map((e) => e.operationName)).toEqual(['op1', 'op2']);

    // Another instance's batch holds the log's lock: this instance's next batch waits for it.
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(`access-log/${schema}`)]);
    log.record(record(3));
    const stuck = Symbol('the page waited behind the queue');
    const page = await Promise.race([log.page({ afterSeq: 0, limit: 10 }), new Promise<typeof stuck>((resolve) => setTimeout(() => resolve(stuck), 20_000).unref())]);
    expect(page).not.toBe(stuck);
    expect((page as Awaited<ReturnType<PostgresAccessLog['page']>>).map((e) => e.operationName)).toEqual(['op1', 'op2']);

    await holder.query('ROLLBACK');
    await log.flush();
    expect((await log.page({ afterSeq: 0, limit: 10 })).map((e) => e.operationName)).toEqual(['op1', 'op2', 'op3']);
  } finally {
    await holder.end().catch(() => undefined);
    await log.close();
    await store.close();
  }
}, 90_000);
