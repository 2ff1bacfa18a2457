/**
 * The event store contract: every adapter (SQLite, in-memory, and later PostgreSQL and KurrentDB)
 * runs this suite against real storage. A spec file calls runEventStoreContract with a factory
 * that creates a fresh, empty store per test.
 *
 * Capabilities let an adapter declare what it cannot promise (e.g. a PostgreSQL sequence burns
 * numbers, so positions have gaps; KurrentDB cannot compute the global chain hash).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  ExpectedVersion,
  WrongExpectedVersionError,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type StreamSnapshot,
} from '../../src/event-store/event-store.port.js';
import { generateKeyPairSync } from 'node:crypto';
import { verifyStore } from '../../src/event-store/integrity-verifier.js';
import { signerFor, TrustedKeys, type ChainSigner } from '../../src/event-store/signing.js';
import {
  InvalidPositionError,
  LOG_GENESIS,
  chainHash,
  decodePosition,
  eventHash,
  genesisHash,
  CURRENT_HASH_VERSION,
} from '../../src/event-store/hash-chain.js';

export interface EventStoreFixture {
  store: EventStore;
  /**
   * Another store instance on the same storage (a new connection; for SQLite a second
   * SqliteEventStore on the same file). Used to check durability after close() and that a second
   * connection sees the first one's appends. Omit for adapters without durable storage.
   */
  reopen?: () => Promise<EventStore>;
  /** Closes every store the fixture opened and removes the storage. */
  cleanup: () => Promise<void>;
}

export interface EventStoreCapabilities {
  /** Positions are decimal and gap-free (1, 2, 3...). Default true. */
  gaplessPositions?: boolean;
  /** The adapter sets chainHash on every event. Default true. */
  globalChainHash?: boolean;
  /** Upper bound for waiting on a subscription to see a write by another connection. Default 5000 ms. */
  crossConnectionTimeoutMs?: number;
  /** The adapter keeps snapshots (KurrentDB does not: readSnapshot is always null). Default true. */
  snapshots?: boolean;
  /** readAll ends a page at maxBytes (KurrentDB's client hands events over parsed: it counts only). Default true. */
  pageBytes?: boolean;
}

// ------------------------------------------------------------------ helpers

const metadata = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  actor: { id: 'user-1', name: 'Alice Auditor', roles: ['risk-manager'] },
  occurredAt: '2025-01-01T00:00:00.000Z',
  correlationId: 'corr-1',
  causationId: 'cause-1',
  ...overrides,
});

export function newEvent(type = 'Tested', data: Record<string, unknown> = {}, schemaVersion = 1): NewEvent {
  return { eventId: randomUUID(), type, schemaVersion, data, metadata: metadata() };
}

function events(n: number, type = 'Tested'): NewEvent[] {
  return Array.from({ length: n }, (_, i) => newEvent(type, { i }));
}

const sid = (prefix = 'stream'): string => `${prefix}-${randomUUID()}`;

async function waitFor(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readWholeLog(store: EventStore, pageSize = 1000): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await store.readAll({ after, maxCount: pageSize });
    if (page.length === 0) return all;
    all.push(...page);
    after = page[page.length - 1]!.position;
  }
}

function expectStrictlyIncreasing(positions: string[]): void {
  for (let i = 1; i < positions.length; i++) expect(positions[i]! > positions[i - 1]!).toBe(true);
}

