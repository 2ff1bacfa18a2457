/**
 * The one `evolve` of the Risk aggregate: how each event (risk.events.ts) moves the state, from
 * identification (Art. 14(1)) through the review loop (Art. 12(3)-(4)). Every stage's events
 * pass here, so the status machine is read in one place. It never rejects: an event type this
 * build does not know still counts as a revision of the stream.
 */
import { distinct } from '../../shared/domain/guards.js';
import { evolveControlProgress } from './control-lifecycle.js';
import { acceptanceAnswer, boardContentOf } from './plan-and-consent.js';
import { isMaterialRiskEvent, type RiskEvent } from './risk.events.js';
import { initialRiskState, rememberId, type CycleAnalyses, type RiskAnalysis, type RiskConsent, type RiskEvaluation, type RiskState, type RiskStatus } from './risk.state.js';

/**
 * The cycle's summaries with one more analysis: its criteria's count, methods and top (a higher
 * or equal level replaces the top: the later one wins ties). O(1) in the number of analyses.
 */
function withAnalysis(summaries: readonly CycleAnalyses[], a: RiskAnalysis): CycleAnalyses[] {
  const i = summaries.findIndex((c) => c.criteriaId === a.criteriaId);
  const assessed = a.detailed?.assessments.map((x) => x.assetId) ?? [];
  if (i < 0) return [...summaries, { criteriaId: a.criteriaId, criteriaNumber: a.criteriaNumber, count: 1, methods: [a.method], detailedAssetIds: distinct(assessed), top: a }];
  const c = summaries[i]!;
  // Assigned after the spread, not written in its literal (see RiskAnalysed in evolveEvent).
  const next = { ...c };
  next.count = c.count + 1;
  if (!c.methods.includes(a.method)) next.methods = [...c.methods, a.method];
  if (!assessed.every((id) => c.detailedAssetIds.includes(id))) next.detailedAssetIds = distinct([...c.detailedAssetIds, ...assessed]);
  if (a.levelRank >= c.top.levelRank) next.top = a;
  return summaries.map((s, j) => (j === i ? next : s));
}

const REANALYSABLE: readonly RiskStatus[] = ['IDENTIFIED', 'ANALYSED', 'RETAINED', 'TO_TREAT'];

export function evolveRisk(state: RiskState, event: RiskEvent): RiskState {
  const next = evolveEvent(state, event);
  // An acceptance whose plan closed answered that plan: a material change since leaves the risk to
  // be planned again, with no question open to its owner (race probe of 2026-12-05: it was asked
  // again by a plan that could no longer ask, and stuck AWAITING_CONSENT for good).
  return state.status === 'ACCEPTED' && state.planId === undefined && isMaterialRiskEvent(event.type) ? { ...next, status: plannableStatus(next) } : next;
}

/** Where a risk outside any plan stands by what it holds: its controls decided, or its treatment. */
function plannableStatus(state: RiskState): RiskStatus {
  return state.controls.length > 0 ? 'CONTROLS_DECIDED' : state.treatment ? 'TREATMENT_DECIDED' : 'ANALYSED';
}

