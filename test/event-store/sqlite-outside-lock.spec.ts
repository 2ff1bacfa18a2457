/**
 * Another process holds the store file's write lock (an operator's `sqlite3` session with
 * BEGIN EXCLUSIVE, a backup tool): the store waits for it on timers, not on the event loop
 * (operations probe 10-c M2: /health/live answered in 4.7 s during a 10 s lock). The evidence is
 * the order things happen in, never a duration: a timer set after the append, or a read of the
 * store, completes while the append still waits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { ExpectedVersion, type AppendResult } from '../../src/event-store/event-store.port.js';
import { storeUnavailable } from '../../src/shared/application/store-unavailable.js';
import { StoreUnavailableError } from '../../src/shared/domain/errors.js';
import { newEvent } from './event-store.contract.js';
import { holdSqliteLock, type HeldSqliteLock } from '../support/sqlite-lock.js';

/** What settled first: pushes `name` when `promise` settles (with `!` when it rejected). */
function track<T>(order: string[], name: string, promise: Promise<T>): Promise<T> {
  promise.then(
    () => order.push(name),
    () => order.push(`${name}!`),
  );
  return promise;
}

const timer = (order: string[], name: string, ms = 1): Promise<void> => new Promise((resolve) => setTimeout(() => resolve(void order.push(name)), ms));

