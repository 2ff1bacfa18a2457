/**
 * The residual level under the criteria in force (Art.13(1), 17, 20, 12(3), 10): acceptance,
 * needsReevaluation, the review and the review schedule judge the same level, the recorded target
 * (or evaluated level) placed on the matrix of the criteria in force from its likelihood and
 * impact, never the label recorded under earlier criteria.
 */
import { RuleViolationError } from '../../../src/shared/domain/errors.js';
import type { CriteriaVersionState } from '../../../src/risk-criteria/domain/criteria.state.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import { reviewDue, reviewSchedule } from '../../../src/risk-register/domain/review.js';
import { analysisBeyondScales, needsReevaluation, residualLevelUnder } from '../../../src/risk-register/domain/risk.state.js';
import { given } from '../support/given-when-then.js';
import { PRINTER_RISK, acceptedEvents, awaitingConsentEvents, printerRetainedEvents, recordConsent, review, reviewableEvents, stateOf } from './builders.js';
import { criteriaMatrixChanged, criteriaV1 } from './fixtures.js';

const matrixChanged = criteriaMatrixChanged;

/** v5: the levels renamed L / M / H, the same matrix otherwise. */
const relabelled: CriteriaVersionState = {
  ...criteriaV1,
  id: 'crit-5',
  number: 5,
  riskLevels: ['L', 'M', 'H'],
  matrix: [
    ['L', 'L', 'M'],
    ['L', 'M', 'H'],
    ['M', 'H', 'H'],
  ],
  acceptanceLevel: 'L',
  reviewIntervalDays: [
    { level: 'L', days: 400 },
    { level: 'M', days: 200 },
    { level: 'H', days: 100 },
  ],
};

/** v6: a 2 x 2 register: the treated target (1, 2) still fits; a likelihood or impact of 3 does not. */
const smaller: CriteriaVersionState = {
  ...criteriaV1,
  id: 'crit-6',
  number: 6,
  likelihoodLevels: ['Rare', 'Likely'],
  impactLevels: ['Minor', 'Severe'],
  riskLevels: ['LOW', 'HIGH'],
  matrix: [
    ['LOW', 'HIGH'],
    ['HIGH', 'HIGH'],
  ],
  reviewIntervalDays: [
    { level: 'LOW', days: 365 },
    { level: 'HIGH', days: 30 },
  ],
};

