/**
 * The Risk aggregate's events: its storage contract (stream `risk-<id>`, see `riskStreams`).
 *
 * Recorded events are never edited, renamed or removed: the log is the evidence (Art. 10) and
 * every read model is rebuilt from it. A new shape of an event's data gets a new schema version
 * in `riskEventSchemaVersions` and a branch in `upcastRiskEvent` that turns the old shape into
 * the new one; commands and decisions live elsewhere (risk.commands.ts, the stage files).
 */
import { CRITERIA_STREAM } from '../../risk-criteria/domain/criteria.state.js';
import { streamCategory } from '../../shared/domain/guards.js';
import type { ControlStatus, EvidenceCitation } from './control.state.js';
import type { EvaluationDecision, RiskAnalysis, RiskControl, RiskReview, RiskTreatment } from './risk.state.js';

/** Streams `risk-<id>`; `risk-criteria` (the criteria register) is not a risk. */
export const riskStreams = streamCategory('risk', [CRITERIA_STREAM]);

export function riskStreamId(riskId: string): string {
  return riskStreams.streamOf(riskId);
}

export interface RiskIdentified {
  type: 'RiskIdentified';
  data: {
    riskId: string;
    title: string;
    description: string;
    assetIds: string[];
    threatId: string;
    /** The asset on which the threat is recorded. */
    threatAssetId: string;
    vulnerabilityId: string;
    ownerId: string;
    externalReferences: string[];
    identifiedBy: string;
    identifiedAt: string;
  };
}

/** Everything needed to recompute the level with the recorded criteria version. */
export interface RiskAnalysed {
  type: 'RiskAnalysed';
  data: { riskId: string } & RiskAnalysis;
}

export interface RiskEvaluated {
  type: 'RiskEvaluated';
  data: {
    riskId: string;
    cycle: number;
    criteriaId: string;
    criteriaNumber: number;
    level: string;
    likelihood: number;
    impact: number;
    decision: EvaluationDecision;
    assetValue: number;
    levelRank: number;
    /** When the risk was identified (priority: level, then asset value, then age). */
    identifiedAt: string;
    /** How many analyses of the cycle under these criteria were considered (schema version 2). */
    analysisCount: number;
    /** The analysis whose level was taken (schema version 2; absent when upcast from version 1). */
    topAnalysisId?: string;
    /** Version 1 listed every analysis considered; kept as recorded when upcast. */
    analysisIds?: string[];
    /** Review interval the criteria set for the level, if any. */
    reviewIntervalDays?: number;
    evaluatedBy: string;
    evaluatedAt: string;
  };
}

export interface RiskTreatmentDecided {
  type: 'RiskTreatmentDecided';
  data: { riskId: string; cycle: number } & RiskTreatment;
}

export interface RiskClosed {
  type: 'RiskClosed';
  data: {
    riskId: string;
    /** AVOIDED (Art.17(2)); WITHDRAWN: identified in error or twice, before any treatment (withdrawRisk, since 2026-12-06). */
    reason: 'AVOIDED' | 'WITHDRAWN';
    /** The assets whose business or use is given up (the application retires them, Art. 17(2)); none for a withdrawal. */
    assetIds: string[];
    /** Why the risk was withdrawn (WITHDRAWN only). */
    explanation?: string;
    /** The plan (not CLOSED) the risk was an item of, which learns it (PlanItemRiskClosed); absent when in none, and in version 1. */
    planId?: string;
    closedBy: string;
    closedAt: string;
  };
}

export interface ControlsDecided {
  type: 'ControlsDecided';
  data: { riskId: string; cycle: number; controls: RiskControl[]; decidedBy: string; decidedAt: string };
}

export interface RiskOwnerReassigned {
  type: 'RiskOwnerReassigned';
  data: {
    riskId: string;
    previousOwnerId: string;
    ownerId: string;
    /** The plan the risk is an item of, which learns the new owner (PlanItemOwnerChanged); absent when in none, and in version 1. */
    planId?: string;
    reassignedBy: string;
    reassignedAt: string;
  };
}

export interface RiskIncludedInPlan {
  type: 'RiskIncludedInPlan';
  data: { riskId: string; planId: string; includedAt: string };
}

