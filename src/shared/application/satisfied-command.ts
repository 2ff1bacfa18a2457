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

export interface CommandFoundSatisfiedData {
  /** The command's own stream. */
  streamId: string;
  /** Its version when the command was decided on it and found satisfied (-1: no such stream). */
  version: number;
}

/** The event family of the acknowledgement (EventUpcasters always declares it: it is no feature's). */
export const SATISFIED_COMMAND_EVENTS = {
  schemaVersions: { [COMMAND_FOUND_SATISFIED]: 1 } as Record<string, number>,
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