describe('the residual level under the criteria in force', () => {
  it('is the recorded target under the criteria it was recorded with, and the matrix in force places it otherwise', () => {
    // treatment target likelihood 1, impact 2: LOW under v1; matrix v4 [0][1] = MEDIUM; v5 [0][1] = L
    const state = stateOf(acceptedEvents());
    expect(state.treatment).toMatchObject({ targetLikelihood: 1, targetImpact: 2, targetLevel: 'LOW' });
    expect(residualLevelUnder(state, criteriaV1)).toBe('LOW');
    expect(residualLevelUnder(state, matrixChanged)).toBe('MEDIUM');
    expect(residualLevelUnder(state, relabelled)).toBe('L');
    expect(residualLevelUnder(state, smaller)).toBe('HIGH');
    // a retained risk: its evaluated level (informal 1 x 1)
    expect(residualLevelUnder(stateOf(printerRetainedEvents()), matrixChanged)).toBe('LOW');
  });

  it('cannot be placed when the criteria have no room for its likelihood or impact', () => {
    // the printer risk retained at (1, 1) fits v6; a target (1, 3) recorded under v1 does not (v6 has 2 impacts)
    const state = stateOf(acceptedEvents());
    const beyond = { ...state, treatment: { ...state.treatment!, targetImpact: 3, targetLevel: 'MEDIUM' } };
    expect(residualLevelUnder(beyond, smaller)).toBeUndefined();
    expect(needsReevaluation(beyond, smaller)).toBe(true);
  });

  describe('acceptance (Art.13(1), 20)', () => {
    it('is refused when the matrix in force places the target above the acceptance level, though its label is unchanged', () => {
      const error = given(riskDecider, awaitingConsentEvents())
        .when({ ...recordConsent(true), criteria: matrixChanged })
        .thenThrows(RuleViolationError, { rule: 'RESIDUAL_ABOVE_ACCEPTANCE', article: 'Art.13(1)' });
      expect(error.message).toContain('MEDIUM (likelihood 1, impact 2; LOW under criteria #1) is above the acceptance level LOW of criteria #4');
      // the owner can still decline
      given(riskDecider, awaitingConsentEvents()).when({ ...recordConsent(false), criteria: matrixChanged }).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
    });

    it('is refused when the criteria in force have no room for the analysis, though the target meets them (Art.16; compliance probe F2)', () => {
      // analysed at (3, 3); v7 is 2 x 2 and places the target (1, 2) at LOW
      const twoByTwo: CriteriaVersionState = { ...smaller, id: 'crit-7', number: 7, matrix: [['LOW', 'LOW'], ['LOW', 'HIGH']] };
      const error = given(riskDecider, awaitingConsentEvents())
        .when({ ...recordConsent(true), criteria: twoByTwo })
        .thenThrows(RuleViolationError, { rule: 'ANALYSIS_BEYOND_CRITERIA', article: 'Art.16' });
      expect(error.message).toContain('analysed at likelihood 3, impact 3, beyond the scales of criteria #7');
      given(riskDecider, awaitingConsentEvents()).when({ ...recordConsent(false), criteria: twoByTwo }).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
    });

    it('is accepted when the criteria in force only rename the levels (the target is placed at L, within L)', () => {
      given(riskDecider, awaitingConsentEvents())
        .when({ ...recordConsent(true), criteria: relabelled })
        .thenMatches([{ type: 'ResidualRiskAcceptedByOwner', data: { residualLevel: 'LOW' } }]);
    });
  });

  describe('needsReevaluation', () => {
    it('flags an accepted risk whose target the matrix in force places above acceptance', () => {
      const state = stateOf(acceptedEvents());
      expect(needsReevaluation(state, criteriaV1)).toBe(false);
      expect(needsReevaluation(state, matrixChanged)).toBe(true);
      expect(needsReevaluation(state, relabelled)).toBe(false);
    });

    it('flags a treated risk analysed beyond the scales of the criteria in force, though its target meets them (Art.16; compliance probe F2)', () => {
      // analysed at (3, 3) under v1, treated to (1, 2); v7 has two likelihoods and two impacts, and places (1, 2) at LOW
      const twoByTwo: CriteriaVersionState = { ...smaller, id: 'crit-7', number: 7, matrix: [['LOW', 'LOW'], ['LOW', 'HIGH']] };
      const state = stateOf(acceptedEvents());
      expect({ likelihood: state.likelihood, impact: state.impact }).toEqual({ likelihood: 3, impact: 3 });
      expect(residualLevelUnder(state, twoByTwo)).toBe('LOW');
      expect(analysisBeyondScales(state, twoByTwo)).toBe(true);
      expect(needsReevaluation(state, twoByTwo)).toBe(true);
      expect(analysisBeyondScales(state, criteriaV1)).toBe(false);
      // a risk not analysed has no analysis to place
      expect(analysisBeyondScales({ ...state, likelihood: undefined, impact: undefined }, twoByTwo)).toBe(false);
    });

    it('flags a retained risk evaluated under other criteria, as before', () => {
      const state = stateOf(printerRetainedEvents());
      expect(needsReevaluation(state, criteriaV1)).toBe(false);
      expect(needsReevaluation(state, matrixChanged)).toBe(true);
    });
  });

  describe('review (Art.12(3))', () => {
    it('at exactly the treated target, under a matrix that places it above acceptance: the target is MEDIUM, as acceptance judges it, and the level above acceptance a finding (since 2026-12-07, compliance probe F2)', () => {
      given(riskDecider, reviewableEvents())
        .when(review('rv-1', 1, 2, { criteria: matrixChanged }))
        .thenMatches([{ type: 'RiskReviewed', data: { actualLevel: 'MEDIUM', targetLevel: 'MEDIUM', finding: true, reviewIntervalDays: 180 } }, { type: 'RiskReassessmentOpened', data: { cycle: 2 } }]);
    });

    it('a target the criteria cannot place is a finding', () => {
      // a state with a target (1, 3) recorded under v1; v6 has two impacts only
      const state = stateOf(reviewableEvents());
      const beyond = { ...state, treatment: { ...state.treatment!, targetImpact: 3, targetLevel: 'LOW' } };
      const events = riskDecider.decide(review('rv-1', 1, 1, { criteria: smaller }), beyond);
      expect(events.map((e) => e.type)).toEqual(['RiskReviewed', 'RiskReassessmentOpened']);
      expect(events[0]!.data).toMatchObject({ targetLevel: 'LOW', finding: true });
    });
  });

  describe('review schedule (Art.10, 12(3)-(4))', () => {
    // accepted at T2 (2025-04-03); MEDIUM's interval is 180 days, LOW's 365
    it('follows the level the matrix in force places the target at', () => {
      const state = stateOf(acceptedEvents());
      expect(reviewSchedule(state, criteriaV1)).toMatchObject({ level: 'LOW', intervalDays: 365 });
      expect(reviewSchedule(state, matrixChanged)).toMatchObject({ level: 'MEDIUM', intervalDays: 180, dueOn: '2025-09-30' });
      expect(reviewDue(state, matrixChanged, '2025-10-20T00:00:00.000Z')).toBeDefined();
      expect(reviewDue(state, criteriaV1, '2025-10-20T00:00:00.000Z')).toBeUndefined();
    });

    it('keeps a risk on the schedule when the criteria rename the levels (F8): the renamed level gives the interval', () => {
      expect(reviewSchedule(stateOf(acceptedEvents()), relabelled)).toMatchObject({ level: 'L', intervalDays: 400 });
      const retained = stateOf(printerRetainedEvents());
      expect(retained.id).toBe(PRINTER_RISK);
      expect(reviewSchedule(retained, relabelled)).toMatchObject({ level: 'L', intervalDays: 400 });
    });

    it('a level the criteria cannot place falls due at their shortest interval', () => {
      const state = stateOf(acceptedEvents());
      const beyond = { ...state, treatment: { ...state.treatment!, targetImpact: 3, targetLevel: 'MEDIUM' } };
      expect(reviewSchedule(beyond, smaller)).toMatchObject({ level: 'MEDIUM', intervalDays: 30 });
    });
  });
});
