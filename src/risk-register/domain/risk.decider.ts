/**
 * The Risk aggregate: the whole life of one risk (stream `risk-<id>`), from identification
 * (Art. 14(1)) through analysis (Art. 15), evaluation (Art. 16), treatment (Art. 17), controls
 * (Art. 18), the plan (Art. 19, through the process manager), residual-risk consent (Art. 20)
 * and the review loop (Art. 12(3)-(4), Art. 10).
 *
 * Pure: time (`at`) and new ids arrive in the command, and everything the application loads
 * from other streams (assets, the criteria version in force, a baseline catalogue) is passed IN
 * the command. `decide` throws a DomainError to reject and returns [] when the command is
 * already satisfied.
 */
import { createHash } from 'node:crypto';
import type { AssetState, SecurityProperty } from '../../asset-inventory/domain/asset.state.js';
import {
  BASELINE_REQUIREMENT_STATUSES,
  type BaselineCatalogueState,
  type BaselineRequirementStatus,
} from '../../baseline-catalogues/domain/catalogue.state.js';
import { ANALYSIS_METHODS, type AnalysisMethod, type CriteriaVersionState } from '../../risk-criteria/domain/criteria.state.js';
import {
  assetValueFor,
  baselineCounts,
  baselineGap,
  impactForAssetValue,
  isWithinAcceptance,
  levelFor,
  levelRank,
  likelihoodFromBaselineGap,
  likelihoodFromDetailed,
  requiredMethodsFor,
  reviewIntervalDaysFor,
} from '../../risk-criteria/domain/scoring.js';
import { hasRole } from '../../shared/domain/guards.js';
import { type Decider, type DomainActor, type Role } from '../../shared/domain/decider.js';
import { FieldErrors, ForbiddenError, NotFoundError, RuleViolationError } from '../../shared/domain/errors.js';
import { refuseAuditor } from '../../shared/domain/guards.js';
import {
  TREATED_STATUSES,
  isFrozenForBoard,
  TREATMENT_OPTIONS,
  initialRiskState,
  riskStreamId,
  type BaselineAnalysisInput,
  type BaselineResult,
  type DetailedAnalysisInput,
  type DetailedAssetAssessment,
  type EvaluationDecision,
  type InformalAnalysisInput,
  type RiskAnalysis,
  type RiskControl,
  type RiskEvaluation,
  type RiskReview,
  type RiskState,
  type RiskStatus,
  type RiskTreatment,
  type TreatmentOption,
} from './risk.state.js';

export { initialRiskState, riskStreamId };

// ---------------------------------------------------------------------------------------------
// Limits, articles, rule ids
// ---------------------------------------------------------------------------------------------

export const RISK_TITLE_MAX_LENGTH = 200;
export const RISK_TEXT_MAX_LENGTH = 4000;
/** Threat and vulnerability levels of a detailed analysis (Art. 15(2)(3)). */
export const DETAILED_LEVEL_MIN = 1;
export const DETAILED_LEVEL_MAX = 3;

/** Stable rule ids (RuleViolationError.rule) with the article each comes from. */
export const RiskRules = {
  RISK_ALREADY_IDENTIFIED: { id: 'RISK_ALREADY_IDENTIFIED', article: 'Art.14(1)' },
  ASSET_RETIRED: { id: 'ASSET_RETIRED', article: 'Art.14(2)' },
  NO_CRITERIA_IN_FORCE: { id: 'NO_CRITERIA_IN_FORCE', article: 'Art.13(1)' },
  RISK_CLOSED: { id: 'RISK_CLOSED', article: 'Art.17' },
  ANALYSIS_REQUIRED: { id: 'ANALYSIS_REQUIRED', article: 'Art.15' },
  REQUIRED_METHOD_NOT_APPLIED: { id: 'REQUIRED_METHOD_NOT_APPLIED', article: 'Art.13(2)' },
  RISK_ALREADY_IN_TREATMENT: { id: 'RISK_ALREADY_IN_TREATMENT', article: 'Art.16' },
  RISK_NOT_TO_TREAT: { id: 'RISK_NOT_TO_TREAT', article: 'Art.16' },
  REEVALUATION_REQUIRED: { id: 'REEVALUATION_REQUIRED', article: 'Art.16' },
  TARGET_ABOVE_ACCEPTANCE: { id: 'TARGET_ABOVE_ACCEPTANCE', article: 'Art.17' },
  TREATMENT_REQUIRED: { id: 'TREATMENT_REQUIRED', article: 'Art.18' },
  RISK_CONTROLS_NOT_DECIDED: { id: 'RISK_CONTROLS_NOT_DECIDED', article: 'Art.19(1)' },
  RISK_IN_OTHER_PLAN: { id: 'RISK_IN_OTHER_PLAN', article: 'Art.19' },
  RISK_IN_SUBMITTED_PLAN: { id: 'RISK_IN_SUBMITTED_PLAN', article: 'Art.19' },
  RISK_NOT_IN_PLAN: { id: 'RISK_NOT_IN_PLAN', article: 'Art.20' },
  CONSENT_NOT_REQUESTED: { id: 'CONSENT_NOT_REQUESTED', article: 'Art.20' },
  CONSENT_STALE: { id: 'CONSENT_STALE', article: 'Art.20' },
  REVIEW_NOT_DUE: { id: 'REVIEW_NOT_DUE', article: 'Art.12(3)' },
} as const;
export type RiskRuleId = keyof typeof RiskRules;

function violation(rule: RiskRuleId, message: string): RuleViolationError {
  return new RuleViolationError(RiskRules[rule].id, RiskRules[rule].article, message);
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

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
  criteria?: CriteriaVersionState;
}

export interface ControlInput {
  /** New id, from the application. */
  controlId: string;
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

export type RiskCommand =
  | IdentifyRisk
  | AnalyseRisk
  | EvaluateRisk
  | DecideTreatment
  | DecideControls
  | ReassignRiskOwner
  | IncludeInPlan
  | FreezeForBoard
  | ReleaseFromBoard
  | LeavePlan
  | AwaitResidualConsent
  | RecordResidualConsent
  | RecordReview;

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

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
    analysisIds: string[];
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
    reason: 'AVOIDED';
    /** The assets whose business or use is given up (the application retires them, Art. 17(2)). */
    assetIds: string[];
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
  data: { riskId: string; previousOwnerId: string; ownerId: string; reassignedBy: string; reassignedAt: string };
}

export interface RiskIncludedInPlan {
  type: 'RiskIncludedInPlan';
  data: { riskId: string; planId: string; includedAt: string };
}

