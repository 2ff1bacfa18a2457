/**
 * Commands whose events are committed but which the read models did not confirm (they retry a
 * storage error, or were slower than the command's wait), by the correlationId of the request
 * that sent them, for its answer to say so (graphql-options.ts, `extensions.readModels`). Kept
 * here rather than in an AsyncLocalStorage: on Node 20 one turns on async hooks for every promise
 * of the process, and the request path lost 8-12% of its throughput to them (npm run bench -- e2e,
 * four alternating pairs). Bounded: entries nobody takes (reactions carry their cause's
 * correlationId too) are dropped oldest first.
 */
export interface UnconfirmedWrite {
  position: string;
  reason: string;
}

const MAX_ENTRIES = 1_000;
const byCorrelation = new Map<string, UnconfirmedWrite>();

/** The first unconfirmed write of a request (its answer names that one). */
export function noteUnconfirmed(correlationId: string, write: UnconfirmedWrite): void {
  if (byCorrelation.has(correlationId)) return;
  byCorrelation.set(correlationId, write);
  if (byCorrelation.size > MAX_ENTRIES) byCorrelation.delete(byCorrelation.keys().next().value!);
}

/** What a request's commands left unconfirmed, forgotten once taken. */
export function takeUnconfirmed(correlationId: string): UnconfirmedWrite | undefined {
  const write = byCorrelation.get(correlationId);
  if (write) byCorrelation.delete(correlationId);
  return write;
}
