import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JsonLogger } from '../shared/logging/json-logger.js';
import { describeError } from '../shared/application/transient-errors.js';
import { ConfigError } from '../config/app-config.js';
import { LOOP_BUSY_WAIT_MS } from '../event-store/sqlite/busy-retry.js';

export type ReadDb = Database.Database;

/** Nest token of the live read-model database (the projections' tables). */
export const READ_DB = Symbol('READ_DB');

const statements = new WeakMap<ReadDb, Map<string, Database.Statement>>();

/**
 * `db.prepare(sql)`, compiled once per database: a projection applies its statements once per
 * event, a rebuild or a replay by the hundred thousand, and every command answers through a
 * query (better-sqlite3 compiles on every prepare). `pluck`: the statement returns the first
 * column only; it is a cached statement of its own, since `.pluck()` changes a statement for
 * every later user (so never call it, or `.raw()`, on what this returns).
 */
export function preparedOnce(db: ReadDb, sql: string, mode?: 'pluck'): Database.Statement {
  let byText = statements.get(db);
  if (!byText) statements.set(db, (byText = new Map()));
  const key = mode === 'pluck' ? `pluck:${sql}` : sql;
  let statement = byText.get(key);
  if (!statement) {
    statement = db.prepare(sql);
    if (mode === 'pluck') statement.pluck();
    byText.set(key, statement);
  }
  return statement;
}

export interface LocalDatabaseOptions {
  /**
   * A quota on the file, in pages (`PRAGMA max_page_count`): past it, writes fail with
   * SQLITE_FULL as on a full disk. READ_MODEL_MAX_PAGES sets it for the read models (the
   * disk-full test uses it); unset, SQLite's own limit applies.
   */
  maxPages?: number;
}

export interface DisposableDatabaseOptions extends LocalDatabaseOptions {
  /** Where the move-aside of a damaged file is reported (a structured warn line). */
  logger: JsonLogger;
  /** What the file holds, for the log line ("read models", "process-manager checkpoint"). */
  label: string;
  /** Runs on the opened database (tables…); a damage it meets is healed like one met at open. */
  init?: (db: ReadDb) => void;
  /**
   * The table every file of this kind holds from its first open (`projection_checkpoints`,
   * `process_checkpoints`): what shows an existing database is ours, before anything is moved.
   */
  ownTable: string;
  /** The setting that names the file (READ_MODEL_PATH), for the refusal; unset: a path of ours. */
  setting?: string;
  /**
   * The path is a name of ours in DATA_DIR (not one the operator set): a file there that is no
   * SQLite database at all is this file, damaged, and is moved aside. Elsewhere it is refused.
   */
  ownsPath: boolean;
}

/** What the read models' file holds from its first open: its schema marker. */
export const READ_MODELS_TABLE = 'projection_checkpoints';
const CHECKPOINTS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS ${READ_MODELS_TABLE} (
  name TEXT PRIMARY KEY,
  schema_version INTEGER NOT NULL,
  position TEXT
)`;

/**
 * Files above this size get only the cheap checks at open (header, schema, `init`): a full
 * `PRAGMA quick_check` reads every page, which costs about a second per few hundred MB.
 */
export const QUICK_CHECK_MAX_BYTES = 512 * 1024 * 1024;

/**
 * The read models live in their own SQLite database, local to this instance. They are
 * disposable: every projection can be rebuilt from the event log, so this file needs no fsync
 * per commit (synchronous=NORMAL); a crash can only lose a suffix of projection work together
 * with its checkpoint, which the runner then re-applies. A damaged file is moved aside and
 * recreated empty (see openDisposableDatabase); the runner then rebuilds from the log.
 */
export function openReadModelDatabase(path: string, options?: Omit<DisposableDatabaseOptions, 'ownTable'> | LocalDatabaseOptions): ReadDb {
  if (!options || !('logger' in options)) {
    // A file of its own (a rebuild's, a test's): created, never moved aside.
    const db = openLocalDatabase(path, options);
    db.exec(CHECKPOINTS_TABLE_SQL);
    return db;
  }
  const init = (db: ReadDb) => {
    db.exec(CHECKPOINTS_TABLE_SQL);
    options.init?.(db);
  };
  return openDisposableDatabase(path, { ...options, init, ownTable: READ_MODELS_TABLE });
}

/**
 * An asOf replay's database (replay-files.ts): a scratch file of its own, with the tables every
 * read-model database holds. No journal on disk (a transaction's rollback is kept in memory) and
 * no sync: a crash loses only what a replay rebuilds. Read through a memory map, so that queries
 * on it are about as fast as on a database in memory; the pages are the system's file cache,
 * not this process's heap.
 */
export function openReplayDatabase(path: string): ReadDb {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
    db.pragma('foreign_keys = ON');
    db.pragma(`mmap_size = ${REPLAY_MMAP_BYTES}`);
    db.exec(CHECKPOINTS_TABLE_SQL);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Address space a replay's file may be mapped into (only the pages read take memory, and the system may drop them). */
const REPLAY_MMAP_BYTES = 4 * 1024 * 1024 * 1024;

/** A local SQLite file of this instance (WAL, synchronous=NORMAL), its folder created if missing. */
export function openLocalDatabase(path: string, options: LocalDatabaseOptions = {}): ReadDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    if (options.maxPages !== undefined) db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxPages))}`);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** SQLite's word for a file that is not (or no longer) a sound database. */
export function isDamagedDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(SQLITE_CORRUPT|SQLITE_NOTADB)/.test(code);
}

class DamagedDatabaseError extends Error {
  readonly code = 'SQLITE_CORRUPT';
  constructor(message: string) {
    super(message);
    this.name = 'DamagedDatabaseError';
  }
}

