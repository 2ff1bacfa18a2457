import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { canonicalJson, chainHash, eventHash, type HashableEvent } from '../../src/event-store/hash-chain.js';
import { canonicalJsonOfParsed, fastChainHash, fastEventHash } from '../../src/event-store/internal/fast-hash.js';
import type { EventMetadata } from '../../src/event-store/event-store.port.js';

/** What prepareEvents() hands to the hash: the JSON.parse form of the caller's value. */
const parsed = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }));
const dataArb = fc.dictionary(text, fc.jsonValue(), { maxKeys: 8 });
const metadataArb: fc.Arbitrary<EventMetadata> = fc.record(
  {
    actor: fc.record({ id: text, name: text, roles: fc.array(text, { maxLength: 3 }) }),
    occurredAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    correlationId: text,
    causationId: text,
    commandId: text,
  },
  { requiredKeys: ['actor', 'occurredAt', 'correlationId', 'causationId'] },
);
const eventArb: fc.Arbitrary<HashableEvent> = fc.record({
  streamId: text,
  revision: fc.nat(),
  eventId: text,
  type: text,
  schemaVersion: fc.nat(),
  data: dataArb,
  metadata: metadataArb,
  prevHash: fc.stringMatching(/^[0-9a-f]{64}$/),
});

describe('fast hash path equals the reference hash-chain definitions', () => {
  it('canonicalJsonOfParsed === canonicalJson on JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const p = parsed(v);
        expect(canonicalJsonOfParsed(p)).toBe(canonicalJson(p));
      }),
      { numRuns: 2000 },
    );
  });

  it('fastEventHash === eventHash', () => {
    fc.assert(
      fc.property(eventArb, (e) => {
        const p = { ...e, data: parsed(e.data), metadata: parsed(e.metadata) };
        expect(fastEventHash(p)).toBe(eventHash(p));
      }),
      { numRuns: 1000 },
    );
  });

  it('fastChainHash === chainHash', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{64}$/), fc.nat().map(String), fc.stringMatching(/^[0-9a-f]{64}$/), (a, b, c) => {
        expect(fastChainHash(a, b, c)).toBe(chainHash(a, b, c));
      }),
    );
  });

  it('handles the awkward cases the same way', () => {
    const awkward = [
      { '': 1, 'é': 2, e: 3, E: 4, '\u{1F680}': 5, '\uffff': 6, '10': 7, '9': 8, __proto__x: 9 },
      JSON.parse('{"__proto__": {"a": 1}, "b": [-0, 1e21, 5e-324, null, "\\u2028"]}'),
      [[], {}, [{}], { a: [] }],
    ];
    // many keys (sorted by Array.prototype.sort), the same keys again (cached key prefixes), keys
    // that need escaping, long keys (not cached)
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${(i * 7919) % 40}\u00e9"${i % 3 ? '' : '\\'}`, i]));
    awkward.push(many, many, { ['x'.repeat(100)]: 1, ['x'.repeat(99)]: 2 }, { ['x'.repeat(100)]: 1 });
    for (const v of awkward) expect(canonicalJsonOfParsed(parsed(v))).toBe(canonicalJson(parsed(v)));
    expect(canonicalJsonOfParsed({ a: undefined, b: 1 })).toBe(canonicalJson({ a: undefined, b: 1 }));
    expect(() => canonicalJsonOfParsed(Number.NaN)).toThrow();
  });
});
