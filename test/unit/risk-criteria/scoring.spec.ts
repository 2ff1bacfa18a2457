import type { CriteriaDefinition } from '../../../src/risk-criteria/domain/criteria.state.js';
import {
  assetValueFor,
  baselineCounts,
  baselineGap,
  compareLevels,
  highestLevel,
  impactForAssetValue,
  isWithinAcceptance,
  levelFor,
  levelRank,
  likelihoodFromBaselineGap,
  likelihoodFromDetailed,
  requiredMethodsFor,
  reviewIntervalDaysFor,
} from '../../../src/risk-criteria/domain/scoring.js';
import type { BaselineRequirementStatus } from '../../../src/baseline-catalogues/domain/catalogue.state.js';
import { criteriaV1, hotWallet, opsWiki, printer } from '../risk-register/fixtures.js';

/**
 * A 4x5 criteria version (N = 4 likelihood levels, M = 5 impact levels, 4 risk levels) to be
 * sure nothing assumes a square 3x3 matrix:
 *
 *                 i=1   i=2   i=3   i=4   i=5
 *   l=1          VL    VL    L     L     M
 *   l=2          VL    L     L     M     H
 *   l=3          L     L     M     H     H
 *   l=4          L     M     H     H     H
 */
const wide: CriteriaDefinition = {
  likelihoodLevels: ['1', '2', '3', '4'],
  impactLevels: ['a', 'b', 'c', 'd', 'e'],
  riskLevels: ['VL', 'L', 'M', 'H'],
  matrix: [
    ['VL', 'VL', 'L', 'L', 'M'],
    ['VL', 'L', 'L', 'M', 'H'],
    ['L', 'L', 'M', 'H', 'H'],
    ['L', 'M', 'H', 'H', 'H'],
  ],
  acceptanceLevel: 'L',
  impactByAssetValue: [2, 3, 5],
  baselineGapThresholds: [0.2, 0.4, 0.7],
  detailedLikelihoodThresholds: [2, 4, 8],
  requiredMethods: [
    { minAssetValue: 1, method: 'INFORMAL' },
    { minAssetValue: 2, method: 'BASELINE' },
    { minAssetValue: 2, method: 'INFORMAL' },
    { minAssetValue: 3, method: 'DETAILED' },
  ],
  reviewIntervalDays: [
    { level: 'VL', days: 730 },
    { level: 'H', days: 30 },
  ],
};

const statuses = (...s: BaselineRequirementStatus[]) => s.map((status) => ({ status }));

describe('levelFor: matrix[likelihood-1][impact-1]', () => {
  it.each([
    [1, 1, 'LOW'], // matrix[0][0]
    [1, 3, 'MEDIUM'], // matrix[0][2]
    [2, 2, 'MEDIUM'], // matrix[1][1]
    [2, 3, 'HIGH'], // matrix[1][2]
    [3, 1, 'MEDIUM'], // matrix[2][0]
    [3, 3, 'HIGH'], // matrix[2][2]
  ])('3x3: likelihood %i, impact %i -> %s', (l, i, level) => {
    expect(levelFor(criteriaV1, l, i)).toBe(level);
  });

  it('uses likelihood as the row and impact as the column on a non-square matrix', () => {
    expect(levelFor(wide, 1, 5)).toBe('M'); // matrix[0][4]
    expect(levelFor(wide, 4, 1)).toBe('L'); // matrix[3][0]
    expect(levelFor(wide, 2, 4)).toBe('M'); // matrix[1][3]
  });

  it('refuses values outside the scales', () => {
    expect(() => levelFor(criteriaV1, 0, 1)).toThrow(RangeError); // likelihood 0 < 1
    expect(() => levelFor(criteriaV1, 1, 4)).toThrow(RangeError); // impact 4 > M = 3
    expect(() => levelFor(wide, 5, 1)).toThrow(RangeError); // likelihood 5 > N = 4
    expect(() => levelFor(criteriaV1, 1.5, 1)).toThrow(RangeError); // not an integer
  });
});

