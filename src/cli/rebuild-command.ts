/**
 * `risk-ledger rebuild` (server stopped): every read model built again from the log.
 *
 * Into a file of its own beside the read models (`<READ_MODEL_PATH>.rebuilding`), put in their
 * place only once the log has verified and the rebuild has reached its head. The log's
 * verification runs beside the rebuild (overlapping-log-check.ts) instead of before it, and the
 * read models in use stay as they were until the end: over a log that fails verification, or when
 * the rebuild fails or is killed, they still hold what the log said before (the last copy of it,
 * perhaps: auditor probe of 2026-12-06, F1), and the file being built is removed (or, after a
 * kill, by the next rebuild). The price: room on the disk for a second copy of the read models.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { defaultReadModelPath, type AppConfig } from '../config/app-config.js';
import { estimatedCount } from '../audit/application/evidence-export.js';
import { FEATURES } from '../features.js';
import { openConfiguredEventStore } from '../platform/configured-event-store.js';
import { DataDirLock } from '../platform/data-dir-lock.js';
import { realFilePath } from '../platform/real-file-path.js';
import { projectionsOf, upcastersOf } from '../platform/feature-contribution.js';
import { OFFLINE_CATCH_UP, ProjectionRunner } from '../projections/projection-runner.js';
import { openReadModelDatabase, type ReadDb } from '../projections/read-model-database.js';
import { existingStore, log, result, UsageError } from './evidence-commands.js';
import { cleanUpOnInterrupt } from './interrupts.js';
import { clearBuildPlace, putDatabaseFileInPlace, removableBuildPlace, removeDatabaseFiles } from './database-file-swap.js';
import { startLogCheck } from './overlapping-log-check.js';

export async function runRebuild(config: AppConfig): Promise<number> {
  // A live server holds DATA_DIR's lock: rebuilding its read models under it would corrupt them.
  // Held for the rebuild, the lock also keeps a server from starting meanwhile.
  // A store file missing a table of its own is broken (exit 1): opening it would create the table.
  // So is one SQLite finds damaged anywhere (quick_check), though every event still reads.
  const inspection = existingStore(config, { quickCheck: true });
  if (inspection?.kind === 'damaged') {
    result({ command: 'rebuild', ok: false, error: `the store file is damaged: ${inspection.reason}` }, `BROKEN: the store file is damaged: ${inspection.reason}; nothing was rebuilt.`);
    return 1;
  }
  const lock = config.readModelPath === ':memory:' ? null : DataDirLock.acquireLocalState(config.dataDir, config.readModelPath, 'cli rebuild', log);
  // Interrupted: the half-built file and the locks go; the read models were not touched yet.
  const uninterruptible = cleanUpOnInterrupt(() => {
    const building = rebuildingPath(config.readModelPath);
    if (building && removableBuildPlace(building)) removeDatabaseFiles(building);
    lock?.release();
  });
  // Read models that were not there before: a rebuild that puts none in place leaves no empty file
  // (verify-read-models then took it for read models "built by another version": re-probe L2).
  const created = config.readModelPath !== ':memory:' && !existsSync(config.readModelPath);
  let code: number | undefined;
  try {
    code = await rebuildHolding(config).catch((error: unknown) => {
      // A full disk, named with the file it filled (re-probe L6: "failed: database or disk is full").
      const full = (error as { code?: unknown }).code;
      if (full !== 'SQLITE_FULL' && full !== 'ENOSPC') throw error;
      throw new UsageError(`the read models could not be written at ${rebuildingPath(config.readModelPath) ?? config.readModelPath} (${(error as Error).message}): free space on its disk and rebuild again; the read models in place were not replaced`);
    });
    return code;
  } finally {
    uninterruptible();
    if (created && code !== 0) removeDatabaseFiles(realFilePath(config.readModelPath));
    lock?.release();
  }
}

/**
 * The file a rebuild builds the read models in (null: read models in memory, built in place):
 * beside the file READ_MODEL_PATH names, through a symbolic link (which stays one; a rename over
 * the link replaced it with a file and left its target as it was: probe F5).
 */
export function rebuildingPath(readModelPath: string): string | null {
  return readModelPath === ':memory:' ? null : `${realFilePath(readModelPath)}.rebuilding`;
}


