/**
 * `risk-ledger restore --from DIR`: a folder written by `backup` put back in the places this
 * installation's settings name (DATA_DIR, SQLITE_PATH, READ_MODEL_PATH, EVIDENCE_DIR,
 * SIGNING_KEY_PATH), with the server stopped.
 *
 * Why a command: the restore by hand had as many steps as the places, and each way of getting one
 * wrong left a server refused or BROKEN (backup probe of 2026-12-06: a WAL left beside the restored
 * log, "database disk image is malformed", F5; the log alone restored under newer read models and
 * integrity record, F2; a server started on the backup folder itself, which then no longer matched
 * its backup.json, re-probe C). Here:
 *
 *   1. the backup is checked against its backup.json (every file's size and SHA-256; every
 *      evidence file hashes to its name) and read, never written: it can be restored again;
 *   2. the locks a server takes are taken (DATA_DIR's, the read models' folder's, the event
 *      store's): refused while a server or another command runs, and no server starts meanwhile;
 *   3. the backup's files are copied beside their places (inside DATA_DIR: `.restoring-<pid>/`;
 *      elsewhere: `<file>.restoring-<pid>`) and the evidence files it lacks copied into the
 *      evidence folder (content-addressed: a file already there with the right hash is the same
 *      file); the copy is verified as verify-store verifies a store, with this installation's keys,
 *      and must hold the head backup.json names;
 *   4. only then (restore-placement.ts), each file of the installation in the way is moved
 *      aside, never deleted (inside DATA_DIR: into `DATA_DIR/before-restore-<time>/`, on the same
 *      file system, so a DATA_DIR that is a mount point works; elsewhere:
 *      `<file>.before-restore-<time>`, with its -wal and -shm), and the copies are renamed into
 *      place. A failure halfway moves everything back.
 *
 * Killed in step 4, the same restore run again finishes it. Interrupted before step 4, nothing
 * was changed (the evidence files copied in stay: each is the
 * file its hash names). Signals wait while step 4 runs (renames, milliseconds).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { AppConfig } from '../config/app-config.js';
import { accessLogPath } from '../audit/application/access-log.js';
import { anchorPathFor } from '../audit/application/access-log-chain.js';
import { encodePosition } from '../event-store/hash-chain.js';
import { integrityStatePath } from '../platform/integrity-state.js';
import { DataDirLock, UNCLEAN_NOTE_FILE } from '../platform/data-dir-lock.js';
import { realFilePath } from '../platform/real-file-path.js';
import { readRestoreMark, RESTORE_MARKER } from '../platform/restore-marker.js';
import { asidePlaces, bringBackKeptFiles, copyInto, putInPlace, SQLITE_SIDE_FILES, type Placement } from './restore-placement.js';
import { BACKUP_MANIFEST, evidenceDir, isWithin, sha256OfFile, verifyInstallation } from './backup-command.js';
import { giveOwner } from './database-file-swap.js';
import { existingStore, log, result } from './evidence-commands.js';
import { cleanUpOnInterrupt } from './interrupts.js';
import { ProgressBar } from './progress-bar.js';
import { UsageError } from './usage-error.js';
import { ACCESS_LOG_ANCHOR_FILE, ACCESS_LOG_FILE, DEV_SECRET_FILE, EVENT_STORE_FILE, INTEGRITY_STATE_FILE, PROCESS_MANAGER_FILE, READ_MODELS_FILE } from '../config/own-files.js';

/** What backup.json says (format 1, src/cli/backup-command.ts). */
interface BackupManifest {
  format: number;
  createdAt: string;
  events: { count: number; headPosition: string | null; headChainHash: string | null };
  evidenceFiles: number;
  files: { name: string; bytes: number; sha256: string }[];
  settings: { dataDir: string; signingKeyPath: string | null };
  signingKeyCopied: boolean;
}

const SHA256_NAME = /^[0-9a-f]{64}$/;

