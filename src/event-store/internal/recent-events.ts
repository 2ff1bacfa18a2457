/**
 * The events this store instance has just committed, kept in memory so that the followers'
 * catch-up pages (SharedPage) need not read them back from the database and parse them again.
 *
 * A bounded run of contiguous positions. A commit's events are added once COMMIT has returned,
 * in position order; a commit that does not continue the run (another connection or process
 * committed in between) starts it over. A page is answered only when the run holds every
 * position it needs: a shorter page would tell the follower that nothing else lies up to the
 * cap, and it would skip what another process wrote.
 */
import type { AppendResult, RecordedEvent } from '../event-store.port.js';
import { encodePosition } from '../hash-chain.js';
import { deepFreeze } from './shared-page.js';

export class RecentEvents {
  /** Ring of events: position p sits at p % capacity while first <= p <= last. */
  private readonly slots: (RecordedEvent | undefined)[];
  /** 1: the slot holds the followers' frozen copy of the appender's event. */
  private readonly served: Uint8Array;
  private first = 0;
  /** 0: empty (positions start at 1). */
  private last = 0;

  constructor(private readonly capacity = 4096) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.slots = new Array(capacity);
    this.served = new Uint8Array(capacity);
  }

  /**
   * Adds a commit's events: `events` hold positions firstPosition, firstPosition + 1, … in order.
   * The objects are the appender's; they are copied and frozen only when a follower asks for them.
   */
  add(firstPosition: number, events: readonly RecordedEvent[]): void {
    if (events.length === 0) return;
    if (this.last === 0 || firstPosition !== this.last + 1) this.first = firstPosition;
    let position = firstPosition;
    for (const event of events) {
      const slot = position++ % this.capacity;
      this.slots[slot] = event;
      this.served[slot] = 0;
    }
    this.last = position - 1;
    if (this.last - this.first >= this.capacity) this.first = this.last - this.capacity + 1;
  }

  /**
   * Adds a committed batch's new events (positions first..last), from its appends' outcomes in
   * order: the failed ones and the duplicates of idempotent appends (written before) wrote nothing.
   */
  addCommit(first: number, last: number, outcomes: readonly ({ ok: true; results: readonly AppendResult[] } | { ok: false })[]): void {
    let position = first;
    let newest: RecordedEvent | undefined;
    for (const outcome of outcomes) {
      if (!outcome.ok) continue;
      for (const result of outcome.results) {
        if (result.duplicate || result.events.length === 0) continue;
        this.add(position, result.events);
        position += result.events.length;
        newest = result.events[result.events.length - 1];
      }
    }
    // Not the batch's positions after all: keep nothing rather than risk a wrong page.
    if (position !== last + 1 || newest?.position !== encodePosition(last)) this.clear();
  }

  /** Forgets everything (the next commit starts a new run). */
  clear(): void {
    this.slots.fill(undefined);
    this.served.fill(0);
    this.first = 0;
    this.last = 0;
  }

  /**
   * The page of up to maxCount events in (from, cap], frozen, when the run holds all of it;
   * null when the database must answer.
   */
  page(from: number, cap: number, maxCount: number): RecordedEvent[] | null {
    const end = Math.min(cap, from + maxCount);
    if (end <= from) return [];
    if (this.last === 0 || from + 1 < this.first || end > this.last) return null;
    const out: RecordedEvent[] = new Array(end - from);
    for (let position = from + 1, i = 0; position <= end; position++, i++) {
      const slot = position % this.capacity;
      let event = this.slots[slot]!;
      // The follower gets its own frozen copy: the appender's object stays as it was. data and
      // metadata are shared (frozen), as nothing changes an event's data after the append.
      if (this.served[slot] === 0) {
        deepFreeze(event.data);
        deepFreeze(event.metadata);
        event = Object.freeze({ ...event });
        this.slots[slot] = event;
        this.served[slot] = 1;
      }
      out[i] = event;
    }
    return out;
  }
}
