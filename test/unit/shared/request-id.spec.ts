import { describe, expect, it } from '@jest/globals';
import { newRequestId, requestIdFrom, requestIdOf } from '../../../src/shared/logging/request-id.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it("a client's sane x-request-id is kept, else its x-correlation-id; anything else gets a new id", () => {
    expect(requestIdFrom({ 'x-request-id': 'tool-42' })).toBe('tool-42');
    expect(requestIdFrom({ 'x-request-id': 'has space', 'x-correlation-id': 'corr.7' })).toBe('corr.7');
    expect(requestIdFrom({ 'x-request-id': ['first', 'second'] })).toBe('first');
    expect(requestIdFrom({ 'x-request-id': '<script>' })).toMatch(V7);
    expect(requestIdFrom(undefined)).toMatch(V7);
    expect(requestIdOf({ id: 'given-by-http', headers: { 'x-request-id': 'other' } })).toBe('given-by-http');
  });

  // The access log indexes correlation ids: ids made in order land at the end of that index, so
  // a commit of many rows writes a few pages instead of one per row (event-id.ts).
  it('ids the server makes are time-ordered: each sorts after the one made before it', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => (i % 2 ? newRequestId() : requestIdFrom({})));
    for (const id of ids) expect(id).toMatch(V7);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
