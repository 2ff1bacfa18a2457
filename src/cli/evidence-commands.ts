/**
 * The evidence commands of `risk-ledger` (export, verify, verify-store, import, rebuild,
 * verify-access-log): each returns its exit status (0 ok, 1 the log or export is broken) and
 * prints one JSON line and one sentence on stdout; logs and progress bars go to stderr. The
 * command line itself (parsing, help, friendly errors) is src/cli/main.ts.
 */
import { accessSync, constants, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { standaloneClient } from '../event-store/postgres/held-client.js';
import { dirname, join, resolve } from 'node:path';
import type { AppConfig } from '../config/app-config.js';
import { openConfiguredEventStore } from '../platform/configured-event-store.js';
import { configuredSigningKeys } from '../platform/signing-keys.js';
import { TrustedKeys } from '../event-store/signing.js';
import { encodePosition } from '../event-store/hash-chain.js';
import { LogFormatError } from '../event-store/errors.js';
import { inspectStoreFile, type StoreFileInspection } from '../event-store/sqlite/store-file.js';
import { DataDirLock } from '../platform/data-dir-lock.js';
import { JsonLogger } from '../shared/logging/json-logger.js';
import {
  estimatedCount,
  exportLog,
  readManifest,
  verifyExport,
  verifyStoreAgainst,
  manifestPathFor,
  signaturesPathFor,
} from '../audit/application/evidence-export.js';
import { importExport, ImportRefusedError, ImportStoppedError } from '../audit/application/evidence-import.js';
import { ExportLineTooLongError } from '../audit/application/export-lines.js';
import { evidenceDirFor, restoreEvidenceFiles } from '../audit/application/export-evidence-files.js';
import { AccessLogStore, accessLogPath } from '../audit/application/access-log.js';
import { systemEntryRecord } from '../audit/application/access-log-system-entries.js';
import { sqliteAccessLogLookup } from '../audit/application/access-log-lookups.js';
import { anchorPathFor, configuredTrustedKeys, verifyAccessLogFile, type AccessLogVerification } from '../audit/application/access-log-chain.js';
import { verifyAccessLogAgainstEvents, type CorrelationLookup } from '../audit/application/access-log-crosscheck.js';
import { PostgresAccessLog, postgresAccessLogAnchorPath, postgresAccessLogExists, postgresAccessLogLookup, verifyPostgresAccessLog } from '../audit/application/access-log-postgres.js';
import type { SigningKeys } from '../event-store/signing.js';
import type { EventStore } from '../event-store/event-store.port.js';
import { ProgressBar } from './progress-bar.js';
import { manifestAnchor, serverRecordAnchor, type StoreAnchor } from './store-anchor.js';
import type { EvidenceBlobStore } from '../evidence/application/evidence-blobs.js';
import { openConfiguredBlobStore } from '../evidence/infrastructure/configured-blob-store.js';
import { cleanUpOnInterrupt } from './interrupts.js';
import { prepareImportPlace } from './import-place.js';
import { UsageError } from './usage-error.js';

export const log = new JsonLogger('risk-ledger-cli', (process.env.LOG_LEVEL as 'info') ?? 'info', {}, true);

export { UsageError } from './usage-error.js';

/** Nothing to work on where the settings point (a missing store or access log): one line, exit status 2. */
export class MissingStoreError extends Error {}

/**
 * The memory store holds nothing for a command: each process has its own, empty (a README probe's
 * verify-store said OK on 0 events, rebuild "rebuilt" beside a server on that DATA_DIR, export wrote
 * an empty log, import said "Imported 103 events" keeping none).
 */
function refuseMemoryStore(config: AppConfig): void {
  if (config.eventStore === 'memory') {
    throw new MissingStoreError("EVENT_STORE=memory: that log lives only in a running server's memory, and this command would work on an empty one of its own; set EVENT_STORE (and SQLITE_PATH or DATABASE_URL) to the server's store");
  }
}

/**
 * The SQLite store a reading command works on must exist: opening it would create an empty one
 * and report OK on nothing (e.g. run from another folder, SQLITE_PATH defaulting to ./data).
 */
export function existingStore(config: AppConfig, options: { quickCheck?: boolean } = {}): StoreFileInspection | null {
  refuseMemoryStore(config);
  if (config.eventStore !== 'sqlite') return null;
  if (!existsSync(config.sqlitePath)) {
    throw new MissingStoreError(`no event store at ${config.sqlitePath}: set SQLITE_PATH (and DATA_DIR) to the server's store; nothing was created`);
  }
  // Looked at read-only first: opening it as a store would create the schema in any SQLite file.
  const inspection = inspectStoreFile(config.sqlitePath, options);
  if (inspection.kind === 'not-a-store') {
    throw new MissingStoreError(`${config.sqlitePath} is not an event store (${inspection.reason}): set SQLITE_PATH to the server's store; nothing was changed`);
  }
  return inspection;
}

/** What a look at the SQLite file alone shows broken, as verify-store reports it (null: nothing). */
function brokenStoreFile(inspection: StoreFileInspection | null): string | null {
  if (inspection?.kind === 'damaged') return `the store file is damaged: ${inspection.reason}`;
  if (inspection?.kind === 'store' && inspection.lastSignedPosition !== null && inspection.lastSignedPosition > inspection.lastEventPosition) {
    return `the signed head at ${encodePosition(inspection.lastSignedPosition)} is missing from the log (its last event is at ${encodePosition(inspection.lastEventPosition)}): the newest events were deleted`;
  }
  return null;
}

/** A file the command must read: refused up front (exit 2) rather than failing deep inside with a stack. */
export function readableFile(path: string, what: string): string {
  const file = resolve(path);
  let why: string | null = null;
  try {
    accessSync(file, constants.R_OK);
    if (statSync(file).isDirectory()) why = 'it is a folder';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
  }
  if (why) throw new UsageError(`cannot read ${what} ${path}: ${why}`);
  return file;
}

export function result(json: Record<string, unknown>, sentence: string): void {
  process.stdout.write(JSON.stringify(json) + '\n' + sentence + '\n');
}

/** The folder an output goes to must exist and be writable: refused up front rather than after the store is opened. */
function writableFolderOf(file: string, given: string): void {
  const folder = dirname(file);
  try {
    if (!statSync(folder).isDirectory()) throw new UsageError(`cannot write ${given}: ${folder} is not a folder`);
    accessSync(folder, constants.W_OK);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot write ${given}: ${code === 'ENOENT' ? `the folder ${folder} does not exist` : code === 'EACCES' ? `permission denied on ${folder}` : (error as Error).message}`);
  }
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`cannot write ${given}: it is a folder`);
}

function readManifestOrRefuse(path: string): ReturnType<typeof readManifest> {
  const file = readableFile(path, 'the manifest');
  try {
    return readManifest(file);
  } catch (error) {
    throw new UsageError(`the manifest ${path} is not a Risk Ledger export manifest: ${(error as Error).message}`);
  }
}

export function progress(label: string, total: number): { bar: ProgressBar; update: (done: number, total?: number) => void } {
  const bar = new ProgressBar({ label, total });
  return { bar, update: (done) => bar.update(done) };
}

export async function runExport(config: AppConfig, out: string | undefined): Promise<number> {
  if (!out) throw new UsageError('export needs --out FILE (where to write the log)');
  // An export is four files beside each other (FILE, .manifest.json, .signatures.ndjson, .evidence/): never standard output.
  if (out === '-') throw new UsageError('export writes files (FILE, FILE.manifest.json, FILE.signatures.ndjson, FILE.evidence/), not standard output: give --out FILE');
  const file = resolve(out);
  writableFolderOf(file, out);
  // An earlier export's manifest is an auditor's anchor (Auditors): never replaced without a word, as backup never writes into an existing folder.
  const earlier = [file, manifestPathFor(file), signaturesPathFor(file), evidenceDirFor(file)].find((path) => existsSync(path));
  if (earlier) throw new UsageError(`${earlier} exists: export writes a new file and its manifest (an earlier manifest may be kept as an anchor); give another --out, or remove the earlier export first`);
  existingStore(config);
  const store = await openConfiguredEventStore(config);
  const evidence = await openConfiguredBlobStore(config);
  try {
    // The head the server verified, read before the log's: the export's integrity is ok only if the log still holds it.
    const anchored = serverRecordAnchor(config, store.adapterName);
    const head = await store.headPosition();
    const p = progress('export', estimatedCount(head));
    log.info('export started', { adapter: store.adapterName, file, headPosition: head, anchor: anchored.used });
    let exported: Awaited<ReturnType<typeof exportLog>>;
    try {
      exported = await exportLog(store, file, { onProgress: p.update, trusted: configuredTrustedKeys(config.signing), evidence, anchor: anchored.anchor });
    } catch (error) {
      // A row the store never wrote (its data not JSON): the log is broken there, and no line can stand for it.
      if (!(error instanceof LogFormatError)) throw error;
      p.bar.finish();
      result({ command: 'export', ok: false, file, integrity: { ok: false, firstBrokenPosition: error.position, reason: error.message } }, `BROKEN at position ${error.position}: ${error.message}; nothing was written.`);
      return 1;
    }
    const { manifest, manifestFile } = exported;
    p.bar.update(manifest.eventCount);
    p.bar.finish();
    log.info('export written', { file, manifestFile, events: manifest.eventCount });
    result(
      { command: 'export', ok: manifest.integrity.ok, file, manifestFile, ...manifest, streamHeads: Object.keys(manifest.streamHeads).length, ...anchorFields(anchored) },
      manifest.integrity.ok
        ? `Exported ${manifest.eventCount} events (head ${manifest.headPosition ?? 'none'}, chain hash ${manifest.headChainHash ?? 'none'}) to ${file}${anchored.words ? `; the log still contains ${anchored.words}` : ''}; keep ${manifestFile} (or its headChainHash and ndjsonSha256) where the log's holder cannot change it.${anchorNote(anchored)}`
        : `Exported ${manifest.eventCount} events to ${file}, but the log is BROKEN at position ${manifest.integrity.firstBrokenPosition}: ${manifest.integrity.reason}${exported.anchorBroken && anchored.words ? `; the anchor: ${anchored.words}` : ''}.${anchorNote(anchored)}`,
    );
    return manifest.integrity.ok ? 0 : 1;
  } finally {
    await evidence.close();
    await store.close();
  }
}

