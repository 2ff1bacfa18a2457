import { BadInputError, ForbiddenError, NotFoundError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import type { ControlsDecided, RiskClosed, RiskTreatmentDecided } from '../../../src/risk-register/domain/risk.events.js';
import { given } from '../support/given-when-then.js';
import {
  PRINTER_RISK,
  RISK,
  PLAN,
  analyseBaseline,
  analyseDetailed,
  analyseInformal,
  analysedEvents,
  continueHistory,
  control,
  controlsDecidedEvents,
  decideControls,
  decideTreatment,
  evaluate,
  history,
  identify,
  inPlanEvents,
  printerRetainedEvents,
  reassignOwner,
  toTreatEvents,
  treatmentDecidedEvents,
} from './builders.js';
import { T2, T3, auditor, ciso, committee, criteriaV2, custodyManager, hotWallet, otherOwner, owner, withdrawalApi } from './fixtures.js';

describe('DecideTreatment (Art. 17)', () => {
  it('records the treatment of a risk to treat: TO_TREAT -> TREATMENT_DECIDED', () => {
    // target likelihood 1, impact 2: matrix[0][1] = 'LOW' (rank 0) <= acceptance LOW (0)
    const expected: RiskTreatmentDecided = {
      type: 'RiskTreatmentDecided',
      data: {
        riskId: RISK,
        cycle: 1,
        options: ['REDUCE'],
        rationale: 'Split the key with multi-signature and move most funds to cold storage',
        targetLikelihood: 1,
        targetImpact: 2,
        targetLevel: 'LOW',
        criteriaId: 'crit-1',
        criteriaNumber: 1,
        decidedBy: committee.id,
        decidedAt: T2,
      },
    };
    const { state } = given(riskDecider, toTreatEvents()).when(decideTreatment()).then([expected]);
    expect(state.status).toBe('TREATMENT_DECIDED');
    expect(state.treatment).toMatchObject({ options: ['REDUCE'], targetLevel: 'LOW' });
  });

  it('refuses a target above the acceptance criterion', () => {
    // target 2 x 2: matrix[1][1] = 'MEDIUM' (rank 1) > acceptance LOW (0)
    const error = given(riskDecider, toTreatEvents())
      .when(decideTreatment({ targetLikelihood: 2, targetImpact: 2 }))
      .thenThrows(RuleViolationError, { rule: 'TARGET_ABOVE_ACCEPTANCE', article: 'Art.17' });
    expect(error.message).toContain('MEDIUM');
  });

  it('validates options, rationale and the target scales together', () => {
    const error = given(riskDecider, toTreatEvents())
      .when(decideTreatment({ options: ['REDUCE', 'REDUCE', 'IGNORE' as never], rationale: ' ', targetLikelihood: 0, targetImpact: 4 }))
      .thenThrows(BadInputError);
    expect(Object.keys(error.fields).sort()).toEqual(['options[1]', 'options[2]', 'rationale', 'targetImpact', 'targetLikelihood']);
  });

  it('needs at least one option', () => {
    given(riskDecider, toTreatEvents()).when(decideTreatment({ options: [] })).thenRejectsFields('options');
  });

  it('SHARE names the counterparty and the contract or policy', () => {
    const error = given(riskDecider, toTreatEvents()).when(decideTreatment({ options: ['REDUCE', 'SHARE'] })).thenThrows(BadInputError);
    expect(Object.keys(error.fields).sort()).toEqual(['contractReference', 'counterparty']);

    given(riskDecider, toTreatEvents())
      .when(decideTreatment({ options: ['SHARE', 'REDUCE'], counterparty: 'Tokio Crypto Insurance', contractReference: 'Policy CY-2025-001' }))
      .thenMatches([
        {
          type: 'RiskTreatmentDecided',
          data: { options: ['REDUCE', 'SHARE'], counterparty: 'Tokio Crypto Insurance', contractReference: 'Policy CY-2025-001' },
        },
      ]);
  });

  it('AVOID closes the risk and names the assets to retire', () => {
    const events = history(
      identify({ assetIds: [hotWallet.id, withdrawalApi.id] }),
      analyseBaseline('an-b1', ['MET', 'PARTIAL', 'NOT_MET', 'NOT_MET', 'MET'], 3),
      // both assets have value 3: DETAILED must assess each (Art.13(2))
      analyseDetailed(
        'an-d1',
        [
          { assetId: hotWallet.id, threatLevel: 2, vulnerabilityLevel: 3 },
          { assetId: withdrawalApi.id, threatLevel: 1, vulnerabilityLevel: 1 },
        ],
        { assets: [hotWallet, withdrawalApi] },
      ),
      evaluate({ assets: [hotWallet, withdrawalApi] }),
    );
    const closed: RiskClosed = {
      type: 'RiskClosed',
      data: { riskId: RISK, reason: 'AVOIDED', assetIds: [hotWallet.id, withdrawalApi.id], closedBy: committee.id, closedAt: T2 },
    };
    const { state, events: decided } = given(riskDecider, events)
      .when(decideTreatment({ options: ['AVOID'], rationale: 'Stop offering hot-wallet withdrawals', targetLikelihood: 1, targetImpact: 1 }))
      .thenMatches([{ type: 'RiskTreatmentDecided', data: { options: ['AVOID'], targetLevel: 'LOW' } }, closed]);
    expect(decided[1]).toEqual(closed);
    expect(state).toMatchObject({ status: 'CLOSED', closedAt: T2, closedReason: 'AVOIDED' });

    // The business given up, one asset kept (still used by other business), or none (compliance probe H1).
    const keepOne = decideTreatment({ options: ['AVOID'], rationale: 'Stop OTC trading; the API stays', targetLikelihood: 1, targetImpact: 1, retiredAssetIds: [hotWallet.id] });
    given(riskDecider, events).when(keepOne).thenMatches([{ type: 'RiskTreatmentDecided' }, { ...closed, data: { ...closed.data, assetIds: [hotWallet.id] } }]);
    const keepAll = decideTreatment({ options: ['AVOID'], rationale: 'Stop OTC trading', targetLikelihood: 1, targetImpact: 1, retiredAssetIds: [] });
    given(riskDecider, events).when(keepAll).thenMatches([{ type: 'RiskTreatmentDecided' }, { ...closed, data: { ...closed.data, assetIds: [] } }]);
    // In the risk's order, whatever the command's.
    const both = decideTreatment({ options: ['AVOID'], rationale: 'Stop', targetLikelihood: 1, targetImpact: 1, retiredAssetIds: [withdrawalApi.id, hotWallet.id] });
    given(riskDecider, events).when(both).thenMatches([{ type: 'RiskTreatmentDecided' }, closed]);
  });

  it('refuses retiredAssetIds naming another asset, one twice, or without AVOID', () => {
    const avoid = (over: Partial<Parameters<typeof decideTreatment>[0]>) => decideTreatment({ options: ['AVOID'], targetLikelihood: 1, targetImpact: 1, ...over });
    given(riskDecider, toTreatEvents()).when(avoid({ retiredAssetIds: ['asset-elsewhere'] })).thenRejectsFields('retiredAssetIds[0]');
    given(riskDecider, toTreatEvents()).when(avoid({ retiredAssetIds: [hotWallet.id, hotWallet.id] })).thenRejectsFields('retiredAssetIds[1]');
    given(riskDecider, toTreatEvents()).when(decideTreatment({ retiredAssetIds: [hotWallet.id] })).thenRejectsFields('retiredAssetIds');
    // Omitted or null with any option: as before.
    given(riskDecider, toTreatEvents()).when(decideTreatment({ retiredAssetIds: null })).thenMatches([{ type: 'RiskTreatmentDecided' }]);
  });

  it.each([
    ['IDENTIFIED', () => history(identify())],
    ['ANALYSED', analysedEvents],
    ['RETAINED', printerRetainedEvents],
  ])('refuses a risk that is %s (not evaluated as to treat, Art. 16)', (_s, events) => {
    const riskId = _s === 'RETAINED' ? PRINTER_RISK : RISK;
    given(riskDecider, events())
      .when(decideTreatment({ riskId }))
      .thenThrows(RuleViolationError, { rule: 'RISK_NOT_TO_TREAT', article: 'Art.16' });
  });

  it('refuses a closed risk', () => {
    const closed = continueHistory(toTreatEvents(), decideTreatment({ options: ['AVOID'] }));
    given(riskDecider, closed).when(decideTreatment()).thenThrows(RuleViolationError, { rule: 'RISK_CLOSED' });
  });

  it('refuses a risk evaluated under criteria no longer in force', () => {
    given(riskDecider, toTreatEvents())
      .when(decideTreatment({ criteria: criteriaV2 }))
      .thenThrows(RuleViolationError, { rule: 'REEVALUATION_REQUIRED', article: 'Art.16' });
  });

  it('refuses without criteria in force', () => {
    given(riskDecider, toTreatEvents()).when(decideTreatment({ criteria: undefined })).thenThrows(RuleViolationError, { rule: 'NO_CRITERIA_IN_FORCE' });
  });

  describe('roles', () => {
    it.each([
      ['COMMITTEE_MEMBER', committee],
      ['CISO', ciso],
    ])('%s may decide', (_l, actor) => {
      given(riskDecider, toTreatEvents()).when(decideTreatment({ actor })).thenMatches([{ type: 'RiskTreatmentDecided', data: { decidedBy: actor.id } }]);
    });

    it.each([
      ['the owner', owner],
      ['an ASSET_MANAGER', custodyManager],
      ['an AUDITOR', auditor],
    ])('%s may not', (_l, actor) => {
      given(riskDecider, toTreatEvents()).when(decideTreatment({ actor })).thenThrows(ForbiddenError);
    });
  });

  describe('revision', () => {
    it('the same decision again is already satisfied', () => {
      given(riskDecider, treatmentDecidedEvents()).when(decideTreatment({ actor: ciso, at: T3 })).thenNothing();
    });

    it('a different decision revises it; the status stays', () => {
      const { state } = given(riskDecider, treatmentDecidedEvents())
        .when(decideTreatment({ targetLikelihood: 2, targetImpact: 1 }))
        // target 2 x 1: matrix[1][0] = 'LOW'
        .thenMatches([{ type: 'RiskTreatmentDecided', data: { targetLikelihood: 2, targetImpact: 1, targetLevel: 'LOW' } }]);
      expect(state.status).toBe('TREATMENT_DECIDED');
    });

    it.each([
      ['CONTROLS_DECIDED', controlsDecidedEvents],
      ['IN_PLAN', inPlanEvents],
    ])('revising from %s keeps the status', (status, events) => {
      const { state } = given(riskDecider, events())
        .when(decideTreatment({ rationale: 'Also rotate the key monthly' }))
        .thenMatches([{ type: 'RiskTreatmentDecided' }]);
      expect(state.status).toBe(status);
    });
  });
});

describe('DecideControls (Art. 18)', () => {
  it('makes the treatment concrete: TREATMENT_DECIDED -> CONTROLS_DECIDED', () => {
    const expected: ControlsDecided = {
      type: 'ControlsDecided',
      data: {
        riskId: RISK,
        cycle: 1,
        controls: [
          {
            controlId: 'ctl-multisig',
            title: '2-of-3 multi-signature for hot-wallet withdrawals',
            description: 'Withdrawals need signatures from keys held by separate teams',
            ownerId: 'u-custody-lead',
            dueDate: '2025-06-30',
            reason: 'A single stolen key can no longer move funds (Art.18(2))',
            reference: 'CB-02',
          },
        ],
        decidedBy: committee.id,
        decidedAt: T2,
      },
    };
    const { state } = given(riskDecider, treatmentDecidedEvents()).when(decideControls()).then([expected]);
    expect(state.status).toBe('CONTROLS_DECIDED');
    expect(state.controls).toEqual(expected.data.controls);
  });

  it('the reference is optional', () => {
    given(riskDecider, treatmentDecidedEvents())
      .when(decideControls({ controls: [control({ reference: undefined })] }))
      .thenMatches([{ type: 'ControlsDecided' }]);
  });

  it("refuses a control's owner no user could be (an invisible or system id)", () => {
    const error = given(riskDecider, treatmentDecidedEvents())
      .when(decideControls({ controls: [control({ ownerId: '\u200B\u200B' }), control({ controlId: 'ctl-b', title: 'Second control', ownerId: 'system:x' })] }))
      .thenThrows(BadInputError);
    expect(error.fields).toEqual({ 'controls[0].ownerId': expect.stringMatching(/no user could act under it/), 'controls[1].ownerId': expect.stringMatching(/system:/) });
  });

  it('refuses two controls of one title in one decision: a control decided again is matched by its title (compliance probe 2026-12-04)', () => {
    const error = given(riskDecider, treatmentDecidedEvents())
      .when(decideControls({ controls: [control({ title: 'a' }), control({ controlId: 'ctl-b', title: 'b' }), control({ controlId: 'ctl-c', title: ' a ' })] }))
      .thenThrows(BadInputError);
    expect(error.fields).toEqual({ 'controls[2].title': 'repeats the title of controls[0]: give each control a title of its own' });
  });

  it('validates each control, naming its index', () => {
    const error = given(riskDecider, treatmentDecidedEvents())
      .when(
        decideControls({
          controls: [
            control({ title: '', reason: ' ' }),
            control({ controlId: 'ctl-multisig', ownerId: '', description: '' }),
            control({ controlId: 'ctl-c', title: 'Control C', dueDate: '2025-02-30' }),
            control({ controlId: 'ctl-d', title: 'Control D', dueDate: '30/06/2025' }),
            control({ controlId: 'ctl-e', title: 'Control E', dueDate: '2025-04-02' }),
          ],
        }),
      )
      .thenThrows(BadInputError);
    expect(Object.keys(error.fields).sort()).toEqual([
      'controls[0].reason',
      'controls[0].title',
      'controls[1].controlId',
      'controls[1].description',
      'controls[1].ownerId',
      'controls[2].dueDate',
      'controls[3].dueDate',
      'controls[4].dueDate', // 2025-04-02 is before the decision date 2025-04-03 (T2)
    ]);
  });

  it('takes the decision date as the day in Japan, as overdue does: 20:00 UTC on 4 April is 5 April there', () => {
    const at = '2025-04-04T20:00:00.000Z';
    given(riskDecider, treatmentDecidedEvents()).when(decideControls({ at, controls: [control({ dueDate: '2025-04-04' })] })).thenRejectsFields('controls[0].dueDate');
    given(riskDecider, treatmentDecidedEvents()).when(decideControls({ at, controls: [control({ dueDate: '2025-04-05' })] })).thenMatches([{ type: 'ControlsDecided' }]);
  });

  it('accepts a due date on the decision date', () => {
    given(riskDecider, treatmentDecidedEvents()).when(decideControls({ controls: [control({ dueDate: '2025-04-03' })] })).thenMatches([{ type: 'ControlsDecided' }]);
  });

  it('needs at least one control', () => {
    given(riskDecider, treatmentDecidedEvents()).when(decideControls({ controls: [] })).thenRejectsFields('controls');
  });

  it.each([
    ['TO_TREAT', toTreatEvents],
    ['ANALYSED', analysedEvents],
  ])('refuses a risk that is %s (no treatment yet)', (_s, events) => {
    given(riskDecider, events()).when(decideControls()).thenThrows(RuleViolationError, { rule: 'TREATMENT_REQUIRED', article: 'Art.18' });
  });

  it('refuses a closed risk', () => {
    const closed = continueHistory(toTreatEvents(), decideTreatment({ options: ['AVOID'] }));
    given(riskDecider, closed).when(decideControls()).thenThrows(RuleViolationError, { rule: 'RISK_CLOSED' });
  });

  it('replaces the set on revision; the same set again is already satisfied', () => {
    given(riskDecider, controlsDecidedEvents()).when(decideControls({ at: T3 })).thenNothing();
    const { state } = given(riskDecider, controlsDecidedEvents())
      .when(decideControls({ controls: [control(), control({ controlId: 'ctl-cold', title: 'Cold storage ratio 95%', reason: 'Limits what a stolen key can move' })] }))
      .thenMatches([{ type: 'ControlsDecided' }]);
    expect(state.controls.map((c) => c.controlId)).toEqual(['ctl-multisig', 'ctl-cold']);
    expect(state.status).toBe('CONTROLS_DECIDED');
  });

  describe('roles', () => {
    it.each([
      ['COMMITTEE_MEMBER', committee],
      ['CISO', ciso],
    ])('%s may decide', (_l, actor) => {
      given(riskDecider, treatmentDecidedEvents()).when(decideControls({ actor })).thenMatches([{ type: 'ControlsDecided' }]);
    });

    it.each([
      ['the owner', owner],
      ['an AUDITOR', auditor],
    ])('%s may not', (_l, actor) => {
      given(riskDecider, treatmentDecidedEvents()).when(decideControls({ actor })).thenThrows(ForbiddenError);
    });
  });
});

describe('ReassignRiskOwner (Art. 14(1))', () => {
  it('records the new owner', () => {
    const { state } = given(riskDecider, history(identify()))
      .when(reassignOwner(otherOwner.id))
      .then([
        {
          type: 'RiskOwnerReassigned',
          data: { riskId: RISK, previousOwnerId: owner.id, ownerId: otherOwner.id, reassignedBy: ciso.id, reassignedAt: T2 },
        },
      ]);
    expect(state.ownerId).toBe(otherOwner.id);
    // the former owner may no longer analyse; the new one may
    const reassigned = history(identify(), reassignOwner(otherOwner.id));
    given(riskDecider, reassigned).when(analyseInformal('an-i1', 1, 1, { actor: owner })).thenThrows(ForbiddenError);
    given(riskDecider, reassigned).when(analyseInformal('an-i1', 1, 1, { actor: otherOwner })).thenMatches([{ type: 'RiskAnalysed' }]);
  });

  it('names the plan the risk is an item of (which learns the new owner), and none outside a plan', () => {
    given(riskDecider, inPlanEvents()).when(reassignOwner(otherOwner.id)).thenMatches([{ type: 'RiskOwnerReassigned', data: { riskId: RISK, ownerId: otherOwner.id, planId: PLAN } }]);
    const outside = given(riskDecider, history(identify())).when(reassignOwner(otherOwner.id)).thenMatches([{ type: 'RiskOwnerReassigned' }]);
    expect(outside.events[0]!.data).not.toHaveProperty('planId');
  });

  it('the same owner is already satisfied', () => {
    given(riskDecider, history(identify())).when(reassignOwner(owner.id)).thenNothing();
  });

  it('requires an owner', () => {
    given(riskDecider, history(identify())).when(reassignOwner(' ')).thenRejectsFields('ownerId');
  });

  it.each([
    ['the owner', owner],
    ['an ASSET_MANAGER', custodyManager],
    ['an AUDITOR', auditor],
  ])('%s may not reassign', (_l, actor) => {
    given(riskDecider, history(identify())).when(reassignOwner(otherOwner.id, { actor })).thenThrows(ForbiddenError);
  });

  it('a COMMITTEE_MEMBER may', () => {
    given(riskDecider, history(identify())).when(reassignOwner(otherOwner.id, { actor: committee })).thenMatches([{ type: 'RiskOwnerReassigned' }]);
  });

  it('refuses a closed risk and an unknown one', () => {
    const closed = continueHistory(toTreatEvents(), decideTreatment({ options: ['AVOID'] }));
    given(riskDecider, closed).when(reassignOwner(otherOwner.id)).thenThrows(RuleViolationError, { rule: 'RISK_CLOSED' });
    given(riskDecider, []).when(reassignOwner(otherOwner.id)).thenThrows(NotFoundError, { entity: 'Risk' });
  });
});
