import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLogStore, type AccessRecord } from '../../../src/audit/application/access-log.js';
import { inFlight } from '../../../src/audit/application/access-log-crosscheck.js';
import { AccessLogVerificationResolver } from '../../../src/audit/graphql/access-log-verification.resolver.js';
import { ExpectedVersion, type EventStore, type ReadAllOptions } from '../../../src/event-store/event-store.port.js';
import { SqliteEventStore } from '../../../src/event-store/sqlite/sqlite-event-store.js';
import { loadSigningKeys } from '../../../src/event-store/signing.js';

const CHANGES = 2_500;

const entry = (correlationId: string): AccessRecord => ({
  at: new Date().toISOString(), actorId: 'alice', actorName: 'Alice', actorRoles: ['ASSET_MANAGER'], operationName: 'R', operationType: 'mutation',
  fields: ['registerAsset'], targetIds: [], outcome: 'ALLOWED', errorCode: null, correlationId,
});

/** The real store, its readAll counted (the cross-check's walk of the event log is its pages). */
function counted(store: EventStore): { store: EventStore; reads: () => number } {
  let reads = 0;
  const wrapper = new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'readAll') {
        return (options?: ReadAllOptions) => {
          reads++;
          return target.readAll(options);
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: wrapper, reads: () => reads };
}

/**
 * Concurrent verifyAccessLog calls shared the walk of the access log but each walked the whole
 * event log for the cross-check (p16: 2.9 s for one call at 100,000 events, 9.8 s each for 8 at
 * once). The cross-check now runs inside the same shared verification: calls made while it runs
 * get its verdict, and a call made after it is over (a change meanwhile) walks again.
 */
describe('verifyAccessLog: concurrent calls share the cross-check against the event log', () => {
  let dir: string;
  let events: SqliteEventStore;
  let log: AccessLogStore;
  let reads: () => number;
  let resolver: AccessLogVerificationResolver;
  const saved = inFlight.ms;

  async function change(correlationId: string): Promise<void> {
    await events.append(`asset-${randomUUID()}`, [{ eventId: randomUUID(), type: 'AssetRegistered', schemaVersion: 1, data: {}, metadata: { actor: { id: 'alice', name: 'Alice', roles: [] }, occurredAt: new Date().toISOString(), correlationId, causationId: correlationId } }], { expectedVersion: ExpectedVersion.noStream });
  }

  beforeEach(async () => {
    inFlight.ms = 0;
    dir = mkdtempSync(join(tmpdir(), 'access-log-crosscheck-'));
    events = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
    await events.init();
    const c = counted(events);
    reads = c.reads;
    log = await AccessLogStore.open(join(dir, 'access-log.sqlite'), { signing: loadSigningKeys(join(dir, 'signing-key.pem')), flushDelayMs: 60_000, maxBatch: 1_000_000, events: c.store });
    log.record(entry('first'));
    log.flush();
    // Appends issued together are committed in one batch.
    await Promise.all(Array.from({ length: CHANGES }, (_, i) => change(`req-${i}`)));
    for (let i = 0; i < CHANGES; i++) log.record(entry(`req-${i}`));
    log.flush();
    resolver = new AccessLogVerificationResolver(log);
  });

  afterEach(async () => {
    inFlight.ms = saved;
    log.close();
    await events.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('eight calls at once walk the event log once, with the verdict of one call', async () => {
    const alone = await resolver.verifyAccessLog();
    expect(alone).toMatchObject({ ok: true, reason: null });
    const oneWalk = reads();
    expect(oneWalk).toBeGreaterThan(2); // several pages and the empty one that ends the walk

    const before = reads();
    const answers = await Promise.all(Array.from({ length: 8 }, () => resolver.verifyAccessLog()));
    expect(reads() - before).toBe(oneWalk);
    // One verdict for all (the anchor, written in the background, may count one more signature than before).
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(answers[0]).toMatchObject({ ok: true, reason: null, eventsChecked: alone.eventsChecked, headPosition: alone.headPosition });
  });

  it('a call made after a change walks again and reports it; calls made together after it share that walk', async () => {
    const first = reads();
    expect((await resolver.verifyAccessLog()).ok).toBe(true);
    const oneWalk = reads() - first;
    // A change whose request has no entry (lost, or removed with an older copy of the log).
    await change('req-unlogged');
    const before = reads();
    const answers = await Promise.all(Array.from({ length: 4 }, () => resolver.verifyAccessLog()));
    for (const a of answers) {
      expect(a.ok).toBe(false);
      expect(a.reason).toMatch(/^1 request whose changes are in the event log has no access log entry .*request req-unlogged/);
    }
    expect(reads() - before).toBe(oneWalk); // 2,502 events: the same pages
  });
});