describe('levelRank, compareLevels, highestLevel, isWithinAcceptance', () => {
  it('ranks by position in riskLevels, -1 when unknown', () => {
    expect(levelRank(criteriaV1, 'LOW')).toBe(0);
    expect(levelRank(criteriaV1, 'MEDIUM')).toBe(1);
    expect(levelRank(criteriaV1, 'HIGH')).toBe(2);
    expect(levelRank(criteriaV1, 'CRITICAL')).toBe(-1);
  });

  it('compares levels by rank', () => {
    expect(compareLevels(criteriaV1, 'HIGH', 'LOW')).toBeGreaterThan(0); // 2 - 0 = 2
    expect(compareLevels(criteriaV1, 'LOW', 'MEDIUM')).toBeLessThan(0); // 0 - 1 = -1
    expect(compareLevels(criteriaV1, 'MEDIUM', 'MEDIUM')).toBe(0); // 1 - 1
  });

  it('finds the highest level of a list', () => {
    expect(highestLevel(criteriaV1, ['LOW', 'HIGH', 'MEDIUM'])).toBe('HIGH'); // ranks 0, 2, 1
    expect(highestLevel(wide, ['L', 'VL', 'M', 'L'])).toBe('M'); // ranks 1, 0, 2, 1
    expect(highestLevel(criteriaV1, [])).toBeUndefined();
  });

  it('is within acceptance when rank <= rank of the acceptance level', () => {
    expect(isWithinAcceptance(criteriaV1, 'LOW')).toBe(true); // 0 <= 0
    expect(isWithinAcceptance(criteriaV1, 'MEDIUM')).toBe(false); // 1 > 0
    expect(isWithinAcceptance({ ...criteriaV1, acceptanceLevel: 'MEDIUM' }, 'MEDIUM')).toBe(true); // 1 <= 1
    expect(isWithinAcceptance(wide, 'VL')).toBe(true); // 0 <= 1
    expect(isWithinAcceptance(wide, 'L')).toBe(true); // 1 <= 1
    expect(isWithinAcceptance(wide, 'M')).toBe(false); // 2 > 1
    expect(isWithinAcceptance(criteriaV1, 'UNKNOWN')).toBe(false); // rank -1: never within
  });
});

describe('baselineGap = (NOT_MET + 0.5 x PARTIAL) / (count excluding NOT_APPLICABLE)', () => {
  it('computes the gap', () => {
    expect(baselineGap(statuses('MET', 'PARTIAL', 'NOT_MET', 'NOT_MET', 'MET'))).toBe(0.5); // (2 + 0.5*1)/5 = 0.5
    expect(baselineGap(statuses('MET', 'MET', 'MET', 'MET'))).toBe(0); // (0 + 0)/4 = 0
    expect(baselineGap(statuses('NOT_MET', 'NOT_MET'))).toBe(1); // (2 + 0)/2 = 1
    expect(baselineGap(statuses('PARTIAL', 'MET', 'MET', 'MET'))).toBe(0.125); // (0 + 0.5*1)/4 = 0.125
  });

  it('leaves NOT_APPLICABLE out of the denominator', () => {
    // (1 + 0.5*1)/(5 - 2) = 1.5/3 = 0.5
    expect(baselineGap(statuses('NOT_MET', 'PARTIAL', 'MET', 'NOT_APPLICABLE', 'NOT_APPLICABLE'))).toBe(0.5);
    // (0 + 0.5*2)/(4 - 1) = 1/3
    expect(baselineGap(statuses('PARTIAL', 'PARTIAL', 'MET', 'NOT_APPLICABLE'))).toBeCloseTo(1 / 3, 12);
  });

  it('counts each status', () => {
    expect(baselineCounts(statuses('MET', 'PARTIAL', 'NOT_MET', 'NOT_APPLICABLE', 'NOT_MET'))).toEqual({
      met: 1,
      partial: 1,
      notMet: 2,
      notApplicable: 1,
      applicable: 4, // 1 + 1 + 2
    });
  });

  it('is undefined when nothing is applicable', () => {
    expect(() => baselineGap(statuses('NOT_APPLICABLE', 'NOT_APPLICABLE'))).toThrow(RangeError); // 0/0
    expect(() => baselineGap([])).toThrow(RangeError);
  });
});

