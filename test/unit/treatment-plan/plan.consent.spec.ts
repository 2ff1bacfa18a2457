/**
 * The plan decider after the board's approval: the owners' answers (Art. 20), withdrawing,
 * closing and removing, reopened items and stale consents. Fixtures in plan.fixtures.ts.
 */
import { BadInputError, ForbiddenError, NotFoundError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import type {
  ClosePlan,
  MarkItemReopened,
  MarkItemRiskClosed,
  LearnItemOwner,
  RemoveRiskFromPlan,
  WithdrawPlan,
} from '../../../src/treatment-plan/domain/plan.commands.js';
import { decide, planDecider } from '../../../src/treatment-plan/domain/plan.decider.js';
import type { PlanEvent } from '../../../src/treatment-plan/domain/plan.events.js';
import { evolve } from '../../../src/treatment-plan/domain/plan.evolve.js';
import { initialPlanState, isPlanInForce, pendingConsents } from '../../../src/treatment-plan/domain/plan.state.js';
import { given } from '../support/given-when-then.js';
import {
  accept,
  add,
  approved,
  awaiting,
  committee,
  decline,
  inForce,
  markStale,
  oneAccepted,
  owner1,
  owner2,
  PLAN,
  processManager,
  r1,
  r2,
  r1Awaiting,
  r2Awaiting,
  r3,
  resolve,
  submit,
  stateOf,
  submitted,
  T_LATER,
  withItems,
} from './plan.fixtures.js';

const close = (over: Partial<ClosePlan> = {}): ClosePlan => ({ type: 'ClosePlan', planId: PLAN, reason: 'Period ended', actor: committee, at: T_LATER, ...over });
const remove = (riskId: string, over: Partial<RemoveRiskFromPlan> = {}): RemoveRiskFromPlan => ({ type: 'RemoveRiskFromPlan', planId: PLAN, riskId, reason: 'Handled elsewhere', actor: committee, at: T_LATER, ...over });

describe('LearnResidualConsent (Art.20: the plan learns the answer the risk decided)', () => {
  it('records an acceptance pinned to the risk state, with the residual level; the last one puts the plan in force', () => {
    const { state: after } = given(planDecider, approved).when(accept(r1Awaiting)).thenMatches([
      { type: 'ResidualRiskAccepted', data: { riskId: 'r-1', ownerId: owner1.id, riskVersion: r1Awaiting.version, riskStateHash: r1.stateHash, residualLevel: 'LOW', planRevision: 1 } },
    ]);
    expect(after.status).toBe('APPROVED');
    expect(after.items.find((i) => i.riskId === 'r-1')).toMatchObject({ consent: 'ACCEPTED', consentRecord: { residualLevel: 'LOW' } });
    const { state } = given(planDecider, oneAccepted).when(accept(r2Awaiting)).thenMatches([{ type: 'ResidualRiskAccepted' }, { type: 'PlanCameIntoForce', data: { revision: 1 } }]);
    expect(state.status).toBe('IN_FORCE');
  });

  it('does not come into force over an item whose risk no longer holds its acceptance (unsettledRiskIds), and does once it is settled', () => {
    // r-1 accepted; r-2's acceptance is learnt while r-1 has changed and the plan has not learnt it yet.
    const { state } = given(planDecider, oneAccepted).when(accept(r2Awaiting, { unsettledRiskIds: ['r-1'] })).thenMatches([{ type: 'ResidualRiskAccepted', data: { riskId: 'r-2' } }]);
    expect(state.status).toBe('APPROVED');
    given(planDecider, oneAccepted).when(accept(r2Awaiting, { unsettledRiskIds: [] })).thenMatches([{ type: 'ResidualRiskAccepted' }, { type: 'PlanCameIntoForce' }]);
  });

  it('is already satisfied for the same answer on the same risk version', () => {
    given(planDecider, oneAccepted).when(accept(r1Awaiting)).thenNothing();
    given(planDecider, [...approved, ...decide(decline(r1Awaiting), stateOf(approved))]).when(decline(r1Awaiting)).thenNothing();
  });

  it('a decline after consent takes the plan out of force', () => {
    const { state } = given(planDecider, inForce)
      .when(decline(r1Awaiting, { riskVersion: r1Awaiting.version + 1, at: T_LATER }))
      .thenMatches([{ type: 'ResidualRiskDeclined', data: { riskId: 'r-1' } }, { type: 'PlanLeftForce', data: { cause: 'CONSENT_DECLINED' } }]);
    expect(state).toMatchObject({ status: 'APPROVED' });
    expect(state.items.find((i) => i.riskId === 'r-1')?.consent).toBe('DECLINED');
  });

  it('never refuses a fact: an answer for another revision, an unknown item, a draft or a closed plan is ignored', () => {
    given(planDecider, approved).when(accept(r1Awaiting, { planRevision: 2 })).thenNothing();
    given(planDecider, approved).when(accept(awaiting(r3))).thenNothing();
    given(planDecider, withItems).when(accept(r1Awaiting)).thenNothing();
    given(planDecider, []).when(accept(r1Awaiting)).thenNothing();
    const closed = [...inForce, ...decide({ type: 'ClosePlan', planId: PLAN, reason: 'Period ended', actor: committee, at: T_LATER }, stateOf(inForce))];
    given(planDecider, closed).when(decline(r1Awaiting, { riskVersion: 99 })).thenNothing();
  });

  it('a closed plan keeps the answers it closed with: a later change to a risk makes nothing stale there (race probe of 2026-12-05)', () => {
    const closed = [...inForce, ...decide({ type: 'ClosePlan', planId: PLAN, reason: 'Period ended', actor: committee, at: T_LATER }, stateOf(inForce))];
    given(planDecider, closed).when(markStale('r-1', 99)).thenNothing();
    // Logged on a closed plan by builds before: the item stays ACCEPTED.
    const old: PlanEvent = { type: 'ResidualConsentBecameStale', data: { riskId: 'r-1', ownerId: owner1.id, riskVersion: 99, consentedRiskVersion: 1, reason: 'CONTROLS_REVISED', markedAt: T_LATER } };
    const state = stateOf([...closed, old]);
    expect(state.items.find((i) => i.riskId === 'r-1')?.consent).toBe('ACCEPTED');
    expect(state.version).toBe(stateOf(closed).version + 1);
  });
});

describe('WithdrawPlan, ClosePlan, RemoveRiskFromPlan, MarkItemReopened (contract, consistency rules)', () => {
  const withdraw = (over: Partial<WithdrawPlan> = {}): WithdrawPlan => ({ type: 'WithdrawPlan', planId: PLAN, reason: 'Figures to be updated', actor: committee, at: T_LATER, ...over });
  const reopen = (riskId: string, over: Partial<MarkItemReopened> = {}): MarkItemReopened => ({ type: 'MarkItemReopened', planId: PLAN, riskId, riskVersion: 30, reviewId: 'rv-1', actor: processManager, at: T_LATER, ...over });

  it('a submitted plan is withdrawn to DRAFT as revision + 1; only a submitted one', () => {
    const { state } = given(planDecider, submitted).when(withdraw()).thenMatches([{ type: 'PlanWithdrawn', data: { revision: 2, previousRevision: 1 } }]);
    expect(state).toMatchObject({ status: 'DRAFT', revision: 2 });
    expect(state.revisions.map((r) => r.outcome)).toEqual(['WITHDRAWN', 'OPEN']);
    expect(state.revisions[0]).toMatchObject({ withdrawnBy: committee.id, withdrawnAt: T_LATER, withdrawalReason: 'Figures to be updated' });
    expect(state.revisions[1]).not.toHaveProperty('withdrawnBy');
    given(planDecider, withItems).when(withdraw()).thenThrows(RuleViolationError, { rule: 'PLAN_NOT_SUBMITTED' });
    given(planDecider, submitted).when(withdraw({ actor: owner1 })).thenThrows(ForbiddenError);
    given(planDecider, submitted).when(withdraw({ reason: ' ' })).thenRejectsFields('reason');
  });

  it('an approved or in-force plan is closed; a draft is not; closing twice is satisfied', () => {
    expect(given(planDecider, inForce).when(close()).thenMatches([{ type: 'PlanClosed' }]).state.status).toBe('CLOSED');
    given(planDecider, approved).when(close()).thenMatches([{ type: 'PlanClosed' }]);
    given(planDecider, withItems).when(close()).thenThrows(RuleViolationError, { rule: 'PLAN_NOT_CLOSABLE' });
    given(planDecider, [...inForce, ...decide(close(), stateOf(inForce))]).when(close()).thenNothing();
    // Closed again for another reason: refused, the first standing (it was answered as done, the reason recorded nowhere).
    given(planDecider, [...inForce, ...decide(close(), stateOf(inForce))])
      .when(close({ reason: 'Another reason' }))
      .thenThrows(RuleViolationError, { rule: 'PLAN_NOT_CLOSABLE', message: expect.stringMatching(/was closed at .* for another reason: that closure stands/) });
  });

  it('removes an item in DRAFT, or a DECLINED / REOPENED one; the remaining all ACCEPTED puts the plan in force', () => {
    expect(given(planDecider, withItems).when(remove('r-1')).thenMatches([{ type: 'PlanRiskRemoved' }]).state.items.map((i) => i.riskId)).toEqual(['r-2']);
    given(planDecider, approved).when(remove('r-1')).thenThrows(RuleViolationError, { rule: 'ITEM_NOT_REMOVABLE' });
    const declined = [...oneAccepted, ...decide(decline(r2Awaiting), stateOf(oneAccepted))];
    const { state } = given(planDecider, declined).when(remove('r-2')).thenMatches([{ type: 'PlanRiskRemoved', data: { consent: 'DECLINED' } }, { type: 'PlanCameIntoForce' }]);
    expect(state.status).toBe('IN_FORCE');
    // The item leaves items, not the record: its owner's decline, as it stood, with the removal (probe of 2026-12-06, M2).
    expect(state.removedItems).toEqual([
      expect.objectContaining({ riskId: 'r-2', consent: 'DECLINED', declineReason: expect.any(String), removedFromRevision: 1, removedBy: committee.id, removalReason: 'Handled elsewhere', removedAt: T_LATER }),
    ]);
    const removed = [...declined, ...decide(remove('r-2'), stateOf(declined))];
    given(planDecider, removed).when(remove('r-2')).thenNothing();
    // Again for another reason: refused, the removal standing as recorded (auditor probe of 2026-12-06, F4).
    const again = given(planDecider, removed).when(remove('r-2', { reason: 'Another reason' })).thenThrows(RuleViolationError, { rule: 'ITEM_NOT_REMOVABLE' });
    expect(again.message).toContain(`removed from plan ${PLAN} at ${T_LATER} by ${committee.id}`);
    // An item removed is not a wrong id: the error says when and by whom (F5).
    const gone = given(planDecider, removed).when({ type: 'ExplainResidualRisk', planId: PLAN, riskId: 'r-2', explainedOn: '2026-04-10', summary: 's', actor: committee, at: T_LATER }).thenThrows(NotFoundError, { entity: 'PlanItem', id: 'r-2' });
    expect(gone.message).toMatch(/^PlanItem r-2 not found: it was removed from plan .* \(Plan\.removedItems\)$/);
  });

  it('an item whose risk was closed (avoided) is removed whatever its consent; the rest all ACCEPTED puts the plan back in force', () => {
    // AVOID on r-1 of a plan in force: the consent goes stale, and its owner can never answer again.
    const avoided = [...inForce, ...decide(markStale('r-1', 12), stateOf(inForce))];
    given(planDecider, avoided).when(remove('r-1')).thenThrows(RuleViolationError, { rule: 'ITEM_NOT_REMOVABLE' });
    const { state } = given(planDecider, avoided)
      .when(remove('r-1', { riskClosed: true }))
      .thenMatches([{ type: 'PlanRiskRemoved', data: { riskId: 'r-1', consent: 'STALE' } }, { type: 'PlanCameIntoForce' }]);
    expect(state.items.map((i) => i.riskId)).toEqual(['r-2']);
    // Avoided before its owner answered: PENDING for good, removed the same way (the plan stays APPROVED).
    given(planDecider, oneAccepted).when(remove('r-2', { riskClosed: true })).thenMatches([{ type: 'PlanRiskRemoved', data: { consent: 'PENDING' } }, { type: 'PlanCameIntoForce' }]);
    // Nor when the plan lags the remaining item's risk (its consent voided a moment before).
    given(planDecider, avoided).when(remove('r-1', { riskClosed: true, unsettledRiskIds: ['r-2'] })).thenMatches([{ type: 'PlanRiskRemoved' }]);
    // Not in a submitted plan: the board is deciding on it.
    given(planDecider, submitted).when(remove('r-1', { riskClosed: true })).thenThrows(RuleViolationError, { rule: 'ITEM_NOT_REMOVABLE' });
  });

  it('a review finding reopens an item: the plan leaves force, the item may be removed', () => {
    const { state } = given(planDecider, inForce).when(reopen('r-1')).thenMatches([{ type: 'PlanItemReopened' }, { type: 'PlanLeftForce', data: { cause: 'ITEM_REOPENED' } }]);
    expect(state.items.find((i) => i.riskId === 'r-1')?.consent).toBe('REOPENED');
    const reopened = [...inForce, ...decide(reopen('r-1'), stateOf(inForce))];
    given(planDecider, reopened).when(reopen('r-1')).thenNothing();
    given(planDecider, reopened).when(remove('r-1')).thenMatches([{ type: 'PlanRiskRemoved' }, { type: 'PlanCameIntoForce' }]);
  });

  it('a reopened item is not added again: the risk left the plan for a new cycle the board never saw (PLAN_FROZEN)', () => {
    const reopened = [...inForce, ...decide(reopen('r-1'), stateOf(inForce))];
    given(planDecider, reopened).when(add({ ...r1, version: r1.version + 5 }, { actor: committee })).thenThrows(RuleViolationError, { rule: 'PLAN_FROZEN' });
    // An item that was not reopened is still already there.
    given(planDecider, reopened).when(add(r2, { actor: committee })).thenNothing();
  });

  it("the last item of an approved plan is not removed (the plan would be in force over nothing): it is closed instead", () => {
    const declined = [...oneAccepted, ...decide(decline(r2Awaiting), stateOf(oneAccepted))];
    const onlyFirst = [...declined, ...decide(remove('r-2'), stateOf(declined))];
    const reopened = [...onlyFirst, ...decide(reopen('r-1'), stateOf(onlyFirst))];
    expect(stateOf(reopened)).toMatchObject({ status: 'APPROVED', items: [{ riskId: 'r-1', consent: 'REOPENED' }] });
    given(planDecider, reopened).when(remove('r-1')).thenThrows(RuleViolationError, { rule: 'ITEM_NOT_REMOVABLE' });
    given(planDecider, reopened).when(close()).thenMatches([{ type: 'PlanClosed' }]);
  });

  it('the residual level of each item is fixed at submission', () => {
    expect(stateOf(submitted).items.map((i) => i.residualLevel)).toEqual(['LOW', 'LOW']);
  });

  it('a meeting dated before the submission day is refused, naming meetingDate', () => {
    given(planDecider, submitted).when(resolve({ meetingDate: '2026-04-01' })).thenRejectsFields('meetingDate');
    given(planDecider, submitted).when(resolve({ meetingDate: '2026-04-02' })).thenMatches([{ type: 'BoardResolutionRecorded' }, { type: 'PlanApproved' }]);
  });

  it("a resolution folded from the log carries the position of its commit's last event (the approval recorded with it)", () => {
    const events = approved.map((e, i) => ({ ...e, position: `p${String(i).padStart(2, '0')}` }));
    const state = events.reduce((st, e) => evolve(st, e as PlanEvent), initialPlanState);
    const approval = approved.findIndex((e) => e.type === 'PlanApproved');
    expect(approved[approval - 1]!.type).toBe('BoardResolutionRecorded');
    expect(state.resolution?.position).toBe(`p${String(approval).padStart(2, '0')}`);
    expect(state.resolutions.map((r) => r.position)).toEqual([`p${String(approval).padStart(2, '0')}`]);
  });
});

describe('MarkConsentStale (a material change of the risk after consent)', () => {
  it('makes the consent stale and takes the plan out of force', () => {
    const { state } = given(planDecider, inForce).when(markStale('r-1', 12)).then([
      {
        type: 'ResidualConsentBecameStale',
        data: {
          riskId: 'r-1',
          ownerId: owner1.id,
          riskVersion: 12,
          consentedRiskVersion: 9,
          reason: 'Risk re-analysed: level went from LOW to HIGH',
          markedAt: T_LATER,
        },
      },
      {
        type: 'PlanLeftForce',
        data: { riskId: 'r-1', cause: 'CONSENT_STALE', reason: 'Risk re-analysed: level went from LOW to HIGH', leftAt: T_LATER },
      },
    ]);
    expect(state.status).toBe('APPROVED');
    expect(isPlanInForce(state)).toBe(false);
    expect(state.items[0]).toMatchObject({ consent: 'STALE', staleSinceRiskVersion: 12, consentRecord: { riskVersion: 9 } });
    expect(pendingConsents(state).map((i) => [i.riskId, i.consent])).toEqual([['r-1', 'STALE']]);
  });

  it('on an approved plan not yet in force, only the consent becomes stale', () => {
    given(planDecider, oneAccepted).when(markStale('r-1', 12)).thenMatches([{ type: 'ResidualConsentBecameStale' }]);
  });

  it('the plan stays out of force until the owner consents again to the changed risk', () => {
    const stale = [...inForce, ...decide(markStale('r-1', 12), stateOf(inForce))];
    // another owner's repeat changes nothing
    given(planDecider, stale).when(accept(r2Awaiting)).thenNothing();
    // the owner consents to the new state: pinned to it, and the plan is in force again
    const changed = awaiting(r1, { version: 13, stateHash: 'sha256:r1-b', level: 'HIGH', criteriaNumber: 3 });
    const { state } = given(planDecider, stale).when(accept(changed, { at: T_LATER })).then([
      {
        type: 'ResidualRiskAccepted',
        data: {
          riskId: 'r-1',
          ownerId: owner1.id,
          statement: 'I accept the residual risk of Hot wallet key theft',
          riskVersion: 13,
          riskStateHash: 'sha256:r1-b',
          riskLevel: 'HIGH',
          residualLevel: 'LOW',
          planVersion: stateOf(stale).version,
          planRevision: 1,
          criteriaNumber: 3,
          acceptedAt: T_LATER,
        },
      },
      {
        type: 'PlanCameIntoForce',
        data: {
          revision: 1,
          consents: [
            { riskId: 'r-1', ownerId: owner1.id, riskVersion: 13, riskStateHash: 'sha256:r1-b' },
            { riskId: 'r-2', ownerId: owner2.id, riskVersion: 6, riskStateHash: 'sha256:r2-a' },
          ],
          cameIntoForceAt: T_LATER,
        },
      },
    ]);
    expect(state.items[0]).toMatchObject({ consent: 'ACCEPTED', consentRecord: { riskVersion: 13 } });
    expect(state.items[0]!.staleReason).toBeUndefined();
    expect(isPlanInForce(state)).toBe(true);
  });

  it('a consent that is PENDING, already STALE or DECLINED: nothing to do', () => {
    given(planDecider, approved).when(markStale('r-1', 12)).thenNothing();
    given(planDecider, withItems).when(markStale('r-1', 12)).thenNothing();
    const stale = [...inForce, ...decide(markStale('r-1', 12), stateOf(inForce))];
    given(planDecider, stale).when(markStale('r-1', 14)).thenNothing();
    const declined = [...approved, ...decide(decline(r1Awaiting), stateOf(approved))];
    given(planDecider, declined).when(markStale('r-1', 12)).thenNothing();
  });

  it('a change the owner already consented to (same or later risk version) leaves the consent current', () => {
    given(planDecider, inForce).when(markStale('r-1', 9)).thenNothing();
    given(planDecider, inForce).when(markStale('r-1', 5)).thenNothing();
  });

  it('needs no role (the process manager issues it)', () => {
    given(planDecider, inForce)
      .when(markStale('r-1', 12, { actor: { id: 'system', name: 'system', roles: [] } }))
      .thenMatches([{ type: 'ResidualConsentBecameStale' }, { type: 'PlanLeftForce' }]);
  });

  it('validates its input', () => {
    const error = given(planDecider, inForce).when(markStale('r-1', -1, { reason: '' })).thenThrows(BadInputError);
    expect(Object.keys(error.fields).sort()).toEqual(['reason', 'riskVersion']);
    given(planDecider, inForce).when(markStale('r-1', 1.5)).thenRejectsFields('riskVersion');
  });

  it('the plan and the item must exist', () => {
    given(planDecider, []).when(markStale('r-1', 12)).thenThrows(NotFoundError, { entity: 'Plan', id: PLAN });
    given(planDecider, inForce).when(markStale('r-3', 12)).thenThrows(NotFoundError, { entity: 'PlanItem', id: 'r-3' });
  });
});

describe('MarkItemRiskClosed (the risk of an item was avoided, Art.17)', () => {
  const closure = (riskId: string, riskVersion: number, over: Partial<MarkItemRiskClosed> = {}): MarkItemRiskClosed => ({
    type: 'MarkItemRiskClosed', planId: PLAN, riskId, riskVersion, closedAt: '2027-02-01T03:00:00.000Z', actor: processManager, at: T_LATER, ...over,
  });

  it('marks a PENDING item (avoided before its owner was asked): the plan stays out of force, the item is removable', () => {
    const { state } = given(planDecider, approved).when(closure('r-1', 9)).then([
      { type: 'PlanItemRiskClosed', data: { riskId: 'r-1', riskVersion: 9, reason: 'AVOIDED', closedAt: '2027-02-01T03:00:00.000Z', markedAt: T_LATER } },
    ]);
    expect(state.status).toBe('APPROVED');
    expect(state.items.find((i) => i.riskId === 'r-1')).toMatchObject({ consent: 'PENDING', riskClosedAt: '2027-02-01T03:00:00.000Z' });
    // Removable on the mark alone, as when the removal reads the risk CLOSED.
    const marked = [...approved, ...decide(closure('r-1', 9), stateOf(approved))];
    given(planDecider, marked).when(remove('r-1')).thenMatches([{ type: 'PlanRiskRemoved', data: { riskId: 'r-1', consent: 'PENDING' } }]);
    // Already marked: nothing.
    given(planDecider, marked).when(closure('r-1', 9)).thenNothing();
  });

  it('after the stale consent the same AVOID made (learnt just before it), the closure marks the STALE item; the plan has left force', () => {
    const stale = [...inForce, ...decide(markStale('r-1', 12, { reason: 'TREATMENT_REVISED' }), stateOf(inForce))];
    expect(stale.slice(-2).map((e) => e.type)).toEqual(['ResidualConsentBecameStale', 'PlanLeftForce']);
    const { state } = given(planDecider, stale).when(closure('r-1', 13)).thenMatches([{ type: 'PlanItemRiskClosed', data: { riskId: 'r-1', riskVersion: 13 } }]);
    expect(state.status).toBe('APPROVED');
    expect(state.items.find((i) => i.riskId === 'r-1')).toMatchObject({ consent: 'STALE', staleReason: 'TREATMENT_REVISED', riskClosedAt: '2027-02-01T03:00:00.000Z' });
  });

  it('a draft item is marked too (its submission is refused until it is removed); a closed plan, an unknown or removed item: nothing', () => {
    expect(given(planDecider, withItems).when(closure('r-2', 5)).thenMatches([{ type: 'PlanItemRiskClosed' }]).state.status).toBe('DRAFT');
    given(planDecider, withItems).when(closure('r-9', 5)).thenNothing();
    given(planDecider, [...inForce, ...decide(close(), stateOf(inForce))]).when(closure('r-1', 13)).thenNothing();
    given(planDecider, []).when(closure('r-1', 13)).thenNothing();
  });
});

describe('helpers', () => {
  it('isPlanInForce and pendingConsents through the life of a plan', () => {
    expect(isPlanInForce(initialPlanState)).toBe(false);
    expect(pendingConsents(initialPlanState)).toEqual([]);
    expect(pendingConsents(stateOf(submitted))).toEqual([]); // no consent is asked before approval
    expect(pendingConsents(stateOf(approved))).toHaveLength(2);
    expect(pendingConsents(stateOf(oneAccepted))).toHaveLength(1);
    expect(isPlanInForce(stateOf(inForce))).toBe(true);
    expect(pendingConsents(stateOf(inForce))).toEqual([]);
  });
});

describe('LearnItemOwner (the risk of an item has a new owner, Art.14(1))', () => {
  const newOwner = (riskId: string, ownerId: string, over: Partial<LearnItemOwner> = {}): LearnItemOwner => ({
    type: 'LearnItemOwner', planId: PLAN, riskId, riskVersion: 20, previousOwnerId: owner1.id, ownerId, actor: processManager, at: T_LATER, ...over,
  });

  it('names the new owner on the item; the consent itself is the stale consent\'s matter (the plan stays in force until it is learnt)', () => {
    const { state } = given(planDecider, inForce).when(newOwner('r-1', 'u-owner-3')).then([
      { type: 'PlanItemOwnerChanged', data: { riskId: 'r-1', riskVersion: 20, previousOwnerId: owner1.id, ownerId: 'u-owner-3', changedAt: T_LATER } },
    ]);
    expect(state.status).toBe('IN_FORCE');
    expect(state.items.find((i) => i.riskId === 'r-1')).toMatchObject({ ownerId: 'u-owner-3', consent: 'ACCEPTED', consentRecord: { ownerId: owner1.id } });
    // The revision the board decided keeps the owner it decided with.
    expect(state.revisions.at(-1)!.items.find((i) => i.riskId === 'r-1')!.ownerId).toBe(owner1.id);
    // Already named: nothing.
    given(planDecider, [...inForce, ...decide(newOwner('r-1', 'u-owner-3'), stateOf(inForce))]).when(newOwner('r-1', 'u-owner-3')).thenNothing();
  });

  it('in a draft, the revision the board will be asked to decide names the new owner, and so does its approval', () => {
    const owned = [...withItems, ...decide(newOwner('r-1', 'u-owner-3'), stateOf(withItems))];
    expect(stateOf(owned).revisions.at(-1)!.items.find((i) => i.riskId === 'r-1')!.ownerId).toBe('u-owner-3');
    const approvedAfter = [...owned, ...decide(submit(), stateOf(owned))];
    const events = decide(resolve(), stateOf(approvedAfter));
    expect(events.find((e) => e.type === 'PlanApproved')!.data).toMatchObject({ items: [{ riskId: 'r-1', ownerId: 'u-owner-3' }, { riskId: 'r-2', ownerId: owner2.id }] });
  });

  it('a declined item keeps who declined (declinedBy) under its new owner; a closed plan, an unknown or removed item: nothing', () => {
    const declined = [...approved, ...decide(decline(r1Awaiting), stateOf(approved))];
    const { state } = given(planDecider, declined).when(newOwner('r-1', 'u-owner-3')).thenMatches([{ type: 'PlanItemOwnerChanged' }]);
    expect(state.items.find((i) => i.riskId === 'r-1')).toMatchObject({ ownerId: 'u-owner-3', consent: 'DECLINED', declinedBy: owner1.id });
    given(planDecider, withItems).when(newOwner('r-9', 'u-owner-3')).thenNothing();
    given(planDecider, [...inForce, ...decide(close(), stateOf(inForce))]).when(newOwner('r-1', 'u-owner-3')).thenNothing();
    given(planDecider, []).when(newOwner('r-1', 'u-owner-3')).thenNothing();
  });
});
