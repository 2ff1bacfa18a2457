/**
 * A position names a moment readers could see: inside an append (a command's events and its
 * follow-ups, committed at once) it is moved to the append's last event, as an instant is. Without
 * it, `plan(atPosition)` at an event of the commit that made an item STALE showed the plan still
 * IN_FORCE over it (compliance probe, 2026-12-04). On the real SQLite store and the in-memory one.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ExpectedVersion, type EventStore, type NewEvent } from '../../../src/event-store/event-store.port.js';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { SqliteEventStore } from '../../../src/event-store/sqlite/sqlite-event-store.js';
import { encodePosition } from '../../../src/event-store/hash-chain.js';
import { settlePoint } from '../../../src/shared/application/point-in-time.js';
import { BadInputError } from '../../../src/shared/domain/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'settle-point-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const actor = { id: 'u', name: 'U', roles: ['CISO'] };
/** One command's metadata: one time and one cause for all it appends. */
const command = (correlationId: string, causationId: string) => ({ actor, occurredAt: new Date().toISOString(), correlationId, causationId });
const events = (count: number, metadata: ReturnType<typeof command>): NewEvent[] =>
  Array.from({ length: count }, (_, i) => ({ eventId: randomUUID(), type: 'Noted', schemaVersion: 1, data: { i }, metadata }));

const stores: Array<[string, () => Promise<EventStore>]> = [
  ['SQLite file', async () => {
    const store = new SqliteEventStore({ path: join(dir, `${randomUUID()}.sqlite`) });
    await store.init();
    return store;
  }],
  ['in memory', async () => new InMemoryEventStore()],
];

describe.each(stores)('settlePoint on the %s store', (_name, open) => {
  it('moves a position inside an append to its last event, and leaves one at an append boundary', async () => {
    const store = await open();
    const at = (n: number) => encodePosition(n);
    const settled = async (n: number) => (await settlePoint(store, { atPosition: at(n) })).atPosition;
    // 1-3: one joint append over two streams (a command and its follow-up).
    const c1 = command('c1', 'c1');
    await store.appendMultiple([
      { streamId: 'risk-a', events: events(2, c1), expectedVersion: ExpectedVersion.noStream },
      { streamId: 'plan-p', events: events(1, c1), expectedVersion: ExpectedVersion.noStream },
    ]);
    // 4: another command; 5-6: a reaction to it (same correlation and maybe the same millisecond,
    // its own causation); 7-8: a third command.
    const c2 = command('c2', 'c2');
    await store.append('risk-b', events(1, c2), { expectedVersion: ExpectedVersion.noStream });
    await store.append('risk-b', events(2, { ...c2, causationId: 'event-4' }), { expectedVersion: ExpectedVersion.exact(0) });
    await store.append('risk-c', events(2, command('c3', 'c3')), { expectedVersion: ExpectedVersion.noStream });
    const all = await store.readAll();
    expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map(at));

    expect([await settled(1), await settled(2), await settled(3)]).toEqual([at(3), at(3), at(3)]);
    expect(await settled(4)).toBe(at(4));
    expect([await settled(5), await settled(6)]).toEqual([at(6), at(6)]);
    expect([await settled(7), await settled(8)]).toEqual([at(8), at(8)]);
    // The start of an empty prefix and an instant are left as they are; past the head is refused.
    expect(await settlePoint(store, { atPosition: at(0) })).toEqual({ atPosition: at(0) });
    const asOf = new Date(Date.parse(all[0]!.recordedAt));
    expect(await settlePoint(store, { asOf })).toEqual({ asOf });
    await expect(settlePoint(store, { atPosition: at(9) })).rejects.toBeInstanceOf(BadInputError);
  });

  it('keeps apart appends that share a group commit (one instant) and follows an append longer than a page', async () => {
    const store = await open();
    // Sixteen appends in flight at once: on SQLite they share transactions and recordedAt.
    await Promise.all(Array.from({ length: 16 }, (_, k) => store.append(`s-${k}`, events(3, command(`k${k}`, `k${k}`)), { expectedVersion: ExpectedVersion.noStream })));
    const all = await store.readAll();
    for (const e of all) {
      const ownLast = all.filter((o) => o.streamId === e.streamId).at(-1)!;
      expect((await settlePoint(store, { atPosition: e.position })).atPosition).toBe(ownLast.position);
    }
    const head = all.at(-1)!.position;
    await store.append('long', events(600, command('big', 'big')), { expectedVersion: ExpectedVersion.noStream });
    const long = (await store.readAll({ after: head, maxCount: 1000 })).map((e) => e.position);
    expect(long).toHaveLength(600);
    expect((await settlePoint(store, { atPosition: long[0] })).atPosition).toBe(long[599]);
    expect((await settlePoint(store, { atPosition: long[300] })).atPosition).toBe(long[599]);
  });

  it('follows an append of large events past pages that end early by their size', async () => {
    const store = await open();
    const big = command('big-events', 'big-events');
    // Eight events of 300 KB: a page of the log ends after a few of them (appendEnd reads pages of 1 MiB).
    await store.append('large', Array.from({ length: 8 }, (_, i) => ({ eventId: randomUUID(), type: 'Noted', schemaVersion: 1, data: { i, text: 'x'.repeat(300_000) }, metadata: big })), { expectedVersion: ExpectedVersion.noStream });
    await store.append('after', events(1, command('next', 'next')), { expectedVersion: ExpectedVersion.noStream });
    const all = (await store.readAll({ maxCount: 100 })).map((e) => e.position);
    expect(all).toHaveLength(9);
    expect((await settlePoint(store, { atPosition: all[0] })).atPosition).toBe(all[7]);
    expect((await settlePoint(store, { atPosition: all[8] })).atPosition).toBe(all[8]);
  });
});