export async function runRestore(config: AppConfig, from: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!from) throw new UsageError('restore needs --from DIR (a folder written by backup)');
  if (config.eventStore !== 'sqlite') {
    existingStore(config); // the memory store: its own words
    throw new UsageError(`restore puts back a backup of the embedded store (EVENT_STORE=sqlite); with EVENT_STORE=${config.eventStore} restore the database with its own tools (PostgreSQL: pg_restore, README "Backup and restore")`);
  }
  // SQLITE_PATH's default is ./data/events.sqlite of the folder the command runs in, whatever DATA_DIR
  // says: run elsewhere (`risk-ledger` on the PATH, `docker exec -w`), the restore replaced DATA_DIR
  // and put the log where no server reads it (re-probe H2: the server served the old log under the
  // backup's access log, BROKEN for good). Where the log goes is not guessed.
  if (env.DATA_DIR && !env.SQLITE_PATH && !isWithin(config.sqlitePath, config.dataDir)) {
    throw new UsageError(`SQLITE_PATH is not set: the log would go to ${config.sqlitePath} (./data/events.sqlite of the folder this command runs in), outside DATA_DIR ${config.dataDir}. Set SQLITE_PATH to the server's log, as its settings give it, and run restore again; nothing was changed`);
  }
  const backup = resolve(from);
  const manifest = readManifest(backup);
  const evidence = evidenceDir(config);
  const places = placementsOf(config, manifest, backup);
  // Compared as the file system resolves them: through a symbolic link, a backup inside DATA_DIR was moved aside with it (R4).
  const realBackup = realFilePath(backup);
  for (const place of [config.dataDir, evidence, ...places.map((p) => p.target)]) {
    const realPlace = realFilePath(place);
    if (isWithin(realPlace, realBackup) || isWithin(realBackup, realPlace)) throw new UsageError(`${backup} and ${place}, which the restore replaces, overlap: restore from a folder outside this installation's`);
  }

  // Something else in the mark's place (a folder) would fail the mark's write in step 4 with a bare "illegal operation".
  const markFile = join(config.dataDir, RESTORE_MARKER);
  if (existsSync(markFile) && !statSync(markFile).isFile()) throw new UsageError(`${markFile} is not a file, so not a mark restore wrote: move it away and run restore again; nothing was changed`);
  const lock = DataDirLock.acquireLocalState(config.dataDir, config.readModelPath, 'cli restore', log, config.sqlitePath);
  const staging = join(config.dataDir, `.restoring-${process.pid}`);
  const discardCopies = () => {
    rmSync(staging, { recursive: true, force: true });
    for (const p of places) if (!isWithin(p.target, config.dataDir)) for (const suffix of ['', ...SQLITE_SIDE_FILES]) rmSync(p.staged + suffix, { force: true });
  };
  const uninterruptible = cleanUpOnInterrupt(() => {
    discardCopies();
    lock.release();
    process.stderr.write('risk-ledger restore: interrupted; nothing was changed\n');
  });
  try {
    removeLeftovers(config, places, staging);
    // A restore killed while it put files in place: this one finishes it, in the same folder of replaced files (M1).
    const resumed = readRestoreMark(config.dataDir);
    const aside = asidePlaces(config, resumed);
    const unfinished = resumed ? ` The restore interrupted at ${resumed.startedAt} is still unfinished (what it replaced is in ${aside.dir}): run restore again.` : '';
    const damaged = (await changedFiles(backup, manifest)) ?? (await evidenceDamage(backup, manifest)) ?? missingAccessLog(manifest);
    if (damaged) {
      result({ command: 'restore', ok: false, reason: damaged }, `BROKEN: ${backup} is not a backup a server starts on (${damaged}); nothing was changed.${unfinished} Restore from a copy kept as it was taken (a server started on a backup folder, for one, writes into it).`);
      return 1;
    }
    // The log replaced: in place, or where the interrupted restore moved it.
    const before = resumed && (existsSync(aside.of(config.sqlitePath)) || resumed.phase === 'placing') ? headOf(config, aside.of(config.sqlitePath)) : headOf(config, config.sqlitePath);
    if (resumed) bringBackKeptFiles(config, places, aside); // the key the verification needs, moved aside by the interrupted run (M2)
    for (const p of places) copyInto(join(backup, p.name), p.staged);
    const evidenceCopied = await mergeEvidence(join(backup, 'evidence'), evidence, ownerOf(evidence));
    // Files stored after the backup (or by another installation) stay, content-addressed, cited by no restored event (R7): counted, said.
    const inBackup = new Set(evidenceFilesOf(join(backup, 'evidence')).map((f) => f.sha256));
    const notInBackup = evidenceFilesOf(evidence).filter((f) => f.sha256 !== '' && !inBackup.has(f.sha256)).length;

    const verdict = await verifyStaged(config, places, staging).catch((error: Error) => {
      // A full disk under the copy reads as SQLite's "disk I/O error", naming the copy as SQLITE_PATH.
      throw new UsageError(`the copy of the backup could not be verified beside this installation's files (${error.message.replaceAll(staging, 'the copy')}): is the disk full? nothing was changed`);
    });
    const expected = manifest.events;
    if (verdict.ok && (verdict.eventsChecked !== expected.count || (verdict.headPosition ?? null) !== expected.headPosition || (verdict.headChainHash ?? null) !== expected.headChainHash)) {
      Object.assign(verdict, { ok: false, reason: `the copy holds ${verdict.eventsChecked} events up to ${verdict.headPosition ?? 'none'}, ${BACKUP_MANIFEST} names ${expected.count} up to ${expected.headPosition ?? 'none'}` });
    }
    if (!verdict.ok) {
      discardCopies();
      // An intact backup whose signing key was kept outside DATA_DIR, restored without that key (R6).
      const keyWords =
        /does not trust|not trusted/.test(verdict.reason ?? '') && !manifest.signingKeyCopied && manifest.settings?.signingKeyPath
          ? ` The backup was taken with its signing key at ${manifest.settings.signingKeyPath}, outside DATA_DIR, and does not hold it: put that key at SIGNING_KEY_PATH (or its public key in SIGNING_TRUSTED_KEYS) and restore again.${movedKeyWords(config)}`
          : '';
      result({ command: 'restore', ok: false, reason: verdict.reason }, `BROKEN: the backup's log does not verify with this installation's settings (${verdict.reason}); nothing was changed.${unfinished}${keyWords}`);
      return 1;
    }

    const keyChanged = keyReplaced(config, places);
    uninterruptible(); // from here a signal waits for the renames (putInPlace), it does not discard the copies
    const movedAside = putInPlace(config, places, staging, backup, aside, resumed);
    const rolledBack = before === null ? '' : ` The log replaced ended at ${before}; it is kept with the other files replaced.`;
    result(
      { command: 'restore', ok: true, from: backup, log: config.sqlitePath, events: expected.count, headPosition: expected.headPosition, evidenceFiles: manifest.evidenceFiles, evidenceFilesCopied: evidenceCopied, evidenceFilesNotInBackup: notInBackup, replacedHeadPosition: before, movedAside, signingKeyReplaced: keyChanged, ...(resumed ? { finishedRestoreStartedAt: resumed.startedAt } : {}) },
      `OK: ${expected.count} events (head ${expected.headPosition ?? 'none'}) and ${manifest.evidenceFiles} evidence file(s) restored from ${backup} (taken ${manifest.createdAt}) and verified; the log is at ${config.sqlitePath}.${resumed ? ` This finished the restore interrupted at ${resumed.startedAt}${resumed.from !== backup ? `, which was restoring ${resumed.from}` : ''}.` : ''}${rolledBack}${movedAside.length > 0 ? ` What was in their places is in ${movedAside.join(', ')}.` : ' Nothing was in their places.'}${keyChanged ? ` The signing key at ${config.signing.keyPath} is now the backup's, another key than the one replaced: verifiers of this installation's exports must trust it.` : ''}${notInBackup > 0 ? ` ${notInBackup} evidence file(s) in ${evidence} are not in the backup (stored after it): kept, cited by no restored event.` : ''} Start the server.`,
    );
    return 0;
  } catch (error) {
    discardCopies();
    const { code } = error as { code?: unknown };
    if (code === 'ENOSPC' || code === 'SQLITE_FULL' || code === 'EACCES' || code === 'EROFS') {
      throw new UsageError(`the backup could not be copied beside this installation's files (${(error as Error).message}); nothing was changed`);
    }
    throw error;
  } finally {
    uninterruptible();
    lock.release();
  }
}