export async function runVerify(fileArg: string | undefined, manifestArg: string | undefined, trustedKeyFiles: string[] = []): Promise<number> {
  if (!fileArg) throw new UsageError('verify needs FILE');
  const file = readableFile(fileArg, 'the export');
  // A manifest named on the command line must exist; the default one missing is a finding (exit 1).
  const manifestFile = manifestArg ? readableFile(manifestArg, 'the manifest') : manifestPathFor(file);
  for (const f of trustedKeyFiles) readableFile(f, 'the trusted key');
  let total = 0;
  let atExport: ReturnType<typeof readManifest>['integrity'] | undefined;
  try {
    ({ eventCount: total, integrity: atExport } = readManifest(manifestFile));
  } catch {
    // verifyExport reports a missing or unreadable manifest
  }
  const p = progress('verify', total);
  // The keys to check the signed heads with: the auditor's own (--trusted-key), else the manifest's.
  const trusted = trustedKeyFiles.length ? trustedKeysFrom(trustedKeyFiles) : undefined;
  const checked = await verifyExport(file, { manifestFile, onProgress: p.update, trusted });
  // An export of a log found broken when it was exported (one no longer holding the head the
  // server verified is a valid signed log, and matches its manifest) is not an OK export.
  const verdict =
    checked.ok && atExport?.ok === false
      ? { ...checked, ok: false, firstBrokenPosition: atExport.firstBrokenPosition, reason: `the export matches its manifest, but its manifest records the log as BROKEN when it was exported: ${atExport.reason}` }
      : checked;
  p.bar.update(verdict.eventsChecked);
  p.bar.finish();
  const keysWarning = verdict.keys?.source === 'export' ? EXPORT_OWN_KEYS : verdict.keys?.kids.length ? null : NO_SIGNED_HEADS;
  result(
    { command: 'verify', ...verdict, keysWarning },
    verdict.ok
      ? `OK: ${verdict.eventsChecked} events in ${verdict.streams} streams verify, and the export matches its manifest (head ${verdict.headPosition ?? 'none'}, chain hash ${verdict.headChainHash ?? 'none'}, SHA-256 ${verdict.sha256}).${keysSentence(verdict.keys, keysWarning)}`
      : `BROKEN: ${verdict.reason}${verdict.firstBrokenPosition ? ` (first broken position ${verdict.firstBrokenPosition})` : ''}.`,
  );
  return verdict.ok ? 0 : 1;
}

