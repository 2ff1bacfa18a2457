/**
 * The body of the SQLite store's write transaction (sqlite-event-store.ts wraps it once in
 * db.transaction at open): each append of a group commit checked against its streams' heads and
 * the earlier appends of the batch, its events inserted with their hashes, and the commit's chain
 * head signed. Version conflicts become per-append outcomes; any other error aborts (and rolls
 * back) the whole batch. It changes no state of the store's: the store takes the result once
 * COMMIT has returned.
 */
import type { AppendResult, RecordedEvent } from '../event-store.port.js';
import { encodePosition, genesisHash } from '../hash-chain.js';
import { checkParts, commitInstant, recordEvent, type StreamHead } from '../internal/append-support.js';
import type { ChainSigner } from '../signing.js';
import type { CommittedStreamHeads } from './committed-stream-heads.js';
import { appendByKey, type Statements } from './rows.js';
import type { BatchResult, Outcome, PendingAppend } from './store-types.js';

/** The log's head the batch writes after: its position, global chain hash and newest recordedAt. */
export interface LogHead {
  position: number;
  chain: string;
  recordedAt: string;
}

export function writeBatch(
  s: Statements,
  batch: PendingAppend[],
  log: LogHead,
  committed: CommittedStreamHeads,
  signer: ChainSigner | undefined,
): BatchResult {
  let written = 0;
  let position = log.position;
  const firstOfCommit = position + 1;
  let chain = log.chain;
  const now = new Date().toISOString();
  let lastRecordedAt = log.recordedAt;
  const outcomes: Outcome[] = new Array(batch.length);
  // Stream heads and idempotency keys written earlier in this batch.
  let streams: Map<string, StreamHead> | null = null;
  let keys: Map<string, AppendResult> | null = null;

  for (let i = 0; i < batch.length; i++) {
    const a = batch[i]!;
    const { parts, key } = a;

    if (key !== undefined) {
      const earlier = keys?.get(key) ?? appendByKey(s, key);
      if (earlier) {
        outcomes[i] = { ok: true, results: [{ ...earlier, events: earlier.events.slice(), duplicate: true }] };
        continue;
      }
    }

    const checked = checkParts(parts, (streamId) => {
      const known = streams?.get(streamId) ?? committed.get(streamId);
      if (known) return known;
      const row = s.selectStream.get(streamId) as [number, string] | undefined;
      return { version: row ? row[0] : -1, lastHash: row ? row[1] : '' };
    });
    if ('conflict' in checked) {
      outcomes[i] = { ok: false, error: checked.conflict };
      continue;
    }
    const { heads } = checked;
    const recordedAt = commitInstant(a.recordedAt ?? now, lastRecordedAt);
    const results: AppendResult[] = new Array(parts.length);
    for (let k = 0; k < parts.length; k++) {
      const { streamId, events } = parts[k]!;
      let { version, lastHash } = heads[k]!;
      if (events.length === 0) {
        results[k] = { streamId, nextExpectedVersion: version, position: encodePosition(position), events: [], duplicate: false };
        continue;
      }
      lastRecordedAt = recordedAt;
      let prevHash = version === -1 ? genesisHash(streamId) : lastHash;
      const firstPosition = position + 1;
      const recorded: RecordedEvent[] = new Array(events.length);
      for (let j = 0; j < events.length; j++) {
        const p = events[j]!;
        position++;
        const r = recordEvent(streamId, version + 1 + j, position, prevHash, chain, recordedAt, p, a.hashVersion);
        s.insertEvent.run(
          position, p.eventId, streamId, r.revision, p.type, p.schemaVersion,
          p.dataJson, p.metadataJson, recordedAt, prevHash, r.hash, r.chainHash, a.hashVersion,
        );
        recorded[j] = r;
        prevHash = r.hash;
        chain = r.chainHash!;
      }
      version += events.length;
      written += events.length;
      lastHash = prevHash;
      (streams ??= new Map()).set(streamId, { version, lastHash, position });
      results[k] = {
        streamId,
        nextExpectedVersion: version,
        position: recorded[recorded.length - 1]!.position,
        events: recorded,
        duplicate: false,
      };
      // The idempotency key stands for the first part: the command's own stream.
      if (k === 0 && key !== undefined) {
        s.insertKey.run(key, streamId, firstPosition, position);
        (keys ??= new Map()).set(key, results[0]!);
      }
    }
    outcomes[i] = { ok: true, results };
  }
  // The commit's chain head, signed in the same transaction as its events.
  if (written > 0 && signer) {
    const head = signer.sign('log', encodePosition(position), chain, encodePosition(firstOfCommit));
    s.insertSignature.run(position, firstOfCommit, head.chainHash, head.kid, head.signature);
  }
  return { outcomes, position, chain, written, streams, lastRecordedAt };
}
