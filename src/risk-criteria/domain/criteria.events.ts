/**
 * Events of the risk-criteria register (the one stream CRITERIA_STREAM, Art. 13): the storage
 * contract: never edited; a new shape gets a new schema version and an upcaster.
 */
import type { CriteriaDefinition } from './criteria.state.js';

export interface RiskCriteriaProposed {
  type: 'RiskCriteriaProposed';
  data: CriteriaDefinition & {
    criteriaId: string;
    number: number;
    proposedBy: string;
    proposedAt: string;
  };
}

export interface RiskCriteriaApproved {
  type: 'RiskCriteriaApproved';
  data: {
    criteriaId: string;
    number: number;
    approvedBy: string;
    approvedAt: string;
    /** Id of the version that was in force until now (absent for the first approval). */
    supersedes?: string;
  };
}

export interface RiskCriteriaSuperseded {
  type: 'RiskCriteriaSuperseded';
  data: {
    criteriaId: string;
    number: number;
    supersededBy: string;
    supersededAt: string;
  };
}

export type CriteriaEvent = RiskCriteriaProposed | RiskCriteriaApproved | RiskCriteriaSuperseded;
export type CriteriaEventType = CriteriaEvent['type'];

export const criteriaEventSchemaVersions: Record<CriteriaEventType, number> = {
  RiskCriteriaProposed: 1,
  RiskCriteriaApproved: 1,
  RiskCriteriaSuperseded: 1,
};

/** Turns stored data of any known schema version into the current shape (identity today: the seam for later shapes). */
export function upcastCriteriaEvent(type: string, schemaVersion: number, data: unknown): CriteriaEvent {
  if (!(type in criteriaEventSchemaVersions)) throw new Error(`Unknown risk-criteria event type ${type}`);
  const current = criteriaEventSchemaVersions[type as CriteriaEventType];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new Error(`Unsupported schema version ${schemaVersion} of ${type} (current ${current})`);
  }
  return { type, data } as CriteriaEvent;
}
