/**
 * Pure mapping between the port's shapes and KurrentDB's (no I/O, no client at run time: unit
 * tested without a server in test/event-store/kurrentdb-mapping.spec.ts).
 *
 * Envelope. A KurrentDB event carries:
 * - `id`: our eventId when it is a UUID (the application makes UUIDv7s), else a UUID derived from
 *   it (SHA-256, version nibble 8); our eventId always travels in the envelope;
 * - `type`: our type; `data`: our data, as the JSON that append-support normalised (the bytes the
 *   hash covers);
 * - `metadata`: a flat JSON object of strings (the only shape KurrentDB's multi-stream append
 *   accepts, so both append paths write the same thing): `$correlationId` and `$causationId` for
 *   KurrentDB's own tooling, and under `risk-ledger` the JSON of our envelope: the event's
 *   metadata (actor, occurredAt, ids), schemaVersion, recordedAt, hashVersion, prevHash and hash.
 *   KurrentDB's own `created` (server time) is not used: recordedAt is set client-side, before
 *   hashing, because hash version 2 covers it.
 *
 * Positions. `$all` is ordered by (commit, prepare), two unsigned 64-bit log offsets. A position is
 * written `CCCCCCCCCCCCCCCCCCCC-PPPPPPPPPPPPPPPPPPPP`: each part zero-padded to 20 decimal digits
 * (2^64 - 1 has 20), so comparing the strings compares the tuples and string order is log order.
 * These are NOT the 19-digit positions of the SQLite store (hash-chain.ts decodePosition refuses
 * them); they are opaque, as the port says.
 */
import { createHash } from 'node:crypto';
import {
  WrongExpectedVersionError,
  type EventMetadata,
  type ExpectedVersion,
  type RecordedEvent,
} from '../event-store.port.js';
import { InvalidPositionError } from '../hash-chain.js';
import { InvalidAppendError } from '../errors.js';
import { sha256 } from '../hash-chain.js';

// ------------------------------------------------------------------ positions

export interface KurrentPosition {
  commit: bigint;
  prepare: bigint;
}

export const KURRENT_POSITION_DIGITS = 20;
const U64_MAX = (1n << 64n) - 1n;
const POSITION_PATTERN = /^(\d{20})-(\d{20})$/;

export function encodeKurrentPosition(position: KurrentPosition): string {
  const { commit, prepare } = position;
  if (commit < 0n || prepare < 0n || commit > U64_MAX || prepare > U64_MAX) {
    throw new RangeError(`KurrentDB position out of range: ${String(commit)}/${String(prepare)}`);
  }
  return `${commit.toString().padStart(KURRENT_POSITION_DIGITS, '0')}-${prepare.toString().padStart(KURRENT_POSITION_DIGITS, '0')}`;
}

/** Throws InvalidPositionError for anything encodeKurrentPosition could not have produced. */
export function decodeKurrentPosition(position: string): KurrentPosition {
  const m = typeof position === 'string' ? POSITION_PATTERN.exec(position) : null;
  if (!m) throw new InvalidPositionError(String(position));
  const commit = BigInt(m[1]!);
  const prepare = BigInt(m[2]!);
  if (commit > U64_MAX || prepare > U64_MAX) throw new InvalidPositionError(position);
  return { commit, prepare };
}

/** The position before every event (an empty stream's append answers it). */
export const KURRENT_ZERO_POSITION = encodeKurrentPosition({ commit: 0n, prepare: 0n });

// ------------------------------------------------------------------ stream states

/** What the client accepts as `streamState` (its constants are these strings). */
export type KurrentStreamState = 'any' | 'no_stream' | 'stream_exists' | bigint;
/** What it reports as the actual state in a conflict. */
export type KurrentCurrentState = 'no_stream' | bigint;

