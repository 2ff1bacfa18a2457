/**
 * Events of the InformationSecurityManagementPlan aggregate (stream `plan-<id>`): the storage
 * contract: never edited; a new shape gets a new schema version and an upcaster.
 *
 * Events are plain JSON (no `undefined`, no Date): optional values are `null` in event data.
 */
import type { DomainEvent } from '../../shared/domain/decider.js';
import type { BoardDecision, ConsentStatus, SubmissionCriteria } from './plan.state.js';

/** Why an in-force plan stopped being in force. */
export type PlanLeftForceCause = 'CONSENT_DECLINED' | 'CONSENT_STALE' | 'ITEM_REOPENED';

export type PlanDrafted = DomainEvent<
  'PlanDrafted',
  { planId: string; title: string; period: string; draftedBy: string; draftedAt: string }
>;

export type PlanRiskAdded = DomainEvent<
  'PlanRiskAdded',
  {
    riskId: string;
    ownerId: string;
    riskTitle: string;
    riskVersion: number;
    riskStateHash: string;
    revision: number;
    addedBy: string;
    addedAt: string;
  }
>;

export type PlanSubmitted = DomainEvent<
  'PlanSubmitted',
  {
    revision: number;
    riskIds: string[];
    /** Per risk, the residual level its owner will be asked to accept (absent in events before it was recorded). */
    residualLevels?: Record<string, string | null>;
    /** The risk criteria in force at submission (absent in events before it was recorded, and when none was in force). */
    criteria?: SubmissionCriteria;
    submittedBy: string;
    submittedAt: string;
  }
>;

export type BoardResolutionRecorded = DomainEvent<
  'BoardResolutionRecorded',
  {
    resolutionNumber: string;
    meetingDate: string;
    decision: BoardDecision;
    minutesReference: string;
    notes: string | null;
    revision: number;
    recordedBy: string;
    recordedAt: string;
  }
>;

export type PlanApproved = DomainEvent<
  'PlanApproved',
  {
    revision: number;
    resolutionNumber: string;
    /** Who must now be told the plan and asked for consent (Art. 20). */
    items: { riskId: string; ownerId: string }[];
    approvedAt: string;
  }
>;

export type PlanReturnedToDraft = DomainEvent<
  'PlanReturnedToDraft',
  { revision: number; previousRevision: number; resolutionNumber: string; returnedAt: string }
>;

export type ResidualRiskAccepted = DomainEvent<
  'ResidualRiskAccepted',
  {
    riskId: string;
    ownerId: string;
    statement: string;
    riskVersion: number;
    riskStateHash: string;
    riskLevel: string | null;
    /** The residual level accepted (absent in events before it was recorded). */
    residualLevel?: string | null;
    planVersion: number;
    planRevision: number;
    criteriaNumber: number | null;
    acceptedAt: string;
  }
>;

export type ResidualRiskDeclined = DomainEvent<
  'ResidualRiskDeclined',
  {
    riskId: string;
    ownerId: string;
    reason: string;
    riskVersion: number;
    riskStateHash: string;
    planVersion: number;
    planRevision: number;
    declinedAt: string;
  }
>;

export type ResidualConsentBecameStale = DomainEvent<
  'ResidualConsentBecameStale',
  {
    riskId: string;
    ownerId: string;
    /** The risk version that changed materially. */
    riskVersion: number;
    /** The risk version the (now stale) consent was pinned to. */
    consentedRiskVersion: number;
    reason: string;
    markedAt: string;
  }
>;

export type PlanCameIntoForce = DomainEvent<
  'PlanCameIntoForce',
  {
    revision: number;
    /** The consents that put the plan in force. */
    consents: { riskId: string; ownerId: string; riskVersion: number; riskStateHash: string }[];
    cameIntoForceAt: string;
  }
>;

export type PlanLeftForce = DomainEvent<
  'PlanLeftForce',
  { riskId: string; cause: PlanLeftForceCause; reason: string; leftAt: string }
>;

export type PlanWithdrawn = DomainEvent<
  'PlanWithdrawn',
  { revision: number; previousRevision: number; reason: string; withdrawnBy: string; withdrawnAt: string }
>;

export type PlanClosed = DomainEvent<'PlanClosed', { reason: string; closedBy: string; closedAt: string }>;

export type PlanRiskRemoved = DomainEvent<
  'PlanRiskRemoved',
  { riskId: string; reason: string; consent: ConsentStatus; removedBy: string; removedAt: string }
>;

