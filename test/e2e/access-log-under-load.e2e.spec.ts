import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLogStore } from '../../src/audit/application/access-log.js';
import { loadSigningKeys } from '../../src/event-store/signing.js';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { expectNoStall, pollHealthUntil, postQuery } from './support/health-polls.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';

const SECRET = 'access-log-under-load-secret-0123456789abcdef';
const ENTRIES = 40_000;

/**
 * An access log of 40,000 refused requests (what a client without a token writes in well under
 * two minutes), in signed batches of 12 as a flood makes them, written before the server starts
 * with the key it will use (DATA_DIR/signing-key.pem).
 */
async function seed(dir: string): Promise<void> {
  // The installation's (empty) log beside it, as any server that wrote an access log left one: an
  // access log without its log is refused at start as a lost log (refuseMissingLog).
  const events = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
  await events.init();
  await events.close();
  const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
  const log = await AccessLogStore.open(join(dir, 'access-log.sqlite'), { signing, flushDelayMs: 60_000, maxBatch: 1_000_000 });
  for (let i = 1; i <= ENTRIES; i++) {
    log.record({
      at: new Date().toISOString(), actorId: null, actorName: null, actorRoles: null, operationName: null, operationType: 'query',
      fields: ['me'], targetIds: [], outcome: 'DENIED', errorCode: 'UNAUTHENTICATED', correlationId: `flood-${i}`,
    });
    if (i % 12 === 0) log.flush();
  }
  log.close();
}

/**
 * Heavy work never blocks other requests: verifyAccessLog over 40,000 entries held the event loop
 * for the whole walk (about 0.8 s: every poll of /health meanwhile waited for it). It now walks in
 * pages with turns of the loop between them; the bound is the one of health-under-load.e2e.spec.ts.
 */
describe('GET /health while verifyAccessLog walks a long access log', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-access-load-'));
    await seed(dir);
    server = await startServer({ SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, NODE_ENV: 'test' });
  }, 180_000);
  afterAll(async () => {
    if (server) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every poll within 100 ms, shares concurrent verifications, and still verifies every entry', async () => {
    const base = server!.url.replace(/\/graphql$/, '');
    await new Promise((r) => setTimeout(r, 500));
    const auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
    const post = (query: string) => postQuery(server!.url, auditor, query);
    let done = false;
    // Two auditors at once: they share one walk.
    const verifications = Promise.all([post('{ verifyAccessLog { ok eventsChecked reason } }'), post('{ verifyAccessLog { ok eventsChecked reason } }')]).finally(() => (done = true));
    // Polled many times, and no poll waited for the walk.
    expectNoStall(await pollHealthUntil(base, () => done), 5);
    const [first, second] = await verifications;
    expect(first.errors).toBeUndefined();
    // Every seeded entry, and the few this test's own requests added before the walk began.
    expect(first.data.verifyAccessLog).toMatchObject({ ok: true, reason: null });
    expect(first.data.verifyAccessLog.eventsChecked).toBeGreaterThanOrEqual(ENTRIES);
    expect(second.data.verifyAccessLog).toEqual(first.data.verifyAccessLog);
    // This test's own requests were written by the server's writer thread (access-log-writer-thread.ts), not a fallback.
    expect(server!.output()).toMatch(/"thread":"worker","msg":"access log: open"/);
    expect(server!.output()).not.toMatch(/writer thread failed/);
  }, 180_000);
});
