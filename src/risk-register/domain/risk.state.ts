/**
 * State of the Risk aggregate (Chapter 4: Art. 14(1) identification through Art. 20 residual
 * consent and the Art. 12(3)-(4) review loop). One stream per risk: `risk-<id>` (riskStreams,
 * risk.events.ts).
 */
import type { SecurityProperty } from '../../asset-inventory/domain/asset.state.js';
import type { BaselineRequirementStatus } from '../../baseline-catalogues/domain/catalogue.state.js';
import type { AnalysisMethod, CriteriaDefinition } from '../../risk-criteria/domain/criteria.state.js';
import { isWithinAcceptance, levelFor } from '../../risk-criteria/domain/scoring.js';
import { isIntIn } from '../../shared/domain/guards.js';
import type { ControlProgress } from './control.state.js';

/** Lifecycle order (contract's RiskStatus). */
export const RISK_STATUSES = [
  'IDENTIFIED',
  'ANALYSED',
  'RETAINED',
  'TO_TREAT',
  'TREATMENT_DECIDED',
  'CONTROLS_DECIDED',
  'IN_PLAN',
  'AWAITING_CONSENT',
  'ACCEPTED',
  'CLOSED',
] as const;
export type RiskStatus = (typeof RISK_STATUSES)[number];

export const TREATMENT_OPTIONS = ['REDUCE', 'AVOID', 'SHARE'] as const;
export type TreatmentOption = (typeof TREATMENT_OPTIONS)[number];

export type EvaluationDecision = 'RETAINED' | 'TO_TREAT';
export type ConsentStatus = 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'STALE';

export interface BaselineResult {
  requirementId: string;
  status: BaselineRequirementStatus;
}

/** Inputs of a BASELINE analysis, as recorded (enough to recompute the level with the criteria version). */
export interface BaselineAnalysisInput {
  catalogueId: string;
  /** The catalogue's own name and version label at the time (audit convenience). */
  catalogueName: string;
  catalogueVersion: string;
  results: BaselineResult[];
  /** Impact (1..M) stated by the analyst. */
  impact: number;
  counts: { met: number; partial: number; notMet: number; notApplicable: number; applicable: number };
  /** (notMet + 0.5 x partial) / applicable. */
  gap: number;
}

/** Inputs of an INFORMAL analysis (the expert and the reasoning, Art. 15(2)(2)). */
export interface InformalAnalysisInput {
  likelihood: number;
  impact: number;
  expert: string;
  rationale: string;
}

/** One asset of a DETAILED analysis, with everything used to score it. */
export interface DetailedAssetAssessment {
  assetId: string;
  threatLevel: number;
  vulnerabilityLevel: number;
  /** threatLevel x vulnerabilityLevel (1..9). */
  score: number;
  /** The asset's ratings when analysed. */
  confidentiality: number;
  integrity: number;
  availability: number;
  /** Max of the ratings of the threat's `affects`. */
  assetValue: number;
  likelihood: number;
  impact: number;
  level: string;
}

/** Inputs of a DETAILED analysis (Art. 15(2)(3)). */
export interface DetailedAnalysisInput {
  threatId: string;
  /** The threat's affected properties used for the asset values. */
  affects: SecurityProperty[];
  assessments: DetailedAssetAssessment[];
}

export interface RiskAnalysis {
  analysisId: string;
  cycle: number;
  method: AnalysisMethod;
  criteriaId: string;
  criteriaNumber: number;
  likelihood: number;
  impact: number;
  level: string;
  /** Rank of `level` in the criteria version's riskLevels (0 = lowest). */
  levelRank: number;
  baseline?: BaselineAnalysisInput;
  informal?: InformalAnalysisInput;
  detailed?: DetailedAnalysisInput;
  /** References (Art. 15(3)) given with this analysis. */
  externalReferences: string[];
  /** Incidents at other firms cited (Art. 15(3)), recorded ones only; absent when none (RiskAnalysed schema version 2). */
  incidentIds?: string[];
  analysedBy: string;
  analysedAt: string;
}

