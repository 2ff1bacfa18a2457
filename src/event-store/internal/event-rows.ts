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

export function toRecorded(row: EventRow): RecordedEvent {
  return {
    eventId: row[1],
    type: row[4],
    schemaVersion: row[5],
    data: JSON.parse(row[6]) as Record<string, unknown>,
    metadata: JSON.parse(row[7]) as RecordedEvent['metadata'],
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
