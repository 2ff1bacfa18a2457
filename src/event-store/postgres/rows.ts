/**
 * The PostgreSQL store's statements (for one schema) and the conversion of raw rows into
 * recorded events. Every read orders explicitly (pitfall 9).
 */
import type { HeadSignature } from '../signing.js';
import { decodePosition, InvalidPositionError, POSITION_WIDTH } from '../hash-chain.js';

import { EVENT_COLUMNS } from '../internal/event-rows.js';

/** A bigint column (decimal string) as a position. */
export function padPosition(value: string | number): string {
  return String(value).padStart(POSITION_WIDTH, '0');
}

/** A position given by a caller, as the bigint parameter it stands for (decimal string). */
export function positionParam(position: string): string {
  if (typeof position !== 'string') throw new InvalidPositionError(String(position));
  const n = decodePosition(position);
  if (n > 9223372036854775807n) throw new InvalidPositionError(position);
  return n.toString();
}

export type SignatureRow = [position: string, firstPosition: string, chainHash: string, kid: string, signature: string];

export function toSignature([position, first, chainHash, kid, signature]: SignatureRow): HeadSignature {
  return { firstPosition: padPosition(first), position: padPosition(position), chainHash, kid, signature };
}


/** The statements of one schema (S is the quoted schema name). */
export function statements(S: string) {
  return {
    /**
     * Run under the append lock, in one round trip: the log's head, the head of every stream the
     * batch touches and the idempotency keys it names that are already used.
     */
    heads: `
      SELECT
        (SELECT json_build_array(position::text, chain_hash, recorded_at) FROM ${S}.events ORDER BY position DESC LIMIT 1) AS head,
        (SELECT json_agg(json_build_array(e.stream_id, e.revision, e.hash))
           FROM unnest($1::text[]) AS s(id)
           CROSS JOIN LATERAL (SELECT stream_id, revision, hash FROM ${S}.events WHERE stream_id = s.id ORDER BY revision DESC LIMIT 1) e) AS streams,
        (SELECT json_agg(json_build_array(key, stream_id, first_position::text, last_position::text))
           FROM ${S}.idempotency WHERE key = ANY($2::text[])) AS keys`,
    /** Everything a commit writes, in one statement; NOTIFY is delivered when it commits. */
    write: `
      WITH ev AS (
        INSERT INTO ${S}.events (${EVENT_COLUMNS})
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::integer[], $7::text[], $8::text[],
                             $9::text[], $10::text[], $11::text[], $12::text[], $13::smallint[])
      ), idem AS (
        INSERT INTO ${S}.idempotency (key, stream_id, first_position, last_position)
        SELECT * FROM unnest($14::text[], $15::text[], $16::bigint[], $17::bigint[])
      ), sig AS (
        INSERT INTO ${S}.chain_signatures (position, first_position, chain_hash, kid, signature)
        SELECT * FROM unnest($18::bigint[], $19::bigint[], $20::text[], $21::text[], $22::text[])
      )
      SELECT pg_notify($23, $24)`,
    // A page ends at the event whose size brings it to $N bytes (READ_PAGE_BYTES): the sizes are
    // summed first over the page's rows (octet_length of a stored text reads no content).
    readAll: cappedPage(S, 'position > $1', '$2', '$3'),
    readAllTyped: cappedPage(S, 'position > $1 AND type = ANY($2::text[])', '$3', '$4'),
    readStream: `SELECT ${EVENT_COLUMNS} FROM ${S}.events WHERE stream_id = $1 AND revision BETWEEN $2 AND $3 ORDER BY revision`,
    eventsBetween: `SELECT ${EVENT_COLUMNS} FROM ${S}.events WHERE position BETWEEN $1 AND $2 ORDER BY position`,
    selectKey: `SELECT stream_id, first_position::text, last_position::text FROM ${S}.idempotency WHERE key = $1`,
    head: `SELECT max(position)::text AS head FROM ${S}.events`,
    streamVersion: `SELECT max(revision) AS version FROM ${S}.events WHERE stream_id = $1`,
    existingEventIds: `SELECT event_id FROM ${S}.events WHERE event_id = ANY($1::text[])`,
    readSignatures: `SELECT position::text, first_position::text, chain_hash, kid, signature FROM ${S}.chain_signatures
      WHERE position > $1 AND position <= $2 ORDER BY chain_signatures.position LIMIT $3`,
    /** Snapshots beside the log (never events, never hashed, never exported). */
    readSnapshot: `SELECT revision, position, recorded_at, state FROM ${S}.snapshots
      WHERE stream_id = $1 AND state_version = $2 AND revision <= $3
        AND ($4::text IS NULL OR position <= $4) AND ($5::text IS NULL OR recorded_at <= $5) ORDER BY revision DESC LIMIT 1`,
    upsertSnapshot: `INSERT INTO ${S}.snapshots (stream_id, state_version, revision, position, recorded_at, state) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (stream_id, state_version, revision) DO UPDATE SET position = EXCLUDED.position, recorded_at = EXCLUDED.recorded_at, state = EXCLUDED.state`,
  } as const;
}

export type Statements = ReturnType<typeof statements>;

/** A page of the log where `where`, at most `limit` events, ending after the event that reaches `maxBytes`. */
function cappedPage(S: string, where: string, limit: string, maxBytes: string): string {
  const size = 'octet_length(data) + octet_length(metadata)';
  return `SELECT ${EVENT_COLUMNS} FROM ${S}.events WHERE ${where} AND position <= (
      SELECT max(position) FROM (
        SELECT position, sum(${size}) OVER (ORDER BY position ROWS UNBOUNDED PRECEDING) - (${size}) AS before
        FROM ${S}.events WHERE ${where} ORDER BY position LIMIT ${limit}
      ) page WHERE before < ${maxBytes}
    ) ORDER BY position LIMIT ${limit}`;
}
