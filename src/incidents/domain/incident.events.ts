/**
 * Events of incidents at other firms (Art. 15(3)), one stream per incident: the storage contract.
 * Never edited; a new shape gets a new schema version and an upcaster. The incident's stream also
 * owns its links to risks: its version check orders every link and unlink of that incident.
 */

export interface IncidentRecorded {
  type: 'IncidentRecorded';
  data: {
    incidentId: string;
    title: string;
    /** The firm where it happened. */
    organisation: string;
    /** YYYY-MM-DD. */
    occurredOn: string;
    description: string;
    /** Where it is reported (press, the association's notices, a regulator's action). */
    sources: string[];
    recordedBy: string;
    recordedAt: string;
  };
}

export interface IncidentLinkedToRisk {
  type: 'IncidentLinkedToRisk';
  data: { incidentId: string; riskId: string; linkedBy: string; linkedAt: string };
}

export interface IncidentUnlinkedFromRisk {
  type: 'IncidentUnlinkedFromRisk';
  data: { incidentId: string; riskId: string; reason: string; unlinkedBy: string; unlinkedAt: string };
}

export type IncidentEvent = IncidentRecorded | IncidentLinkedToRisk | IncidentUnlinkedFromRisk;
export type IncidentEventType = IncidentEvent['type'];

export const incidentEventSchemaVersions: Record<IncidentEventType, number> = {
  IncidentRecorded: 1,
  IncidentLinkedToRisk: 1,
  IncidentUnlinkedFromRisk: 1,
};

/** Turns stored data of any known schema version into the current shape (identity today: the seam for later shapes). */
export function upcastIncidentEvent(type: string, schemaVersion: number, data: unknown): IncidentEvent {
  if (!(type in incidentEventSchemaVersions)) throw new Error(`Unknown incident event type ${type}`);
  const current = incidentEventSchemaVersions[type as IncidentEventType];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new Error(`Unsupported schema version ${schemaVersion} of ${type} (current ${current})`);
  }
  return { type, data } as IncidentEvent;
}