describe('SqliteEventStore under a lock held by another process', () => {
  let dir: string;
  let path: string;
  let store: SqliteEventStore;
  let lock: HeldSqliteLock | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-lock-'));
    path = join(dir, 'events.sqlite');
  });
  afterEach(async () => {
    await lock?.release();
    lock = undefined;
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an append waits for the lock off the event loop, then commits whole, in order, once it is released', async () => {
    store = new SqliteEventStore({ path, busyTimeoutMs: 10_000 });
    await store.init();
    const before = await store.append('s-0', [newEvent('Before')], { expectedVersion: ExpectedVersion.noStream });
    lock = await holdSqliteLock(path);

    const order: string[] = [];
    const first = track(order, 'first append', store.append('s-1', [newEvent('First'), newEvent('Second')], { expectedVersion: ExpectedVersion.noStream }));
    // The loop keeps turning while the append waits: a timer set after it fires, and a read of
    // the store answers, before the append settles.
    await timer(order, 'timer');
    const read = await store.readStream('s-0');
    order.push('read');
    expect(read.map((e) => e.type)).toEqual(['Before']);
    // More appends queue behind it meanwhile, a client's retry of a command among them.
    const second = track(order, 'second append', store.append('s-2', [newEvent('Third')], { expectedVersion: ExpectedVersion.noStream, idempotencyKey: 'k-1' }));
    const retried = track(order, 'retried append', store.append('s-2', [newEvent('Third again')], { expectedVersion: ExpectedVersion.noStream, idempotencyKey: 'k-1' }));
    await timer(order, 'second timer', 20);
    expect(order).toEqual(['timer', 'read', 'second timer']);
    expect((await store.readAll()).map((e) => e.type)).toEqual(['Before']);

    await lock.release();
    lock = undefined;
    const [a, b, c]: AppendResult[] = await Promise.all([first, second, retried]);
    expect(order.slice(3)).toEqual(['first append', 'second append', 'retried append']);
    // Written once each, in the order the appends were made, after what was there before.
    expect(a.events.map((e) => e.type)).toEqual(['First', 'Second']);
    expect(b.duplicate).toBe(false);
    expect(c.duplicate).toBe(true);
    expect(c.position).toBe(b.position);
    const all = await store.readAll();
    expect(all.map((e) => [e.streamId, e.type])).toEqual([
      ['s-0', 'Before'],
      ['s-1', 'First'],
      ['s-1', 'Second'],
      ['s-2', 'Third'],
    ]);
    expect(all[0]!.position).toBe(before.position);
    expect((await store.readStream('s-1')).map((e) => e.position)).toEqual(a.events.map((e) => e.position));
    // The chain the appends extended is whole.
    const reopened = new SqliteEventStore({ path });
    try {
      expect((await reopened.readAll()).map((e) => e.chainHash)).toEqual(all.map((e) => e.chainHash));
    } finally {
      await reopened.close();
    }
  });

  it('an append that waits the whole budget fails as store unavailable, writes nothing, and the store works afterwards', async () => {
    store = new SqliteEventStore({ path, busyTimeoutMs: 300 });
    await store.init();
    lock = await holdSqliteLock(path);

    const order: string[] = [];
    const appended = track(order, 'append', store.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream }));
    await timer(order, 'timer');
    const error = await appended.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(order).toEqual(['timer', 'append!']);
    expect((error as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    const typed = storeUnavailable(error);
    expect(typed).toBeInstanceOf(StoreUnavailableError);
    expect(typed!.maybeWritten).toBe(false);

    await lock.release();
    lock = undefined;
    expect(await store.readAll()).toEqual([]);
    expect(await store.streamVersion('s-1')).toBe(-1);
    const after = await store.append('s-1', [newEvent('After')], { expectedVersion: ExpectedVersion.noStream });
    expect((await store.readStream('s-1')).map((e) => [e.type, e.position])).toEqual([['After', after.position]]);
  });

  it('appends queued past one batch wait the same budget as the batch ahead of them, not one budget more per batch (store-lock probe 11, L1)', async () => {
    store = new SqliteEventStore({ path, busyTimeoutMs: 300, maxBatch: 2 });
    await store.init();
    lock = await holdSqliteLock(path);

    const order: string[] = [];
    const appends = Array.from({ length: 6 }, (_, i) => track(order, `a${i}`, store.append(`s-${i}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream })).catch(() => undefined));
    await appends[0];
    // The first refusal settles them all at once: by the next turn all six are refused.
    await new Promise((resolve) => setImmediate(resolve));
    order.push('next turn');
    expect(order).toEqual(['a0!', 'a1!', 'a2!', 'a3!', 'a4!', 'a5!', 'next turn']);
    await Promise.all(appends);
    await lock.release();
    lock = undefined;
    expect(await store.readAll()).toEqual([]);
  });

  it('a close while an append waits for the lock writes it once the lock is released', async () => {
    store = new SqliteEventStore({ path, busyTimeoutMs: 10_000 });
    await store.init();
    lock = await holdSqliteLock(path);

    const order: string[] = [];
    const appended = track(order, 'append', store.append('s-1', [newEvent('Last')], { expectedVersion: ExpectedVersion.noStream }));
    await timer(order, 'timer');
    const closed = track(order, 'closed', store.close());
    await timer(order, 'second timer');
    expect(order).toEqual(['timer', 'second timer']);

    await lock.release();
    lock = undefined;
    await closed;
    const written = await appended;
    expect(order.slice(2)).toEqual(['append', 'closed']);
    const reopened = new SqliteEventStore({ path });
    try {
      expect((await reopened.readAll()).map((e) => [e.type, e.position])).toEqual([['Last', written.position]]);
    } finally {
      await reopened.close();
    }
  });

  it('a snapshot write waits for the lock off the event loop too', async () => {
    store = new SqliteEventStore({ path, busyTimeoutMs: 10_000 });
    await store.init();
    const appended = await store.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    lock = await holdSqliteLock(path);

    const order: string[] = [];
    const snapshot = { streamId: 's-1', stateVersion: 'v1', revision: 0, position: appended.position, recordedAt: appended.events[0]!.recordedAt, state: { n: 1 } };
    const written = track(order, 'snapshot', store.writeSnapshot(snapshot));
    await timer(order, 'timer');
    expect(order).toEqual(['timer']);

    await lock.release();
    lock = undefined;
    await written;
    expect(await store.readSnapshot('s-1', 'v1')).toMatchObject({ revision: 0, state: { n: 1 } });
  });
});
