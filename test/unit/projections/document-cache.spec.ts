/**
 * The document cache of the projections: states of recent pages are answered from memory as
 * they were written, never after a discard (a page rolled back, a reset), and at most `keep`.
 */
import { describe, expect, it } from '@jest/globals';
import { DocumentCache } from '../../../src/projections/document-cache.js';

function table(keep?: number) {
  const rows = new Map<string, string>();
  const loads: string[] = [];
  const saves: [string, boolean][] = [];
  const cache = new DocumentCache<{ n: number }>(
    (id) => {
      loads.push(id);
      const doc = rows.get(id);
      return doc === undefined ? undefined : (JSON.parse(doc) as { n: number });
    },
    (id, state, isNew) => {
      saves.push([id, isNew]);
      if (isNew && rows.has(id)) throw new Error(`duplicate row ${id}`);
      rows.set(id, JSON.stringify(state));
    },
    keep,
  );
  return { rows, loads, saves, cache };
}

describe('DocumentCache', () => {
  it('answers a state a recent page wrote without reading its row, and updates that row', () => {
    const { rows, loads, saves, cache } = table();
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', { n: 1 });
    cache.flush();
    expect(loads).toEqual(['a']);
    const kept = cache.get('a');
    expect(kept).toEqual({ n: 1 });
    expect(loads).toEqual(['a']);
    cache.set('a', { n: kept!.n + 1 });
    cache.flush();
    expect(saves).toEqual([['a', true], ['a', false]]);
    expect(JSON.parse(rows.get('a')!)).toEqual({ n: 2 });
    // Set without a get first, on a state kept from a recent page: still an update of its row.
    cache.set('a', { n: 3 });
    cache.flush();
    expect(saves.at(-1)).toEqual(['a', false]);
  });

  it('reads the rows again after a discard (a page rolled back, a reset)', () => {
    const { rows, loads, cache } = table();
    cache.get('a');
    cache.set('a', { n: 1 });
    cache.flush();
    // The transaction that held that flush rolled back: the row is not there.
    rows.clear();
    cache.discard();
    expect(cache.get('a')).toBeUndefined();
    expect(loads).toEqual(['a', 'a']);
  });

  it('keeps at most `keep` states, dropping the least recently used', () => {
    const { loads, cache } = table(2);
    for (const id of ['a', 'b', 'c']) {
      cache.get(id);
      cache.set(id, { n: 0 });
      cache.flush();
    }
    loads.length = 0;
    cache.get('b');
    cache.get('c');
    expect(loads).toEqual([]);
    cache.get('a');
    expect(loads).toEqual(['a']);
  });

  it('keeps nothing with keep 0', () => {
    const { loads, cache } = table(0);
    cache.get('a');
    cache.set('a', { n: 1 });
    cache.flush();
    cache.get('a');
    expect(loads).toEqual(['a', 'a']);
  });

  it('flushUntil writes in parts (at least one state each), then ends as flush does: each row once, as new or not', () => {
    const { rows, saves, cache } = table();
    rows.set('old', JSON.stringify({ n: 0 }));
    expect(cache.get('old')).toEqual({ n: 0 });
    cache.set('old', { n: 1 });
    for (const id of ['a', 'b', 'c']) cache.set(id, { n: 2 });
    // A deadline already past: one state per call.
    const calls: boolean[] = [];
    do calls.push(cache.flushUntil(0));
    while (!calls.at(-1));
    expect(calls).toEqual([false, false, false, true]);
    expect(saves).toEqual([['old', false], ['a', true], ['b', true], ['c', true]]);
    expect([...rows].map(([id, doc]) => [id, JSON.parse(doc).n])).toEqual([['old', 1], ['a', 2], ['b', 2], ['c', 2]]);
    // As after flush(): the states are answered from memory, and written again only when changed.
    cache.set('a', { n: 3 });
    expect(cache.flushUntil(Infinity)).toBe(true);
    expect(saves.at(-1)).toEqual(['a', false]);
    expect(cache.flushUntil(0)).toBe(true);
    expect(saves).toHaveLength(5);
  });
});
