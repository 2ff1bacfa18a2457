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

/**
 * The files of DATA_DIR that are not the read models', by the names their modules give them
 * (data-dir-lock.ts, access-log.ts and access-log-chain.ts, access-log-postgres.ts,
 * integrity-monitor.ts, identity/dev-secret.ts, process-manager in app-config.ts).
 */
/** The embedded access log in DATA_DIR (audit/application/access-log.ts); a backup keeps it under the same name. */
export const ACCESS_LOG_FILE = 'access-log.sqlite';

/** Where a signed access log keeps its anchor: beside it, `<name>.sqlite` → `<name>.anchor.json` (anchorPathFor in access-log-chain.ts). */
export function anchorBeside(logPath: string): string {
  return `${logPath.replace(/\.sqlite$/, '')}.anchor.json`;
}

/** The embedded access log's anchor in DATA_DIR (and in a backup). */
export const ACCESS_LOG_ANCHOR_FILE = anchorBeside(ACCESS_LOG_FILE);

/** Each instance's anchor of the access log shared in PostgreSQL (access-log-postgres.ts). */
export const ACCESS_LOG_POSTGRES_ANCHOR_FILE = 'access-log.postgres-anchor.json';

const DATA_DIR_FILES: readonly [string, string][] = [
  ['risk-ledger.lock', "DATA_DIR's lock"],
  ['risk-ledger.lock.held', "DATA_DIR's lock (the kernel's)"],
  [ACCESS_LOG_FILE, 'the access log'],
  [ACCESS_LOG_ANCHOR_FILE, "the access log's anchor"],
  [ACCESS_LOG_POSTGRES_ANCHOR_FILE, "the access log's anchor"],
  ['integrity-state.json', "the integrity monitor's record"],
  ['dev-jwt-secret', 'the development token secret'],
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
