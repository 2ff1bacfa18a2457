/**
 * `risk-ledger backup --out DIR`: a copy of an installation on the embedded store that a server
 * may be writing meanwhile, from which a server starts as it would after a crash at the moment the
 * copy was taken.
 *
 * Why a command: the usual copies of a running DATA_DIR (`cp -r`, `tar`, `sqlite3 .backup` of each
 * file) mostly came up refused or BROKEN for good (backup probe of 2026-12-06, F1: the access log's
 * anchor copied after its log, the read models copied after the event log, `events.sqlite` without
 * its WAL: acknowledged events lost, or a file torn by the WAL's checkpoint). What derives from
 * another file must not be copied ahead of it, so the files are taken in this order, each as one
 * consistent snapshot (a read transaction held while SQLite's online backup copies it, whatever the
 * server writes meanwhile; every snapshot is fixed before the first copy begins):
 *
 *   1. the integrity monitor's record (a verified head: never past the log copied after it),
 *   2. the read models and the process manager's checkpoints (positions of the log),
 *   3. the access log's anchor, then the access log (entries naming events of the log),
 *   4. the event log,
 *   5. the evidence files (every file the log copied cites was stored before its event),
 *   6. the keys (the signing key, the development token secret) when they live in DATA_DIR.
 *
 * Requests in flight when the log was copied may have no access-log entry in the copy, as after a
 * SIGKILL: a copy of a running server carries the note of an unclean stop (`<lock>.unclean`), and
 * the first server started on it records one (UncleanStopRecovered), which accounts for them. The
 * copy is then verified as verify-store does (chain, signed heads, every cited evidence file) and
 * the folder is put in place by a rename only when it is complete: a backup interrupted or refused
 * leaves nothing at DIR.
 */
import { chmodSync, copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative, resolve, sep } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig, type AppConfig } from '../config/app-config.js';
import { ACCESS_LOG_ANCHOR_FILE, ACCESS_LOG_FILE, DEV_SECRET_FILE, EVENT_STORE_FILE, INTEGRITY_STATE_FILE, notAFolder, PROCESS_MANAGER_FILE, READ_MODELS_FILE } from '../config/own-files.js';
import { accessLogPath } from '../audit/application/access-log.js';
import { anchorPathFor, configuredTrustedKeys } from '../audit/application/access-log-chain.js';
import { estimatedCount, verifyStoreAgainst } from '../audit/application/evidence-export.js';
import { openConfiguredEventStore } from '../platform/configured-event-store.js';
import { integrityStatePath } from '../platform/integrity-state.js';
import { realFilePath } from '../platform/real-file-path.js';
import { DataDirLock, SERVER_HOLDER, UNCLEAN_NOTE_FILE } from '../platform/data-dir-lock.js';
import { openConfiguredBlobStore } from '../evidence/infrastructure/configured-blob-store.js';
import type { EvidenceBlobStore } from '../evidence/application/evidence-blobs.js';
import { existingStore, log, result } from './evidence-commands.js';
import { cleanUpOnInterrupt } from './interrupts.js';
import { ProgressBar } from './progress-bar.js';
import { serverRecordAnchor } from './store-anchor.js';
import { UsageError } from './usage-error.js';

/** A copy made slower than it is, as a large file on a slow disk would be (tests raise it). */
export const backupPacing = { afterEachCopyMs: 0 };

/** The file in the backup folder that says what it holds. */
export const BACKUP_MANIFEST = 'backup.json';

interface CopiedFile {
  /** Its name in the backup folder. */
  name: string;
  /** Where it was copied from. */
  from: string;
  bytes: number;
  sha256: string;
}

