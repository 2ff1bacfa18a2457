/**
 * A keyed command found already satisfied (its decision appended nothing) still records its key,
 * against an event of its own: otherwise the key stayed free, and a retry of it after the state
 * moved on was decided afresh and recorded what the first request had not (race probe of
 * 2026-12-07, F1: an acceptance sent again under a new commandId was answered OK with nothing
 * recorded; once a new analysis had made the consent pending again, a retry of that commandId
 * recorded an acceptance of a state the owner never saw). The event names the command's stream
 * and the version it was found satisfied at: a retry answers the stream's state as it stood then,
 * as a retry of a command that appended answers the state right after it.
 */
import { createHash } from 'node:crypto';
import type { RecordedEvent } from '../../event-store/event-store.port.js';

export const COMMAND_FOUND_SATISFIED = 'CommandFoundSatisfied';
/**
 * A keyed command refused by a rule binds its key the same way, to the refusal: sent again it is
 * refused again, as its first result was, never decided afresh once the state would let it
 * through (PostgreSQL race probe of 2026-12-08, High: an acceptance refused CONSENT_STALE while a
 * new analysis was being asked about, retried under its key once the consent was asked again,
 * recorded an Art.20 acceptance of a state the owner never saw; of 8 copies of one key in flight, 3
 * were refused and 5 accepted). Only refusals of the process's rules (RuleViolationError): input
 * refused as malformed, a role, a token or an outage are not decided on the state.
 */
export const COMMAND_REFUSED = 'CommandRefused';

export interface CommandRefusedData extends CommandFoundSatisfiedData {
  rule: string;
  article: string;
  message: string;
}

export interface CommandFoundSatisfiedData {
  /** The command's own stream. */
  streamId: string;
  /** Its version when the command was decided on it and found satisfied (-1: no such stream). */
  version: number;
}

/** The event family of the acknowledgement (EventUpcasters always declares it: it is no feature's). */
export const SATISFIED_COMMAND_EVENTS = {
  schemaVersions: { [COMMAND_FOUND_SATISFIED]: 1, [COMMAND_REFUSED]: 1 } as Record<string, number>,
  upcast: (_type: string, _schemaVersion: number, data: Record<string, unknown>) => data,
};

/** One stream per key, so that two requests with the key race on its creation. */
export function satisfiedCommandStreamId(idempotencyKey: string): string {
  return `satisfied-command-${createHash('sha256').update(idempotencyKey, 'utf8').digest('hex')}`;
}

/** The acknowledgement among the events an idempotency key was recorded with, or null when the key's command appended. */
export function foundSatisfied(events: readonly RecordedEvent[]): CommandFoundSatisfiedData | null {
  const first = events[0];
  if (events.length !== 1 || first?.type !== COMMAND_FOUND_SATISFIED) return null;
  const data = first.data as Partial<CommandFoundSatisfiedData>;
  return typeof data.streamId === 'string' && typeof data.version === 'number' ? { streamId: data.streamId, version: data.version } : null;
}

/** The refusal a key was bound to, among the events it was recorded with, or null. */
export function foundRefused(events: readonly RecordedEvent[]): CommandRefusedData | null {
  const first = events[0];
  if (events.length !== 1 || first?.type !== COMMAND_REFUSED) return null;
  const data = first.data as Partial<CommandRefusedData>;
  return typeof data.streamId === 'string' && typeof data.version === 'number' && typeof data.rule === 'string' && typeof data.article === 'string' && typeof data.message === 'string'
    ? { streamId: data.streamId, version: data.version, rule: data.rule, article: data.article, message: data.message }
    : null;
}
