/**
 * Adapter-independent parts of an append: input validation, JSON normalisation, the expected
 * version check and the construction of hashed RecordedEvents. Shared by the SQLite and the
 * in-memory adapters (and meant for the PostgreSQL/KurrentDB ones) so that they hash and store
 * exactly the same bytes.
 */
import { WrongExpectedVersionError, type EventMetadata, type ExpectedVersion, type NewEvent, type RecordedEvent, type StreamAppend } from '../event-store.port.js';
import { CURRENT_HASH_VERSION, encodePosition } from '../hash-chain.js';
import { fastChainHash, fastEventHash } from './fast-hash.js';
import { InvalidAppendError } from '../errors.js';

/**
 * An event after validation and JSON normalisation: `data`/`metadata` are the parsed form of
 * `dataJson`/`metadataJson`, i.e. exactly what a reader gets back and what the hash covers
 * (undefined properties dropped, Dates turned into strings, and so on). Normalising once, when
 * append() is called, also snapshots the caller's objects: mutating them afterwards changes nothing.
 */
export interface PreparedEvent {
  eventId: string;
  type: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  dataJson: string;
  metadataJson: string;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || streamId.length === 0) {
    throw new InvalidAppendError('streamId must be a non-empty string');
  }
}

export function prepareEvents(streamId: string, events: readonly NewEvent[]): PreparedEvent[] {
  validateStreamId(streamId);
  if (!Array.isArray(events)) throw new InvalidAppendError('events must be an array');
  const prepared: PreparedEvent[] = new Array(events.length);
  const seen = events.length > 1 ? new Set<string>() : null;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as NewEvent | undefined;
    if (!isPlainObject(e)) throw new InvalidAppendError(`events[${i}] must be an object`);
    const { eventId, type, schemaVersion, data, metadata } = e;
    if (typeof eventId !== 'string' || eventId.length === 0) {
      throw new InvalidAppendError(`events[${i}].eventId must be a non-empty string`);
    }
    if (typeof type !== 'string' || type.length === 0) {
      throw new InvalidAppendError(`events[${i}].type must be a non-empty string`);
    }
    if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 0) {
      throw new InvalidAppendError(`events[${i}].schemaVersion must be a non-negative integer`);
    }
    if (!isPlainObject(data)) throw new InvalidAppendError(`events[${i}].data must be an object`);
    if (!isPlainObject(metadata)) throw new InvalidAppendError(`events[${i}].metadata must be an object`);
    if (seen) {
      if (seen.has(eventId)) throw new InvalidAppendError(`eventId ${eventId} appears twice in one append`);
      seen.add(eventId);
    }
    let dataJson: string;
    let metadataJson: string;
    try {
      dataJson = JSON.stringify(data);
      metadataJson = JSON.stringify(metadata);
    } catch (err) {
      throw new InvalidAppendError(`events[${i}] is not JSON-serialisable: ${(err as Error).message}`);
    }
    prepared[i] = {
      eventId,
      type,
      schemaVersion,
      data: JSON.parse(dataJson) as Record<string, unknown>,
      metadata: JSON.parse(metadataJson) as EventMetadata,
      dataJson,
      metadataJson,
    };
  }
  return prepared;
}

/** True when a stream at `actual` (-1: no stream) satisfies the expected version. */
export function expectedVersionMatches(expected: ExpectedVersion, actual: number): boolean {
  switch (expected.kind) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === -1;
    case 'exact':
      return actual === expected.version;
    default:
      return false;
  }
}

export function validateExpectedVersion(expected: unknown): asserts expected is ExpectedVersion {
  if (!isPlainObject(expected)) throw new InvalidAppendError('options.expectedVersion is required');
  const kind = expected.kind;
  if (kind === 'any' || kind === 'no_stream') return;
  if (kind === 'exact' && Number.isSafeInteger(expected.version) && (expected.version as number) >= -1) return;
  throw new InvalidAppendError(`invalid expectedVersion ${JSON.stringify(expected)}`);
}