function readManifest(backup: string): BackupManifest {
  const file = join(backup, BACKUP_MANIFEST);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!existsSync(backup)) throw new UsageError(`${backup} does not exist`);
    if (!statSync(backup).isDirectory()) throw new UsageError(`${backup} is not a folder: restore reads the folder backup wrote`);
    // Unreadable is not missing (re-probe M5: a folder its user could not read was "not a backup").
    if (code !== 'ENOENT') throw new UsageError(`${file} cannot be read (${(error as Error).message}): run restore as a user who can read the backup`);
    throw new UsageError(`${backup} is not a backup: it has no ${BACKUP_MANIFEST} (backup writes it last; a folder named *.partial-<pid> is one that was interrupted)`);
  }
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(text) as BackupManifest;
  } catch {
    throw new UsageError(`${file} is not JSON: not a backup this version wrote`);
  }
  const wellFormed = (f: unknown) => typeof f === 'object' && f !== null && typeof (f as { name?: unknown }).name === 'string' && Number.isSafeInteger((f as { bytes?: unknown }).bytes) && typeof (f as { sha256?: unknown }).sha256 === 'string';
  const position = (p: unknown) => p === null || typeof p === 'string';
  if (
    manifest?.format !== 1 ||
    !Array.isArray(manifest.files) ||
    !manifest.files.every(wellFormed) ||
    !Number.isSafeInteger(manifest.events?.count) ||
    !position(manifest.events.headPosition) ||
    !position(manifest.events.headChainHash) ||
    !Number.isSafeInteger(manifest.evidenceFiles)
  ) {
    throw new UsageError(`${file} is not a backup.json of format 1, the one this version reads`);
  }
  // Without it the verification opened SQLITE_PATH's default in the folder the command ran in, creating a store there (re-probe M6).
  if (!manifest.files.some((f) => f.name === EVENT_STORE_FILE)) throw new UsageError(`${file} lists no ${EVENT_STORE_FILE}: not a backup of an installation's log; nothing was changed`);
  return manifest;
}

