/**
 * The PostgreSQL server restarted or stopped under load (`pg_ctl restart -m fast`, `pg_ctl stop
 * -m fast`), through the real adapters: the event store's writers (group commit), its
 * subscriptions and LISTEN session, the shared access log, and the advisory-lock session of the
 * reactions' coordination, all busy when every session is terminated (57P01) and the sockets close.
 *
 * An outside probe saw three server instances exit with `Unhandled 'error' event` here: pg-pool
 * takes its error listener off a client while it is checked out, and an 'error' event without a
 * listener kills the process. Nothing may be unhandled; each part works again once the server is
 * back.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { advisoryKey, PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { standaloneClient } from '../../src/event-store/postgres/held-client.js';
import { CommitOutcomeUnknownError } from '../../src/event-store/errors.js';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { PostgresAccessLog } from '../../src/audit/application/access-log-postgres.js';
import type { AccessRecord } from '../../src/audit/application/access-log-chain.js';
import { PostgresCoordination } from '../../src/platform/postgres-coordination.js';
import { JsonLogger } from '../../src/shared/logging/json-logger.js';
import { isTransientStorageError } from '../../src/shared/application/transient-errors.js';
import { newEvent } from './event-store.contract.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';

let server: PostgresServer;
let databaseUrl = '';
const unhandled: unknown[] = [];
const onUncaught = (error: unknown) => void unhandled.push(error);

beforeAll(async () => {
  server = await startPostgres();
  databaseUrl = await server.createDatabase('rl_outage');
  process.on('uncaughtException', onUncaught);
}, 120_000);

afterAll(async () => {
  process.removeListener('uncaughtException', onUncaught);
  await server?.stop();
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silent = new JsonLogger('outage-test', 'error');

function record(i: number): AccessRecord {
  return { at: new Date().toISOString(), actorId: 'probe', actorName: 'Probe', actorRoles: ['ADMIN'], operationName: `op${i}`, operationType: 'query', fields: ['me'], targetIds: [], outcome: 'ALLOWED', errorCode: null, correlationId: null };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe.each(['restart', 'stop and start'] as const)('PostgreSQL %s under load', (how) => {
  it('leaves no error unhandled, and every adapter works again once the server is back', async () => {
    const schema = `o_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const store = new PostgresEventStore({ connectionString: databaseUrl, schema, poolSize: 8, pollIntervalMs: 50 });
    await store.init();
    const accessLog = await PostgresAccessLog.open({ connectionString: databaseUrl, schema, anchorPath: null, flushDelayMs: 1 });
    const coordination = new PostgresCoordination(databaseUrl, schema, silent);
    expect(await coordination.tryLead()).toBe(true);
    let leadLost = 0;
    coordination.onLost(() => leadLost++);
    const subscriptionErrors: unknown[] = [];
    const sub = store.subscribeToAll({ from: null, onEvent: () => undefined, onError: (e) => void subscriptionErrors.push(e) });

    let writing = true;
    try {
      let committed = 0;
      const failures: unknown[] = [];
      // 16 writers, each on its own stream, appending as fast as the store takes them.
      const writers = Array.from({ length: 16 }, async (_, w) => {
        const streamId = `w${w}-${randomUUID()}`;
        while (writing) {
          try {
            await store.append(streamId, [newEvent('Written', { w })], { expectedVersion: ExpectedVersion.any });
            committed++;
          } catch (error) {
            failures.push(error);
            await sleep(20);
          }
        }
      });
      const logging = (async () => {
        for (let i = 0; writing; i++) {
          accessLog.record(record(i));
          await coordination.save('outage-test', String(i)).catch(() => undefined);
          await sleep(2);
        }
      })();

      await until('the writers to commit', async () => committed > 50);
      if (how === 'restart') {
        server.restart();
      } else {
        server.halt();
        await sleep(500);
        server.resume();
      }
      const before = committed;
      await until('the writers to commit again after the outage', async () => committed > before + 50);
      writing = false;
      await Promise.all([...writers, logging]);

      expect(unhandled).toEqual([]);
      // The outage got over. Every error it caused, to the writers and to the subscription, is one
      // the followers retry (a commit answers it as retryable): 57P01, ECONNREFUSED, "Connection
      // terminated unexpectedly"… Whether a writer was caught mid-statement depends on timing (pg_ctl
      // runs synchronously here, the event loop waits for it): the lost lead below shows that every
      // session was terminated.
      const describe = (e: unknown) => `${(e as { code?: string }).code ?? ''} ${(e as Error).message}`;
      expect([...failures, ...subscriptionErrors].filter((e) => !isTransientStorageError(e)).map(describe)).toEqual([]);
      const probe = `after-${randomUUID()}`;
      await store.append(probe, [newEvent('After')], { expectedVersion: ExpectedVersion.noStream });
      expect((await store.readStream(probe)).map((e) => e.type)).toEqual(['After']);
      accessLog.record({ ...record(0), operationName: 'after' });
      await until('the access log to be written again', async () => {
        await accessLog.flush();
        return (await accessLog.page({ limit: 100_000, afterSeq: 0 })).some((e) => e.operationName === 'after');
      });
      // The advisory-lock session died with the server: the lead was lost, and can be taken again.
      expect(leadLost).toBe(1);
      await until('the lead to be taken again', () => coordination.tryLead());
    } finally {
      // Closed whatever happened: a store left open would reconnect later, in another test file's environment.
      writing = false;
      await sub.close().catch(() => undefined);
      await coordination.close().catch(() => undefined);
      await accessLog.close().catch(() => undefined);
      await store.close().catch(() => undefined);
    }
    expect(unhandled).toEqual([]);
  }, 90_000);
});

describe('a connection lost while COMMIT is answered', () => {
  it('is reported as CommitOutcomeUnknownError (maybe written), while one lost before COMMIT is not', async () => {
    const schema = `c_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const store = new PostgresEventStore({ connectionString: databaseUrl, schema, poolSize: 2 });
    await store.init();
    const admin = new pg.Client({ connectionString: databaseUrl });
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      // A deferred constraint trigger runs at COMMIT: it holds the commit for a while, and the
      // session is terminated meanwhile (as pg_ctl stop -m fast does to every session).
      await admin.query(`CREATE FUNCTION "${schema}".slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2); RETURN NULL; END $$`);
      await admin.query(`CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON "${schema}".events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${schema}".slow_commit()`);
      const terminateSoon = (ms: number) =>
        sleep(ms).then(() => admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query = 'COMMIT'`));
      const appended = store.append(`s-${randomUUID()}`, [newEvent('Held')], { expectedVersion: ExpectedVersion.any });
      const [outcome] = await Promise.all([appended.then(() => null, (e: unknown) => e), terminateSoon(500)]);
      expect(outcome).toBeInstanceOf(CommitOutcomeUnknownError);
      expect(isTransientStorageError(outcome)).toBe(true);

      // Before COMMIT (the server refuses the connection): not ambiguous.
      await admin.query(`DROP TRIGGER slow_commit ON "${schema}".events`);
      server.halt();
      try {
        const refused = await store.append(`s-${randomUUID()}`, [newEvent('Refused')], { expectedVersion: ExpectedVersion.any }).then(() => null, (e: unknown) => e);
        expect(refused).not.toBeInstanceOf(CommitOutcomeUnknownError);
        expect(isTransientStorageError(refused)).toBe(true);
      } finally {
        server.resume();
      }
    } finally {
      await admin.end().catch(() => undefined);
      await store.close();
    }
  }, 60_000);
});

describe('a query canceled by the database (statement_timeout, pg_cancel_backend: SQLSTATE 57014)', () => {
  it('is transient and nothing was written: followers retry, a command answers STORE_UNAVAILABLE, not an internal error', async () => {
    const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const setup = new PostgresEventStore({ connectionString: databaseUrl, schema, poolSize: 1 });
    await setup.init();
    await setup.close();
    const admin = new pg.Client({ connectionString: databaseUrl });
    admin.on('error', () => undefined);
    await admin.connect();
    // Every write of this schema takes 2 s; the store's sessions give a statement 300 ms.
    await admin.query(`CREATE FUNCTION "${schema}".slow_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2); RETURN NEW; END $$`);
    await admin.query(`CREATE TRIGGER slow_write BEFORE INSERT ON "${schema}".events FOR EACH ROW EXECUTE FUNCTION "${schema}".slow_write()`);
    const url = new URL(databaseUrl);
    url.searchParams.set('options', '-c statement_timeout=300');
    const store = new PostgresEventStore({ connectionString: url.toString(), schema, poolSize: 1 });
    await store.init();
    try {
      const failed = await store.append(`s-${randomUUID()}`, [newEvent('Slow')], { expectedVersion: ExpectedVersion.any }).then(() => null, (e: unknown) => e);
      expect((failed as { code?: string }).code).toBe('57014');
      expect(failed).not.toBeInstanceOf(CommitOutcomeUnknownError);
      expect(isTransientStorageError(failed)).toBe(true);
      expect(await store.readAll()).toEqual([]);
    } finally {
      await store.close();
      await admin.end().catch(() => undefined);
    }
  }, 60_000);

  it('a client that stopped waiting ("Query read timeout", CONNECTION_LIMITS) is transient too', () => {
    expect(isTransientStorageError(new Error('Query read timeout'))).toBe(true);
  });
});

/**
 * An instance that stalls (SIGSTOP, a hung VM) with its connections still open: the PostgreSQL
 * probe saw it hold the append lock and the reactions' lead for as long as it stayed stalled.
 * Here this process's event loop is blocked, which stalls every client it holds the same way.
 */
