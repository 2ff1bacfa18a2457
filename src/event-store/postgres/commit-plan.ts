/**
 * What one group commit writes, decided in memory from the heads read under the append lock:
 * each queued append is checked against its streams' heads (plus what earlier appends of the same
 * batch wrote), hashed into both chains, and turned into the column arrays of one INSERT. Pure:
 * no I/O, so the lock is held only for the round trips.
 */
import type { AppendResult, RecordedEvent } from '../event-store.port.js';
import { encodePosition, genesisHash } from '../hash-chain.js';
import { checkParts, commitInstant, recordEvent, type PreparedPart, type StreamHead } from '../internal/append-support.js';
import type { ChainSigner } from '../signing.js';

/** One queued append: a single stream, or several streams written atomically (appendMultiple). */
export interface PendingAppend {
  parts: PreparedPart[];
  key: string | undefined;
  recordedAt: string | undefined;
  hashVersion: number;
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
}

/** The committed append that used an idempotency key (positions as decimal strings). */
export interface StoredKey {
  streamId: string;
  firstPosition: string;
  lastPosition: string;
}

export type Outcome =
  | { ok: true; results: AppendResult[] }
  | { ok: false; error: unknown }
  /** The key was used by an append committed before this batch: answered after COMMIT. */
  | { ok: 'stored'; key: StoredKey };

/** What the heads query returned under the lock. */
export interface LockedHeads {
  /** Last position of the log (0 when empty), its chain link and recordedAt. */
  position: number;
  chain: string;
  recordedAt: string;
  streams: Map<string, StreamHead>;
  keys: Map<string, StoredKey>;
}

/** The column arrays of the write statement, in its parameter order. */
export interface CommitPlan {
  outcomes: Outcome[];
  written: number;
  /** Head after the batch. */
  position: number;
  chain: string;
  recordedAt: string;
  params: unknown[] | null;
}

/** Parses the one row of the heads statement. */
export function parseHeads(row: { head: [string, string, string] | null; streams: [string, number, string][] | null; keys: [string, string, string, string][] | null }, genesis: string): LockedHeads {
  const streams = new Map<string, StreamHead>();
  for (const [id, revision, hash] of row.streams ?? []) streams.set(id, { version: revision, lastHash: hash });
  const keys = new Map<string, StoredKey>();
  for (const [key, streamId, firstPosition, lastPosition] of row.keys ?? []) keys.set(key, { streamId, firstPosition, lastPosition });
  const position = row.head ? Number(row.head[0]) : 0;
  if (!Number.isSafeInteger(position)) throw new RangeError(`log position ${row.head?.[0]} is beyond 2^53`);
  return { position, chain: row.head ? row.head[1] : genesis, recordedAt: row.head ? row.head[2] : '', streams, keys };
}

export function planCommit(batch: PendingAppend[], heads: LockedHeads, now: string, signer: ChainSigner | undefined, channel: string): CommitPlan {
  let position = heads.position;
  const firstOfCommit = position + 1;
  let chain = heads.chain;
  let lastRecordedAt = heads.recordedAt;
  let written = 0;
  const outcomes: Outcome[] = new Array(batch.length);
  const streams = heads.streams;
  const keysInBatch = new Map<string, AppendResult>();

  // Columns of the events, idempotency and signature inserts.
  const ev: unknown[][] = Array.from({ length: 13 }, () => []);
  const idem: unknown[][] = [[], [], [], []];
  const sig: unknown[][] = [[], [], [], [], []];

  for (let i = 0; i < batch.length; i++) {
    const a = batch[i]!;
    const { parts, key } = a;
    if (key !== undefined) {
      const earlier = keysInBatch.get(key);
      if (earlier) {
        outcomes[i] = { ok: true, results: [{ ...earlier, events: earlier.events.slice(), duplicate: true }] };
        continue;
      }
      const stored = heads.keys.get(key);
      if (stored) {
        outcomes[i] = { ok: 'stored', key: stored };
        continue;
      }
    }

    const checked = checkParts(parts, (streamId) => streams.get(streamId) ?? { version: -1, lastHash: '' });
    if ('conflict' in checked) {
      outcomes[i] = { ok: false, error: checked.conflict };
      continue;
    }
    const partHeads = checked.heads;
    const recordedAt = commitInstant(a.recordedAt ?? now, lastRecordedAt);
    const results: AppendResult[] = new Array(parts.length);
    for (let k = 0; k < parts.length; k++) {
      const { streamId, events } = parts[k]!;
      let { version } = partHeads[k]!;
      if (events.length === 0) {
        results[k] = { streamId, nextExpectedVersion: version, position: encodePosition(position), events: [], duplicate: false };
        continue;
      }
      lastRecordedAt = recordedAt;
      let prevHash = version === -1 ? genesisHash(streamId) : partHeads[k]!.lastHash;
      const firstPosition = position + 1;
      const recorded: RecordedEvent[] = new Array(events.length);
      for (let j = 0; j < events.length; j++) {
        const p = events[j]!;
        position++;
        const r = recordEvent(streamId, version + 1 + j, position, prevHash, chain, recordedAt, p, a.hashVersion);
        const row = [position, p.eventId, streamId, r.revision, p.type, p.schemaVersion, p.dataJson, p.metadataJson, recordedAt, prevHash, r.hash, r.chainHash, a.hashVersion];
        for (let c = 0; c < 13; c++) ev[c]!.push(row[c]);
        recorded[j] = r;
        prevHash = r.hash;
        chain = r.chainHash!;
      }
      version += events.length;
      written += events.length;
      streams.set(streamId, { version, lastHash: prevHash });
      results[k] = { streamId, nextExpectedVersion: version, position: recorded[recorded.length - 1]!.position, events: recorded, duplicate: false };
      // The idempotency key stands for the first part: the command's own stream.
      if (k === 0 && key !== undefined) {
        idem[0]!.push(key);
        idem[1]!.push(streamId);
        idem[2]!.push(firstPosition);
        idem[3]!.push(position);
        keysInBatch.set(key, results[0]!);
      }
    }
    outcomes[i] = { ok: true, results };
  }

  if (written === 0) return { outcomes, written, position, chain, recordedAt: lastRecordedAt, params: null };
  // The commit's chain head, signed in the same transaction as its events.
  if (signer) {
    const head = signer.sign('log', encodePosition(position), chain, encodePosition(firstOfCommit));
    sig[0]!.push(position);
    sig[1]!.push(firstOfCommit);
    sig[2]!.push(head.chainHash);
    sig[3]!.push(head.kid);
    sig[4]!.push(head.signature);
  }
  return { outcomes, written, position, chain, recordedAt: lastRecordedAt, params: [...ev, ...idem, ...sig, channel, encodePosition(position)] };
}