/** Where each file of the backup goes under this installation's settings; a name this version does not know is refused. */
function placementsOf(config: AppConfig, manifest: BackupManifest, backup: string): Placement[] {
  const accessLog = accessLogPath(config);
  const targets = new Map<string, string | null>([
    [EVENT_STORE_FILE, config.sqlitePath],
    [READ_MODELS_FILE, config.readModelPath === ':memory:' ? null : config.readModelPath],
    [PROCESS_MANAGER_FILE, config.processManagerPath],
    [ACCESS_LOG_FILE, accessLog],
    [ACCESS_LOG_ANCHOR_FILE, anchorPathFor(accessLog)],
    [INTEGRITY_STATE_FILE, integrityStatePath(config)],
    [DEV_SECRET_FILE, join(config.dataDir, DEV_SECRET_FILE)],
  ]);
  if (manifest.signingKeyCopied && manifest.settings?.signingKeyPath) {
    targets.set(relative(manifest.settings.dataDir, manifest.settings.signingKeyPath), config.signing.keyPath);
  }
  const staging = join(config.dataDir, `.restoring-${process.pid}`);
  const placement = (name: string, target: string): Placement => ({
    name,
    target,
    staged: isWithin(target, config.dataDir) ? join(staging, relative(config.dataDir, target)) : `${target}.restoring-${process.pid}`,
    sqlite: name.endsWith('.sqlite'),
  });
  const places: Placement[] = [];
  for (const { name } of manifest.files) {
    // Read from the backup folder only: a backup.json edited to name `../…` reads nothing outside it.
    if (typeof name !== 'string' || isAbsolute(name) || !isWithin(join(backup, name), backup) || resolve(backup, name) === backup) {
      throw new UsageError(`${join(backup, BACKUP_MANIFEST)} lists ${JSON.stringify(name)}, which is not a file of the backup folder: nothing was changed`);
    }
    if (!targets.has(name)) throw new UsageError(`${join(backup, BACKUP_MANIFEST)} lists ${JSON.stringify(name)}, which this version does not know where to put: nothing was changed`);
    const target = targets.get(name);
    if (target) places.push(placement(name, target));
  }
  // The note of an unclean stop (a backup of a running server): the first start records it.
  if (existsSync(join(backup, UNCLEAN_NOTE_FILE))) places.push(placement(UNCLEAN_NOTE_FILE, join(config.dataDir, UNCLEAN_NOTE_FILE)));
  return places;
}