describe('an instance stalled with its connections open', () => {
  const stall = (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; );
  };

  it('loses the lead once its lease runs out, and another instance takes it', async () => {
    const schema = `stall_lead_${randomUUID().slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const stalled = new PostgresCoordination(databaseUrl, schema, silent, 'reactions', { ms: 1_000, heartbeatMs: 100 });
    const other = new PostgresCoordination(databaseUrl, schema, silent, 'reactions', { ms: 1_000, heartbeatMs: 100 });
    try {
      expect(await stalled.tryLead()).toBe(true);
      let lost = 0;
      stalled.onLost(() => lost++);
      await sleep(500);
      // Heartbeats keep a live leader's lead past its lease.
      expect(await other.tryLead()).toBe(false);
      expect(await stalled.confirmLead()).toBe(true);
      stall(2_500);
      // Woken, it has not heard yet that its session ended: asked before acting outside the log
      // (a webhook), the database tells it (webhook probe of 2026-12-06, F1).
      expect(await stalled.confirmLead()).toBe(false);
      await until('the other instance to take the lead', () => other.tryLead(), 10_000);
      await until('the stalled one to hear it lost the lead', async () => lost === 1, 10_000);
    } finally {
      await stalled.close();
      await other.close();
    }
  }, 60_000);

  it("sends one statement at a time on the leader's session: checkpoints and heartbeats are not piled up on it (pg@9 drops that; probe 10-c L5)", async () => {
    const schema = `lead_turns_${randomUUID().slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const coordination = new PostgresCoordination(databaseUrl, schema, silent, 'reactions', { ms: 5_000, heartbeatMs: 5 });
    try {
      expect(await coordination.tryLead()).toBe(true);
      // How many statements the session has been sent and not yet answered, at most.
      const session = (coordination as unknown as { leader: pg.Client }).leader;
      const query = session.query.bind(session) as (...args: unknown[]) => Promise<unknown>;
      let inFlight = 0;
      let most = 0;
      (session as unknown as { query: typeof query }).query = (...args: unknown[]) => {
        most = Math.max(most, ++inFlight);
        return query(...args).finally(() => inFlight--);
      };
      // 16 checkpoints saved at once while the heartbeat beats every 5 ms.
      await Promise.all(Array.from({ length: 16 }, (_, i) => coordination.save(`reaction-${i}`, String(i))));
      await sleep(100);
      expect(await coordination.loadMany(Array.from({ length: 16 }, (_, i) => `reaction-${i}`))).toEqual(new Map(Array.from({ length: 16 }, (_, i) => [`reaction-${i}`, String(i)])));
      expect(most).toBe(1);
    } finally {
      await coordination.close();
    }
  }, 60_000);

  it('mid-commit: its transaction is ended after 10 s idle, and the other instances append again', async () => {
    const schema = `stall_commit_${randomUUID().slice(0, 8)}`;
    const store = new PostgresEventStore({ connectionString: databaseUrl, schema, poolSize: 2 });
    await store.init();
    // A stalled instance's session: in a transaction, holding the append lock, saying nothing more.
    const stalled = standaloneClient(databaseUrl);
    try {
      await stalled.connect();
      await stalled.query(`BEGIN; SELECT pg_advisory_xact_lock(${advisoryKey(`append/${schema}`)})`);
      const started = Date.now();
      await store.append('after-the-stall', [newEvent('Written', {})], { expectedVersion: ExpectedVersion.noStream });
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThan(5_000);
      expect(waited).toBeLessThan(25_000);
      // The stalled session's commit, when it wakes, fails: its transaction was rolled back.
      await expect(stalled.query('COMMIT')).rejects.toThrow();
    } finally {
      await stalled.end().catch(() => undefined);
      await store.close();
    }
  }, 60_000);
});