/** The port's expected version as KurrentDB's `streamState`. */
export function toStreamState(expected: ExpectedVersion): KurrentStreamState {
  switch (expected.kind) {
    case 'any':
      return 'any';
    case 'no_stream':
      return 'no_stream';
    case 'exact':
      return expected.version < 0 ? 'no_stream' : BigInt(expected.version);
    default:
      throw new InvalidAppendError(`invalid expectedVersion ${JSON.stringify(expected)}`);
  }
}

/**
 * The exact state an append is sent with once the adapter has read the stream's head: the hash
 * chain needs the predecessor it read to be the one stored, so even an `any` append goes out with
 * the revision it read (and is retried on a conflict).
 */
export function streamStateForHead(version: number): KurrentStreamState {
  return version < 0 ? 'no_stream' : BigInt(version);
}

/** KurrentDB's actual state as the port's version: -1 for no stream (and for deleted streams, -5/-6). */
export function fromCurrentState(state: unknown): number {
  if (typeof state === 'bigint') return state < 0n ? -1 : Number(state);
  if (typeof state === 'number') return state < 0 ? -1 : state;
  return -1;
}

// ------------------------------------------------------------------ errors

interface ClientWrongExpectedVersion {
  type: 'wrong-expected-version';
  streamName?: string;
  actualState?: unknown;
}
interface ClientConsistencyViolation {
  type: 'append-consistency-violation';
  violations?: { streamName?: string; actualState?: unknown }[];
}

function errorType(error: unknown): string | undefined {
  const t = (error as { type?: unknown } | null)?.type;
  return typeof t === 'string' ? t : undefined;
}

/** The client's conflict (single-stream append, or a multi-stream append's consistency check). */
export function isClientConflict(error: unknown): error is ClientWrongExpectedVersion | ClientConsistencyViolation {
  const t = errorType(error);
  return t === 'wrong-expected-version' || t === 'append-consistency-violation';
}

/**
 * Translates the client's conflict into the port's WrongExpectedVersionError (stream id and
 * expectation as the caller gave them, the actual version as the server saw it). `streamIdOf` maps a
 * KurrentDB stream name back to ours (null: not one of ours). Other errors are returned unchanged.
 */
export function translateAppendError(
  error: unknown,
  expectedOf: (streamId: string) => ExpectedVersion | undefined,
  streamIdOf: (kurrentName: string) => string | null,
  fallbackStreamId: string,
): unknown {
  if (!isClientConflict(error)) return error;
  let name: string | undefined;
  let actual: unknown;
  if (error.type === 'wrong-expected-version') {
    name = error.streamName;
    actual = error.actualState;
  } else {
    const v = error.violations?.[0];
    name = v?.streamName;
    actual = v?.actualState;
  }
  const streamId = (name !== undefined ? streamIdOf(name) : null) ?? fallbackStreamId;
  const expected = expectedOf(streamId) ?? { kind: 'any' };
  return new WrongExpectedVersionError(streamId, expected, fromCurrentState(actual));
}

export function isStreamNotFound(error: unknown): boolean {
  return errorType(error) === 'stream-not-found';
}

/** The server is not supported feature (multi-stream append before KurrentDB 25.1): gRPC 12 or the client's UnsupportedError. */
export function isUnsupported(error: unknown): boolean {
  return errorType(error) === 'unsupported' || (error as { code?: unknown } | null)?.code === 12;
}

/**
 * An unreachable server, in both shapes the client produces: appends fail with a plain gRPC error
 * (`code: 14`, "14 UNAVAILABLE: ..."), reads with the client's UnavailableError (`type:
 * 'unavailable'`). Deadline and timeout errors count too: a server that does not answer in time.
 */
export function isUnavailable(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { code?: unknown; type?: unknown; name?: unknown; message?: unknown };
  if (e.code === 14 || e.code === 4) return true;
  if (e.type === 'unavailable' || e.type === 'deadline-exceeded' || e.type === 'timeout') return true;
  if (e.name === 'UnavailableError' || e.name === 'DeadlineExceededError' || e.name === 'TimeoutError') return true;
  return typeof e.message === 'string' && /\bUNAVAILABLE\b|\bDEADLINE_EXCEEDED\b/.test(e.message);
}

