/**
 * Risk Ledger command line: evidence for auditors and operations, with the server's configuration
 * (EVENT_STORE, SQLITE_PATH, DATA_DIR, READ_MODEL_PATH…).
 *
 *   npm run cli -- export --out FILE        the log as NDJSON + FILE.manifest.json
 *   npm run cli -- verify FILE [--manifest M]   offline: no server, no database
 *   npm run cli -- verify-store [--manifest M]  the configured store, optionally against a manifest
 *   npm run cli -- import FILE [--manifest M]   into an EMPTY store, reproducing every hash
 *   npm run cli -- rebuild                  every read model from zero (refused while a server holds DATA_DIR)
 *   npm run cli -- verify-access-log        the access log's chain, signatures and anchor (server running or not)
 *
 * Results go to stdout (one JSON line, then one sentence); structured logs and the progress bar
 * go to stderr. Exit status: 0 ok, 1 the log or export is broken, 2 usage, configuration or refusal.
 */
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError, type AppConfig } from '../config/app-config.js';
import { openConfiguredEventStore } from '../platform/configured-event-store.js';
import { configuredSigningKeys } from '../platform/signing-keys.js';
import { TrustedKeys } from '../event-store/signing.js';
import { DataDirLock, DataDirLockedError } from '../platform/data-dir-lock.js';
import { FEATURES } from '../features.js';
import { projectionsOf, upcastersOf } from '../platform/feature-contribution.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import { openReadModelDatabase } from '../projections/read-model-database.js';
import { JsonLogger } from '../shared/logging/json-logger.js';
import {
  ImportRefusedError,
  estimatedCount,
  exportLog,
  importExport,
  readManifest,
  verifyExport,
  verifyStoreAgainst,
  manifestPathFor,
} from '../audit/application/evidence-export.js';
import { accessLogPath } from '../audit/application/access-log.js';
import { anchorPathFor, configuredTrustedKeys, verifyAccessLogFile, type AccessLogVerification } from '../audit/application/access-log-chain.js';
import { postgresAccessLogAnchorPath, verifyPostgresAccessLog } from '../audit/application/access-log-postgres.js';
import { ProgressBar } from './progress-bar.js';

const log = new JsonLogger('risk-ledger-cli', (process.env.LOG_LEVEL as 'info') ?? 'info', {}, true);

const USAGE = `usage: risk-ledger <command> [options]
  export --out FILE              write the log to FILE (NDJSON), its signed heads to FILE.signatures.ndjson, and FILE.manifest.json
  verify FILE [--manifest M] [--trusted-key PEM ...]
                                 verify an export offline (chain, signed heads with the given public keys or
                                 else the manifest's, manifest); exit 1 when broken
  verify-store [--manifest M]    verify the configured store (chain, signed heads with SIGNING_KEY_PATH and
                                 SIGNING_TRUSTED_KEYS), and that it still contains the manifest's head
  import FILE [--manifest M]     import an export into an EMPTY store, reproducing every hash
  rebuild                        rebuild every read model from the log (refused while a server runs on DATA_DIR)
  verify-access-log              verify DATA_DIR/access-log.sqlite (with EVENT_STORE=postgres: the shared log in DATABASE_URL
                                 and this instance's anchor): chain, signed heads, anchor; exit 1 when broken or missing
The store is chosen as for the server: EVENT_STORE, SQLITE_PATH, DATA_DIR, READ_MODEL_PATH.`;

class UsageError extends Error {}

function result(json: Record<string, unknown>, sentence: string): void {
  process.stdout.write(JSON.stringify(json) + '\n' + sentence + '\n');
}

function progress(label: string, total: number): { bar: ProgressBar; update: (done: number, total?: number) => void } {
  const bar = new ProgressBar({ label, total });
  return { bar, update: (done) => bar.update(done) };
}

