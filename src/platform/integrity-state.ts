/**
 * The record of the last signed head the server verified (DATA_DIR/integrity-state.json). The
 * integrity monitor writes it, and at its next start checks that the log still holds that head
 * before verifying what follows. The command line's verify-store and export read the same record
 * as their anchor when no manifest is given: a log cut at a commit boundary, or an older copy put
 * back, is a valid signed log, and only a head recorded before shows what is missing. One reader
 * for both, so that the server and the command line never disagree on what the record says.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type AppConfig } from '../config/app-config.js';
import { ACCESS_LOG_ANCHOR_FILE, ACCESS_LOG_FILE, ACCESS_LOG_TABLE, INTEGRITY_STATE_FILE } from '../config/own-files.js';
import { decodePosition } from '../event-store/hash-chain.js';
import { READ_MODELS_TABLE } from '../projections/read-model-database.js';
import { PROCESS_CHECKPOINTS_TABLE } from '../shared/application/reactions-coordination.js';
import type { VerifiedHead } from '../event-store/integrity-verifier.js';

/** What the record holds: the last signed head verified, when, and on which store. */
export interface VerifiedState extends VerifiedHead {
  verifiedAt: string;
  /** The store it was verified on (adapterName; absent in records written before 2026-12-02). */
  adapter?: string;
}

/** Where the server keeps the record (null: nowhere, the in-memory store keeps nothing between runs). */
export function integrityStatePath(config: Pick<AppConfig, 'eventStore' | 'dataDir'>): string | null {
  return config.eventStore === 'memory' ? null : join(config.dataDir, INTEGRITY_STATE_FILE);
}

/** The record as read: none (no file), unreadable (not JSON, a field missing or invalid, no permission), or the head. */
export type RecordedHead =
  | { kind: 'none' }
  | { kind: 'unreadable'; path: string }
  | { kind: 'recorded'; path: string; head: VerifiedHead; adapter: string | null; verifiedAt: string | null };

export function readVerifiedState(path: string | null): RecordedHead {
  if (!path || !existsSync(path)) return { kind: 'none' };
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<VerifiedState>;
    if (typeof value.position === 'string' && typeof value.chainHash === 'string' && typeof value.hashVersion === 'number') {
      decodePosition(value.position);
      return {
        kind: 'recorded',
        path,
        head: { position: value.position, chainHash: value.chainHash, hashVersion: value.hashVersion },
        adapter: typeof value.adapter === 'string' ? value.adapter : null,
        verifiedAt: typeof value.verifiedAt === 'string' ? value.verifiedAt : null,
      };
    }
  } catch {
    // unreadable
  }
  return { kind: 'unreadable', path };
}

/**
 * No embedded store at SQLITE_PATH, while DATA_DIR shows that one existed: the record names a head
 * verified on one, or is there but unreadable, or the read models or the process manager's
 * checkpoint show they followed a log (followedALog). The log is missing (a backup's files put back without events.sqlite,
 * SQLITE_PATH pointing elsewhere, the file deleted). Opened, the store would be created empty under
 * the local state of the old log: the server served the old read models, flagged BROKEN, over a
 * new empty log (backup probe of 2026-12-06, F8; with the record emptied, damaged or removed, the
 * re-probe of 2026-12-07, M8). Refused at start instead, naming what shows the log existed.
 */
export function refuseMissingLog(config: Pick<AppConfig, 'eventStore' | 'dataDir' | 'sqlitePath' | 'readModelPath' | 'processManagerPath'>): void {
  // An empty file is no log either (re-probe of 2026-12-07 12:05, F2: `: > events.sqlite` was opened as a new store under the old read models).
  if (config.eventStore !== 'sqlite' || nonEmpty(config.sqlitePath)) return;
  const recorded = readVerifiedState(integrityStatePath(config));
  if (recorded.kind === 'recorded' && recorded.adapter !== null && recorded.adapter !== 'sqlite') return; // a DATA_DIR of another store
  const anchor = join(config.dataDir, ACCESS_LOG_ANCHOR_FILE);
  const accessLog = join(config.dataDir, ACCESS_LOG_FILE);
  const traces =
    recorded.kind === 'recorded'
      ? [`${recorded.path} records a log verified up to position ${recorded.head.position}`]
      : [
          ...(recorded.kind === 'unreadable' ? [`${recorded.path} is there (unreadable)`] : []),
          ...[
            { file: config.readModelPath, table: READ_MODELS_TABLE },
            { file: config.processManagerPath, table: PROCESS_CHECKPOINTS_TABLE },
          ]
            .filter(({ file, table }) => file !== ':memory:' && followedALog(file, table))
            .map(({ file }) => `${file} is there`),
          // The access log names the events it answered (re-probe of 2026-12-07 12:05, F1: with only it and its anchor left, a new empty log was served, health ok).
          ...(existsSync(anchor) ? [`${anchor} records a signed access log`] : []),
          ...(holdsRows(accessLog, ACCESS_LOG_TABLE) ? [`${accessLog} holds entries`] : []),
        ];
  if (traces.length === 0) return;
  throw new ConfigError(
    `there is no event store at ${config.sqlitePath}, but ${traces.join(' and ')}: the log is missing (a backup put back without events.sqlite, or SQLITE_PATH pointing elsewhere). Put the log back (README "Backup and restore": risk-ledger restore), or, to start a new log on purpose, move DATA_DIR's local state aside first (its read models, process-manager.sqlite, integrity-state.json and the access log with its anchor)`,
    'SQLITE_PATH',
  );
}

/**
 * Whether `file` shows it followed a log: a checkpoint in `table` past nothing, or a file that cannot
 * be read as such (damaged, another kind: not ours to call new). A file that was only created, by a
 * first start that then failed on the store (a SQLITE_PATH mistyped), is no trace: the start after
 * the fix was refused as "the log is missing" (README probe of 2026-12-07, M2).
 */
function followedALog(file: string, table: string): boolean {
  return holdsRows(file, table, 'position IS NOT NULL');
}

/** Whether the SQLite `file` has rows in `table` (matching `where`); true when it cannot be read as such (not ours to call new). */
function holdsRows(file: string, table: string, where = '1'): boolean {
  if (!nonEmpty(file)) return false;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }).n > 0;
    } finally {
      db.close();
    }
  } catch {
    return true;
  }
}

function nonEmpty(file: string): boolean {
  try {
    return statSync(file).size > 0;
  } catch {
    return false;
  }
}