export async function runBackup(config: AppConfig, out: string | undefined): Promise<number> {
  if (!out) throw new UsageError('backup needs --out DIR (a folder that does not exist yet)');
  if (config.eventStore !== 'sqlite') {
    existingStore(config); // the memory store: its own words
    throw new UsageError(
      `backup copies an installation on the embedded store (EVENT_STORE=sqlite); with EVENT_STORE=${config.eventStore} back up the database with its own tools (PostgreSQL: pg_dump -n risk_ledger, README "Backup and restore") and keep SIGNING_KEY_PATH's key with it`,
    );
  }
  const inspected = existingStore(config);
  if (inspected?.kind === 'damaged') {
    result({ command: 'backup', ok: false, reason: `the store file is damaged: ${inspected.reason}` }, `BROKEN: the event store ${config.sqlitePath} is damaged (${inspected.reason}): nothing was copied.`);
    return 1;
  }
  const target = resolve(out);
  if (existsSync(target)) throw new UsageError(`${target} exists: backup writes a new folder (nothing was copied)`);
  const sources = [config.dataDir, evidenceDir(config)];
  for (const source of sources) {
    // As the file system resolves them: through a symbolic link, a backup into DATA_DIR was accepted (re-probe M7).
    if (isWithin(realFilePath(target), realFilePath(source))) throw new UsageError(`${target} is inside ${source}, which the backup copies: choose a folder outside it`);
  }
  // A server is copied as it runs; a restore, rebuild or import midway is not (re-probe H1: a
  // restore's half-placed DATA_DIR was copied and said OK, without its access log).
  const holder = DataDirLock.liveOwner(config.dataDir);
  if (holder !== null && holder !== 'unreadable' && (holder.holder ?? SERVER_HOLDER) !== SERVER_HOLDER) {
    throw new UsageError(`${config.dataDir} is held by ${holder.holder} (pid ${holder.pid}): back up once it has finished (nothing was copied)`);
  }
  // A file where a folder above it should be: said as such (re-probe L2: "file already exists, mkdir").
  const notFolder = notAFolder(dirname(target));
  if (notFolder !== null) throw new UsageError(`--out ${target}: ${notFolder}; backup cannot make its folder (nothing was copied)`);
  const partial = `${target}.partial-${process.pid}`;
  try {
    mkdirSync(dirname(target), { recursive: true });
    mkdirSync(partial, { mode: 0o700 }); // it holds the keys
  } catch (error) {
    // Said in terms of --out (README probe L6: the raw "no such file or directory, mkdir '/proc/x.partial-…'").
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'a read-only file system' : code === 'ENOSPC' ? 'no space left' : `folders cannot be made there (${code ?? (error as Error).message})`;
    throw new UsageError(`--out ${target}: the backup folder cannot be made in ${dirname(target)}: ${why}; nothing was copied`);
  }
  const uninterruptible = cleanUpOnInterrupt(() => {
    rmSync(partial, { recursive: true, force: true });
    process.stderr.write(`risk-ledger backup: interrupted; nothing was kept at ${target}\n`);
  });
  try {
    const running = holder;
    const copied: CopiedFile[] = [];
    const copyFile = (from: string | null, name: string) => {
      if (from === null || !existsSync(from)) return;
      // Read whole, then written: the anchor and the monitor's record are replaced by a rename, so
      // a read meets one version (cp skipped a file "replaced while being copied", probe F1).
      const bytes = readFileSync(from);
      mkdirSync(dirname(join(partial, name)), { recursive: true }); // a key in a folder of DATA_DIR
      // With its mode: the keys are their owner's alone (0600), and stay so in the copy.
      writeFileSync(join(partial, name), bytes, { flag: 'wx', mode: statSync(from).mode & 0o777 });
      copied.push({ name, from, bytes: bytes.length, sha256: sha256(bytes) });
    };
    // Each SQLite file's snapshot is fixed by a read transaction, in the order above and within
    // moments of each other, before any is copied: the copies then come from those snapshots,
    // however long they take. Copied one after the other instead, the requests answered between
    // the access log's copy and the log's (2-3 s for access logs of 12-27 MB under load) had
    // changes in the copy and no entry, more than an unclean stop accounts for, and the restored
    // access log was BROKEN for good (re-probe of 2026-12-06, A).
    const held: HeldSnapshot[] = [];
    try {
      copyFile(integrityStatePath(config), INTEGRITY_STATE_FILE);
      held.push(...[holdSnapshot(config.readModelPath, READ_MODELS_FILE), holdSnapshot(config.processManagerPath, PROCESS_MANAGER_FILE)].filter(isHeld));
      const accessLog = accessLogPath(config);
      copyFile(anchorPathFor(accessLog), ACCESS_LOG_ANCHOR_FILE);
      held.push(...[holdSnapshot(accessLog, ACCESS_LOG_FILE), holdSnapshot(config.sqlitePath, EVENT_STORE_FILE)].filter(isHeld));
      for (const snapshot of held) {
        copied.push(await copySnapshot(snapshot, partial));
        if (backupPacing.afterEachCopyMs > 0) await new Promise((resolvePause) => setTimeout(resolvePause, backupPacing.afterEachCopyMs));
      }
    } finally {
      for (const snapshot of held) snapshot.db.close();
    }
    const evidenceFiles = copyEvidence(evidenceDir(config), join(partial, 'evidence'));
    const keyInDataDir = config.signing.keyPath !== null && isWithin(config.signing.keyPath, config.dataDir);
    if (keyInDataDir) copyFile(config.signing.keyPath, relative(config.dataDir, config.signing.keyPath!));
    copyFile(join(config.dataDir, DEV_SECRET_FILE), DEV_SECRET_FILE);
    // Started on, the copy is a server stopped uncleanly: at the moment its log was copied, or, the
    // server gone, when it crashed (its stop not recorded yet: upgrade probe F1).
    const unclean = running ?? DataDirLock.unrecordedUncleanStop(config.dataDir, config.readModelPath, config.sqlitePath)?.owner ?? null;
    if (unclean !== null) {
      const owner = unclean === 'unreadable' ? { pid: 0, startedAt: '', holder: SERVER_HOLDER } : unclean;
      writeFileSync(join(partial, UNCLEAN_NOTE_FILE), JSON.stringify(owner) + '\n', { flag: 'wx' });
    }

    const verdict = await verifyCopy(config, partial, keyInDataDir);
    const names = new Set(copied.map((f) => f.name));
    if (verdict.ok && !names.has(ACCESS_LOG_FILE) && (names.has(ACCESS_LOG_ANCHOR_FILE) || verdict.eventsChecked > 0)) {
      // What AccessLogStore.open refuses at start: no server would start on this copy (re-probe H1).
      const reason = `there is no access log at ${accessLogPath(config)}, though the log holds ${verdict.eventsChecked} events: a server refuses to start on this installation until ACCESS_LOG_RESET=1 records the loss`;
      result({ command: 'backup', ok: false, reason }, `BROKEN: ${reason}; nothing was kept at ${target}. Keep the files as they are for the auditors (a copy by hand), or start the server once with ACCESS_LOG_RESET=1 and back up then.`);
      rmSync(partial, { recursive: true, force: true });
      return 1;
    }
    if (!verdict.ok) {
      result({ command: 'backup', ok: false, reason: verdict.reason, firstBrokenPosition: verdict.firstBrokenPosition ?? null }, `BROKEN: the copy does not verify (${verdict.reason}); nothing was kept at ${target}. Run verify-store on the installation.`);
      rmSync(partial, { recursive: true, force: true });
      return 1;
    }
    const manifest = {
      format: 1,
      createdAt: new Date().toISOString(),
      serverWasRunning: running !== null,
      events: { count: verdict.eventsChecked, headPosition: verdict.headPosition, headChainHash: verdict.headChainHash },
      evidenceFiles,
      files: copied,
      settings: { dataDir: config.dataDir, sqlitePath: config.sqlitePath, readModelPath: config.readModelPath, evidenceDir: config.evidence.dir, signingKeyPath: config.signing.keyPath, signingTrustedKeys: config.signing.trustedKeyPaths },
      signingKeyCopied: keyInDataDir,
    };
    writeFileSync(join(partial, BACKUP_MANIFEST), JSON.stringify(manifest, null, 2) + '\n', { flag: 'wx' });
    renameSync(partial, target);
    const keyWords = keyInDataDir || config.signing.keyPath === null ? '' : ` The signing key ${config.signing.keyPath} is outside DATA_DIR and was not copied: keep it with the backup.`;
    result(
      { command: 'backup', ok: true, out: target, ...manifest.events, evidenceFiles, serverWasRunning: manifest.serverWasRunning, uncleanStopCarried: unclean !== null, signingKeyCopied: keyInDataDir },
      `OK: ${verdict.eventsChecked} events (head ${verdict.headPosition ?? 'none'}) and ${evidenceFiles} evidence file(s) copied to ${target} and verified${running !== null ? ', as a server would leave them if stopped at the copy (it ran meanwhile)' : unclean !== null ? ", with the unclean stop of the installation's last server, which no server has recorded yet: the first start on a restore of it records it" : ''}.${keyWords} To restore, see README "Backup and restore".`,
    );
    return 0;
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    const { code, path } = error as { code?: unknown; path?: unknown };
    // A full target, or one that refused a file: named (re-probe D: a bare "database or disk is full").
    if (code === 'SQLITE_FULL' || code === 'ENOSPC' || ((code === 'EACCES' || code === 'EROFS') && typeof path === 'string' && path.startsWith(partial))) {
      throw new UsageError(`the backup could not be written into ${dirname(target)} (${(error as Error).message}); nothing was kept at ${target}: it needs about the size of DATA_DIR, the event store and the evidence folder`);
    }
    throw error;
  } finally {
    uninterruptible();
  }
}

