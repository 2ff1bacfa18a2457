/**
 * Evaluation (Art. 16): the risk's level compared with the acceptance level of the criteria in
 * force decides whether it is retained or treated. Every method the criteria require for the
 * value of each of the risk's assets must have been applied to that asset first (Art. 13(2)).
 */
import { isWithinAcceptance, levelRank, requiredMethodsFor, reviewIntervalDaysFor } from '../../risk-criteria/domain/scoring.js';
import type { AssetState } from '../../asset-inventory/domain/asset.state.js';
import type { AnalysisMethod, CriteriaVersionState } from '../../risk-criteria/domain/criteria.state.js';
import { requireRole, violation } from '../../shared/domain/guards.js';
import type { EvaluateRisk } from './risk.commands.js';
import type { RiskEvent } from './risk.events.js';
import { RiskRules, refuseClosed, refuseFrozen, requireAssets, requireCriteria, requireRisk } from './risk.rules.js';
import { TREATED_STATUSES, cycleAnalysesUnder, type CycleAnalyses, type EvaluationDecision, type RiskState, type RiskStatus } from './risk.state.js';

export function decideEvaluate(c: EvaluateRisk, state: RiskState): RiskEvent[] {
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
      RiskRules.RISK_ALREADY_IN_TREATMENT,
      `Risk ${state.id} is ${state.status}: its treatment is decided; revise the treatment instead of evaluating again`,
    );
  }

  const analyses = cycleAnalysesUnder(state, criteria.id);
  if (!analyses) {
    throw violation(
      RiskRules.ANALYSIS_REQUIRED,
      `Risk ${state.id} has no analysis in cycle ${state.cycle} under criteria #${criteria.number} (${criteria.id}): analyse it first`,
    );
  }

  const assets = requireAssets(c.assets, state.assetIds);
  const assetValue = Math.max(...assets.map((a) => a.value));
  const missing = requiredMethodsMissing(criteria, assets, analyses);
  if (missing.length > 0) {
    const parts = missing.map(
      ({ asset, methods }) => `the ${methods.join(', ')} method${methods.length > 1 ? 's' : ''} for asset "${asset.name}" (${asset.id}, value ${asset.value})`,
    );
    const detailed = missing.some((m) => m.methods.includes('DETAILED')) ? ' (a DETAILED analysis applies to the assets it assesses)' : '';
    throw violation(
      RiskRules.REQUIRED_METHOD_NOT_APPLIED,
      `Criteria #${criteria.number} require ${parts.join('; ')}; not yet applied to ${missing.length > 1 ? 'them' : 'it'} in risk ${state.id}'s cycle ${state.cycle}${detailed}`,
    );
  }

  // Ranks were taken under these same criteria when each analysis was recorded.
  const top = analyses.top;
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
        analysisCount: analyses.count,
        topAnalysisId: top.analysisId,
        ...(interval !== undefined ? { reviewIntervalDays: interval } : {}),
        evaluatedBy: c.actor.id,
        evaluatedAt: c.at,
      },
    },
  ];
}

/**
 * Art. 13(2): for each asset of the risk, the methods the criteria require for its value that
 * were not applied to it in the current cycle under these criteria (`analyses`); only the assets
 * that miss one, in the risk's order. A BASELINE or INFORMAL analysis names no asset: it assesses
 * the risk as a whole, so it applies to every asset of the risk. A DETAILED analysis applies to
 * the assets it assessed (CycleAnalyses.detailedAssetIds): one of a value-1 asset does not apply
 * DETAILED to the value-3 asset of the same risk.
 */
export function requiredMethodsMissing(
  criteria: Pick<CriteriaVersionState, 'requiredMethods'>,
  assets: readonly AssetState[],
  analyses: Pick<CycleAnalyses, 'methods' | 'detailedAssetIds'>,
): { asset: AssetState; methods: AnalysisMethod[] }[] {
  const appliedTo = (method: AnalysisMethod, asset: AssetState) =>
    method === 'DETAILED' ? analyses.detailedAssetIds.includes(asset.id) : analyses.methods.includes(method);
  return assets
    .map((asset) => ({ asset, methods: requiredMethodsFor(criteria, asset.value).filter((m) => !appliedTo(m, asset)) }))
    .filter((m) => m.methods.length > 0);
}
