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
  save(name: string, position: string): Promise<void> | void;
  close(): Promise<void>;
}

/** One instance on its own store (SQLite, memory): it always leads; the checkpoint is a local file. */
export class SoleInstance implements ReactionsCoordination {
  private readonly select;
  private readonly upsert;

  constructor(private readonly db: ReadDb) {
    db.exec('CREATE TABLE IF NOT EXISTS process_checkpoints (name TEXT PRIMARY KEY, position TEXT)');
    this.select = db.prepare('SELECT position FROM process_checkpoints WHERE name = ?');
    this.upsert = db.prepare('INSERT INTO process_checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position');
  }

  async tryLead(): Promise<boolean> {
    return true;
  }

  onLost(): void {}

  async load(name: string): Promise<{ position: string | null } | undefined> {
    const row = this.select.get(name) as { position: string | null } | undefined;
    return row ? { position: row.position } : undefined;
  }

  save(name: string, position: string): void {
    this.upsert.run(name, position);
  }

  async close(): Promise<void> {
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
