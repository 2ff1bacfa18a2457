import { BadInputError, ForbiddenError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import type { RiskReviewed } from '../../../src/risk-register/domain/risk.events.js';
import type { RecordControlProgress } from '../../../src/risk-register/domain/risk.commands.js';
import type { CriteriaVersionState } from '../../../src/risk-criteria/domain/criteria.state.js';
import { given } from '../support/given-when-then.js';
import {
  PRINTER_RISK,
  RISK,
  acceptedEvents,
  awaitConsent,
  control,
  decideControls,
  includeInPlan,
  recordConsent,
  reviewableEvents,
  treatmentDecidedEvents,
  analyseBaseline,
  analyseDetailed,
  analyseInformal,
  awaitingConsentEvents,
  continueHistory,
  decideTreatment,
  evaluate,
  identify,
  history,
  identifyPrinter,
  inPlanEvents,
  printerRetainedEvents,
  review,
  stateOf,
  toTreatEvents,
} from './builders.js';
import { T2, T3, T4, auditor, ciso, committee, criteriaV1, criteriaV2, custodyManager, hotWallet, otherOwner, owner, printer } from './fixtures.js';

const printerReview = (reviewId: string, l: number, i: number, over = {}) => review(reviewId, l, i, { riskId: PRINTER_RISK, ...over });

describe('RecordReview (Art. 12(3)-(4), Art. 10)', () => {
  it('an ACCEPTED risk at or below its target: recorded, no finding, status stays', () => {
    // treatment target 1 x 2 -> matrix[0][1] = LOW; actual 1 x 1 -> matrix[0][0] = LOW: LOW (0) <= LOW (0) -> no finding
    const expected: RiskReviewed = {
      type: 'RiskReviewed',
      data: {
        riskId: RISK,
        reviewId: 'rv-1',
        cycle: 1,
        controlsInPlace: true,
        actualLikelihood: 1,
        actualImpact: 1,
        actualLevel: 'LOW',
        targetLevel: 'LOW',
        finding: false,
        criteriaId: 'crit-1',
        criteriaNumber: 1,
        notes: 'Quarterly review',
        reviewIntervalDays: 365,
        reviewedBy: owner.id,
        reviewedAt: T2,
      },
    };
    const { state } = given(riskDecider, reviewableEvents()).when(review('rv-1', 1, 1)).then([expected]);
    expect(state.status).toBe('ACCEPTED');
    expect(state.cycle).toBe(1);
    expect(state.reviewCount).toBe(1);
    expect(state.lastReview).toMatchObject({ reviewId: 'rv-1', finding: false, actualLevel: 'LOW' });
  });

  it('controls not in place are a finding even without a level gap (Art.12(3))', () => {
    given(riskDecider, reviewableEvents())
      .when(review('rv-1', 2, 1, { controlsInPlace: false }))
      // actual 2 x 1 -> matrix[1][0] = LOW = target LOW: the level holds, the controls do not
      .thenMatches([
        { type: 'RiskReviewed', data: { controlsInPlace: false, actualLevel: 'LOW', finding: true } },
        { type: 'RiskReassessmentOpened', data: { cycle: 2, previousCycle: 1, reviewId: 'rv-1' } },
      ]);
  });

  it('controls found in place while the register has one not implemented: refused (CONTROLS_NOT_IMPLEMENTED); not in place is recorded', () => {
    given(riskDecider, acceptedEvents())
      .when(review('rv-1', 1, 1))
      .thenThrows(RuleViolationError, { rule: 'CONTROLS_NOT_IMPLEMENTED', article: 'Art.12(3)' });
    given(riskDecider, acceptedEvents()).when(review('rv-1', 1, 1, { controlsInPlace: false })).thenMatches([{ type: 'RiskReviewed', data: { finding: true } }, { type: 'RiskReassessmentOpened' }]);
  });

  it('controls found in place while every control was cancelled: refused (none is in place); one cancelled beside an implemented one passes', () => {
    const twoControls = decideControls({ controls: [control(), control({ controlId: 'ctl-hsm', title: 'Signing keys in an HSM' })] });
    const accepted = continueHistory(treatmentDecidedEvents(), twoControls, includeInPlan(), awaitConsent(), recordConsent(true));
    const controlIds = stateOf(accepted).controls.map((c) => c.controlId);
    expect(controlIds).toEqual(['ctl-multisig', 'ctl-hsm']);
    const progressTo = (controlId: string, status: 'CANCELLED' | 'IMPLEMENTED'): RecordControlProgress =>
      ({ type: 'RecordControlProgress', riskId: RISK, controlId, status, actor: committee, at: T2, ...(status === 'CANCELLED' ? { note: 'Replaced' } : {}) });
    // A control cancelled makes the consent stale (a material change): the owner accepts again, then the review.
    const allCancelled = continueHistory(accepted, ...controlIds.map((id) => progressTo(id, 'CANCELLED')), awaitConsent(), recordConsent(true));
    given(riskDecider, allCancelled)
      .when(review('rv-1', 1, 1))
      .thenThrows(RuleViolationError, { rule: 'CONTROLS_NOT_IMPLEMENTED', article: 'Art.12(3)' });
    given(riskDecider, allCancelled).when(review('rv-1', 1, 1, { controlsInPlace: false })).thenMatches([{ type: 'RiskReviewed', data: { controlsInPlace: false, finding: true } }, { type: 'RiskReassessmentOpened' }]);
    const oneLeft = continueHistory(accepted, progressTo(controlIds[0]!, 'IMPLEMENTED'), ...controlIds.slice(1).map((id) => progressTo(id, 'CANCELLED')), awaitConsent(), recordConsent(true));
    given(riskDecider, oneLeft).when(review('rv-1', 1, 1)).thenMatches([{ type: 'RiskReviewed', data: { controlsInPlace: true, finding: false } }]);
  });

  it('a gap between target and actual level is a finding that opens the next cycle', () => {
    // actual 2 x 2 -> matrix[1][1] = MEDIUM (1) > target LOW (0) -> finding
    const { state } = given(riskDecider, reviewableEvents())
      .when(review('rv-1', 2, 2, { at: T3 }))
      .thenMatches([
        { type: 'RiskReviewed', data: { actualLevel: 'MEDIUM', targetLevel: 'LOW', finding: true, reviewIntervalDays: 180 } },
        { type: 'RiskReassessmentOpened', data: { riskId: RISK, cycle: 2, previousCycle: 1, reviewId: 'rv-1', openedAt: T3 } },
      ]);
    expect(state).toMatchObject({ status: 'IDENTIFIED', cycle: 2, controls: [], updatedAt: T3 });
    expect(state.level).toBeUndefined();
    expect(state.likelihood).toBeUndefined();
    expect(state.evaluation).toBeUndefined();
    expect(state.treatment).toBeUndefined();
    expect(state.consent).toBeUndefined();
    expect(state.planId).toBeUndefined();
    // the new cycle starts with no analysis; the counts of the history stay (the analyses themselves are in the log)
    expect(state.cycleAnalyses).toEqual([]);
    expect(state.analysisCount).toBe(2);
    expect(state.reviewCount).toBe(1);
    expect(state.lastReview).toMatchObject({ reviewId: 'rv-1', cycle: 1 });
  });

  it('a RETAINED risk is compared with its evaluated level', () => {
    // evaluated LOW (informal 1 x 1); actual 1 x 2 -> matrix[0][1] = LOW -> no finding
    given(riskDecider, printerRetainedEvents())
      .when(printerReview('rv-1', 1, 2))
      .thenMatches([{ type: 'RiskReviewed', data: { targetLevel: 'LOW', actualLevel: 'LOW', finding: false } }]);
    // actual 3 x 1 -> matrix[2][0] = MEDIUM > LOW -> finding, cycle 2
    const { state } = given(riskDecider, printerRetainedEvents())
      .when(printerReview('rv-2', 3, 1))
      .thenMatches([{ type: 'RiskReviewed', data: { targetLevel: 'LOW', actualLevel: 'MEDIUM', finding: true } }, { type: 'RiskReassessmentOpened', data: { cycle: 2 } }]);
    expect(state.status).toBe('IDENTIFIED');
  });

  it('an actual level above the acceptance level in force is a finding, even at the target: a risk retained under laxer criteria (compliance probe of 2026-12-07, F2)', () => {
    // Retained at MEDIUM (3 x 1) under v2, whose acceptance level is MEDIUM.
    const retainedUnderV2 = history(
      identifyPrinter(),
      analyseInformal('an-p2', 3, 1, { riskId: PRINTER_RISK, assets: [printer], criteria: criteriaV2 }),
      evaluate({ riskId: PRINTER_RISK, assets: [printer], criteria: criteriaV2 }),
    );
    expect(stateOf(retainedUnderV2)).toMatchObject({ status: 'RETAINED', level: 'MEDIUM' });
    // Under v2 itself: within acceptance, no finding.
    given(riskDecider, retainedUnderV2)
      .when(printerReview('rv-1', 3, 1, { criteria: criteriaV2 }))
      .thenMatches([{ type: 'RiskReviewed', data: { targetLevel: 'MEDIUM', actualLevel: 'MEDIUM', finding: false } }]);
    // Under v1 (acceptance LOW) now in force: the same level is above acceptance, so a finding and the next cycle.
    const { state } = given(riskDecider, retainedUnderV2)
      .when(printerReview('rv-1', 3, 1, { criteria: criteriaV1 }))
      .thenMatches([{ type: 'RiskReviewed', data: { targetLevel: 'MEDIUM', actualLevel: 'MEDIUM', finding: true, criteriaNumber: 1 } }, { type: 'RiskReassessmentOpened', data: { cycle: 2 } }]);
    expect(state.status).toBe('IDENTIFIED');
  });

  it('compares under the criteria in force, recomputing a target recorded under other labels', () => {
    // v3 renames the levels; the treatment target (1, 2) recorded as 'LOW' under v1 becomes matrix[0][1] = 'Low' under v3
    const v3: CriteriaVersionState = {
      ...criteriaV1,
      id: 'crit-3',
      number: 3,
      riskLevels: ['Low', 'Medium', 'High'],
      matrix: [
        ['Low', 'Low', 'Medium'],
        ['Low', 'Medium', 'High'],
        ['Medium', 'High', 'High'],
      ],
      acceptanceLevel: 'Low',
      reviewIntervalDays: [],
    };
    given(riskDecider, reviewableEvents())
      .when(review('rv-1', 1, 1, { criteria: v3 }))
      .thenMatches([{ type: 'RiskReviewed', data: { targetLevel: 'Low', actualLevel: 'Low', finding: false, criteriaNumber: 3 } }]);
  });

  it.each([
    ['AWAITING_CONSENT', awaitingConsentEvents],
    ['IN_PLAN', inPlanEvents],
    ['TO_TREAT', toTreatEvents],
    ['IDENTIFIED', () => history(identify())],
  ])('is not due while the risk is %s', (_s, events) => {
    given(riskDecider, events())
      .when(review('rv-1', 1, 1))
      .thenThrows(RuleViolationError, { rule: 'REVIEW_NOT_DUE', article: 'Art.12(3)' });
  });

  it('a closed risk is not reviewed', () => {
    const closed = continueHistory(toTreatEvents(), decideTreatment({ options: ['AVOID'] }));
    given(riskDecider, closed).when(review('rv-1', 1, 1)).thenThrows(RuleViolationError, { rule: 'RISK_CLOSED' });
  });

  it('validates the input', () => {
    const error = given(riskDecider, reviewableEvents())
      .when(review('rv-1', 0, 4, { controlsInPlace: 'yes' as never }))
      .thenThrows(BadInputError);
    expect(Object.keys(error.fields).sort()).toEqual(['actualImpact', 'actualLikelihood', 'controlsInPlace']);
  });

  it('refuses without criteria in force', () => {
    given(riskDecider, reviewableEvents()).when(review('rv-1', 1, 1, { criteria: undefined })).thenThrows(RuleViolationError, { rule: 'NO_CRITERIA_IN_FORCE' });
  });

  it('the same review again is already satisfied, also after it reopened the risk', () => {
    const reviewed = continueHistory(reviewableEvents(), review('rv-1', 1, 1));
    given(riskDecider, reviewed).when(review('rv-1', 1, 1)).thenNothing();
    const reopened = continueHistory(reviewableEvents(), review('rv-1', 3, 3));
    given(riskDecider, reopened).when(review('rv-1', 3, 3)).thenNothing();
  });

  describe('roles', () => {
    it.each([
      ['the owner', owner],
      ['a COMMITTEE_MEMBER', committee],
      ['the CISO', ciso],
    ])('%s may review', (_l, actor) => {
      given(riskDecider, reviewableEvents()).when(review('rv-1', 1, 1, { actor })).thenMatches([{ type: 'RiskReviewed', data: { reviewedBy: actor.id } }]);
    });

    it.each([
      ['another RISK_OWNER', otherOwner],
      ['an ASSET_MANAGER', custodyManager],
      ['an AUDITOR', auditor],
    ])('%s may not', (_l, actor) => {
      given(riskDecider, reviewableEvents()).when(review('rv-1', 1, 1, { actor })).thenThrows(ForbiddenError);
    });
  });

  describe('the next cycle', () => {
    const reopened = () => continueHistory(reviewableEvents(), review('rv-1', 2, 2, { at: T3 }));

    it('needs analyses of the new cycle: those of earlier cycles do not count', () => {
      given(riskDecider, reopened()).when(evaluate({ at: T4 })).thenThrows(RuleViolationError, { rule: 'ANALYSIS_REQUIRED', article: 'Art.15' });
      // an informal analysis of cycle 2 alone: BASELINE and DETAILED (done in cycle 1) are missing again
      const informal = continueHistory(reopened(), analyseInformal('an-c2-i', 2, 2, { at: T4 }));
      expect(stateOf(informal).cycleAnalyses).toMatchObject([{ count: 1, top: { analysisId: 'an-c2-i', cycle: 2 } }]);
      const error = given(riskDecider, informal).when(evaluate({ at: T4 })).thenThrows(RuleViolationError, { rule: 'REQUIRED_METHOD_NOT_APPLIED', article: 'Art.13(2)' });
      expect(error.message).toContain('BASELINE, DETAILED');
    });

    it('goes round the whole process again with cycle 2', () => {
      // cycle 2: informal 2 x 2 -> MEDIUM; baseline all MET, impact 2 -> gap 0 -> likelihood 1 -> matrix[0][1] = LOW;
      // detailed 1 x 2 = 2 < 3 -> likelihood 1, impact 3 -> matrix[0][2] = MEDIUM. Highest: MEDIUM, later (detailed) wins the tie
      const events = continueHistory(
        reopened(),
        analyseInformal('an-c2-i', 2, 2, { at: T4 }),
        analyseBaseline('an-c2-b', ['MET', 'MET', 'MET', 'MET', 'MET'], 2, { at: T4 }),
        analyseDetailed('an-c2-d', [{ assetId: hotWallet.id, threatLevel: 1, vulnerabilityLevel: 2 }], { at: T4 }),
      );
      const { state } = given(riskDecider, events)
        .when(evaluate({ at: T4 }))
        .thenMatches([
          {
            type: 'RiskEvaluated',
            data: { cycle: 2, level: 'MEDIUM', likelihood: 1, impact: 3, decision: 'TO_TREAT', analysisCount: 3 },
          },
        ]);
      expect(state).toMatchObject({ status: 'TO_TREAT', cycle: 2, level: 'MEDIUM' });
      expect(state.analysisCount).toBe(5);
      expect(state.identifiedAt).toBe(stateOf(reviewableEvents()).identifiedAt);
    });
  });

  it('works the same under criteria v2 (target LOW, actual MEDIUM is still a gap)', () => {
    // v2 accepts MEDIUM but the finding compares with the target, not with the acceptance level
    given(riskDecider, reviewableEvents())
      .when(review('rv-1', 2, 2, { criteria: criteriaV2 }))
      .thenMatches([{ type: 'RiskReviewed', data: { targetLevel: 'LOW', actualLevel: 'MEDIUM', finding: true } }, { type: 'RiskReassessmentOpened' }]);
  });
});
