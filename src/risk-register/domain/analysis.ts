/**
 * Analysis (Art. 15): the risk's likelihood, impact and level under the criteria in force, by the
 * baseline (Art. 15(2)(1)), informal (Art. 15(2)(2)) or detailed (Art. 15(2)(3)) method, with
 * the sources cited (Art. 15(3)). A new analysis of a risk whose owner consented invalidates the
 * consent (Art. 20).
 */
import type { SecurityProperty } from '../../asset-inventory/domain/asset.state.js';
import {
  BASELINE_REQUIREMENT_STATUSES,
  type BaselineCatalogueState,
  type BaselineRequirementStatus,
} from '../../baseline-catalogues/domain/catalogue.state.js';
import { ANALYSIS_METHODS } from '../../risk-criteria/domain/criteria.state.js';
import {
  assetValueFor,
  baselineCounts,
  baselineGap,
  impactForAssetValue,
  levelFor,
  levelRank,
  likelihoodFromBaselineGap,
  likelihoodFromDetailed,
} from '../../risk-criteria/domain/scoring.js';
import { FieldErrors, NotFoundError } from '../../shared/domain/errors.js';
import { checkIntIn, distinct, isIntIn, isNonEmptyText, isPresent, requiredText, textList } from '../../shared/domain/guards.js';
import type { AnalyseRisk } from './risk.commands.js';
import type { RiskEvent } from './risk.events.js';
import {
  DETAILED_LEVEL_MAX,
  DETAILED_LEVEL_MIN,
  RISK_TEXT_MAX_LENGTH,
  RISK_TITLE_MAX_LENGTH,
  findAsset,
  refuseClosed,
  refuseFrozen,
  requireAssets,
  requireCriteria,
  requireOwnerOr,
  requireRisk,
  withConsentInvalidation,
} from './risk.rules.js';
import type {
  BaselineAnalysisInput,
  BaselineResult,
  DetailedAnalysisInput,
  DetailedAssetAssessment,
  InformalAnalysisInput,
  RiskAnalysis,
  RiskState,
} from './risk.state.js';

const METHOD_PART = { BASELINE: 'baseline', INFORMAL: 'informal', DETAILED: 'detailed' } as const;

export function decideAnalyse(c: AnalyseRisk, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireOwnerOr(c.actor, state, ['COMMITTEE_MEMBER', 'CISO'], 'analyse this risk');
  if (state.recentAnalysisIds.includes(c.analysisId)) return [];
  refuseClosed(state, 'be analysed');
  refuseFrozen(state, 'be analysed');
  const criteria = requireCriteria(c.criteria);
  const N = criteria.likelihoodLevels.length;
  const M = criteria.impactLevels.length;

  const errors = new FieldErrors();
  errors.check(isNonEmptyText(c.analysisId), 'analysisId', 'is required');
  const method = c.method;
  const methodKnown = (ANALYSIS_METHODS as readonly unknown[]).includes(method);
  if (!methodKnown) errors.add('method', `must be one of ${ANALYSIS_METHODS.join(', ')}`);
  const externalReferences = textList(errors, 'externalReferences', c.externalReferences, RISK_TEXT_MAX_LENGTH);
  const incidentIds = citedIncidents(errors, c);
  if (methodKnown) {
    for (const m of ANALYSIS_METHODS) {
      const part = METHOD_PART[m];
      const given = isPresent(c[part]);
      if (m === method && !given) errors.add(part, `is required for method ${method}`);
      if (m !== method && given) errors.add(part, `must be absent for method ${method}`);
    }
  }

  // BASELINE: the catalogue must exist before its requirements can be checked.
  const b = method === 'BASELINE' && isPresent(c.baseline) ? c.baseline! : undefined;
  let catalogue: BaselineCatalogueState | undefined;
  if (b) {
    if (!isNonEmptyText(b.catalogueId)) errors.add('baseline.catalogueId', 'is required');
    else {
      catalogue = c.catalogue && c.catalogue.exists && c.catalogue.id === b.catalogueId ? c.catalogue : undefined;
      if (!catalogue) throw new NotFoundError('BaselineCatalogue', b.catalogueId);
    }
    checkIntIn(errors, 'baseline.impact', b.impact, 1, M);
    if (!Array.isArray(b.results)) errors.add('baseline.results', 'must be a list of results');
    else if (catalogue) checkBaselineResults(errors, b.results, catalogue);
  }

  const i = method === 'INFORMAL' && isPresent(c.informal) ? c.informal! : undefined;
  if (i) {
    checkIntIn(errors, 'informal.likelihood', i.likelihood, 1, N);
    checkIntIn(errors, 'informal.impact', i.impact, 1, M);
    requiredText(errors, 'informal.expert', i.expert, RISK_TITLE_MAX_LENGTH);
    requiredText(errors, 'informal.rationale', i.rationale, RISK_TEXT_MAX_LENGTH);
  }

  const d = method === 'DETAILED' && isPresent(c.detailed) ? c.detailed! : undefined;
  if (d) {
    if (!Array.isArray(d.assessments) || d.assessments.length === 0) errors.add('detailed.assessments', 'must assess at least one of the risk\'s assets');
    else {
      d.assessments.forEach((a, k) => {
        const f = `detailed.assessments[${k}]`;
        if (!isNonEmptyText(a?.assetId) || !state.assetIds.includes(a.assetId)) {
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
    ...(incidentIds.length ? { incidentIds } : {}),
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
    if (!isNonEmptyText(r?.requirementId)) errors.add(`${f}.requirementId`, 'is required');
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

/** The incidents at other firms an analysis cites (Art. 15(3)): recorded ones only, each once. */
function citedIncidents(errors: FieldErrors, c: AnalyseRisk): string[] {
  if (!isPresent(c.incidentIds)) return [];
  if (!Array.isArray(c.incidentIds)) {
    errors.add('incidentIds', 'must be a list of incident ids');
    return [];
  }
  const known = new Set(c.knownIncidentIds ?? []);
  c.incidentIds.forEach((id, k) => {
    if (!isNonEmptyText(id) || !known.has(id)) errors.add(`incidentIds[${k}]`, `is not a recorded incident: ${String(id)}`);
  });
  return distinct(c.incidentIds.filter((id) => known.has(id)));
}
