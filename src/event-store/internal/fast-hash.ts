/**
 * Allocation-lean equivalents of hash-chain.ts's eventHash/chainHash for the append path.
 *
 * They produce byte-for-byte the same canonical JSON and the same hashes as hash-chain.ts (a
 * property test in test/event-store/fast-hash.spec.ts checks this on random events), under one
 * precondition: `data` and `metadata` are values produced by JSON.parse (plain objects, arrays,
 * strings, finite numbers, booleans, null; no undefined, no toJSON, no Dates). prepareEvents()
 * guarantees it. hash-chain.ts stays the reference definition that auditors re-implement.
 */
import { hash as oneShotHash } from 'node:crypto';
import { HASH_ALGORITHM, canonicalJson, type HashableEvent } from '../hash-chain.js';

/** canonicalJson() for a value that came out of JSON.parse. */
export function canonicalJsonOfParsed(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : canonicalJson(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += canonicalJsonOfParsed(value[i]);
        }
        return out + ']';
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj);
      if (keys.length > 1) keys.sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const v = obj[k];
        if (v === undefined) continue; // not produced by JSON.parse; kept for exactness
        if (out.length > 1) out += ',';
        out += JSON.stringify(k) + ':' + canonicalJsonOfParsed(v);
      }
      return out + '}';
    }
    default:
      // Not a JSON.parse product: defer to the reference implementation (it decides).
      return canonicalJson(value);
  }
}

/** eventHash() of hash-chain.ts; `data` and `metadata` must be JSON.parse products. */
export function fastEventHash(e: HashableEvent): string {
  const version = e.hashVersion ?? 1;
  if (version !== 1 && version !== 2) throw new Error(`unknown hash version ${String(e.hashVersion)}`);
  // The keys of the hashed object in canonical (sorted) order:
  // data, eventId, metadata, prevHash, [recordedAt,] revision, schemaVersion, streamId, type.
  const text =
    '{"data":' + canonicalJsonOfParsed(e.data) +
    ',"eventId":' + JSON.stringify(e.eventId) +
    ',"metadata":' + canonicalJsonOfParsed(e.metadata) +
    ',"prevHash":' + JSON.stringify(e.prevHash) +
    (version >= 2 ? ',"recordedAt":' + JSON.stringify(e.recordedAt ?? null) : '') +
    ',"revision":' + JSON.stringify(e.revision) +
    ',"schemaVersion":' + JSON.stringify(e.schemaVersion) +
    ',"streamId":' + JSON.stringify(e.streamId) +
    ',"type":' + JSON.stringify(e.type) +
    '}';
  return oneShotHash(HASH_ALGORITHM, text, 'hex');
}

/** chainHash() of hash-chain.ts. */
export function fastChainHash(previousChainHash: string, position: string, eventHashValue: string): string {
  return oneShotHash(HASH_ALGORITHM, previousChainHash + '|' + position + '|' + eventHashValue, 'hex');
}
