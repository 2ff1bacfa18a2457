import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type ReadDb = Database.Database;

/** Nest token of the live read-model database (the projections' tables). */
export const READ_DB = Symbol('READ_DB');

/**
 * The read models live in their own SQLite database, local to this instance. They are
 * disposable: every projection can be rebuilt from the event log, so this file needs no fsync
 * per commit (synchronous=NORMAL); a crash can only lose a suffix of projection work together
 * with its checkpoint, which the runner then re-applies.
 */
export function openReadModelDatabase(path: string): ReadDb {
  const db = openLocalDatabase(path);
  db.exec(`CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name TEXT PRIMARY KEY,
    schema_version INTEGER NOT NULL,
    position TEXT
  )`);
  return db;
}

/** A local SQLite file of this instance (WAL, synchronous=NORMAL), its folder created if missing. */
export function openLocalDatabase(path: string): ReadDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}