/** Auditor probe 10-b M3: an export rewritten, re-signed with the forger's key and that key put in its manifest verified OK, with no hint. */
const EXPORT_OWN_KEYS =
  "the keys were taken from the export's own manifest: this proves the export is consistent with itself, not who made it (anyone can re-sign a rewritten log and put their key there); to prove it came from the server, pass --trusted-key with the server's public key (GET /.well-known/risk-ledger/keys, or a PEM file listed in its SIGNING_TRUSTED_KEYS)";
const NO_SIGNED_HEADS = 'the export carries no signed heads: nothing shows who made it';

/** The keys the signed heads were checked with, for the OK sentence: their kids, and whose they were. */
function keysSentence(keys: { source: 'verifier' | 'export'; kids: string[] } | null, warning: string | null): string {
  const kids = keys?.kids.length ? `Signed heads checked with key${keys.kids.length > 1 ? 's' : ''} ${keys.kids.join(', ')}` : '';
  if (!warning) return ` ${kids}, given with --trusted-key (the verifier's own).`;
  return kids ? ` ${kids}, but ${warning}.` : ` Note: ${warning}.`;
}

/** Which anchor the log was checked against, for the JSON line: `anchor` (null: none) and `anchorNote` (why the server's record was not used). */
function anchorFields(anchored: StoreAnchor): { anchor: StoreAnchor['used']; anchorNote: string | null } {
  return { anchor: anchored.used, anchorNote: anchored.note };
}

