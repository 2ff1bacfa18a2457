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
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
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
    // The outage was seen (the sessions were terminated), and got over. Every error it caused,
    // to the writers and to the subscription, is one the followers retry (a commit answers it as
    // retryable): 57P01, ECONNREFUSED, "Connection terminated unexpectedly"…
    expect(failures.length).toBeGreaterThan(0);
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

    await sub.close();
    await coordination.close();
    await accessLog.close();
    await store.close();
    expect(unhandled).toEqual([]);
  }, 90_000);
});
