/**
 * The stored columns of an event, shared by the SQL adapters (SQLite, PostgreSQL): one column
 * list and one conversion of a raw row into a RecordedEvent, so both return the same bytes.
 */
import type { RecordedEvent } from '../event-store.port.js';
import { LogFormatError } from '../errors.js';
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
    data: parsed(row, 6, 'data') as Record<string, unknown>,
    metadata: parsed(row, 7, 'metadata') as RecordedEvent['metadata'],
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

/**
 * A stored column's JSON. The store only ever writes JSON there: a row whose text is not JSON was
 * written by someone else, and is reported at its position (the integrity monitor then fails the
 * log) rather than as an error no one expects.
 */
function parsed(row: EventRow, column: 6 | 7, name: string): unknown {
  try {
    return JSON.parse(row[column]);
  } catch {
    throw new LogFormatError(`the event's ${name} is not JSON: it was not written by this store`, String(row[0]).padStart(POSITION_WIDTH, '0'));
  }
}