async function runExport(config: AppConfig, out: string | undefined): Promise<number> {
  if (!out) throw new UsageError('export needs --out FILE');
  const file = resolve(out);
  const store = await openConfiguredEventStore(config);
  try {
    const head = await store.headPosition();
    const p = progress('export', estimatedCount(head));
    log.info('export started', { adapter: store.adapterName, file, headPosition: head });
    const { manifest, manifestFile } = await exportLog(store, file, { onProgress: p.update, trusted: configuredTrustedKeys(config.signing) });
    p.bar.update(manifest.eventCount);
    p.bar.finish();
    log.info('export written', { file, manifestFile, events: manifest.eventCount });
    result(
      { command: 'export', ok: manifest.integrity.ok, file, manifestFile, ...manifest, streamHeads: Object.keys(manifest.streamHeads).length },
      manifest.integrity.ok
        ? `Exported ${manifest.eventCount} events (head ${manifest.headPosition ?? 'none'}, chain hash ${manifest.headChainHash ?? 'none'}) to ${file}; keep ${manifestFile} (or its headChainHash and ndjsonSha256) where the log's holder cannot change it.`
        : `Exported ${manifest.eventCount} events to ${file}, but the log is BROKEN at position ${manifest.integrity.firstBrokenPosition}: ${manifest.integrity.reason}`,
    );
    return manifest.integrity.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

async function runVerify(fileArg: string | undefined, manifestArg: string | undefined, trustedKeyFiles: string[] = []): Promise<number> {
  if (!fileArg) throw new UsageError('verify needs FILE');
  const file = resolve(fileArg);
  const manifestFile = resolve(manifestArg ?? manifestPathFor(file));
  let total = 0;
  try {
    total = readManifest(manifestFile).eventCount;
  } catch {
    // verifyExport reports a missing or unreadable manifest
  }
  const p = progress('verify', total);
  // The keys to check the signed heads with: the auditor's own (--trusted-key), else the manifest's.
  const trusted = trustedKeyFiles.length ? TrustedKeys.fromPems(trustedKeyFiles.map((f) => readFileSync(resolve(f), 'utf8'))) : undefined;
  const verdict = await verifyExport(file, { manifestFile, onProgress: p.update, trusted });
  p.bar.update(verdict.eventsChecked);
  p.bar.finish();
  result(
    { command: 'verify', ...verdict },
    verdict.ok
      ? `OK: ${verdict.eventsChecked} events in ${verdict.streams} streams verify, and the export matches its manifest (head ${verdict.headPosition ?? 'none'}, chain hash ${verdict.headChainHash ?? 'none'}, SHA-256 ${verdict.sha256}).`
      : `BROKEN: ${verdict.reason}${verdict.firstBrokenPosition ? ` (first broken position ${verdict.firstBrokenPosition})` : ''}.`,
  );
  return verdict.ok ? 0 : 1;
}

async function runVerifyStore(config: AppConfig, manifestArg: string | undefined): Promise<number> {
  const anchor = manifestArg ? readManifest(resolve(manifestArg)) : null;
  const store = await openConfiguredEventStore(config);
  try {
    const head = await store.headPosition();
    const p = progress('verify-store', estimatedCount(head));
    const report = await verifyStoreAgainst(store, anchor, { onProgress: p.update, trusted: configuredTrustedKeys(config.signing) });
    p.bar.finish();
    result(
      { command: 'verify-store', adapter: store.adapterName, ...report },
      report.ok
        ? `OK: ${report.eventsChecked} events in ${report.streams} streams verify (head ${report.headPosition ?? 'none'}, chain hash ${report.headChainHash ?? 'none'})${anchor ? `, and the log still contains the manifest's head ${anchor.headPosition}` : ''}.`
        : `BROKEN: ${report.reason}${report.firstBrokenPosition ? ` (first broken position ${report.firstBrokenPosition})` : ''}.`,
    );
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

async function runImport(config: AppConfig, fileArg: string | undefined, manifestArg: string | undefined): Promise<number> {
  if (!fileArg) throw new UsageError('import needs FILE');
  const file = resolve(fileArg);
  const manifestFile = resolve(manifestArg ?? manifestPathFor(file));
  // The imported log is signed, commit by commit, with this installation's key.
  const store = await openConfiguredEventStore(config, configuredSigningKeys(config, log).signer);
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
    const r = await importExport(store, file, {
      manifestFile,
      onVerifyProgress: v.update,
      onProgress: (done) => {
        if (!p) {
          v.bar.finish();
          p = progress('import', total);
        }
        p.update(done);
      },
    });
    v.bar.finish();
    (p as ReturnType<typeof progress> | null)?.bar.finish();
    const ok = r.hashesIdentical && r.report.ok && r.eventsImported === total;
    log.info('import finished', { events: r.eventsImported, hashesIdentical: r.hashesIdentical });
    if (!r.recordedAtPreserved) {
      log.warn('the store assigned new recordedAt instants (the time of this import); the original ones are in the export only', {});
    }
    result(
      { command: 'import', ok, adapter: store.adapterName, ...r },
      ok
        ? `Imported ${r.eventsImported} events with identical hashes${r.positionsPreserved ? ', positions and head chain hash' : ' (positions differ in value, not in order)'}; recordedAt is the time of the import.`
        : `Import finished with differences: ${r.firstMismatch ?? r.report.reason ?? 'event count differs from the manifest'}`,
    );
    return ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

async function runRebuild(config: AppConfig): Promise<number> {
  // A live server holds DATA_DIR's lock: rebuilding its read models under it would corrupt them.
  // Held for the rebuild, the lock also keeps a server from starting meanwhile.
  const lock = config.readModelPath === ':memory:' ? null : DataDirLock.acquire(config.dataDir, 'cli rebuild', log);
  try {
    return await rebuildHolding(config);
  } finally {
    lock?.release();
  }
}

async function rebuildHolding(config: AppConfig): Promise<number> {
  const store = await openConfiguredEventStore(config);
  // A damaged file is moved aside (and logged) rather than failing the rebuild.
  const db = openReadModelDatabase(config.readModelPath, { logger: log, label: 'read models' });
  const runner = new ProjectionRunner(store, db, projectionsOf(FEATURES)(), upcastersOf(FEATURES).upcast, log);
  try {
    const head = await store.headPosition();
    const p = progress('rebuild', estimatedCount(head));
    const started = performance.now();
    log.info('rebuild started', { adapter: store.adapterName, readModels: config.readModelPath, headPosition: head });
    const { events, position } = await runner.rebuild((applied) => p.update(applied));
    p.bar.finish();
    const durationMs = Math.round(performance.now() - started);
    result(
      { command: 'rebuild', ok: true, eventsApplied: events, position, durationMs, readModels: config.readModelPath },
      `Rebuilt every read model from ${events} events in ${durationMs} ms (up to position ${position ?? 'none'}).`,
    );
    return 0;
  } finally {
    await runner.stop();
    await store.close();
    db.close();
  }
}

/** Read-only: never creates the access log, never writes to it; safe while the server runs. */
async function runVerifyAccessLog(config: AppConfig): Promise<number> {
  if (config.eventStore === 'memory') throw new UsageError('verify-access-log: with EVENT_STORE=memory the access log lives in the server\'s memory; ask verifyAccessLog');
  const trusted = configuredTrustedKeys(config.signing);
  let where: Record<string, unknown>;
  let report: AccessLogVerification;
  if (config.eventStore === 'postgres' && config.databaseUrl) {
    // The shared log in DATABASE_URL, and this instance's anchor (DATA_DIR) when there is one.
    const anchorPath = postgresAccessLogAnchorPath(config.dataDir);
    const client = new pg.Client({ connectionString: config.databaseUrl });
    await client.connect();
    try {
      report = await verifyPostgresAccessLog(client, { trusted, anchorPath: existsSync(anchorPath) ? anchorPath : null });
    } finally {
      await client.end();
    }
    where = { database: 'postgres', schema: 'risk_ledger', anchor: existsSync(anchorPath) ? anchorPath : null };
  } else {
    const file = accessLogPath(config);
    const anchorPath = anchorPathFor(file);
    report = verifyAccessLogFile(file, { trusted, anchorPath });
    where = { file, anchor: anchorPath };
  }
  result(
    { command: 'verify-access-log', ...where, ...report },
    report.ok
      ? `OK: ${report.entriesChecked} access log entries verify (head ${report.headSeq ?? 'none'}, hash ${report.headHash}; ${report.signaturesChecked} signatures).`
      : `BROKEN: ${report.reason}${report.firstBrokenSeq !== null ? ` (first broken entry ${report.firstBrokenSeq})` : ''}.`,
  );
  return report.ok ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      manifest: { type: 'string' },
      'trusted-key': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    process.stderr.write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  switch (command) {
    case 'verify':
      // Offline: no configuration, no store.
      return runVerify(arg, values.manifest, values['trusted-key'] ?? []);
    case 'export':
      return runExport(loadConfig(), values.out ?? arg);
    case 'verify-store':
      return runVerifyStore(loadConfig(), values.manifest);
    case 'import':
      return runImport(loadConfig(), arg, values.manifest);
    case 'verify-access-log':
      return runVerifyAccessLog(loadConfig());
    case 'rebuild':
      return runRebuild(loadConfig());
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  void main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError || (error as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
        process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
      } else if (error instanceof ImportRefusedError || error instanceof ConfigError || error instanceof DataDirLockedError) {
        const what = error instanceof ConfigError ? 'configuration error' : error instanceof DataDirLockedError ? 'refused' : 'import refused';
        log.error(`${what}: ${error.message}`);
        result({ ok: false, error: error.message }, `Refused: ${error.message}`);
      } else {
        log.error('command failed', error instanceof Error ? { error: { name: error.name, message: error.message, stack: error.stack } } : { error: String(error) });
      }
      process.exitCode = 2;
    },
  );
}
