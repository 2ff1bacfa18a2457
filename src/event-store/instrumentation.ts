/**
 * What the event store reports about its appends, for metrics. The store knows nothing of
 * Prometheus: the platform hands it an implementation (src/platform/observability/metrics.ts);
 * without one nothing is measured.
 */
import { WrongExpectedVersionError, type EventStore } from './event-store.port.js';

export type AppendOutcome = 'ok' | 'conflict' | 'error';

export interface EventStoreInstrumentation {
  /** One call of append or appendMultiple: how long it took, how many events it was given, how it ended (and why, when it failed). */
  appended(sample: { seconds: number; events: number; outcome: AppendOutcome; error?: unknown }): void;
}

export const NO_EVENT_STORE_INSTRUMENTATION: EventStoreInstrumentation = { appended: () => {} };

/**
 * Measures every append of `store`, whatever its adapter, by wrapping its two append methods on
 * the instance (the store stays the same object: its adapter name and other methods are
 * untouched). Returns the store.
 */
export function instrumentAppends<S extends EventStore>(store: S, instrumentation: EventStoreInstrumentation): S {
  const append = store.append.bind(store);
  const appendMultiple = store.appendMultiple.bind(store);
  const measure = async <T>(events: number, run: () => Promise<T>): Promise<T> => {
    const started = process.hrtime.bigint();
    let outcome: AppendOutcome = 'error';
    let failure: unknown;
    try {
      const result = await run();
      outcome = 'ok';
      return result;
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) outcome = 'conflict';
      failure = error;
      throw error;
    } finally {
      try {
        instrumentation.appended({ seconds: Number(process.hrtime.bigint() - started) / 1e9, events, outcome, ...(outcome === 'error' ? { error: failure } : {}) });
      } catch {
        // measuring never breaks an append
      }
    }
  };
  store.append = (streamId, events, options) => measure(Array.isArray(events) ? events.length : 0, () => append(streamId, events, options));
  store.appendMultiple = (parts, options) =>
    measure(Array.isArray(parts) ? parts.reduce((n, p) => n + (Array.isArray(p?.events) ? p.events.length : 0), 0) : 0, () => appendMultiple(parts, options));
  return store;
}
