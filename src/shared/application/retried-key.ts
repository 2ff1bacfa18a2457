import type { RecordedEvent } from '../../event-store/event-store.port.js';

const UUID_SUFFIX = /^(.*)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** 'asset-<uuid>' → 'asset': streams of one aggregate type share the prefix before the id; other streams are their own kind. */
function streamKind(streamId: string): string {
  return UUID_SUFFIX.exec(streamId)?.[1] ?? streamId;
}

/**
 * The refusal of a key used for another kind of command; also what a handler answers when a key
 * recorded before command types were (2026-12-03) comes back with a first append of another kind
 * (an annotations stream takes attachments and comments: upgrade probe F4).
 */
export const ANOTHER_COMMAND = 'was already used for a different kind of command; use a new commandId';

/** The refusal of a key used again for the same command with another input (metadata.commandInput). */
export const ANOTHER_INPUT = 'was already used for this command with another input; a retry sends the same input, a new request needs a new commandId';

/**
 * Why a commandId already recorded does not name this command, or null when this is a retry of
 * it (CommandExecutor answers a retry with its first result). A key used for another command is
 * refused: on another kind of stream, or (since the events name it) another command on the same
 * kind, which answered the first command's result and did nothing (`analyseRisk` then
 * `evaluateRisk` under one key left the risk unevaluated, without an error); and since 2026-12-05
 * the same command on another entity (race probe F2), either another existing stream (a command
 * that makes a new entity names a new stream on each attempt, so only a stream that exists tells
 * the two apart) or, on the same stream, another risk (a plan's item: addRiskToPlan,
 * removeRiskFromPlan, re-probe F2). Since then the command names its subject itself
 * (Decider.subjectOf, recorded as metadata.commandSubject: a plan's item, a risk's control, an
 * incident's link, an asset's threat, a criteria version, an entity's notes: the entity and the
 * file); a key recorded before it is told apart by the events of its first append, which name that
 * part in their data.
 */
/**
 * Whether the kind recorded with a key is this command's (Decider.kindOf: `Type/kind`). A key
 * recorded before kinds were (2026-12-05) names the bare type: taken as this command's, as before.
 */
function sameKind(recorded: string, now: string): boolean {
  return recorded === now || now.startsWith(`${recorded}/`);
}

/** The refusal of a key another user's command holds (one recorded before keys escaped the actor's id: command-key.ts). */
export const ANOTHER_USER = "was already used by another user's command (a key recorded before 2026-12-08); use a new commandId";

export async function keyMisuse(
  first: { streamId: string; events: readonly RecordedEvent[] },
  target: { streamId: string; subject?: string; input?: string; actorId?: string },
  commandType: string,
  targetExists: () => Promise<boolean>,
): Promise<string | null> {
  const recordedActor = first.events[0]?.metadata.actor?.id;
  if (target.actorId !== undefined && recordedActor !== undefined && recordedActor !== target.actorId) return ANOTHER_USER;
  const recordedType = first.events[0]?.metadata.commandType;
  if (streamKind(first.streamId) !== streamKind(target.streamId) || (recordedType !== undefined && commandType !== '' && !sameKind(recordedType, commandType))) {
    return ANOTHER_COMMAND;
  }
  const anotherEntity = 'was already used for the same command on another entity; use a new commandId';
  const recordedSubject = first.events[0]?.metadata.commandSubject;
  if (recordedSubject !== undefined) {
    // The same command type (above) names a subject or none alike.
    if (recordedSubject !== target.subject) return anotherEntity;
  } else if (target.subject !== undefined && !target.subject.split('/').every((id) => first.events.some((e) => Object.values(e.data ?? {}).includes(id)))) {
    // A key recorded before subjects were (or before command types: the command is the same kind):
    // the first append's events name the part they changed in their data (a plan's item its risk,
    // a progress record its control, an approval its version, an attachment its entity and file),
    // so another part is not among them (upgrade probe F3: such a key on another version or threat
    // answered the first and did nothing).
    return anotherEntity;
  }
  if (first.streamId !== target.streamId && (await targetExists())) return anotherEntity;
  // The same command on the same part, with another input (a key recorded before inputs were compares as before).
  const recordedInput = first.events[0]?.metadata.commandInput;
  if (recordedInput !== undefined && target.input !== undefined && recordedInput !== target.input) return ANOTHER_INPUT;
  return null;
}
