/**
 * The KurrentDB adapter's mapping, without a server: envelope <-> KurrentDB event, positions,
 * stream states, error translation, stream names, the unreachable-server shapes, and the store's
 * behaviour when nothing answers (health, configuration).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { UnavailableError, WrongExpectedVersionError as ClientWrongExpectedVersionError } from '@kurrent/kurrentdb-client';
import { ExpectedVersion, WrongExpectedVersionError, type RecordedEvent } from '../../src/event-store/event-store.port.js';
import { InvalidPositionError, eventHash, genesisHash } from '../../src/event-store/hash-chain.js';
import { InvalidAppendError } from '../../src/event-store/errors.js';
import { createEventStore, EventStoreConfigError } from '../../src/event-store/create-event-store.js';
import { KurrentDbEventStore } from '../../src/event-store/kurrentdb/kurrentdb-event-store.js';
import { hashEvents } from '../../src/event-store/kurrentdb/append-helpers.js';
import { prepareEvents } from '../../src/event-store/internal/append-support.js';
import {
  ForeignEventError,
  KURRENT_ZERO_POSITION,
  KurrentStreamNames,
  LEDGER_METADATA_KEY,
  decodeKurrentPosition,
  encodeKurrentPosition,
  fromCurrentState,
  fromKurrentEvent,
  isUnavailable,
  isUnsupported,
  kurrentEventId,
  nextRecordedAt,
  parseEventIdGuard,
  parseIdempotencyRecord,
  redactConnectionString,
  streamStateForHead,
  toKurrentEventData,
  toStreamState,
  translateAppendError,
  type KurrentRecordedEvent,
} from '../../src/event-store/kurrentdb/mapping.js';

function recorded(overrides: Partial<RecordedEvent> = {}): RecordedEvent {
  const base = {
    eventId: randomUUID(),
    type: 'AssetRegistered',
    schemaVersion: 2,
    data: { name: 'Hot wallet – 東京 🔐', values: [1, 1.5, null, { deep: true }], empty: {} },
    metadata: {
      actor: { id: 'alice', name: 'Alice', roles: ['ASSET_MANAGER'] },
      occurredAt: '2026-01-02T03:04:05.000Z',
      correlationId: 'corr-1',
      causationId: 'cause-1',
      commandId: 'cmd-1',
    },
    streamId: 'asset-1',
    revision: 0,
    recordedAt: '2026-01-02T03:04:05.123Z',
    prevHash: genesisHash('asset-1'),
    hashVersion: 2,
    ...overrides,
  };
  const hash = eventHash(base);
  return { ...base, position: '', hash, ...overrides };
}

/** What the client hands back for a stored event (as it would after a JSON round trip). */
function asStored(data: ReturnType<typeof toKurrentEventData>, stream: string, revision: bigint, commit: bigint, prepare: bigint): KurrentRecordedEvent {
  return {
    streamId: stream,
    id: data.id,
    revision,
    type: data.type,
    isJson: true,
    data: JSON.parse(JSON.stringify(data.data)),
    metadata: JSON.parse(JSON.stringify(data.metadata)),
    position: { commit, prepare },
  };
}