describe('likelihoodFromBaselineGap: gap >= t[i] gives i+2 (highest i), else 1', () => {
  it.each([
    [0, 1], // 0 < t[0]=0.25 -> 1
    [0.24, 1], // 0.24 < 0.25 -> 1
    [0.25, 2], // 0.25 >= t[0]=0.25 -> 0+2 = 2
    [0.49, 2], // < t[1]=0.5 -> 2
    [0.5, 3], // >= t[1]=0.5 -> 1+2 = 3
    [1, 3], // >= t[1] -> 3
  ])('3x3 thresholds [0.25, 0.5]: gap %f -> likelihood %i', (gap, l) => {
    expect(likelihoodFromBaselineGap(criteriaV1, gap)).toBe(l);
  });

  it('uses every threshold of a longer scale', () => {
    expect(likelihoodFromBaselineGap(wide, 0.1)).toBe(1); // < 0.2
    expect(likelihoodFromBaselineGap(wide, 0.2)).toBe(2); // >= t[0]=0.2 -> 2
    expect(likelihoodFromBaselineGap(wide, 0.4)).toBe(3); // >= t[1]=0.4 -> 3
    expect(likelihoodFromBaselineGap(wide, 0.7)).toBe(4); // >= t[2]=0.7 -> 4
    // a gap computed from results lands exactly on a decimal threshold: (3 + 0)/10 = 0.3 ... < 0.4 -> 2
    expect(likelihoodFromBaselineGap(wide, baselineGap(statuses('NOT_MET', 'NOT_MET', 'NOT_MET', ...Array(7).fill('MET'))))).toBe(2);
    // (3 + 0.5*2)/10 = 0.4 >= t[1]=0.4 -> 3
    expect(
      likelihoodFromBaselineGap(wide, baselineGap(statuses('NOT_MET', 'NOT_MET', 'NOT_MET', 'PARTIAL', 'PARTIAL', ...Array(5).fill('MET')))),
    ).toBe(3);
  });

  it('refuses a gap outside 0..1', () => {
    expect(() => likelihoodFromBaselineGap(criteriaV1, -0.1)).toThrow(RangeError);
    expect(() => likelihoodFromBaselineGap(criteriaV1, 1.1)).toThrow(RangeError);
    expect(() => likelihoodFromBaselineGap(criteriaV1, Number.NaN)).toThrow(RangeError);
  });
});

describe('likelihoodFromDetailed: threat x vulnerability >= t[i] gives i+2, else 1', () => {
  it.each([
    [1, 1], // 1x1 = 1 < t[0]=3 -> 1
    [2, 1], // 1x2 = 2 < 3 -> 1
    [3, 2], // 1x3 = 3 >= t[0]=3 -> 2
    [4, 2], // 2x2 = 4 < t[1]=6 -> 2
    [6, 3], // 2x3 = 6 >= t[1]=6 -> 3
    [9, 3], // 3x3 = 9 >= 6 -> 3
  ])('3x3 thresholds [3, 6]: score %i -> likelihood %i', (score, l) => {
    expect(likelihoodFromDetailed(criteriaV1, score)).toBe(l);
  });

  it('works with four levels', () => {
    expect(likelihoodFromDetailed(wide, 1)).toBe(1); // < 2
    expect(likelihoodFromDetailed(wide, 3)).toBe(2); // >= t[0]=2, < t[1]=4
    expect(likelihoodFromDetailed(wide, 6)).toBe(3); // >= t[1]=4, < t[2]=8
    expect(likelihoodFromDetailed(wide, 9)).toBe(4); // >= t[2]=8
  });

  it('refuses a score outside 1..9', () => {
    expect(() => likelihoodFromDetailed(criteriaV1, 0)).toThrow(RangeError);
    expect(() => likelihoodFromDetailed(criteriaV1, 10)).toThrow(RangeError);
  });
});

