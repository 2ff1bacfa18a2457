/**
 * `risk-ledger verify-read-models`: whether the read models this instance answers from say what
 * the log says. They are a projection of the log, unsealed: an edit of read-models.sqlite changed
 * live answers with no signal (auditor probe 10-b M5), while asOf and the documents, replayed from
 * the log, still said otherwise. A consistent copy of the file is compared, table by table and row
 * by row, with a replay of the log up to the very position the copy has applied, once the log
 * itself verifies. A server may run meanwhile (the copy is SQLite's online backup; nothing of the
 * server's is written).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AppConfig } from '../config/app-config.js';
import type { EventStore, RecordedEvent, SubscribeOptions } from '../event-store/event-store.port.js';
import { FEATURES } from '../features.js';
import { openConfiguredEventStore } from '../platform/configured-event-store.js';
import { projectionsOf, upcastersOf } from '../platform/feature-contribution.js';
import { OFFLINE_CATCH_UP, ProjectionRunner } from '../projections/projection-runner.js';
import { openReadModelDatabase, READ_MODELS_TABLE } from '../projections/read-model-database.js';
import { existingStore, log, MissingStoreError, result, UsageError, type BrokenLog } from './evidence-commands.js';
import { startLogCheck } from './overlapping-log-check.js';
import { cleanUpOnInterrupt } from './interrupts.js';
import { estimatedCount } from '../audit/application/evidence-export.js';

/** Rows of a table named in a finding, at most. */
const SAMPLES = 5;

/** A table whose rows differ between the read models and the replay. */
interface TableDifference {
  table: string;
  /** Rows in the read models that the replay does not have (edited or added). */
  notInLog: number;
  /** Rows of the replay that the read models lack (edited or deleted). */
  missing: number;
  /** The first column (the row's id) of some of them. */
  sample: unknown[];
}

export async function runVerifyReadModels(config: AppConfig): Promise<number> {
  if (config.readModelPath === ':memory:') throw new UsageError('READ_MODEL_PATH is :memory:: there is no read-model file to verify');
  existingStore(config);
  // Interrupted: the copy of the read models goes with the scratch folder (probe F7). Listened for
  // before the folder is made: a SIGTERM between the two ended the process by default, the folder
  // left (seen once in a full test run on a loaded machine).
  let work: string | undefined;
  const uninterruptible = cleanUpOnInterrupt(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });
  work = mkdtempSync(join(tmpdir(), 'risk-ledger-verify-read-models-'));
  try {
    const copy = join(work, 'live-copy.sqlite');
    await copyOf(config.readModelPath, copy);
    const at = checkpointOf(copy);
    // The log's verdict with the replay's: a difference from a replay of an edited log is the
    // log's, and the read models may then be the last copy of what it said (auditor probe of
    // 2026-12-06, F1: this command blamed them and sent the operator to rebuild, which copied the
    // edit over them). The log is verified beside the replay (overlapping-log-check.ts).
    const replay = join(work, 'replay.sqlite');
    // Read models past the log's end applied events the log no longer holds: no replay reaches
    // them (it waited for those events for good: restore probe of 2026-12-07, R2).
    const head = await headOf(config);
    if (at.position !== null && (head === null || at.position > head)) {
      const reason = `the read models applied the log up to ${at.position}, but it ends at ${head ?? 'nothing'}: the log lost events they saw (an older copy of it put back, a WAL file lost)`;
      result(
        { command: 'verify-read-models', ok: false, readModels: config.readModelPath, position: at.position, logHead: head, reason },
        `BROKEN: ${reason}. They may be the last copy of those events: keep a copy of ${config.readModelPath}; if the log was rolled back on purpose, README "Backup and restore".`,
      );
      return 1;
    }
    const { broken, events } = await replayVerifying(config, replay, at.position);
    const differences = compare(replay, copy);
    const json = {
      command: 'verify-read-models',
      ok: differences.length === 0 && !broken,
      readModels: config.readModelPath,
      position: at.position,
      eventsReplayed: events,
      tables: at.tables,
      differences,
      log: broken ? { ok: false, reason: broken.reason, firstBrokenPosition: broken.firstBrokenPosition } : { ok: true },
    };
    const named = differences.map((d) => `${d.table} (${d.notInLog} row(s) not from the log, ${d.missing} missing, e.g. ${d.sample.map(String).join(', ')})`).join('; ');
    if (broken) {
      const readModels = differences.length
        ? `The read models at position ${at.position ?? 'none'} differ from a replay of it: ${named}: they may hold what the log said before it was changed. Keep a copy of ${config.readModelPath} and do not rebuild;`
        : `The read models at position ${at.position ?? 'none'} agree with a replay of it, the change included;`;
      result(json, `BROKEN: ${broken.reason} ${readModels} restore the log (README, Auditors) and check it with verify-store.`);
      return 1;
    }
    if (differences.length === 0) {
      result(json, `OK: the read models at position ${at.position ?? 'none'} agree with a replay of the log (${events} events), row for row; the log verifies.`);
      return 0;
    }
    result(json, `BROKEN: the read models at position ${at.position ?? 'none'} differ from a replay of the log, which verifies: ${named}. Their answers are not the log's: run rebuild (with the server stopped), and find out who wrote ${config.readModelPath}.`);
    return 1;
  } finally {
    uninterruptible();
    rmSync(work, { recursive: true, force: true });
  }
}

