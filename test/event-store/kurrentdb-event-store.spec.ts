/**
 * The contract suite against a real KurrentDB, when KURRENTDB_CONNECTION_STRING is set (e.g.
 * `kurrentdb://127.0.0.1:2113?tls=false`, from `docker compose -f docker/compose.yml --profile
 * kurrentdb up kurrentdb`). Each store gets its own namespace (stream prefix), so every test
 * starts from an empty log on a shared server.
 *
 * Without the variable, the suite is reported as skipped, with the reason in its title. With the
 * variable set, an unreachable or broken server FAILS (the health check below and every contract
 * test): a configured server is never silently skipped.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { KurrentDbEventStore } from '../../src/event-store/kurrentdb/kurrentdb-event-store.js';
import type { EventStore } from '../../src/event-store/event-store.port.js';
import { runEventStoreContract } from './event-store.contract.js';

const connectionString = process.env.KURRENTDB_CONNECTION_STRING?.trim() || '';

if (!connectionString) {
  console.info('KurrentDB contract suite skipped: KURRENTDB_CONNECTION_STRING is not set (no KurrentDB server here)');
  describe.skip('EventStore contract: kurrentdb — SKIPPED: KURRENTDB_CONNECTION_STRING is not set (no KurrentDB server here)', () => {
    it('runs the contract suite against a real KurrentDB', () => {});
  });
} else {
  describe('KurrentDB server', () => {
    it(`answers at ${connectionString.replace(/\/\/([^:@/]+):([^@/]*)@/, '//$1:***@')}`, async () => {
      const store = new KurrentDbEventStore({ connectionString, namespace: `probe-${randomUUID()}-`, deadlineMs: 5000 });
      try {
        await store.init();
        const health = await store.health();
        expect(health).toMatchObject({ ok: true, adapter: 'kurrentdb' });
      } finally {
        await store.close();
      }
    }, 15_000);
  });

  runEventStoreContract(
    'kurrentdb',
    async () => {
      const namespace = `t-${randomUUID()}-`;
      const opened: EventStore[] = [];
      const open = (): KurrentDbEventStore => {
        const s = new KurrentDbEventStore({ connectionString, namespace, pollIntervalMs: 50 });
        opened.push(s);
        return s;
      };
      return {
        store: open(),
        reopen: async () => open(),
        cleanup: async () => {
          for (const s of opened) await s.close();
        },
      };
    },
    { globalChainHash: false, gaplessPositions: false, snapshots: false, pageBytes: false },
  );
}