/** Where the evidence files of the embedded store live (EVIDENCE_DIR, else DATA_DIR/evidence). */
export function evidenceDir(config: AppConfig): string {
  return config.evidence.dir ?? join(config.dataDir, 'evidence');
}

/** Whether `path` is `folder` or inside it. */
export function isWithin(path: string, folder: string): boolean {
  const p = resolve(path);
  const f = resolve(folder);
  return p === f || p.startsWith(f + sep);
}

/** Every stored evidence file (content-addressed, never changed once in place); uploads in progress are left. */
function copyEvidence(from: string, to: string): number {
  if (!existsSync(from)) return 0;
  const files: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue; // .uploads: files still being received
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  walk(from);
  const bar = new ProgressBar({ label: 'backup: evidence files', total: files.length, unit: 'files' });
  files.forEach((file, i) => {
    const into = join(to, relative(from, file));
    mkdirSync(dirname(into), { recursive: true, mode: 0o700 }); // private, as the backup folder
    copyFileSync(file, into);
    bar.update(i + 1);
  });
  bar.finish();
  return files.length;
}

/** The copy verified as verify-store verifies a store: its chain, its signed heads against its own record, every evidence file it cites. */
function verifyCopy(config: AppConfig, folder: string, keyInDataDir: boolean) {
  const env: NodeJS.ProcessEnv = { ...process.env, EVENT_STORE: 'sqlite', DATA_DIR: folder, SQLITE_PATH: join(folder, EVENT_STORE_FILE), READ_MODEL_PATH: join(folder, READ_MODELS_FILE) };
  delete env.EVIDENCE_DIR;
  if (keyInDataDir) env.SIGNING_KEY_PATH = join(folder, relative(config.dataDir, config.signing.keyPath!));
  return verifyInstallation(env, 'backup: verifying the copy');
}