export interface RiskSubmittedToBoard {
  type: 'RiskSubmittedToBoard';
  data: {
    riskId: string;
    planId: string;
    planRevision: number;
    submittedAt: string;
    /**
     * The risk's assets already retired when it went to the board, as the submission read them
     * (version 2; absent in version 1: an acceptance then compares the retirement's instant with
     * submittedAt, as it did).
     */
    retiredAssetIds?: string[];
  };
}

export interface RiskReleasedFromBoard {
  type: 'RiskReleasedFromBoard';
  data: { riskId: string; planId: string; reason: 'PLAN_WITHDRAWN' | 'PLAN_REJECTED'; releasedAt: string };
}

export interface RiskLeftPlan {
  type: 'RiskLeftPlan';
  data: { riskId: string; planId: string; reason: 'REMOVED_FROM_PLAN' | 'PLAN_CLOSED'; leftAt: string };
}

export interface RiskAwaitingResidualConsent {
  type: 'RiskAwaitingResidualConsent';
  data: {
    riskId: string;
    planId: string;
    planRevision: number;
    ownerId: string;
    /** consentFingerprint of what the owner is asked to accept. */
    fingerprint: string;
    /** Risk version whose content the owner is asked to accept. */
    atVersion: number;
    /** The treatment's target level: what the owner is asked to accept (absent in events before it was recorded). */
    residualLevel?: string;
    /**
     * The residual level the board approved for the risk in that plan revision (absent in events
     * before it was recorded): the owner can accept only while the target is still that level.
     */
    approvedResidualLevel?: string;
    requestedAt: string;
  };
}

export interface ResidualRiskAcceptedByOwner {
  type: 'ResidualRiskAcceptedByOwner';
  data: {
    riskId: string;
    planId: string;
    planRevision: number;
    ownerId: string;
    fingerprint: string;
    atVersion: number;
    /** The residual level accepted: the treatment's target level (absent in events before it was recorded). */
    residualLevel?: string;
    /** The risk's level and criteria as shown to the owner. */
    level?: string;
    criteriaNumber?: number;
    statement?: string;
    acceptedAt: string;
  };
}

export interface ResidualRiskDeclinedByOwner {
  type: 'ResidualRiskDeclinedByOwner';
  data: {
    riskId: string;
    planId: string;
    planRevision: number;
    ownerId: string;
    reason: string;
    atVersion: number;
    /** The consent fingerprint of the state declined (absent in version 1: not recorded). */
    fingerprint?: string;
    declinedAt: string;
  };
}

export type ConsentInvalidationReason = 'RISK_REANALYSED' | 'TREATMENT_REVISED' | 'CONTROLS_REVISED' | 'OWNER_REASSIGNED';

export interface ResidualConsentInvalidated {
  type: 'ResidualConsentInvalidated';
  data: {
    riskId: string;
    planId: string;
    planRevision: number;
    reason: ConsentInvalidationReason;
    /** Revision of the material change event just before this one. */
    atVersion: number;
    invalidatedAt: string;
  };
}

export interface RiskReviewed {
  type: 'RiskReviewed';
  data: { riskId: string; reviewIntervalDays?: number } & RiskReview;
}

export interface RiskReassessmentOpened {
  type: 'RiskReassessmentOpened';
  /** planId: the plan whose item the finding reopens (absent when the risk was in none, or in events before it was recorded). */
  data: { riskId: string; cycle: number; previousCycle: number; reviewId: string; planId?: string; openedAt: string };
}

/**
 * Progress of one control (Art.18, 19): its status and percentage after this record, with the
 * evidence files cited (id and SHA-256 of the bytes, pinned in the log).
 */
export interface ControlProgressRecorded {
  type: 'ControlProgressRecorded';
  data: {
    riskId: string;
    controlId: string;
    status: ControlStatus;
    previousStatus: ControlStatus;
    progressPercent: number;
    /** The note given (the reason, when CANCELLED). */
    note?: string;
    evidence: EvidenceCitation[];
    recordedBy: string;
    recordedAt: string;
  };
}