/** A connection string with its password replaced (for health details and errors). */
export function redactConnectionString(connection: string): string {
  return connection.replace(/\/\/([^:@/]+):([^@/]*)@/, '//$1:***@');
}

// ------------------------------------------------------------------ stream names

const SYSTEM_PREFIX = '$';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * Our stream ids inside KurrentDB. Every stream is `namespace + streamId` (namespace '' in
 * production; tests give each store its own, so that one server holds many empty logs). Ids that
 * start with `$` are refused: KurrentDB reserves them for system streams. The adapter's own
 * bookkeeping streams are system streams, out of every read of the log:
 * `$idempotency-<namespace><sha256(key)>` and `$event-id-<namespace><eventId>`.
 */
export class KurrentStreamNames {
  constructor(readonly namespace: string = '') {
    if (namespace.startsWith(SYSTEM_PREFIX)) throw new RangeError('the KurrentDB namespace may not start with $');
  }

  toKurrent(streamId: string): string {
    if (streamId.startsWith(SYSTEM_PREFIX)) {
      throw new InvalidAppendError(`stream id ${streamId} starts with $, which KurrentDB reserves for system streams`);
    }
    return this.namespace + streamId;
  }

  /** Our stream id, or null for a stream outside this store (another namespace, a system stream). */
  fromKurrent(name: string): string | null {
    if (!name.startsWith(this.namespace)) return null;
    const id = name.slice(this.namespace.length);
    return id.length === 0 || id.startsWith(SYSTEM_PREFIX) ? null : id;
  }

  idempotency(key: string): string {
    return `$idempotency-${this.namespace}${sha256(key)}`;
  }

  eventIdGuard(eventId: string): string {
    return `$event-id-${this.namespace}${eventId}`;
  }

  /** Server-side filter of `$all`: this namespace's streams, no system stream. */
  get allStreamsRegex(): string {
    return `^${escapeRegex(this.namespace)}[^$]`;
  }
}

// ------------------------------------------------------------------ events

export const LEDGER_METADATA_KEY = 'risk-ledger';
export const ENVELOPE_VERSION = 1;

/** What our events carry in KurrentDB metadata (as JSON under LEDGER_METADATA_KEY). */
export interface LedgerEnvelope {
  v: typeof ENVELOPE_VERSION;
  eventId: string;
  schemaVersion: number;
  recordedAt: string;
  hashVersion: number;
  prevHash: string;
  hash: string;
  metadata: EventMetadata;
}

/** The event as the client's jsonEvent() would build it. */
export interface KurrentEventData {
  id: string;
  contentType: 'application/json';
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, string>;
}

