/**
 * The shared access log on PostgreSQL while its batches cannot be written (a stand-in for a full
 * disk: a trigger that makes every insert fail): the same backlog as on SQLite
 * (access-log-backlog.ts; test/unit/audit/access-log-backlog.spec.ts): commands refused, the
 * queue bounded, the entries past the cap counted, and the count written once it can be
 * (operations probe 10-c M4).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { PostgresAccessLog } from '../../src/audit/application/access-log-postgres.js';
import { DROPPED_OPERATION } from '../../src/audit/application/access-log-backlog.js';
import type { AccessRecord } from '../../src/audit/application/access-log-chain.js';
import { StoreUnavailableError } from '../../src/shared/domain/errors.js';
import { eventually } from '../support/eventually.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';

let server: PostgresServer;
let databaseUrl = '';

beforeAll(async () => {
  server = await startPostgres();
  databaseUrl = await server.createDatabase('rl_access_backlog');
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

const record = (i: number, operationType: AccessRecord['operationType'] = 'query'): AccessRecord => ({
  at: new Date().toISOString(), actorId: 'alice', actorName: 'Alice', actorRoles: ['AUDITOR'], operationName: `op${i}`, operationType,
  fields: ['assets'], targetIds: [], outcome: 'ALLOWED', errorCode: null, correlationId: null,
});

it('refuses commands while its batches fail, bounds its queue, and writes the count of what it did not keep', async () => {
  const schema = `p_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const log = await PostgresAccessLog.open({ connectionString: databaseUrl, schema, anchorPath: null, flushDelayMs: 1, maxQueued: 3 });
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    log.record(record(1));
    expect((await log.page({ afterSeq: 0, limit: 10 })).map((e) => e.operationName)).toEqual(['op1']);
    expect(() => log.backlog.assertWritable()).not.toThrow();

    await admin.query(`CREATE FUNCTION ${schema}.full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$`);
    await admin.query(`CREATE TRIGGER full_disk BEFORE INSERT ON ${schema}.access_log FOR EACH ROW EXECUTE FUNCTION ${schema}.full_disk()`);
    log.record(record(2));
    await eventually('the failed batch to be noticed', () => log.backlog.failing);
    expect(() => log.backlog.assertWritable()).toThrow(StoreUnavailableError);
    expect(log.backlog.health()).toMatchObject({ ok: false, queued: 1, writesFailing: { lastError: expect.stringMatching(/No space left/) } });
    log.record(record(3));
    log.record(record(4));
    expect(() => log.backlog.assertAdmits()).toThrow(StoreUnavailableError);
    log.record(record(5)); // counted, not queued
    log.record(record(6, 'mutation')); // an allowed mutation's: kept
    expect(log.backlog.health()).toMatchObject({ queued: 4, dropped: 1 });

    await admin.query(`DROP TRIGGER full_disk ON ${schema}.access_log`);
    await eventually('the retried batch to be written', () => !log.backlog.failing && log.backlog.health().queued === 0);
    const written = await log.page({ afterSeq: 0, limit: 20 });
    expect(written.map((e) => e.operationName)).toEqual(['op1', 'op2', 'op3', 'op4', 'op6', DROPPED_OPERATION]);
    expect(written[5]).toMatchObject({ operationType: 'system', targetIds: ['1', expect.any(String), expect.any(String)] });
    expect(log.backlog.health()).toMatchObject({ ok: true, queued: 0, dropped: 1 });
  } finally {
    await admin.end();
    await log.close();
  }
}, 60_000);