describe('impactForAssetValue = impactByAssetValue[value-1]', () => {
  it('maps asset values to impacts', () => {
    expect(impactForAssetValue(criteriaV1, 1)).toBe(1); // [1, 2, 3][0]
    expect(impactForAssetValue(criteriaV1, 3)).toBe(3); // [1, 2, 3][2]
    expect(impactForAssetValue(wide, 1)).toBe(2); // [2, 3, 5][0]
    expect(impactForAssetValue(wide, 2)).toBe(3); // [2, 3, 5][1]
    expect(impactForAssetValue(wide, 3)).toBe(5); // [2, 3, 5][2]
  });

  it('refuses a value outside 1..3', () => {
    expect(() => impactForAssetValue(criteriaV1, 0)).toThrow(RangeError);
    expect(() => impactForAssetValue(criteriaV1, 4)).toThrow(RangeError);
  });
});

describe('assetValueFor = max of the ratings of the properties in play', () => {
  it('takes the max over the given properties', () => {
    // hot wallet C3 I3 A2
    expect(assetValueFor(hotWallet, ['AVAILABILITY'])).toBe(2); // A = 2
    expect(assetValueFor(hotWallet, ['CONFIDENTIALITY', 'AVAILABILITY'])).toBe(3); // max(3, 2)
    // ops wiki C2 I1 A1
    expect(assetValueFor(opsWiki, ['INTEGRITY', 'AVAILABILITY'])).toBe(1); // max(1, 1)
    expect(assetValueFor(opsWiki, ['CONFIDENTIALITY'])).toBe(2); // C = 2
  });

  it('takes all three properties when none is given (the registration value)', () => {
    expect(assetValueFor(hotWallet, [])).toBe(3); // max(3, 3, 2)
    expect(assetValueFor(printer, [])).toBe(1); // max(1, 1, 1)
  });
});

describe('requiredMethodsFor: distinct methods whose minAssetValue <= value', () => {
  it('3x3 fixture: BASELINE from 2, DETAILED from 3', () => {
    expect(requiredMethodsFor(criteriaV1, 1)).toEqual([]); // 2 > 1, 3 > 1
    expect(requiredMethodsFor(criteriaV1, 2)).toEqual(['BASELINE']); // 2 <= 2
    expect(requiredMethodsFor(criteriaV1, 3)).toEqual(['BASELINE', 'DETAILED']); // 2 <= 3, 3 <= 3
  });

  it('lists each method once, in BASELINE, INFORMAL, DETAILED order', () => {
    expect(requiredMethodsFor(wide, 1)).toEqual(['INFORMAL']); // only minAssetValue 1
    expect(requiredMethodsFor(wide, 2)).toEqual(['BASELINE', 'INFORMAL']); // INFORMAL listed twice, once here
    expect(requiredMethodsFor(wide, 3)).toEqual(['BASELINE', 'INFORMAL', 'DETAILED']);
  });
});

describe('reviewIntervalDaysFor', () => {
  it('gives the interval of the level, undefined when none is set', () => {
    expect(reviewIntervalDaysFor(criteriaV1, 'HIGH')).toBe(90);
    expect(reviewIntervalDaysFor(criteriaV1, 'LOW')).toBe(365);
    expect(reviewIntervalDaysFor(wide, 'VL')).toBe(730);
    expect(reviewIntervalDaysFor(wide, 'M')).toBeUndefined();
  });
});
