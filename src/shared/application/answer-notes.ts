/**
 * What a request's commands leave for its answer and its access-log entry, by the answer's id:
 * what the read models did not confirm (unconfirmed-writes.ts), and the last event they committed
 * (committed-writes.ts). Kept in maps rather than in an AsyncLocalStorage: on Node 20 one turns on
 * async hooks for every promise of the process, and the request path lost 8-12% of its throughput
 * to them (npm run bench -- e2e, four alternating pairs). Bounded: notes nobody takes (a request
 * answered without an access log, an upload's unconfirmed write) are dropped oldest first.
 *
 * Keyed by an id the server gives each answer (newAnswerId), never by the correlationId: over
 * HTTP that is the client's x-request-id, which any number of requests may share, and 30
 * concurrent writes sharing one got the flag on 2 answers (probe F5); an id reused after an
 * upload, whose answer says nothing of it, got that upload's flag on a clean answer.
 */
const MAX_ENTRIES = 1_000;
let answers = 0;

/**
 * A new answer's id, for one GraphQL request, graphql-ws operation or upload, carried to its
 * commands in their RequestMeta. Only compared within this process, never sent anywhere.
 */
export function newAnswerId(): string {
  return `answer-${++answers}`;
}

const ofRequests = new WeakMap<object, string>();

/**
 * The answer id of an HTTP request outside GraphQL (an evidence upload): its controller gives it
 * to the command, and the access log's middleware takes the command's note for the request's entry.
 */
export function answerIdOfRequest(req: object): string {
  let id = ofRequests.get(req);
  if (id === undefined) ofRequests.set(req, (id = newAnswerId()));
  return id;
}

/** One kind of note, by answer id: `merge` decides what a second note of the same answer leaves. */
export class AnswerNotes<T> {
  private readonly byAnswer = new Map<string, T>();

  constructor(private readonly merge: (noted: T, next: T) => T) {}

  note(answerId: string, value: T): void {
    const noted = this.byAnswer.get(answerId);
    this.byAnswer.set(answerId, noted === undefined ? value : this.merge(noted, value));
    if (this.byAnswer.size > MAX_ENTRIES) this.byAnswer.delete(this.byAnswer.keys().next().value!);
  }

  /** The answer's note, forgotten once taken. */
  take(answerId: string): T | undefined {
    const value = this.byAnswer.get(answerId);
    if (value !== undefined) this.byAnswer.delete(answerId);
    return value;
  }
}