/** SQLite's online backup: a consistent copy of a file a server may be writing. */
async function copyOf(path: string, to: string): Promise<void> {
  let source: Database.Database;
  try {
    source = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CANTOPEN') throw new MissingStoreError(`no read models at ${path}: set READ_MODEL_PATH (or DATA_DIR) to the server's`);
    throw error;
  }
  try {
    await source.backup(to);
  } finally {
    source.close();
  }
}

/** The one position every projection of the copy has applied; refused when they differ or were built by another version. */
function checkpointOf(file: string): { position: string | null; tables: number } {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare(`SELECT name, schema_version AS version, position FROM ${READ_MODELS_TABLE}`).all() as { name: string; version: number; position: string | null }[];
    const projections = projectionsOf(FEATURES)();
    for (const p of projections) {
      const row = rows.find((r) => r.name === p.name);
      if (!row || row.version !== p.schemaVersion) {
        throw new UsageError(`the read model ${p.name} was built by another version of Risk Ledger (schema ${row?.version ?? 'none'}, this one ${p.schemaVersion}): start the server once (it rebuilds it), then verify`);
      }
    }
    const positions = new Set(rows.map((r) => r.position));
    if (positions.size > 1) throw new UsageError(`the read models were copied while catching up (their projections are at ${[...positions].join(', ')}): verify again once the server has caught up`);
    const tables = (db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ?`).get(READ_MODELS_TABLE) as { n: number }).n;
    return { position: rows[0]?.position ?? null, tables };
  } finally {
    db.close();
  }
}

/** The log's head (null: empty). */
async function headOf(config: AppConfig): Promise<string | null> {
  const store = await openConfiguredEventStore(config);
  try {
    return await store.headPosition();
  } finally {
    await store.close();
  }
}

/**
 * Builds every read model from the log up to and including `position` (none: the empty log) into
 * `file`, while the whole log is verified beside it; both go to the end.
 */
async function replayVerifying(config: AppConfig, file: string, position: string | null): Promise<{ broken: BrokenLog | null; events: number }> {
  const db = openReadModelDatabase(file);
  const store = await openConfiguredEventStore(config);
  const runner = new ProjectionRunner(logUpTo(store, position), db, projectionsOf(FEATURES)(), upcastersOf(FEATURES).upcast, log, OFFLINE_CATCH_UP);
  const check = startLogCheck(config, store);
  try {
    // The whole log verified, and the replay up to the read models' position.
    const total = estimatedCount(await store.headPosition()) + estimatedCount(position);
    const [verdict, replayed] = await check.alongside('verify-read-models: verifying the log and replaying it', total, (applied) => runner.rebuild(applied));
    if (verdict.status === 'rejected') throw verdict.reason;
    if (replayed.status === 'rejected') throw replayed.reason;
    return { broken: verdict.value, events: replayed.value.events };
  } finally {
    await runner.stop();
    await check.close();
    await store.close();
    db.close();
  }
}

/**
 * The log as it was at `position`: its head there, and a subscription that hands on nothing
 * after it (positions of one store compare as strings). Everything else is the store's own.
 */
function logUpTo(store: EventStore, position: string | null): EventStore {
  const upTo = (events: RecordedEvent[]) => (position === null ? [] : events.filter((e) => e.position <= position));
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'headPosition') return async () => position;
      if (key === 'subscribeToAll') {
        return (options: SubscribeOptions) =>
          target.subscribeToAll({
            ...options,
            onEvent: async (event) => {
              if (upTo([event]).length > 0) await options.onEvent(event);
            },
            onBatch: options.onBatch
              ? async (events) => {
                  const kept = upTo(events);
                  if (kept.length > 0) await options.onBatch!(kept);
                }
              : undefined,
          });
      }
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Every table of the replay against the copy: the rows each has that the other has not. */
function compare(replayFile: string, copyFile: string): TableDifference[] {
  const db = new Database(replayFile, { readonly: true });
  try {
    db.prepare('ATTACH DATABASE ? AS live').run(copyFile);
    const tables = (db.prepare(`SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ? ORDER BY name`).all(READ_MODELS_TABLE) as { name: string }[]).map((t) => t.name);
    const differences: TableDifference[] = [];
    for (const table of tables) {
      const quoted = `"${table.replace(/"/g, '""')}"`;
      const columns = (schema: string) => (db.prepare(`SELECT name FROM pragma_table_info(?, ?)`).all(table, schema) as { name: string }[]).map((c) => c.name).join(',');
      if (columns('main') !== columns('live')) {
        differences.push({ table, notInLog: 0, missing: 0, sample: [`its columns differ: (${columns('live')}) where the replay has (${columns('main')})`] });
        continue;
      }
      const notInLog = db.prepare(`SELECT * FROM live.${quoted} EXCEPT SELECT * FROM main.${quoted}`).raw().all() as unknown[][];
      const missing = db.prepare(`SELECT * FROM main.${quoted} EXCEPT SELECT * FROM live.${quoted}`).raw().all() as unknown[][];
      if (notInLog.length + missing.length === 0) continue;
      const sample = [...new Set([...notInLog, ...missing].map((row) => row[0]))].slice(0, SAMPLES);
      differences.push({ table, notInLog: notInLog.length, missing: missing.length, sample });
    }
    return differences;
  } finally {
    db.close();
  }
}
