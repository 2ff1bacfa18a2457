/**
 * Events of the organisation's context (Art. 12(1)): the storage contract. Never edited; a new
 * shape gets a new schema version and an upcaster.
 */

/** One version of the context: the whole of it, as recorded (a later version replaces it). */
export interface ContextRecorded {
  type: 'ContextRecorded';
  data: {
    contextId: string;
    /** 1 for the first version, then + 1 each time. */
    version: number;
    period: string;
    scope: string;
    internalIssues: string[];
    externalIssues: string[];
    interestedParties: string[];
    recordedBy: string;
    recordedAt: string;
  };
}

export type ContextEvent = ContextRecorded;
export type ContextEventType = ContextEvent['type'];

export const contextEventSchemaVersions: Record<ContextEventType, number> = {
  ContextRecorded: 1,
};

/** Turns stored data of any known schema version into the current shape (identity today: the seam for later shapes). */
export function upcastContextEvent(type: string, schemaVersion: number, data: unknown): ContextEvent {
  if (!(type in contextEventSchemaVersions)) throw new Error(`Unknown context event type ${type}`);
  const current = contextEventSchemaVersions[type as ContextEventType];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new Error(`Unsupported schema version ${schemaVersion} of ${type} (current ${current})`);
  }
  return { type, data } as ContextEvent;
}
