import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion, type RecordedEvent } from '../../../src/event-store/event-store.port.js';
import { LogFormatError, readLog, verifyEvents, verifyStore } from '../../../src/audit/application/integrity-verifier.js';

const meta = { actor: { id: 'u', name: 'U', roles: ['CISO'] }, occurredAt: '2025-01-01T00:00:00.000Z', correlationId: 'c', causationId: 'c' };

async function sampleStore(events = 25): Promise<InMemoryEventStore> {
  const store = new InMemoryEventStore();
  for (let i = 0; i < events; i++) {
    const streamId = `s-${i % 4}`;
    await store.append(streamId, [{ eventId: randomUUID(), type: 'T', schemaVersion: 1, data: { i }, metadata: meta }], { expectedVersion: ExpectedVersion.exact(Math.floor(i / 4) - 1) });
  }
  return store;
}

async function all(store: InMemoryEventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of readLog(store, { pageSize: 7 })) out.push(e);
  return out;
}

describe('the integrity verifier core', () => {
  it('verifies any store page by page (page boundaries included)', async () => {
    const store = await sampleStore();
    for (const pageSize of [1, 4, 25, 1000]) {
      expect(await verifyStore(store, { pageSize })).toMatchObject({ ok: true, eventsChecked: 25, streams: 4, headPosition: '0000000000000000025' });
    }
    expect(await verifyStore(new InMemoryEventStore())).toEqual({ ok: true, eventsChecked: 0, firstBrokenPosition: null, reason: null, headPosition: null, headChainHash: null, streams: 0 });
  });

  it('falls back to the per-stream chains for a log without global links, unless the source is known to write them', async () => {
    const events = (await all(await sampleStore())).map((e) => ({ ...e, chainHash: undefined }));
    expect((await verifyEvents(events)).report).toMatchObject({ ok: true, headChainHash: null });
    const strict = (await verifyEvents(events, { requireChain: true })).report;
    expect(strict).toMatchObject({ ok: false, firstBrokenPosition: events[0]!.position });
    expect(strict.reason).toMatch(/chainHash missing/);
  });

  it('treats a missing link after present ones as a cut chain', async () => {
    const events = await all(await sampleStore());
    events[10] = { ...events[10]!, chainHash: undefined };
    const { report } = await verifyEvents(events);
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: events[10]!.position, eventsChecked: 11 });
    expect(report.reason).toMatch(/chainHash missing .*cut or stripped/);
  });

  it('requires strictly increasing positions', async () => {
    const events = await all(await sampleStore());
    const reordered = [...events.slice(0, 5), events[3]!, ...events.slice(5)];
    const { report } = await verifyEvents(reordered);
    expect(report.ok).toBe(false);
    expect(report.reason).toMatch(/must strictly increase/);
  });

  it('turns a malformed source into a broken report and stops there', async () => {
    const events = await all(await sampleStore());
    async function* source() {
      yield events[0]!;
      throw new LogFormatError('line 2 of the export is not valid JSON');
    }
    expect((await verifyEvents(source())).report).toMatchObject({ ok: false, eventsChecked: 1, reason: 'line 2 of the export is not valid JSON' });
  });
});
