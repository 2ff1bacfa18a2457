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

/**
 * JSON.stringify(value), without the call for a string that needs no escaping: no '"', no '\\',
 * no control character, no surrogate (JSON.stringify escapes lone surrogates; paired ones just
 * take the slow path).
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
function jsonString(value: unknown): string {
  return typeof value === 'string' && !NEEDS_ESCAPE.test(value) ? '"' + value + '"' : JSON.stringify(value);
}

/**
 * `"key":` by key. Object keys repeat from event to event (the same event types, the same
 * metadata), so the append path reuses these instead of building them again; bounded, and only
 * short keys, so that keys made of data (ids used as keys) cannot grow it without limit.
 */
const keyPrefixes = new Map<string, string>();
const KEY_PREFIX_LIMIT = 4096;
function keyPrefix(key: string): string {
  let prefix = keyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = jsonString(key) + ':';
    if (key.length <= 64 && keyPrefixes.size < KEY_PREFIX_LIMIT) keyPrefixes.set(key, prefix);
  }
  return prefix;
}

/**
 * Sorts keys in place in the order of Array.prototype.sort() without a comparator (UTF-16 code
 * units; keys are distinct): insertion sort for the few keys of a typical object, sort() beyond.
 */
function sortKeys(keys: string[]): void {
  const n = keys.length;
  if (n > 16) {
    keys.sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
}

/** canonicalJson() for a value that came out of JSON.parse. */
export function canonicalJsonOfParsed(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return jsonString(value);
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
      if (keys.length > 1) sortKeys(keys);
      let out = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const v = obj[k];
        if (v === undefined) continue; // not produced by JSON.parse; kept for exactness
        if (first) first = false;
        else out += ',';
        out += keyPrefix(k) + canonicalJsonOfParsed(v);
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
    ',"eventId":' + jsonString(e.eventId) +
    ',"metadata":' + canonicalJsonOfParsed(e.metadata) +
    ',"prevHash":' + jsonString(e.prevHash) +
    (version >= 2 ? ',"recordedAt":' + jsonString(e.recordedAt ?? null) : '') +
    ',"revision":' + JSON.stringify(e.revision) +
    ',"schemaVersion":' + JSON.stringify(e.schemaVersion) +
    ',"streamId":' + jsonString(e.streamId) +
    ',"type":' + jsonString(e.type) +
    '}';
  return oneShotHash(HASH_ALGORITHM, text, 'hex');
}

/** chainHash() of hash-chain.ts. */
export function fastChainHash(previousChainHash: string, position: string, eventHashValue: string): string {
  return oneShotHash(HASH_ALGORITHM, previousChainHash + '|' + position + '|' + eventHashValue, 'hex');
}
