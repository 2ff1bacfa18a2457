/**
 * The stored snapshots of the read models for time travel (replay-snapshots.ts) that the
 * ProjectionRunner leaves every `every` events it commits (projection-runner.ts,
 * storeReplaySnapshots): built by the worker thread from one committed state while the
 * projections go on, or on the event loop without a worker (an in-memory database).
 */
import type { RecordedEvent } from '../event-store/event-store.port.js';
import { tablesLeftOutOfReplays, type Projection } from './projection.js';
import type { ReadDb } from './read-model-database.js';
import type { ReadModelWorker } from './read-model-worker.js';
import { openableImage, shapeOf, snapshotImage, type ReplaySnapshotMeta, type ReplaySnapshotStore } from './replay-snapshots.js';

/** Pages remembered while the worker builds a snapshot image (it takes a fraction of a second). */
const MAX_PENDING_ENDS = 10_000;

export class ReplaySnapshotWriter {
  /** Stored snapshots of the read models for time travel (see ProjectionRunner.storeReplaySnapshots). */
  private replaySnapshots?: { store: ReplaySnapshotStore; every: number; shape: string; since: number };
  /** A snapshot image being built by the worker, and the page ends committed since it was asked for (what it may hold). */
  private pendingSnapshot?: { done: Promise<void>; ends: Map<string, ReplaySnapshotMeta> };
  /** Without a worker: the last snapshot being written (stop() lets it finish). */
  private inlineSnapshot?: Promise<void>;

  constructor(
    private readonly db: ReadDb,
    private readonly projections: Projection[],
    /** The runner's worker (none for an in-memory database, or while stopped). */
    private readonly worker: () => ReadModelWorker | null,
    /** Logs a snapshot that could not be stored (an optimisation only). */
    private readonly failed: (error: unknown) => void,
  ) {}

  store(store: ReplaySnapshotStore, every: number): void {
    if (every > 0) this.replaySnapshots = { store, every, shape: shapeOf(this.projections), since: 0 };
  }

  /** The snapshot being built is stored (or given up): ProjectionRunner.stop() waits for it before the worker goes. */
  async settled(): Promise<void> {
    await this.pendingSnapshot?.done;
    await this.inlineSnapshot;
  }

  /** `count` events up to `end` are committed (ProjectionRunner.committed): a snapshot every `every` events. */
  committed(count: number, end: RecordedEvent, previous: string | null): void {
    const snapshots = this.replaySnapshots;
    if (!snapshots) return;
    snapshots.since += count;
    const meta = (): ReplaySnapshotMeta => ({ head: { position: end.position, recordedAt: end.recordedAt, hash: end.hash, chainHash: end.chainHash ?? null }, previousPosition: previous, shape: snapshots.shape });
    const pending = this.pendingSnapshot;
    // The worker's image holds one of the pages committed since it was asked for.
    if (pending && pending.ends.size < MAX_PENDING_ENDS) pending.ends.set(end.position, meta());
    if (snapshots.since < snapshots.every) return;
    snapshots.since = 0;
    if (this.worker()) {
      if (!pending) this.snapshotOffLoop(snapshots.store, meta());
      return;
    }
    try {
      // Without the history tables, which replays read from the live read models.
      this.inlineSnapshot = snapshots.store.save(meta(), snapshotImage(this.db, this.projections)).catch(this.failed);
    } catch (error) {
      this.failed(error);
    }
  }

  /** Has the worker build the image; stores it with the head of the page it holds (its checkpoints tell which). */
  private snapshotOffLoop(store: ReplaySnapshotStore, asked: ReplaySnapshotMeta): void {
    const ends = new Map([[asked.head.position, asked]]);
    const history = tablesLeftOutOfReplays(this.projections);
    const done = this.worker()!.image(history).then(
      ({ checkpoints, image }) => {
        const at = new Map(checkpoints.map((c) => [c.name, c.position]));
        const positions = new Set(this.projections.map((p) => at.get(p.name) ?? null));
        const [position] = positions;
        const meta = positions.size === 1 && position ? ends.get(position) : undefined;
        // Not one of the pages applied since (a rebuild reset it, or too many pages): not stored.
        if (meta) return store.save(meta, openableImage(image));
      },
    ).catch(this.failed).finally(() => {
      if (this.pendingSnapshot?.done === done) this.pendingSnapshot = undefined;
    });
    this.pendingSnapshot = { done, ends };
  }
}
