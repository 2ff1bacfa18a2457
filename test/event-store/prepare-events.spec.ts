import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { prepareEvents } from '../../src/event-store/internal/append-support.js';
import { InvalidAppendError } from '../../src/event-store/errors.js';
import type { EventMetadata, NewEvent } from '../../src/event-store/event-store.port.js';

/**
 * prepareEvents snapshots the caller's data as JSON: what is returned, hashed and stored must be
 * exactly `JSON.parse(JSON.stringify(value))`, whichever way it is made (a copy of a value already
 * in JSON form, or the text's round trip), down to the order of the keys.
 */
const metadata: EventMetadata = { actor: { id: 'alice', name: 'Alice', roles: ['ASSET_MANAGER'] }, occurredAt: '2026-12-05T04:00:00.000Z', correlationId: 'c', causationId: 'c' };
const event = (data: Record<string, unknown>, meta: unknown = metadata): NewEvent => ({ eventId: 'e1', type: 'Thing', schemaVersion: 1, data, metadata: meta as EventMetadata });
const viaText = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** Values JSON changes or drops: undefined, -0, NaN, Infinity, Dates, toJSON, boxed primitives, class instances, holes. */
const awkward = fc.oneof(
  fc.constant(undefined),
  fc.constant(-0),
  fc.constant(Number.NaN),
  fc.constant(Number.POSITIVE_INFINITY),
  fc.date({ noInvalidDate: true }),
  fc.constant(new (class Point { x = 1; y = 2 })()),
  fc.constant(Object.assign(Object.create(null) as object, { z: 1 })),
  // eslint-disable-next-line no-sparse-arrays
  fc.constant([1, , 3]),
  fc.constant({ toJSON: () => 'custom' }),
  fc.constant(Object.assign([1, 2], { toJSON: () => 'an array written as text' })),
  // eslint-disable-next-line no-new-wrappers
  fc.constant(new String('ab')),
  // eslint-disable-next-line no-new-wrappers
  fc.constant(new Number(3)),
  fc.constant(new Map([['k', 1]])),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown),
);
const { value: anyValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'binary' }),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    awkward,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('10', '2', '0', 'a', 'toString', '__proto__')), tie('value'), { maxKeys: 5 }),
  ),
}));

describe('prepareEvents: the JSON snapshot of the caller data', () => {
  it('equals the JSON text round trip, keys in the same order, for JSON values and awkward ones alike', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), anyValue, { maxKeys: 6 }), (data) => {
        const [p] = prepareEvents('s', [event(data)]);
        expect(p!.dataJson).toBe(JSON.stringify(data));
        expect(JSON.stringify(p!.data)).toBe(p!.dataJson);
        expect(p!.data).toStrictEqual(viaText(data));
        expect(Object.getPrototypeOf(p!.data)).toBe(Object.prototype);
      }),
      { numRuns: 3000 },
    );
  });

  it('copies: changing the caller object afterwards changes nothing returned', () => {
    const nested = { list: [1, { deep: 'x' }], flag: true };
    const data: Record<string, unknown> = { nested, n: 1 };
    const [p] = prepareEvents('s', [event(data)]);
    nested.list.push(2);
    (nested.list[1] as { deep: string }).deep = 'changed';
    data.n = 2;
    expect(p!.data).toEqual({ nested: { list: [1, { deep: 'x' }], flag: true }, n: 1 });
    expect(p!.dataJson).toBe('{"nested":{"list":[1,{"deep":"x"}],"flag":true},"n":1}');
  });

  it('keeps a "__proto__" key as an own property, as JSON.parse does (never as the prototype)', () => {
    const data = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const [p] = prepareEvents('s', [event(data)]);
    expect(Object.getPrototypeOf(p!.data)).toBe(Object.prototype);
    expect(Object.keys(p!.data)).toEqual(['__proto__']);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('drops undefined members of an object and writes null for them in an array', () => {
    const [p] = prepareEvents('s', [event({ gone: undefined, kept: [undefined, 1] })]);
    expect(p!.data).toStrictEqual({ kept: [null, 1] });
    expect(p!.dataJson).toBe('{"kept":[null,1]}');
  });

  it('refuses what JSON cannot write (a cycle, a BigInt) with InvalidAppendError, and accepts deep plain data', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => prepareEvents('s', [event(cyclic)])).toThrow(InvalidAppendError);
    expect(() => prepareEvents('s', [event({ n: 10n })])).toThrow(InvalidAppendError);
    const throwing = Object.defineProperty({}, 'boom', { enumerable: true, get: () => { throw new Error('getter failed'); } });
    expect(() => prepareEvents('s', [event({ throwing })])).toThrow(InvalidAppendError);
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 200; i++) deep = { next: deep };
    const [p] = prepareEvents('s', [event(deep)]);
    expect(p!.data).toStrictEqual(viaText(deep));
  });

  it('treats the metadata alike', () => {
    const meta = { ...metadata, commandId: undefined, at: new Date('2026-12-05T04:00:00.000Z') };
    const [p] = prepareEvents('s', [event({}, meta)]);
    expect(p!.metadata).toStrictEqual(viaText(meta));
    expect(p!.metadataJson).toBe(JSON.stringify(meta));
  });
});