function anchorNote(anchored: StoreAnchor): string {
  return anchored.note ? ` Note: ${anchored.note}.` : '';
}

export async function runVerifyStore(config: AppConfig, manifestArg: string | undefined): Promise<number> {
  const manifest = manifestArg ? readManifestOrRefuse(manifestArg) : null;
  const broken = brokenStoreFile(existingStore(config));
  if (broken) {
    result({ command: 'verify-store', adapter: 'sqlite', ok: false, reason: broken }, `BROKEN: ${broken}.`);
    return 1;
  }
  const store = await openConfiguredEventStore(config);
  let blobs: EvidenceBlobStore | null = null;
  const evidence = async () => (blobs = await openConfiguredBlobStore(config));
  try {
    // The manifest's head, else the one the server verified (read before the log's head).
    const anchored = manifest ? manifestAnchor(resolve(manifestArg!), manifest) : serverRecordAnchor(config, store.adapterName);
    const head = await store.headPosition();
    const p = progress('verify-store', estimatedCount(head));
    const report = await verifyStoreAgainst(store, anchored.anchor, { onProgress: p.update, trusted: configuredTrustedKeys(config.signing), evidence });
    p.bar.finish();
    result(
      { command: 'verify-store', adapter: store.adapterName, ...report, ...anchorFields(anchored) },
      report.ok
        ? `OK: ${report.eventsChecked} events in ${report.streams} streams verify (head ${report.headPosition ?? 'none'}, chain hash ${report.headChainHash ?? 'none'})${anchored.words ? `, and the log still contains ${anchored.words}` : ''}; the ${report.evidenceFilesChecked ?? 0} evidence file(s) it cites are intact.${anchorNote(anchored)}`
        : `BROKEN: ${report.reason}${report.firstBrokenPosition ? ` (first broken position ${report.firstBrokenPosition})` : ''}${report.anchorOk === false && report.anchorReason === report.reason && anchored.words ? `; the anchor: ${anchored.words}` : ''}.${missingKeyHint(config, report.reason)}${anchorNote(anchored)}`,
    );
    return report.ok ? 0 : 1;
  } finally {
    await (blobs as EvidenceBlobStore | null)?.close();
    await store.close();
  }
}