/** The analyses of the current cycle under one criteria version. */
export interface CycleAnalyses {
  criteriaId: string;
  criteriaNumber: number;
  count: number;
  /** Methods applied, in order of first use (Art. 13(2)). */
  methods: AnalysisMethod[];
  /**
   * The assets a DETAILED analysis assessed, in order of first assessment: DETAILED applies to
   * the assets it names; BASELINE and INFORMAL name none and apply to the risk as a whole, so to
   * every asset of it (Art. 13(2), requiredMethodsMissing in evaluation.ts).
   */
  detailedAssetIds: string[];
  /** The highest-level analysis (the later one on a tie). */
  top: RiskAnalysis;
}

/**
 * How many analysis and review ids a risk remembers for idempotence. A command repeated after
 * more than this many later analyses (reviews) of the same risk would be recorded again; retries
 * are recognised long before that by their commandId (the command executor's idempotency key).
 */
export const RECENT_IDS_KEPT = 32;

export interface RiskEvaluation {
  cycle: number;
  criteriaId: string;
  criteriaNumber: number;
  level: string;
  likelihood: number;
  impact: number;
  decision: EvaluationDecision;
  /** Max value of the risk's assets (priority: level, then asset value, then age). */
  assetValue: number;
  levelRank: number;
  /** How many analyses of the cycle (under these criteria) the evaluation considered. */
  analysisCount: number;
  /** The analysis whose level the evaluation took (absent in evaluations recorded before schema version 2). */
  topAnalysisId?: string;
  evaluatedBy: string;
  evaluatedAt: string;
}

export interface RiskTreatment {
  options: TreatmentOption[];
  rationale: string;
  targetLikelihood: number;
  targetImpact: number;
  targetLevel: string;
  counterparty?: string;
  contractReference?: string;
  criteriaId: string;
  criteriaNumber: number;
  decidedBy: string;
  decidedAt: string;
}

export interface RiskControl {
  controlId: string;
  title: string;
  description: string;
  ownerId: string;
  /** YYYY-MM-DD */
  dueDate: string;
  /** Why the control was adopted (Art. 18(2): the document of controls and reasons). */
  reason: string;
  reference?: string;
}

/** Fingerprints of what the board decides on for a risk (boardContentOf in plan-and-consent.ts). */
export interface BoardContent {
  treatment: string;
  controls: string;
}

export interface RiskConsent {
  planId: string;
  planRevision: number;
  status: ConsentStatus;
  /**
   * Risk version this consent status refers to: the revision of the event that requested it
   * (PENDING), answered it (ACCEPTED / DECLINED) or invalidated it (STALE).
   */
  atVersion: number;
  /** consentFingerprint of what the owner is asked to consent to / consented to. */
  fingerprint: string;
  /** The residual level the owner is asked to accept / accepted (the treatment's target level). */
  residualLevel?: string;
  /** The residual level the board approved for the risk in that plan revision (when the request recorded it). */
  approvedResidualLevel?: string;
  /** A decline's reason. */
  reason?: string;
  /** An acceptance's statement, when the owner gave one (an acceptance sent again must carry the same). */
  statement?: string;
}

export interface RiskReview {
  reviewId: string;
  cycle: number;
  controlsInPlace: boolean;
  actualLikelihood: number;
  actualImpact: number;
  actualLevel: string;
  targetLevel: string;
  finding: boolean;
  criteriaId: string;
  criteriaNumber: number;
  notes?: string;
  reviewedBy: string;
  reviewedAt: string;
}

