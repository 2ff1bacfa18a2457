import { BadInputError, ForbiddenError, NotFoundError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import type { RiskAnalysed } from '../../../src/risk-register/domain/risk.events.js';
import {
  baselineGap,
  impactForAssetValue,
  levelFor,
  likelihoodFromBaselineGap,
  likelihoodFromDetailed,
} from '../../../src/risk-criteria/domain/scoring.js';
import { given } from '../support/given-when-then.js';
import {
  PRINTER_RISK,
  RISK,
  analyseBaseline,
  analyseDetailed,
  analyseInformal,
  continueHistory,
  decideTreatment,
  history,
  identify,
  printerRetainedEvents,
  results,
  toTreatEvents,
  treatmentDecidedEvents,
} from './builders.js';
import {
  T1,
  auditor,
  ciso,
  committee,
  criteriaV1,
  criteriaV2,
  custodyCatalogue,
  custodyManager,
  hotWallet,
  otherOwner,
  owner,
  printer,
  withdrawalApi,
} from './fixtures.js';

const identified = () => history(identify());
/** The hot-wallet risk, but on two assets and the outage threat (affects AVAILABILITY only). */
const identifiedOutage = () =>
  history(identify({ assetIds: [hotWallet.id, withdrawalApi.id], threatId: 'thr-outage', vulnerabilityId: 'vul-single-node' }));

describe('AnalyseRisk (Art. 15)', () => {
  describe('BASELINE', () => {
    it('scores the gap against the catalogue and records every input', () => {
      // gap = (NOT_MET 2 + 0.5 x PARTIAL 1) / 5 = 0.5 >= t[1]=0.5 -> likelihood 3; impact 2; matrix[2][1] = 'HIGH'
      const expected: RiskAnalysed = {
        type: 'RiskAnalysed',
        data: {
          riskId: RISK,
          analysisId: 'an-b1',
          cycle: 1,
          method: 'BASELINE',
          criteriaId: 'crit-1',
          criteriaNumber: 1,
          likelihood: 3,
          impact: 2,
          level: 'HIGH',
          levelRank: 2,
          baseline: {
            catalogueId: custodyCatalogue.id,
            catalogueName: 'Custody baseline',
            catalogueVersion: '2025.1',
            results: results('MET', 'PARTIAL', 'NOT_MET', 'NOT_MET', 'MET'),
            impact: 2,
            counts: { met: 2, partial: 1, notMet: 2, notApplicable: 0, applicable: 5 },
            gap: 0.5,
          },
          externalReferences: [],
          analysedBy: owner.id,
          analysedAt: T1,
        },
      };
      const { state } = given(riskDecider, identified())
        .when(analyseBaseline('an-b1', ['MET', 'PARTIAL', 'NOT_MET', 'NOT_MET', 'MET'], 2))
        .then([expected]);
      expect(state).toMatchObject({ status: 'ANALYSED', likelihood: 3, impact: 2, level: 'HIGH', criteriaNumber: 1, version: 1 });
      const { riskId: _riskId, ...analysis } = expected.data;
      expect(state.analysisCount).toBe(1);
      expect(state.cycleAnalyses).toEqual([{ criteriaId: analysis.criteriaId, criteriaNumber: 1, count: 1, methods: [analysis.method], detailedAssetIds: [], top: analysis }]);
    });

    it('leaves NOT_APPLICABLE out of the gap', () => {
      // gap = (NOT_MET 1 + 0.5 x PARTIAL 0) / (5 - 2 N/A) = 1/3 = 0.333 >= t[0]=0.25, < t[1]=0.5 -> likelihood 2;
      // impact 1; matrix[1][0] = 'LOW'
      given(riskDecider, identified())
        .when(analyseBaseline('an-b1', ['MET', 'NOT_APPLICABLE', 'NOT_MET', 'NOT_APPLICABLE', 'MET'], 1))
        .thenMatches([{ type: 'RiskAnalysed', data: { likelihood: 2, impact: 1, level: 'LOW', baseline: { counts: { applicable: 3 } } } }]);
    });

    it('all MET gives likelihood 1', () => {
      // gap = 0/5 = 0 < t[0]=0.25 -> likelihood 1; impact 3; matrix[0][2] = 'MEDIUM'
      given(riskDecider, identified())
        .when(analyseBaseline('an-b1', ['MET', 'MET', 'MET', 'MET', 'MET'], 3))
        .thenMatches([{ type: 'RiskAnalysed', data: { likelihood: 1, impact: 3, level: 'MEDIUM', baseline: { gap: 0 } } }]);
    });

    it('accepts the answers in any order', () => {
      const c = analyseBaseline('an-b1', [], 1);
      c.baseline!.results = [
        { requirementId: 'CB-05', status: 'NOT_MET' },
        { requirementId: 'CB-01', status: 'PARTIAL' },
        { requirementId: 'CB-03', status: 'MET' },
        { requirementId: 'CB-02', status: 'MET' },
        { requirementId: 'CB-04', status: 'MET' },
      ];
      // gap = (1 + 0.5 x 1)/5 = 0.3 >= t[0]=0.25 -> likelihood 2; impact 1; matrix[1][0] = 'LOW'
      given(riskDecider, identified()).when(c).thenMatches([{ type: 'RiskAnalysed', data: { likelihood: 2, level: 'LOW' } }]);
    });

    it('refuses an answer set where everything is NOT_APPLICABLE', () => {
      const error = given(riskDecider, identified())
        .when(analyseBaseline('an-b1', ['NOT_APPLICABLE', 'NOT_APPLICABLE', 'NOT_APPLICABLE', 'NOT_APPLICABLE', 'NOT_APPLICABLE'], 1))
        .thenThrows(BadInputError);
      expect(Object.keys(error.fields)).toEqual(['baseline.results']);
    });

    it('names unknown requirement ids', () => {
      const c = analyseBaseline('an-b1', ['MET', 'MET', 'MET', 'MET', 'MET'], 1);
      c.baseline!.results.push({ requirementId: 'XX-99', status: 'MET' });
      const error = given(riskDecider, identified()).when(c).thenThrows(BadInputError);
      expect(Object.keys(error.fields).sort()).toEqual(['baseline.results', 'baseline.results[5].requirementId']);
      expect(error.fields['baseline.results']).toContain('XX-99');
      expect(error.message).toContain('XX-99');
    });

    it('requires every requirement to be answered, and only once', () => {
      const missing = given(riskDecider, identified())
        .when(analyseBaseline('an-b1', ['MET', 'MET', 'MET'], 1))
        .thenThrows(BadInputError);
      expect(missing.fields['baseline.results']).toContain('CB-04, CB-05');

      const c = analyseBaseline('an-b1', ['MET', 'MET', 'MET', 'MET', 'MET'], 1);
      c.baseline!.results.push({ requirementId: 'CB-02', status: 'NOT_MET' });
      given(riskDecider, identified()).when(c).thenRejectsFields('baseline.results[5].requirementId');
    });

    it('checks statuses and the impact scale', () => {
      const c = analyseBaseline('an-b1', ['MET', 'MET', 'MET', 'MET', 'MET'], 4);
      (c.baseline!.results[2] as { status: string }).status = 'MOSTLY';
      const error = given(riskDecider, identified()).when(c).thenThrows(BadInputError);
      expect(Object.keys(error.fields).sort()).toEqual(['baseline.impact', 'baseline.results[2].status']);
    });

    it('an unknown catalogue is NOT_FOUND', () => {
      given(riskDecider, identified())
        .when(analyseBaseline('an-b1', ['MET'], 1, { baseline: { catalogueId: 'iso-27002@2022', results: results('MET'), impact: 1 } }))
        .thenThrows(NotFoundError, { entity: 'BaselineCatalogue', id: 'iso-27002@2022' });
      given(riskDecider, identified())
        .when(analyseBaseline('an-b1', ['MET'], 1, { catalogue: undefined }))
        .thenThrows(NotFoundError, { entity: 'BaselineCatalogue' });
    });

    it('requires the catalogue id', () => {
      given(riskDecider, identified())
        .when(analyseBaseline('an-b1', ['MET'], 1, { baseline: { catalogueId: '', results: results('MET'), impact: 1 } }))
        .thenRejectsFields('baseline.catalogueId');
    });
  });

  describe('INFORMAL', () => {
    it('records the expert judgement', () => {
      // likelihood 2, impact 3: matrix[1][2] = 'HIGH'
      given(riskDecider, identified())
        .when(analyseInformal('an-i1', 2, 3))
        .thenMatches([
          {
            type: 'RiskAnalysed',
            data: {
              method: 'INFORMAL',
              likelihood: 2,
              impact: 3,
              level: 'HIGH',
              levelRank: 2,
              informal: { likelihood: 2, impact: 3, expert: 'Yui Expert (custody engineering lead)', rationale: 'Two similar incidents in the industry last year' },
            },
          },
        ]);
    });

    it('validates every field', () => {
      const error = given(riskDecider, identified())
        .when(analyseInformal('an-i1', 0, 4, { informal: { likelihood: 0, impact: 4, expert: ' ', rationale: '' } }))
        .thenThrows(BadInputError);
      expect(Object.keys(error.fields).sort()).toEqual(['informal.expert', 'informal.impact', 'informal.likelihood', 'informal.rationale']);
    });

    it('refuses a likelihood above N', () => {
      // N = 3 likelihood levels
      given(riskDecider, identified()).when(analyseInformal('an-i1', 4, 1)).thenRejectsFields('informal.likelihood');
    });
  });

  describe('DETAILED', () => {
    it('scores each asset and takes the highest level', () => {
      // threat thr-outage affects AVAILABILITY only.
      // hot wallet: 3 x 3 = 9 >= 6 -> likelihood 3; value over {A} = 2 -> impact [1,2,3][1] = 2; matrix[2][1] = 'HIGH'
      // withdrawal API: 1 x 2 = 2 < 3 -> likelihood 1; value over {A} = 3 -> impact 3; matrix[0][2] = 'MEDIUM'
      // analysis: max(HIGH, MEDIUM) = HIGH from the hot wallet -> likelihood 3, impact 2
      const { state } = given(riskDecider, identifiedOutage())
        .when(
          analyseDetailed(
            'an-d1',
            [
              { assetId: hotWallet.id, threatLevel: 3, vulnerabilityLevel: 3 },
              { assetId: withdrawalApi.id, threatLevel: 1, vulnerabilityLevel: 2 },
            ],
            { assets: [hotWallet, withdrawalApi] },
          ),
        )
        .then([
          {
            type: 'RiskAnalysed',
            data: {
              riskId: RISK,
              analysisId: 'an-d1',
              cycle: 1,
              method: 'DETAILED',
              criteriaId: 'crit-1',
              criteriaNumber: 1,
              likelihood: 3,
              impact: 2,
              level: 'HIGH',
              levelRank: 2,
              detailed: {
                threatId: 'thr-outage',
                affects: ['AVAILABILITY'],
                assessments: [
                  {
                    assetId: hotWallet.id,
                    threatLevel: 3,
                    vulnerabilityLevel: 3,
                    score: 9,
                    confidentiality: 3,
                    integrity: 3,
                    availability: 2,
                    assetValue: 2,
                    likelihood: 3,
                    impact: 2,
                    level: 'HIGH',
                  },
                  {
                    assetId: withdrawalApi.id,
                    threatLevel: 1,
                    vulnerabilityLevel: 2,
                    score: 2,
                    confidentiality: 1,
                    integrity: 2,
                    availability: 3,
                    assetValue: 3,
                    likelihood: 1,
                    impact: 3,
                    level: 'MEDIUM',
                  },
                ],
              },
              externalReferences: [],
              analysedBy: owner.id,
              analysedAt: T1,
            },
          },
        ]);
      expect(state).toMatchObject({ likelihood: 3, impact: 2, level: 'HIGH' });
    });

    it("uses the threat's affected properties, not the asset's overall value", () => {
      // thr-key-theft affects {C, I}; withdrawal API C1 I2 A3 (value 3) -> value over {C, I} = 2 -> impact 2
      // 2 x 2 = 4 >= 3, < 6 -> likelihood 2; matrix[1][1] = 'MEDIUM'
      const events = history(identify({ assetIds: [hotWallet.id, withdrawalApi.id] }));
      given(riskDecider, events)
        .when(analyseDetailed('an-d1', [{ assetId: withdrawalApi.id, threatLevel: 2, vulnerabilityLevel: 2 }], { assets: [hotWallet, withdrawalApi] }))
        .thenMatches([{ type: 'RiskAnalysed', data: { likelihood: 2, impact: 2, level: 'MEDIUM', detailed: { assessments: [{ assetValue: 2 }] } } }]);
    });

    it('validates the assessments', () => {
      const error = given(riskDecider, identifiedOutage())
        .when(
          analyseDetailed('an-d1', [
            { assetId: 'asset-ops-wiki', threatLevel: 0, vulnerabilityLevel: 2 },
            { assetId: hotWallet.id, threatLevel: 2, vulnerabilityLevel: 4 },
            { assetId: hotWallet.id, threatLevel: 1.5, vulnerabilityLevel: 1 },
          ]),
        )
        .thenThrows(BadInputError);
      expect(Object.keys(error.fields).sort()).toEqual([
        'detailed.assessments[0].assetId',
        'detailed.assessments[0].threatLevel',
        'detailed.assessments[1].vulnerabilityLevel',
        'detailed.assessments[2].assetId',
        'detailed.assessments[2].threatLevel',
      ]);
    });

    it('needs at least one assessment', () => {
      given(riskDecider, identified()).when(analyseDetailed('an-d1', [])).thenRejectsFields('detailed.assessments');
    });

    it("the risk's threat must be found on the assets passed in", () => {
      const withoutThreats = { ...hotWallet, threats: [] };
      given(riskDecider, identified())
        .when(analyseDetailed('an-d1', [{ assetId: hotWallet.id, threatLevel: 1, vulnerabilityLevel: 1 }], { assets: [withoutThreats] }))
        .thenThrows(NotFoundError, { entity: 'Threat', id: 'thr-key-theft' });
    });

    it('an assessed asset the application could not load is NOT_FOUND', () => {
      given(riskDecider, identifiedOutage())
        .when(analyseDetailed('an-d1', [{ assetId: withdrawalApi.id, threatLevel: 1, vulnerabilityLevel: 1 }], { assets: [hotWallet] }))
        .thenThrows(NotFoundError, { entity: 'Asset', id: withdrawalApi.id });
    });
  });

  describe('exactly the part for the method', () => {
    it('refuses the parts of other methods', () => {
      const c = analyseInformal('an-i1', 1, 1, {
        baseline: { catalogueId: custodyCatalogue.id, results: [], impact: 1 },
        detailed: { assessments: [] },
      });
      const error = given(riskDecider, identified()).when(c).thenThrows(BadInputError);
      expect(Object.keys(error.fields).sort()).toEqual(['baseline', 'detailed']);
    });

    it('requires the part of the method', () => {
      given(riskDecider, identified()).when(analyseInformal('an-i1', 1, 1, { informal: undefined })).thenRejectsFields('informal');
      given(riskDecider, identified()).when(analyseInformal('an-i1', 1, 1, { method: 'DETAILED' })).thenRejectsFields('detailed', 'informal');
    });

    it('refuses an unknown method', () => {
      given(riskDecider, identified())
        .when(analyseInformal('an-i1', 1, 1, { method: 'GUESS' as never }))
        .thenRejectsFields('method');
    });

    it('treats null like absent', () => {
      given(riskDecider, identified())
        .when(analyseInformal('an-i1', 1, 1, { baseline: null, detailed: null, externalReferences: null }))
        .thenMatches([{ type: 'RiskAnalysed' }]);
    });
  });

  it('refuses to analyse without criteria in force (Art. 13(1))', () => {
    given(riskDecider, identified())
      .when(analyseInformal('an-i1', 1, 1, { criteria: undefined }))
      .thenThrows(RuleViolationError, { rule: 'NO_CRITERIA_IN_FORCE', article: 'Art.13(1)' });
  });

  it('an unknown risk is NOT_FOUND', () => {
    given(riskDecider, []).when(analyseInformal('an-i1', 1, 1)).thenThrows(NotFoundError, { entity: 'Risk', id: RISK });
  });

  describe('roles', () => {
    it.each([
      ['the owner', owner],
      ['a COMMITTEE_MEMBER', committee],
      ['the CISO', ciso],
    ])('%s may analyse', (_l, actor) => {
      given(riskDecider, identified()).when(analyseInformal('an-i1', 1, 1, { actor })).thenMatches([{ type: 'RiskAnalysed', data: { analysedBy: actor.id } }]);
    });

    it.each([
      ['another RISK_OWNER', otherOwner],
      ['an ASSET_MANAGER', custodyManager],
      ['an AUDITOR', auditor],
      ['the owner holding AUDITOR', { ...owner, roles: ['RISK_OWNER', 'AUDITOR'] as const }],
    ])('%s may not', (_l, actor) => {
      given(riskDecider, identified())
        .when(analyseInformal('an-i1', 1, 1, { actor: { ...actor, roles: [...actor.roles] } }))
        .thenThrows(ForbiddenError);
    });
  });

  describe('status', () => {
    it('IDENTIFIED -> ANALYSED', () => {
      const { state } = given(riskDecider, identified()).when(analyseInformal('an-i1', 1, 1)).thenMatches([{ type: 'RiskAnalysed' }]);
      expect(state.status).toBe('ANALYSED');
    });

    it('RETAINED -> ANALYSED (it must be evaluated again)', () => {
      const { state } = given(riskDecider, printerRetainedEvents())
        .when(analyseInformal('an-p2', 2, 1, { riskId: PRINTER_RISK, assets: [printer] }))
        .thenMatches([{ type: 'RiskAnalysed' }]);
      expect(state.status).toBe('ANALYSED');
      expect(state.evaluation?.decision).toBe('RETAINED'); // the last evaluation stays until the next one
    });

    it('TO_TREAT -> ANALYSED', () => {
      const { state } = given(riskDecider, toTreatEvents()).when(analyseInformal('an-i9', 1, 1)).thenMatches([{ type: 'RiskAnalysed' }]);
      expect(state.status).toBe('ANALYSED');
    });

    it('beyond (treatment decided) the analysis is recorded and the status stays', () => {
      const { state } = given(riskDecider, treatmentDecidedEvents())
        .when(analyseInformal('an-i9', 1, 1))
        .thenMatches([{ type: 'RiskAnalysed' }]);
      expect(state.status).toBe('TREATMENT_DECIDED');
      expect(state.analysisCount).toBe(3);
    });

    it('a closed risk is not analysed', () => {
      const closed = continueHistory(toTreatEvents(), decideTreatment({ options: ['AVOID'] }));
      given(riskDecider, closed)
        .when(analyseInformal('an-i9', 1, 1))
        .thenThrows(RuleViolationError, { rule: 'RISK_CLOSED', article: 'Art.17' });
    });
  });

  it('is already satisfied when the same analysis id is repeated', () => {
    const events = history(identify(), analyseInformal('an-i1', 1, 1));
    given(riskDecider, events).when(analyseInformal('an-i1', 1, 1)).thenNothing();
  });

  it('accumulates external references (Art. 15(3)) from identification and analyses', () => {
    const { state } = given(riskDecider, identified())
      .when(analyseInformal('an-i1', 1, 1, { externalReferences: ['DMM Bitcoin incident, May 2024', 'Coincheck NEM incident, January 2018'] }))
      .thenMatches([{ type: 'RiskAnalysed', data: { externalReferences: ['DMM Bitcoin incident, May 2024', 'Coincheck NEM incident, January 2018'] } }]);
    expect(state.externalReferences).toEqual(['Coincheck NEM incident, January 2018', 'DMM Bitcoin incident, May 2024']);
  });

  it('validates external references', () => {
    given(riskDecider, identified()).when(analyseInformal('an-i1', 1, 1, { externalReferences: ['', 'ok'] })).thenRejectsFields('externalReferences[0]');
  });

  describe('several methods in one cycle: the current level is the highest', () => {
    it('keeps the highest across methods', () => {
      // informal 1 x 1 -> matrix[0][0] = LOW
      // baseline gap (2 + 0.5)/5 = 0.5 -> likelihood 3, impact 3 -> matrix[2][2] = HIGH
      // informal 2 x 2 -> matrix[1][1] = MEDIUM: HIGH stays the current level
      const events = history(
        identify(),
        analyseInformal('an-i1', 1, 1),
        analyseBaseline('an-b1', ['MET', 'PARTIAL', 'NOT_MET', 'NOT_MET', 'MET'], 3),
        analyseInformal('an-i2', 2, 2),
      );
      const state = given(riskDecider, events).state;
      expect(state).toMatchObject({ likelihood: 3, impact: 3, level: 'HIGH', criteriaNumber: 1 });
      // LOW, HIGH, MEDIUM: the top stays the HIGH one
      expect(state.cycleAnalyses).toMatchObject([{ count: 3, top: { level: 'HIGH' } }]);
    });

    it('counts only the analyses under the criteria of the latest one', () => {
      // under v1: informal 3 x 3 -> HIGH; under v2: informal 1 x 2 -> matrix[0][1] = LOW -> current LOW (v2)
      const events = history(identify(), analyseInformal('an-i1', 3, 3), analyseInformal('an-i2', 1, 2, { criteria: criteriaV2 }));
      expect(given(riskDecider, events).state).toMatchObject({ level: 'LOW', likelihood: 1, impact: 2, criteriaNumber: 2 });
    });
  });

  it('the recorded inputs suffice to recompute the level with the criteria version', () => {
    const events = history(
      identify({ assetIds: [hotWallet.id, withdrawalApi.id] }),
      analyseBaseline('an-b1', ['PARTIAL', 'NOT_APPLICABLE', 'NOT_MET', 'MET', 'MET'], 2),
      analyseDetailed(
        'an-d1',
        [
          { assetId: hotWallet.id, threatLevel: 1, vulnerabilityLevel: 3 },
          { assetId: withdrawalApi.id, threatLevel: 3, vulnerabilityLevel: 2 },
        ],
        { assets: [hotWallet, withdrawalApi] },
      ),
    );
    for (const e of events) {
      if (e.type !== 'RiskAnalysed') continue;
      const d = e.data;
      const criteria = [criteriaV1, criteriaV2].find((c) => c.id === d.criteriaId)!;
      if (d.baseline) {
        const l = likelihoodFromBaselineGap(criteria, baselineGap(d.baseline.results));
        expect(levelFor(criteria, l, d.baseline.impact)).toBe(d.level);
      }
      if (d.detailed) {
        for (const a of d.detailed.assessments) {
          const value = Math.max(...d.detailed.affects.map((p) => ({ CONFIDENTIALITY: a.confidentiality, INTEGRITY: a.integrity, AVAILABILITY: a.availability })[p]));
          expect(levelFor(criteria, likelihoodFromDetailed(criteria, a.threatLevel * a.vulnerabilityLevel), impactForAssetValue(criteria, value))).toBe(a.level);
        }
      }
    }
  });
});
