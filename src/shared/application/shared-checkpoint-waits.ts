/**
 * The waits of an instance that does not run the reactions, for the leader's shared checkpoint
 * (PostgreSQL: a plan command answers once the reactions to it are done). One poll serves every
 * wait in flight: each round reads the checkpoint and the leader's hold together and settles each
 * wait it answers. Before, each wait polled on its own, two queries every 25 ms, so sixteen
 * commands waiting on one follower asked the database ~1,300 times a second.
 */

/** What one round of the poll reads: the shared checkpoint, and where the leader holds ('' or null when it does not). */
export interface SharedCheckpoint {
  saved: string | null;
  held: string | null;
}

export interface SharedCheckpointWaitsOptions {
  /** Reads the checkpoint and the hold (one query where the store can). */
  read(): Promise<SharedCheckpoint>;
  /** When this instance has become the one that runs the reactions: its own wait for the position, which takes the wait over. */
  ownWait(position: string, timeoutMs: number): Promise<void> | undefined;
  /** The leader holds at or before a waited position (its log fails verification there): told once per round that finds it. */
  onHold(held: string): void;
  /** The refusal of a wait the hold answers, and of one that timed out. */
  heldError(held: string): Error;
  timeoutError(position: string, timeoutMs: number): Error;
  pollMs?: number;
}

interface Wait {
  position: string;
  deadline: number;
  timeoutMs: number;
  resolve(): void;
  reject(error: unknown): void;
}

export class SharedCheckpointWaits {
  private readonly waits = new Set<Wait>();
  private polling = false;

  constructor(private readonly options: SharedCheckpointWaitsOptions) {}

  /** Resolves once the shared checkpoint is at or past `position`; refused at once if the leader holds at or before it. */
  wait(position: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waits.add({ position, deadline: Date.now() + timeoutMs, timeoutMs, resolve, reject });
      void this.poll();
    });
  }

  /** How many waits are in flight (for tests and metrics). */
  get size(): number {
    return this.waits.size;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      while (this.waits.size > 0) {
        if (this.handOver()) break;
        const { saved, held } = await this.options.read();
        let heldTold = false;
        for (const wait of this.waits) {
          if (saved && saved >= wait.position) this.settle(wait);
          else if (held && held <= wait.position) {
            if (!heldTold) this.options.onHold(held);
            heldTold = true;
            this.settle(wait, this.options.heldError(held));
          } else if (Date.now() >= wait.deadline) this.settle(wait, this.options.timeoutError(wait.position, wait.timeoutMs));
        }
        if (this.waits.size > 0) await new Promise((resolve) => setTimeout(resolve, this.options.pollMs ?? 25));
      }
    } catch (error) {
      // The store could not be read: every wait in flight hears it, as each did when it polled alone.
      for (const wait of this.waits) this.settle(wait, error);
    } finally {
      this.polling = false;
    }
  }

  /** This instance leads now: each wait continues on its own wait for the position. */
  private handOver(): boolean {
    for (const wait of this.waits) {
      const own = this.options.ownWait(wait.position, Math.max(1, wait.deadline - Date.now()));
      if (!own) return false;
      this.waits.delete(wait);
      own.then(wait.resolve, wait.reject);
    }
    return true;
  }

  private settle(wait: Wait, error?: unknown): void {
    this.waits.delete(wait);
    if (error === undefined) wait.resolve();
    else wait.reject(error);
  }
}