export interface RiskState {
  /** False until RiskIdentified. */
  exists: boolean;
  id: string;
  /** Revision of the stream's last event; -1 before identification. */
  version: number;
  title: string;
  description: string;
  assetIds: string[];
  threatId: string;
  /** The asset on which the threat is recorded (its `affects` drive a detailed analysis). */
  threatAssetId: string;
  vulnerabilityId: string;
  ownerId: string;
  /** Sources (Art. 15(3)), distinct, in order of first mention, from identification and analyses. */
  externalReferences: string[];
  status: RiskStatus;
  /** Assessment cycle, 1-based; a review finding opens the next. */
  cycle: number;
  /**
   * The current cycle's analyses, summarised per criteria version (what evaluation and the
   * current level need): the state stays the same size however many analyses a risk collects.
   * Every analysis itself is in the log and in the register read model's analyses table.
   */
  cycleAnalyses: CycleAnalyses[];
  /** Analyses recorded, all cycles. */
  analysisCount: number;
  /** Ids of the latest analyses (at most RECENT_IDS_KEPT), so that a repeated AnalyseRisk is recognised. */
  recentAnalysisIds: string[];
  /** The highest-level analysis of the current cycle (under the criteria of its latest analysis), or the evaluation's. */
  likelihood?: number;
  impact?: number;
  level?: string;
  criteriaNumber?: number;
  criteriaId?: string;
  /** Rank of `level` among the criteria's risk levels (kept so evolve can compare a new analysis in O(1)). */
  currentLevelRank?: number;
  evaluation?: RiskEvaluation;
  treatment?: RiskTreatment;
  controls: RiskControl[];
  /** How far each control has come (Art.18, 19), by control id; a control with no entry is PLANNED at 0%. */
  controlProgress: Record<string, ControlProgress>;
  /** The review due date already recorded (RiskReviewBecameDue), with its cycle. */
  reviewDueRecorded?: { cycle: number; dueOn: string };
  /**
   * The plan (not CLOSED) the risk is an item of. This stream owns that fact: joining a plan is
   * appended here at the version read, so a risk can never join two plans; it is cleared when
   * the plan removes the item, closes, or a review reopens the risk.
   */
  planId?: string;
  /** Set while that plan is SUBMITTED: the board decides on this content, so it is frozen (Art. 19). */
  submittedInPlan?: string;
  /**
   * The last submission to the board: which plan revision, and the target level it carried (the
   * content is frozen until the resolution, so that is the level the board decided on). A consent
   * request recorded without the approved level (builds before 2026-12-01 11:04) takes it from here.
   * `submittedAt`: an asset of the risk retired since then was not before the board (Art.20: the
   * owner accepts only what the board decided on; absent in a snapshot of a build before 2026-12-07).
   * `retiredAssetIds`: the risk's assets already retired then, as the submission read them; an asset
   * retired and not among them was retired after it in the log, whatever the clocks said (absent
   * for a submission recorded before 2026-12-08: ASSET_RETIRED then compares instants).
   */
  boardSubmission?: { planId: string; planRevision: number; targetLevel: string | null; content?: BoardContent; submittedAt?: string; retiredAssetIds?: string[] };
  consent?: RiskConsent;
  /**
   * The latest review, any cycle (the review schedule reads it; every review is in the register's
   * reviews table). null rather than absent, so that the state's keys keep one order however it
   * was built (read models store it as JSON and are compared byte for byte with a rebuild).
   */
  lastReview: RiskReview | null;
  /** Reviews recorded, all cycles. */
  reviewCount: number;
  /** Ids of the latest reviews (at most RECENT_IDS_KEPT), so that a repeated RecordReview is recognised. */
  recentReviewIds: string[];
  identifiedAt: string;
  identifiedBy: string;
  updatedAt: string;
  closedAt?: string;
  /** AVOIDED or WITHDRAWN (RiskClosed.reason). */
  closedReason?: string;
  /** A withdrawal's reason and who withdrew it (withdrawRisk); absent for an avoidance (its treatment says why and who). */
  closedExplanation?: string;
  closedBy?: string;
}

