import type { CriteriaDefinition } from '../../src/risk-criteria/domain/criteria.state.js';

/**
 * Risk criteria shared by the tests. A 3 x 3 register: likelihood rows (Rare, Possible, Likely)
 * x impact columns (Minor, Moderate, Severe):
 *
 *                  impact 1 Minor  2 Moderate  3 Severe
 *   likelihood 1 Rare      LOW       LOW        MEDIUM
 *   likelihood 2 Possible  LOW       MEDIUM     HIGH
 *   likelihood 3 Likely    MEDIUM    HIGH       HIGH
 *
 * acceptance LOW; impactByAssetValue [1, 2, 3]; baseline gap >= 0.25 -> likelihood 2, >= 0.5 -> 3;
 * detailed score >= 3 -> 2, >= 6 -> 3; BASELINE required from asset value 2, DETAILED from 3;
 * review LOW 365 d, MEDIUM 180 d, HIGH 90 d.
 */
export const criteria3x3 = (over: Partial<CriteriaDefinition> = {}): CriteriaDefinition => ({
  likelihoodLevels: ['Rare', 'Possible', 'Likely'],
  impactLevels: ['Minor', 'Moderate', 'Severe'],
  riskLevels: ['LOW', 'MEDIUM', 'HIGH'],
  matrix: [
    ['LOW', 'LOW', 'MEDIUM'],
    ['LOW', 'MEDIUM', 'HIGH'],
    ['MEDIUM', 'HIGH', 'HIGH'],
  ],
  acceptanceLevel: 'LOW',
  impactByAssetValue: [1, 2, 3],
  baselineGapThresholds: [0.25, 0.5],
  detailedLikelihoodThresholds: [3, 6],
  requiredMethods: [
    { minAssetValue: 2, method: 'BASELINE' },
    { minAssetValue: 3, method: 'DETAILED' },
  ],
  reviewIntervalDays: [
    { level: 'LOW', days: 365 },
    { level: 'MEDIUM', days: 180 },
    { level: 'HIGH', days: 90 },
  ],
  ...over,
});

/** The same register with title-case level labels, BASELINE required from value 1 and a 0.2 gap threshold (the criteria tests' own variant). */
export const criteriaTitleCase = (): CriteriaDefinition =>
  criteria3x3({
    riskLevels: ['Low', 'Medium', 'High'],
    matrix: [
      ['Low', 'Low', 'Medium'],
      ['Low', 'Medium', 'High'],
      ['Medium', 'High', 'High'],
    ],
    acceptanceLevel: 'Low',
    baselineGapThresholds: [0.2, 0.5],
    requiredMethods: [
      { minAssetValue: 1, method: 'BASELINE' },
      { minAssetValue: 3, method: 'DETAILED' },
    ],
    reviewIntervalDays: [
      { level: 'Low', days: 365 },
      { level: 'Medium', days: 180 },
      { level: 'High', days: 90 },
    ],
  });
