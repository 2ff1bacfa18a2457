/**
 * The group commit's try at a batch (batch-attempt.ts): what a busy lock hands back unwritten,
 * in order, and when an append has waited its whole budget.
 */
import { describe, expect, it } from '@jest/globals';
import { attemptBatch, waitedOut } from '../../src/event-store/sqlite/batch-attempt.js';
import type { Outcome, PendingAppend } from '../../src/event-store/sqlite/store-types.js';

const append = (name: string): PendingAppend => ({ parts: [], key: name, recordedAt: undefined, hashVersion: 1, single: true, resolve: () => undefined, reject: () => undefined });
const sqliteError = (code: string): Error => Object.assign(new Error(code), { code });
const written = (a: PendingAppend): Outcome => ({ ok: true, results: [{ streamId: a.key!, nextExpectedVersion: 0, position: '1', events: [], duplicate: false }] });

describe('attemptBatch', () => {
  it('hands the whole batch back unwritten when the lock is busy', () => {
    const batch = [append('a'), append('b')];
    const busy = sqliteError('SQLITE_BUSY');
    const attempt = attemptBatch(batch, () => {
      throw busy;
    }, (e) => e);
    expect(attempt).toEqual({ settled: [], outcomes: [], unwritten: batch, busy });
  });

  it('after a duplicate event id, tried one by one: what another process locked out from its turn on waits, in order', () => {
    const [a, b, c] = [append('a'), append('b'), append('c')];
    const tried: string[] = [];
    const attempt = attemptBatch(
      [a, b, c],
      (appends) => {
        tried.push(appends.map((x) => x.key).join(''));
        if (appends.length > 1) throw sqliteError('SQLITE_CONSTRAINT_UNIQUE');
        if (appends[0] === b) throw sqliteError('SQLITE_BUSY');
        return [written(appends[0]!)];
      },
      (e) => e,
    );
    expect(tried).toEqual(['abc', 'a', 'b']);
    expect(attempt.settled).toEqual([a]);
    expect(attempt.outcomes).toEqual([written(a)]);
    expect(attempt.unwritten).toEqual([b, c]);
  });

  it('any other error fails the whole batch as before', () => {
    const batch = [append('a'), append('b')];
    const io = sqliteError('SQLITE_IOERR');
    const attempt = attemptBatch(batch, () => {
      throw io;
    }, (e) => e);
    expect(attempt.unwritten).toBeUndefined();
    expect(attempt.outcomes).toEqual([{ ok: false, error: io }, { ok: false, error: io }]);
  });
});

describe('waitedOut', () => {
  it('stamps each append at its first busy try; those at the head that waited the budget are out', () => {
    const [a, b] = [append('a'), append('b')];
    expect(waitedOut([a], 1_000, 300)).toBe(0);
    expect(waitedOut([a, b], 1_200, 300)).toBe(0);
    expect([a.busySince, b.busySince]).toEqual([1_000, 1_200]);
    expect(waitedOut([a, b], 1_300, 300)).toBe(1);
    expect(waitedOut([a, b], 1_500, 300)).toBe(2);
  });
});