/**
 * The installation `env` describes (a copy: backup's, restore's) verified as verify-store
 * verifies a store: its chain, its signed heads against its own record of the verified head,
 * every evidence file it cites, with the keys `env` names.
 */
export async function verifyInstallation(env: NodeJS.ProcessEnv, label: string) {
  const copy = loadConfig(env, { verifiesTokens: false });
  const store = await openConfiguredEventStore(copy);
  let blobs: EvidenceBlobStore | null = null;
  try {
    const bar = new ProgressBar({ label, total: estimatedCount(await store.headPosition()), unit: 'events' });
    const report = await verifyStoreAgainst(store, serverRecordAnchor(copy, store.adapterName).anchor, {
      onProgress: (done: number) => bar.update(done),
      trusted: configuredTrustedKeys(copy.signing),
      evidence: async () => (blobs = await openConfiguredBlobStore(copy)),
    });
    bar.finish();
    return report;
  } finally {
    await (blobs as EvidenceBlobStore | null)?.close();
    await store.close();
  }
}

/** An SQLite file opened read-only with a read transaction: the snapshot a copy is made from. */
interface HeldSnapshot {
  db: Database.Database;
  from: string;
  name: string;
}

function isHeld(snapshot: HeldSnapshot | null): snapshot is HeldSnapshot {
  return snapshot !== null;
}

function holdSnapshot(from: string, name: string): HeldSnapshot | null {
  if (from === ':memory:' || !existsSync(from)) return null;
  const db = new Database(from, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 30000');
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM sqlite_master').get(); // the snapshot is taken at the first read
    return { db, from, name };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** SQLite's online backup from the held read transaction: the file as it stood then, whatever the server has written since. */
async function copySnapshot(snapshot: HeldSnapshot, folder: string): Promise<CopiedFile> {
  const into = join(folder, snapshot.name);
  const started = Date.now();
  const pages = snapshot.db.pragma('page_count', { simple: true }) as number;
  const bar = new ProgressBar({ label: `backup: ${snapshot.name}`, total: pages, unit: 'pages' });
  await snapshot.db.backup(into, {
    progress: ({ totalPages, remainingPages }) => {
      bar.update(totalPages - remainingPages);
      return 1_000;
    },
  });
  bar.update(pages); // a file copied in one step reported no progress: "0 pages 0/s" (re-probe L1)
  bar.finish();
  chmodSync(into, statSync(snapshot.from).mode & 0o777);
  log.info('backup: copied', { file: snapshot.from, into, ms: Date.now() - started });
  return { name: snapshot.name, from: snapshot.from, bytes: statSync(into).size, sha256: await sha256OfFile(into) };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function sha256OfFile(file: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}