/** The first file that is not as backup.json says, or null. */
async function changedFiles(backup: string, manifest: BackupManifest): Promise<string | null> {
  const bar = new ProgressBar({ label: 'restore: checking the backup', total: manifest.files.reduce((sum, f) => sum + f.bytes, 0), unit: 'bytes' });
  let done = 0;
  try {
    for (const file of manifest.files) {
      const path = join(backup, file.name);
      const size = statSync(path, { throwIfNoEntry: false })?.size;
      if (size === undefined) return `${file.name} is missing`;
      if (size !== file.bytes) return `${file.name} has ${size} bytes, ${file.bytes} when it was taken`;
      if ((await sha256OfFile(path)) !== file.sha256) return `${file.name} is not the file that was taken (its SHA-256 differs)`;
      bar.update((done += size));
    }
    return null;
  } finally {
    bar.finish();
  }
}

/** Every evidence file of the backup, each named by its SHA-256 in its shard folder. */
function evidenceFilesOf(folder: string): { relative: string; sha256: string }[] {
  if (!existsSync(folder)) return [];
  const found: { relative: string; sha256: string }[] = [];
  for (const shard of readdirSync(folder, { withFileTypes: true })) {
    if (shard.name.startsWith('.')) continue;
    if (!shard.isDirectory()) {
      found.push({ relative: shard.name, sha256: '' });
      continue;
    }
    for (const file of readdirSync(join(folder, shard.name))) found.push({ relative: join(shard.name, file), sha256: SHA256_NAME.test(file) && file.startsWith(shard.name) ? file : '' });
  }
  return found;
}

/** The first evidence file of the backup that is not named as one or does not hash to its name, or a count that differs; null when none. */
async function evidenceDamage(backup: string, manifest: BackupManifest): Promise<string | null> {
  const files = evidenceFilesOf(join(backup, 'evidence'));
  const stray = files.find((f) => f.sha256 === '');
  if (stray) return `evidence/${stray.relative} is not named as an evidence file`;
  if (files.length !== manifest.evidenceFiles) return `it holds ${files.length} evidence file(s), ${manifest.evidenceFiles} when it was taken`;
  const bar = new ProgressBar({ label: 'restore: checking the evidence files', total: files.length, unit: 'files' });
  try {
    for (const [i, file] of files.entries()) {
      if ((await sha256OfFile(join(backup, 'evidence', file.relative))) !== file.sha256) return `evidence/${file.relative} does not hash to its name`;
      bar.update(i + 1);
    }
    return null;
  } finally {
    bar.finish();
  }
}

/**
 * The backup's evidence files the folder lacks (or holds damaged), copied in, each given the
 * owner of the evidence folder: copied by root for a server run by another user, they answered
 * every download 503 (R1).
 */
async function mergeEvidence(from: string, into: string, like: { uid: number; gid: number }): Promise<number> {
  const files = evidenceFilesOf(from);
  const bar = new ProgressBar({ label: 'restore: evidence files', total: files.length, unit: 'files' });
  let copied = 0;
  const folder = (path: string, mode: number) => {
    if (existsSync(path)) return;
    mkdirSync(path, { recursive: true, mode });
    giveOwner(path, like);
  };
  try {
    folder(into, 0o700);
    folder(join(into, '.uploads'), 0o700);
    for (const [i, file] of files.entries()) {
      const target = join(into, file.relative);
      if (!existsSync(target) || (await sha256OfFile(target)) !== file.sha256) {
        // Through the uploads folder, as the server stores a file: a crash leaves a whole blob or none.
        const part = join(into, '.uploads', `restore-${process.pid}-${file.sha256}.part`);
        copyInto(join(from, file.relative), part);
        giveOwner(part, like);
        folder(dirname(target), 0o700);
        renameSync(part, target);
        copied++;
      }
      bar.update(i + 1);
    }
  } finally {
    bar.finish();
  }
  return copied;
}

/** The head of the log at `path` (for the sentence), or null when there is none. */
function headOf(config: AppConfig, path: string): string | null {
  if (!existsSync(path)) return null;
  try {
    const inspection = existingStore({ ...config, sqlitePath: path });
    return inspection?.kind === 'store' && inspection.lastEventPosition > 0 ? encodePosition(inspection.lastEventPosition) : null;
  } catch {
    return null; // not a store: it is moved aside all the same
  }
}

