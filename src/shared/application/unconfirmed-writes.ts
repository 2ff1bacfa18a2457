/**
 * Commands whose events are committed but which the read models did not confirm (they retry a
 * storage error, or were slower than the command's wait), by the answer that is to say so
 * (graphql-options.ts, `extensions.readModels`). Kept here rather than in an AsyncLocalStorage:
 * on Node 20 one turns on async hooks for every promise of the process, and the request path lost
 * 8-12% of its throughput to them (npm run bench -- e2e, four alternating pairs). Bounded: entries
 * nobody takes are dropped oldest first.
 *
 * Keyed by an id the server gives each answer (newAnswerId), never by the correlationId: over
 * HTTP that is the client's x-request-id, which any number of requests may share, and 30
 * concurrent writes sharing one got the flag on 2 answers (probe F5); an id reused after an
 * upload, whose answer says nothing of it, got that upload's flag on a clean answer.
 */
export interface UnconfirmedWrite {
  position: string;
  reason: string;
}

const MAX_ENTRIES = 1_000;
const byAnswer = new Map<string, UnconfirmedWrite>();
let answers = 0;

/**
 * A new answer's id, for one GraphQL request or graphql-ws operation (its context), carried to
 * its commands in their RequestMeta. Only compared within this process, never sent anywhere.
 */
export function newAnswerId(): string {
  return `answer-${++answers}`;
}

/** The first unconfirmed write of an answer's commands (the answer names that one). */
export function noteUnconfirmed(answerId: string, write: UnconfirmedWrite): void {
  if (byAnswer.has(answerId)) return;
  byAnswer.set(answerId, write);
  if (byAnswer.size > MAX_ENTRIES) byAnswer.delete(byAnswer.keys().next().value!);
}

/** What an answer's commands left unconfirmed, forgotten once taken. */
export function takeUnconfirmed(answerId: string): UnconfirmedWrite | undefined {
  const write = byAnswer.get(answerId);
  if (write) byAnswer.delete(answerId);
  return write;
}
