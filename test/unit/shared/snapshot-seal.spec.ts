/**
 * Stored stream snapshots are sealed (insider probe p14 H1): a `snapshots` row edited in the
 * database (the state changed, a seal copied from another stream or revision, or no seal) is not
 * used, for the newest state (commands) nor for a past moment (asOf, atPosition): the reader folds
 * the log instead and answers what the log says.
 */
import { describe, expect, it } from '@jest/globals';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { ExpectedVersion, type StreamSnapshot } from '../../../src/event-store/event-store.port.js';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { AggregateReader } from '../../../src/shared/application/aggregate-reader.js';
import { EventUpcasters } from '../../../src/shared/application/event-upcasting.js';
import type { Decider } from '../../../src/shared/domain/decider.js';

type Owned = { type: 'Owned'; data: { owner: string } };
const ownership: Decider<never, Owned, { owner: string | null; seen: number }> = {
  initialState: { owner: null, seen: 0 },
  decide: () => [],
  evolve: (s, e) => ({ owner: e.data.owner, seen: s.seen + 1 }),
  stateVersion: 'ownership/1',
};
// Each append its own command (its own correlation): a position inside one append reads as its end (settlePoint).
const owned = (owner: string) => [{ eventId: randomUUID(), type: 'Owned', schemaVersion: 1, data: { owner }, metadata: { actor: { id: 'a', name: 'a', roles: ['CISO' as const] }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: `c-${owner}`, causationId: `c-${owner}` } }];

async function setUp(stream = 's-1') {
  const store = new InMemoryEventStore();
  for (let i = 0; i < 40; i++) await store.append(stream, owned(`owner-${i}`), { expectedVersion: ExpectedVersion.exact(i - 1) });
  const secret = randomBytes(32);
  const reader = () => new AggregateReader(store, new EventUpcasters([]), { snapshotEvery: 5, snapshotSecret: secret });
  // A cold reader folds 40 events (more than 5) and stores a sealed snapshot at revision 39.
  expect((await reader().state(stream, ownership)).owner).toBe('owner-39');
  // Stored under a version of its own, which builds from before seals never ask for.
  expect(await store.readSnapshot(stream, 'ownership/1')).toBeNull();
  const snapshot = (await store.readSnapshot(stream, 'ownership/1+sealed'))!;
  expect(snapshot).toMatchObject({ revision: 39, state: { sealed: 'v2', state: { owner: 'owner-39', seen: 40 } } });
  expect(snapshot.stateJson).toMatch(/^\{"sealed":"v2","mac":"[0-9a-f]{64}","state":\{"owner":"owner-39","seen":40\}\}$/);
  return { store, reader, snapshot, secret };
}

// Written back as an object (stringified by the adapter), not as the text read.
const forged = (s: StreamSnapshot, state: unknown): StreamSnapshot => ({ ...s, stateJson: undefined, state });