function evolveEvent(state: RiskState, event: RiskEvent): RiskState {
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
      // The hottest case of a long risk's history (and of a rebuild): one copy of the state, and the
      // lists copied only when they change.
      const refs = analysis.externalReferences;
      const externalReferences = refs.length === 0 || refs.every((r) => state.externalReferences.includes(r)) ? state.externalReferences : distinct([...state.externalReferences, ...refs]);
      const status = REANALYSABLE.includes(state.status) ? 'ANALYSED' : state.status;
      const recentAnalysisIds = rememberId(state.recentAnalysisIds, analysis.analysisId);
      const analysisCount = state.analysisCount + 1;
      // The copy's fields are assigned rather than written after a spread in its literal: V8 takes a
      // slow path for a literal's property that its spread already defined (2.7 µs against 0.6 for
      // this state's 30 fields), and Object.assign leaves a copy this wide in dictionary mode.
      const next = { ...state };
      next.version = version;
      next.analysisCount = analysisCount;
      next.recentAnalysisIds = recentAnalysisIds;
      next.externalReferences = externalReferences;
      next.status = status;
      next.updatedAt = analysis.analysedAt;
      // An analysis recorded for another cycle than the current one (none are) does not move the level.
      if (analysis.cycle !== state.cycle) return next;
      // Current level: the top analysis of the cycle under the criteria of its latest analysis.
      const cycleAnalyses = withAnalysis(state.cycleAnalyses, analysis);
      const top = cycleAnalyses.find((c) => c.criteriaId === analysis.criteriaId)!.top;
      next.cycleAnalyses = cycleAnalyses;
      next.likelihood = top.likelihood;
      next.impact = top.impact;
      next.level = top.level;
      next.criteriaNumber = top.criteriaNumber;
      next.criteriaId = top.criteriaId;
      next.currentLevelRank = top.levelRank;
      return next;
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
        analysisCount: d.analysisCount,
        ...(d.topAnalysisId !== undefined ? { topAnalysisId: d.topAnalysisId } : {}),
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
      return {
        ...state,
        version,
        status: 'CLOSED',
        closedAt: event.data.closedAt,
        closedReason: event.data.reason,
        ...(event.data.explanation !== undefined ? { closedExplanation: event.data.explanation, closedBy: event.data.closedBy } : {}),
        updatedAt: event.data.closedAt,
      };
    case 'ControlsDecided':
      return {
        ...state,
        version,
        controls: event.data.controls.map((c) => ({ ...c })),
        // A control decided again (same id) keeps its progress; one left out takes its progress with it.
        controlProgress: Object.fromEntries(event.data.controls.flatMap((c) => (state.controlProgress?.[c.controlId] ? [[c.controlId, state.controlProgress[c.controlId]!]] : []))),
        status: state.status === 'TREATMENT_DECIDED' ? 'CONTROLS_DECIDED' : state.status,
        updatedAt: event.data.decidedAt,
      };
    case 'RiskOwnerReassigned':
      return { ...state, version, ownerId: event.data.ownerId, updatedAt: event.data.reassignedAt };
    case 'RiskIncludedInPlan':
      return { ...state, version, planId: event.data.planId, status: 'IN_PLAN', updatedAt: event.data.includedAt };
    case 'RiskSubmittedToBoard': {
      // The content is frozen from here until the resolution: what the board decides on (boardContentOf).
      const boardSubmission = {
        planId: event.data.planId,
        planRevision: event.data.planRevision,
        targetLevel: state.treatment?.targetLevel ?? null,
        content: boardContentOf(state),
        submittedAt: event.data.submittedAt,
        ...(event.data.retiredAssetIds ? { retiredAssetIds: event.data.retiredAssetIds } : {}),
      };
      return { ...state, version, submittedInPlan: event.data.planId, boardSubmission, updatedAt: event.data.submittedAt };
    }
    case 'RiskReleasedFromBoard': {
      const { submittedInPlan: _frozen, ...rest } = state;
      return { ...rest, version, updatedAt: event.data.releasedAt };
    }
    case 'RiskLeftPlan': {
      const { submittedInPlan: _frozen, planId: _plan, consent, ...rest } = state;
      // Still waiting for the plan (or its consent): back to its controls. ACCEPTED (the plan closed
      // after consent) and TO_TREAT (consent declined) keep their status.
      const status: RiskStatus = state.status === 'IN_PLAN' || state.status === 'AWAITING_CONSENT' ? 'CONTROLS_DECIDED' : state.status;
      // A question that plan no longer asks (PENDING, STALE) leaves with it; an answer the owner
      // gave (ACCEPTED, DECLINED) stays, as the record of what was said to which plan.
      const openQuestion = consent !== undefined && consent.planId === event.data.planId && (consent.status === 'PENDING' || consent.status === 'STALE');
      return { ...rest, ...(consent && !openQuestion ? { consent } : {}), version, status, updatedAt: event.data.leftAt };
    }
    case 'RiskAwaitingResidualConsent': {
      const d = event.data;
      const { submittedInPlan: _frozen, ...rest } = state;
      const approvedResidualLevel = d.approvedResidualLevel ?? approvedLevelWhenUnrecorded(state, d.planId, d.planRevision);
      return {
        ...rest,
        version,
        status: 'AWAITING_CONSENT',
        consent: {
          planId: d.planId,
          planRevision: d.planRevision,
          status: 'PENDING',
          atVersion: d.atVersion,
          fingerprint: d.fingerprint,
          ...(d.residualLevel !== undefined ? { residualLevel: d.residualLevel } : {}),
          ...(approvedResidualLevel !== undefined ? { approvedResidualLevel } : {}),
        },
        updatedAt: d.requestedAt,
      };
    }
    case 'ResidualRiskAcceptedByOwner': {
      const d = event.data;
      return {
        ...state,
        version,
        status: 'ACCEPTED',
        consent: {
          ...acceptanceAnswer(d),
          ...(d.residualLevel !== undefined ? { residualLevel: d.residualLevel } : {}),
          ...approvedLevelOf(state.consent),
          ...(d.statement !== undefined ? { statement: d.statement } : {}),
        },
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
          fingerprint: d.fingerprint ?? state.consent?.fingerprint ?? '',
          reason: d.reason,
        },
        updatedAt: d.declinedAt,
      };
    }
    case 'ResidualConsentInvalidated': {
      const d = event.data;
      // Logged by builds before 2026-12-05 after a material change to a risk whose plan had closed:
      // no plan asks that question any more (the change itself left the risk to be planned again).
      if (state.planId === undefined) return { ...state, version };
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
          ...approvedLevelOf(state.consent),
        },
        updatedAt: d.invalidatedAt,
      };
    }
    case 'RiskReviewed': {
      const { riskId: _riskId, reviewIntervalDays: _interval, ...review } = event.data;
      return {
        ...state,
        version,
        lastReview: review,
        reviewCount: state.reviewCount + 1,
        recentReviewIds: rememberId(state.recentReviewIds, review.reviewId),
        updatedAt: review.reviewedAt,
      };
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
        cycleAnalyses: [],
        evaluation: undefined,
        treatment: undefined,
        controls: [],
        controlProgress: {},
        planId: undefined,
        consent: undefined,
        updatedAt: event.data.openedAt,
      };
    case 'ControlProgressRecorded':
    case 'ControlBecameOverdue':
      return evolveControlProgress(state, event, version);
    case 'RiskReviewBecameDue':
      return { ...state, version, reviewDueRecorded: { cycle: state.cycle, dueOn: event.data.dueOn } };
    default:
      // An event type this build does not know: it still counts as a revision of the stream.
      return { ...state, version };
  }
}

/**
 * The level the board approved, carried from a consent to the next one of the same request
 * (answered, made stale); absent (no key, so that states folded from older events keep their
 * exact JSON) when the request did not record it.
 */
/**
 * The level the board approved, for a consent request recorded without it (builds before
 * 2026-12-01 11:04 did not record it, and their requests let an owner accept a target level
 * changed after the approval): the same request's level when asked again, else the target level
 * the risk carried when it was submitted to the board in that plan revision.
 */
function approvedLevelWhenUnrecorded(state: RiskState, planId: string, planRevision: number): string | undefined {
  const consent = state.consent;
  if (consent?.planId === planId && consent.planRevision === planRevision && consent.approvedResidualLevel !== undefined) return consent.approvedResidualLevel;
  const submitted = state.boardSubmission;
  return submitted?.planId === planId && submitted.planRevision === planRevision && submitted.targetLevel !== null ? submitted.targetLevel : undefined;
}

function approvedLevelOf(consent: RiskConsent | undefined): { approvedResidualLevel?: string } {
  return consent?.approvedResidualLevel !== undefined ? { approvedResidualLevel: consent.approvedResidualLevel } : {};
}
