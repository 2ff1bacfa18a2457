/**
 * SQLite schema of the event store, versioned with PRAGMA user_version. Add a migration step
 * (and bump SCHEMA_VERSION) for every change; never edit a step that has shipped.
 */
export const SCHEMA_VERSION = 4;

export const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE IF NOT EXISTS events (
      position       INTEGER PRIMARY KEY,
      event_id       TEXT    NOT NULL UNIQUE,
      stream_id      TEXT    NOT NULL,
      revision       INTEGER NOT NULL,
      type           TEXT    NOT NULL,
      schema_version INTEGER NOT NULL,
      data           TEXT    NOT NULL,
      metadata       TEXT    NOT NULL,
      recorded_at    TEXT    NOT NULL,
      prev_hash      TEXT    NOT NULL,
      hash           TEXT    NOT NULL,
      chain_hash     TEXT    NOT NULL,
      UNIQUE (stream_id, revision)
    );
    -- One row per stream, written in the same transaction as its events: the compare-and-set
    -- target of the expected-version check, and the per-stream chain head (last_hash).
    CREATE TABLE IF NOT EXISTS streams (
      stream_id TEXT    PRIMARY KEY,
      version   INTEGER NOT NULL,
      last_hash TEXT    NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS idempotency (
      key            TEXT    PRIMARY KEY,
      stream_id      TEXT    NOT NULL,
      first_position INTEGER NOT NULL,
      last_position  INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- The log is append-only: the hash chain is the evidence, these triggers are the fence.
    CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
  `,
  // The stream head (version and last hash) is read from the (stream_id, revision) index of
  // events instead: one B-tree fewer to write per append (the 1-writer path is fsync- and
  // page-bound), and the writer keeps heads cached anyway.
  2: `DROP TABLE IF EXISTS streams;`,
  // Hash version 2 covers recorded_at (rows written before keep version 1), and each commit's
  // chain head is signed (signing.ts), in the same transaction as its events.
  3: `
    ALTER TABLE events ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE IF NOT EXISTS chain_signatures (
      position       INTEGER PRIMARY KEY,
      first_position INTEGER NOT NULL,
      chain_hash TEXT    NOT NULL,
      kid        TEXT    NOT NULL,
      signature  TEXT    NOT NULL
    );
    CREATE TRIGGER IF NOT EXISTS chain_signatures_no_update BEFORE UPDATE ON chain_signatures
      BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
    CREATE TRIGGER IF NOT EXISTS chain_signatures_no_delete BEFORE DELETE ON chain_signatures
      BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
  `,
  // Write-side snapshots beside the log (never events, never hashed, never exported): a stream's
  // state folded up to a revision, per state version. An optimisation only: rows may be deleted.
  4: `
    CREATE TABLE IF NOT EXISTS snapshots (
      stream_id     TEXT    NOT NULL,
      state_version TEXT    NOT NULL,
      revision      INTEGER NOT NULL,
      position      TEXT    NOT NULL,
      recorded_at   TEXT    NOT NULL,
      state         TEXT    NOT NULL,
      PRIMARY KEY (stream_id, state_version, revision)
    ) WITHOUT ROWID;
  `,
};