export function validateIdempotencyKey(key: unknown): asserts key is string | undefined {
  if (key !== undefined && (typeof key !== 'string' || key.length === 0)) {
    throw new InvalidAppendError('options.idempotencyKey must be a non-empty string when given');
  }
}

/** The per-stream hash of a prepared event (every adapter hashes through here). */
export function streamEventHash(streamId: string, revision: number, prevHash: string, recordedAt: string, e: PreparedEvent, hashVersion: number): string {
  return fastEventHash({ hashVersion, recordedAt, streamId, revision, eventId: e.eventId, type: e.type, schemaVersion: e.schemaVersion, data: e.data, metadata: e.metadata, prevHash });
}

/**
 * Builds the stored form of one event: per-stream hash over the canonical event and the global
 * chain link. The returned object is what append() resolves with and what the store persists.
 */
export function recordEvent(
  streamId: string,
  revision: number,
  positionNumber: number,
  prevHash: string,
  previousChainHash: string,
  recordedAt: string,
  e: PreparedEvent,
  hashVersion: number = CURRENT_HASH_VERSION,
): RecordedEvent {
  const hash = streamEventHash(streamId, revision, prevHash, recordedAt, e, hashVersion);
  const position = encodePosition(positionNumber);
  return {
    eventId: e.eventId,
    type: e.type,
    schemaVersion: e.schemaVersion,
    data: e.data,
    metadata: e.metadata,
    streamId,
    revision,
    position,
    recordedAt,
    prevHash,
    hash,
    chainHash: fastChainHash(previousChainHash, position, hash),
    hashVersion,
  };
}

/** Validates a maxCount-like option. */
export function normaliseCount(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return value;
}

/** A stream's head as a writer sees it before appending. */
export interface StreamHead {
  /** -1: no stream. */
  version: number;
  /** Hash of the stream's last event ('' when there is none). */
  lastHash: string;
  /** Position of the stream's last event, where the writer knows it (it wrote that event). */
  position?: number;
}

/**
 * Checks every part of an append against its stream's head before any is written: an atomic
 * multi-stream append is all or nothing. The heads, in part order, or the first conflict.
 */
export function checkParts(parts: readonly PreparedPart[], headOf: (streamId: string) => StreamHead): { heads: StreamHead[] } | { conflict: WrongExpectedVersionError } {
  const heads: StreamHead[] = new Array(parts.length);
  for (let k = 0; k < parts.length; k++) {
    const { streamId, expected } = parts[k]!;
    const head = headOf(streamId);
    if (!expectedVersionMatches(expected, head.version)) return { conflict: new WrongExpectedVersionError(streamId, expected, head.version) };
    heads[k] = head;
  }
  return { heads };
}

/** recordedAt of a commit: now (or the imported instant), never earlier than the log's latest. */
export function commitInstant(candidate: string, latest: string): string {
  return candidate > latest ? candidate : latest;
}

/** A validated part of a multi-stream append. */
export interface PreparedPart {
  streamId: string;
  events: PreparedEvent[];
  expected: ExpectedVersion;
}

/** Validates the parts of an atomic multi-stream append: at least one, each stream once. */
export function prepareParts(parts: readonly StreamAppend[]): PreparedPart[] {
  if (!Array.isArray(parts) || parts.length === 0) throw new InvalidAppendError('appendMultiple needs at least one part');
  const seen = new Set<string>();
  return parts.map((part: StreamAppend, i) => {
    if (!isPlainObject(part)) throw new InvalidAppendError(`parts[${i}] must be an object`);
    const { streamId, expectedVersion } = part;
    validateExpectedVersion(expectedVersion);
    const events = prepareEvents(streamId, part.events);
    if (seen.has(streamId)) throw new InvalidAppendError(`stream ${streamId} appears twice in one append`);
    seen.add(streamId);
    return { streamId, events, expected: expectedVersion };
  });
}

/** The hash version of an append: the current one, or an older one kept by an evidence import (one rule for every adapter). */
export function validHashVersion(version: number | undefined): number {
  if (version === undefined) return CURRENT_HASH_VERSION;
  if (version !== 1 && version !== 2) throw new InvalidAppendError(`unknown hash version ${String(version)}`);
  return version;
}