/** A control passed its due date (Japan's calendar day) while not done: once per control and due date. */
export interface ControlBecameOverdue {
  type: 'ControlBecameOverdue';
  data: { riskId: string; controlId: string; title: string; ownerId: string; dueDate: string };
}

/** A retained or accepted risk fell due for review (Art.12(3)-(4)): once per due date and cycle. */
export interface RiskReviewBecameDue {
  type: 'RiskReviewBecameDue';
  data: { riskId: string; dueOn: string; ownerId: string };
}

export type RiskEvent =
  | RiskIdentified
  | RiskAnalysed
  | RiskEvaluated
  | RiskTreatmentDecided
  | RiskClosed
  | ControlsDecided
  | RiskOwnerReassigned
  | RiskIncludedInPlan
  | RiskSubmittedToBoard
  | RiskReleasedFromBoard
  | RiskLeftPlan
  | RiskAwaitingResidualConsent
  | ResidualRiskAcceptedByOwner
  | ResidualRiskDeclinedByOwner
  | ResidualConsentInvalidated
  | RiskReviewed
  | RiskReassessmentOpened
  | ControlProgressRecorded
  | ControlBecameOverdue
  | RiskReviewBecameDue;
export type RiskEventType = RiskEvent['type'];

/** Current schema version of each event's data. Bump one and extend upcastRiskEvent when a shape changes. */
export const riskEventSchemaVersions: Record<RiskEventType, number> = {
  RiskIdentified: 1,
  // 2: optional incidentIds (the incidents at other firms cited); absent in version 1, meaning none.
  RiskAnalysed: 2,
  RiskEvaluated: 2,
  RiskTreatmentDecided: 1,
  // 2: optional planId (the plan the risk was an item of); absent in version 1, meaning not recorded.
  RiskClosed: 2,
  ControlsDecided: 1,
  // 2: optional planId (the plan the risk was an item of); absent in version 1, meaning not recorded.
  RiskOwnerReassigned: 2,
  RiskIncludedInPlan: 1,
  // 2: optional retiredAssetIds (the risk's assets retired when it went to the board, in log order);
  // absent in version 1, meaning not recorded (ASSET_RETIRED then compares instants).
  RiskSubmittedToBoard: 2,
  RiskReleasedFromBoard: 1,
  RiskLeftPlan: 1,
  RiskAwaitingResidualConsent: 1,
  ResidualRiskAcceptedByOwner: 1,
  // 2: optional fingerprint of the state declined (as an acceptance records it); absent in version 1.
  ResidualRiskDeclinedByOwner: 2,
  ResidualConsentInvalidated: 1,
  RiskReviewed: 1,
  RiskReassessmentOpened: 1,
  ControlProgressRecorded: 1,
  ControlBecameOverdue: 1,
  RiskReviewBecameDue: 1,
};

/** Turns stored data of any known schema version into the current shape. */
export function upcastRiskEvent(type: string, schemaVersion: number, data: unknown): RiskEvent {
  if (!(type in riskEventSchemaVersions)) throw new Error(`Unknown risk event type ${type}`);
  const current = riskEventSchemaVersions[type as RiskEventType];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new Error(`Unsupported schema version ${schemaVersion} of ${type} (current ${current})`);
  }
  // RiskEvaluated 1 → 2: the list of analysis ids became their count and the top one's id (the
  // state no longer keeps every analysis of a cycle); the list recorded stays on the event.
  if (type === 'RiskEvaluated' && schemaVersion < 2) {
    const d = data as { analysisIds?: string[] };
    return { type, data: { ...d, analysisCount: d.analysisIds?.length ?? 0 } } as RiskEvent;
  }
  return { type, data } as RiskEvent;
}

const MATERIAL_EVENTS: ReadonlySet<string> = new Set<RiskEventType>([
  'RiskAnalysed',
  'RiskTreatmentDecided',
  'ControlsDecided',
  'RiskOwnerReassigned',
]);

/**
 * Events that change what a risk owner consents to (Art. 20): after one of them, a PENDING or
 * ACCEPTED consent no longer holds (decide() then appends ResidualConsentInvalidated).
 */
export function isMaterialRiskEvent(type: string): boolean {
  return MATERIAL_EVENTS.has(type);
}