describe('KurrentDB mapping: envelope', () => {
  it('puts data in data and our fields (flat string metadata) in metadata, and reads back the same event', () => {
    const e = recorded();
    const k = toKurrentEventData(e);
    expect(k).toMatchObject({ id: e.eventId, contentType: 'application/json', type: 'AssetRegistered', data: e.data });
    expect(Object.values(k.metadata).every((v) => typeof v === 'string')).toBe(true);
    expect(k.metadata.$correlationId).toBe('corr-1');
    expect(k.metadata.$causationId).toBe('cause-1');
    const envelope = JSON.parse(k.metadata[LEDGER_METADATA_KEY]!);
    expect(envelope).toEqual({
      v: 1,
      eventId: e.eventId,
      schemaVersion: 2,
      recordedAt: e.recordedAt,
      hashVersion: 2,
      prevHash: e.prevHash,
      hash: e.hash,
      metadata: e.metadata,
    });

    const back = fromKurrentEvent(asStored(k, 'asset-1', 0n, 1234n, 1200n), 'asset-1');
    expect(back).toEqual({ ...e, position: encodeKurrentPosition({ commit: 1234n, prepare: 1200n }) });
    expect(back.chainHash).toBeUndefined();
    // the hash still verifies on what was read back (hash version 2 covers recordedAt)
    expect(eventHash(back)).toBe(back.hash);
  });

  it('reads metadata and data given as bytes, and ignores metadata keys it did not write', () => {
    const e = recorded();
    const k = toKurrentEventData(e);
    const stored = asStored(k, 'ns-asset-1', 3n, 10n, 10n);
    stored.metadata = new TextEncoder().encode(JSON.stringify({ ...k.metadata, '$schema.format': 'Json' }));
    stored.data = new TextEncoder().encode(JSON.stringify(k.data));
    const back = fromKurrentEvent(stored, 'asset-1');
    expect(back.data).toEqual(e.data);
    expect(back.metadata).toEqual(e.metadata);
    expect(back.revision).toBe(3);
  });

  it('refuses events it did not write', () => {
    const base = asStored(toKurrentEventData(recorded()), 's', 0n, 1n, 1n);
    expect(() => fromKurrentEvent({ ...base, metadata: { other: 'x' } }, 's')).toThrow(ForeignEventError);
    expect(() => fromKurrentEvent({ ...base, metadata: { [LEDGER_METADATA_KEY]: '{not json' } }, 's')).toThrow(/unreadable/);
    expect(() => fromKurrentEvent({ ...base, metadata: { [LEDGER_METADATA_KEY]: '{"v":9}' } }, 's')).toThrow(/envelope version 9/);
    expect(() => fromKurrentEvent({ ...base, data: [1, 2] }, 's')).toThrow(/not a JSON object/);
    const { position: _position, ...noPosition } = base;
    expect(() => fromKurrentEvent(noPosition, 's')).toThrow(/no position/);
  });

  it('uses a UUID event id as is and derives a stable UUID from any other id', () => {
    const id = randomUUID();
    expect(kurrentEventId(id.toUpperCase())).toBe(id);
    const derived = kurrentEventId('import-42');
    expect(derived).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(kurrentEventId('import-42')).toBe(derived);
    expect(kurrentEventId('import-43')).not.toBe(derived);
    const k = toKurrentEventData(recorded({ eventId: 'import-42' }));
    expect(k.id).toBe(derived);
    expect(JSON.parse(k.metadata[LEDGER_METADATA_KEY]!).eventId).toBe('import-42');
  });
});

describe('KurrentDB mapping: positions', () => {
  it('encodes commit and prepare zero-padded to 20 digits and decodes them back', () => {
    const p = { commit: 18446744073709551615n, prepare: 42n };
    const s = encodeKurrentPosition(p);
    expect(s).toBe('18446744073709551615-00000000000000000042');
    expect(decodeKurrentPosition(s)).toEqual(p);
    expect(KURRENT_ZERO_POSITION).toBe('00000000000000000000-00000000000000000000');
    expect(() => encodeKurrentPosition({ commit: -1n, prepare: 0n })).toThrow(RangeError);
    expect(() => encodeKurrentPosition({ commit: 1n << 64n, prepare: 0n })).toThrow(RangeError);
  });

  it('string order is (commit, prepare) order', () => {
    const tuples: [bigint, bigint][] = [
      [0n, 0n],
      [9n, 9n],
      [10n, 5n],
      [10n, 10n],
      [10n, 100n],
      [11n, 0n],
      [123456789n, 123456789n],
      [1n << 40n, 1n],
      [(1n << 64n) - 1n, (1n << 64n) - 1n],
    ];
    const encoded = tuples.map(([commit, prepare]) => encodeKurrentPosition({ commit, prepare }));
    const shuffled = [...encoded].reverse().sort();
    expect(shuffled).toEqual(encoded);
    for (let i = 1; i < encoded.length; i++) expect(encoded[i]! > encoded[i - 1]!).toBe(true);
  });

  it('refuses anything else with InvalidPositionError (including the SQLite store positions)', () => {
    for (const bad of ['abc', '-1', '', '1.5', '12345678901234567890123', '0000000000000000001', '00000000000000000001-1', '99999999999999999999-00000000000000000000']) {
      expect(() => decodeKurrentPosition(bad)).toThrow(InvalidPositionError);
    }
  });
});

