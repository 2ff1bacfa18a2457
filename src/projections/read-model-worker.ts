import { CHECKPOINT_LOOP_SOURCE, checkpointableByWorker, WalCheckpointer, type WalCheckpointOptions } from '../event-store/sqlite/wal-checkpoints.js';
import type { ReadDb } from './read-model-database.js';

/**
 * The read-model file's upkeep off the event loop (issue 13): a worker thread with its own
 * connection to the file that
 *   - checkpoints the WAL (PASSIVE: it never waits for, nor blocks, the projections' writer).
 *     SQLite's automatic checkpoint ran inside the projections' commit every 1,000 pages: a few
 *     ms of copying and two fsyncs on the event loop, several times a second under load. While
 *     the worker runs, the automatic one stays only as a backstop (AUTOCHECKPOINT_BACKSTOP pages).
 *     Same mechanism, same synchronous=NORMAL: what a crash can lose does not change.
 *   - builds the image of a stored replay snapshot: inside ONE read transaction on the file (so
 *     the checkpoints it reports and the tables it copies are one committed state), the tables
 *     except the history ones copied into a fresh in-memory database, indexes built after the rows,
 *     serialised. The projections go on committing meanwhile; the caller learns which position
 *     the image holds from the checkpoints read in that transaction.
 * Only for a database in a file: an in-memory one cannot be opened by another connection (the
 * runner then does both the old way, on the loop).
 */
export interface ReadModelImage {
  /** projection_checkpoints as read in the image's transaction. */
  checkpoints: { name: string; position: string | null }[];
  image: Buffer;
}

// CommonJS run with eval, like the event store's checkpointer (wal-checkpoints.ts), whose loop it
// embeds. Only the driver's path and the file's path come from outside.
const WORKER_SOURCE = `
${CHECKPOINT_LOOP_SOURCE}
function image(skip) {
  const mem = new Database(':memory:');
  try {
    mem.prepare('ATTACH DATABASE ? AS live').run(workerData.path);
    mem.exec('BEGIN');
    try {
      const checkpoints = mem.prepare('SELECT name, position FROM live.projection_checkpoints').all();
      const objects = mem.prepare("SELECT type, name, tbl_name AS tbl, sql FROM live.sqlite_schema WHERE sql IS NOT NULL AND substr(name, 1, 7) <> 'sqlite_' ORDER BY rowid").all()
        .filter((o) => !skip.includes(o.tbl));
      const q = (name) => '"' + name.replace(/"/g, '""') + '"';
      for (const o of objects) if (o.type === 'table') mem.exec(o.sql);
      for (const o of objects) if (o.type === 'table') mem.exec('INSERT INTO main.' + q(o.name) + ' SELECT * FROM live.' + q(o.name));
      if (mem.prepare("SELECT 1 FROM live.sqlite_schema WHERE name = 'sqlite_sequence'").get()) {
        mem.exec('DELETE FROM main.sqlite_sequence; INSERT INTO main.sqlite_sequence SELECT * FROM live.sqlite_sequence');
      }
      for (const o of objects) if (o.type !== 'table') mem.exec(o.sql);
      mem.exec('COMMIT');
      return { checkpoints, image: mem.serialize() };
    } catch (error) {
      if (mem.inTransaction) mem.exec('ROLLBACK');
      throw error;
    }
  } finally {
    mem.close();
  }
}
parentPort.on('message', (m) => {
  if (m.type === 'image') {
    try {
      const { checkpoints, image: buf } = image(m.skip);
      // Copied here into memory of our own, then handed over (the driver's buffer may not be transferable).
      const bytes = new Uint8Array(buf.length);
      bytes.set(buf);
      parentPort.postMessage({ type: 'image', id: m.id, checkpoints, bytes }, [bytes.buffer]);
    } catch (error) {
      parentPort.postMessage({ type: 'image', id: m.id, error: String(error && error.message || error) });
    }
  } else if (m.type === 'checkpoint') {
    if (checkpointTimer !== undefined) {
      clearTimeout(checkpointTimer);
      checkpoint();
    }
  } else if (m.type === 'close') {
    closeWorker();
  }
});
checkpoint();
`;

export type ReadModelWorkerOptions = WalCheckpointOptions;

export class ReadModelWorker extends WalCheckpointer {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: ReadModelImage) => void; reject: (e: Error) => void }>();

  /** A worker for `db`'s file, or null when `db` is in memory or not in WAL mode (a reader there would block the writer). */
  static override start(db: ReadDb, options: ReadModelWorkerOptions = {}): ReadModelWorker | null {
    return checkpointableByWorker(db) ? new ReadModelWorker(db, options) : null;
  }

  private constructor(db: ReadDb, options: ReadModelWorkerOptions) {
    super(db, options, WORKER_SOURCE, 'read-model');
  }

  protected override received(message: unknown): void {
    const m = message as { type?: string; id?: number; checkpoints?: ReadModelImage['checkpoints']; bytes?: Uint8Array; error?: string };
    if (m.type !== 'image' || m.id === undefined) return;
    const waiter = this.pending.get(m.id);
    this.pending.delete(m.id);
    if (!waiter) return;
    if (m.error !== undefined || !m.bytes || !m.checkpoints) waiter.reject(new Error(`read-model image failed: ${m.error}`));
    else waiter.resolve({ checkpoints: m.checkpoints, image: Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength) });
  }

  protected override gone(error?: Error): void {
    super.gone(error);
    for (const w of this.pending.values()) w.reject(error ?? new Error('read-model worker stopped'));
    this.pending.clear();
  }

  /**
   * A checkpoint now rather than at the loop's next round: after each commit of a catch-up's span,
   * whose thousands of WAL pages otherwise reached the writer's backstop (AUTOCHECKPOINT_BACKSTOP)
   * between two rounds, and the writer checkpointed inside its COMMIT (30-70 ms of the event loop,
   * twice in a rebuild of 100,000 events).
   */
  checkpointSoon(): void {
    if (!this.stopped) this.worker.postMessage({ type: 'checkpoint' });
  }

  /** The read models without `skip` (history tables), as one committed state, and the checkpoints of that state. */
  image(skip: readonly string[]): Promise<ReadModelImage> {
    if (this.stopped) return Promise.reject(new Error('read-model worker stopped'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'image', id, skip: [...skip] });
    });
  }
}
