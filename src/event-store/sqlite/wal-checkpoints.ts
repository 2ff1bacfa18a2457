import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * WAL checkpoints off the event loop (issue 13), for the event store's file and the read
 * models' (projections/read-model-worker.ts embeds the same loop).
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages: it copies
 * the pages into the database file and syncs the WAL and the file, all on the committing thread.
 * On the event store that is the event loop, under load about once a second, for tens of ms:
 * the e2e bench gave 939 req/s and p99 36 ms with it, 1,099 and 25 ms with no checkpoint at all
 * (one 8 s round each, same run). A worker thread with its own connection checkpoints instead
 * (PASSIVE: it never waits for, nor blocks, the writer); the writer's automatic checkpoint stays
 * as a backstop at AUTOCHECKPOINT_BACKSTOP pages, and goes back to SQLite's default when the
 * worker stops or dies.
 *
 * Durability does not change: the checkpointing connection runs with synchronous=NORMAL, so
 * SQLite syncs the WAL before it copies a frame into the file and syncs the file before the WAL
 * may start over, as the writer's own checkpoint did. The writer restarts the WAL (at its next
 * write) once a checkpoint has copied every frame: when the writer committed meanwhile, a few
 * quick rounds copy the rest.
 */

/** What the server logs when the worker's checkpoint fails or the worker dies (with the error). */
export const CHECKPOINT_FAILED = 'WAL checkpoint off the event loop failed (the writer checkpoints itself meanwhile)';

/** The backstop of the writer's own automatic checkpoint while a worker checkpoints (pages). */
export const AUTOCHECKPOINT_BACKSTOP = 4_000;
/** SQLite's default, given back when the worker stops. */
export const AUTOCHECKPOINT_DEFAULT = 1_000;

/**
 * The start of a checkpointing worker's source, as CommonJS for a worker run with eval (a compiled
 * file beside this one would not exist when the sources run under the test runner): it opens the
 * worker's connection `db` to workerData.path (with `Database`, `parentPort` and `workerData` in
 * scope) and defines checkpoint() (call once to start) and closeWorker() (on a 'close' message).
 */
export const CHECKPOINT_LOOP_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 2000');
let checkpointTimer;
let checkpointsStopped = false;
let catchUps = 0;
let lastWarning;
function checkpoint() {
  checkpointTimer = undefined;
  if (checkpointsStopped) return;
  let behind = false;
  try {
    // [busy, frames in the WAL, frames copied].
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    behind = !!r && r.log > r.checkpointed;
    lastWarning = undefined;
  } catch (error) {
    // Once per kind of failure, not every round (the writer's backstop checkpoints meanwhile).
    const message = String(error && error.message || error);
    if (message !== lastWarning) parentPort.postMessage({ type: 'warn', message });
    lastWarning = message;
  }
  catchUps = behind && catchUps < 5 ? catchUps + 1 : 0;
  checkpointTimer = setTimeout(checkpoint, catchUps > 0 ? workerData.catchUpMs : workerData.intervalMs);
}
function closeWorker() {
  checkpointsStopped = true;
  clearTimeout(checkpointTimer);
  db.close();
  parentPort.close();
}
`;

export interface WalCheckpointOptions {
  /**
   * Between two checkpoints when the last one copied every frame (ms). Default 1,000: each
   * checkpoint syncs the WAL and the file, and more frequent ones (250 ms) competed for the disk
   * with the event store's syncs in the e2e bench.
   */
  intervalMs?: number;
  /** After a checkpoint that could not copy every frame (the writer went on): the next one (ms), up to 5 times in a row. */
  catchUpMs?: number;
  /** Where a failed checkpoint or a dead worker is reported (the writer checkpoints itself meanwhile). */
  warn?: (message: string) => void;
}

/** The worker's data: the driver's path, the file and the loop's timings. */
export function checkpointWorkerData(db: Database.Database, options: WalCheckpointOptions): Record<string, unknown> {
  return { driver: createRequire(import.meta.url).resolve('better-sqlite3'), path: db.name, intervalMs: options.intervalMs ?? 1_000, catchUpMs: options.catchUpMs ?? 2 };
}

/** A worker may checkpoint `db` only when it is a file in WAL mode (an in-memory database has no other connection). */
export function checkpointableByWorker(db: Database.Database): boolean {
  if (db.memory || !db.name || db.name === ':memory:') return false;
  return db.pragma('journal_mode', { simple: true }) === 'wal';
}

const WORKER_SOURCE = `
${CHECKPOINT_LOOP_SOURCE}
parentPort.on('message', (m) => {
  if (m.type === 'close') closeWorker();
});
checkpoint();
`;

/**
 * A worker thread that checkpoints one database file: the event store's as it is, the read
 * models' with more work given to it (projections/read-model-worker.ts extends it).
 */
export class WalCheckpointer {
  protected readonly worker: Worker;
  private closing?: Promise<void>;
  private exited = false;

  /** A checkpointer for `db`'s file, or null when a worker cannot checkpoint it (see checkpointableByWorker). */
  static start(db: Database.Database, options: WalCheckpointOptions = {}): WalCheckpointer | null {
    return checkpointableByWorker(db) ? new WalCheckpointer(db, options) : null;
  }

  /** `source`: the worker's CommonJS source (it must run CHECKPOINT_LOOP_SOURCE and close on a 'close' message). */
  protected constructor(
    private readonly db: Database.Database,
    options: WalCheckpointOptions,
    source: string = WORKER_SOURCE,
    label = 'checkpoint',
  ) {
    this.worker = new Worker(source, { eval: true, workerData: checkpointWorkerData(db, options) });
    // Never keeps the process alive on its own.
    this.worker.unref();
    this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_BACKSTOP}`);
    this.worker.on('message', (m: { type?: string; message?: string }) => {
      if (m.type === 'warn') options.warn?.(m.message ?? '');
      else this.received(m);
    });
    this.worker.on('error', (error) => {
      options.warn?.(`${label} worker failed: ${error.message}`);
      this.gone(error);
    });
    this.worker.on('exit', () => this.gone());
  }

  /** The worker stopped or is stopping: it takes no more work. */
  protected get stopped(): boolean {
    return this.exited || this.closing !== undefined;
  }

  /** A message of the worker's own besides the loop's warnings (subclasses). */
  protected received(_message: unknown): void {}

  /** The worker is gone (stopped, failed or killed): the writer checkpoints itself again. */
  protected gone(_error?: Error): void {
    this.exited = true;
    this.restoreAutocheckpoint();
  }

  /** Stops the worker (after the work it was given) and gives the writer its automatic checkpoint back. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      const timer = setTimeout(() => void this.worker.terminate(), 10_000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.postMessage({ type: 'close' });
    });
    return this.closing.then(() => this.restoreAutocheckpoint());
  }

  private restoreAutocheckpoint(): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_DEFAULT}`);
  }
}