describe('KurrentDB mapping: expected versions and errors', () => {
  it('maps expected versions to streamState', () => {
    expect(toStreamState(ExpectedVersion.any)).toBe('any');
    expect(toStreamState(ExpectedVersion.noStream)).toBe('no_stream');
    expect(toStreamState(ExpectedVersion.exact(4))).toBe(4n);
    expect(toStreamState({ kind: 'exact', version: -1 })).toBe('no_stream');
    expect(() => toStreamState({ kind: 'bogus' } as never)).toThrow(InvalidAppendError);
    // what an append is actually sent with, once the head was read
    expect(streamStateForHead(-1)).toBe('no_stream');
    expect(streamStateForHead(0)).toBe(0n);
    expect(fromCurrentState('no_stream')).toBe(-1);
    expect(fromCurrentState(7n)).toBe(7);
    expect(fromCurrentState(-5n)).toBe(-1); // deleted
  });

  it("translates the client's WrongExpectedVersionError into the port's", () => {
    const names = new KurrentStreamNames('t1-');
    const expected = new Map([['asset-1', ExpectedVersion.exact(3)]]);
    const translate = (error: unknown) => translateAppendError(error, (id) => expected.get(id), (n) => names.fromKurrent(n), 'fallback');

    const clientError = new ClientWrongExpectedVersionError(undefined, { streamName: 't1-asset-1', expected: 3n, current: 5n });
    const w = translate(clientError);
    expect(w).toBeInstanceOf(WrongExpectedVersionError);
    expect(w).toMatchObject({ streamId: 'asset-1', expectedVersion: { kind: 'exact', version: 3 }, actualVersion: 5 });

    const missing = translate(new ClientWrongExpectedVersionError(undefined, { streamName: 't1-asset-1', expected: 3n, current: 'no_stream' }));
    expect(missing).toMatchObject({ streamId: 'asset-1', actualVersion: -1 });

    // a multi-stream append's consistency violation (KurrentDB 25.1+)
    const violation = translate({ type: 'append-consistency-violation', violations: [{ checkIndex: 1, streamName: 't1-asset-1', expectedState: 3n, actualState: 4n }] });
    expect(violation).toMatchObject({ name: 'WrongExpectedVersionError', streamId: 'asset-1', actualVersion: 4 });

    const other = new Error('boom');
    expect(translate(other)).toBe(other);
  });

  it('recognises an unreachable server in both shapes, and an old server without multi-stream append', () => {
    const grpc14 = Object.assign(new Error('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED'), { code: 14 });
    expect(isUnavailable(grpc14)).toBe(true);
    expect(isUnavailable(new UnavailableError(undefined as never))).toBe(true);
    expect(isUnavailable({ type: 'unavailable' })).toBe(true);
    expect(isUnavailable(new Error('14 UNAVAILABLE: x'))).toBe(true);
    expect(isUnavailable(new Error('no'))).toBe(false);
    expect(isUnavailable(null)).toBe(false);
    expect(isUnsupported({ type: 'unsupported' })).toBe(true);
    expect(isUnsupported({ code: 12 })).toBe(true);
    expect(isUnsupported({ code: 14 })).toBe(false);
  });

  it('redacts passwords from connection strings', () => {
    expect(redactConnectionString('kurrentdb://admin:changeit@db:2113?tls=false')).toBe('kurrentdb://admin:***@db:2113?tls=false');
    expect(redactConnectionString('kurrentdb://db:2113?tls=false')).toBe('kurrentdb://db:2113?tls=false');
  });
});

