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
});
