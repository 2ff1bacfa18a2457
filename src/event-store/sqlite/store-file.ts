/**
 * What the file at SQLITE_PATH holds, read without writing a byte of it. Opening it as a store
 * would create the schema in any SQLite file (an empty one, someone else's database), so the
 * command-line tools that must never create or change a store (verify-store, export, rebuild)
 * look first. It also sees what the store's readers cannot: a signed commit head past the last
 * event (readers stop at the log's head), left behind when the newest events were deleted.
 */
import Database from 'better-sqlite3';

/**
 * The store's tables that a file at this schema version (PRAGMA user_version, schema.ts) must
 * hold: a file missing its idempotency or snapshots table was "no such table" and exit 2 for
 * rebuild and verify-store, where a missing events table was BROKEN, exit 1 (re-probe 9).
 */
const tablesAt = (version: number): string[] => ['events', 'idempotency', ...(version >= 3 ? ['chain_signatures'] : []), ...(version >= 4 ? ['snapshots'] : [])];

export type StoreFileInspection =
  | { kind: 'store'; lastEventPosition: number; lastSignedPosition: number | null }
  | { kind: 'damaged'; reason: string }
  | { kind: 'not-a-store'; reason: string };

/**
 * Opens the file read-only (it must exist). A file that is no SQLite database at all throws
 * SQLite's own error (SQLITE_NOTADB), which the tools report as a damaged store.
 */
export function inspectStoreFile(path: string, options: { quickCheck?: boolean } = {}): StoreFileInspection {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    if (version === 0 && !tables.has('events') && !tables.has('chain_signatures')) {
      return { kind: 'not-a-store', reason: tables.size ? 'an SQLite database without an event store in it' : 'an empty SQLite file' };
    }
    const missing = tablesAt(version).filter((t) => !tables.has(t));
    if (missing.length) return { kind: 'damaged', reason: `the store's table${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing` };
    // Every page looked at (O(file size)): pages no read of the log touches (an index) can be damaged
    // while every event still reads (operations probe 10-c M3: rebuild answered 0 over such a file).
    if (options.quickCheck) {
      const problem = db.pragma('quick_check(1)', { simple: true }) as string;
      if (problem !== 'ok') return { kind: 'damaged', reason: `PRAGMA quick_check: ${problem}` };
    }
    const lastEventPosition = (db.prepare('SELECT max(position) FROM events').pluck().get() as number | null) ?? 0;
    const lastSignedPosition = tables.has('chain_signatures') ? (db.prepare('SELECT max(position) FROM chain_signatures').pluck().get() as number | null) : null;
    return { kind: 'store', lastEventPosition, lastSignedPosition };
  } finally {
    db.close();
  }
}
