/**
 * The last event a request's commands committed, by its answer (answer-notes.ts), for the
 * request's access-log entry: the entry names it (AccessRecord.committed), so that an entry whose
 * event is gone from the event log (the log rolled back to an older copy, the access log kept)
 * shows in verifyAccessLog (access-log-crosscheck.ts). The highest position of the request's
 * commands: the log cut back anywhere below it loses that event.
 */
import { AnswerNotes } from './answer-notes.js';

export interface CommittedWrite {
  /** The event's position in the global log (opaque, ordered as strings). */
  position: string;
  eventId: string;
}

const committed = new AnswerNotes<CommittedWrite>((noted, next) => (next.position > noted.position ? next : noted));

export function noteCommitted(answerId: string, write: CommittedWrite): void {
  committed.note(answerId, write);
}

/** What an answer's commands committed last, forgotten once taken. */
export function takeCommitted(answerId: string): CommittedWrite | undefined {
  return committed.take(answerId);
}