export interface RiskSubmittedToBoard {
  type: 'RiskSubmittedToBoard';
  data: { riskId: string; planId: string; planRevision: number; submittedAt: string };
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
  | RiskReassessmentOpened;
export type RiskEventType = RiskEvent['type'];

/** Current schema version of each event's data. Bump one and extend upcastRiskEvent when a shape changes. */
export const riskEventSchemaVersions: Record<RiskEventType, number> = {
  RiskIdentified: 1,
  RiskAnalysed: 1,
  RiskEvaluated: 1,
  RiskTreatmentDecided: 1,
  RiskClosed: 1,
  ControlsDecided: 1,
  RiskOwnerReassigned: 1,
  RiskIncludedInPlan: 1,
  RiskSubmittedToBoard: 1,
  RiskReleasedFromBoard: 1,
  RiskLeftPlan: 1,
  RiskAwaitingResidualConsent: 1,
  ResidualRiskAcceptedByOwner: 1,
  ResidualRiskDeclinedByOwner: 1,
  ResidualConsentInvalidated: 1,
  RiskReviewed: 1,
  RiskReassessmentOpened: 1,
};

/** Turns stored data of any known schema version into the current shape (identity today: the seam for later shapes). */
export function upcastRiskEvent(type: string, schemaVersion: number, data: unknown): RiskEvent {
  if (!(type in riskEventSchemaVersions)) throw new Error(`Unknown risk event type ${type}`);
  const current = riskEventSchemaVersions[type as RiskEventType];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new Error(`Unsupported schema version ${schemaVersion} of ${type} (current ${current})`);
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

// ---------------------------------------------------------------------------------------------
// Consent fingerprint
// ---------------------------------------------------------------------------------------------

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v === undefined ? null : v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
    .join(',')}}`;
}

/**
 * SHA-256 (hex) of the canonical JSON (keys sorted, no whitespace, undefined left out) of what
 * an owner consents to: id, cycle, level, likelihood, impact, criteriaNumber, treatment,
 * controls, ownerId.
 */
export function consentFingerprint(state: RiskState): string {
  const content = {
    id: state.id,
    cycle: state.cycle,
    level: state.level,
    likelihood: state.likelihood,
    impact: state.impact,
    criteriaNumber: state.criteriaNumber,
    treatment: state.treatment,
    controls: state.controls,
    ownerId: state.ownerId,
  };
  return createHash('sha256').update(canonical(content)).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;
const isIntIn = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const present = (v: unknown): boolean => v !== undefined && v !== null;

function checkText(errors: FieldErrors, field: string, value: unknown, max = RISK_TEXT_MAX_LENGTH): void {
  if (!isNonEmptyString(value)) errors.add(field, 'is required');
  else if (value.trim().length > max) errors.add(field, `must be at most ${max} characters`);
}

function checkOptionalText(errors: FieldErrors, field: string, value: unknown, max = RISK_TEXT_MAX_LENGTH): void {
  if (!present(value)) return;
  if (typeof value !== 'string') errors.add(field, 'must be a string');
  else if (value.length > max) errors.add(field, `must be at most ${max} characters`);
}

function checkReferences(errors: FieldErrors, field: string, value: unknown): string[] {
  if (!present(value)) return [];
  if (!Array.isArray(value)) {
    errors.add(field, 'must be a list of strings');
    return [];
  }
  value.forEach((r, i) => {
    if (!isNonEmptyString(r)) errors.add(`${field}[${i}]`, 'must be a non-empty string');
    else if (r.length > RISK_TEXT_MAX_LENGTH) errors.add(`${field}[${i}]`, `must be at most ${RISK_TEXT_MAX_LENGTH} characters`);
  });
  return distinct(value.filter(isNonEmptyString).map((r) => r.trim()));
}

function distinct<T>(values: readonly T[]): T[] {
  return values.filter((v, i) => values.indexOf(v) === i);
}

function checkScale(errors: FieldErrors, field: string, value: unknown, size: number): void {
  if (!isIntIn(value, 1, size)) errors.add(field, `must be an integer from 1 to ${size}`);
}

function requireRole(actor: DomainActor, roles: Role[], action: string): void {
  refuseAuditor(actor);
  if (!hasRole(actor, ...roles)) throw new ForbiddenError(`Only ${roles.join(', ')} may ${action}`);
}

function requireOwnerOr(actor: DomainActor, state: RiskState, roles: Role[], action: string): void {
  refuseAuditor(actor);
  if (actor.id === state.ownerId || hasRole(actor, ...roles)) return;
  throw new ForbiddenError(`Only the risk's owner or ${roles.join(', ')} may ${action}`);
}

function requireRisk(command: Exclude<RiskCommand, IdentifyRisk>, state: RiskState): void {
  if (!state.exists || state.id !== command.riskId) throw new NotFoundError('Risk', command.riskId);
}

function refuseClosed(state: RiskState, action: string): void {
  if (state.status === 'CLOSED') {
    throw violation('RISK_CLOSED', `Risk ${state.id} was closed (${state.closedReason ?? 'closed'}) on ${state.closedAt ?? '?'}; it can no longer ${action}`);
  }
}

/** Art. 19: while the plan the risk is in awaits the board, what the board sees must not change. */
function refuseFrozen(state: RiskState, action: string): void {
  if (isFrozenForBoard(state)) {
    throw violation('RISK_IN_SUBMITTED_PLAN', `Risk ${state.id} is in plan ${state.submittedInPlan}, submitted to the board: it cannot ${action} until the board decides or the plan is withdrawn`);
  }
}

function requireCriteria(criteria: CriteriaVersionState | undefined): CriteriaVersionState {
  if (!criteria) throw violation('NO_CRITERIA_IN_FORCE', 'No risk criteria are in force: they must be approved before risks are assessed');
  return criteria;
}

/** Consent the owner has given or is asked to give (PENDING or ACCEPTED), which a material change invalidates. */
function hasLiveConsent(state: RiskState): boolean {
  return (
    (state.status === 'AWAITING_CONSENT' || state.status === 'ACCEPTED') &&
    (state.consent?.status === 'PENDING' || state.consent?.status === 'ACCEPTED')
  );
}

/** Appends ResidualConsentInvalidated after a material change event when a live consent exists. */
function withConsentInvalidation(state: RiskState, changes: RiskEvent[], reason: ConsentInvalidationReason, at: string): RiskEvent[] {
  if (!hasLiveConsent(state) || !state.consent) return changes;
  return [
    ...changes,
    {
      type: 'ResidualConsentInvalidated',
      data: {
        riskId: state.id,
        planId: state.consent.planId,
        planRevision: state.consent.planRevision,
        reason,
        atVersion: state.version + changes.length,
        invalidatedAt: at,
      },
    },
  ];
}

function findAsset(assets: readonly AssetState[] | undefined, id: string): AssetState | undefined {
  return (assets ?? []).find((a) => a.exists && a.id === id);
}

function requireAssets(assets: readonly AssetState[] | undefined, ids: readonly string[]): AssetState[] {
  return ids.map((id) => {
    const asset = findAsset(assets, id);
    if (!asset) throw new NotFoundError('Asset', id);
    return asset;
  });
}