export const initialRiskState: RiskState = {
  exists: false,
  id: '',
  version: -1,
  title: '',
  description: '',
  assetIds: [],
  threatId: '',
  threatAssetId: '',
  vulnerabilityId: '',
  ownerId: '',
  externalReferences: [],
  status: 'IDENTIFIED',
  cycle: 1,
  cycleAnalyses: [],
  analysisCount: 0,
  recentAnalysisIds: [],
  controls: [],
  controlProgress: {},
  lastReview: null,
  reviewCount: 0,
  recentReviewIds: [],
  identifiedAt: '',
  identifiedBy: '',
  updatedAt: '',
};

/** Statuses from which the treatment decision exists (treatment decided or later, not closed). */
export const TREATED_STATUSES: readonly RiskStatus[] = ['TREATMENT_DECIDED', 'CONTROLS_DECIDED', 'IN_PLAN', 'AWAITING_CONSENT', 'ACCEPTED'];

/** The current cycle's analyses under one criteria version (undefined: none). */
export function cycleAnalysesUnder(state: RiskState, criteriaId: string): CycleAnalyses | undefined {
  return state.cycleAnalyses.find((c) => c.criteriaId === criteriaId);
}

/** `ids` with `id` added at the end, keeping the last RECENT_IDS_KEPT. */
export function rememberId(ids: readonly string[], id: string): string[] {
  // One copy: the oldest ids drop out as the new one comes in.
  const drop = Math.max(0, ids.length + 1 - RECENT_IDS_KEPT);
  const next = ids.slice(drop);
  next.push(id);
  return next;
}

/** The highest of the analyses by `rank` (later ones win ties). */
export function highestAnalysis(analyses: readonly RiskAnalysis[], rank: (a: RiskAnalysis) => number): RiskAnalysis | undefined {
  let best: RiskAnalysis | undefined;
  for (const a of analyses) if (best === undefined || rank(a) >= rank(best)) best = a;
  return best;
}

/** What of a criteria version places a level: its scales, its matrix and its labels. */
export type LevelScales = Pick<CriteriaDefinition, 'matrix' | 'riskLevels' | 'likelihoodLevels' | 'impactLevels'>;

/** What of the criteria in force needsReevaluation looks at. */
export interface CriteriaInForceView extends LevelScales {
  number: number;
  acceptanceLevel: string;
}

/** The residual level as recorded: its label, likelihood and impact, and the criteria it was recorded under. */
export interface RecordedResidual {
  level: string;
  likelihood: number;
  impact: number;
  criteriaNumber: number;
}

/**
 * The level a risk is meant to stay at (its residual risk), as recorded: the treatment's target
 * for a treated risk (treatment decided through accepted), the evaluated level for a retained
 * one; undefined for any other risk.
 */
export function recordedResidual(state: RiskState): RecordedResidual | undefined {
  const t = state.treatment;
  if ((TREATED_STATUSES as readonly RiskStatus[]).includes(state.status) && t) {
    return { level: t.targetLevel, likelihood: t.targetLikelihood, impact: t.targetImpact, criteriaNumber: t.criteriaNumber };
  }
  const e = state.evaluation;
  if (state.status === 'RETAINED' && e) return { level: e.level, likelihood: e.likelihood, impact: e.impact, criteriaNumber: e.criteriaNumber };
  return undefined;
}

/**
 * The one home of "the risk's residual level under these criteria" (Art.13(1), 17, 20, 12(3)):
 * the recorded residual (recordedResidual) placed on the matrix of `criteria` from its likelihood
 * and impact, matrix[l-1][i-1]. A label recorded under earlier criteria never stands for a level
 * the criteria in force place elsewhere (same labels, another matrix; or other labels). Under the
 * criteria it was recorded with, this is the recorded label. Undefined when there is no residual,
 * or when its likelihood or impact lie beyond the scales of `criteria` (they cannot place it: it
 * meets no acceptance level). Every build has recorded the likelihood and impact with the label;
 * a record without them would keep its label.
 */
