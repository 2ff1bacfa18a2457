import { describe, expect, it } from '@jest/globals';
import { newEventId } from '../../src/event-store/event-id.js';

describe('newEventId (UUIDv7)', () => {
  it('produces RFC 9562 version 7 UUIDs carrying the time', () => {
    const before = Date.now();
    const id = newEventId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now() + 5);
  });

  it('is strictly increasing in string order, also within one millisecond and past 4096 ids', () => {
    const fixed = Date.now() + 60_000;
    const ids = Array.from({ length: 10_000 }, () => newEventId(fixed));
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const later = newEventId(); // the clock is behind the borrowed milliseconds: still increasing
    expect(later > ids[ids.length - 1]!).toBe(true);
  });

  it('carries 62 random bits: the variant 10, then bits that take every value and repeat in no two ids', () => {
    const ids = Array.from({ length: 20_000 }, () => newEventId());
    const tails = ids.map((id) => id.slice(19));
    expect(new Set(tails).size).toBe(ids.length);
    // The 6 random bits beside the variant, and every byte after them, take each of their values.
    const sixBits = new Set(ids.map((id) => parseInt(id.slice(19, 21), 16)));
    expect([...sixBits].every((b) => (b & 0xc0) === 0x80)).toBe(true);
    expect(sixBits.size).toBe(64);
    for (const at of [21, 24, 26, 28, 30, 32, 34]) expect(new Set(ids.map((id) => id.slice(at, at + 2))).size).toBe(256);
  });

  it('writes the milliseconds and the counter as RFC 9562 places them, past 2^32 ms and at the counter\'s ends', () => {
    const ms = 0xfedcba987654; // the year 10889: every hex digit of the 48 bits differs
    const first = newEventId(ms);
    expect(first.slice(0, 13)).toBe('fedcba98-7654');
    expect(first.slice(14, 18)).toBe('7000');
    const next = newEventId(ms);
    expect(next.slice(14, 18)).toBe('7001');
    let last = next;
    for (let i = 2; i <= 0xfff; i++) last = newEventId(ms);
    expect(last.slice(0, 18)).toBe('fedcba98-7654-7fff');
    // the 4097th id of that millisecond borrows the next one
    expect(newEventId(ms).slice(0, 18)).toBe('fedcba98-7655-7000');
  });
});

