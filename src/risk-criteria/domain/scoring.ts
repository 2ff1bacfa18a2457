/**
 * Scoring over one criteria version (Art. 13, Art. 15, Art. 16), exactly as the public contract
 * fixes it so that any two implementations agree:
 *
 * - level = matrix[likelihood-1][impact-1];
 * - baseline gap = (NOT_MET + 0.5 x PARTIAL) / (all results but NOT_APPLICABLE);
 * - a gap (or a detailed threat x vulnerability score) gives likelihood i+2 for the highest i
 *   with value >= thresholds[i], else 1;
 * - impact of an asset = impactByAssetValue[value-1];
 * - asset value = max of the ratings of the properties in play.
 *
 * Pure functions. A value outside the criteria's scales is a programming error here (deciders
 * validate their input first), so these throw RangeError rather than a DomainError.
 */
import type { AssetState, SecurityProperty } from '../../asset-inventory/domain/asset.state.js';
import type { BaselineRequirementStatus } from '../../baseline-catalogues/domain/catalogue.state.js';
import { ANALYSIS_METHODS, type AnalysisMethod, type CriteriaDefinition } from './criteria.state.js';

type Def = Pick<CriteriaDefinition, 'matrix' | 'riskLevels' | 'likelihoodLevels' | 'impactLevels'>;

function checkScale(value: number, size: number, what: string): void {
  if (!Number.isInteger(value) || value < 1 || value > size) {
    throw new RangeError(`${what} ${value} is outside 1..${size}`);
  }
}

/** Risk level label for a likelihood (1..N) and an impact (1..M): matrix[l-1][i-1]. */
export function levelFor(def: Def, likelihood: number, impact: number): string {
  checkScale(likelihood, def.likelihoodLevels.length, 'likelihood');
  checkScale(impact, def.impactLevels.length, 'impact');
  const level = def.matrix[likelihood - 1]?.[impact - 1];
  if (level === undefined) throw new RangeError(`matrix has no cell [${likelihood - 1}][${impact - 1}]`);
  return level;
}

/** Index of a level label in riskLevels (0 = lowest); -1 for a label the criteria do not define. */
export function levelRank(def: { readonly riskLevels: readonly string[] }, label: string): number {
  return def.riskLevels.indexOf(label);
}

/** Negative when a is lower than b, 0 when equal, positive when a is higher (by rank in riskLevels). */
export function compareLevels(def: Pick<CriteriaDefinition, 'riskLevels'>, a: string, b: string): number {
  return levelRank(def, a) - levelRank(def, b);
}

/** The highest of the given labels (first one on ties); undefined for an empty list. */
export function highestLevel(def: Pick<CriteriaDefinition, 'riskLevels'>, levels: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const l of levels) if (best === undefined || compareLevels(def, l, best) > 0) best = l;
  return best;
}

/** Art. 13(1): the level is at or below the acceptance level. An unknown label is never within acceptance. */
export function isWithinAcceptance(def: { readonly riskLevels: readonly string[]; readonly acceptanceLevel: string }, level: string): boolean {
  const rank = levelRank(def, level);
  return rank >= 0 && rank <= levelRank(def, def.acceptanceLevel);
}

export interface BaselineCounts {
  met: number;
  partial: number;
  notMet: number;
  notApplicable: number;
  /** All results but NOT_APPLICABLE: the gap's denominator. */
  applicable: number;
}

export function baselineCounts(results: ReadonlyArray<{ status: BaselineRequirementStatus }>): BaselineCounts {
  const c = { met: 0, partial: 0, notMet: 0, notApplicable: 0, applicable: 0 };
  for (const r of results) {
    if (r.status === 'MET') c.met++;
    else if (r.status === 'PARTIAL') c.partial++;
    else if (r.status === 'NOT_MET') c.notMet++;
    else if (r.status === 'NOT_APPLICABLE') c.notApplicable++;
    else throw new RangeError(`unknown baseline status ${String(r.status)}`);
  }
  c.applicable = c.met + c.partial + c.notMet;
  return c;
}

