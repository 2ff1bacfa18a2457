import type { EventStore, RecordedEvent, SubscriptionHandle } from '../../event-store/event-store.port.js';
import type { JsonLogger } from '../logging/json-logger.js';

type Listener = (event: RecordedEvent) => void;

/**
 * Fans the store's live tail out to GraphQL subscribers. One store subscription (from the head
 * at start-up) serves every subscriber, so subscribers see exactly what was committed, in log
 * order, and the in-process event bus plays no part.
 */
export class LiveEvents {
  private readonly listeners = new Set<Listener>();
  private handle?: SubscriptionHandle;

  constructor(private readonly store: EventStore, private readonly log: JsonLogger) {}

  async start(): Promise<void> {
    const from = await this.store.headPosition();
    this.handle = this.store.subscribeToAll({
      from,
      onEvent: (event) => {
        for (const l of this.listeners) {
          try {
            l(event);
          } catch (error) {
            this.log.warn('live event listener failed', { error: String(error) });
          }
        }
      },
      onError: (error) => this.log.error('live event feed stopped', { error: String(error) }),
    });
  }

  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An async iterator of the events that pass `filter`, for a GraphQL subscription. */
  iterator<T>(filter: (e: RecordedEvent) => boolean, map: (e: RecordedEvent) => T): AsyncIterableIterator<T> {
    const queue: T[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const unlisten = this.listen((e) => {
      if (!filter(e)) return;
      queue.push(map(e));
      wake?.();
    });
    const finish = () => {
      done = true;
      unlisten();
      wake?.();
    };
    const it: AsyncIterableIterator<T> = {
      next: async () => {
        while (!done && queue.length === 0) await new Promise<void>((r) => (wake = r));
        if (queue.length) return { value: queue.shift()!, done: false };
        return { value: undefined, done: true };
      },
      return: async () => {
        finish();
        return { value: undefined, done: true };
      },
      throw: async (error?: unknown) => {
        finish();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }

  async stop(): Promise<void> {
    await this.handle?.close();
    this.listeners.clear();
  }
}
