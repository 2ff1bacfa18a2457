/**
 * ASSET_RETIRED (Art. 14(2), 19(2), 20; compliance probe of 2026-12-07, F1) in the order of the
 * log, not of the clocks (review of 2026-12-07, M4): the submission (FreezeForBoard) records which
 * of the risk's assets were already retired as it read them, and an acceptance is refused for an
 * asset retired and not among them, whatever the retirement's and the submission's instants say.
 * A submission recorded before that list was kept (RiskSubmittedToBoard version 1) still compares
 * the instants. Builders in builders.ts, fixtures in fixtures.ts.
 */
import { RuleViolationError } from '../../../src/shared/domain/errors.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import { upcastRiskEvent, type RiskEvent } from '../../../src/risk-register/domain/risk.events.js';
import { given } from '../support/given-when-then.js';
import { PLAN, RISK, awaitConsent, continueHistory, freezeForBoard, inPlanEvents, recordConsent, stateOf } from './builders.js';
import { T1, T2, T3, T4, hotWallet } from './fixtures.js';

const retired = (at: string) => ({ ...hotWallet, status: 'RETIRED' as const, retiredAt: at });

describe('an asset retired since the submission, in the order of the log', () => {
  it('the submission records the assets retired as it read them', () => {
    given(riskDecider, inPlanEvents())
      .when(freezeForBoard({ at: T2, assets: [hotWallet] }))
      .then([{ type: 'RiskSubmittedToBoard', data: { riskId: RISK, planId: PLAN, planRevision: 1, submittedAt: T2, retiredAssetIds: [] } }]);
    const { state } = given(riskDecider, inPlanEvents())
      .when(freezeForBoard({ at: T2, assets: [retired(T1)] }))
      .then([{ type: 'RiskSubmittedToBoard', data: { riskId: RISK, planId: PLAN, planRevision: 1, submittedAt: T2, retiredAssetIds: [hotWallet.id] } }]);
    expect(state.boardSubmission).toMatchObject({ planId: PLAN, planRevision: 1, submittedAt: T2, retiredAssetIds: [hotWallet.id] });
  });

  it('refuses the acceptance for an asset retired after the submission in the log though stamped before it (the clock stepped back)', () => {
    // Submitted at T3 by a clock running fast; the asset retired later, stamped T1 once it was set right.
    const approved = continueHistory(inPlanEvents(), freezeForBoard({ at: T3, assets: [hotWallet] }), awaitConsent({ at: T3 }));
    const error = given(riskDecider, approved).when(recordConsent(true, { at: T4, assets: [retired(T1)] })).thenThrows(RuleViolationError, { rule: 'ASSET_RETIRED', article: 'Art.14(2)' });
    expect(error.message).toContain('in the order of the log');
    // The owner can still decline.
    given(riskDecider, approved).when(recordConsent(false, { at: T4, assets: [retired(T1)] })).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
  });

  it('takes the acceptance for an asset retired before the submission in the log though stamped after it: the board saw it retired', () => {
    const approved = continueHistory(inPlanEvents(), freezeForBoard({ at: T2, assets: [retired(T4)] }), awaitConsent({ at: T3 }));
    given(riskDecider, approved).when(recordConsent(true, { at: T4, assets: [retired(T4)] })).thenMatches([{ type: 'ResidualRiskAcceptedByOwner' }]);
  });

  it('a submission of an older log (RiskSubmittedToBoard version 1, no list) falls back to the instants', () => {
    const fresh = continueHistory(inPlanEvents(), freezeForBoard({ at: T2 }));
    const submitted = fresh[fresh.length - 1] as Extract<RiskEvent, { type: 'RiskSubmittedToBoard' }>;
    expect(submitted.data).not.toHaveProperty('retiredAssetIds');
    const upcast = upcastRiskEvent('RiskSubmittedToBoard', 1, { riskId: RISK, planId: PLAN, planRevision: 1, submittedAt: T2 });
    const approved = continueHistory([...inPlanEvents(), upcast], awaitConsent({ at: T3 }));
    expect(stateOf(approved).boardSubmission).not.toHaveProperty('retiredAssetIds');
    given(riskDecider, approved).when(recordConsent(true, { at: T4, assets: [retired(T3)] })).thenThrows(RuleViolationError, { rule: 'ASSET_RETIRED' });
    given(riskDecider, approved).when(recordConsent(true, { at: T4, assets: [retired(T1)] })).thenMatches([{ type: 'ResidualRiskAcceptedByOwner' }]);
  });
});
