/** An incident or fraud at another firm (Art. 15(3): 他者における不正、不祥事件), cited by risks. */
import { streamCategory } from '../../shared/domain/guards.js';

/** One stream per incident: `incident-<uuid>`. Incidents are never deleted. */
export const incidentStreams = streamCategory('incident');
export const incidentStreamId = (incidentId: string): string => incidentStreams.streamOf(incidentId);

export interface IncidentState {
  exists: boolean;
  id: string;
  /** Revision of the stream's last event; -1 before it is recorded. */
  version: number;
  title: string;
  organisation: string;
  occurredOn: string;
  description: string;
  sources: string[];
  recordedBy: string;
  recordedAt: string;
  /** The risks it is linked to now, in the order they were linked. */
  riskIds: string[];
  /** The last unlink of each risk it was linked to and is not now (a retry of it changes nothing; another reason is refused). */
  unlinked: Record<string, IncidentUnlink>;
}

/** Why, by whom and when a link to a risk was removed. */
export interface IncidentUnlink {
  reason: string;
  by: string;
  at: string;
}

/** What the link decision needs to know of the risk (read from the risk's stream). */
export interface RiskRef {
  exists: boolean;
  ownerId: string;
}
