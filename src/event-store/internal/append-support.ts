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
    const d = jsonSnapshot(data, i);
    const m = jsonSnapshot(metadata, i);
    prepared[i] = { eventId, type, schemaVersion, data: d.value, metadata: m.value as unknown as EventMetadata, dataJson: d.json, metadataJson: m.json };
  }
  return prepared;
}

/**
 * The JSON form of a caller's object, and its text: exactly `JSON.parse(JSON.stringify(value))`.
 * A value in JSON form (plain objects and arrays of strings, finite numbers, booleans and null:
 * what the application's deciders produce), give or take undefined members, is copied as it is
 * walked, and the copy is written as text: half the cost of parsing the text back (`npm run bench
 * -- event-store`, "append preparation": 7 against 14 µs for registerAsset's two events).
 * Anything else (a Date or any toJSON, -0, NaN, a boxed primitive or class instance, a
 * `__proto__` key, a cycle, great depth) takes the text's round trip, so the rules of JSON are
 * applied by JSON itself. Copied or parsed, the caller's later changes cannot reach the log.
 */
function jsonSnapshot(value: Record<string, unknown>, index: number): { value: Record<string, unknown>; json: string } {
  let copy: unknown = NOT_JSON_FORM;
  try {
    copy = copyJsonForm(value, 0);
  } catch {
    // A getter that throws: JSON.stringify below meets it too, and says so as an InvalidAppendError.
  }
  if (copy !== NOT_JSON_FORM) return { value: copy as Record<string, unknown>, json: JSON.stringify(copy) };
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new InvalidAppendError(`events[${index}] is not JSON-serialisable: ${(err as Error).message}`);
  }
  return { value: JSON.parse(json) as Record<string, unknown>, json };
}

const NOT_JSON_FORM: unique symbol = Symbol('not in JSON form');
/** Deeper than this, the walk gives up (a cycle, or a structure no event has): the JSON round trip decides. */
const MAX_COPY_DEPTH = 64;

/** A copy of a value that JSON would give back unchanged, or NOT_JSON_FORM when JSON would change it (or refuse it). */
function copyJsonForm(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // JSON writes NaN and ±Infinity as null, and -0 as 0.
      return Number.isFinite(value) && !Object.is(value, -0) ? value : NOT_JSON_FORM;
    case 'object':
      break;
    case 'undefined':
      // Left out of an object, null in an array (as JSON writes it).
      return undefined;
    default:
      return NOT_JSON_FORM;
  }
  if (value === null) return null;
  if (depth >= MAX_COPY_DEPTH) return NOT_JSON_FORM;
  // toJSON (a Date's, or any object's) decides what JSON writes: left to JSON.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return NOT_JSON_FORM;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const c = copyJsonForm(value[i], depth + 1);
      if (c === NOT_JSON_FORM) return NOT_JSON_FORM;
      out[i] = c === undefined ? null : c;
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return NOT_JSON_FORM;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // Assigned, '__proto__' would set the copy's prototype: JSON.parse makes it an own property.
    if (key === '__proto__') return NOT_JSON_FORM;
    const c = copyJsonForm((value as Record<string, unknown>)[key], depth + 1);
    if (c === NOT_JSON_FORM) return NOT_JSON_FORM;
    if (c !== undefined) out[key] = c;
  }
  return out;
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
