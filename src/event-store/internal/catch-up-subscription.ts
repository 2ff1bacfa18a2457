/**
 * The catch-up subscription loop shared by the adapters: read a page after the checkpoint,
 * deliver it in order (awaiting the handler), and when the log is exhausted wait for a wake-up
 * from the local writer or for the poll interval (which also picks up other processes' writes).
 */
import type { RecordedEvent, SubscribeOptions, SubscriptionHandle } from '../event-store.port.js';
import { InvalidPositionError, isPosition } from '../hash-chain.js';

/**
 * Edge-free wake-up signal. `generation` grows on every notify(); a waiter that passes the
 * generation it saw before reading returns at once if something was committed in between, so a
 * commit between "page was empty" and "start waiting" is never missed.
 */
export class WakeSignal {
  private gen = 0;
  private waiters = new Set<() => void>();

  get generation(): number {
    return this.gen;
  }

  notify(): void {
    this.gen++;
    if (this.waiters.size === 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  /** Resolves on the next notify() after `seenGeneration`, after `timeoutMs`, or on cancel(). */
  wait(seenGeneration: number, timeoutMs: number): { promise: Promise<void>; cancel: () => void } {
    if (this.gen !== seenGeneration) return { promise: Promise.resolve(), cancel: () => {} };
    let done!: () => void;
    let timer: NodeJS.Timeout | undefined;
    const promise = new Promise<void>((resolve) => {
      done = () => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
    });
    this.waiters.add(done);
    if (Number.isFinite(timeoutMs)) {
      timer = setTimeout(done, Math.max(0, timeoutMs));
    }
    return { promise, cancel: done };
  }
}

export interface CatchUpSource {
  /** Up to `maxCount` events strictly after `after` (null: from the start), in log order. */
  readPage(after: string | null, maxCount: number): Promise<RecordedEvent[]> | RecordedEvent[];
  wake: WakeSignal;
  /** How long to sleep when caught up if nobody wakes the loop (Infinity: only on wake-up). */
  pollIntervalMs: number;
  defaultBatchSize: number;
}

export interface ManagedSubscription extends SubscriptionHandle {
  /** Resolves when the loop has ended for any reason (close, handler error, read error). */
  readonly ended: Promise<void>;
}

export function startCatchUpSubscription(source: CatchUpSource, options: SubscribeOptions): ManagedSubscription {
  const batchSize = options.batchSize ?? source.defaultBatchSize;
  let closed = false;
  let cancelWait: (() => void) | null = null;

  const report = (error: unknown): void => {
    if (options.onError) {
      try {
        options.onError(error);
      } catch {
        // an onError that throws must not turn into an unhandled rejection
      }
    } else {
      process.emitWarning(`event store subscription stopped: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const loop = async (): Promise<void> => {
    let checkpoint = options.from ?? null;
    if (checkpoint !== null && !isPosition(checkpoint)) throw new InvalidPositionError(checkpoint); // -> onError
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
    while (!closed) {
      const seen = source.wake.generation;
      const page = await source.readPage(checkpoint, batchSize);
      if (closed) break;
      if (page.length === 0) {
        try {
          options.onCaughtUp?.();
        } catch {
          // a report, never a reason to stop following
        }
        const w = source.wake.wait(seen, source.pollIntervalMs);
        cancelWait = w.cancel;
        await w.promise;
        cancelWait = null;
        continue;
      }
      if (options.onBatch) {
        await options.onBatch(page);
        checkpoint = page[page.length - 1]!.position;
      } else {
        for (const event of page) {
          if (closed) break;
          await options.onEvent(event);
          checkpoint = event.position;
        }
      }
      // Let other work (appends, timers) run between pages of a long catch-up.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };

  const ended = loop().catch((error: unknown) => {
    closed = true;
    report(error);
  });

  return {
    ended,
    close: async () => {
      closed = true;
      cancelWait?.();
      await ended;
    },
  };
}

/**
 * A catch-up subscription kept in `open` (the store closes those still open when it closes) and
 * removed from it when it ends: what every adapter's subscribeToAll does.
 */
export function trackedSubscription(open: Set<ManagedSubscription>, source: CatchUpSource, options: SubscribeOptions): SubscriptionHandle {
  const sub = startCatchUpSubscription(source, options);
  open.add(sub);
  void sub.ended.then(() => open.delete(sub));
  return { close: () => sub.close() };
}