/**
 * (NOT_MET + 0.5 x PARTIAL) / (count excluding NOT_APPLICABLE), in 0..1. Throws RangeError when
 * nothing is applicable (the gap is undefined; the analysis must be refused before).
 */
export function baselineGap(results: ReadonlyArray<{ status: BaselineRequirementStatus }>): number {
  const c = baselineCounts(results);
  if (c.applicable === 0) throw new RangeError('baseline gap is undefined when every requirement is NOT_APPLICABLE');
  return (c.notMet + 0.5 * c.partial) / c.applicable;
}

/** value >= thresholds[i] gives i+2 for the highest such i, else 1. */
function likelihoodFromThresholds(thresholds: readonly number[], value: number): number {
  let likelihood = 1;
  thresholds.forEach((t, i) => {
    if (value >= t) likelihood = Math.max(likelihood, i + 2);
  });
  return likelihood;
}

/** Likelihood (1..N) for a baseline gap through baselineGapThresholds. */
export function likelihoodFromBaselineGap(def: Pick<CriteriaDefinition, 'baselineGapThresholds'>, gap: number): number {
  if (!Number.isFinite(gap) || gap < 0 || gap > 1) throw new RangeError(`baseline gap ${gap} is outside 0..1`);
  return likelihoodFromThresholds(def.baselineGapThresholds, gap);
}

/** Likelihood (1..N) for a detailed score (threatLevel x vulnerabilityLevel, 1..9) through detailedLikelihoodThresholds. */
export function likelihoodFromDetailed(def: Pick<CriteriaDefinition, 'detailedLikelihoodThresholds'>, score: number): number {
  if (!Number.isInteger(score) || score < 1 || score > 9) throw new RangeError(`detailed score ${score} is outside 1..9`);
  return likelihoodFromThresholds(def.detailedLikelihoodThresholds, score);
}

/** Impact (1..M) for an asset value (1..3): impactByAssetValue[value-1]. */
export function impactForAssetValue(def: Pick<CriteriaDefinition, 'impactByAssetValue'>, value: number): number {
  const impact = def.impactByAssetValue[value - 1];
  if (!Number.isInteger(value) || impact === undefined) throw new RangeError(`asset value ${value} is outside 1..${def.impactByAssetValue.length}`);
  return impact;
}

const RATING_OF: Record<SecurityProperty, 'confidentiality' | 'integrity' | 'availability'> = {
  CONFIDENTIALITY: 'confidentiality',
  INTEGRITY: 'integrity',
  AVAILABILITY: 'availability',
};

/**
 * Asset value over the properties in play: max of their ratings (all three at registration,
 * the threat's `affects` in a detailed analysis). An empty list means all three.
 */
export function assetValueFor(
  asset: Pick<AssetState, 'confidentiality' | 'integrity' | 'availability'>,
  properties: readonly SecurityProperty[],
): number {
  const props = properties.length > 0 ? properties : (['CONFIDENTIALITY', 'INTEGRITY', 'AVAILABILITY'] as const);
  return Math.max(...props.map((p) => asset[RATING_OF[p]]));
}

/** Art. 13(2): the distinct methods required for an asset of this value (minAssetValue <= value), in ANALYSIS_METHODS order. */
export function requiredMethodsFor(def: Pick<CriteriaDefinition, 'requiredMethods'>, assetValue: number): AnalysisMethod[] {
  const required = new Set(def.requiredMethods.filter((r) => r.minAssetValue <= assetValue).map((r) => r.method));
  return ANALYSIS_METHODS.filter((m) => required.has(m));
}

/** Review interval (days) the criteria set for a level; undefined when the criteria set none. */
export function reviewIntervalDaysFor(def: Pick<CriteriaDefinition, 'reviewIntervalDays'>, level: string): number | undefined {
  return def.reviewIntervalDays.find((r) => r.level === level)?.days;
}