/**
 * Opens local state that can be recreated from the event log (read models, the process
 * manager's checkpoint). A file SQLite cannot open as a database, or that fails
 * `PRAGMA quick_check` (or `init`) as malformed, is moved aside with its -wal and -shm as
 * `<file>.corrupt-<timestamp>` (kept for inspection, never deleted) and recreated empty, with a
 * structured warn line. Other errors (permissions, a missing folder…) are thrown as they are:
 * they are not damage, and moving the file would hide them.
 *
 * Only a file that is recognisably ours is ever moved or written: an existing file that is not
 * (see refuseForeignFile) is a ConfigError naming the setting, and is left as it is.
 */
export function openDisposableDatabase(path: string, options: DisposableDatabaseOptions): ReadDb {
  refuseForeignFile(path, options);
  try {
    return waitsOnTimers(openChecked(path, options));
  } catch (error) {
    if (path === ':memory:' || !isDamagedDatabaseError(error)) throw error;
    const movedTo = moveAside(path);
    options.logger.warn('local state is damaged: moved aside and recreated empty; it will be rebuilt from the event log', {
      localState: options.label,
      file: path,
      movedTo,
      error: describeError(error),
    });
    return waitsOnTimers(openChecked(path, options));
  }
}

/**
 * Once the file is open (its schema made, which may wait for a lock at start-up), SQLite's busy
 * handler, which sleeps on the event loop, waits an instant only (operations probe 10-c M2: a
 * 10 s BEGIN EXCLUSIVE on read-models.sqlite from an operator's `sqlite3` held /health/live 5 s).
 * A write that meets another process's lock fails with SQLITE_BUSY, a transient error that its
 * writers retry on a timer (the projection runner and the process managers, transient-errors.ts).
 */
function waitsOnTimers(db: ReadDb): ReadDb {
  if (db.name !== ':memory:') db.pragma(`busy_timeout = ${LOOP_BUSY_WAIT_MS}`);
  return db;
}

function openChecked(path: string, options: DisposableDatabaseOptions): ReadDb {
  const db = openLocalDatabase(path, options);
  try {
    const size = path === ':memory:' || !existsSync(path) ? 0 : statSync(path).size;
    if (size <= QUICK_CHECK_MAX_BYTES) {
      const rows = db.pragma('quick_check') as { quick_check: string }[];
      const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
      if (problems.length > 0) throw new DamagedDatabaseError(`quick_check: ${problems.slice(0, 3).join('; ')}`);
    } else {
      db.prepare('SELECT count(*) FROM sqlite_schema').get();
    }
    options.init?.(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Renames the file and its -wal/-shm to `<file>.corrupt-<timestamp>[-wal|-shm]`; returns the new name. */
function moveAside(path: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = `${path}.corrupt-${stamp}`;
  // The WAL first: left beside a new empty file, its frames could be replayed into it.
  for (const suffix of ['-wal', '-shm', '']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  }
  return target;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * An existing, non-empty file is ours when it is an SQLite database whose schema is empty or
 * holds `ownTable`; a database whose schema cannot be read (damaged) is ours when the path is,
 * or when its bytes name `ownTable`; a file with no SQLite header at all, only when the path is
 * ours. Anything else (a system file, a key, the event store: `events`) is refused untouched.
 */
export function refuseForeignFile(path: string, options: Pick<DisposableDatabaseOptions, 'ownTable' | 'setting' | 'ownsPath' | 'label'>): void {
  if (path === ':memory:') return;
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return; // a folder…: opening it fails with SQLite's own error, nothing is moved
    size = stat.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (size === 0) return;
  const refuse = (what: string) =>
    new ConfigError(
      `${options.setting ? `${options.setting}: ` : ''}${path} ${what}: it is not the file of the ${options.label}, and was left untouched${options.setting ? `; point ${options.setting} at a file of its own` : ''}`,
      options.setting,
    );
  if (!firstBytes(path, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
    if (options.ownsPath) return;
    throw refuse('exists and is not an SQLite database');
  }
  let tables: string[] | null;
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[];
    } finally {
      db.close();
    }
  } catch (error) {
    if (!isDamagedDatabaseError(error)) throw error;
    tables = null;
  }
  if (tables === null) {
    if (options.ownsPath || fileMentions(path, options.ownTable)) return;
    throw refuse(`is an SQLite database that cannot be read and names no ${options.ownTable} table`);
  }
  if (tables.length === 0 || tables.includes(options.ownTable)) return;
  throw refuse(tables.includes('events') ? 'is an SQLite database with an events table (an event store)' : `is an SQLite database without a ${options.ownTable} table`);
}

function firstBytes(path: string, count: number): Buffer {
  const buffer = Buffer.alloc(count);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, count, 0);
  } finally {
    closeSync(fd);
  }
  return buffer;
}

/** Whether the file or its WAL contains `text` (a damaged database's schema, read as bytes, 1 MiB at a time). */
function fileMentions(path: string, text: string): boolean {
  const needle = Buffer.from(text, 'utf8');
  for (const file of [path, `${path}-wal`]) {
    if (!existsSync(file)) continue;
    const fd = openSync(file, 'r');
    try {
      const chunk = Buffer.alloc(1024 * 1024 + needle.length);
      let position = 0;
      for (;;) {
        const read = readSync(fd, chunk, 0, chunk.length, position);
        if (read === 0) break;
        if (chunk.subarray(0, read).includes(needle)) return true;
        if (read < chunk.length) break;
        position += read - needle.length;
      }
    } finally {
      closeSync(fd);
    }
  }
  return false;
}