/**
 * A signature from a key this verifier does not trust, with the signing key's file gone: most
 * likely the key was lost, not the log forged (the server refuses to start over it, saying so).
 */
function missingKeyHint(config: AppConfig, reason: string | null | undefined): string {
  const keyPath = config.signing.keyPath;
  if (!keyPath || existsSync(keyPath) || !/which this verifier does not trust/.test(reason ?? '')) return '';
  return ` The signing key ${keyPath} is missing: restore it (or point SIGNING_KEY_PATH at it), or trust its public key (SIGNING_TRUSTED_KEYS, or verify FILE --trusted-key) to prove these commits.`;
}

/** Public keys in PEM files (--trusted-key), with the PEMs of `also`; a file that is not one is a usage error. */
function trustedKeysFrom(files: readonly string[], also: readonly string[] = []): TrustedKeys {
  const pems = files.map((f) => ({ file: f, text: readFileSync(resolve(f), 'utf8') })); // readable: checked with the arguments
  try {
    return TrustedKeys.fromPems([...also, ...pems.map((p) => p.text)]);
  } catch (error) {
    // OpenSSL's own code ("error:1E08010C:DECODER routines::unsupported") says nothing to an auditor (README probe L6).
    const json = pems.find((p) => p.text.trimStart().startsWith('{'));
    const detail = (error as Error).message.replace(/^error:[0-9A-F]+:[^:]*:+/i, '');
    throw new UsageError(
      `--trusted-key: not a public key in PEM (${detail})` +
        (json ? `; ${json.file} is JSON: write the publicKeyPem of /.well-known/risk-ledger/keys into a .pem file (README "Auditors")` : ''),
    );
  }
}

