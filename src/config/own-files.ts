import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** What of the configuration names files (AppConfig's fields; declared here, app-config.ts imports this). */
export interface ConfiguredFiles {
  eventStore: string;
  sqlitePath: string;
  dataDir: string;
  readModelPath: string;
  processManagerPath: string;
  signing: { keyPath: string | null; trustedKeyPaths: string[] };
  evidence: { dir: string | null };
}

/*
 * The names of the server's own files (in DATA_DIR, and the embedded store's), in one place: the
 * modules that write them (app-config.ts's defaults, data-dir-lock.ts, access-log.ts,
 * access-log-postgres.ts, integrity-state.ts, dev-secret.ts), backup and restore (a backup keeps
 * each under its name) and the start's checks all take them from here.
 */

/** The embedded store's file (SQLITE_PATH's default is `./data/events.sqlite`), and its name in a backup. */
export const EVENT_STORE_FILE = 'events.sqlite';

/** The read models (DATA_DIR/read-models.sqlite when READ_MODEL_PATH is unset), and their name in a backup. */
export const READ_MODELS_FILE = 'read-models.sqlite';

/** The process manager's checkpoint in DATA_DIR, and its name in a backup. */
export const PROCESS_MANAGER_FILE = 'process-manager.sqlite';

/** The lock of a folder of local state (DATA_DIR's, the read models' elsewhere: data-dir-lock.ts). */
export const DATA_DIR_LOCK_FILE = 'risk-ledger.lock';

/** Beside each lock file, the file the kernel's lock is held on (KernelLock): `risk-ledger.lock.held`. */
export const KERNEL_LOCK_SUFFIX = '.held';

/** The integrity monitor's record of the last verified head (platform/integrity-state.ts). */
export const INTEGRITY_STATE_FILE = 'integrity-state.json';

/** The development token secret, generated when no JWT_SECRET is set (identity/dev-secret.ts). */
export const DEV_SECRET_FILE = 'dev-jwt-secret';

/** The embedded access log in DATA_DIR (audit/application/access-log.ts); a backup keeps it under the same name. */
export const ACCESS_LOG_FILE = 'access-log.sqlite';

/** The embedded access log's table of entries (its schema: audit/application/access-log-chain.ts, whose statements spell the name out); the start's checks look for rows in it. */
export const ACCESS_LOG_TABLE = 'access_log';

/** Where a signed access log keeps its anchor: beside it, `<name>.sqlite` → `<name>.anchor.json` (anchorPathFor in access-log-chain.ts). */
export function anchorBeside(logPath: string): string {
  return `${logPath.replace(/\.sqlite$/, '')}.anchor.json`;
}

/** The embedded access log's anchor in DATA_DIR (and in a backup). */
export const ACCESS_LOG_ANCHOR_FILE = anchorBeside(ACCESS_LOG_FILE);

/** Each instance's anchor of the access log shared in PostgreSQL (access-log-postgres.ts). */
export const ACCESS_LOG_POSTGRES_ANCHOR_FILE = 'access-log.postgres-anchor.json';

/** Evidence uploads in progress in DATA_DIR when the files go to PostgreSQL (the folder adapter keeps them in its own `.uploads`). */
export const EVIDENCE_UPLOADS_FOLDER = 'evidence-uploads';

/** The files of DATA_DIR other than the read models' and the process manager's (listed from their configured paths). */
const DATA_DIR_FILES: readonly [string, string][] = [
  [DATA_DIR_LOCK_FILE, "DATA_DIR's lock"],
  [DATA_DIR_LOCK_FILE + KERNEL_LOCK_SUFFIX, "DATA_DIR's lock (the kernel's)"],
  [ACCESS_LOG_FILE, 'the access log'],
  [ACCESS_LOG_ANCHOR_FILE, "the access log's anchor"],
  [ACCESS_LOG_POSTGRES_ANCHOR_FILE, "the access log's anchor"],
  [INTEGRITY_STATE_FILE, "the integrity monitor's record"],
  [DEV_SECRET_FILE, 'the development token secret'],
];

/** An SQLite file and what SQLite and the lock keep beside it. */
function withSidecars(path: string, what: string): [string, string][] {
  return [[path, what], [`${path}-wal`, `${what} (its WAL)`], [`${path}-shm`, `${what} (its shared memory)`], [`${path}.lock`, `${what} (its lock)`], [`${path}.lock.held`, `${what} (its lock, the kernel's)`]];
}

/** Every file the server keeps or reads other than the read models' own, with what it is. */
export function filesOtherThanReadModels(config: ConfiguredFiles): [string, string][] {
  const files: [string, string][] = [];
  if (config.eventStore === 'sqlite') files.push(...withSidecars(config.sqlitePath, "the event store's file (SQLITE_PATH)"));
  if (config.processManagerPath !== ':memory:') files.push(...withSidecars(config.processManagerPath, "the process manager's checkpoint"));
  for (const [name, what] of DATA_DIR_FILES) files.push([join(config.dataDir, name), `${what} (in DATA_DIR)`]);
  if (config.signing.keyPath) files.push([config.signing.keyPath, 'the signing key (SIGNING_KEY_PATH)']);
  for (const path of config.signing.trustedKeyPaths) files.push([path, 'a trusted public key (SIGNING_TRUSTED_KEYS)']);
  if (config.evidence.dir) files.push([config.evidence.dir, 'the evidence folder (EVIDENCE_DIR)']);
  return files;
}

/**
 * The same file: the same resolved path or, when both exist, the same device and inode (a
 * symbolic or hard link, another spelling of the path).
 */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * READ_MODEL_PATH must name a file of its own: the read models are disposable (a damaged file is
 * moved aside and recreated), so pointed at the event store they would write their tables into
 * the log, at the signing key they would move it aside. The other file it is, or null.
 */
export function readModelPathClash(config: ConfiguredFiles): string | null {
  if (config.readModelPath === ':memory:') return null;
  for (const [path, what] of filesOtherThanReadModels(config)) {
    if (sameFile(config.readModelPath, path)) return resolve(config.readModelPath) === resolve(path) ? what : `${what}, ${path}, under another name`;
  }
  return null;
}

/**
 * What keeps `folder` from being a folder: a file at its place or at a place above it (the start
 * failed with a bare "ENOTDIR: not a directory, stat '…/read-models.sqlite'", README probe L6), or
 * null when it is one or can be made.
 */
export function notAFolder(folder: string): string | null {
  for (let path = resolve(folder); ; path = dirname(path)) {
    let isFolder: boolean | null = null;
    try {
      isFolder = statSync(path).isDirectory();
    } catch {
      isFolder = null; // missing (or under a file: the file further up says so)
    }
    if (isFolder === false) return path === resolve(folder) ? `${path} is a file, not a folder` : `${path}, above it, is a file`;
    if (isFolder === true || path === dirname(path)) return null;
  }
}
