/**
 * The stored columns of an event, shared by the SQL adapters (SQLite, PostgreSQL): one column
 * list and one conversion of a raw row into a RecordedEvent, so both return the same bytes.
 */
import type { RecordedEvent } from '../event-store.port.js';
import { POSITION_WIDTH } from '../hash-chain.js';

export const EVENT_COLUMNS =
  'position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at, prev_hash, hash, chain_hash, hash_version';

/** Raw row, in EVENT_COLUMNS order. The position is an integer (SQLite) or its decimal string (PostgreSQL bigint). */
export type EventRow = [
  position: number | string,
  eventId: string,
  streamId: string,
  revision: number,
  type: string,
  schemaVersion: number,
  data: string,
  metadata: string,
  recordedAt: string,
  prevHash: string,
  hash: string,
  chainHash: string,
  hashVersion: number,
];

/**
 * Metadata is parsed on first use: projections and replays, which read the log by the hundred
 * thousand, hardly ever look at it, and its JSON.parse was a fifth of reading an event. The
 * getter is an own enumerable property, so a spread copy or JSON.stringify of the event still
 * carries it, in the same key order.
 */
export function toRecorded(row: EventRow): RecordedEvent {
  const metadataJson = row[7];
  let metadata: RecordedEvent['metadata'] | undefined;
  return {
    eventId: row[1],
    type: row[4],
    schemaVersion: row[5],
    data: JSON.parse(row[6]) as Record<string, unknown>,
    get metadata(): RecordedEvent['metadata'] {
      return (metadata ??= JSON.parse(metadataJson) as RecordedEvent['metadata']);
    },
    set metadata(value: RecordedEvent['metadata']) {
      metadata = value;
    },
    streamId: row[2],
    revision: row[3],
    position: String(row[0]).padStart(POSITION_WIDTH, '0'),
    recordedAt: row[8],
    prevHash: row[9],
    hash: row[10],
    chainHash: row[11],
    hashVersion: row[12],
  };
}
