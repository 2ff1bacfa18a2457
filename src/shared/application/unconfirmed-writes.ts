/**
 * Commands whose events are committed but which the read models did not confirm (they retry a
 * storage error, or were slower than the command's wait), by the answer that is to say so
 * (graphql-options.ts, `extensions.readModels`; why by answer id: answer-notes.ts).
 */
import { AnswerNotes } from './answer-notes.js';

export { newAnswerId } from './answer-notes.js';

export interface UnconfirmedWrite {
  position: string;
  reason: string;
}

/** The first unconfirmed write of an answer's commands: the answer names that one. */
const unconfirmed = new AnswerNotes<UnconfirmedWrite>((first) => first);

export function noteUnconfirmed(answerId: string, write: UnconfirmedWrite): void {
  unconfirmed.note(answerId, write);
}

/** What an answer's commands left unconfirmed, forgotten once taken. */
export function takeUnconfirmed(answerId: string): UnconfirmedWrite | undefined {
  return unconfirmed.take(answerId);
}
