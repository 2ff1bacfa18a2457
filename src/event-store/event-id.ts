/**
 * Time-ordered event ids (UUID version 7, RFC 9562): 48 bits of Unix milliseconds, a 12-bit
 * counter that keeps ids from one process strictly increasing within a millisecond, and 62
 * random bits.
 *
 * Why: event_id is UNIQUE in the SQLite store. Random (v4) ids land on random leaf pages of that
 * index, so a group commit of N appends dirties about N extra pages; time-ordered ids land on
 * the last page or two. In bench/event-store.bench.ts, 16 concurrent writers commit about 1.7x
 * more events per second with v7 ids than with v4 ids. Both kinds are accepted: the store does
 * not care how ids are made as long as they are unique.
 *
 * The same holds for the request ids the server makes itself (shared/logging/request-id.ts): a
 * request's id is its access-log row's correlation_id, under an index of its own. With random
 * ids a 30-row access-log commit wrote ~50 WAL pages, with these ~15.
 */
import { randomUUID } from 'node:crypto';

let lastMs = 0;
let counter = 0;

export function newEventId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else if (++counter > 0xfff) {
    // more than 4096 ids in one millisecond (or the clock went back): borrow the next millisecond
    lastMs++;
    counter = 0;
  }
  const random = randomUUID(); // 122 random bits, hex at fixed offsets
  const ms = lastMs.toString(16).padStart(12, '0');
  const seq = counter.toString(16).padStart(3, '0');
  const variant = ((parseInt(random[19]!, 16) & 0x3) | 0x8).toString(16);
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${seq}-${variant}${random.slice(20, 23)}-${random.slice(24, 36)}`;
}
