import { ForbiddenError, NotFoundError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import { consentFingerprint, isCurrentAcceptance } from '../../../src/risk-register/domain/plan-and-consent.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import { isMaterialRiskEvent, upcastRiskEvent, type RiskEvent } from '../../../src/risk-register/domain/risk.events.js';
import type { RiskCommand } from '../../../src/risk-register/domain/risk.commands.js';
import { given } from '../support/given-when-then.js';
import {
  PLAN,
  RISK,
  acceptedEvents,
  reviewableEvents,
  analyseInformal,
  awaitConsent,
  awaitingConsentEvents,
  continueHistory,
  control,
  controlsDecidedEvents,
  decideControls,
  decideTreatment,
  inPlanEvents,
  freezeForBoard,
  includeInPlan,
  leavePlan,
  reassignOwner,
  releaseFromBoard,
  recordConsent,
  review,
  stateOf,
  toTreatEvents,
  treatmentDecidedEvents,
} from './builders.js';
import { T1, T2, T3, T4, auditor, committee, criteriaV1, hotWallet, otherOwner, owner } from './fixtures.js';

describe('consentFingerprint', () => {
  it('is the digest every consent recorded before carries: the same content gives the same hex, always', () => {
    const state = { id: 'risk-1', cycle: 2, level: 'MEDIUM', likelihood: 2, impact: 3, criteriaNumber: 1, treatment: { option: 'REDUCE', rationale: '多要素認証' }, controls: [{ id: 'c1', title: 'MFA' }], ownerId: 'olivia' };
    expect(consentFingerprint(state as unknown as Parameters<typeof consentFingerprint>[0])).toBe('e3516d1cba957e3e672668e1c098ce1d185a64d4e5d48910a88ec03ad986e968');
  });
});

describe('IncludeInPlan (Art. 19, from the plan process manager)', () => {
  it('CONTROLS_DECIDED -> IN_PLAN, with no role check for the system actor', () => {
    const { state } = given(riskDecider, controlsDecidedEvents())
      .when(includeInPlan())
      .then([{ type: 'RiskIncludedInPlan', data: { riskId: RISK, planId: PLAN, includedAt: T2 } }]);
    expect(state).toMatchObject({ status: 'IN_PLAN', planId: PLAN });
  });

  it.each([
    ['IN_PLAN', inPlanEvents],
    ['AWAITING_CONSENT', awaitingConsentEvents],
    ['ACCEPTED', acceptedEvents],
  ])('is already satisfied when %s in that plan', (_s, events) => {
    given(riskDecider, events()).when(includeInPlan()).thenNothing();
  });

  it('refuses a risk already in another plan', () => {
    given(riskDecider, inPlanEvents())
      .when(includeInPlan({ planId: 'plan-other' }))
      .thenThrows(RuleViolationError, { rule: 'RISK_IN_OTHER_PLAN', article: 'Art.19' });
  });

  it('refuses a risk whose controls are not decided', () => {
    given(riskDecider, treatmentDecidedEvents())
      .when(includeInPlan())
      .thenThrows(RuleViolationError, { rule: 'RISK_CONTROLS_NOT_DECIDED', article: 'Art.19(1)' });
  });

  it('requires the plan id', () => {
    given(riskDecider, controlsDecidedEvents()).when(includeInPlan({ planId: '' })).thenRejectsFields('planId');
  });

  it('an unknown risk is NOT_FOUND', () => {
    given(riskDecider, []).when(includeInPlan()).thenThrows(NotFoundError, { entity: 'Risk', id: RISK });
  });
});

describe('AwaitResidualConsent (Art. 20)', () => {
  it('IN_PLAN -> AWAITING_CONSENT, fingerprinting what the owner is asked to accept', () => {
    const before = stateOf(inPlanEvents());
    const { state } = given(riskDecider, inPlanEvents())
      .when(awaitConsent())
      .then([
        {
          type: 'RiskAwaitingResidualConsent',
          data: {
            riskId: RISK,
            planId: PLAN,
            planRevision: 1,
            ownerId: owner.id,
            fingerprint: consentFingerprint(before),
            atVersion: before.version,
            residualLevel: before.treatment!.targetLevel,
            requestedAt: T2,
          },
        },
      ]);
    expect(state.status).toBe('AWAITING_CONSENT');
    expect(state.consent).toEqual({ planId: PLAN, planRevision: 1, status: 'PENDING', atVersion: before.version, fingerprint: consentFingerprint(before), residualLevel: 'LOW' });
  });

  it('is already satisfied when pending for that revision', () => {
    given(riskDecider, awaitingConsentEvents()).when(awaitConsent()).thenNothing();
  });

  it('asks again for a new plan revision', () => {
    given(riskDecider, awaitingConsentEvents())
      .when(awaitConsent({ planRevision: 2 }))
      .thenMatches([{ type: 'RiskAwaitingResidualConsent', data: { planRevision: 2 } }]);
  });

  it('is already satisfied once accepted for that revision', () => {
    given(riskDecider, acceptedEvents()).when(awaitConsent()).thenNothing();
  });

  it('refuses another plan, and a risk that is not in a plan', () => {
    given(riskDecider, inPlanEvents())
      .when(awaitConsent({ planId: 'plan-other' }))
      .thenThrows(RuleViolationError, { rule: 'RISK_NOT_IN_PLAN', article: 'Art.20' });
    given(riskDecider, controlsDecidedEvents()).when(awaitConsent()).thenThrows(RuleViolationError, { rule: 'RISK_NOT_IN_PLAN' });
  });

  it('validates the plan revision', () => {
    given(riskDecider, inPlanEvents()).when(awaitConsent({ planRevision: -1 })).thenRejectsFields('planRevision');
  });
});

describe('RecordResidualConsent (Art. 20)', () => {
  it('the owner accepts: AWAITING_CONSENT -> ACCEPTED', () => {
    const before = stateOf(awaitingConsentEvents());
    const { state } = given(riskDecider, awaitingConsentEvents())
      .when(recordConsent(true))
      .then([
        {
          type: 'ResidualRiskAcceptedByOwner',
          data: {
            riskId: RISK,
            planId: PLAN,
            planRevision: 1,
            ownerId: owner.id,
            fingerprint: consentFingerprint(before),
            atVersion: before.consent!.atVersion,
            residualLevel: before.treatment!.targetLevel,
            level: before.level,
            criteriaNumber: before.evaluation!.criteriaNumber,
            statement: 'I accept the residual risk as planned',
            acceptedAt: T2,
          },
        },
      ]);
    expect(state.status).toBe('ACCEPTED');
    expect(state.consent?.status).toBe('ACCEPTED');
    expect(state.consent?.fingerprint).toBe(before.consent?.fingerprint);
  });

  it('accepting again is already satisfied, with the same statement or none', () => {
    given(riskDecider, acceptedEvents()).when(recordConsent(true)).thenNothing();
    given(riskDecider, acceptedEvents()).when(recordConsent(true, { statement: undefined })).thenNothing();
  });

  it('accepting again with another statement is refused, the one recorded standing (race probe of 2026-12-06, F1: answered as done, the words dropped)', () => {
    const { state } = given(riskDecider, acceptedEvents()).when(recordConsent(true)).thenNothing();
    expect(state.consent).toMatchObject({ status: 'ACCEPTED', statement: 'I accept the residual risk as planned' });
    given(riskDecider, acceptedEvents())
      .when(recordConsent(true, { statement: 'Other words' }))
      .thenThrows(RuleViolationError, { rule: 'CONSENT_NOT_REQUESTED', article: 'Art.20', message: expect.stringMatching(/accepted its residual risk in plan .* already .*with another statement: that acceptance stands/) });
    // One given with no statement is not given one afterwards.
    const silent = continueHistory(awaitingConsentEvents(), recordConsent(true, { statement: undefined }));
    given(riskDecider, silent).when(recordConsent(true, { statement: undefined })).thenNothing();
    given(riskDecider, silent)
      .when(recordConsent(true))
      .thenThrows(RuleViolationError, { rule: 'CONSENT_NOT_REQUESTED', message: expect.stringMatching(/with no statement/) });
  });

  it('the owner declines with a reason: back to TO_TREAT', () => {
    const { state } = given(riskDecider, awaitingConsentEvents())
      .when(recordConsent(false))
      .thenMatches([
        { type: 'ResidualRiskDeclinedByOwner', data: { planId: PLAN, planRevision: 1, ownerId: owner.id, reason: 'Cold storage ratio is too low for my business line' } },
      ]);
    expect(state.status).toBe('TO_TREAT');
    expect(state.consent).toMatchObject({ status: 'DECLINED', reason: 'Cold storage ratio is too low for my business line' });
  });

  it('a decline pins the state declined, as an acceptance pins the state accepted (schema version 2); one recorded before keeps the request\'s', () => {
    const asked = awaitingConsentEvents();
    const { events, state } = given(riskDecider, asked).when(recordConsent(false)).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
    expect(events[0]!.data).toMatchObject({ fingerprint: consentFingerprint(stateOf(asked)) });
    expect(state.consent?.fingerprint).toBe(consentFingerprint(stateOf(asked)));
    // A stale request declined: the fingerprint is of the risk as it now is, not as it was asked.
    const stale = continueHistory(asked, decideControls({ controls: [control({ dueDate: '2025-09-30' })] }));
    const declinedStale = given(riskDecider, stale).when(recordConsent(false)).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
    expect(declinedStale.events[0]!.data).toMatchObject({ fingerprint: consentFingerprint(stateOf(stale)) });
    expect(consentFingerprint(stateOf(stale))).not.toBe(consentFingerprint(stateOf(asked)));
    // Version 1 (no fingerprint) reads as before: the request's fingerprint stays.
    const { fingerprint: _f, ...v1 } = events[0]!.data as { fingerprint?: string };
    const old = upcastRiskEvent('ResidualRiskDeclinedByOwner', 1, v1);
    expect(riskDecider.evolve(stateOf(asked), old).consent?.fingerprint).toBe(stateOf(asked).consent?.fingerprint);
  });

  it('declining again for the same reason is already satisfied; for another, refused, the first reason standing (race probe of 2026-12-06, F1: answered as done, the reason recorded nowhere)', () => {
    const declined = continueHistory(awaitingConsentEvents(), recordConsent(false));
    given(riskDecider, declined).when(recordConsent(false)).thenNothing();
    given(riskDecider, declined).when(recordConsent(false, { reason: 'Another reason' })).thenThrows(RuleViolationError, {
      rule: 'CONSENT_NOT_REQUESTED',
      article: 'Art.20',
      message: expect.stringMatching(/declined its residual risk in plan .* already .* for another reason: that decline answered the request/),
    });
    expect(stateOf(declined).consent).toMatchObject({ status: 'DECLINED', reason: 'Cold storage ratio is too low for my business line' });
  });

  it('an acceptance after a decline is CONSENT_NOT_REQUESTED (the decline answered the request), not RISK_NOT_IN_PLAN', () => {
    const declined = continueHistory(awaitingConsentEvents(), recordConsent(false));
    given(riskDecider, declined)
      .when(recordConsent(true))
      .thenThrows(RuleViolationError, { rule: 'CONSENT_NOT_REQUESTED', article: 'Art.20' });
  });

  it('a decline needs a reason', () => {
    given(riskDecider, awaitingConsentEvents()).when(recordConsent(false, { reason: ' ' })).thenRejectsFields('reason');
  });

  it('`accepted` must be a boolean', () => {
    given(riskDecider, awaitingConsentEvents())
      .when(recordConsent(true, { accepted: 'yes' as never }))
      .thenRejectsFields('accepted');
  });

  it('only the owner answers', () => {
    given(riskDecider, awaitingConsentEvents()).when(recordConsent(true, { actor: otherOwner })).thenThrows(ForbiddenError);
    given(riskDecider, awaitingConsentEvents()).when(recordConsent(false, { actor: { ...owner, roles: ['RISK_OWNER', 'AUDITOR'] } })).thenThrows(ForbiddenError);
  });

  it("a token with no role but ADMIN writes no domain data, even under the owner's id (auditor probe F4); the owner with another role of theirs answers", () => {
    for (const roles of [['ADMIN'], []] as const) {
      const refused = given(riskDecider, awaitingConsentEvents()).when(recordConsent(true, { actor: { ...owner, roles: [...roles] } })).thenThrows(ForbiddenError);
      expect(refused.message).toContain('writes no domain data');
      given(riskDecider, reviewableEvents()).when(analyseInformal('an-admin', 1, 1, { actor: { ...owner, roles: [...roles] } })).thenThrows(ForbiddenError);
    }
    given(riskDecider, awaitingConsentEvents()).when(recordConsent(true, { actor: { ...owner, roles: ['BOARD_SECRETARY', 'ADMIN'] } })).thenMatches([{ type: 'ResidualRiskAcceptedByOwner' }]);
  });

  it('after a decline the risk goes round again: treatment, controls, plan, consent', () => {
    const declined = continueHistory(awaitingConsentEvents(), recordConsent(false));
    // The declined item stays in its plan until removed (removeRiskFromPlan), then the risk may join a plan again.
    const again = continueHistory(declined, decideTreatment({ at: T3 }), decideControls({ at: T3 }), leavePlan({ at: T3 }), includeInPlan({ at: T3 }), awaitConsent({ at: T3 }));
    expect(again.slice(declined.length).map((e) => e.type)).toEqual([
      'RiskTreatmentDecided',
      'ControlsDecided',
      'RiskLeftPlan',
      'RiskIncludedInPlan',
      'RiskAwaitingResidualConsent',
    ]);
    expect(stateOf(again)).toMatchObject({ status: 'AWAITING_CONSENT', consent: { status: 'PENDING' } });
  });

  it('refuses an answer to a request that was never made', () => {
    given(riskDecider, inPlanEvents())
      .when(recordConsent(true))
      .thenThrows(RuleViolationError, { rule: 'CONSENT_NOT_REQUESTED', article: 'Art.20' });
  });

  it('refuses an answer about another plan', () => {
    given(riskDecider, awaitingConsentEvents())
      .when(recordConsent(true, { planId: 'plan-other' }))
      .thenThrows(RuleViolationError, { rule: 'RISK_NOT_IN_PLAN', article: 'Art.20' });
  });

  it('refuses an acceptance of a stale request', () => {
    const stale = continueHistory(awaitingConsentEvents(), decideControls({ controls: [control({ dueDate: '2025-09-30' })] }));
    given(riskDecider, stale)
      .when(recordConsent(true))
      .thenThrows(RuleViolationError, { rule: 'CONSENT_STALE', article: 'Art.20' });
  });

  it('takes a refusal of a stale request (it stands whatever changed), and then asks nothing again', () => {
    for (const before of [awaitingConsentEvents(), acceptedEvents()]) {
      const stale = continueHistory(before, decideControls({ controls: [control({ dueDate: '2025-09-30' })] }));
      const { events, state } = given(riskDecider, stale).when(recordConsent(false)).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
      expect(state).toMatchObject({ status: 'TO_TREAT', consent: { status: 'DECLINED' } });
      // The reactions' request for the stale consent arrives after the refusal: satisfied.
      given(riskDecider, [...stale, ...events]).when(awaitConsent()).thenNothing();
    }
  });
});

describe('material changes after consent (Art. 20)', () => {
  it('a re-analysis of an ACCEPTED risk invalidates the consent: AWAITING_CONSENT, consent STALE', () => {
    const accepted = acceptedEvents();
    const v = stateOf(accepted).version;
    const { state } = given(riskDecider, accepted)
      .when(analyseInformal('an-i9', 3, 3, { at: T3 }))
      .thenMatches([
        { type: 'RiskAnalysed' },
        { type: 'ResidualConsentInvalidated', data: { riskId: RISK, planId: PLAN, planRevision: 1, reason: 'RISK_REANALYSED', atVersion: v + 1, invalidatedAt: T3 } },
      ]);
    expect(state.status).toBe('AWAITING_CONSENT');
    expect(state.consent).toMatchObject({ status: 'STALE', atVersion: v + 1 });
    expect(state.version).toBe(v + 2);
  });

  it('a new treatment while consent is PENDING invalidates it', () => {
    given(riskDecider, awaitingConsentEvents())
      .when(decideTreatment({ rationale: 'Add insurance later' }))
      .thenMatches([{ type: 'RiskTreatmentDecided' }, { type: 'ResidualConsentInvalidated', data: { reason: 'TREATMENT_REVISED' } }]);
  });

  it('new controls after acceptance invalidate it', () => {
    given(riskDecider, acceptedEvents())
      .when(decideControls({ controls: [control({ dueDate: '2025-12-31' })] }))
      .thenMatches([{ type: 'ControlsDecided' }, { type: 'ResidualConsentInvalidated', data: { reason: 'CONTROLS_REVISED' } }]);
  });

  it('a new owner invalidates it (the new owner must consent)', () => {
    const { state } = given(riskDecider, acceptedEvents())
      .when(reassignOwner(otherOwner.id))
      .thenMatches([{ type: 'RiskOwnerReassigned' }, { type: 'ResidualConsentInvalidated', data: { reason: 'OWNER_REASSIGNED' } }]);
    expect(state).toMatchObject({ status: 'AWAITING_CONSENT', ownerId: otherOwner.id, consent: { status: 'STALE' } });
  });

  it('a risk closed (avoided) since asks nothing when the stale consent comes to be asked again', () => {
    const closed = continueHistory(acceptedEvents(), decideTreatment({ options: ['AVOID'], targetLikelihood: 1, targetImpact: 1, at: T3 }));
    expect(stateOf(closed).status).toBe('CLOSED');
    given(riskDecider, closed).when(awaitConsent({ at: T3 })).thenNothing();
  });

  it('AVOID after acceptance: invalidation, then closing', () => {
    given(riskDecider, acceptedEvents())
      .when(decideTreatment({ options: ['AVOID'], targetLikelihood: 1, targetImpact: 1 }))
      .thenMatches([{ type: 'RiskTreatmentDecided' }, { type: 'ResidualConsentInvalidated' }, { type: 'ControlProgressRecorded', data: { controlId: 'ctl-multisig', status: 'CANCELLED' } }, { type: 'RiskClosed', data: { reason: 'AVOIDED', planId: PLAN } }]);
  });

  it('AVOID names the plan the risk is an item of (which marks the item), and none outside a plan', () => {
    // In the plan before its owner is asked (the approval's request not yet recorded): no consent to invalidate.
    given(riskDecider, inPlanEvents())
      .when(decideTreatment({ options: ['AVOID'], targetLikelihood: 1, targetImpact: 1 }))
      .thenMatches([{ type: 'RiskTreatmentDecided' }, { type: 'ControlProgressRecorded', data: { controlId: 'ctl-multisig', status: 'CANCELLED' } }, { type: 'RiskClosed', data: { planId: PLAN } }]);
    const { events } = given(riskDecider, controlsDecidedEvents()).when(decideTreatment({ options: ['AVOID'], targetLikelihood: 1, targetImpact: 1 })).thenMatches([{ type: 'RiskTreatmentDecided' }, { type: 'ControlProgressRecorded', data: { controlId: 'ctl-multisig', status: 'CANCELLED' } }, { type: 'RiskClosed' }]);
    expect(events[2]!.data).not.toHaveProperty('planId');
  });

  it('an already stale consent is not invalidated twice', () => {
    const stale = continueHistory(acceptedEvents(), reassignOwner(otherOwner.id));
    given(riskDecider, stale).when(analyseInformal('an-i9', 1, 1, { actor: otherOwner })).thenMatches([{ type: 'RiskAnalysed' }]);
  });

  it('before consent is requested there is nothing to invalidate', () => {
    given(riskDecider, inPlanEvents()).when(decideTreatment({ rationale: 'Revised before the board' })).thenMatches([{ type: 'RiskTreatmentDecided' }]);
  });

  it('after invalidation the owner is asked again and can accept', () => {
    const stale = continueHistory(acceptedEvents(), decideControls({ controls: [control({ dueDate: '2025-12-31' })], at: T3 }));
    const fp = consentFingerprint(stateOf(stale));
    const asked = given(riskDecider, stale)
      .when(awaitConsent({ at: T3 }))
      .thenMatches([{ type: 'RiskAwaitingResidualConsent', data: { planRevision: 1, fingerprint: fp } }]);
    expect(asked.state.consent?.status).toBe('PENDING');
    given(riskDecider, [...stale, ...asked.events]).when(recordConsent(true, { at: T3 })).thenMatches([{ type: 'ResidualRiskAcceptedByOwner', data: { fingerprint: fp } }]);
  });

  it('the request records the level the board approved, and a stale consent asked again keeps it', () => {
    const asked = given(riskDecider, inPlanEvents())
      .when(awaitConsent({ approvedResidualLevel: 'LOW' }))
      .thenMatches([{ type: 'RiskAwaitingResidualConsent', data: { residualLevel: 'LOW', approvedResidualLevel: 'LOW' } }]);
    expect(asked.state.consent).toMatchObject({ status: 'PENDING', approvedResidualLevel: 'LOW' });
    const stale = continueHistory([...inPlanEvents(), ...asked.events], recordConsent(true), decideControls({ controls: [control({ dueDate: '2025-12-31' })], at: T3 }));
    expect(stateOf(stale).consent).toMatchObject({ status: 'STALE', approvedResidualLevel: 'LOW' });
    given(riskDecider, stale)
      .when(awaitConsent({ at: T3 }))
      .thenMatches([{ type: 'RiskAwaitingResidualConsent', data: { residualLevel: 'LOW', approvedResidualLevel: 'LOW' } }]);
  });

  it('a request of another plan revision does not inherit the level approved for the earlier one', () => {
    const stale = continueHistory(inPlanEvents(), awaitConsent({ approvedResidualLevel: 'MEDIUM' }), decideControls({ controls: [control({ dueDate: '2025-12-31' })], at: T3 }));
    const { events } = given(riskDecider, stale).when(awaitConsent({ planRevision: 2, at: T3 })).thenMatches([{ type: 'RiskAwaitingResidualConsent' }]);
    expect(events[0]!.data).not.toHaveProperty('approvedResidualLevel');
  });

  it('once the target level is not the one the board approved, the owner can decline but not accept (Art.19(2))', () => {
    // The board approved MEDIUM; the treatment now targets LOW (the builders' target, likelihood 1 x impact 2).
    const asked = continueHistory(inPlanEvents(), awaitConsent({ approvedResidualLevel: 'MEDIUM' }));
    given(riskDecider, asked)
      .when(recordConsent(true))
      .thenThrows(RuleViolationError, { rule: 'RESIDUAL_LEVEL_NOT_APPROVED', article: 'Art.19(2)' });
    given(riskDecider, asked).when(recordConsent(false)).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
    // The same level as approved: accepted as before.
    given(riskDecider, continueHistory(inPlanEvents(), awaitConsent({ approvedResidualLevel: 'LOW' })))
      .when(recordConsent(true))
      .thenMatches([{ type: 'ResidualRiskAcceptedByOwner', data: { residualLevel: 'LOW' } }]);
  });

  it('a request recorded without the approved level (older builds) takes the target the risk carried to the board: a target changed since cannot be accepted', () => {
    // Submitted to the board at LOW; asked without approvedResidualLevel (as builds before 2026-12-01 11:04 asked).
    const asked = continueHistory(inPlanEvents(), freezeForBoard(), awaitConsent());
    expect(asked.at(-1)!.data).not.toHaveProperty('approvedResidualLevel');
    expect(stateOf(asked).consent).toMatchObject({ status: 'PENDING', approvedResidualLevel: 'LOW' });
    // The treatment is re-targeted after the approval (stale), and the owner is asked again, again without the level.
    const lenient = { ...criteriaV1, acceptanceLevel: 'MEDIUM' };
    const retargeted = continueHistory(asked, decideTreatment({ targetLikelihood: 2, targetImpact: 2, criteria: lenient, at: T3 }), awaitConsent({ at: T3 }));
    expect(stateOf(retargeted).treatment?.targetLevel).not.toBe('LOW');
    expect(stateOf(retargeted).consent).toMatchObject({ status: 'PENDING', approvedResidualLevel: 'LOW' });
    given(riskDecider, retargeted)
      .when({ ...recordConsent(true, { at: T3 }), criteria: lenient })
      .thenThrows(RuleViolationError, { rule: 'RESIDUAL_LEVEL_NOT_APPROVED', article: 'Art.19(2)' });
  });

  it('once the treatment or controls are not those the board approved, the owner can decline but not accept (Art.19(2), auditor probe F2)', () => {
    // Submitted to the board, approved (the request carries the approved level), accepted.
    const approved = continueHistory(inPlanEvents(), freezeForBoard(), awaitConsent({ approvedResidualLevel: 'LOW' }), recordConsent(true));
    const changedThenAsked = (...changes: RiskCommand[]) => continueHistory(approved, ...changes, awaitConsent({ at: T3 }));
    const cancel: RiskCommand = { type: 'RecordControlProgress', riskId: RISK, controlId: 'ctl-multisig', status: 'CANCELLED', note: 'Replaced by an e-mail', actor: committee, at: T3 };
    const cases: [string, RiskEvent[], string][] = [
      ['controls replaced', changedThenAsked(decideControls({ controls: [control({ controlId: 'ctl-mail', title: 'Annual reminder e-mail' })], at: T3 })), 'controls changed'],
      ['a due date moved', changedThenAsked(decideControls({ controls: [control({ controlId: 'ctl-2', dueDate: '2026-06-30' })], at: T3 })), 'controls changed'],
      ['a control cancelled', changedThenAsked(cancel), 'controls changed'],
      // Same target (the level the board approved), other options: the level rule alone let this through.
      ['the treatment re-decided', changedThenAsked(decideTreatment({ options: ['REDUCE', 'SHARE'], counterparty: 'Some insurer', contractReference: 'P-1', at: T3 })), 'treatment changed'],
    ];
    for (const [what, history, message] of cases) {
      expect([what, stateOf(history).consent?.status]).toEqual([what, 'PENDING']);
      given(riskDecider, history)
        .when(recordConsent(true, { at: T3 }))
        .thenThrows(RuleViolationError, { rule: 'PLAN_CONTENT_NOT_APPROVED', article: 'Art.19(2)', message: expect.stringContaining(message) });
      given(riskDecider, history).when(recordConsent(false, { at: T3 })).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
    }
    // The controls changed, then decided again as the board approved them (under a new id): accepted.
    const sameAgain = changedThenAsked(decideControls({ controls: [control({ controlId: 'ctl-mail', title: 'Annual reminder e-mail' })], at: T3 }), decideControls({ controls: [control({ controlId: 'ctl-multisig-2' })], at: T3 }));
    expect(stateOf(sameAgain).controls.map((c) => c.controlId)).toEqual(['ctl-multisig-2']);
    given(riskDecider, sameAgain).when(recordConsent(true, { at: T3 })).thenMatches([{ type: 'ResidualRiskAcceptedByOwner' }]);
    // Without a board submission on record (no approval of that content), the rule has nothing to compare.
    const neverSubmitted = continueHistory(inPlanEvents(), awaitConsent({ approvedResidualLevel: 'LOW' }), decideControls({ controls: [control({ controlId: 'ctl-mail', title: 'Annual reminder e-mail' })], at: T3 }), awaitConsent({ at: T3 }));
    given(riskDecider, neverSubmitted).when(recordConsent(true, { at: T3 })).thenMatches([{ type: 'ResidualRiskAcceptedByOwner' }]);
  });

  it('criteria approved since the treatment with a lower acceptance level: the owner can decline but not accept (Art.13(1))', () => {
    const stricter = { ...criteriaV1, id: 'crit-3', number: 3, riskLevels: ['VLOW', ...criteriaV1.riskLevels], acceptanceLevel: 'VLOW' };
    const asked = continueHistory(inPlanEvents(), awaitConsent({ approvedResidualLevel: 'LOW' }));
    given(riskDecider, asked)
      .when({ ...recordConsent(true), criteria: stricter })
      .thenThrows(RuleViolationError, { rule: 'RESIDUAL_ABOVE_ACCEPTANCE', article: 'Art.13(1)' });
    given(riskDecider, asked).when({ ...recordConsent(false), criteria: stricter }).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
    // Under criteria whose acceptance level the target meets: accepted.
    given(riskDecider, asked).when({ ...recordConsent(true), criteria: criteriaV1 }).thenMatches([{ type: 'ResidualRiskAcceptedByOwner', data: { residualLevel: 'LOW' } }]);
  });

  it('an owner accepting again under criteria that now place the accepted residual above their acceptance level is told so, not answered as if accepted (auditor probe F1)', () => {
    const stricter = { ...criteriaV1, id: 'crit-3', number: 3, riskLevels: ['VLOW', ...criteriaV1.riskLevels], acceptanceLevel: 'VLOW' };
    const accepted = continueHistory(inPlanEvents(), awaitConsent({ approvedResidualLevel: 'LOW' }), { ...recordConsent(true), criteria: criteriaV1 });
    expect(stateOf(accepted).consent?.status).toBe('ACCEPTED');
    const refused = given(riskDecider, accepted).when({ ...recordConsent(true), criteria: stricter }).thenThrows(RuleViolationError, { rule: 'RESIDUAL_ABOVE_ACCEPTANCE', article: 'Art.13(1)' });
    expect(refused.message).toContain('the acceptance recorded under earlier criteria stands until the owner declines it');
    // Under the criteria it was given under, it is already satisfied; a decline (withdrawal) is taken under any.
    given(riskDecider, accepted).when({ ...recordConsent(true), criteria: criteriaV1 }).thenNothing();
    given(riskDecider, accepted).when({ ...recordConsent(false), criteria: stricter }).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
  });

  it('an acceptance is the current one until a change, a decline or another acceptance follows it', () => {
    const accepted = acceptedEvents();
    const given = accepted[accepted.length - 1]!;
    expect(given.type).toBe('ResidualRiskAcceptedByOwner');
    const data = given.data as { planId: string; atVersion: number; fingerprint: string };
    expect(isCurrentAcceptance(stateOf(accepted), data)).toBe(true);
    expect(isCurrentAcceptance(stateOf(continueHistory(accepted, decideControls({ controls: [control({ dueDate: '2025-12-31' })], at: T3 }))), data)).toBe(false);
    expect(isCurrentAcceptance(stateOf(continueHistory(accepted, recordConsent(false, { at: T3 }))), data)).toBe(false);
  });

  it('an AUDITOR cannot cause a material change either', () => {
    given(riskDecider, acceptedEvents()).when(reassignOwner(otherOwner.id, { actor: auditor })).thenThrows(ForbiddenError);
  });
});

describe('consentFingerprint and isMaterialRiskEvent', () => {
  it('is a SHA-256 hex digest, stable across folds', () => {
    const fp = consentFingerprint(stateOf(acceptedEvents()));
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(consentFingerprint(stateOf(acceptedEvents()))).toBe(fp);
  });

  it('changes with what the owner consents to, not with anything else', () => {
    const base = stateOf(acceptedEvents());
    const fp = consentFingerprint(base);
    expect(consentFingerprint({ ...base, ownerId: 'someone-else' })).not.toBe(fp);
    expect(consentFingerprint({ ...base, level: 'MEDIUM' })).not.toBe(fp);
    expect(consentFingerprint({ ...base, controls: [] })).not.toBe(fp);
    expect(consentFingerprint({ ...base, treatment: { ...base.treatment!, targetImpact: 1 } })).not.toBe(fp);
    expect(consentFingerprint({ ...base, cycle: 2 })).not.toBe(fp);
    // not part of the consent: version, timestamps, reviews, status
    expect(consentFingerprint({ ...base, version: 99, updatedAt: 'x', status: 'AWAITING_CONSENT', reviewCount: 7, recentReviewIds: ['x'] })).toBe(fp);
    // a review without finding leaves it untouched
    const reviewed = continueHistory(reviewableEvents(), review('rv-1', 1, 1));
    expect(consentFingerprint(stateOf(reviewed))).toBe(fp);
  });

  it('does not depend on key order', () => {
    const base = stateOf(acceptedEvents());
    const t = base.treatment!;
    const reordered = Object.fromEntries(Object.entries(t).reverse()) as typeof t;
    expect(consentFingerprint({ ...base, treatment: reordered })).toBe(consentFingerprint(base));
  });

  it('classifies the material events', () => {
    for (const t of ['RiskAnalysed', 'RiskTreatmentDecided', 'ControlsDecided', 'RiskOwnerReassigned']) expect(isMaterialRiskEvent(t)).toBe(true);
    for (const t of ['RiskIdentified', 'RiskEvaluated', 'RiskReviewed', 'RiskIncludedInPlan', 'ResidualRiskAcceptedByOwner', 'Nope']) {
      expect(isMaterialRiskEvent(t)).toBe(false);
    }
  });
});

it('the fixtures walk the whole happy path with one event per step', () => {
  const events = acceptedEvents();
  expect(events.map((e) => e.type)).toEqual([
    'RiskIdentified',
    'RiskAnalysed',
    'RiskAnalysed',
    'RiskEvaluated',
    'RiskTreatmentDecided',
    'ControlsDecided',
    'RiskIncludedInPlan',
    'RiskAwaitingResidualConsent',
    'ResidualRiskAcceptedByOwner',
  ]);
  expect(stateOf(events)).toMatchObject({ status: 'ACCEPTED', version: 8, planId: PLAN });
  expect(stateOf(toTreatEvents()).status).toBe('TO_TREAT');
});

describe('a plan submitted to the board freezes its risks (Art. 19)', () => {
  it('FreezeForBoard marks the risk; analysis, evaluation, treatment, controls and owner changes are refused', () => {
    const frozen = continueHistory(inPlanEvents(), freezeForBoard());
    expect(frozen[frozen.length - 1]).toMatchObject({ type: 'RiskSubmittedToBoard', data: { planId: PLAN, planRevision: 1 } });
    for (const command of [decideControls({ at: T3 }), decideTreatment({ at: T3 }), reassignOwner(otherOwner.id), analyseInformal('an-z', 1, 1, { at: T3 })]) {
      given(riskDecider, frozen).when(command).thenThrows(RuleViolationError, { rule: 'RISK_IN_SUBMITTED_PLAN', article: 'Art.19' });
    }
    given(riskDecider, frozen).when(freezeForBoard()).thenNothing();
  });

  it("a control's cancellation is refused too, its progress goes on (compliance probe of 2026-12-07, F3: a cancellation was taken, the board approved what had changed)", () => {
    const frozen = continueHistory(inPlanEvents(), freezeForBoard());
    const controlId = stateOf(frozen).controls[0]!.controlId;
    const progress = (status: 'CANCELLED' | 'IN_PROGRESS' | 'IMPLEMENTED'): RiskCommand => ({ type: 'RecordControlProgress', riskId: RISK, controlId, status, ...(status === 'CANCELLED' ? { note: 'Dropped for budget' } : {}), actor: committee, at: T3 });
    given(riskDecider, frozen).when(progress('CANCELLED')).thenThrows(RuleViolationError, { rule: 'RISK_IN_SUBMITTED_PLAN', article: 'Art.19' });
    given(riskDecider, frozen).when(progress('IN_PROGRESS')).thenMatches([{ type: 'ControlProgressRecorded', data: { controlId, status: 'IN_PROGRESS' } }]);
    given(riskDecider, frozen).when(progress('IMPLEMENTED')).thenMatches([{ type: 'ControlProgressRecorded', data: { controlId, status: 'IMPLEMENTED' } }]);
    // Released (withdrawn, rejected) or approved, it may be cancelled again.
    given(riskDecider, continueHistory(inPlanEvents(), freezeForBoard(), releaseFromBoard())).when(progress('CANCELLED')).thenMatches([{ type: 'ControlProgressRecorded', data: { status: 'CANCELLED' } }]);
  });

  it("an acceptance is refused when an asset of the risk left the inventory after the risk went to the board (ASSET_RETIRED, compliance probe of 2026-12-07, F1); one retired before stays acceptable, and a decline is taken", () => {
    // Submitted at T2 and approved (consent requested) at T3.
    const approved = continueHistory(inPlanEvents(), freezeForBoard({ at: T2 }), awaitConsent({ at: T3 }));
    const retiredAt = (at: string) => [{ ...hotWallet, status: 'RETIRED' as const, retiredAt: at }];
    given(riskDecider, approved)
      .when(recordConsent(true, { at: T4, assets: retiredAt(T3) }))
      .thenThrows(RuleViolationError, { rule: 'ASSET_RETIRED', article: 'Art.14(2)' });
    given(riskDecider, approved).when(recordConsent(true, { at: T4, assets: retiredAt(T1) })).thenMatches([{ type: 'ResidualRiskAcceptedByOwner' }]);
    given(riskDecider, approved).when(recordConsent(true, { at: T4, assets: [hotWallet] })).thenMatches([{ type: 'ResidualRiskAcceptedByOwner' }]);
    given(riskDecider, approved).when(recordConsent(false, { at: T4, assets: retiredAt(T3) })).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
    expect(stateOf(approved).boardSubmission).toMatchObject({ planId: PLAN, planRevision: 1, submittedAt: T2 });
  });

  it('only a risk of that plan is frozen', () => {
    given(riskDecider, controlsDecidedEvents()).when(freezeForBoard()).thenThrows(RuleViolationError, { rule: 'RISK_NOT_IN_PLAN' });
  });

  it('ReleaseFromBoard (withdrawn or rejected) lets the content change again; the consent request (approval) does too', () => {
    const released = continueHistory(inPlanEvents(), freezeForBoard(), releaseFromBoard());
    expect(stateOf(released).submittedInPlan).toBeUndefined();
    given(riskDecider, released).when(releaseFromBoard()).thenNothing();
    given(riskDecider, released).when(decideControls({ at: T3, controls: [control({ title: 'Another control' })] })).thenMatches([{ type: 'ControlsDecided' }]);
    const approved = continueHistory(inPlanEvents(), freezeForBoard(), awaitConsent());
    expect(stateOf(approved)).toMatchObject({ status: 'AWAITING_CONSENT' });
    expect(stateOf(approved).submittedInPlan).toBeUndefined();
  });

  it('LeavePlan frees the risk for another plan (back to CONTROLS_DECIDED); leaving a plan it is not in changes nothing', () => {
    const left = continueHistory(inPlanEvents(), leavePlan());
    expect(stateOf(left)).toMatchObject({ status: 'CONTROLS_DECIDED' });
    expect(stateOf(left).planId).toBeUndefined();
    given(riskDecider, left).when(leavePlan()).thenNothing();
    given(riskDecider, left).when(includeInPlan({ planId: 'plan-other' })).thenMatches([{ type: 'RiskIncludedInPlan', data: { planId: 'plan-other' } }]);
    // An accepted risk whose plan closes keeps its status, and the answer its owner gave.
    const closedAfterAnswer = stateOf(continueHistory(acceptedEvents(), leavePlan({ reason: 'PLAN_CLOSED' })));
    expect([closedAfterAnswer.status, closedAfterAnswer.consent?.status]).toEqual(['ACCEPTED', 'ACCEPTED']);
    // A question the closed plan no longer asks leaves with it: no consent PENDING for a plan the risk is not in.
    const closedBeforeAnswer = stateOf(continueHistory(awaitingConsentEvents(), leavePlan({ reason: 'PLAN_CLOSED' })));
    expect([closedBeforeAnswer.status, closedBeforeAnswer.consent]).toEqual(['CONTROLS_DECIDED', undefined]);
  });

  it('an accepted risk whose plan closed, changed materially, is planned again: no consent invalidated for the closed plan, no question left open (race probe of 2026-12-05)', () => {
    const closed = continueHistory(acceptedEvents(), leavePlan({ reason: 'PLAN_CLOSED', at: T3 }));
    const changes: [string, RiskCommand, RiskEvent['type']][] = [
      ['controls', decideControls({ controls: [control({ dueDate: '2025-09-30' })], at: T3 }), 'ControlsDecided'],
      ['treatment', decideTreatment({ rationale: 'a new approach', at: T3 }), 'RiskTreatmentDecided'],
      ['analysis', analyseInformal('an-closed', 3, 3, { at: T3 }), 'RiskAnalysed'],
      ['owner', reassignOwner(otherOwner.id, { at: T3 }), 'RiskOwnerReassigned'],
    ];
    for (const [name, change, type] of changes) {
      const { events, state } = given(riskDecider, closed).when(change).thenMatches([{ type }]);
      expect({ name, types: events.map((e) => e.type), status: state.status, planId: state.planId }).toEqual({ name, types: [type], status: 'CONTROLS_DECIDED', planId: undefined });
      // The answer stays as given to the closed plan, and the risk can join another plan.
      expect(state.consent).toMatchObject({ planId: PLAN, status: 'ACCEPTED' });
      given(riskDecider, [...closed, ...events]).when(includeInPlan({ planId: 'plan-next', at: T3 })).thenMatches([{ type: 'RiskIncludedInPlan' }]);
    }
    // Logged by builds before: the same change followed by the invalidation for the closed plan reads as the risk planned again.
    const changed = [...closed, ...given(riskDecider, closed).when(decideControls({ controls: [control({ dueDate: '2025-09-30' })], at: T3 })).thenMatches([{ type: 'ControlsDecided' }]).events];
    const old: RiskEvent = { type: 'ResidualConsentInvalidated', data: { riskId: RISK, planId: PLAN, planRevision: 1, reason: 'CONTROLS_REVISED', atVersion: stateOf(changed).version, invalidatedAt: T3 } };
    expect(stateOf([...changed, old])).toMatchObject({ status: 'CONTROLS_DECIDED', consent: { planId: PLAN, status: 'ACCEPTED' } });
    // While the plan is open, the same change invalidates the acceptance, as before.
    given(riskDecider, acceptedEvents()).when(decideControls({ controls: [control({ dueDate: '2025-09-30' })], at: T3 })).thenMatches([{ type: 'ControlsDecided' }, { type: 'ResidualConsentInvalidated' }]);
  });

  it('the owner may withdraw a given consent by declining it', () => {
    given(riskDecider, acceptedEvents()).when(recordConsent(false)).thenMatches([{ type: 'ResidualRiskDeclinedByOwner' }]);
  });

  it('a review finding names the plan whose item it reopens', () => {
    given(riskDecider, reviewableEvents()).when(review('rv-9', 3, 3)).thenMatches([{ type: 'RiskReviewed' }, { type: 'RiskReassessmentOpened', data: { planId: PLAN } }]);
  });

  it("an answer for the plan a review took the risk out of says it left that plan (its item is still listed, REOPENED), not only that it is not in it", () => {
    // Submitted to the board in the plan, approved and accepted, its controls implemented, then a review finding.
    const accepted = continueHistory(inPlanEvents(), freezeForBoard(), awaitConsent(), recordConsent(true));
    const implemented = stateOf(accepted).controls.map((c) => ({ type: 'RecordControlProgress' as const, riskId: RISK, controlId: c.controlId, status: 'IMPLEMENTED' as const, actor: { id: 'u-com', name: 'Committee', roles: ['COMMITTEE_MEMBER' as const] }, at: '2025-04-04T00:00:00.000Z' }));
    const reopened = continueHistory(accepted, ...implemented, review('rv-9', 3, 3));
    expect(stateOf(reopened)).toMatchObject({ status: 'IDENTIFIED', cycle: 2 });
    const refused = given(riskDecider, reopened).when(recordConsent(true)).thenThrows(RuleViolationError, { rule: 'RISK_NOT_IN_PLAN' });
    expect(refused.message).toMatch(/no longer awaits its owner.s answer in plan .*: it has left that plan since it was submitted to the board in it \(a review finding reopened it, now cycle 2; or it was removed from the plan, or the plan was closed, which keeps listing the item/);
    // A plan the risk was never submitted in: the plain refusal.
    const other = given(riskDecider, reopened).when(recordConsent(true, { planId: 'plan-other' })).thenThrows(RuleViolationError, { rule: 'RISK_NOT_IN_PLAN' });
    expect(other.message).not.toMatch(/any more/);
  });
});