/** Whether the backup brings a signing key other than the one at SIGNING_KEY_PATH (another installation's: L4). */
function keyReplaced(config: AppConfig, places: Placement[]): boolean {
  const key = config.signing.keyPath;
  const staged = places.find((p) => p.target === key)?.staged;
  return !!key && !!staged && existsSync(key) && !readFileSync(key).equals(readFileSync(staged));
}

/**
 * What AccessLogStore.open refuses at start: a log with events (or an anchor) and no access log.
 * A backup.json that leaves it out was restored OK, and the server then refused (re-probe H1).
 */
function missingAccessLog(manifest: BackupManifest): string | null {
  const names = new Set(manifest.files.map((f) => f.name));
  if (names.has(ACCESS_LOG_FILE) || (!names.has(ACCESS_LOG_ANCHOR_FILE) && manifest.events.count === 0)) return null;
  return `it holds no access log, though its log holds ${manifest.events.count} events: a server refuses to start on it until ACCESS_LOG_RESET=1 records the loss`;
}

/** The copies verified as verify-store verifies a store, with this installation's keys (the key restored when the backup has one). */
async function verifyStaged(config: AppConfig, places: Placement[], staging: string) {
  const staged = (name: string) => places.find((p) => p.name === name)?.staged;
  const key = places.find((p) => p.target === config.signing.keyPath)?.staged;
  const env: NodeJS.ProcessEnv = { ...process.env, EVENT_STORE: 'sqlite', DATA_DIR: staging, SQLITE_PATH: staged(EVENT_STORE_FILE), READ_MODEL_PATH: join(staging, 'verify-read-models.sqlite'), EVIDENCE_DIR: evidenceDir(config) };
  if (config.signing.keyPath) env.SIGNING_KEY_PATH = key ?? config.signing.keyPath;
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    return await verifyInstallation(env, 'restore: verifying the copy');
  } finally {
    for (const suffix of ['', ...SQLITE_SIDE_FILES]) rmSync(join(staging, `verify-read-models.sqlite${suffix}`), { force: true });
  }
}

/** Where an earlier restore moved this installation's signing key, when it is not at SIGNING_KEY_PATH (a restore killed while it put files in place). */
function movedKeyWords(config: AppConfig): string {
  const key = config.signing.keyPath;
  if (!key || existsSync(key) || !isWithin(key, config.dataDir) || !existsSync(config.dataDir)) return '';
  const earlier = readdirSync(config.dataDir)
    .filter((entry) => entry.startsWith('before-restore-'))
    .sort()
    .reverse()
    .map((entry) => join(config.dataDir, entry, relative(config.dataDir, key)))
    .find((path) => existsSync(path));
  return earlier ? ` No key is at ${key}; an earlier restore moved one to ${earlier}.` : '';
}

/** The owner a new file at `path` gets: that of the nearest folder (or file) there. */
function ownerOf(path: string): { uid: number; gid: number } {
  for (let p = resolve(path); ; p = dirname(p)) {
    const stat = statSync(p, { throwIfNoEntry: false });
    if (stat || p === dirname(p)) return stat ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  }
}

/**
 * What an earlier restore killed before step 4 left (SIGKILL, no cleanup): its copies in DATA_DIR
 * and beside each file elsewhere, a private key among them. With the locks held no other restore
 * runs, so every such copy is a leftover (R5).
 */
function removeLeftovers(config: AppConfig, places: Placement[], staging: string): void {
  const dataDir = resolve(config.dataDir);
  const left: string[] = [];
  for (const entry of existsSync(dataDir) ? readdirSync(dataDir) : []) {
    if (/^\.restoring-\d+$/.test(entry) && join(dataDir, entry) !== staging) left.push(join(dataDir, entry));
    if (/^restore-in-progress\.json\.\d+\.tmp$/.test(entry)) left.push(join(dataDir, entry)); // a mark being written (L3)
  }
  for (const p of places.filter((p) => !isWithin(p.target, dataDir))) {
    const folder = dirname(p.target);
    const prefix = `${basename(p.target)}.restoring-`;
    for (const entry of existsSync(folder) ? readdirSync(folder) : []) if (entry.startsWith(prefix) && join(folder, entry) !== p.staged && !entry.startsWith(basename(p.staged))) left.push(join(folder, entry));
  }
  for (const path of left) rmSync(path, { recursive: true, force: true });
  if (left.length > 0) log.warn('restore: removed the copies an interrupted restore left', { removed: left });
}