async function rebuildHolding(config: AppConfig): Promise<number> {
  // A damaged file is moved aside (and logged) rather than failing the rebuild. Opened first: a
  // file that is not the read models' is refused with nothing else open (an open store kept
  // the process from exiting), and nothing created beside it.
  const current = openReadModelDatabase(config.readModelPath, { logger: log, label: 'read models', setting: 'READ_MODEL_PATH', ownsPath: config.readModelPath === defaultReadModelPath(config.dataDir) });
  const building = rebuildingPath(config.readModelPath);
  const appliedBefore = furthestApplied(current);
  let store: Awaited<ReturnType<typeof openConfiguredEventStore>>;
  let db: ReadDb;
  try {
    store = await openConfiguredEventStore(config);
  } catch (error) {
    current.close();
    throw error;
  }
  let check: ReturnType<typeof startLogCheck>;
  try {
    // A folder there is someone's, not a half-built file of ours; what a killed rebuild left is started over.
    if (building) clearBuildPlace(building, (folder) => new UsageError(`${folder}: rebuild builds the read models in a file of that name; move it away`));
    db = building ? openReadModelDatabase(building, { maxPages: config.readModelMaxPages }) : current; // the server's quota holds for the rebuilt file too
    // Its keys read here (a signing key that is a folder fails): the half-built file goes with it
    // (it was left, re-probe of 2026-12-06, L2).
    check = startLogCheck(config, store);
  } catch (error) {
    if (db! !== undefined && db !== current) db.close();
    if (building && removableBuildPlace(building)) removeDatabaseFiles(building);
    current.close();
    await store.close();
    throw error;
  }
  const runner = new ProjectionRunner(store, db, projectionsOf(FEATURES)(), upcastersOf(FEATURES).upcast, log, OFFLINE_CATCH_UP);
  let swapped = false;
  try {
    const head = await store.headPosition();
    const started = performance.now();
    log.info('rebuild started', { adapter: store.adapterName, readModels: config.readModelPath, headPosition: head, building });
    // The events verified plus the events applied, out of twice the log. In memory there is no
    // second file: the log is verified before anything is reset.
    const [verdict, outcome] = await check.alongside('rebuild: verifying the log and applying it', 2 * estimatedCount(head), (applied) =>
      building ? runner.rebuild(applied) : check.verdict.then((broken) => (broken ? null : runner.rebuild(applied))),
    );
    if (verdict.status === 'rejected') throw verdict.reason;
    const broken = verdict.value;
    if (broken) {
      result(
        { command: 'rebuild', ok: false, error: broken.reason, firstBrokenPosition: broken.firstBrokenPosition },
        `BROKEN: ${broken.reason} Nothing was rebuilt: the read models may still hold what the log said before (keep a copy of ${config.readModelPath}); restore the log (README, Auditors), check it with verify-store, then rebuild.`,
      );
      return 1;
    }
    if (outcome.status === 'rejected') throw outcome.reason;
    const { events, position } = outcome.value!;
    await runner.stop();
    // Read models that applied the log past its end saw events the log no longer holds (an older
    // copy restored, a WAL lost; the server refuses to start on them): they may be the only copy
    // left, and are kept beside the rebuilt ones (they were replaced without a word: backup probe F9).
    const ahead = building && appliedBefore !== null && (position === null || appliedBefore > position);
    const keptAs = ahead ? `${realFilePath(config.readModelPath)}.ahead-of-log-${new Date().toISOString().replace(/[:.]/g, '-')}` : null;
    if (building) {
      replaceReadModels(db, current, building, realFilePath(config.readModelPath), keptAs);
      swapped = true;
    }
    const durationMs = Math.round(performance.now() - started);
    const keptWords = keptAs ? ` The read models replaced had applied the log up to ${appliedBefore}, past its end (${position ?? 'nothing'}): they may hold the only copy of events the log lost, and are kept as ${keptAs}.` : '';
    result(
      { command: 'rebuild', ok: true, eventsApplied: events, position, durationMs, readModels: config.readModelPath, ...(keptAs ? { replacedAppliedUpTo: appliedBefore, keptAs } : {}) },
      `Rebuilt every read model from ${events} events in ${durationMs} ms (up to position ${position ?? 'none'}).${keptWords}`,
    );
    if (keptAs) log.warn('rebuild: the read models replaced were ahead of the log; kept', { appliedUpTo: appliedBefore, logEndsAt: position, keptAs });
    return 0;
  } finally {
    await runner.stop();
    await check.close();
    await store.close();
    db.close();
    current.close();
    if (building && !swapped) removeDatabaseFiles(building);
  }
}

/**
 * The rebuilt file in the place of the read models: both closed (each checkpoints its WAL into its
 * file; the rebuilt one is taken out of WAL mode and back, so that all of it is in the one file,
 * which still says WAL as the server opens it), then put in place (database-file-swap.ts).
 */
function replaceReadModels(built: ReadDb, current: ReadDb, builtPath: string, path: string, keepAs: string | null): void {
  built.pragma('journal_mode = DELETE');
  built.pragma('journal_mode = WAL');
  built.close();
  current.close();
  // A copy, not a rename: the rebuilt file takes the mode and owner of the one in place.
  if (keepAs && existsSync(path)) copyFileSync(path, keepAs);
  putDatabaseFileInPlace(builtPath, path);
}

/** The furthest position any read model in the file has applied (null: none). */
function furthestApplied(db: ReadDb): string | null {
  try {
    return (db.prepare('SELECT max(position) AS position FROM projection_checkpoints').get() as { position: string | null }).position;
  } catch {
    return null; // no checkpoints table: nothing applied
  }
}
