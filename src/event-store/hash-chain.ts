import { hash as oneShotHash } from 'node:crypto';
import type { EventMetadata } from './event-store.port.js';
import { canonicalJson } from '../shared/domain/canonical-json.js';

/**
 * The tamper-evidence chain. Each event's hash covers its identity (stream, revision, event id),
 * its content (type, schema version, data, metadata), the instant it was recorded (hash version
 * 2) and the hash of the previous event of the same stream. The expected-version check guarantees that the predecessor the writer saw is the
 * predecessor that is stored, so the per-stream chain can be computed by any adapter without a
 * cross-stream transaction (KurrentDB has none; PostgreSQL writers run concurrently).
 *
 * The global log chain (chainHash) links every event to the one before it in log order; adapters
 * that serialise their appends (SQLite's single writer) compute it at append time.
 */

export const HASH_ALGORITHM = 'sha256';

/** Hash that revision 0 of a stream points back to. */
export function genesisHash(streamId: string): string {
  return sha256(`risk-ledger/genesis/${streamId}`);
}

/**
 * Versions of the event hash. 1: identity, content and prevHash. 2 (from this build on): also
 * `recordedAt`, so that moving an event in time (and so every `asOf` answer) changes its hash.
 * Each stored event keeps the version it was hashed with; along the log the version never
 * decreases (the verifier refuses a version-1 event after a version-2 one).
 */
export const CURRENT_HASH_VERSION = 2;

export interface HashableEvent {
  streamId: string;
  revision: number;
  eventId: string;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: EventMetadata;
  prevHash: string;
  /** Covered from hash version 2. */
  recordedAt?: string;
  /** Absent: 1 (events written before versions existed). */
  hashVersion?: number;
}

export function eventHash(e: HashableEvent): string {
  const version = e.hashVersion ?? 1;
  if (version !== 1 && version !== 2) throw new Error(`unknown hash version ${String(e.hashVersion)}`);
  return sha256(
    canonicalJson({
      streamId: e.streamId,
      revision: e.revision,
      eventId: e.eventId,
      type: e.type,
      schemaVersion: e.schemaVersion,
      data: e.data,
      metadata: e.metadata,
      prevHash: e.prevHash,
      ...(version >= 2 ? { recordedAt: e.recordedAt ?? null } : {}),
    }),
  );
}

/** Genesis of the global chain. */
export const LOG_GENESIS = sha256('risk-ledger/genesis/$all');

/** Link of the global chain: the previous link, the event's position and its own hash. */
export function chainHash(previousChainHash: string, position: string, eventHashValue: string): string {
  return sha256(`${previousChainHash}|${position}|${eventHashValue}`);
}

/** SHA-256 of the text's UTF-8 bytes, lowercase hex (crypto.hash: the one-shot form of createHash). */
export function sha256(text: string): string {
  return oneShotHash(HASH_ALGORITHM, text, 'hex');
}

/** The reference canonical form (shared with the domain's consent fingerprint). */
export { canonicalJson };

/**
 * Whether a text is a position of some adapter: 19 zero-padded digits (SQLite, memory,
 * PostgreSQL: gap-free counters) or KurrentDB's commit and prepare positions (20 digits each,
 * joined by '-'). Either way the string order is the log's order (the port's rule), so callers
 * compare positions as strings and never need to decode them.
 */
export function isPosition(value: unknown): value is string {
  return typeof value === 'string' && (/^\d{1,19}$/.test(value) || /^\d{20}-\d{20}$/.test(value));
}

/** Positions are zero-padded decimals so that string order equals numeric order. */
export const POSITION_WIDTH = 19;
const POSITION_ZEROS = '0'.repeat(POSITION_WIDTH);
export function encodePosition(n: number | bigint): string {
  const digits = n.toString();
  // = digits.padStart(POSITION_WIDTH, '0'), a few times cheaper (once or twice per appended event)
  return digits.length >= POSITION_WIDTH ? digits : POSITION_ZEROS.slice(digits.length) + digits;
}
export function decodePosition(position: string): bigint {
  if (!/^\d{1,19}$/.test(position)) throw new InvalidPositionError(position);
  return BigInt(position);
}

export class InvalidPositionError extends Error {
  constructor(readonly position: string) {
    super(`Invalid position: ${position}`);
    this.name = 'InvalidPositionError';
  }
}
