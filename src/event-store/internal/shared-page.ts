/**
 * The last page of the log a subscription read, shared with the next ones. After a commit every
 * follower (projections, reactions, live events, webhooks) asks for the same new events: the
 * first one reads them (the SQLite store answers from the events it has just committed when it
 * can, see recent-events.ts), the others get the same page. The events are deep-frozen so that
 * no follower can change what another sees.
 */
import type { RecordedEvent } from '../event-store.port.js';

export class SharedPage {
  private last: { from: number; cap: number; maxCount: number; events: RecordedEvent[] } | null = null;

  /** Up to `maxCount` events in (from, cap]: the shared page when it covers them, else `read()`. */
  get(from: number, cap: number, maxCount: number, read: () => RecordedEvent[]): RecordedEvent[] {
    const shared = this.last;
    // Positions up to cap never change, so a page of (from, cap] read before is still that
    // range: whole if it was shorter than its limit, else good for as many events as it holds.
    if (shared && shared.from === from && shared.cap === cap && (shared.events.length < shared.maxCount || maxCount <= shared.events.length)) {
      return shared.events.length <= maxCount ? shared.events : shared.events.slice(0, maxCount);
    }
    const events = read();
    for (const event of events) deepFreeze(event);
    this.last = { from, cap, maxCount, events: Object.freeze(events) as RecordedEvent[] };
    return events;
  }
}

/** Freezes an event read from the log and everything in it (plain JSON: objects and arrays). */
export function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  if (Array.isArray(value)) for (const item of value) deepFreeze(item);
  else for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
}
