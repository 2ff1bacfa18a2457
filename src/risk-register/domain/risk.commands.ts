/**
 * What may be asked of a risk: one command per decision of Chapter 4, from identification
 * (Art. 14(1)) to residual consent (Art. 20) and review (Art. 12(3)-(4)). Time (`at`) and new ids
 * arrive in the command, and everything the application loads from other streams (assets, the
 * criteria version in force, a baseline catalogue) is passed IN the command, so decide stays pure.
 */
import type { AssetState } from '../../asset-inventory/domain/asset.state.js';
import type { BaselineCatalogueState } from '../../baseline-catalogues/domain/catalogue.state.js';
import type { AnalysisMethod, CriteriaVersionState } from '../../risk-criteria/domain/criteria.state.js';
import type { DomainActor } from '../../shared/domain/decider.js';
import type { ControlStatus, EvidenceCitation } from './control.state.js';
import type { BaselineResult, InformalAnalysisInput, TreatmentOption } from './risk.state.js';

interface RiskCommandBase {
  riskId: string;
  actor: DomainActor;
  /** ISO-8601 instant the command is handled. */
  at: string;
}

export interface IdentifyRisk extends RiskCommandBase {
  type: 'IdentifyRisk';
  title: string;
  description: string;
  assetIds: string[];
  threatId: string;
  vulnerabilityId: string;
  ownerId: string;
  /** Incidents or fraud at other firms used as sources (Art. 15(3)). */
  externalReferences?: string[];
  /** The assets the application found for assetIds (a missing one is NOT_FOUND). */
  assets: AssetState[];
}

export interface BaselineInput {
  catalogueId: string;
  results: BaselineResult[];
  impact: number;
}

export interface DetailedInput {
  assessments: Array<{ assetId: string; threatLevel: number; vulnerabilityLevel: number }>;
}

export interface AnalyseRisk extends RiskCommandBase {
  type: 'AnalyseRisk';
  /** New id, from the application; a repeat with the same id is already satisfied. */
  analysisId: string;
  method: AnalysisMethod;
  baseline?: BaselineInput | null;
  informal?: InformalAnalysisInput | null;
  detailed?: DetailedInput | null;
  externalReferences?: string[] | null;
  /** Incidents at other firms cited (Art. 15(3)). */
  incidentIds?: string[] | null;
  /** Those of incidentIds that the application found recorded (incidents are never deleted). */
  knownIncidentIds?: string[];
  /** The criteria version in force (absent: none is). */
  criteria?: CriteriaVersionState;
  /** The risk's assets, as they stand. */
  assets: AssetState[];
  /** The catalogue named by baseline.catalogueId (BASELINE only). */
  catalogue?: BaselineCatalogueState;
}

export interface EvaluateRisk extends RiskCommandBase {
  type: 'EvaluateRisk';
  criteria?: CriteriaVersionState;
  /** The risk's assets, as they stand (for the asset value). */
  assets: AssetState[];
}

export interface DecideTreatment extends RiskCommandBase {
  type: 'DecideTreatment';
  options: TreatmentOption[];
  rationale: string;
  targetLikelihood: number;
  targetImpact: number;
  counterparty?: string | null;
  contractReference?: string | null;
  /**
   * With AVOID: the risk's assets whose use is given up, which leave the inventory (Art.17(2): the
   * business or the asset). Absent: all of them; empty: the business only, the assets stay.
   */
  retiredAssetIds?: string[] | null;
  criteria?: CriteriaVersionState;
}

export interface ControlInput {
  /**
   * New id, from the application. Used for a new control only: a control that names an existing
   * one (`existingControlId`) or has the title of one keeps that one's id, and so its progress.
   */
  controlId: string;
  /** The id of a control of the risk this one restates (its progress is kept). */
  existingControlId?: string | null;
  title: string;
  description: string;
  ownerId: string;
  /** YYYY-MM-DD, not before the decision date. */
  dueDate: string;
  /** Why the control was adopted (Art. 18(2)). */
  reason: string;
  reference?: string | null;
}

export interface DecideControls extends RiskCommandBase {
  type: 'DecideControls';
  controls: ControlInput[];
}

/** A risk identified in error or twice, withdrawn before any treatment (Art.14(1)): it is closed, its assets untouched. */
export interface WithdrawRisk extends RiskCommandBase {
  type: 'WithdrawRisk';
  reason: string;
}