/** A review found a gap (Art. 12(3)): the risk is being assessed again, this item no longer counts. */
export type PlanItemReopened = DomainEvent<
  'PlanItemReopened',
  { riskId: string; riskVersion: number; reviewId: string; reopenedAt: string }
>;

/**
 * The item's risk was closed (avoided, Art. 17) after it was added: there is no residual risk left
 * for its owner to accept, and the owner can no longer answer (RISK_CLOSED). Learnt from the risk's
 * RiskClosed; the item stays until the committee removes it (removeRiskFromPlan), the plan out of
 * force meanwhile unless it is removed.
 */
export type PlanItemRiskClosed = DomainEvent<
  'PlanItemRiskClosed',
  { riskId: string; riskVersion: number; reason: 'AVOIDED'; closedAt: string; markedAt: string }
>;

/**
 * The item's risk has a new owner (Art. 14(1), reassignRiskOwner): the item names who alone may
 * consent now. Learnt from the risk's RiskOwnerReassigned; a consent the former owner gave or was
 * asked for goes STALE by the same change (ResidualConsentBecameStale, its record naming who gave it).
 */
export type PlanItemOwnerChanged = DomainEvent<
  'PlanItemOwnerChanged',
  { riskId: string; riskVersion: number; previousOwnerId: string; ownerId: string; changedAt: string }
>;

/**
 * Art. 20: the committee explained the plan and the residual risk to be accepted to the item's
 * owner, on `explainedOn`, as `summary` says. The owner's answer stays theirs (on the risk); this
 * records that, and how, they were told. `riskVersion` and `riskStateHash` (the consent
 * fingerprint) pin the risk's state when the explanation was recorded, as an answer pins its own.
 */
export type ResidualRiskExplained = DomainEvent<
  'ResidualRiskExplained',
  {
    riskId: string;
    planRevision: number;
    ownerId: string;
    explainedBy: string;
    /** YYYY-MM-DD (Japan): not after the day it was recorded, not before the approving board meeting. */
    explainedOn: string;
    summary: string;
    riskVersion: number;
    riskStateHash: string;
    /** The level the owner is asked to accept (the item's residualLevel then). */
    residualLevel: string | null;
    recordedAt: string;
  }
>;

export type PlanEvent =
  | PlanDrafted
  | PlanRiskAdded
  | PlanSubmitted
  | BoardResolutionRecorded
  | PlanApproved
  | PlanReturnedToDraft
  | ResidualRiskAccepted
  | ResidualRiskDeclined
  | ResidualConsentBecameStale
  | PlanCameIntoForce
  | PlanLeftForce
  | PlanWithdrawn
  | PlanClosed
  | PlanRiskRemoved
  | PlanItemReopened
  | PlanItemRiskClosed
  | PlanItemOwnerChanged
  | ResidualRiskExplained;

export type PlanEventType = PlanEvent['type'];

/** Schema version of each event's data shape (what the application writes as `schemaVersion`). */
export const planEventSchemaVersions: { readonly [K in PlanEventType]: number } = {
  PlanDrafted: 1,
  PlanRiskAdded: 1,
  PlanSubmitted: 1,
  BoardResolutionRecorded: 1,
  PlanApproved: 1,
  PlanReturnedToDraft: 1,
  ResidualRiskAccepted: 1,
  ResidualRiskDeclined: 1,
  ResidualConsentBecameStale: 1,
  PlanCameIntoForce: 1,
  PlanLeftForce: 1,
  PlanWithdrawn: 1,
  PlanClosed: 1,
  PlanRiskRemoved: 1,
  PlanItemReopened: 1,
  PlanItemRiskClosed: 1,
  PlanItemOwnerChanged: 1,
  ResidualRiskExplained: 1,
};

export const PLAN_EVENT_TYPES = Object.keys(planEventSchemaVersions) as PlanEventType[];

export function isPlanEventType(type: string): type is PlanEventType {
  return Object.prototype.hasOwnProperty.call(planEventSchemaVersions, type);
}

/**
 * Turns a stored event (any schema version ever written) into the current shape. Identity today:
 * every type is at version 1. Throws on a type this aggregate does not know or a version newer
 * than this code (a reader must never silently misread the log).
 */
export function upcastPlanEvent(type: string, schemaVersion: number, data: unknown): PlanEvent {
  if (!isPlanEventType(type)) throw new Error(`Unknown plan event type ${type}`);
  const current = planEventSchemaVersions[type];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new Error(`Unsupported schema version ${schemaVersion} of ${type} (this code reads up to ${current})`);
  }
  return { type, data } as PlanEvent;
}
