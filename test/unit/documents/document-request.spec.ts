import { describe, expect, it } from '@jest/globals';
import { documentRequest } from '../../../src/documents/application/document-request.js';
import { BadInputError } from '../../../src/shared/domain/errors.js';

const request = (query: string) => documentRequest(new URLSearchParams(query), () => ({}));

describe('documentRequest: asOf in a query string', () => {
  it('reads a date-time whose offset plus sign the query string turned into a space (typed unencoded: auditor probe F8)', () => {
    const expected = new Date('2026-12-01T04:17:11.000Z');
    expect(request('asOf=2026-12-01T13:17:11+09:00').point).toEqual({ asOf: expected });
    expect(request('asOf=2026-12-01T13:17:11%2B09:00').point).toEqual({ asOf: expected });
    expect(request('asOf=2026-12-01T13:17:11.000+09:00').point).toEqual({ asOf: expected });
    expect(request('asOf=2026-12-01T13:17+09:00').point).toEqual({ asOf: new Date('2026-12-01T04:17:00.000Z') });
  });

  it('refuses anything else with a space, and says how to write the offset', () => {
    for (const query of ['asOf=2026-12-01 13:17:11', 'asOf=2026-12-01T13:17:11 9:00', 'asOf=+2026-12-01T13:17:11 09:00x']) {
      let error: unknown;
      try {
        request(query);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BadInputError);
      expect((error as BadInputError).fields.asOf).toMatch(/%2B09:00/);
    }
  });

  it('names the upper bound of an instant, as the GraphQL DateTime does (hostile probe of 2026-12-06, L7)', () => {
    // The last instant is a date the parser takes (then refused as later than now, as any future one).
    expect(() => request('asOf=9999-12-31T14:59:59.999Z')).toThrow(/later than now/);
    let error: unknown;
    try {
      request('asOf=9999-12-31T15:00:00Z');
    } catch (e) {
      error = e;
    }
    expect((error as BadInputError).fields.asOf).toContain('up to the end of 9999-12-31 in Japan (9999-12-31T14:59:59.999Z)');
  });
});