describe('KurrentDB mapping: stream names and bookkeeping', () => {
  it('prefixes streams with the namespace and keeps system streams out', () => {
    const names = new KurrentStreamNames('t1-');
    expect(names.toKurrent('asset-1')).toBe('t1-asset-1');
    expect(names.fromKurrent('t1-asset-1')).toBe('asset-1');
    expect(names.fromKurrent('t2-asset-1')).toBeNull();
    expect(names.fromKurrent('$idempotency-t1-abc')).toBeNull();
    expect(() => names.toKurrent('$ce-asset')).toThrow(InvalidAppendError);
    expect(names.idempotency('alice:cmd-1')).toMatch(/^\$idempotency-t1-[0-9a-f]{64}$/);
    expect(names.eventIdGuard('e-1')).toBe('$event-id-t1-e-1');
    expect(() => new KurrentStreamNames('$x')).toThrow(RangeError);

    const regex = new RegExp(names.allStreamsRegex);
    expect(regex.test('t1-asset-1')).toBe(true);
    expect(regex.test('t1-$x')).toBe(false);
    expect(regex.test('t2-asset-1')).toBe(false);
    expect(regex.test('$event-id-t1-e')).toBe(false);
    const prod = new RegExp(new KurrentStreamNames().allStreamsRegex);
    expect(prod.test('asset-1')).toBe(true);
    expect(prod.test('$stats-127.0.0.1:2113')).toBe(false);
    expect(new RegExp(new KurrentStreamNames('a.b(c)-').allStreamsRegex).test('aXb(c)-s')).toBe(false);
  });

  it('parses idempotency records and event-id guards, refusing malformed ones', () => {
    expect(parseIdempotencyRecord({ streamId: 's', firstRevision: 0, lastRevision: 2 })).toEqual({ streamId: 's', firstRevision: 0, lastRevision: 2 });
    expect(parseIdempotencyRecord({ streamId: 's', firstRevision: '0', lastRevision: 2 })).toBeNull();
    expect(parseIdempotencyRecord(null)).toBeNull();
    expect(parseEventIdGuard({ streamId: 's', revision: 4 })).toEqual({ streamId: 's', revision: 4 });
    expect(parseEventIdGuard({ streamId: 's' })).toBeNull();
  });

  it('recordedAt never goes back', () => {
    expect(nextRecordedAt('2026-01-01T00:00:00.000Z', '')).toBe('2026-01-01T00:00:00.000Z');
    expect(nextRecordedAt('2025-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('KurrentDB append helpers', () => {
  it('hashes an append on top of the head it read: the same hashes as the reference eventHash (version 2)', () => {
    const input = [0, 1, 2].map((i) => ({ ...recorded(), data: { i } }));
    const prepared = prepareEvents('asset-1', input);
    const fresh = hashEvents('asset-1', prepared, { version: -1, hash: '', position: null }, '2026-01-01T00:00:00.000Z', 2);
    expect(fresh.map((e) => e.revision)).toEqual([0, 1, 2]);
    expect(fresh[0]!.prevHash).toBe(genesisHash('asset-1'));
    for (let i = 0; i < fresh.length; i++) {
      expect(eventHash(fresh[i]!)).toBe(fresh[i]!.hash);
      if (i > 0) expect(fresh[i]!.prevHash).toBe(fresh[i - 1]!.hash);
    }
    const next = hashEvents('asset-1', prepared.slice(0, 1), { version: 2, hash: fresh[2]!.hash, position: 'x' }, '2026-01-01T00:00:00.000Z', 2);
    expect(next[0]).toMatchObject({ revision: 3, prevHash: fresh[2]!.hash });
    // recordedAt is covered from hash version 2
    const later = hashEvents('asset-1', prepared.slice(0, 1), { version: -1, hash: '', position: null }, '2026-01-01T00:00:00.001Z', 2);
    expect(later[0]!.hash).not.toBe(fresh[0]!.hash);
  });
});

describe('KurrentDbEventStore without a server', () => {
  // Nothing listens on port 1: the client fails fast with UNAVAILABLE.
  const unreachable = 'kurrentdb://127.0.0.1:1?tls=false';

  it('is built by createEventStore, and refused without a connection string', async () => {
    const store = createEventStore({ kind: 'kurrentdb', kurrentConnectionString: unreachable });
    expect(store).toBeInstanceOf(KurrentDbEventStore);
    expect(store.adapterName).toBe('kurrentdb');
    await store.close();
    expect(() => createEventStore({ kind: 'kurrentdb' })).toThrow(EventStoreConfigError);
    expect(() => new KurrentDbEventStore({ connectionString: '' })).toThrow(TypeError);
  });

  it('starts, reports itself unreachable in health(), and refuses appends with the client error', async () => {
    const store = new KurrentDbEventStore({ connectionString: 'kurrentdb://admin:secret@127.0.0.1:1?tls=false', deadlineMs: 3000 });
    try {
      await store.init(); // an unreachable server does not stop the start: health says so
      const health = await store.health();
      expect(health.ok).toBe(false);
      expect(health.adapter).toBe('kurrentdb');
      expect(health.details).toMatchObject({ reason: 'unreachable', connection: 'kurrentdb://admin:***@127.0.0.1:1?tls=false' });
      expect(JSON.stringify(health)).not.toContain('secret');
      const append = store.append('s-1', [], { expectedVersion: ExpectedVersion.any });
      const error = await append.then(() => null, (e: unknown) => e);
      expect(isUnavailable(error)).toBe(true);
      expect(await store.readSignatures()).toEqual([]);
    } finally {
      await store.close();
    }
    await expect(store.append('s-1', [], { expectedVersion: ExpectedVersion.any })).rejects.toThrow(/closed/);
    expect((await store.health()).ok).toBe(false);
  }, 20_000);

  it('validates appends before any call to the server', async () => {
    const store = new KurrentDbEventStore({ connectionString: unreachable });
    try {
      await expect(store.append('$system', [], { expectedVersion: ExpectedVersion.any })).rejects.toThrow(InvalidAppendError);
      await expect(store.append('', [], { expectedVersion: ExpectedVersion.any })).rejects.toThrow(InvalidAppendError);
      await expect(store.appendMultiple([])).rejects.toThrow(InvalidAppendError);
      await expect(store.append('s', [], { expectedVersion: ExpectedVersion.any, hashVersion: 3 })).rejects.toThrow(/hash version/);
    } finally {
      await store.close();
    }
  });
});