export function residualLevelUnder(state: RiskState, criteria: LevelScales): string | undefined {
  const r = recordedResidual(state);
  if (!r) return undefined;
  if (r.likelihood === undefined || r.impact === undefined) return r.level;
  if (!isIntIn(r.likelihood, 1, criteria.likelihoodLevels.length) || !isIntIn(r.impact, 1, criteria.impactLevels.length)) return undefined;
  return levelFor(criteria, r.likelihood, r.impact);
}

/**
 * Art. 13(1), 16, 20: whether the risk's residual level placed on the matrix of `criteria`
 * (residualLevelUnder) is within their acceptance level: an owner may accept it, a plan may come
 * into force over its acceptance, and the risk needs no re-evaluation for it. False for a risk with
 * no residual level, or one the scales of `criteria` cannot place.
 */
export function residualMeetsAcceptance(state: RiskState, criteria: LevelScales & { acceptanceLevel: string }): boolean {
  const level = residualLevelUnder(state, criteria);
  return level !== undefined && isWithinAcceptance(criteria, level);
}

/**
 * Art. 16: whether the risk's analysed likelihood or impact lie beyond the scales of `criteria`
 * (analysed under criteria with longer scales): these criteria can neither place its level nor
 * compare it with their acceptance level, whatever its treatment's target (compliance probe of
 * 2026-12-05, F2: a treated risk analysed at 4 x 4 went through a plan the board decided under
 * 3 x 3 criteria). False for a risk not analysed.
 */
export function analysisBeyondScales(state: RiskState, criteria: LevelScales): boolean {
  if (state.likelihood === undefined || state.impact === undefined) return false;
  return !isIntIn(state.likelihood, 1, criteria.likelihoodLevels.length) || !isIntIn(state.impact, 1, criteria.impactLevels.length);
}

/**
 * Art. 13(1), 16, 20: whether an owner may accept the risk's residual risk under `criteria`, and a
 * plan come into force over that acceptance: its residual level within their acceptance level
 * (residualMeetsAcceptance) and its analysis on their scales (analysisBeyondScales). A plan in
 * force then holds no accepted risk that needsReevaluation for its criteria.
 */
export function acceptableUnder(state: RiskState, criteria: LevelScales & { acceptanceLevel: string }): boolean {
  return residualMeetsAcceptance(state, criteria) && !analysisBeyondScales(state, criteria);
}

/**
 * True when the risk must be looked at again under the criteria in force (the one home of this
 * rule; the register projection stores its result): an asset of the risk has left the inventory
 * (avoided elsewhere, Art.17) and the risk is still open and not accepted; analysed but not evaluated; evaluated (and
 * not yet treated) under another criteria version; analysed beyond the scales of the criteria in
 * force (analysisBeyondScales); or, for any risk not CLOSED, its residual
 * level under the criteria in force (residualLevelUnder: the evaluated level of a retained risk,
 * the treatment's target of a treated, planned or accepted one, placed on their matrix) no longer
 * meets their acceptance level (Art. 13(1), Art. 12(3)). A level they cannot place never meets it.
 */
export function needsReevaluation(state: RiskState, criteria: CriteriaInForceView | undefined, assetsRetired = false): boolean {
  if (!state.exists || state.status === 'CLOSED') return false;
  if (assetsRetired && state.status !== 'ACCEPTED') return true;
  if (state.status === 'ANALYSED') return true;
  if (!criteria) return false;
  if (analysisBeyondScales(state, criteria)) return true;
  const meets = residualMeetsAcceptance(state, criteria);
  if (state.status === 'RETAINED' || state.status === 'TO_TREAT') {
    if (state.evaluation?.criteriaNumber !== criteria.number) return true;
    return state.status === 'RETAINED' && !meets;
  }
  if ((TREATED_STATUSES as readonly RiskStatus[]).includes(state.status) && state.treatment) return !meets;
  return false;
}

/** Whether the risk's content is frozen because the plan it is in awaits the board (Art. 19). */
export function isFrozenForBoard(state: RiskState): boolean {
  return state.submittedInPlan !== undefined;
}
