import { ForbiddenError, NotFoundError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import type { RiskEvaluated } from '../../../src/risk-register/domain/risk.events.js';
import { needsReevaluation } from '../../../src/risk-register/domain/risk.state.js';
import { given } from '../support/given-when-then.js';
import {
  PRINTER_RISK,
  RISK,
  analyseBaseline,
  analyseDetailed,
  analyseInformal,
  analysedEvents,
  continueHistory,
  decideTreatment,
  evaluate,
  history,
  identify,
  stateOf,
  identifyPrinter,
  toTreatEvents,
  treatmentDecidedEvents,
} from './builders.js';
import { T0, T2, auditor, ciso, committee, criteriaV1, criteriaV2, custodyManager, hotWallet, opsWiki, owner, printer } from './fixtures.js';

const printerCmd = { riskId: PRINTER_RISK, assets: [printer] };
const printerAnalysed = (...analyses: Array<[string, number, number]>) =>
  history(identifyPrinter(), ...analyses.map(([id, l, i]) => analyseInformal(id, l, i, printerCmd)));

describe('EvaluateRisk (Art. 16)', () => {
  it('compares the highest analysed level with the acceptance criterion: above -> TO_TREAT', () => {
    // baseline: gap (2 + 0.5)/5 = 0.5 -> likelihood 3, impact 3 -> matrix[2][2] = HIGH
    // detailed: 2 x 3 = 6 -> likelihood 3; value over {C, I} = 3 -> impact 3 -> HIGH
    // HIGH (rank 2) > acceptance LOW (rank 0) -> TO_TREAT; asset value = hot wallet 3; review 90 days
    const expected: RiskEvaluated = {
      type: 'RiskEvaluated',
      data: {
        riskId: RISK,
        cycle: 1,
        criteriaId: 'crit-1',
        criteriaNumber: 1,
        level: 'HIGH',
        likelihood: 3,
        impact: 3,
        decision: 'TO_TREAT',
        assetValue: 3,
        levelRank: 2,
        identifiedAt: T0,
        analysisCount: 2,
        topAnalysisId: 'an-d1',
        reviewIntervalDays: 90,
        evaluatedBy: committee.id,
        evaluatedAt: T2,
      },
    };
    const { state } = given(riskDecider, analysedEvents()).when(evaluate()).then([expected]);
    expect(state.status).toBe('TO_TREAT');
    expect(state.evaluation).toMatchObject({ decision: 'TO_TREAT', level: 'HIGH', criteriaNumber: 1, assetValue: 3 });
  });

  it('within the acceptance criterion -> RETAINED', () => {
    // informal 1 x 1 -> matrix[0][0] = LOW (rank 0) <= LOW -> RETAINED; printer value 1 requires no method
    const { state } = given(riskDecider, printerAnalysed(['an-p1', 1, 1]))
      .when(evaluate(printerCmd))
      .thenMatches([{ type: 'RiskEvaluated', data: { level: 'LOW', decision: 'RETAINED', assetValue: 1, levelRank: 0, reviewIntervalDays: 365 } }]);
    expect(state.status).toBe('RETAINED');
  });

  it('several methods in one cycle: the highest level wins', () => {
    // baseline all MET: gap 0 -> likelihood 1, impact 1 -> matrix[0][0] = LOW
    // detailed 3 x 3 = 9 -> likelihood 3; impact 3 -> matrix[2][2] = HIGH
    const events = history(
      identify(),
      analyseBaseline('an-b1', ['MET', 'MET', 'MET', 'MET', 'MET'], 1),
      analyseDetailed('an-d1', [{ assetId: hotWallet.id, threatLevel: 3, vulnerabilityLevel: 3 }]),
    );
    given(riskDecider, events)
      .when(evaluate())
      .thenMatches([{ type: 'RiskEvaluated', data: { level: 'HIGH', likelihood: 3, impact: 3, decision: 'TO_TREAT' } }]);
  });

  it('a lower later analysis does not lower the cycle level', () => {
    // informal 2 x 3 -> matrix[1][2] = HIGH, then informal 1 x 1 -> LOW: max = HIGH
    given(riskDecider, printerAnalysed(['an-p1', 2, 3], ['an-p2', 1, 1]))
      .when(evaluate(printerCmd))
      .thenMatches([{ type: 'RiskEvaluated', data: { level: 'HIGH', likelihood: 2, impact: 3, analysisCount: 2 } }]);
  });

  it('on equal levels the later analysis gives likelihood and impact', () => {
    // informal 1 x 3 -> matrix[0][2] = MEDIUM; informal 2 x 2 -> matrix[1][1] = MEDIUM: the later one
    given(riskDecider, printerAnalysed(['an-p1', 1, 3], ['an-p2', 2, 2]))
      .when(evaluate(printerCmd))
      .thenMatches([{ type: 'RiskEvaluated', data: { level: 'MEDIUM', likelihood: 2, impact: 2 } }]);
  });

  describe('required methods (Art. 13(2))', () => {
    it('refuses while DETAILED is missing for an asset of value 3', () => {
      const events = history(identify(), analyseBaseline('an-b1', ['MET', 'PARTIAL', 'NOT_MET', 'NOT_MET', 'MET'], 3));
      const error = given(riskDecider, events)
        .when(evaluate())
        .thenThrows(RuleViolationError, { rule: 'REQUIRED_METHOD_NOT_APPLIED', article: 'Art.13(2)' });
      expect(error.message).toContain('DETAILED');
      expect(error.message).not.toContain('BASELINE');
    });

    it('names every missing method', () => {
      // hot wallet value 3 -> BASELINE (min 2) and DETAILED (min 3); only INFORMAL applied
      const events = history(identify(), analyseInformal('an-i1', 3, 3));
      const error = given(riskDecider, events).when(evaluate()).thenThrows(RuleViolationError, { rule: 'REQUIRED_METHOD_NOT_APPLIED' });
      expect(error.message).toContain('BASELINE, DETAILED');
    });

    it('an asset of value 2 requires BASELINE only', () => {
      const identifyWiki = identify({ assetIds: [opsWiki.id], threatId: 'thr-leak', vulnerabilityId: 'vul-public-link', assets: [opsWiki] });
      const informalOnly = history(identifyWiki, analyseInformal('an-i1', 1, 1, { assets: [opsWiki] }));
      given(riskDecider, informalOnly)
        .when(evaluate({ assets: [opsWiki] }))
        .thenThrows(RuleViolationError, { rule: 'REQUIRED_METHOD_NOT_APPLIED', article: 'Art.13(2)' });
      // baseline all MET: gap 0 -> likelihood 1, impact 1 -> LOW; with informal LOW -> LOW, RETAINED
      const withBaseline = continueHistory(informalOnly, analyseBaseline('an-b1', ['MET', 'MET', 'MET', 'MET', 'MET'], 1, { assets: [opsWiki] }));
      given(riskDecider, withBaseline)
        .when(evaluate({ assets: [opsWiki] }))
        .thenMatches([{ type: 'RiskEvaluated', data: { level: 'LOW', decision: 'RETAINED', assetValue: 2 } }]);
    });

    it('takes the highest value among the risk assets', () => {
      // printer (1) + hot wallet (3) -> asset value 3: BASELINE and DETAILED required
      const events = history(
        identifyPrinter({ assetIds: [printer.id, hotWallet.id], assets: [printer, hotWallet] }),
        analyseInformal('an-p1', 1, 1, printerCmd),
      );
      given(riskDecider, events)
        .when(evaluate({ riskId: PRINTER_RISK, assets: [printer, hotWallet] }))
        .thenThrows(RuleViolationError, { rule: 'REQUIRED_METHOD_NOT_APPLIED' });
    });

    describe('per asset: every asset whose value requires a method has had it applied to it', () => {
      // The printer (value 1) holds the threat (C); the hot wallet (value 3) requires BASELINE and DETAILED.
      const both = { riskId: PRINTER_RISK, assets: [printer, hotWallet] };
      const identifiedOnBoth = () => identifyPrinter({ assetIds: [printer.id, hotWallet.id], assets: [printer, hotWallet] });
      const baselineMet = () => analyseBaseline('an-b1', ['MET', 'MET', 'MET', 'MET', 'MET'], 1, both);
      const detailedOn = (analysisId: string, ...assetIds: string[]) =>
        analyseDetailed(analysisId, assetIds.map((assetId) => ({ assetId, threatLevel: 1, vulnerabilityLevel: 1 })), both);

      it('a DETAILED analysis of another asset of the risk does not apply DETAILED to the value-3 asset', () => {
        // detailed on the printer only: 1 x 1 = 1 -> likelihood 1; value over {C} = 1 -> impact 1 -> LOW
        const events = history(identifiedOnBoth(), baselineMet(), detailedOn('an-d1', printer.id));
        expect(stateOf(events).cycleAnalyses).toMatchObject([{ methods: ['BASELINE', 'DETAILED'], detailedAssetIds: [printer.id] }]);
        const error = given(riskDecider, events)
          .when(evaluate(both))
          .thenThrows(RuleViolationError, { rule: 'REQUIRED_METHOD_NOT_APPLIED', article: 'Art.13(2)' });
        expect(error.message).toContain(`the DETAILED method for asset "Hot wallet signing server" (${hotWallet.id}, value 3)`);
        expect(error.message).not.toContain(printer.id);
        expect(error.message).not.toContain('BASELINE');
      });

      it('passes once DETAILED has assessed the value-3 asset, in the same analysis or a later one', () => {
        // detailed on the hot wallet: 1 x 1 -> likelihood 1; value over {C} = 3 -> impact 3 -> matrix[0][2] = MEDIUM -> TO_TREAT
        const later = history(identifiedOnBoth(), baselineMet(), detailedOn('an-d1', printer.id), detailedOn('an-d2', hotWallet.id));
        expect(stateOf(later).cycleAnalyses).toMatchObject([{ detailedAssetIds: [printer.id, hotWallet.id] }]);
        given(riskDecider, later)
          .when(evaluate(both))
          .thenMatches([{ type: 'RiskEvaluated', data: { level: 'MEDIUM', decision: 'TO_TREAT', assetValue: 3 } }]);
        const together = history(identifiedOnBoth(), baselineMet(), detailedOn('an-d1', printer.id, hotWallet.id));
        given(riskDecider, together).when(evaluate(both)).thenMatches([{ type: 'RiskEvaluated', data: { level: 'MEDIUM', decision: 'TO_TREAT' } }]);
      });

      it('BASELINE and INFORMAL name no asset: they apply to every asset of the risk', () => {
        // BASELINE is required for the hot wallet; the baseline analysis counts for it
        const events = history(identifiedOnBoth(), detailedOn('an-d1', hotWallet.id));
        const error = given(riskDecider, events).when(evaluate(both)).thenThrows(RuleViolationError, { rule: 'REQUIRED_METHOD_NOT_APPLIED' });
        expect(error.message).toContain(`the BASELINE method for asset "Hot wallet signing server" (${hotWallet.id}, value 3)`);
        given(riskDecider, continueHistory(events, baselineMet())).when(evaluate(both)).thenMatches([{ type: 'RiskEvaluated' }]);
      });

      it('names each asset with the methods it misses', () => {
        // the ops wiki (value 2) requires BASELINE; the hot wallet (3) BASELINE and DETAILED; only INFORMAL applied
        const three = { riskId: PRINTER_RISK, assets: [printer, opsWiki, hotWallet] };
        const events = history(
          identifyPrinter({ assetIds: [printer.id, opsWiki.id, hotWallet.id], assets: [printer, opsWiki, hotWallet] }),
          analyseInformal('an-i1', 1, 1, three),
        );
        const error = given(riskDecider, events).when(evaluate(three)).thenThrows(RuleViolationError, { rule: 'REQUIRED_METHOD_NOT_APPLIED' });
        expect(error.message).toContain(
          `the BASELINE method for asset "Operations wiki" (${opsWiki.id}, value 2); the BASELINE, DETAILED methods for asset "Hot wallet signing server" (${hotWallet.id}, value 3)`,
        );
      });

      it('a DETAILED analysis of the asset under other criteria does not count', () => {
        const events = continueHistory(
          history(identifiedOnBoth(), detailedOn('an-d1', hotWallet.id)),
          analyseBaseline('an-b2', ['MET', 'MET', 'MET', 'MET', 'MET'], 1, { ...both, criteria: criteriaV2 }),
          analyseDetailed('an-d2', [{ assetId: printer.id, threatLevel: 1, vulnerabilityLevel: 1 }], { ...both, criteria: criteriaV2 }),
        );
        const error = given(riskDecider, events)
          .when(evaluate({ ...both, criteria: criteriaV2 }))
          .thenThrows(RuleViolationError, { rule: 'REQUIRED_METHOD_NOT_APPLIED' });
        expect(error.message).toContain(`the DETAILED method for asset "Hot wallet signing server"`);
      });
    });

    it('a method applied under other criteria does not count', () => {
      // baseline and detailed under v1; informal under v2: v2 lacks BASELINE and DETAILED
      const events = continueHistory(analysedEvents(), analyseInformal('an-i2', 1, 1, { criteria: criteriaV2 }));
      const error = given(riskDecider, events)
        .when(evaluate({ criteria: criteriaV2 }))
        .thenThrows(RuleViolationError, { rule: 'REQUIRED_METHOD_NOT_APPLIED' });
      expect(error.message).toContain('BASELINE, DETAILED');
    });
  });

  it('refuses without an analysis in this cycle (Art. 15)', () => {
    given(riskDecider, history(identify()))
      .when(evaluate())
      .thenThrows(RuleViolationError, { rule: 'ANALYSIS_REQUIRED', article: 'Art.15' });
  });

  it('refuses without criteria in force', () => {
    given(riskDecider, analysedEvents())
      .when(evaluate({ criteria: undefined }))
      .thenThrows(RuleViolationError, { rule: 'NO_CRITERIA_IN_FORCE', article: 'Art.13(1)' });
  });

  it('a risk asset the application could not load is NOT_FOUND', () => {
    given(riskDecider, analysedEvents()).when(evaluate({ assets: [] })).thenThrows(NotFoundError, { entity: 'Asset', id: hotWallet.id });
  });

  it('an unknown risk is NOT_FOUND', () => {
    given(riskDecider, []).when(evaluate()).thenThrows(NotFoundError, { entity: 'Risk', id: RISK });
  });

  describe('roles', () => {
    it.each([
      ['COMMITTEE_MEMBER', committee],
      ['CISO', ciso],
    ])('%s may evaluate', (_l, actor) => {
      given(riskDecider, analysedEvents()).when(evaluate({ actor })).thenMatches([{ type: 'RiskEvaluated', data: { evaluatedBy: actor.id } }]);
    });

    it.each([
      ['the owner', owner],
      ['an ASSET_MANAGER', custodyManager],
      ['an AUDITOR', auditor],
    ])('%s may not', (_l, actor) => {
      given(riskDecider, analysedEvents()).when(evaluate({ actor })).thenThrows(ForbiddenError);
    });
  });

  describe('repeats and re-evaluation', () => {
    it('is already satisfied under the same criteria (TO_TREAT)', () => {
      given(riskDecider, toTreatEvents()).when(evaluate()).thenNothing();
    });

    it('is already satisfied under the same criteria (RETAINED)', () => {
      const events = continueHistory(printerAnalysed(['an-p1', 1, 1]), evaluate(printerCmd));
      given(riskDecider, events).when(evaluate(printerCmd)).thenNothing();
    });

    it('evaluates again after a newer analysis', () => {
      // TO_TREAT (HIGH); a new informal 3 x 3 = HIGH moves it to ANALYSED; evaluation again -> 3 analyses
      const events = continueHistory(toTreatEvents(), analyseInformal('an-i9', 3, 3));
      given(riskDecider, events)
        .when(evaluate())
        .thenMatches([{ type: 'RiskEvaluated', data: { analysisCount: 3 } }]);
    });

    it('after a criteria change: needs an analysis under the new criteria, then decides against the new acceptance level', () => {
      // v1 (acceptance LOW): informal 2 x 2 -> matrix[1][1] = MEDIUM (rank 1) > LOW (0) -> TO_TREAT
      const toTreat = continueHistory(printerAnalysed(['an-p1', 2, 2]), evaluate(printerCmd));
      expect(given(riskDecider, toTreat).state.status).toBe('TO_TREAT');
      expect(needsReevaluation(given(riskDecider, toTreat).state, criteriaV2)).toBe(true);
      expect(needsReevaluation(given(riskDecider, toTreat).state, criteriaV1)).toBe(false);

      // v2 in force: no analysis under v2 yet
      given(riskDecider, toTreat)
        .when(evaluate({ ...printerCmd, criteria: criteriaV2 }))
        .thenThrows(RuleViolationError, { rule: 'ANALYSIS_REQUIRED', article: 'Art.15' });

      // re-analysed under v2: informal 2 x 2 -> MEDIUM (rank 1) <= acceptance MEDIUM (1) -> RETAINED
      const reanalysed = continueHistory(toTreat, analyseInformal('an-p2', 2, 2, { ...printerCmd, criteria: criteriaV2 }));
      const { state } = given(riskDecider, reanalysed)
        .when(evaluate({ ...printerCmd, criteria: criteriaV2 }))
        .thenMatches([
          { type: 'RiskEvaluated', data: { criteriaId: 'crit-2', criteriaNumber: 2, level: 'MEDIUM', decision: 'RETAINED', analysisCount: 1, topAnalysisId: 'an-p2' } },
        ]);
      expect(state.status).toBe('RETAINED');
      expect(needsReevaluation(state, criteriaV2)).toBe(false);
    });

    it('only analyses under the criteria in force count, even when an older one is higher', () => {
      // v1: informal 3 x 3 -> HIGH; v2: informal 1 x 1 -> LOW -> evaluated LOW, RETAINED
      const events = history(identifyPrinter(), analyseInformal('an-p1', 3, 3, printerCmd), analyseInformal('an-p2', 1, 1, { ...printerCmd, criteria: criteriaV2 }));
      given(riskDecider, events)
        .when(evaluate({ ...printerCmd, criteria: criteriaV2 }))
        .thenMatches([{ type: 'RiskEvaluated', data: { level: 'LOW', decision: 'RETAINED', analysisCount: 1, topAnalysisId: 'an-p2' } }]);
    });

    it('is refused once the treatment is decided (revise the treatment instead)', () => {
      given(riskDecider, treatmentDecidedEvents())
        .when(evaluate())
        .thenThrows(RuleViolationError, { rule: 'RISK_ALREADY_IN_TREATMENT', article: 'Art.16' });
    });

    it('is refused for a closed risk', () => {
      const closed = continueHistory(toTreatEvents(), decideTreatment({ options: ['AVOID'] }));
      given(riskDecider, closed).when(evaluate()).thenThrows(RuleViolationError, { rule: 'RISK_CLOSED' });
    });
  });

  it('records the criteria of the evaluation so a projection can tell when it is stale', () => {
    const state = given(riskDecider, toTreatEvents()).state;
    expect(state.evaluation).toMatchObject({ criteriaId: criteriaV1.id, criteriaNumber: 1, evaluatedBy: committee.id, evaluatedAt: T2 });
    expect(needsReevaluation(state, criteriaV1)).toBe(false);
    expect(needsReevaluation(given(riskDecider, analysedEvents()).state, criteriaV1)).toBe(true); // ANALYSED
  });

  it('needs reevaluation when an asset of an open risk left the inventory, unless the risk is closed', () => {
    const open = given(riskDecider, toTreatEvents()).state;
    expect(needsReevaluation(open, criteriaV1, true)).toBe(true);
    const closed = given(riskDecider, continueHistory(toTreatEvents(), decideTreatment({ options: ['AVOID'] }))).state;
    expect(closed.status).toBe('CLOSED');
    expect(needsReevaluation(closed, criteriaV1, true)).toBe(false);
  });
});