export async function runImport(config: AppConfig, fileArg: string | undefined, manifestArg: string | undefined, trustedKeyFiles: string[] = []): Promise<number> {
  if (!fileArg) throw new UsageError('import needs FILE');
  refuseMemoryStore(config);
  const file = readableFile(fileArg, 'the export');
  const manifestFile = manifestArg ? readableFile(manifestArg, 'the manifest') : manifestPathFor(file);
  for (const f of trustedKeyFiles) readableFile(f, 'the trusted key');
  // What opening the store and its key creates, taken back if the import is refused (nothing was imported then).
  const createdByImport = [
    ...(config.eventStore === 'sqlite' ? [config.sqlitePath, `${config.sqlitePath}-wal`, `${config.sqlitePath}-shm`] : []),
    ...(config.signing.keyPath ? [config.signing.keyPath] : []),
  ].filter((f) => !existsSync(f));
  // The imported log is signed, commit by commit, with this installation's key. So the export's
  // signed heads must verify against keys this installation trusts (its own, SIGNING_TRUSTED_KEYS,
  // --trusted-key), never against the keys the export names itself: a history rewritten and
  // re-signed by someone else must not come out signed with this key.
  const keys = configuredSigningKeys(config, log);
  const trusted = trustedKeysFrom(trustedKeyFiles, keys.trusted.list().map((k) => k.publicKeyPem));
  // Built beside the target and put in its place once complete and checked (import-place.ts).
  let place: Awaited<ReturnType<typeof prepareImportPlace>> | null = null;
  const uninterruptible = cleanUpOnInterrupt(() => place?.interrupted());
  let store: Awaited<ReturnType<typeof openConfiguredEventStore>>;
  try {
    place = await prepareImportPlace(config, keys, log);
    store = await place.open();
  } catch (error) {
    uninterruptible();
    await place?.discard();
    await place?.release();
    // Refused before anything was imported: the key opening the installation created is taken back too.
    if (error instanceof ImportRefusedError || error instanceof UsageError) for (const f of createdByImport) rmSync(f, { force: true });
    throw error;
  }
  let refused = false;
  let storeClosed = false;
  let inPlace = false;
  try {
    let total = 0;
    try {
      total = readManifest(manifestFile).eventCount;
    } catch {
      // importExport refuses an export without a readable manifest
    }
    log.info('import started: verifying the export first', { adapter: store.adapterName, file });
    const v = progress('verify', total);
    let p: ReturnType<typeof progress> | null = null;
    let c: ReturnType<typeof progress> | null = null;
    const r = await importExport(store, file, {
      manifestFile,
      trusted,
      targetTrusted: keys.trusted,
      onVerifyProgress: v.update,
      onProgress: (done) => {
        if (!p) {
          v.bar.finish();
          p = progress('import', total);
        }
        p.update(done);
      },
      // The target read again and checked, its signed heads with this installation's keys.
      onCheckProgress: (done) => {
        if (!c) {
          (p as ReturnType<typeof progress> | null)?.bar.finish();
          c = progress('check', total);
        }
        c.update(done);
      },
    });
    v.bar.finish();
    (p as ReturnType<typeof progress> | null)?.bar.finish();
    (c as ReturnType<typeof progress> | null)?.bar.finish();
    const ok = r.hashesIdentical && r.report.ok && r.eventsImported === total;
    // The files the log cites come back with it (the export carried them and verified them).
    const evidence = await openConfiguredBlobStore(config);
    let evidenceFilesRestored = 0;
    try {
      if (ok) evidenceFilesRestored = await restoreEvidenceFiles(file, readManifest(manifestFile).evidenceFiles, evidence);
    } finally {
      await evidence.close();
    }
    const head = await store.headPosition();
    if (ok) {
      storeClosed = true;
      await store.close();
      await place.putInPlace();
      inPlace = true;
    }
    // Once put in place (it said "import finished" before a move that failed: probe of 2026-12-06, L3).
    log.info('import finished', { events: r.eventsImported, hashesIdentical: r.hashesIdentical, inPlace });
    const accessLogEntry = ok && head !== null ? await recordImportInAccessLog(config, keys, { upTo: head, events: r.eventsImported, file }) : false;
    // The store keeps each event's original commit instant (it is hashed from hash version 2 on);
    // only an adapter that cannot store a given instant assigns the time of the import.
    if (!r.recordedAtPreserved) {
      log.warn('the store assigned new recordedAt instants (the time of this import) to some events; the original ones are in the export only', {});
    }
    result(
      { command: 'import', ok, adapter: store.adapterName, ...r, evidenceFilesRestored, accessLogEntry },
      ok
        ? `Imported ${r.eventsImported} events with identical hashes${r.positionsPreserved ? ', positions and head chain hash' : ' (positions differ in value, not in order)'}; ${r.recordedAtPreserved ? 'every event keeps its original recordedAt' : 'some events got the time of the import as recordedAt'}; ${evidenceFilesRestored} evidence file(s) restored.`
        : `Import finished with differences: ${r.firstMismatch ?? r.report.reason ?? 'event count differs from the manifest'}${inPlace ? '' : '; nothing was put in place'}`,
    );
    return ok ? 0 : 1;
  } catch (error) {
    // Refused: what opening the store and its key created is taken back (an export line too long too).
    // Built beside the store, nothing was put in place: there is no target store to discard
    // (written in place, KurrentDB, the error's own words say to discard it).
    if (error instanceof ImportStoppedError && place.building !== null) {
      throw new Error(`import stopped after ${error.imported} events: ${error.reason}; nothing was put in place (${place.building} is removed): import again`, { cause: error });
    }
    refused = error instanceof ImportRefusedError || error instanceof ExportLineTooLongError;
    if (refused && /which this verifier does not trust/.test((error as Error).message)) {
      throw new ImportRefusedError(`${(error as Error).message}: give the exporting installation's public key with --trusted-key (or list it in SIGNING_TRUSTED_KEYS) if you trust it`);
    }
    throw error;
  } finally {
    if (!storeClosed) await store.close();
    if (!inPlace) await place.discard();
    uninterruptible();
    await place.release();
    for (const f of refused ? createdByImport : []) rmSync(f, { force: true });
  }
}