async function expectConflict(promise: Promise<unknown>, streamId: string, actual: number): Promise<WrongExpectedVersionError> {
  const error = await promise.then(
    () => {
      throw new Error('append should have failed with WrongExpectedVersionError');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WrongExpectedVersionError);
  const w = error as WrongExpectedVersionError;
  expect(w.streamId).toBe(streamId);
  expect(w.actualVersion).toBe(actual);
  return w;
}

/**
 * A head that a `currentStreamHeads` lookup answers is the stream's true head: its last event's
 * revision and position as read (nothing appends meanwhile in these tests). A fresh lookup unless
 * one is given. Returns whether one was answered.
 */
async function headIsTrue(store: EventStore, streamId: string, lookup = store.currentStreamHeads?.()): Promise<boolean> {
  const head = lookup?.(streamId);
  if (head === undefined) return false;
  const last = (await store.readStream(streamId)).at(-1);
  expect(last ? { revision: last.revision, position: last.position } : 'no stream').toEqual(head);
  return true;
}

/** Checks both chains over a complete log. */
function verifyChains(log: RecordedEvent[], checkGlobalChain: boolean): void {
  const lastHashByStream = new Map<string, string>();
  const lastRevisionByStream = new Map<string, number>();
  let link = LOG_GENESIS;
  for (const e of log) {
    const expectedPrev = lastHashByStream.get(e.streamId) ?? genesisHash(e.streamId);
    expect(e.revision).toBe((lastRevisionByStream.get(e.streamId) ?? -1) + 1);
    expect(e.prevHash).toBe(expectedPrev);
    expect(
      eventHash({
        streamId: e.streamId,
        revision: e.revision,
        eventId: e.eventId,
        type: e.type,
        schemaVersion: e.schemaVersion,
        data: e.data,
        metadata: e.metadata,
        prevHash: e.prevHash,
        recordedAt: e.recordedAt,
        hashVersion: e.hashVersion,
      }),
    ).toBe(e.hash);
    // New appends are hashed with the current version, which covers recordedAt.
    expect(e.hashVersion).toBe(CURRENT_HASH_VERSION);
    lastHashByStream.set(e.streamId, e.hash);
    lastRevisionByStream.set(e.streamId, e.revision);
    if (checkGlobalChain) {
      expect(e.chainHash).toBeDefined();
      link = chainHash(link, e.position, e.hash);
      expect(e.chainHash).toBe(link);
    }
  }
}

// ------------------------------------------------------------------ the suite

export function runEventStoreContract(
  adapterName: string,
  factory: (options?: { signer?: ChainSigner }) => Promise<EventStoreFixture>,
  capabilities: EventStoreCapabilities = {},
): void {
  const gapless = capabilities.gaplessPositions ?? true;
  const globalChain = capabilities.globalChainHash ?? true;
  const crossTimeout = capabilities.crossConnectionTimeoutMs ?? 5000;
  const keepsSnapshots = capabilities.snapshots ?? true;
  const pageBytes = capabilities.pageBytes ?? true;

  describe(`EventStore contract: ${adapterName}`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
      await store.init();
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it(`reports adapter name ${adapterName} and a healthy status`, async () => {
      expect(store.adapterName).toBe(adapterName);
      const health = await store.health();
      expect(health.ok).toBe(true);
      expect(health.adapter).toBe(adapterName);
      await store.init(); // idempotent
    });

    describe('append and expected version', () => {
      it('appends to a new stream with no_stream', async () => {
        const s = sid();
        const input = events(3);
        const result = await store.append(s, input, { expectedVersion: ExpectedVersion.noStream });
        expect(result.streamId).toBe(s);
        expect(result.duplicate).toBe(false);
        expect(result.nextExpectedVersion).toBe(2);
        expect(result.events.map((e) => e.revision)).toEqual([0, 1, 2]);
        expect(result.events.map((e) => e.eventId)).toEqual(input.map((e) => e.eventId));
        expect(result.position).toBe(result.events[2]!.position);
        for (const e of result.events) {
          expect(e.streamId).toBe(s);
          expect(typeof e.recordedAt).toBe('string');
          expect(Number.isNaN(Date.parse(e.recordedAt))).toBe(false);
        }
        expect(await store.readStream(s)).toEqual(result.events);
      });

      it('appends to a new stream with any, and with exact(-1) (= no_stream)', async () => {
        const a = sid();
        const b = sid();
        expect((await store.append(a, events(1), { expectedVersion: ExpectedVersion.any })).nextExpectedVersion).toBe(0);
        expect((await store.append(a, events(2), { expectedVersion: ExpectedVersion.any })).nextExpectedVersion).toBe(2);
        expect(ExpectedVersion.exact(-1)).toEqual({ kind: 'no_stream' });
        expect((await store.append(b, events(1), { expectedVersion: ExpectedVersion.exact(-1) })).nextExpectedVersion).toBe(0);
      });

      it('appends with the exact current version', async () => {
        const s = sid();
        const first = await store.append(s, events(2), { expectedVersion: ExpectedVersion.noStream });
        const second = await store.append(s, events(1), { expectedVersion: ExpectedVersion.exact(first.nextExpectedVersion) });
        expect(second.nextExpectedVersion).toBe(2);
        expect(second.events[0]!.revision).toBe(2);
        expect(await store.streamVersion(s)).toBe(2);
      });

      it('rejects a wrong expected version with the actual version and appends nothing', async () => {
        const s = sid();
        await store.append(s, events(2), { expectedVersion: ExpectedVersion.noStream });
        const head = await store.headPosition();

        const w1 = await expectConflict(store.append(s, events(1), { expectedVersion: ExpectedVersion.noStream }), s, 1);
        expect(w1.expectedVersion).toEqual({ kind: 'no_stream' });
        const w2 = await expectConflict(store.append(s, events(1), { expectedVersion: ExpectedVersion.exact(0) }), s, 1);
        expect(w2.expectedVersion).toEqual({ kind: 'exact', version: 0 });
        await expectConflict(store.append(s, events(1), { expectedVersion: ExpectedVersion.exact(5) }), s, 1);
        const fresh = sid();
        await expectConflict(store.append(fresh, events(1), { expectedVersion: ExpectedVersion.exact(0) }), fresh, -1);

        expect(await store.headPosition()).toBe(head);
        expect(await store.streamVersion(s)).toBe(1);
        expect(await store.streamVersion(fresh)).toBe(-1);
        expect(await store.readStream(s)).toHaveLength(2);
        expect(await store.readStream(fresh)).toEqual([]);
      });

      it('race: of 10 concurrent writers with the same exact version exactly one wins', async () => {
        const s = sid();
        await store.append(s, events(1), { expectedVersion: ExpectedVersion.noStream });
        const attempts = Array.from({ length: 10 }, () =>
          store.append(s, events(2), { expectedVersion: ExpectedVersion.exact(0) }),
        );
        const settled = await Promise.allSettled(attempts);
        const won = settled.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<AppendResult>[];
        const lost = settled.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(9);
        for (const l of lost) {
          expect(l.reason).toBeInstanceOf(WrongExpectedVersionError);
          expect((l.reason as WrongExpectedVersionError).actualVersion).toBe(2);
        }
        const stored = await store.readStream(s);
        expect(stored.map((e) => e.revision)).toEqual([0, 1, 2]);
        expect(stored.slice(1).map((e) => e.eventId)).toEqual(won[0]!.value.events.map((e) => e.eventId));
      });

      it('race: of 10 concurrent creators with no_stream exactly one wins', async () => {
        const s = sid();
        const settled = await Promise.allSettled(
          Array.from({ length: 10 }, () => store.append(s, events(1), { expectedVersion: ExpectedVersion.noStream })),
        );
        expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of settled.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]) {
          expect(r.reason).toBeInstanceOf(WrongExpectedVersionError);
          expect((r.reason as WrongExpectedVersionError).actualVersion).toBe(0);
        }
        expect(await store.readStream(s)).toHaveLength(1);
      });

      it('a losing append in a burst fails alone; the other appends commit', async () => {
        const a = sid('a');
        const b = sid('b');
        await store.append(a, events(1), { expectedVersion: ExpectedVersion.noStream });
        const [ok1, bad, ok2] = await Promise.allSettled([
          store.append(b, events(1), { expectedVersion: ExpectedVersion.noStream }),
          store.append(a, events(1), { expectedVersion: ExpectedVersion.noStream }),
          store.append(a, events(1), { expectedVersion: ExpectedVersion.exact(0) }),
        ]);
        expect(ok1.status).toBe('fulfilled');
        expect(bad.status).toBe('rejected');
        expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersionError);
        expect(ok2.status).toBe('fulfilled');
        expect(await store.streamVersion(a)).toBe(1);
        expect(await store.streamVersion(b)).toBe(0);
      });

      it('keeps per-stream revisions contiguous from 0 over many appends', async () => {
        const s = sid();
        let version = -1;
        for (const size of [1, 3, 2, 5, 1]) {
          const r = await store.append(s, events(size), { expectedVersion: ExpectedVersion.exact(version) });
          expect(r.events[0]!.revision).toBe(version + 1);
          version = r.nextExpectedVersion;
        }
        const stored = await store.readStream(s);
        expect(stored.map((e) => e.revision)).toEqual(Array.from({ length: 12 }, (_, i) => i));
        expect(version).toBe(11);
      });

      it('rejects a duplicate event id and appends nothing', async () => {
        const s = sid();
        const e = newEvent();
        await store.append(s, [e], { expectedVersion: ExpectedVersion.noStream });
        const head = await store.headPosition();
        await expect(store.append(sid(), [{ ...e }], { expectedVersion: ExpectedVersion.any })).rejects.toThrow();
        await expect(store.append(sid(), [e, { ...e }], { expectedVersion: ExpectedVersion.any })).rejects.toThrow();
        expect(await store.headPosition()).toBe(head);
        // the store still works afterwards
        await store.append(s, events(1), { expectedVersion: ExpectedVersion.exact(0) });
      });

      it('rejects malformed appends', async () => {
        const bad = [
          () => store.append('', events(1), { expectedVersion: ExpectedVersion.any }),
          () => store.append(sid(), [{ ...newEvent(), eventId: '' }], { expectedVersion: ExpectedVersion.any }),
          () => store.append(sid(), [{ ...newEvent(), type: '' }], { expectedVersion: ExpectedVersion.any }),
          () => store.append(sid(), [{ ...newEvent(), data: null as unknown as Record<string, unknown> }], { expectedVersion: ExpectedVersion.any }),
          () => store.append(sid(), events(1), { expectedVersion: { kind: 'bogus' } as unknown as ExpectedVersion }),
        ];
        for (const call of bad) await expect(call()).rejects.toThrow();
        expect(await store.headPosition()).toBeNull();
      });

      it('an empty append checks the version and appends nothing', async () => {
        const s = sid();
        await store.append(s, events(1), { expectedVersion: ExpectedVersion.noStream });
        const r = await store.append(s, [], { expectedVersion: ExpectedVersion.exact(0) });
        expect(r.events).toEqual([]);
        expect(r.nextExpectedVersion).toBe(0);
        await expectConflict(store.append(s, [], { expectedVersion: ExpectedVersion.noStream }), s, 0);
        expect(await store.readAll()).toHaveLength(1);
      });
    });

    describe('global log', () => {
      it('assigns strictly increasing positions; readAll returns everything in append order', async () => {
        const appended: RecordedEvent[] = [];
        const streams = [sid('x'), sid('y'), sid('z')];
        for (let i = 0; i < 12; i++) {
          const r = await store.append(streams[i % 3]!, events(1 + (i % 2)), { expectedVersion: ExpectedVersion.any });
          appended.push(...r.events);
        }
        const all = await store.readAll();
        expect(all.map((e) => e.eventId)).toEqual(appended.map((e) => e.eventId));
        expect(all).toEqual(appended);
        expectStrictlyIncreasing(all.map((e) => e.position));
        if (gapless) {
          expect(all.map((e) => Number(decodePosition(e.position)))).toEqual(all.map((_, i) => i + 1));
        }
      });

      it('reads stream ranges with inclusive from/to', async () => {
        const s = sid();
        await store.append(s, events(6), { expectedVersion: ExpectedVersion.noStream });
        await store.append(sid('other'), events(2), { expectedVersion: ExpectedVersion.noStream });
        const revs = async (o: { fromRevision?: number; toRevision?: number }) => (await store.readStream(s, o)).map((e) => e.revision);
        expect(await revs({})).toEqual([0, 1, 2, 3, 4, 5]);
        expect(await revs({ fromRevision: 2 })).toEqual([2, 3, 4, 5]);
        expect(await revs({ toRevision: 2 })).toEqual([0, 1, 2]);
        expect(await revs({ fromRevision: 2, toRevision: 4 })).toEqual([2, 3, 4]);
        expect(await revs({ fromRevision: 3, toRevision: 3 })).toEqual([3]);
        expect(await revs({ fromRevision: 6 })).toEqual([]);
        expect(await revs({ fromRevision: 4, toRevision: 2 })).toEqual([]);
        expect(await revs({ toRevision: 100 })).toEqual([0, 1, 2, 3, 4, 5]);
        expect(await store.readStream(sid('unknown'))).toEqual([]);
      });

      it('pages through the whole log with after/maxCount: every event once, no gaps or repeats', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 23; i++) {
          const r = await store.append(sid(), events(1 + (i % 4)), { expectedVersion: ExpectedVersion.noStream });
          ids.push(...r.events.map((e) => e.eventId));
        }
        expect(ids).toHaveLength(56);
        for (const pageSize of [1, 7, 10, 56, 100]) {
          const seen: string[] = [];
          let after: string | null = null;
          let pages = 0;
          for (;;) {
            const page: RecordedEvent[] = await store.readAll({ after, maxCount: pageSize });
            if (page.length === 0) break;
            expect(page.length).toBeLessThanOrEqual(pageSize);
            seen.push(...page.map((e) => e.eventId));
            after = page[page.length - 1]!.position;
            pages++;
          }
          expect(seen).toEqual(ids);
          expect(pages).toBe(Math.ceil(56 / pageSize));
        }
        const head = await store.headPosition();
        expect(await store.readAll({ after: head })).toEqual([]);
        expect(await store.readAll({ maxCount: 0 })).toEqual([]);
        expect(await store.readAll({ maxCount: 5 })).toHaveLength(5);
      });

      (pageBytes ? it : it.skip)('ends a page once its events hold maxBytes (at least one event): only an empty page is the end', async () => {
        // Events of ~20,000 characters of data among small ones: a page of up to 100 stops after
        // the event that brings it to 50,000, and paging on still sees every event once.
        const ids: string[] = [];
        for (let i = 0; i < 12; i++) {
          const big = i % 3 === 0;
          const r = await store.append(sid(), [newEvent('T', { i, text: big ? 'x'.repeat(20_000) : 'small' })], { expectedVersion: ExpectedVersion.noStream });
          ids.push(r.events[0]!.eventId);
        }
        const sizes: number[] = [];
        const seen: string[] = [];
        for (let after: string | null = null; ; ) {
          const page: RecordedEvent[] = await store.readAll({ after, maxCount: 100, maxBytes: 50_000 });
          if (page.length === 0) break;
          sizes.push(page.length);
          const bytes = page.map((e) => JSON.stringify(e.data).length + JSON.stringify(e.metadata).length);
          // Every event but the last stays under the cap: the page ends at the one that reaches it.
          expect(bytes.slice(0, -1).reduce((a, b) => a + b, 0)).toBeLessThan(50_000);
          seen.push(...page.map((e) => e.eventId));
          after = page[page.length - 1]!.position;
        }
        expect(seen).toEqual(ids);
        // Big events at 0, 3, 6, 9: the third big one reaches the cap (pages end after events 6 and 11).
        expect(sizes).toEqual([7, 5]);
        // A cap below one event still reads one event a page; the typed read is capped the same way.
        expect(await store.readAll({ maxCount: 10, maxBytes: 1 })).toHaveLength(1);
        expect(await store.readAll({ maxCount: 10, maxBytes: 1, types: ['T'] })).toHaveLength(1);
        await expect(store.readAll({ maxBytes: -1 })).rejects.toThrow(RangeError);
      });

      (pageBytes ? it : it.skip)('counts maxBytes in UTF-8 bytes: Japanese text is 3 bytes a character', async () => {
        // 5 events of 5,000 kana (15,000 bytes of UTF-8 each): a cap of 40,000 bytes ends the page
        // at the third. Counted in characters (5,000 each), all five fitted: pages three times too large.
        const head = await store.headPosition();
        for (let i = 0; i < 5; i++) await store.append(sid(), [newEvent('Kana', { i, text: 'あ'.repeat(5_000) })], { expectedVersion: ExpectedVersion.noStream });
        const page = await store.readAll({ after: head, maxCount: 100, maxBytes: 40_000 });
        expect(page).toHaveLength(3);
      });

      it('defaults maxCount to 1000', async () => {
        for (let i = 0; i < 11; i++) {
          await store.append(sid(), events(100), { expectedVersion: ExpectedVersion.noStream });
        }
        expect(await store.readAll()).toHaveLength(1000);
      });

      it('filters readAll by types and pages the filtered log', async () => {
        const wanted: string[] = [];
        for (let i = 0; i < 30; i++) {
          const type = ['A', 'B', 'C'][i % 3]!;
          const r = await store.append(sid(), [newEvent(type, { i })], { expectedVersion: ExpectedVersion.noStream });
          if (type !== 'B') wanted.push(r.events[0]!.eventId);
        }
        const onlyA = await store.readAll({ types: ['A'] });
        expect(onlyA).toHaveLength(10);
        expect(onlyA.every((e) => e.type === 'A')).toBe(true);
        expectStrictlyIncreasing(onlyA.map((e) => e.position));

        const seen: string[] = [];
        let after: string | null = null;
        for (;;) {
          const page: RecordedEvent[] = await store.readAll({ after, maxCount: 3, types: ['A', 'C'] });
          if (page.length === 0) break;
          seen.push(...page.map((e) => e.eventId));
          after = page[page.length - 1]!.position;
        }
        expect(seen).toEqual(wanted);
        expect(await store.readAll({ types: ['Nope'] })).toEqual([]);
      });

      it('rejects an invalid after position with InvalidPositionError', async () => {
        await store.append(sid(), events(1), { expectedVersion: ExpectedVersion.noStream });
        for (const bad of ['abc', '-1', '', '1.5', '12345678901234567890123']) {
          await expect(store.readAll({ after: bad })).rejects.toBeInstanceOf(InvalidPositionError);
        }
      });

      it('reports headPosition and streamVersion', async () => {
        expect(await store.headPosition()).toBeNull();
        const s = sid();
        expect(await store.streamVersion(s)).toBe(-1);
        const r1 = await store.append(s, events(3), { expectedVersion: ExpectedVersion.noStream });
        expect(await store.headPosition()).toBe(r1.position);
        expect(await store.streamVersion(s)).toBe(2);
        const r2 = await store.append(sid(), events(1), { expectedVersion: ExpectedVersion.noStream });
        expect(await store.headPosition()).toBe(r2.position);
        expect(r2.position > r1.position).toBe(true);
        expect(await store.streamVersion(s)).toBe(2);
        const health = await store.health();
        expect(health.ok).toBe(true);
      });

      it('commits 200 appends to 50 streams fired concurrently, with contiguous positions', async () => {
        const streams = Array.from({ length: 50 }, () => sid('c'));
        const calls: Promise<AppendResult>[] = [];
        for (let round = 0; round < 4; round++) {
          for (const s of streams) calls.push(store.append(s, [newEvent('Concurrent', { s, round })], { expectedVersion: ExpectedVersion.any }));
        }
        const results = await Promise.all(calls);
        expect(results).toHaveLength(200);
        const all = await readWholeLog(store, 64);
        expect(all).toHaveLength(200);
        expect(new Set(all.map((e) => e.eventId)).size).toBe(200);
        expect(new Set(all.map((e) => e.eventId))).toEqual(new Set(results.map((r) => r.events[0]!.eventId)));
        expectStrictlyIncreasing(all.map((e) => e.position));
        if (gapless) {
          const first = Number(decodePosition(all[0]!.position));
          expect(all.map((e) => Number(decodePosition(e.position)) - first)).toEqual(all.map((_, i) => i));
        }
        for (const s of streams) {
          const stream = await store.readStream(s);
          expect(stream.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
          // `any` appends in call order within a stream
          expect(stream.map((e) => e.data.round)).toEqual([0, 1, 2, 3]);
        }
        verifyChains(all, globalChain);
      });

      it('fires exact-version appends from 16 concurrent writers without losing or reordering', async () => {
        const streamsPerWriter = 3;
        const writers = Array.from({ length: 16 }, async (_, w) => {
          for (let k = 0; k < streamsPerWriter; k++) {
            const s = `w${w}-s${k}-${randomUUID()}`;
            for (let rev = 0; rev < 5; rev++) {
              await store.append(s, [newEvent('Written', { w, k, rev })], { expectedVersion: ExpectedVersion.exact(rev - 1) });
            }
          }
        });
        await Promise.all(writers);
        const all = await readWholeLog(store);
        expect(all).toHaveLength(16 * streamsPerWriter * 5);
        verifyChains(all, globalChain);
      });

      it('round-trips data and metadata exactly (unicode, nested objects, numbers)', async () => {
        const data = {
          text: 'Zürich – 東京 – Москва – 🚀🔐 – e\u0301 – \u2028\u2029 – "quotes" \\ back\\slash \n\t',
          empty: '',
          nested: { level1: { level2: { level3: [1, 'two', { three: 3 }, [4, [5]]] } }, 'key with spaces': true, '日本語キー': 'ok' },
          numbers: [0, -1, 1.5, -0.000123, 1e21, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
          flags: [true, false, null],
          emptyObject: {},
          emptyArray: [],
        };
        const meta = metadata({ commandId: 'cmd-42', correlationId: 'corr-✓' });
        const e: NewEvent = { eventId: randomUUID(), type: 'Unicode✓', schemaVersion: 3, data, metadata: meta };
        const s = `stream/ünï-${randomUUID()}`;
        const r = await store.append(s, [e], { expectedVersion: ExpectedVersion.noStream });
        const [stored] = await store.readStream(s);
        expect(stored!.data).toEqual(data);
        expect(stored!.metadata).toEqual(meta);
        expect(stored!.type).toBe('Unicode✓');
        expect(stored!.schemaVersion).toBe(3);
        expect(stored).toEqual(r.events[0]);
        expect((await store.readAll())[0]).toEqual(stored);
        verifyChains([stored!], globalChain);
      });

      it('stores the JSON form of the data: what is returned is what is hashed and read back', async () => {
        const s = sid();
        const data: Record<string, unknown> = { kept: 1, dropped: undefined, when: new Date('2025-02-03T04:05:06.000Z'), arr: [1, undefined] };
        const input = newEvent('Normalised', data);
        const r = await store.append(s, [input], { expectedVersion: ExpectedVersion.noStream });
        data.kept = 2; // mutating the caller's object after the append changes nothing
        const expected = { kept: 1, when: '2025-02-03T04:05:06.000Z', arr: [1, null] };
        expect(r.events[0]!.data).toEqual(expected);
        const [stored] = await store.readStream(s);
        expect(stored!.data).toEqual(expected);
        expect(stored!.hash).toBe(r.events[0]!.hash);
        verifyChains([stored!], globalChain);
      });
    });

    describe('currentStreamHeads (adapters that tell them)', () => {
      it('any head it reports is the true one: after appends, multi-stream appends, conflicts, empty appends, retries and races', async () => {
        const [a, b] = [sid(), sid()];
        expect(await headIsTrue(store, a)).toBe(false);
        await store.append(a, events(2), { expectedVersion: ExpectedVersion.noStream });
        await headIsTrue(store, a);
        await store.appendMultiple([
          { streamId: a, events: events(1), expectedVersion: ExpectedVersion.exact(1) },
          { streamId: b, events: events(3), expectedVersion: ExpectedVersion.noStream },
        ]);
        await headIsTrue(store, a);
        await headIsTrue(store, b);
        await expectConflict(store.append(a, events(1), { expectedVersion: ExpectedVersion.exact(0) }), a, 2);
        await store.append(a, [], { expectedVersion: ExpectedVersion.exact(2) });
        await headIsTrue(store, a);
        const key = `user-1:${randomUUID()}`;
        await store.append(b, events(1), { expectedVersion: ExpectedVersion.exact(2), idempotencyKey: key });
        await store.append(b, events(1), { expectedVersion: ExpectedVersion.exact(2), idempotencyKey: key });
        await headIsTrue(store, b);
        await Promise.allSettled(Array.from({ length: 16 }, () => store.append(a, events(1), { expectedVersion: ExpectedVersion.exact(2) })));
        await headIsTrue(store, a);
      });

      it('a lookup taken earlier still answers true heads after its store appended more (its own commits are included)', async () => {
        const [a, b] = [sid(), sid()];
        await store.append(a, events(1), { expectedVersion: ExpectedVersion.noStream });
        const lookup = store.currentStreamHeads?.();
        const told = await headIsTrue(store, a, lookup);
        await store.appendMultiple([
          { streamId: a, events: events(2), expectedVersion: ExpectedVersion.exact(0) },
          { streamId: b, events: events(1), expectedVersion: ExpectedVersion.noStream },
        ]);
        await Promise.allSettled(Array.from({ length: 16 }, () => store.append(b, events(1), { expectedVersion: ExpectedVersion.exact(0) })));
        // Whatever it answers now is the head as it stands, never the one it answered before.
        expect(await headIsTrue(store, a, lookup)).toBe(told);
        await headIsTrue(store, b, lookup);
      });
    });

    describe('recordedAt', () => {
      it('never decreases along the log, and an import keeps the original instant unless that would go back', async () => {
        await store.append(sid(), events(2), { expectedVersion: ExpectedVersion.noStream });
        const original = '2030-01-01T00:00:00.000Z';
        const kept = await store.append(sid(), events(1), { expectedVersion: ExpectedVersion.noStream, recordedAt: original });
        expect(kept.events[0]!.recordedAt).toBe(original);
        // An earlier instant than the log's latest is clamped to it: the log stays ordered in time.
        const clamped = await store.append(sid(), events(1), { expectedVersion: ExpectedVersion.noStream, recordedAt: '2001-01-01T00:00:00.000Z' });
        expect(clamped.events[0]!.recordedAt).toBe(original);
        const now = await store.append(sid(), events(1), { expectedVersion: ExpectedVersion.noStream });
        expect(now.events[0]!.recordedAt).toBe(original);
        const all = await readWholeLog(store);
        for (let i = 1; i < all.length; i++) expect(all[i]!.recordedAt >= all[i - 1]!.recordedAt).toBe(true);
      });
    });

    describe('hash chain', () => {
      it('links every stream from its genesis hash and the log from LOG_GENESIS', async () => {
        const a = sid('a');
        const b = sid('b');
        await store.append(a, events(2), { expectedVersion: ExpectedVersion.noStream });
        await store.append(b, events(1), { expectedVersion: ExpectedVersion.noStream });
        await store.append(a, events(3), { expectedVersion: ExpectedVersion.exact(1) });
        await Promise.all([
          store.append(b, events(2), { expectedVersion: ExpectedVersion.exact(0) }),
          store.append(sid('c'), events(2), { expectedVersion: ExpectedVersion.noStream }),
        ]);
        const streamA = await store.readStream(a);
        expect(streamA[0]!.prevHash).toBe(genesisHash(a));
        for (let i = 1; i < streamA.length; i++) expect(streamA[i]!.prevHash).toBe(streamA[i - 1]!.hash);
        const all = await store.readAll();
        expect(all).toHaveLength(10);
        verifyChains(all, globalChain);
        if (globalChain) expect(all.every((e) => typeof e.chainHash === 'string' && e.chainHash.length === 64)).toBe(true);
      });

      it('hashes change with content: the same event in another stream gets another hash', async () => {
        const e = newEvent('Same', { x: 1 });
        const r1 = await store.append(sid(), [e], { expectedVersion: ExpectedVersion.noStream });
        const r2 = await store.append(sid(), [{ ...e, eventId: randomUUID() }], { expectedVersion: ExpectedVersion.noStream });
        expect(r1.events[0]!.hash).not.toBe(r2.events[0]!.hash);
        expect(r1.events[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
      });
    });

    describe('atomic multi-stream append', () => {
      it('writes every part, in order, at consecutive positions, each stream chained as by append', async () => {
        const a = sid();
        const b = sid();
        await store.append(b, events(1), { expectedVersion: ExpectedVersion.noStream });
        const [ra, rb] = await store.appendMultiple([
          { streamId: a, events: events(2), expectedVersion: ExpectedVersion.noStream },
          { streamId: b, events: events(1), expectedVersion: ExpectedVersion.exact(0) },
        ]);
        expect(ra!.events.map((e) => e.revision)).toEqual([0, 1]);
        expect(rb!.events.map((e) => e.revision)).toEqual([1]);
        expect(rb!.events[0]!.position > ra!.position).toBe(true);
        expect(await store.readStream(a)).toEqual(ra!.events);
        expect((await store.readStream(b))[1]).toEqual(rb!.events[0]);
        expect(rb!.events[0]!.prevHash).toBe((await store.readStream(b))[0]!.hash);
      });

      it('writes nothing when any part has the wrong expected version', async () => {
        const a = sid();
        const b = sid();
        await store.append(b, events(1), { expectedVersion: ExpectedVersion.noStream });
        const head = await store.headPosition();
        await expect(
          store.appendMultiple([
            { streamId: a, events: events(1), expectedVersion: ExpectedVersion.noStream },
            { streamId: b, events: events(1), expectedVersion: ExpectedVersion.noStream },
          ]),
        ).rejects.toMatchObject({ name: 'WrongExpectedVersionError', streamId: b, actualVersion: 0 });
        expect(await store.headPosition()).toBe(head);
        expect(await store.streamVersion(a)).toBe(-1);
      });

      it('16 racing reservations of one key: exactly one wins and only its entity stream is written', async () => {
        const key = sid();
        const entities = Array.from({ length: 16 }, () => sid());
        const outcomes = await Promise.allSettled(
          entities.map((entity) =>
            store.appendMultiple([
              { streamId: entity, events: events(1), expectedVersion: ExpectedVersion.noStream },
              { streamId: key, events: events(1), expectedVersion: ExpectedVersion.noStream },
            ]),
          ),
        );
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as Error).name).toBe('WrongExpectedVersionError');
        const written = await Promise.all(entities.map((e) => store.streamVersion(e)));
        expect(written.filter((v) => v === 0)).toHaveLength(1);
        expect(await store.streamVersion(key)).toBe(0);
      });

      it('the idempotency key stands for the first part: a retry returns it as a duplicate and appends nothing', async () => {
        const a = sid();
        const b = sid();
        const key = `user-1:${randomUUID()}`;
        const [first] = await store.appendMultiple(
          [
            { streamId: a, events: events(1), expectedVersion: ExpectedVersion.noStream },
            { streamId: b, events: events(1), expectedVersion: ExpectedVersion.noStream },
          ],
          { idempotencyKey: key },
        );
        const head = await store.headPosition();
        const retry = await store.appendMultiple(
          [
            { streamId: a, events: events(1), expectedVersion: ExpectedVersion.noStream },
            { streamId: b, events: events(1), expectedVersion: ExpectedVersion.noStream },
          ],
          { idempotencyKey: key },
        );
        expect(retry).toHaveLength(1);
        expect(retry[0]).toMatchObject({ duplicate: true, streamId: a, position: first!.position });
        expect(retry[0]!.events).toEqual(first!.events);
        expect(await store.headPosition()).toBe(head);
        expect((await store.findIdempotentAppend(key))!.events).toEqual(first!.events);
      });

      it('refuses a stream named twice and an empty list', async () => {
        const a = sid();
        await expect(store.appendMultiple([])).rejects.toThrow();
        await expect(
          store.appendMultiple([
            { streamId: a, events: events(1), expectedVersion: ExpectedVersion.any },
            { streamId: a, events: events(1), expectedVersion: ExpectedVersion.any },
          ]),
        ).rejects.toThrow(/twice/);
        expect(await store.streamVersion(a)).toBe(-1);
      });
    });

    describe('idempotency', () => {
      it('a retry with the same idempotency key returns the first append and appends nothing', async () => {
        const s = sid();
        const key = `user-1:${randomUUID()}`;
        const first = await store.append(s, events(2), { expectedVersion: ExpectedVersion.noStream, idempotencyKey: key });
        expect(first.duplicate).toBe(false);
        const head = await store.headPosition();

        // the retry carries fresh event ids and a now-stale expected version: still a duplicate
        const retry = await store.append(s, events(2), { expectedVersion: ExpectedVersion.noStream, idempotencyKey: key });
        expect(retry.duplicate).toBe(true);
        expect(retry.events).toEqual(first.events);
        expect(retry.position).toBe(first.position);
        expect(retry.nextExpectedVersion).toBe(first.nextExpectedVersion);
        expect(retry.streamId).toBe(s);
        expect(await store.headPosition()).toBe(head);
        expect(await store.streamVersion(s)).toBe(1);

        const found = await store.findIdempotentAppend(key);
        expect(found).not.toBeNull();
        expect(found!.duplicate).toBe(true);
        expect(found!.events).toEqual(first.events);
        expect(found!.streamId).toBe(s);
        expect(found!.position).toBe(first.position);
        expect(await store.findIdempotentAppend(`user-1:${randomUUID()}`)).toBeNull();

        // another key appends normally
        const other = await store.append(s, events(1), { expectedVersion: ExpectedVersion.exact(1), idempotencyKey: `user-1:${randomUUID()}` });
        expect(other.duplicate).toBe(false);
        expect(other.events[0]!.revision).toBe(2);
      });

      it('two racing appends with the same key: one appends, the other is the duplicate', async () => {
        const s = sid();
        const key = `user-2:${randomUUID()}`;
        const [a, b] = await Promise.all([
          store.append(s, events(2), { expectedVersion: ExpectedVersion.any, idempotencyKey: key }),
          store.append(s, events(2), { expectedVersion: ExpectedVersion.any, idempotencyKey: key }),
        ]);
        expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
        expect(a.events).toEqual(b.events);
        expect(await store.readStream(s)).toHaveLength(2);
        expect(await store.readAll()).toHaveLength(2);
      });

      it('a failed append does not consume its idempotency key', async () => {
        const s = sid();
        const key = `user-3:${randomUUID()}`;
        await store.append(s, events(1), { expectedVersion: ExpectedVersion.noStream });
        await expectConflict(store.append(s, events(1), { expectedVersion: ExpectedVersion.noStream, idempotencyKey: key }), s, 0);
        expect(await store.findIdempotentAppend(key)).toBeNull();
        const ok = await store.append(s, events(1), { expectedVersion: ExpectedVersion.exact(0), idempotencyKey: key });
        expect(ok.duplicate).toBe(false);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up from null, then follows live appends in order without duplicates; close() stops it', async () => {
        const s = sid();
        await store.append(s, events(5), { expectedVersion: ExpectedVersion.noStream });
        const received: RecordedEvent[] = [];
        const sub = store.subscribeToAll({ from: null, onEvent: (e) => void received.push(e) });
        await waitFor(() => received.length === 5, 5000, '5 historical events');

        await store.append(s, events(3), { expectedVersion: ExpectedVersion.exact(4) });
        await store.append(sid(), events(2), { expectedVersion: ExpectedVersion.noStream });
        await waitFor(() => received.length === 10, 5000, '10 events');
        expect(received).toEqual(await store.readAll());
        expectStrictlyIncreasing(received.map((e) => e.position));

        await sub.close();
        await store.append(s, events(1), { expectedVersion: ExpectedVersion.exact(7) });
        await sleep(100);
        expect(received).toHaveLength(10);
      });

      it('starts after a checkpoint', async () => {
        const first = await store.append(sid(), events(4), { expectedVersion: ExpectedVersion.noStream });
        const checkpoint = first.events[1]!.position;
        const received: RecordedEvent[] = [];
        const sub = store.subscribeToAll({ from: checkpoint, onEvent: (e) => void received.push(e) });
        await waitFor(() => received.length === 2, 5000, '2 events after the checkpoint');
        const live = await store.append(sid(), events(2), { expectedVersion: ExpectedVersion.noStream });
        await waitFor(() => received.length === 4, 5000, '2 live events');
        expect(received.map((e) => e.eventId)).toEqual([...first.events.slice(2), ...live.events].map((e) => e.eventId));
        await sub.close();
      });

      it('awaits each handler before delivering the next event', async () => {
        await store.append(sid(), events(5), { expectedVersion: ExpectedVersion.noStream });
        let active = 0;
        let maxActive = 0;
        const received: string[] = [];
        const sub = store.subscribeToAll({
          from: null,
          onEvent: async (e) => {
            active++;
            maxActive = Math.max(maxActive, active);
            await sleep(2);
            received.push(e.position);
            active--;
          },
        });
        await waitFor(() => received.length === 5);
        expect(maxActive).toBe(1);
        expectStrictlyIncreasing(received);
        await sub.close();
      });

      it('delivers batches to onBatch in order', async () => {
        const r = await store.append(sid(), events(25), { expectedVersion: ExpectedVersion.noStream });
        const batches: RecordedEvent[][] = [];
        const sub = store.subscribeToAll({
          from: null,
          batchSize: 10,
          onEvent: () => {
            throw new Error('onEvent must not be called when onBatch is given');
          },
          onBatch: (b) => void batches.push(b),
        });
        await waitFor(() => batches.flat().length === 25);
        expect(batches.every((b) => b.length >= 1 && b.length <= 10)).toBe(true);
        expect(batches.flat().map((e) => e.eventId)).toEqual(r.events.map((e) => e.eventId));
        const live = await store.append(sid(), events(3), { expectedVersion: ExpectedVersion.noStream });
        await waitFor(() => batches.flat().length === 28);
        expect(batches.flat().slice(25).map((e) => e.eventId)).toEqual(live.events.map((e) => e.eventId));
        await sub.close();
      });

      it('follows a burst of concurrent appends without gaps or repeats', async () => {
        const received: RecordedEvent[] = [];
        const sub = store.subscribeToAll({ from: null, onEvent: (e) => void received.push(e) });
        await Promise.all(
          Array.from({ length: 100 }, (_, i) => store.append(sid(), events(1 + (i % 3)), { expectedVersion: ExpectedVersion.noStream })),
        );
        const all = await readWholeLog(store);
        await waitFor(() => received.length >= all.length, 5000, 'the whole burst');
        await sleep(20);
        expect(received.map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
        await sub.close();
      });

      it('stops on a handler error and reports it through onError', async () => {
        await store.append(sid(), events(5), { expectedVersion: ExpectedVersion.noStream });
        const received: RecordedEvent[] = [];
        const errors: unknown[] = [];
        const sub = store.subscribeToAll({
          from: null,
          onEvent: (e) => {
            if (received.length === 2) throw new Error('projection failed');
            received.push(e);
          },
          onError: (err) => void errors.push(err),
        });
        await waitFor(() => errors.length === 1);
        expect((errors[0] as Error).message).toBe('projection failed');
        await store.append(sid(), events(2), { expectedVersion: ExpectedVersion.noStream });
        await sleep(50);
        expect(received).toHaveLength(2);
        expect(errors).toHaveLength(1);
        await sub.close(); // closing a stopped subscription is fine
      });

      it('reports an invalid checkpoint through onError', async () => {
        const errors: unknown[] = [];
        const sub = store.subscribeToAll({ from: 'not-a-position', onEvent: () => {}, onError: (e) => void errors.push(e) });
        await waitFor(() => errors.length === 1);
        expect(errors[0]).toBeInstanceOf(InvalidPositionError);
        await sub.close();
      });

      it('close() waits for the handler in progress and ends the loop', async () => {
        await store.append(sid(), events(3), { expectedVersion: ExpectedVersion.noStream });
        let finished = 0;
        let started = 0;
        const sub = store.subscribeToAll({
          from: null,
          onEvent: async () => {
            started++;
            await sleep(30);
            finished++;
          },
        });
        await waitFor(() => started === 1);
        await sub.close();
        expect(finished).toBe(started);
        const before = finished;
        await sleep(60);
        expect(finished).toBe(before);
      });
    });

    describe('lifecycle', () => {
      it('close() writes pending appends first; later calls fail', async () => {
        const s = sid();
        const pending = store.append(s, events(2), { expectedVersion: ExpectedVersion.noStream });
        await store.close();
        const r = await pending;
        expect(r.events).toHaveLength(2);
        await expect(store.append(s, events(1), { expectedVersion: ExpectedVersion.any })).rejects.toThrow();
        await store.close(); // idempotent
        if (fixture.reopen) {
          const again = await fixture.reopen();
          expect((await again.readStream(s)).map((e) => e.eventId)).toEqual(r.events.map((e) => e.eventId));
        }
      });

      it('close() stops open subscriptions', async () => {
        const received: RecordedEvent[] = [];
        store.subscribeToAll({ from: null, onEvent: (e) => void received.push(e) });
        await store.append(sid(), events(1), { expectedVersion: ExpectedVersion.noStream });
        await waitFor(() => received.length === 1);
        await store.close();
      });
    });

    describe('snapshots', () => {
      /** A snapshot of stream s at the event r (its revision, position and recordedAt). */
      const snap = (r: RecordedEvent, state: unknown, stateVersion = 'thing/1'): StreamSnapshot => ({
        streamId: r.streamId,
        revision: r.revision,
        position: r.position,
        recordedAt: r.recordedAt,
        stateVersion,
        state,
      });
      /** What readSnapshot gives for it: the state, and its JSON text as stored. */
      const stored = (r: RecordedEvent, state: unknown, stateVersion = 'thing/1'): StreamSnapshot => ({ ...snap(r, state, stateVersion), stateJson: JSON.stringify(state) });

      it('an adapter without snapshots answers null and accepts writes as no-ops', async () => {
        if (keepsSnapshots) return;
        const s = sid();
        const { events: recorded } = await store.append(s, events(2), { expectedVersion: ExpectedVersion.noStream });
        await store.writeSnapshot(snap(recorded[1]!, { n: 2 }));
        expect(await store.readSnapshot(s, 'thing/1')).toBeNull();
      });

      const it_ = (name: string, fn: () => Promise<void>) =>
        it(name, async () => {
          if (!keepsSnapshots) return;
          await fn();
        });

      it_('reads the newest snapshot of the stream and state version; none: null', async () => {
        const s = sid();
        expect(await store.readSnapshot(s, 'thing/1')).toBeNull();
        const { events: recorded } = await store.append(s, events(5), { expectedVersion: ExpectedVersion.noStream });
        await store.writeSnapshot(snap(recorded[1]!, { n: 2, list: ['a', { b: null }], nested: { x: 1.5 } }));
        await store.writeSnapshot(snap(recorded[3]!, { n: 4 }));
        expect(await store.readSnapshot(s, 'thing/1')).toEqual(stored(recorded[3]!, { n: 4 }));
        expect(await store.readSnapshot(sid(), 'thing/1')).toBeNull();
      });

      it_('maxRevision: the newest at or before it', async () => {
        const s = sid();
        const { events: recorded } = await store.append(s, events(6), { expectedVersion: ExpectedVersion.noStream });
        await store.writeSnapshot(snap(recorded[1]!, { n: 2, list: ['a', { b: null }] }));
        await store.writeSnapshot(snap(recorded[4]!, { n: 5 }));
        expect(await store.readSnapshot(s, 'thing/1', { maxRevision: 4 })).toEqual(stored(recorded[4]!, { n: 5 }));
        expect(await store.readSnapshot(s, 'thing/1', { maxRevision: 3 })).toEqual(stored(recorded[1]!, { n: 2, list: ['a', { b: null }] }));
        expect(await store.readSnapshot(s, 'thing/1', { maxRevision: 1 })).toEqual(stored(recorded[1]!, { n: 2, list: ['a', { b: null }] }));
        expect(await store.readSnapshot(s, 'thing/1', { maxRevision: 0 })).toBeNull();
      });

      it_('maxPosition and maxRecordedAt: the newest taken at an event at or before that point', async () => {
        const s = sid();
        const { events: recorded } = await store.append(s, events(3), { expectedVersion: ExpectedVersion.noStream });
        // Another stream's event between, so positions of s are not consecutive.
        await store.append(sid(), events(1), { expectedVersion: ExpectedVersion.noStream });
        const { events: later } = await store.append(s, events(3), { expectedVersion: ExpectedVersion.exact(2) });
        await store.writeSnapshot(snap(recorded[1]!, { n: 2 }));
        await store.writeSnapshot(snap(later[1]!, { n: 5 }));
        expect(await store.readSnapshot(s, 'thing/1', { maxPosition: later[2]!.position })).toEqual(stored(later[1]!, { n: 5 }));
        expect(await store.readSnapshot(s, 'thing/1', { maxPosition: later[1]!.position })).toEqual(stored(later[1]!, { n: 5 }));
        expect(await store.readSnapshot(s, 'thing/1', { maxPosition: later[0]!.position })).toEqual(stored(recorded[1]!, { n: 2 }));
        expect(await store.readSnapshot(s, 'thing/1', { maxPosition: recorded[0]!.position })).toBeNull();
        expect(await store.readSnapshot(s, 'thing/1', { maxRecordedAt: later[1]!.recordedAt })).toEqual(stored(later[1]!, { n: 5 }));
        expect(await store.readSnapshot(s, 'thing/1', { maxRecordedAt: '2000-01-01T00:00:00.000Z' })).toBeNull();
        expect(await store.readSnapshot(s, 'thing/1', { maxRevision: 3, maxPosition: later[2]!.position })).toEqual(stored(recorded[1]!, { n: 2 }));
      });

      it_('a state given as JSON text is stored as is and read back byte for byte (a seal is checked over those bytes)', async () => {
        const s = sid();
        const { events: recorded } = await store.append(s, events(2), { expectedVersion: ExpectedVersion.noStream });
        const text = '{"sealed":"v2", "state":{"n":2,"s":"\\u00e9"}}';
        await store.writeSnapshot({ ...snap(recorded[1]!, { ignored: true }), stateJson: text });
        const read = (await store.readSnapshot(s, 'thing/1'))!;
        expect(read.stateJson).toBe(text);
        expect(read.state).toEqual({ sealed: 'v2', state: { n: 2, s: 'é' } });
        await expect(store.writeSnapshot({ ...snap(recorded[1]!, { n: 2 }), stateJson: 42 as never })).rejects.toThrow(/stateJson must be a string/);
      });

      it_('a snapshot of another state version is ignored', async () => {
        const s = sid();
        const { events: recorded } = await store.append(s, events(4), { expectedVersion: ExpectedVersion.noStream });
        await store.writeSnapshot(snap(recorded[1]!, { n: 2 }, 'thing/1'));
        await store.writeSnapshot(snap(recorded[3]!, { shape: 'new' }, 'thing/2'));
        expect(await store.readSnapshot(s, 'thing/1')).toEqual(stored(recorded[1]!, { n: 2 }, 'thing/1'));
        expect(await store.readSnapshot(s, 'thing/2')).toEqual(stored(recorded[3]!, { shape: 'new' }, 'thing/2'));
        expect(await store.readSnapshot(s, 'thing/3')).toBeNull();
      });

      it_('writing is an idempotent upsert by (stream, revision, state version)', async () => {
        const s = sid();
        const { events: recorded } = await store.append(s, events(3), { expectedVersion: ExpectedVersion.noStream });
        await store.writeSnapshot(snap(recorded[2]!, { n: 3 }));
        await store.writeSnapshot(snap(recorded[2]!, { n: 3 }));
        expect(await store.readSnapshot(s, 'thing/1')).toEqual(stored(recorded[2]!, { n: 3 }));
        await store.writeSnapshot(snap(recorded[2]!, { n: 3, again: true }));
        expect(await store.readSnapshot(s, 'thing/1')).toEqual(stored(recorded[2]!, { n: 3, again: true }));
        // a reader cannot change what is stored
        const read = (await store.readSnapshot(s, 'thing/1'))!;
        (read.state as { n: number }).n = 99;
        expect(await store.readSnapshot(s, 'thing/1')).toEqual(stored(recorded[2]!, { n: 3, again: true }));
      });

      it_('snapshots are not events: readAll, readStream, versions and the head are unchanged', async () => {
        const s = sid();
        const { events: recorded } = await store.append(s, events(3), { expectedVersion: ExpectedVersion.noStream });
        const all = await readWholeLog(store);
        const stream = await store.readStream(s);
        const head = await store.headPosition();
        await store.writeSnapshot(snap(recorded[2]!, { n: 3 }));
        await store.writeSnapshot(snap(recorded[0]!, { n: 1 }, 'other/1'));
        expect(await readWholeLog(store)).toEqual(all);
        expect(await store.readStream(s)).toEqual(stream);
        expect(await store.streamVersion(s)).toBe(2);
        expect(await store.headPosition()).toBe(head);
        verifyChains(await readWholeLog(store), globalChain);
        // and the log goes on as before
        await store.append(s, events(1), { expectedVersion: ExpectedVersion.exact(2) });
        expect(await store.streamVersion(s)).toBe(3);
      });

      it_('refuses an invalid snapshot', async () => {
        const s = sid();
        const { events: recorded } = await store.append(s, events(1), { expectedVersion: ExpectedVersion.noStream });
        await expect(store.writeSnapshot({ ...snap(recorded[0]!, {}), stateVersion: '' })).rejects.toThrow();
        await expect(store.writeSnapshot({ ...snap(recorded[0]!, {}), revision: -1 })).rejects.toThrow();
        await expect(store.writeSnapshot({ ...snap(recorded[0]!, {}), streamId: '' })).rejects.toThrow();
        await expect(store.readSnapshot(s, 'thing/1', { maxRevision: -1 })).rejects.toThrow();
        expect(await store.readSnapshot(s, 'thing/1')).toBeNull();
      });

      it_('snapshots survive close and reopen (adapters with reopen)', async () => {
        if (!fixture.reopen) return;
        const s = sid();
        const { events: recorded } = await store.append(s, events(3), { expectedVersion: ExpectedVersion.noStream });
        await store.writeSnapshot(snap(recorded[2]!, { n: 3, list: [1, 2] }));
        await store.close();
        const reopened = await fixture.reopen();
        await reopened.init();
        expect(await reopened.readSnapshot(s, 'thing/1')).toEqual(stored(recorded[2]!, { n: 3, list: [1, 2] }));
      });
    });

    describe('durable storage (adapters with reopen)', () => {
      const maybe = (name: string, fn: () => Promise<void>) =>
        it(name, async () => {
          if (!fixture.reopen) return; // in-memory adapters: nothing to reopen
          await fn();
        });

      maybe('events, streams, keys and both chains survive close and reopen', async () => {
        const s = sid();
        const key = `user-1:${randomUUID()}`;
        const first = await store.append(s, events(3), { expectedVersion: ExpectedVersion.noStream, idempotencyKey: key });
        await store.append(sid(), events(2), { expectedVersion: ExpectedVersion.noStream });
        const before = await store.readAll();
        await store.close();

        const reopened = await fixture.reopen!();
        await reopened.init();
        expect(await reopened.readAll()).toEqual(before);
        expect(await reopened.streamVersion(s)).toBe(2);
        expect(await reopened.headPosition()).toBe(before[before.length - 1]!.position);
        const dup = await reopened.append(s, events(1), { expectedVersion: ExpectedVersion.noStream, idempotencyKey: key });
        expect(dup.duplicate).toBe(true);
        expect(dup.events).toEqual(first.events);
        // appending after the reopen continues both chains
        await reopened.append(s, events(1), { expectedVersion: ExpectedVersion.exact(2) });
        await reopened.append(sid(), events(1), { expectedVersion: ExpectedVersion.noStream });
        const all = await reopened.readAll();
        expect(all).toHaveLength(7);
        verifyChains(all, globalChain);
      });

      maybe("a second connection's subscription sees the first one's appends (polling)", async () => {
        const other = await fixture.reopen!();
        await other.init();
        await store.append(sid(), events(2), { expectedVersion: ExpectedVersion.noStream });
        const received: RecordedEvent[] = [];
        const sub = other.subscribeToAll({ from: null, onEvent: (e) => void received.push(e) });
        await waitFor(() => received.length === 2, crossTimeout, 'historical events on the second connection');
        const live = await store.append(sid(), events(3), { expectedVersion: ExpectedVersion.noStream });
        await waitFor(() => received.length === 5, crossTimeout, 'live events on the second connection');
        expect(received.slice(2).map((e) => e.eventId)).toEqual(live.events.map((e) => e.eventId));
        expect(received).toEqual(await store.readAll());
        await sub.close();
      });

      maybe('two connections appending alternately keep positions gap-free and both chains intact, and neither reports a head the other moved on from', async () => {
        const other = await fixture.reopen!();
        await other.init();
        const s = sid();
        let version = -1;
        for (let i = 0; i < 10; i++) {
          const writer = i % 2 === 0 ? store : other;
          const r = await writer.append(s, events(1 + (i % 3)), { expectedVersion: ExpectedVersion.exact(version) });
          version = r.nextExpectedVersion;
          // Neither connection may report a head the other has moved on from.
          await headIsTrue(store, s);
          await headIsTrue(other, s);
          await (i % 2 === 0 ? other : store).append(sid(), events(1), { expectedVersion: ExpectedVersion.noStream });
        }
        // a conflict across connections is still the typed error
        await expectConflict(other.append(s, events(1), { expectedVersion: ExpectedVersion.exact(version - 1) }), s, version);
        await headIsTrue(store, s);
        await headIsTrue(other, s);
        const all = await readWholeLog(store);
        expect(await readWholeLog(other)).toEqual(all);
        if (gapless) expect(all.map((e) => Number(decodePosition(e.position)))).toEqual(all.map((_, i) => i + 1));
        verifyChains(all, globalChain);
      });
    });

    describe('signed chain heads (adapters with a global chain)', () => {
      const keys = () => {
        const { privateKey, publicKey } = generateKeyPairSync('ed25519');
        return { signer: signerFor(privateKey), trusted: new TrustedKeys([publicKey]) };
      };
      const withSigner = async (signer: ChainSigner) => {
        const signed = await factory({ signer });
        await signed.store.init();
        return signed;
      };

      it('signs the head of every commit, in the commit, and a verifier with the key accepts the log', async () => {
        if (!globalChain) return;
        const { signer, trusted } = keys();
        const signed = await withSigner(signer);
        try {
          const s = signed.store;
          const a = await s.append(sid(), events(3), { expectedVersion: ExpectedVersion.noStream });
          const [b, c] = await Promise.all([s.append(sid(), events(1), { expectedVersion: ExpectedVersion.noStream }), s.append(sid(), events(2), { expectedVersion: ExpectedVersion.noStream })]);
          const signatures = await s.readSignatures();
          // Every commit's last event has a signed head naming its chain link; commits may be grouped.
          expect(signatures.length).toBeGreaterThanOrEqual(2);
          const log = await readWholeLog(s);
          for (const sig of signatures) {
            const event = log.find((e) => e.position === sig.position)!;
            expect(sig.chainHash).toBe(event.chainHash);
            expect(trusted.check('log', sig)).toBeNull();
          }
          expect(signatures[0]!.position).toBe(a.position);
          expect(signatures[signatures.length - 1]!.position).toBe([b.position, c.position].sort().pop());
          expect(await s.readSignatures({ after: signatures[0]!.position })).toEqual(signatures.slice(1));
          expect(await verifyStore(s, { trusted })).toMatchObject({ ok: true, eventsChecked: 6, signaturesChecked: signatures.length });
          // Someone else's key: refused at the first head it signed.
          expect(await verifyStore(s, { trusted: keys().trusted })).toMatchObject({ ok: false, firstBrokenPosition: signatures[0]!.firstPosition });
        } finally {
          await signed.cleanup();
        }
      });

      it('reads signatures in position order past ten commits (positions are numbers, not text)', async () => {
        if (!globalChain) return;
        const { signer, trusted } = keys();
        const signed = await withSigner(signer);
        try {
          const s = signed.store;
          for (let i = 0; i < 12; i++) await s.append(sid(), events(1), { expectedVersion: ExpectedVersion.noStream });
          const positions = (await s.readSignatures()).map((sig) => sig.position);
          expect(positions).toHaveLength(12);
          expect(positions).toEqual([...positions].sort());
          expect(await verifyStore(s, { trusted })).toMatchObject({ ok: true, eventsChecked: 12, signaturesChecked: 12 });
        } finally {
          await signed.cleanup();
        }
      });

      it('a log appended without the key fails verification at its first unsigned event', async () => {
        if (!globalChain) return;
        const { trusted } = keys();
        await store.append(sid(), events(2), { expectedVersion: ExpectedVersion.noStream });
        expect(await store.readSignatures()).toEqual([]);
        expect(await verifyStore(store, { trusted })).toMatchObject({ ok: false, firstBrokenPosition: (await readWholeLog(store))[0]!.position });
        // Without keys, the unkeyed chain alone still verifies.
        expect(await verifyStore(store)).toMatchObject({ ok: true, signaturesChecked: 0 });
      });
    });
  });
}
