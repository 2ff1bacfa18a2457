import Database from 'better-sqlite3';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JsonLogger } from '../shared/logging/json-logger.js';
import { describeError } from '../shared/application/transient-errors.js';

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
}

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
export function openReadModelDatabase(path: string, options?: DisposableDatabaseOptions): ReadDb {
  const init = (db: ReadDb) => {
    db.exec(`CREATE TABLE IF NOT EXISTS projection_checkpoints (
      name TEXT PRIMARY KEY,
      schema_version INTEGER NOT NULL,
      position TEXT
    )`);
    options?.init?.(db);
  };
  if (!options) {
    const db = openLocalDatabase(path);
    init(db);
    return db;
  }
  return openDisposableDatabase(path, { ...options, init });
}

/** A local SQLite file of this instance (WAL, synchronous=NORMAL), its folder created if missing. */
export function openLocalDatabase(path: string, options: LocalDatabaseOptions = {}): ReadDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
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
 */
export function openDisposableDatabase(path: string, options: DisposableDatabaseOptions): ReadDb {
  try {
    return openChecked(path, options);
  } catch (error) {
    if (path === ':memory:' || !isDamagedDatabaseError(error)) throw error;
    const movedTo = moveAside(path);
    options.logger.warn('local state is damaged: moved aside and recreated empty; it will be rebuilt from the event log', {
      localState: options.label,
      file: path,
      movedTo,
      error: describeError(error),
    });
    return openChecked(path, options);
  }
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