/** The highest of the analyses by rank under `criteria` (later ones win ties). */
function highestAnalysis(analyses: readonly RiskAnalysis[], rank: (a: RiskAnalysis) => number): RiskAnalysis | undefined {
  let best: RiskAnalysis | undefined;
  for (const a of analyses) if (best === undefined || rank(a) >= rank(best)) best = a;
  return best;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
function isRealDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

// ---------------------------------------------------------------------------------------------
// decide: identification (Art. 14)
// ---------------------------------------------------------------------------------------------

function decideIdentify(c: IdentifyRisk, state: RiskState): RiskEvent[] {
  requireRole(c.actor, ['RISK_OWNER', 'ASSET_MANAGER', 'COMMITTEE_MEMBER', 'CISO'], 'identify risks');
  const errors = new FieldErrors();
  errors.check(isNonEmptyString(c.riskId), 'riskId', 'is required');
  checkText(errors, 'title', c.title, RISK_TITLE_MAX_LENGTH);
  checkOptionalText(errors, 'description', c.description);
  if (!Array.isArray(c.assetIds) || c.assetIds.length === 0) errors.add('assetIds', 'must name at least one asset');
  else {
    c.assetIds.forEach((id, i) => {
      if (!isNonEmptyString(id)) errors.add(`assetIds[${i}]`, 'must be an asset id');
      else if (c.assetIds.indexOf(id) !== i) errors.add(`assetIds[${i}]`, `duplicates ${id}`);
    });
  }
  checkText(errors, 'threatId', c.threatId);
  checkText(errors, 'vulnerabilityId', c.vulnerabilityId);
  checkText(errors, 'ownerId', c.ownerId);
  const externalReferences = checkReferences(errors, 'externalReferences', c.externalReferences);
  errors.throwIfAny();

  if (state.exists) {
    // A retry of the same identification is already satisfied; anything else reuses an id.
    const same =
      state.id === c.riskId &&
      state.title === c.title.trim() &&
      state.description === (c.description ?? '').trim() &&
      canonical(state.assetIds) === canonical(c.assetIds) &&
      state.threatId === c.threatId &&
      state.vulnerabilityId === c.vulnerabilityId;
    if (same) return [];
    throw violation('RISK_ALREADY_IDENTIFIED', `Risk ${state.id} is already identified with different details`);
  }

  const assets = requireAssets(c.assets, c.assetIds);

  // An ASSET_MANAGER without a broader role acts only on assets of their own department.
  if (!hasRole(c.actor, 'RISK_OWNER', 'COMMITTEE_MEMBER', 'CISO')) {
    const foreign = assets.find((a) => a.department.trim() !== (c.actor.department ?? '').trim());
    if (foreign) {
      throw new ForbiddenError(
        `An ASSET_MANAGER may identify risks only on assets of their own department (${c.actor.department ?? 'none'}); ` +
          `${foreign.id} belongs to ${foreign.department}`,
      );
    }
  }

  const threatAsset = assets.find((a) => a.threats.some((t) => t.id === c.threatId));
  const threat = threatAsset?.threats.find((t) => t.id === c.threatId);
  const links = new FieldErrors();
  if (!threat) links.add('threatId', `is not a threat identified on any of the assets ${c.assetIds.join(', ')}`);
  else if (!threat.vulnerabilities.some((v) => v.id === c.vulnerabilityId)) {
    links.add('vulnerabilityId', `is not a vulnerability of threat ${c.threatId}`);
  }
  links.throwIfAny();

  const retired = assets.find((a) => a.status === 'RETIRED');
  if (retired) {
    throw violation('ASSET_RETIRED', `Asset ${retired.id} was retired on ${retired.retiredAt ?? '?'}: it is no longer in the inventory`);
  }

  const data: RiskIdentified['data'] = {
    riskId: c.riskId,
    title: c.title.trim(),
    description: (c.description ?? '').trim(),
    assetIds: [...c.assetIds],
    threatId: c.threatId,
    threatAssetId: threatAsset!.id,
    vulnerabilityId: c.vulnerabilityId,
    ownerId: c.ownerId.trim(),
    externalReferences,
    identifiedBy: c.actor.id,
    identifiedAt: c.at,
  };

  return [{ type: 'RiskIdentified', data }];
}

// ---------------------------------------------------------------------------------------------
// decide: analysis (Art. 15)
// ---------------------------------------------------------------------------------------------

const METHOD_PART = { BASELINE: 'baseline', INFORMAL: 'informal', DETAILED: 'detailed' } as const;

function decideAnalyse(c: AnalyseRisk, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireOwnerOr(c.actor, state, ['COMMITTEE_MEMBER', 'CISO'], 'analyse this risk');
  if (state.analyses.some((a) => a.analysisId === c.analysisId)) return [];
  refuseClosed(state, 'be analysed');
  refuseFrozen(state, 'be analysed');
  const criteria = requireCriteria(c.criteria);
  const N = criteria.likelihoodLevels.length;
  const M = criteria.impactLevels.length;

  const errors = new FieldErrors();
  errors.check(isNonEmptyString(c.analysisId), 'analysisId', 'is required');
  const method = c.method;
  const methodKnown = (ANALYSIS_METHODS as readonly unknown[]).includes(method);
  if (!methodKnown) errors.add('method', `must be one of ${ANALYSIS_METHODS.join(', ')}`);
  const externalReferences = checkReferences(errors, 'externalReferences', c.externalReferences);
  if (methodKnown) {
    for (const m of ANALYSIS_METHODS) {
      const part = METHOD_PART[m];
      const given = present(c[part]);
      if (m === method && !given) errors.add(part, `is required for method ${method}`);
      if (m !== method && given) errors.add(part, `must be absent for method ${method}`);
    }
  }

  // BASELINE: the catalogue must exist before its requirements can be checked.
  const b = method === 'BASELINE' && present(c.baseline) ? c.baseline! : undefined;
  let catalogue: BaselineCatalogueState | undefined;
  if (b) {
    if (!isNonEmptyString(b.catalogueId)) errors.add('baseline.catalogueId', 'is required');
    else {
      catalogue = c.catalogue && c.catalogue.exists && c.catalogue.id === b.catalogueId ? c.catalogue : undefined;
      if (!catalogue) throw new NotFoundError('BaselineCatalogue', b.catalogueId);
    }
    checkScale(errors, 'baseline.impact', b.impact, M);
    if (!Array.isArray(b.results)) errors.add('baseline.results', 'must be a list of results');
    else if (catalogue) checkBaselineResults(errors, b.results, catalogue);
  }

  const i = method === 'INFORMAL' && present(c.informal) ? c.informal! : undefined;
  if (i) {
    checkScale(errors, 'informal.likelihood', i.likelihood, N);
    checkScale(errors, 'informal.impact', i.impact, M);
    checkText(errors, 'informal.expert', i.expert, RISK_TITLE_MAX_LENGTH);
    checkText(errors, 'informal.rationale', i.rationale);
  }

  const d = method === 'DETAILED' && present(c.detailed) ? c.detailed! : undefined;
  if (d) {
    if (!Array.isArray(d.assessments) || d.assessments.length === 0) errors.add('detailed.assessments', 'must assess at least one of the risk\'s assets');
    else {
      d.assessments.forEach((a, k) => {
        const f = `detailed.assessments[${k}]`;
        if (!isNonEmptyString(a?.assetId) || !state.assetIds.includes(a.assetId)) {
          errors.add(`${f}.assetId`, `must be one of the risk's assets (${state.assetIds.join(', ')})`);
        } else if (d.assessments.findIndex((x) => x?.assetId === a.assetId) !== k) {
          errors.add(`${f}.assetId`, `assesses ${a.assetId} more than once`);
        }
        const range = `must be an integer from ${DETAILED_LEVEL_MIN} to ${DETAILED_LEVEL_MAX}`;
        if (!isIntIn(a?.threatLevel, DETAILED_LEVEL_MIN, DETAILED_LEVEL_MAX)) errors.add(`${f}.threatLevel`, range);
        if (!isIntIn(a?.vulnerabilityLevel, DETAILED_LEVEL_MIN, DETAILED_LEVEL_MAX)) errors.add(`${f}.vulnerabilityLevel`, range);
      });
    }
  }
  errors.throwIfAny();

  const rank = (level: string) => levelRank(criteria, level);
  let scored: { likelihood: number; impact: number; level: string } & Partial<Pick<RiskAnalysis, 'baseline' | 'informal' | 'detailed'>>;
  if (b && catalogue) {
    const results: BaselineResult[] = b.results.map((r) => ({ requirementId: r.requirementId, status: r.status }));
    const counts = baselineCounts(results);
    const gap = baselineGap(results);
    const likelihood = likelihoodFromBaselineGap(criteria, gap);
    const baseline: BaselineAnalysisInput = {
      catalogueId: catalogue.id,
      catalogueName: catalogue.name,
      catalogueVersion: catalogue.version,
      results,
      impact: b.impact,
      counts,
      gap,
    };
    scored = { likelihood, impact: b.impact, level: levelFor(criteria, likelihood, b.impact), baseline };
  } else if (i) {
    const informal: InformalAnalysisInput = { likelihood: i.likelihood, impact: i.impact, expert: i.expert.trim(), rationale: i.rationale.trim() };
    scored = { likelihood: i.likelihood, impact: i.impact, level: levelFor(criteria, i.likelihood, i.impact), informal };
  } else {
    const assessed = requireAssets(c.assets, d!.assessments.map((a) => a.assetId));
    const threat =
      findAsset(c.assets, state.threatAssetId)?.threats.find((t) => t.id === state.threatId) ??
      (c.assets ?? []).flatMap((a) => a.threats).find((t) => t.id === state.threatId);
    if (!threat) throw new NotFoundError('Threat', state.threatId);
    const affects: SecurityProperty[] = [...threat.affects];
    const assessments: DetailedAssetAssessment[] = d!.assessments.map((a, k) => {
      const asset = assessed[k]!;
      const score = a.threatLevel * a.vulnerabilityLevel;
      const value = assetValueFor(asset, affects);
      const likelihood = likelihoodFromDetailed(criteria, score);
      const impact = impactForAssetValue(criteria, value);
      return {
        assetId: a.assetId,
        threatLevel: a.threatLevel,
        vulnerabilityLevel: a.vulnerabilityLevel,
        score,
        confidentiality: asset.confidentiality,
        integrity: asset.integrity,
        availability: asset.availability,
        assetValue: value,
        likelihood,
        impact,
        level: levelFor(criteria, likelihood, impact),
      };
    });
    // The analysis takes the highest level among its assets (the first such asset on ties).
    let top = assessments[0]!;
    for (const a of assessments) if (rank(a.level) > rank(top.level)) top = a;
    const detailed: DetailedAnalysisInput = { threatId: state.threatId, affects, assessments };
    scored = { likelihood: top.likelihood, impact: top.impact, level: top.level, detailed };
  }

  const analysis: RiskAnalysis = {
    analysisId: c.analysisId,
    cycle: state.cycle,
    method,
    criteriaId: criteria.id,
    criteriaNumber: criteria.number,
    likelihood: scored.likelihood,
    impact: scored.impact,
    level: scored.level,
    levelRank: rank(scored.level),
    ...(scored.baseline ? { baseline: scored.baseline } : {}),
    ...(scored.informal ? { informal: scored.informal } : {}),
    ...(scored.detailed ? { detailed: scored.detailed } : {}),
    externalReferences,
    analysedBy: c.actor.id,
    analysedAt: c.at,
  };
  return withConsentInvalidation(state, [{ type: 'RiskAnalysed', data: { riskId: state.id, ...analysis } }], 'RISK_REANALYSED', c.at);
}

function checkBaselineResults(errors: FieldErrors, results: BaselineResult[], catalogue: BaselineCatalogueState): void {
  const known = new Set(catalogue.requirements.map((r) => r.id));
  const seen = new Set<string>();
  const unknown: string[] = [];
  results.forEach((r, k) => {
    const f = `baseline.results[${k}]`;
    if (!(BASELINE_REQUIREMENT_STATUSES as readonly unknown[]).includes(r?.status)) {
      errors.add(`${f}.status`, `must be one of ${BASELINE_REQUIREMENT_STATUSES.join(', ')}`);
    }
    if (!isNonEmptyString(r?.requirementId)) errors.add(`${f}.requirementId`, 'is required');
    else if (!known.has(r.requirementId)) {
      unknown.push(r.requirementId);
      errors.add(`${f}.requirementId`, `is not a requirement of catalogue ${catalogue.id}: ${r.requirementId}`);
    } else if (seen.has(r.requirementId)) errors.add(`${f}.requirementId`, `answers ${r.requirementId} more than once`);
    else seen.add(r.requirementId);
  });
  const missing = catalogue.requirements.map((r) => r.id).filter((id) => !seen.has(id));
  if (unknown.length > 0) errors.add('baseline.results', `name requirements unknown to catalogue ${catalogue.id}: ${unknown.join(', ')}`);
  else if (missing.length > 0) errors.add('baseline.results', `must answer every requirement of catalogue ${catalogue.id}; missing: ${missing.join(', ')}`);
  else if (
    results.length > 0 &&
    results.every((r) => (BASELINE_REQUIREMENT_STATUSES as readonly unknown[]).includes(r?.status)) &&
    results.every((r) => (r.status as BaselineRequirementStatus) === 'NOT_APPLICABLE')
  ) {
    errors.add('baseline.results', 'cannot all be NOT_APPLICABLE: the gap would be undefined');
  }
}

// ---------------------------------------------------------------------------------------------
// decide: evaluation (Art. 16)
// ---------------------------------------------------------------------------------------------

function decideEvaluate(c: EvaluateRisk, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'evaluate risks');
  refuseClosed(state, 'be evaluated');
  refuseFrozen(state, 'be evaluated');
  const criteria = requireCriteria(c.criteria);

  if ((state.status === 'RETAINED' || state.status === 'TO_TREAT') && state.evaluation) {
    const sameCriteria = state.evaluation.criteriaId === criteria.id && state.evaluation.criteriaNumber === criteria.number;
    if (sameCriteria) return [];
  } else if ((TREATED_STATUSES as readonly RiskStatus[]).includes(state.status)) {
    throw violation(
      'RISK_ALREADY_IN_TREATMENT',
      `Risk ${state.id} is ${state.status}: its treatment is decided; revise the treatment instead of evaluating again`,
    );
  }

  const analyses = state.analyses.filter((a) => a.cycle === state.cycle && a.criteriaId === criteria.id);
  if (analyses.length === 0) {
    throw violation(
      'ANALYSIS_REQUIRED',
      `Risk ${state.id} has no analysis in cycle ${state.cycle} under criteria #${criteria.number} (${criteria.id}): analyse it first`,
    );
  }

  const assets = requireAssets(c.assets, state.assetIds);
  const assetValue = Math.max(...assets.map((a) => a.value));
  const applied = new Set(analyses.map((a) => a.method));
  const missing = requiredMethodsFor(criteria, assetValue).filter((m) => !applied.has(m));
  if (missing.length > 0) {
    throw violation(
      'REQUIRED_METHOD_NOT_APPLIED',
      `Criteria #${criteria.number} require the ${missing.join(', ')} method${missing.length > 1 ? 's' : ''} for asset value ${assetValue}; ` +
        `not yet applied to risk ${state.id} in cycle ${state.cycle}`,
    );
  }

  const top = highestAnalysis(analyses, (a) => levelRank(criteria, a.level))!;
  const decision: EvaluationDecision = isWithinAcceptance(criteria, top.level) ? 'RETAINED' : 'TO_TREAT';
  const interval = reviewIntervalDaysFor(criteria, top.level);
  return [
    {
      type: 'RiskEvaluated',
      data: {
        riskId: state.id,
        cycle: state.cycle,
        criteriaId: criteria.id,
        criteriaNumber: criteria.number,
        level: top.level,
        likelihood: top.likelihood,
        impact: top.impact,
        decision,
        assetValue,
        levelRank: levelRank(criteria, top.level),
        identifiedAt: state.identifiedAt,
        analysisIds: analyses.map((a) => a.analysisId),
        ...(interval !== undefined ? { reviewIntervalDays: interval } : {}),
        evaluatedBy: c.actor.id,
        evaluatedAt: c.at,
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// decide: treatment (Art. 17) and controls (Art. 18)
// ---------------------------------------------------------------------------------------------

function decideTreatment(c: DecideTreatment, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'decide treatments');
  refuseClosed(state, 'be treated');
  refuseFrozen(state, 'have its treatment changed');
  const criteria = requireCriteria(c.criteria);
  if (state.status !== 'TO_TREAT' && !(TREATED_STATUSES as readonly RiskStatus[]).includes(state.status)) {
    throw violation(
      'RISK_NOT_TO_TREAT',
      `Risk ${state.id} is ${state.status}: only a risk evaluated as above the acceptance criterion (TO_TREAT) is treated`,
    );
  }

  const errors = new FieldErrors();
  if (!Array.isArray(c.options) || c.options.length === 0) errors.add('options', 'must name at least one treatment option');
  else {
    c.options.forEach((o, k) => {
      if (!(TREATMENT_OPTIONS as readonly unknown[]).includes(o)) errors.add(`options[${k}]`, `must be one of ${TREATMENT_OPTIONS.join(', ')}`);
      else if (c.options.indexOf(o) !== k) errors.add(`options[${k}]`, `duplicates ${o}`);
    });
  }
  checkText(errors, 'rationale', c.rationale);
  checkScale(errors, 'targetLikelihood', c.targetLikelihood, criteria.likelihoodLevels.length);
  checkScale(errors, 'targetImpact', c.targetImpact, criteria.impactLevels.length);
  checkOptionalText(errors, 'counterparty', c.counterparty, RISK_TITLE_MAX_LENGTH);
  checkOptionalText(errors, 'contractReference', c.contractReference, RISK_TITLE_MAX_LENGTH);
  const options = Array.isArray(c.options) ? TREATMENT_OPTIONS.filter((o) => c.options.includes(o)) : [];
  if (options.includes('SHARE')) {
    if (!isNonEmptyString(c.counterparty)) errors.add('counterparty', 'is required when sharing the risk (the outsourcee or insurer)');
    if (!isNonEmptyString(c.contractReference)) errors.add('contractReference', 'is required when sharing the risk (the contract or policy)');
  }
  errors.throwIfAny();

  if (state.status === 'TO_TREAT' && state.evaluation && state.evaluation.criteriaId !== criteria.id) {
    throw violation(
      'REEVALUATION_REQUIRED',
      `Risk ${state.id} was evaluated under criteria #${state.evaluation.criteriaNumber}; criteria #${criteria.number} are in force: evaluate it again`,
    );
  }

  const targetLevel = levelFor(criteria, c.targetLikelihood, c.targetImpact);
  if (!isWithinAcceptance(criteria, targetLevel)) {
    throw violation(
      'TARGET_ABOVE_ACCEPTANCE',
      `The target level ${targetLevel} (likelihood ${c.targetLikelihood}, impact ${c.targetImpact}) is above ` +
        `the acceptance level ${criteria.acceptanceLevel} of criteria #${criteria.number}`,
    );
  }

  const counterparty = isNonEmptyString(c.counterparty) ? c.counterparty.trim() : undefined;
  const contractReference = isNonEmptyString(c.contractReference) ? c.contractReference.trim() : undefined;
  const treatment: RiskTreatment = {
    options,
    rationale: c.rationale.trim(),
    targetLikelihood: c.targetLikelihood,
    targetImpact: c.targetImpact,
    targetLevel,
    ...(counterparty !== undefined ? { counterparty } : {}),
    ...(contractReference !== undefined ? { contractReference } : {}),
    criteriaId: criteria.id,
    criteriaNumber: criteria.number,
    decidedBy: c.actor.id,
    decidedAt: c.at,
  };

  if (state.status !== 'TO_TREAT' && state.treatment) {
    const key = (t: RiskTreatment) =>
      canonical({ ...t, decidedBy: undefined, decidedAt: undefined });
    if (key(state.treatment) === key(treatment)) return [];
  }

  let events = withConsentInvalidation(
    state,
    [{ type: 'RiskTreatmentDecided', data: { riskId: state.id, cycle: state.cycle, ...treatment } }],
    'TREATMENT_REVISED',
    c.at,
  );
  if (options.includes('AVOID')) {
    const closed: RiskClosed = {
      type: 'RiskClosed',
      data: { riskId: state.id, reason: 'AVOIDED', assetIds: [...state.assetIds], closedBy: c.actor.id, closedAt: c.at },
    };
    events = [...events, closed];
  }
  return events;
}

function decideControls(c: DecideControls, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'decide controls');
  refuseClosed(state, 'get controls');
  refuseFrozen(state, 'have its controls changed');
  if (!(TREATED_STATUSES as readonly RiskStatus[]).includes(state.status)) {
    throw violation('TREATMENT_REQUIRED', `Risk ${state.id} is ${state.status}: controls make a decided treatment concrete (decide the treatment first)`);
  }

  const errors = new FieldErrors();
  const decisionDate = c.at.slice(0, 10);
  if (!Array.isArray(c.controls) || c.controls.length === 0) errors.add('controls', 'must name at least one control');
  else {
    c.controls.forEach((ctl, k) => {
      const f = `controls[${k}]`;
      if (!isNonEmptyString(ctl?.controlId)) errors.add(`${f}.controlId`, 'is required');
      else if (c.controls.findIndex((x) => x?.controlId === ctl.controlId) !== k) errors.add(`${f}.controlId`, `duplicates ${ctl.controlId}`);
      checkText(errors, `${f}.title`, ctl?.title, RISK_TITLE_MAX_LENGTH);
      checkText(errors, `${f}.description`, ctl?.description);
      checkText(errors, `${f}.ownerId`, ctl?.ownerId);
      if (typeof ctl?.dueDate !== 'string' || !isRealDate(ctl.dueDate)) errors.add(`${f}.dueDate`, 'must be a real date written YYYY-MM-DD');
      else if (ctl.dueDate < decisionDate) errors.add(`${f}.dueDate`, `must not be before the decision date ${decisionDate}`);
      checkText(errors, `${f}.reason`, ctl?.reason);
      checkOptionalText(errors, `${f}.reference`, ctl?.reference, RISK_TITLE_MAX_LENGTH);
    });
  }
  errors.throwIfAny();

  const controls: RiskControl[] = c.controls.map((ctl) => ({
    controlId: ctl.controlId,
    title: ctl.title.trim(),
    description: ctl.description.trim(),
    ownerId: ctl.ownerId.trim(),
    dueDate: ctl.dueDate,
    reason: ctl.reason.trim(),
    ...(isNonEmptyString(ctl.reference) ? { reference: ctl.reference.trim() } : {}),
  }));
  if (state.status !== 'TREATMENT_DECIDED' && canonical(controls) === canonical(state.controls)) return [];

  return withConsentInvalidation(
    state,
    [{ type: 'ControlsDecided', data: { riskId: state.id, cycle: state.cycle, controls, decidedBy: c.actor.id, decidedAt: c.at } }],
    'CONTROLS_REVISED',
    c.at,
  );
}

function decideReassignOwner(c: ReassignRiskOwner, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'reassign risk owners');
  refuseClosed(state, 'change owner');
  refuseFrozen(state, 'change owner');
  const errors = new FieldErrors();
  checkText(errors, 'ownerId', c.ownerId);
  errors.throwIfAny();
  const ownerId = c.ownerId.trim();
  if (ownerId === state.ownerId) return [];
  return withConsentInvalidation(
    state,
    [{ type: 'RiskOwnerReassigned', data: { riskId: state.id, previousOwnerId: state.ownerId, ownerId, reassignedBy: c.actor.id, reassignedAt: c.at } }],
    'OWNER_REASSIGNED',
    c.at,
  );
}

// ---------------------------------------------------------------------------------------------
// decide: plan and residual consent (Art. 19, Art. 20), issued by the process manager
// ---------------------------------------------------------------------------------------------

const PLANNED_STATUSES: readonly RiskStatus[] = ['IN_PLAN', 'AWAITING_CONSENT', 'ACCEPTED'];

function decideIncludeInPlan(c: IncludeInPlan, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  refuseClosed(state, 'be planned');
  const errors = new FieldErrors();
  checkText(errors, 'planId', c.planId);
  errors.throwIfAny();
  if (state.planId === c.planId) return [];
  if (state.planId !== undefined) {
    throw violation('RISK_IN_OTHER_PLAN', `Risk ${state.id} is already an item of plan ${state.planId}, which is not closed: remove it there first`);
  }
  if (state.status !== 'CONTROLS_DECIDED') {
    throw violation('RISK_CONTROLS_NOT_DECIDED', `Risk ${state.id} is ${state.status}: only a risk whose controls are decided can be put in the plan (Art.19(1))`);
  }
  return [{ type: 'RiskIncludedInPlan', data: { riskId: state.id, planId: c.planId, includedAt: c.at } }];
}

function decideFreezeForBoard(c: FreezeForBoard, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  if (state.submittedInPlan === c.planId) return [];
  if (state.planId !== c.planId) throw violation('RISK_NOT_IN_PLAN', `Risk ${state.id} is not an item of plan ${c.planId}`);
  return [{ type: 'RiskSubmittedToBoard', data: { riskId: state.id, planId: c.planId, planRevision: c.planRevision, submittedAt: c.at } }];
}

function decideReleaseFromBoard(c: ReleaseFromBoard, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  if (state.submittedInPlan !== c.planId) return [];
  return [{ type: 'RiskReleasedFromBoard', data: { riskId: state.id, planId: c.planId, reason: c.reason, releasedAt: c.at } }];
}

function decideLeavePlan(c: LeavePlan, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  if (state.planId !== c.planId) return [];
  return [{ type: 'RiskLeftPlan', data: { riskId: state.id, planId: c.planId, reason: c.reason, leftAt: c.at } }];
}

function requireSamePlan(state: RiskState, planId: string): void {
  if (!PLANNED_STATUSES.includes(state.status) || state.planId !== planId) {
    throw violation('RISK_NOT_IN_PLAN', `Risk ${state.id} (${state.status}) is not an item of plan ${planId}`);
  }
}

function decideAwaitConsent(c: AwaitResidualConsent, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  refuseClosed(state, 'await consent');
  const errors = new FieldErrors();
  checkText(errors, 'planId', c.planId);
  if (!isIntIn(c.planRevision, 0, Number.MAX_SAFE_INTEGER)) errors.add('planRevision', 'must be a non-negative integer');
  errors.throwIfAny();
  requireSamePlan(state, c.planId);
  const consent = state.consent;
  if (state.status === 'AWAITING_CONSENT' && consent?.status === 'PENDING' && consent.planRevision === c.planRevision) return [];
  if (state.status === 'ACCEPTED' && consent?.status === 'ACCEPTED' && consent.planRevision === c.planRevision) return [];
  return [
    {
      type: 'RiskAwaitingResidualConsent',
      data: {
        riskId: state.id,
        planId: c.planId,
        planRevision: c.planRevision,
        ownerId: state.ownerId,
        fingerprint: consentFingerprint(state),
        atVersion: state.version,
        ...(state.treatment ? { residualLevel: state.treatment.targetLevel } : {}),
        requestedAt: c.at,
      },
    },
  ];
}

function decideRecordConsent(c: RecordResidualConsent, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  // Art. 20: the owner of that risk, no one else, whatever their roles.
  refuseAuditor(c.actor);
  if (c.actor.id !== state.ownerId) {
    throw new ForbiddenError(`Only the risk's owner (${state.ownerId}) may accept or decline its residual risk`);
  }
  refuseClosed(state, 'be consented to');
  const errors = new FieldErrors();
  checkText(errors, 'planId', c.planId);
  if (typeof c.accepted !== 'boolean') errors.add('accepted', 'must be true or false');
  else if (!c.accepted) checkText(errors, 'reason', c.reason);
  checkOptionalText(errors, 'statement', c.statement);
  errors.throwIfAny();
  const consent = state.consent;
  // Already in the requested state: nothing to do.
  if (consent && consent.planId === c.planId) {
    if (c.accepted && state.status === 'ACCEPTED' && consent.status === 'ACCEPTED') return [];
    if (!c.accepted && consent.status === 'DECLINED') return [];
  }
  requireSamePlan(state, c.planId);
  // An owner who consented may withdraw the consent (decline) until the risk changes again.
  const withdrawing = !c.accepted && state.status === 'ACCEPTED' && consent?.status === 'ACCEPTED';
  if (!withdrawing && (state.status !== 'AWAITING_CONSENT' || !consent)) {
    throw violation('CONSENT_NOT_REQUESTED', `Risk ${state.id} is ${state.status}: its owner has not been asked for consent`);
  }
  if (consent.status === 'STALE') {
    throw violation('CONSENT_STALE', `Risk ${state.id} changed after consent was requested (at version ${consent.atVersion}); the owner must be asked again`);
  }
  if (!consent) throw violation('CONSENT_NOT_REQUESTED', `Risk ${state.id} has no consent request`);
  if (consent.status !== 'PENDING' && !withdrawing) {
    throw violation('CONSENT_NOT_REQUESTED', `Risk ${state.id} has no pending consent request (${consent.status})`);
  }
  if (c.accepted) {
    const statement = isNonEmptyString(c.statement) ? c.statement.trim() : undefined;
    return [
      {
        type: 'ResidualRiskAcceptedByOwner',
        data: {
          riskId: state.id,
          planId: consent.planId,
          planRevision: consent.planRevision,
          ownerId: state.ownerId,
          fingerprint: consentFingerprint(state),
          atVersion: consent.atVersion,
          ...(state.treatment ? { residualLevel: state.treatment.targetLevel } : {}),
          ...(state.level !== undefined ? { level: state.level } : {}),
          ...((state.evaluation?.criteriaNumber ?? state.criteriaNumber) !== undefined ? { criteriaNumber: state.evaluation?.criteriaNumber ?? state.criteriaNumber } : {}),
          ...(statement !== undefined ? { statement } : {}),
          acceptedAt: c.at,
        },
      },
    ];
  }
  return [
    {
      type: 'ResidualRiskDeclinedByOwner',
      data: {
        riskId: state.id,
        planId: consent.planId,
        planRevision: consent.planRevision,
        ownerId: state.ownerId,
        reason: (c.reason as string).trim(),
        atVersion: consent.atVersion,
        declinedAt: c.at,
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// decide: review (Art. 12(3)-(4), Art. 10)
// ---------------------------------------------------------------------------------------------

function decideReview(c: RecordReview, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireOwnerOr(c.actor, state, ['COMMITTEE_MEMBER', 'CISO'], 'review this risk');
  if (state.reviews.some((r) => r.reviewId === c.reviewId)) return [];
  refuseClosed(state, 'be reviewed');
  const criteria = requireCriteria(c.criteria);
  if (state.status !== 'RETAINED' && state.status !== 'ACCEPTED') {
    throw violation('REVIEW_NOT_DUE', `Risk ${state.id} is ${state.status}: only a retained risk or one whose residual risk was accepted is reviewed`);
  }
  const errors = new FieldErrors();
  checkText(errors, 'reviewId', c.reviewId);
  if (typeof c.controlsInPlace !== 'boolean') errors.add('controlsInPlace', 'must be true or false');
  checkScale(errors, 'actualLikelihood', c.actualLikelihood, criteria.likelihoodLevels.length);
  checkScale(errors, 'actualImpact', c.actualImpact, criteria.impactLevels.length);
  checkOptionalText(errors, 'notes', c.notes);
  errors.throwIfAny();

  const actualLevel = levelFor(criteria, c.actualLikelihood, c.actualImpact);
  const targetLevel = reviewTarget(state, criteria);
  const targetRank = levelRank(criteria, targetLevel);
  // A target the criteria in force cannot place is treated as a gap (conservative: reassess).
  const finding = targetRank < 0 || levelRank(criteria, actualLevel) > targetRank;
  const interval = reviewIntervalDaysFor(criteria, actualLevel);
  const notes = isNonEmptyString(c.notes) ? c.notes.trim() : undefined;
  const events: RiskEvent[] = [
    {
      type: 'RiskReviewed',
      data: {
        riskId: state.id,
        reviewId: c.reviewId,
        cycle: state.cycle,
        controlsInPlace: c.controlsInPlace,
        actualLikelihood: c.actualLikelihood,
        actualImpact: c.actualImpact,
        actualLevel,
        targetLevel,
        finding,
        criteriaId: criteria.id,
        criteriaNumber: criteria.number,
        ...(notes !== undefined ? { notes } : {}),
        ...(interval !== undefined ? { reviewIntervalDays: interval } : {}),
        reviewedBy: c.actor.id,
        reviewedAt: c.at,
      },
    },
  ];
  if (finding) {
    events.push({
      type: 'RiskReassessmentOpened',
      data: { riskId: state.id, cycle: state.cycle + 1, previousCycle: state.cycle, reviewId: c.reviewId, ...(state.planId !== undefined ? { planId: state.planId } : {}), openedAt: c.at },
    });
  }
  return events;
}

/**
 * The level the review compares with: the treatment's target (ACCEPTED) or the evaluated level
 * (RETAINED). Recorded under other criteria, it is recomputed from its likelihood and impact
 * under the criteria in force when those fit the scales.
 */
function reviewTarget(state: RiskState, criteria: CriteriaVersionState): string {
  const source =
    state.status === 'ACCEPTED' && state.treatment
      ? { criteriaId: state.treatment.criteriaId, level: state.treatment.targetLevel, l: state.treatment.targetLikelihood, i: state.treatment.targetImpact }
      : state.evaluation
        ? { criteriaId: state.evaluation.criteriaId, level: state.evaluation.level, l: state.evaluation.likelihood, i: state.evaluation.impact }
        : undefined;
  if (!source) return state.level ?? '';
  if (source.criteriaId === criteria.id) return source.level;
  if (isIntIn(source.l, 1, criteria.likelihoodLevels.length) && isIntIn(source.i, 1, criteria.impactLevels.length)) {
    return levelFor(criteria, source.l, source.i);
  }
  return source.level;
}

// ---------------------------------------------------------------------------------------------
// decide
// ---------------------------------------------------------------------------------------------

export function decideRisk(command: RiskCommand, state: RiskState): RiskEvent[] {
  switch (command.type) {
    case 'IdentifyRisk':
      return decideIdentify(command, state);
    case 'AnalyseRisk':
      return decideAnalyse(command, state);
    case 'EvaluateRisk':
      return decideEvaluate(command, state);
    case 'DecideTreatment':
      return decideTreatment(command, state);
    case 'DecideControls':
      return decideControls(command, state);
    case 'ReassignRiskOwner':
      return decideReassignOwner(command, state);
    case 'IncludeInPlan':
      return decideIncludeInPlan(command, state);
    case 'FreezeForBoard':
      return decideFreezeForBoard(command, state);
    case 'ReleaseFromBoard':
      return decideReleaseFromBoard(command, state);
    case 'LeavePlan':
      return decideLeavePlan(command, state);
    case 'AwaitResidualConsent':
      return decideAwaitConsent(command, state);
    case 'RecordResidualConsent':
      return decideRecordConsent(command, state);
    case 'RecordReview':
      return decideReview(command, state);
    default: {
      const unknown: never = command;
      throw new Error(`Unknown risk command ${(unknown as { type: string }).type}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// evolve
// ---------------------------------------------------------------------------------------------

/** Current level: the highest analysis of the cycle among those under the criteria of its latest analysis. */
function withCurrentLevel(state: RiskState): RiskState {
  const cycle = state.analyses.filter((a) => a.cycle === state.cycle);
  const latest = cycle[cycle.length - 1];
  if (!latest) return { ...state, likelihood: undefined, impact: undefined, level: undefined, criteriaNumber: undefined, criteriaId: undefined, currentLevelRank: undefined };
  const top = highestAnalysis(
    cycle.filter((a) => a.criteriaId === latest.criteriaId),
    (a) => a.levelRank,
  )!;
  return { ...state, likelihood: top.likelihood, impact: top.impact, level: top.level, criteriaNumber: top.criteriaNumber, criteriaId: top.criteriaId, currentLevelRank: top.levelRank };
}

const REANALYSABLE: readonly RiskStatus[] = ['IDENTIFIED', 'ANALYSED', 'RETAINED', 'TO_TREAT'];

export function evolveRisk(state: RiskState, event: RiskEvent): RiskState {
  const version = state.version + 1;
  switch (event.type) {
    case 'RiskIdentified': {
      const d = event.data;
      return {
        ...initialRiskState,
        exists: true,
        id: d.riskId,
        version,
        title: d.title,
        description: d.description,
        assetIds: [...d.assetIds],
        threatId: d.threatId,
        threatAssetId: d.threatAssetId,
        vulnerabilityId: d.vulnerabilityId,
        ownerId: d.ownerId,
        externalReferences: [...d.externalReferences],
        status: 'IDENTIFIED',
        cycle: 1,
        identifiedAt: d.identifiedAt,
        identifiedBy: d.identifiedBy,
        updatedAt: d.identifiedAt,
      };
    }
    case 'RiskAnalysed': {
      const { riskId: _riskId, ...analysis } = event.data;
      const next: RiskState = {
        ...state,
        version,
        analyses: [...state.analyses, analysis],
        externalReferences: distinct([...state.externalReferences, ...analysis.externalReferences]),
        status: REANALYSABLE.includes(state.status) ? 'ANALYSED' : state.status,
        updatedAt: analysis.analysedAt,
      };
      // Same cycle and criteria as the current top: compare with it alone (a risk may carry
      // thousands of analyses; rescanning them on every event made replays quadratic).
      if (analysis.cycle === state.cycle && analysis.criteriaId === state.criteriaId && state.currentLevelRank !== undefined) {
        if (analysis.levelRank < state.currentLevelRank) return next;
        const { likelihood, impact, level, criteriaNumber, criteriaId, levelRank } = analysis;
        return { ...next, likelihood, impact, level, criteriaNumber, criteriaId, currentLevelRank: levelRank };
      }
      return withCurrentLevel(next);
    }
    case 'RiskEvaluated': {
      const d = event.data;
      const evaluation: RiskEvaluation = {
        cycle: d.cycle,
        criteriaId: d.criteriaId,
        criteriaNumber: d.criteriaNumber,
        level: d.level,
        likelihood: d.likelihood,
        impact: d.impact,
        decision: d.decision,
        assetValue: d.assetValue,
        levelRank: d.levelRank,
        analysisIds: [...d.analysisIds],
        evaluatedBy: d.evaluatedBy,
        evaluatedAt: d.evaluatedAt,
      };
      return {
        ...state,
        version,
        evaluation,
        likelihood: d.likelihood,
        impact: d.impact,
        level: d.level,
        criteriaNumber: d.criteriaNumber,
        criteriaId: d.criteriaId,
        status: d.decision,
        updatedAt: d.evaluatedAt,
      };
    }
    case 'RiskTreatmentDecided': {
      const { riskId: _riskId, cycle: _cycle, ...treatment } = event.data;
      return {
        ...state,
        version,
        treatment,
        status: state.status === 'TO_TREAT' ? 'TREATMENT_DECIDED' : state.status,
        updatedAt: treatment.decidedAt,
      };
    }
    case 'RiskClosed':
      return { ...state, version, status: 'CLOSED', closedAt: event.data.closedAt, closedReason: event.data.reason, updatedAt: event.data.closedAt };
    case 'ControlsDecided':
      return {
        ...state,
        version,
        controls: event.data.controls.map((c) => ({ ...c })),
        status: state.status === 'TREATMENT_DECIDED' ? 'CONTROLS_DECIDED' : state.status,
        updatedAt: event.data.decidedAt,
      };
    case 'RiskOwnerReassigned':
      return { ...state, version, ownerId: event.data.ownerId, updatedAt: event.data.reassignedAt };
    case 'RiskIncludedInPlan':
      return { ...state, version, planId: event.data.planId, status: 'IN_PLAN', updatedAt: event.data.includedAt };
    case 'RiskSubmittedToBoard':
      return { ...state, version, submittedInPlan: event.data.planId, updatedAt: event.data.submittedAt };
    case 'RiskReleasedFromBoard': {
      const { submittedInPlan: _frozen, ...rest } = state;
      return { ...rest, version, updatedAt: event.data.releasedAt };
    }
    case 'RiskLeftPlan': {
      const { submittedInPlan: _frozen, planId: _plan, ...rest } = state;
      // Still waiting for the plan (or its consent): back to its controls. ACCEPTED (the plan closed
      // after consent) and TO_TREAT (consent declined) keep their status.
      const status: RiskStatus = state.status === 'IN_PLAN' || state.status === 'AWAITING_CONSENT' ? 'CONTROLS_DECIDED' : state.status;
      return { ...rest, version, status, updatedAt: event.data.leftAt };
    }
    case 'RiskAwaitingResidualConsent': {
      const d = event.data;
      const { submittedInPlan: _frozen, ...rest } = state;
      return {
        ...rest,
        version,
        status: 'AWAITING_CONSENT',
        consent: { planId: d.planId, planRevision: d.planRevision, status: 'PENDING', atVersion: d.atVersion, fingerprint: d.fingerprint, ...(d.residualLevel !== undefined ? { residualLevel: d.residualLevel } : {}) },
        updatedAt: d.requestedAt,
      };
    }
    case 'ResidualRiskAcceptedByOwner': {
      const d = event.data;
      return {
        ...state,
        version,
        status: 'ACCEPTED',
        consent: { planId: d.planId, planRevision: d.planRevision, status: 'ACCEPTED', atVersion: d.atVersion, fingerprint: d.fingerprint, ...(d.residualLevel !== undefined ? { residualLevel: d.residualLevel } : {}) },
        updatedAt: d.acceptedAt,
      };
    }
    case 'ResidualRiskDeclinedByOwner': {
      const d = event.data;
      return {
        ...state,
        version,
        status: 'TO_TREAT',
        consent: {
          planId: d.planId,
          planRevision: d.planRevision,
          status: 'DECLINED',
          atVersion: d.atVersion,
          fingerprint: state.consent?.fingerprint ?? '',
          reason: d.reason,
        },
        updatedAt: d.declinedAt,
      };
    }
    case 'ResidualConsentInvalidated': {
      const d = event.data;
      return {
        ...state,
        version,
        status: 'AWAITING_CONSENT',
        consent: {
          planId: d.planId,
          planRevision: d.planRevision,
          status: 'STALE',
          atVersion: d.atVersion,
          fingerprint: state.consent?.fingerprint ?? '',
        },
        updatedAt: d.invalidatedAt,
      };
    }
    case 'RiskReviewed': {
      const { riskId: _riskId, reviewIntervalDays: _interval, ...review } = event.data;
      return { ...state, version, reviews: [...state.reviews, review], updatedAt: review.reviewedAt };
    }
    case 'RiskReassessmentOpened':
      return {
        ...state,
        version,
        status: 'IDENTIFIED',
        cycle: event.data.cycle,
        likelihood: undefined,
        impact: undefined,
        level: undefined,
        criteriaNumber: undefined,
        criteriaId: undefined,
        currentLevelRank: undefined,
        evaluation: undefined,
        treatment: undefined,
        controls: [],
        planId: undefined,
        consent: undefined,
        updatedAt: event.data.openedAt,
      };
    default:
      // An event type this build does not know: it still counts as a revision of the stream.
      return { ...state, version };
  }
}

export const riskDecider: Decider<RiskCommand, RiskEvent, RiskState> = {
  decide: decideRisk,
  evolve: evolveRisk,
  initialState: initialRiskState,
};