/**
 * An installation that has answered requests already has an access log: the import is written
 * into it as a signed entry (access-log-system-entries.ts), so that verify-access-log does not ask the
 * imported changes for entries of this log. No access log (a new DATA_DIR): none is created (the
 * server's first start asks for ACCESS_LOG_RESET=1, see the README). False when none was written.
 */
async function recordImportInAccessLog(config: AppConfig, keys: SigningKeys, imported: { upTo: string; events: number; file: string }): Promise<boolean> {
  const entry = systemEntryRecord({ kind: 'import', ...imported }, new Date().toISOString());
  try {
    if (config.eventStore === 'postgres' && config.databaseUrl) {
      const client = standaloneClient(config.databaseUrl);
      await client.connect();
      const exists = await postgresAccessLogExists(client).finally(() => client.end());
      if (!exists) return false;
      // No anchor: the servers' anchors are their own (DATA_DIR may be one's).
      const accessLog = await PostgresAccessLog.open({ connectionString: config.databaseUrl, anchorPath: null, signing: keys, logger: log });
      accessLog.record(entry);
      await accessLog.close();
      return true;
    }
    const path = accessLogPath(config);
    if (path === ':memory:' || !existsSync(path)) return false;
    // The file has one writer: a server that holds DATA_DIR (a store other than SQLite, whose lock
    // refused the import already) would see this entry as a foreign write.
    const lock = DataDirLock.acquire(config.dataDir, 'cli import', log);
    try {
      const accessLog = await AccessLogStore.open(path, { signing: keys, logger: log });
      accessLog.record(entry);
      accessLog.close();
      return true;
    } finally {
      lock.release();
    }
  } catch (error) {
    log.warn('the import could not be recorded in the access log: verify-access-log will report the imported changes made after its first entry', { error: (error as Error).message });
    return false;
  }
}

/** Why a log fails verification, in the words rebuild and verify-read-models answer with. */
export interface BrokenLog {
  reason: string;
  firstBrokenPosition: string | null;
}

/**
 * What the log's verification (as verify-store's, evidence files aside) says before read models are
 * built from it (overlapping-log-check.ts): null when it verifies, else a sentence naming the first
 * broken position. A rebuild over an edited log copied the edit into the read models, the last
 * place that still held what the log had said, and verify-read-models then agreed with it
 * (auditor probe of 2026-12-06, F1).
 */
export function brokenVerdict(config: AppConfig, report: { ok: boolean; reason?: string | null; firstBrokenPosition?: string | null }): BrokenLog | null {
  if (report.ok) return null;
  const at = report.firstBrokenPosition ? ` (first broken position ${report.firstBrokenPosition})` : '';
  return { reason: `the event log fails verification: ${report.reason}${at}.${missingKeyHint(config, report.reason)}`, firstBrokenPosition: report.firstBrokenPosition ?? null };
}

/** The access log's verdict, then every person's change in the event log looked up in it (access-log-crosscheck.ts). */
async function againstEvents(
  config: AppConfig,
  report: AccessLogVerification,
  withLog: (check: (log: CorrelationLookup) => Promise<AccessLogVerification>) => Promise<AccessLogVerification>,
): Promise<AccessLogVerification> {
  const store = await openConfiguredEventStore(config);
  try {
    return await withLog((log) => verifyAccessLogAgainstEvents(report, store, log));
  } finally {
    await store.close();
  }
}

/**
 * A note of an unclean stop that no server has recorded yet (a backup of a running server just
 * restored, a server killed and not started since): the next start records it, and that entry
 * accounts for the requests in flight at the stop (re-probe of 2026-12-07, M4: BROKEN after a
 * restore, and not a word of the note); so does a server's lock its crash left. The verdict
 * stands, as neither is a signed entry.
 */
