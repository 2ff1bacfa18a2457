/**
 * Evaluation (Art. 16): the risk's level compared with the acceptance level of the criteria in
 * force decides whether it is retained or treated. Every method the criteria require for the
 * value of the risk's assets must have been applied first (Art. 13(2)).
 */
import { isWithinAcceptance, levelRank, requiredMethodsFor, reviewIntervalDaysFor } from '../../risk-criteria/domain/scoring.js';
import { requireRole, violation } from '../../shared/domain/guards.js';
import type { EvaluateRisk } from './risk.commands.js';
import type { RiskEvent } from './risk.events.js';
import { RiskRules, refuseClosed, refuseFrozen, requireAssets, requireCriteria, requireRisk } from './risk.rules.js';
import { TREATED_STATUSES, cycleAnalysesUnder, type EvaluationDecision, type RiskState, type RiskStatus } from './risk.state.js';

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
  const applied = new Set(analyses.methods);
  const missing = requiredMethodsFor(criteria, assetValue).filter((m) => !applied.has(m));
  if (missing.length > 0) {
    throw violation(
      RiskRules.REQUIRED_METHOD_NOT_APPLIED,
      `Criteria #${criteria.number} require the ${missing.join(', ')} method${missing.length > 1 ? 's' : ''} for asset value ${assetValue}; ` +
        `not yet applied to risk ${state.id} in cycle ${state.cycle}`,
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