describe('sealed stream snapshots', () => {
  it('a sealed snapshot is used: a cold reader folds only the events after it', async () => {
    const { store, secret } = await setUp();
    await store.append('s-1', owned('owner-40'), { expectedVersion: ExpectedVersion.exact(39) });
    const reads: unknown[] = [];
    const spy = new Proxy(store, { get: (t, p) => (p === 'readStream' ? (id: string, o: unknown) => (reads.push(o), t.readStream(id, o as never)) : (t as any)[p]?.bind?.(t) ?? (t as any)[p]) });
    const loaded = await new AggregateReader(spy as never, new EventUpcasters([]), { snapshotEvery: 5, snapshotSecret: secret }).load('s-1', ownership);
    expect(loaded.state).toEqual({ owner: 'owner-40', seen: 41 });
    expect(reads).toContainEqual({ fromRevision: 39 });
  });

  it.each([
    ['the state edited, the seal kept', (s: StreamSnapshot) => forged(s, { ...(s.state as object), state: { owner: 'mallory', seen: 40 } })],
    ['no seal (a bare state, as before seals)', () => ({ owner: 'mallory', seen: 40 })],
    ['a seal of another key', (s: StreamSnapshot) => ({ ...s, stateJson: s.stateJson!.replace(/"mac":"[0-9a-f]{64}"/, `"mac":"${'ab'.repeat(32)}"`) })],
    // The same values, written again as an object: the seal is over the text as written, and
    // only the exact layout the reader writes is opened.
    ['the text rewritten to the same values with another key order', (s: StreamSnapshot) => forged(s, { state: (s.state as { state: unknown }).state, mac: (s.state as { mac: string }).mac, sealed: 'v2' })],
    ['the state text edited to the same meaning (a space)', (s: StreamSnapshot) => ({ ...s, stateJson: s.stateJson!.replace('"seen":40', '"seen": 40') })],
    ['a second state key after the sealed one', (s: StreamSnapshot) => ({ ...s, stateJson: s.stateJson!.replace(/\}$/, ',"state":{"owner":"mallory","seen":40}}') })],
  ])('%s: not used, for the newest state nor at a past moment', async (_name, edit) => {
    const { store, reader, snapshot } = await setUp();
    const edited = (edit as (s: StreamSnapshot) => unknown)(snapshot);
    await store.writeSnapshot(edited !== null && typeof edited === 'object' && 'streamId' in edited ? (edited as StreamSnapshot) : forged(snapshot, edited));
    expect(await reader().state('s-1', ownership)).toEqual({ owner: 'owner-39', seen: 40 });
    const head = (await store.headPosition())!;
    expect(await reader().stateAt('s-1', ownership, { atPosition: head })).toEqual({ owner: 'owner-39', seen: 40 });
    expect(await reader().stateAt('s-1', ownership, { asOf: new Date(Date.now() + 1000) })).toEqual({ owner: 'owner-39', seen: 40 });
  });

  it('snapshots under the bare state version (unsealed, from before seals, or of the first seal) are never asked for: a build before seals cannot take a sealed one for a state, and this one never folds past them', async () => {
    const { store, snapshot, secret } = await setUp();
    const state = { owner: 'owner-39', seen: 500 };
    const v1 = createHmac('sha256', secret).update(JSON.stringify(['risk-ledger/stream-snapshot/v1', 's-1', 'ownership/1', 39, snapshot.position, JSON.stringify(state)])).digest('hex');
    for (const stored of [state, { sealed: 'v1', mac: v1, state }]) {
      await store.writeSnapshot({ ...forged(snapshot, stored), stateVersion: 'ownership/1' });
      const reads: unknown[] = [];
      const spy = new Proxy(store, { get: (t, p) => (p === 'readStream' ? (id: string, o: unknown) => (reads.push(o), t.readStream(id, o as never)) : (t as any)[p]?.bind?.(t) ?? (t as any)[p]) });
      const reader = new AggregateReader(spy as never, new EventUpcasters([]), { snapshotEvery: 5, snapshotSecret: secret });
      // The sealed snapshot at 39 is what a cold reader starts from; the bare one is never read.
      expect(await reader.state('s-1', ownership)).toEqual({ owner: 'owner-39', seen: 40 });
      expect(reads).toContainEqual({ fromRevision: 39 });
    }
  });

  it('a sealed snapshot moved to another stream or revision is not used', async () => {
    const { store, reader, snapshot, secret } = await setUp();
    for (let i = 0; i < 40; i++) await store.append('s-2', owned(`other-${i}`), { expectedVersion: ExpectedVersion.exact(i - 1) });
    const other = (await store.readStream('s-2', { fromRevision: 39, toRevision: 39 }))[0]!;
    // The first stream's sealed state under the second stream's name and anchor event.
    await store.writeSnapshot({ ...snapshot, streamId: 's-2', position: other.position, recordedAt: other.recordedAt });
    expect((await reader().state('s-2', ownership)).owner).toBe('other-39');
    // The state at revision 39 stored as the one at revision 20.
    const at20 = (await store.readStream('s-1', { fromRevision: 20, toRevision: 20 }))[0]!;
    const store2 = new InMemoryEventStore();
    for (const e of await store.readStream('s-1')) await store2.append('s-1', owned(e.data.owner as string), { expectedVersion: ExpectedVersion.exact(e.revision - 1) });
    await store2.writeSnapshot({ ...snapshot, revision: 20, position: at20.position, recordedAt: at20.recordedAt });
    const r2 = new AggregateReader(store2, new EventUpcasters([]), { snapshotEvery: 5, snapshotSecret: secret });
    expect(await r2.stateAt('s-1', ownership, { atPosition: at20.position })).toEqual({ owner: 'owner-20', seen: 21 });
  });
});
