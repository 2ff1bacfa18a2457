import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLogStore, type AccessRecord } from '../../../src/audit/application/access-log.js';
import { inFlight } from '../../../src/audit/application/access-log-crosscheck.js';
import { ExpectedVersion } from '../../../src/event-store/event-store.port.js';
import { SqliteEventStore } from '../../../src/event-store/sqlite/sqlite-event-store.js';
import { loadSigningKeys, type SigningKeys } from '../../../src/event-store/signing.js';
import { headAtStart } from '../../../src/platform/unclean-stop.js';

const entry = (correlationId: string): AccessRecord => ({
  at: new Date().toISOString(), actorId: 'alice', actorName: 'Alice', actorRoles: ['ASSET_MANAGER'], operationName: 'R', operationType: 'mutation',
  fields: ['registerAsset'], targetIds: [], outcome: 'ALLOWED', errorCode: null, correlationId,
});

/** The UncleanStopRecovered entry against the event log (the SIGKILL itself: test/e2e/access-log-unclean-stop*.e2e.spec.ts). */
describe('an unclean-stop entry in the cross-check', () => {
  let dir: string;
  let events: SqliteEventStore;
  let keys: SigningKeys;
  const saved = inFlight.ms;
  const path = () => join(dir, 'access-log.sqlite');

  async function change(correlationId: string): Promise<void> {
    await events.append(`asset-${randomUUID()}`, [{ eventId: randomUUID(), type: 'AssetRegistered', schemaVersion: 1, data: {}, metadata: { actor: { id: 'alice', name: 'Alice', roles: [] }, occurredAt: new Date().toISOString(), correlationId, causationId: correlationId } }], { expectedVersion: ExpectedVersion.noStream });
  }

  beforeEach(async () => {
    inFlight.ms = 0;
    dir = mkdtempSync(join(tmpdir(), 'access-log-unclean-'));
    events = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
    await events.init();
    keys = loadSigningKeys(join(dir, 'signing-key.pem'));
    const log = await AccessLogStore.open(path(), { signing: keys });
    log.record(entry('logged'));
    log.flush();
    await change('logged');
    // Committed, their entries lost with the process.
    await change('lost-1');
    await change('lost-2');
    log.close();
  });

  afterEach(async () => {
    inFlight.ms = saved;
    await events.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without a marker the lost requests are a finding, with the corrected wording', async () => {
    const log = await AccessLogStore.open(path(), { signing: keys, events });
    try {
      const v = await log.verify();
      expect(v.ok).toBe(false);
      expect(v.reason).toMatch(/^2 requests whose changes are in the event log have no access log entry \(committed, then the entry lost with the process before or after the answer was sent/);
      expect(v.acknowledged ?? null).toBeNull();
    } finally {
      log.close();
    }
  });

  it('a signed marker naming the head acknowledges them; a change after it is still reported', async () => {
    const head = (await headAtStart(events))!;
    expect(head.position).toBe(await events.headPosition());
    const log = await AccessLogStore.open(path(), { signing: keys, events, uncleanStop: head });
    try {
      const v = await log.verify();
      expect(v).toMatchObject({ ok: true, reason: null, acknowledged: { requests: 2, uncleanStops: [{ seq: 2, upTo: head.position }] } });
      await change('after-the-marker');
      const after = await log.verify();
      expect(after.ok).toBe(false);
      expect(after.reason).toMatch(/^1 request whose changes .*request after-the-marker$/);
      expect(after.acknowledged?.requests).toBe(2);
    } finally {
      log.close();
    }
  });

  it('a marker that does not describe this event log acknowledges nothing and is reported', async () => {
    const head = (await headAtStart(events))!;
    const wrong = { position: head.position, recordedAt: new Date(Date.parse(head.recordedAt) + 1000).toISOString() };
    const log = await AccessLogStore.open(path(), { signing: keys, events, uncleanStop: wrong });
    try {
      const v = await log.verify();
      expect(v.ok).toBe(false);
      expect(v.reason).toMatch(new RegExp(`^access log entry 2 records an unclean stop at event log position ${head.position} .* it does not describe this event log; and 2 requests whose changes`));
      expect(v.acknowledged ?? null).toBeNull();
    } finally {
      log.close();
    }
  });
});
