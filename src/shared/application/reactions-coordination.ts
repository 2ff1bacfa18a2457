import type { ReadDb } from '../../projections/read-model-database.js';

/**
 * Where the reactions' checkpoint lives and which instance runs them. Reactions must run in
 * exactly one process across the instances that share a log (their commands are idempotent, so
 * a brief overlap at a takeover is harmless, but not a permanent double).
 */
export interface ReactionsCoordination {
  /** Whether this instance runs the reactions; tries to become the one when none does. */
  tryLead(): Promise<boolean>;
  /** Called with a listener run when this instance stops leading (its lock was lost). */
  onLost(listener: () => void): void;
  /** The checkpoint every instance sees (the leader's); undefined when none was ever saved. */
  load(name: string): Promise<{ position: string | null } | undefined>;
  /** Several checkpoints in one read where the store can (PostgreSQL: one query); a name never saved is absent from the map. */
  loadMany?(names: readonly string[]): Promise<Map<string, string | null>>;
  save(name: string, position: string): Promise<void> | void;
  close(): Promise<void>;
  /**
   * Whether other instances read this checkpoint to know that the reactions to a command are done
   * (PostgreSQL): then a part held back for the log's verification is saved as soon as a
   * verification asked for at once covers it, rather than with the next page.
   */
  readonly othersWait?: boolean;
  /**
   * Whether this instance still holds the lead, asked of the database where the lead is a lock
   * there (PostgreSQL): a leader stalled past its lease (SIGSTOP, a hung VM) that wakes up learns
   * here, before acting outside the log, that another instance took over (absent: the lead is
   * this process's own and cannot be lost to another).
   */
  confirmLead?(): Promise<boolean>;
}

/** How often SoleInstance writes a checkpoint; by default, at every save. */
export interface SoleInstanceOptions {
  /**
   * At most one write per this many ms (0: every save). Nobody else reads the file while this
   * instance runs (it reads its own position from memory), so a save between writes is kept in
   * memory and written by the next save after the interval or by a timer at its end, and at close.
   * A crash loses at most that much progress: the reactions of those events run again, and they
   * are idempotent (the deciders answer an already-satisfied command with no events). Why: every
   * write is a transaction on the file, and every 1,000th runs SQLite's automatic WAL checkpoint
   * on the event loop (3–5 ms on a quiet machine, up to 15 ms in the e2e bench's profile).
   */
  saveEveryMs?: number;
  /** A write by the timer that failed (it is tried again by the next save or at close). */
  onDeferredSaveError?: (error: unknown) => void;
}

/** One instance on its own store (SQLite, memory): it always leads; the checkpoint is a local file. */
/** The table of the process-manager checkpoint file (DATA_DIR/process-manager.sqlite): its schema marker. */
export const PROCESS_CHECKPOINTS_TABLE = 'process_checkpoints';

export class SoleInstance implements ReactionsCoordination {
  private readonly select;
  private readonly upsert;
  private readonly saveEveryMs: number;
  /** Positions saved but not written yet (saveEveryMs), by name. */
  private readonly unwritten = new Map<string, string>();
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly db: ReadDb,
    private readonly options: SoleInstanceOptions = {},
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS ${PROCESS_CHECKPOINTS_TABLE} (name TEXT PRIMARY KEY, position TEXT)`);
    this.select = db.prepare('SELECT position FROM process_checkpoints WHERE name = ?');
    this.upsert = db.prepare('INSERT INTO process_checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position');
    this.saveEveryMs = Math.max(0, options.saveEveryMs ?? 0);
  }

  async tryLead(): Promise<boolean> {
    return true;
  }

  onLost(): void {}

  async load(name: string): Promise<{ position: string | null } | undefined> {
    const unwritten = this.unwritten.get(name);
    if (unwritten !== undefined) return { position: unwritten };
    const row = this.select.get(name) as { position: string | null } | undefined;
    return row ? { position: row.position } : undefined;
  }

  save(name: string, position: string): void {
    this.unwritten.set(name, position);
    if (performance.now() - this.lastWriteAt >= this.saveEveryMs) {
      this.writeUnwritten();
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.writeUnwritten();
      } catch (error) {
        this.options.onDeferredSaveError?.(error);
      }
    }, Math.max(1, this.lastWriteAt + this.saveEveryMs - performance.now()));
    // Not a reason to keep the process alive: what it would write is what a crash may lose.
    this.timer.unref();
  }

  /** Writes every unwritten position in one transaction; on an error they stay unwritten. */
  private writeUnwritten(): void {
    if (this.unwritten.size === 0 || !this.db.open) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.db.transaction(() => {
      for (const [name, position] of this.unwritten) this.upsert.run(name, position);
    })();
    this.unwritten.clear();
    this.lastWriteAt = performance.now();
  }

  async close(): Promise<void> {
    try {
      this.writeUnwritten();
    } catch (error) {
      this.options.onDeferredSaveError?.(error);
    }
    clearTimeout(this.timer);
    if (this.db.open) this.db.close();
  }
}

/**
 * For a follower of the log that only one instance may run (the reactions, the webhooks): while
 * another instance leads, try to take over every `intervalMs` (it may die), until `lead()`
 * succeeds or the follower has stopped. One pending try at a time; `cancel()` at shutdown.
 */
export class LeadershipPoll {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly lead: () => Promise<boolean>,
    private readonly stopped: () => boolean,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = 1_000,
  ) {}

  schedule(): void {
    if (this.stopped() || this.timer) return;
    this.timer = setTimeout(async () => {
      this.timer = undefined;
      try {
        if (await this.lead()) return;
      } catch (error) {
        this.onError(error);
      }
      this.schedule();
    }, this.intervalMs);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