function pendingUncleanStop(config: AppConfig): { path: string; words: string } | null {
  if (config.eventStore !== 'sqlite') return null;
  const pending = DataDirLock.unrecordedUncleanStop(config.dataDir, config.readModelPath, config.sqlitePath);
  if (pending === null) return null;
  const what = pending.kind === 'note' ? `A note of an unclean stop no server has recorded yet is at ${pending.path}` : `A server stopped uncleanly and no server has recorded it yet (its lock ${pending.path} is left behind)`;
  return { path: pending.path, words: ` ${what}: the next server start records it in the access log (UncleanStopRecovered), which accounts for the requests in flight at that stop; run verify-access-log again after it.` };
}

/** Read-only: never creates the access log, never writes to it; safe while the server runs. */
export async function runVerifyAccessLog(config: AppConfig): Promise<number> {
  if (config.eventStore === 'memory') throw new UsageError('verify-access-log: with EVENT_STORE=memory the access log lives in the server\'s memory; ask verifyAccessLog');
  const trusted = configuredTrustedKeys(config.signing);
  let where: Record<string, unknown>;
  let report: AccessLogVerification;
  if (config.eventStore === 'postgres' && config.databaseUrl) {
    // The shared log in DATABASE_URL, and this instance's anchor (DATA_DIR) when there is one.
    const anchorPath = postgresAccessLogAnchorPath(config.dataDir);
    const client = standaloneClient(config.databaseUrl);
    await client.connect();
    try {
      report = await verifyPostgresAccessLog(client, { trusted, anchorPath: existsSync(anchorPath) ? anchorPath : null });
      const opened = report;
      report = await againstEvents(config, report, (check) => check(postgresAccessLogLookup(client))).catch((error: unknown) => {
        // No access log tables (deleted): the chain check's verdict stands.
        if (!opened.ok) return opened;
        throw error;
      });
    } finally {
      await client.end();
    }
    where = { database: 'postgres', schema: 'risk_ledger', anchor: existsSync(anchorPath) ? anchorPath : null };
  } else {
    const file = accessLogPath(config);
    const anchorPath = anchorPathFor(file);
    // No access log, no anchor and no event store (no file, an empty one, another database): the
    // wrong folder, not a deleted log (that is exit 1).
    const noStore = config.eventStore === 'sqlite' && (!existsSync(config.sqlitePath) || inspectStoreFile(config.sqlitePath).kind === 'not-a-store');
    if (!existsSync(file) && !(anchorPath && existsSync(anchorPath)) && noStore) {
      throw new MissingStoreError(`no access log at ${file} (nor an event store at ${config.sqlitePath}): set DATA_DIR (and SQLITE_PATH) to the server's`);
    }
    report = verifyAccessLogFile(file, { trusted, anchorPath });
    if (existsSync(file) && existsSync(config.sqlitePath)) {
      const opened = report;
      report = await againstEvents(config, report, (check) => {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        return check(sqliteAccessLogLookup(db)).finally(() => db.close());
      }).catch((error: unknown) => {
        // A file the chain check already found unreadable or damaged: its verdict stands.
        if (!opened.ok) return opened;
        throw error;
      });
    }
    where = { file, anchor: anchorPath };
  }
  // Said with either verdict: until a start records the stop, its changes without entries read as
  // in flight for two minutes (OK), then as missing (BROKEN), nothing having changed (upgrade probe F2).
  const pending = pendingUncleanStop(config);
  result(
    { command: 'verify-access-log', ...where, ...report, ...(pending ? { uncleanStopPending: pending.path } : {}) },
    (report.ok
      ? `OK: ${report.entriesChecked} access log entries verify (head ${report.headSeq ?? 'none'}, hash ${report.headHash}; ${report.signaturesChecked} signatures)${report.acknowledged ? `; ${report.acknowledged.note}` : ''}.`
      : `BROKEN: ${report.reason}${report.firstBrokenSeq !== null ? ` (first broken entry ${report.firstBrokenSeq})` : ''}${report.acknowledged ? `; besides, ${report.acknowledged.note}` : ''}.`) + (pending?.words ?? ''),
  );
  return report.ok ? 0 : 1;
}