export interface ReassignRiskOwner extends RiskCommandBase {
  type: 'ReassignRiskOwner';
  ownerId: string;
}

/** Issued by the process manager when the Plan records the risk as an item (system actor; no role check). */
export interface IncludeInPlan extends RiskCommandBase {
  type: 'IncludeInPlan';
  planId: string;
}

/** Decided with SubmitPlan, in the same append: the board decides on this content, so it is frozen (Art. 19). */
export interface FreezeForBoard extends RiskCommandBase {
  type: 'FreezeForBoard';
  planId: string;
  planRevision: number;
  /**
   * The risk's assets as the submission read them, through its attempt (so a retirement landing
   * before its append makes it conflict and read again): which of them were retired is recorded,
   * and an asset retired later in the log was not before the board (ASSET_RETIRED).
   */
  assets?: readonly AssetState[];
}

/** Decided with WithdrawPlan or a rejecting resolution, in the same append: the content may change again. */
export interface ReleaseFromBoard extends RiskCommandBase {
  type: 'ReleaseFromBoard';
  planId: string;
  reason: 'PLAN_WITHDRAWN' | 'PLAN_REJECTED';
}

/** Decided with RemoveRiskFromPlan or ClosePlan, in the same append: the risk is free to join another plan. */
export interface LeavePlan extends RiskCommandBase {
  type: 'LeavePlan';
  planId: string;
  reason: 'REMOVED_FROM_PLAN' | 'PLAN_CLOSED';
}

/** Issued by the process manager when the approved plan asks the owner for consent (Art. 20). */
export interface AwaitResidualConsent extends RiskCommandBase {
  type: 'AwaitResidualConsent';
  planId: string;
  planRevision: number;
  /**
   * The residual level the board approved for this risk in that revision of the plan (the plan
   * item's, fixed at submission). Absent or null: the one already recorded with a request for that
   * revision, if any (a stale consent asked for again).
   */
  approvedResidualLevel?: string | null;
}

/**
 * The owner's answer (Art. 20). Consent is decided here, on the risk, whose stream orders it
 * against every material change; the plan learns of it afterwards.
 */
export interface RecordResidualConsent extends RiskCommandBase {
  type: 'RecordResidualConsent';
  planId: string;
  accepted: boolean;
  /** Required when declining. */
  reason?: string | null;
  /** The owner's statement when accepting. */
  statement?: string | null;
  /** The criteria in force, read with the command: an acceptance must meet their acceptance level. */
  criteria?: CriteriaVersionState;
  /** The risk's assets, read with an acceptance: none may have left the inventory since the risk went to the board. */
  assets?: readonly AssetState[];
}

export interface RecordReview extends RiskCommandBase {
  type: 'RecordReview';
  /** New id, from the application; a repeat with the same id is already satisfied. */
  reviewId: string;
  controlsInPlace: boolean;
  actualLikelihood: number;
  actualImpact: number;
  notes?: string | null;
  criteria?: CriteriaVersionState;
}

/** Progress of one control (Art.18, 19): the control's owner, COMMITTEE_MEMBER, CISO. */
export interface RecordControlProgress extends RiskCommandBase {
  type: 'RecordControlProgress';
  controlId: string;
  status: ControlStatus;
  progressPercent?: number | null;
  note?: string | null;
  /** The evidence files cited, as the application found them in the evidence store. */
  evidence?: EvidenceCitation[];
}

/** Issued by the deadline watch (system actor) at `at`: record what has fallen due since. */
export interface RecordPassedDeadlines extends RiskCommandBase {
  type: 'RecordPassedDeadlines';
  /** The criteria in force (their review intervals); absent: no review falls due. */
  criteria?: CriteriaVersionState;
}

export type RiskCommand =
  | IdentifyRisk
  | AnalyseRisk
  | EvaluateRisk
  | DecideTreatment
  | DecideControls
  | ReassignRiskOwner
  | WithdrawRisk
  | IncludeInPlan
  | FreezeForBoard
  | ReleaseFromBoard
  | LeavePlan
  | AwaitResidualConsent
  | RecordResidualConsent
  | RecordReview
  | RecordControlProgress
  | RecordPassedDeadlines;