/** The fields of the client's RecordedEvent the adapter reads. */
export interface KurrentRecordedEvent {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  isJson: boolean;
  data: unknown;
  metadata: unknown;
  position?: KurrentPosition;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** KurrentDB's event id (a UUID) for our eventId: itself when it is one, else derived from it. */
export function kurrentEventId(eventId: string): string {
  if (UUID_PATTERN.test(eventId)) return eventId.toLowerCase();
  const h = createHash('sha256').update(`risk-ledger/event-id/${eventId}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A recorded event (hashes computed) as the event KurrentDB stores. */
export function toKurrentEventData(event: RecordedEvent): KurrentEventData {
  const envelope: LedgerEnvelope = {
    v: ENVELOPE_VERSION,
    eventId: event.eventId,
    schemaVersion: event.schemaVersion,
    recordedAt: event.recordedAt,
    hashVersion: event.hashVersion ?? 1,
    prevHash: event.prevHash,
    hash: event.hash,
    metadata: event.metadata,
  };
  return {
    id: kurrentEventId(event.eventId),
    contentType: 'application/json',
    type: event.type,
    data: event.data,
    metadata: {
      $correlationId: String(event.metadata.correlationId ?? ''),
      $causationId: String(event.metadata.causationId ?? ''),
      [LEDGER_METADATA_KEY]: JSON.stringify(envelope),
    },
  };
}

/** Raised when `$all` or a stream holds an event this store did not write (or a damaged one). */
export class ForeignEventError extends Error {
  constructor(readonly kurrentStream: string, readonly revision: bigint, reason: string) {
    super(`KurrentDB event ${kurrentStream}@${String(revision)} is not a risk-ledger event: ${reason}`);
    this.name = 'ForeignEventError';
  }
}

function parseMetadata(raw: unknown): Record<string, unknown> | null {
  if (raw instanceof Uint8Array) {
    try {
      raw = JSON.parse(Buffer.from(raw).toString('utf8'));
    } catch {
      return null;
    }
  }
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : null;
}

/** A stored KurrentDB event back as the port's RecordedEvent (no chainHash: see the adapter). */
export function fromKurrentEvent(event: KurrentRecordedEvent, streamId: string): RecordedEvent {
  const fail = (reason: string) => new ForeignEventError(event.streamId, event.revision, reason);
  if (!event.position) throw fail('no position (the server returned none)');
  const metadata = parseMetadata(event.metadata);
  const text = metadata?.[LEDGER_METADATA_KEY];
  if (typeof text !== 'string') throw fail(`no ${LEDGER_METADATA_KEY} metadata`);
  let envelope: LedgerEnvelope;
  try {
    envelope = JSON.parse(text) as LedgerEnvelope;
  } catch {
    throw fail('unreadable envelope');
  }
  if (envelope?.v !== ENVELOPE_VERSION) throw fail(`unknown envelope version ${String(envelope?.v)}`);
  let data = event.data;
  if (data instanceof Uint8Array) data = JSON.parse(Buffer.from(data).toString('utf8'));
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw fail('data is not a JSON object');
  return {
    eventId: envelope.eventId,
    type: event.type,
    schemaVersion: envelope.schemaVersion,
    data: data as Record<string, unknown>,
    metadata: envelope.metadata,
    streamId,
    revision: Number(event.revision),
    position: encodeKurrentPosition(event.position),
    recordedAt: envelope.recordedAt,
    prevHash: envelope.prevHash,
    hash: envelope.hash,
    hashVersion: envelope.hashVersion,
  };
}

// ------------------------------------------------------------------ bookkeeping records

/** The record of an idempotency key: which append it stands for (the revisions of its events). */
export interface IdempotencyRecord {
  streamId: string;
  firstRevision: number;
  lastRevision: number;
}

export const IDEMPOTENCY_EVENT_TYPE = '$risk-ledger-idempotency';
export const EVENT_ID_GUARD_TYPE = '$risk-ledger-event-id';

export function parseIdempotencyRecord(data: unknown): IdempotencyRecord | null {
  const r = data as Partial<IdempotencyRecord> | null;
  if (!r || typeof r.streamId !== 'string' || !Number.isSafeInteger(r.firstRevision) || !Number.isSafeInteger(r.lastRevision)) return null;
  return { streamId: r.streamId, firstRevision: r.firstRevision!, lastRevision: r.lastRevision! };
}

/** The guard of an event id: the stream and revision the event was (to be) written at. */
export interface EventIdGuard {
  streamId: string;
  revision: number;
}

export function parseEventIdGuard(data: unknown): EventIdGuard | null {
  const r = data as Partial<EventIdGuard> | null;
  if (!r || typeof r.streamId !== 'string' || !Number.isSafeInteger(r.revision)) return null;
  return { streamId: r.streamId, revision: r.revision! };
}

/** recordedAt never decreases along what this writer has seen: max(candidate, latest). */
export function nextRecordedAt(candidate: string, latest: string): string {
  return candidate > latest ? candidate : latest;
}
