/**
 * The plan decider (Art. 19): the stream and its events, drafting, adding risks, submitting and
 * the board's resolution. The life after approval is in plan.consent.spec.ts.
 */
import { BadInputError, ForbiddenError, NotFoundError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import { decide, planDecider } from '../../../src/treatment-plan/domain/plan.decider.js';
import { planEventSchemaVersions, upcastPlanEvent, type PlanEvent } from '../../../src/treatment-plan/domain/plan.events.js';
import { evolve } from '../../../src/treatment-plan/domain/plan.evolve.js';
import { initialPlanState, isPlanInForce, pendingConsents, planStreamId } from '../../../src/treatment-plan/domain/plan.state.js';
import { given } from '../support/given-when-then.js';
import {
  accept,
  actor,
  add,
  admin,
  approved,
  auditor,
  awaiting,
  ciso,
  committee,
  decline,
  draft,
  drafted,
  inForce,
  markStale,
  oneAccepted,
  owner1,
  owner2,
  PLAN,
  play,
  processManager,
  r1,
  r1Awaiting,
  r2,
  r2Awaiting,
  r3,
  rejected,
  resolve,
  secretary,
  stateOf,
  submit,
  submitted,
  T_ADD,
  T_CONSENT,
  T_DRAFT,
  T_LATER,
  T_RESOLVE,
  T_SUBMIT,
  withItems,
} from './plan.fixtures.js';

describe('plan stream and event catalogue', () => {
  it('names the stream plan-<id>', () => {
    expect(planStreamId('abc')).toBe('plan-abc');
  });

  it('gives every event type schema version 1 and knows every type the decider yields', () => {
    expect(Object.values(planEventSchemaVersions).every((v) => v === 1)).toBe(true);
    const everyPath = [
      ...inForce,
      ...play(draft(), add(r1), submit(), resolve({ decision: 'REJECTED' })),
      ...decide(decline(awaiting(r1, { status: 'ACCEPTED' })), stateOf(inForce)),
      ...decide(markStale(r1.id, 20), stateOf(inForce)),
      ...decide({ type: 'WithdrawPlan', planId: PLAN, reason: 'Figures to be updated', actor: committee, at: T_LATER }, stateOf(submitted)),
      ...decide({ type: 'ClosePlan', planId: PLAN, reason: 'Period ended', actor: committee, at: T_LATER }, stateOf(inForce)),
      ...decide({ type: 'RemoveRiskFromPlan', planId: PLAN, riskId: r1.id, reason: 'Out of scope', actor: committee, at: T_LATER }, stateOf(withItems)),
      ...decide({ type: 'MarkItemReopened', planId: PLAN, riskId: r1.id, riskVersion: 30, reviewId: 'rv-1', actor: processManager, at: T_LATER }, stateOf(inForce)),
      ...decide({ type: 'MarkItemRiskClosed', planId: PLAN, riskId: r1.id, riskVersion: 31, closedAt: T_LATER, actor: processManager, at: T_LATER }, stateOf(inForce)),
      ...decide({ type: 'LearnItemOwner', planId: PLAN, riskId: r1.id, riskVersion: 32, previousOwnerId: r1.ownerId, ownerId: 'u-owner-3', actor: processManager, at: T_LATER }, stateOf(inForce)),
      ...decide({ type: 'ExplainResidualRisk', planId: PLAN, riskId: r1.id, explainedOn: '2026-04-10', summary: 'Plan and residual level explained', actor: committee, at: T_LATER }, stateOf(inForce)),
    ];
    for (const e of everyPath) expect(planEventSchemaVersions).toHaveProperty(e.type, 1);
    expect(new Set(everyPath.map((e) => e.type)).size).toBe(Object.keys(planEventSchemaVersions).length);
  });

  it('upcasts version 1 as is and refuses unknown types and future versions', () => {
    const [e] = drafted;
    expect(upcastPlanEvent(e!.type, 1, e!.data)).toEqual(e);
    expect(() => upcastPlanEvent('PlanShredded', 1, {})).toThrow(/Unknown plan event type/);
    expect(() => upcastPlanEvent('PlanDrafted', 2, e!.data)).toThrow(/Unsupported schema version/);
  });

  it('events are plain JSON: they survive a JSON round trip unchanged', () => {
    const all = [...inForce, ...decide(markStale(r1.id, 20), stateOf(inForce))];
    expect(JSON.parse(JSON.stringify(all))).toEqual(all);
  });

  it('version is the revision of the last event: -1 initially, +1 per event', () => {
    expect(initialPlanState.version).toBe(-1);
    expect(stateOf(drafted).version).toBe(0);
    expect(stateOf(inForce).version).toBe(inForce.length - 1);
  });

  it('decide and evolve never mutate the state they are given', () => {
    // a frozen state throws on any write in strict mode (ES modules are strict)
    for (const [history, command] of [
      [approved, accept(r1Awaiting)],
      [oneAccepted, accept(r2Awaiting)],
      [inForce, markStale(r1.id, 20)],
      [inForce, decline(awaiting(r1, { status: 'ACCEPTED' }))],
      [submitted, resolve({ decision: 'REJECTED' })],
    ] as const) {
      const state = deepFreeze(stateOf([...history]));
      const snapshot = JSON.stringify(state);
      const events = decide(command, state);
      expect(events.length).toBeGreaterThan(0);
      events.reduce(evolve, state);
      expect(JSON.stringify(state)).toBe(snapshot);
    }
  });

  it('replaying the same log gives the same state', () => {
    expect(stateOf(inForce)).toEqual(stateOf(JSON.parse(JSON.stringify(inForce)) as PlanEvent[]));
  });
});

describe('DraftPlan (Art.19(2): the committee drafts)', () => {
  it('drafts the plan', () => {
    const { state } = given(planDecider, []).when(draft()).then([
      {
        type: 'PlanDrafted',
        data: {
          planId: PLAN,
          title: 'Information security management plan FY2026',
          period: 'FY2026',
          draftedBy: committee.id,
          draftedAt: T_DRAFT,
        },
      },
    ]);
    expect(state).toMatchObject({
      exists: true,
      id: PLAN,
      version: 0,
      revision: 1,
      status: 'DRAFT',
      draftedBy: committee.id,
      items: [],
      resolutions: [],
      revisions: [{ revision: 1, items: [], outcome: 'OPEN' }],
    });
    expect(state.resolution).toBeUndefined();
  });

  it('a CISO may draft', () => {
    given(planDecider, []).when(draft({ actor: ciso })).thenMatches([{ type: 'PlanDrafted', data: { draftedBy: ciso.id } }]);
  });

  it.each([
    ['RISK_OWNER', owner1],
    ['BOARD_SECRETARY', secretary],
    ['ASSET_MANAGER', actor('u-am', 'ASSET_MANAGER')],
    ['ADMIN', admin],
    ['AUDITOR', auditor],
    ['CISO who is also AUDITOR', actor('u-x', 'CISO', 'AUDITOR')],
  ])('%s may not draft', (_label, who) => {
    given(planDecider, []).when(draft({ actor: who })).thenThrows(ForbiddenError);
  });

  it('reports every bad field at once, by input field name', () => {
    const error = given(planDecider, []).when(draft({ title: '  ', period: '' })).thenThrows(BadInputError);
    expect(Object.keys(error.fields).sort()).toEqual(['period', 'title']);
  });

  it('title is 1..200 characters (trimmed)', () => {
    given(planDecider, []).when(draft({ title: 'x'.repeat(201) })).thenRejectsFields('title');
    given(planDecider, []).when(draft({ title: `  ${'x'.repeat(200)}  `, period: ' FY2026 ' })).thenMatches([
      { type: 'PlanDrafted', data: { title: 'x'.repeat(200), period: 'FY2026' } },
    ]);
  });

  it('drafting the same plan again is already satisfied', () => {
    given(planDecider, drafted).when(draft({ at: T_ADD })).thenNothing();
  });

  it('another plan under an id already taken is refused', () => {
    given(planDecider, drafted)
      .when(draft({ title: 'Something else' }))
      .thenThrows(RuleViolationError, { rule: 'PLAN_ALREADY_EXISTS' });
  });
});

describe('AddRiskToPlan (Art.19(1): the plan compiles the decided controls)', () => {
  it('adds a risk whose controls are decided', () => {
    const { state } = given(planDecider, drafted).when(add(r1)).then([
      {
        type: 'PlanRiskAdded',
        data: {
          riskId: 'r-1',
          ownerId: owner1.id,
          riskTitle: 'Hot wallet key theft',
          riskVersion: 7,
          riskStateHash: 'sha256:r1-a',
          revision: 1,
          addedBy: committee.id,
          addedAt: T_ADD,
        },
      },
    ]);
    expect(state.items).toEqual([
      {
        riskId: 'r-1',
        ownerId: owner1.id,
        riskTitle: 'Hot wallet key theft',
        riskVersion: 7,
        riskStateHash: 'sha256:r1-a',
        addedBy: committee.id,
        addedAt: T_ADD,
        consent: 'PENDING',
      },
    ]);
    expect(state.revisions[0]!.items).toEqual([{ riskId: 'r-1', riskVersion: 7, riskTitle: 'Hot wallet key theft', ownerId: owner1.id }]);
  });

  it('a CISO may add', () => {
    given(planDecider, drafted).when(add(r1, { actor: ciso })).thenMatches([{ type: 'PlanRiskAdded', data: { addedBy: ciso.id } }]);
  });

  it.each([
    ['RISK_OWNER (even the risk owner)', owner1],
    ['BOARD_SECRETARY', secretary],
    ['AUDITOR', auditor],
  ])('%s may not add', (_label, who) => {
    given(planDecider, drafted).when(add(r1, { actor: who })).thenThrows(ForbiddenError);
  });

  it('leaves to the risk whether it may join (its controls decided, no other open plan): the two are appended together', () => {
    // The plan records the item; the risk's IncludeInPlan, decided in the same atomic append, refuses
    // RISK_CONTROLS_NOT_DECIDED / RISK_IN_OTHER_PLAN (test/unit/risk-register/plan-consent.spec.ts).
    given(planDecider, drafted).when(add({ ...r1, status: 'IN_PLAN' })).thenMatches([{ type: 'PlanRiskAdded' }]);
    given(planDecider, drafted).when(add({ ...r1, version: -1 })).thenThrows(NotFoundError, { entity: 'Risk' });
  });

  it('a risk already in the plan is not added twice', () => {
    given(planDecider, withItems).when(add(r1)).thenNothing();
    // a retry after the risk side moved the risk to IN_PLAN
    given(planDecider, withItems).when(add({ ...r1, status: 'IN_PLAN', version: 8 })).thenNothing();
  });

  it('a submitted plan is frozen', () => {
    given(planDecider, submitted).when(add(r3)).thenThrows(RuleViolationError, { rule: 'PLAN_FROZEN', article: 'Art.19(2)' });
  });

  it('an approved plan is frozen', () => {
    given(planDecider, approved).when(add(r3)).thenThrows(RuleViolationError, { rule: 'PLAN_FROZEN' });
  });

  it('the plan must exist', () => {
    given(planDecider, []).when(add(r1)).thenThrows(NotFoundError, { entity: 'Plan', id: PLAN });
  });

  it('the risk must be named', () => {
    given(planDecider, drafted).when(add({ ...r1, id: '' })).thenRejectsFields('riskId');
  });
});

describe('SubmitPlan', () => {
  it('records the risk criteria in force at submission; a withdrawal forgets them with the submission', () => {
    const { state } = given(planDecider, withItems)
      .when(submit({ criteria: { number: 2, acceptanceLevel: 'LOW' } }))
      .thenMatches([{ type: 'PlanSubmitted', data: { criteria: { number: 2, acceptanceLevel: 'LOW' } } }]);
    expect(state.submittedUnderCriteria).toEqual({ number: 2, acceptanceLevel: 'LOW' });
    const withdrawn = planDecider.decide({ type: 'WithdrawPlan', planId: PLAN, reason: 'more work', actor: committee, at: T_SUBMIT }, state).reduce(planDecider.evolve, state);
    expect(withdrawn.submittedUnderCriteria).toBeUndefined();
    // Back in draft, the residual levels fixed at submission are gone too (the next submission fixes them).
    expect(state.items.map((i) => i.residualLevel)).toEqual(['LOW', 'LOW']);
    expect(withdrawn.items.map((i) => i.residualLevel)).toEqual([undefined, undefined]);
  });

  it('submits and freezes the plan', () => {
    const { state } = given(planDecider, withItems).when(submit()).then([
      { type: 'PlanSubmitted', data: { revision: 1, riskIds: ['r-1', 'r-2'], residualLevels: { 'r-1': 'LOW', 'r-2': 'LOW' }, submittedBy: committee.id, submittedAt: T_SUBMIT } },
    ]);
    expect(state).toMatchObject({ status: 'SUBMITTED', submittedBy: committee.id, submittedAt: T_SUBMIT });
    expect(state.revisions).toEqual([
      {
        revision: 1,
        items: [
          { riskId: 'r-1', riskVersion: 7, riskTitle: r1.title, ownerId: owner1.id },
          { riskId: 'r-2', riskVersion: 4, riskTitle: r2.title, ownerId: owner2.id },
        ],
        outcome: 'SUBMITTED',
        submittedAt: T_SUBMIT,
        submittedBy: committee.id,
      },
    ]);
  });

  it('a plan holding a risk whose target the criteria in force place above their acceptance level is not submitted: the board would approve what no owner can accept (probe 7 F3)', () => {
    const error = given(planDecider, withItems)
      .when(submit({ criteria: { number: 3, acceptanceLevel: 'LOW' }, risksAboveAcceptance: ['r-2'] }))
      .thenThrows(RuleViolationError, { rule: 'ITEM_ABOVE_ACCEPTANCE', article: 'Art.13(1)' });
    expect(error.message).toContain('risk r-2 whose target residual level is above the acceptance level LOW of criteria #3');
    given(planDecider, withItems).when(submit({ criteria: { number: 3, acceptanceLevel: 'LOW' }, risksAboveAcceptance: [] })).thenMatches([{ type: 'PlanSubmitted' }]);
  });

  it('a plan holding a risk analysed beyond the scales of the criteria in force is not submitted: they cannot compare it with their acceptance level (Art.16; compliance probe F2)', () => {
    const error = given(planDecider, withItems)
      .when(submit({ criteria: { number: 3, acceptanceLevel: 'LOW' }, risksBeyondScales: ['r-1'], risksAboveAcceptance: ['r-2'] }))
      .thenThrows(RuleViolationError, { rule: 'ITEM_BEYOND_CRITERIA', article: 'Art.16' });
    expect(error.message).toContain('risk r-1 analysed beyond the likelihood or impact scales of criteria #3, now in force: analyse it again under them, or remove it');
    given(planDecider, withItems).when(submit({ criteria: { number: 3, acceptanceLevel: 'LOW' }, risksBeyondScales: [] })).thenMatches([{ type: 'PlanSubmitted' }]);
  });

  it('a CISO may submit a plan a committee member drafted', () => {
    given(planDecider, withItems).when(submit({ actor: ciso })).thenMatches([{ type: 'PlanSubmitted' }]);
  });

  it('an empty plan cannot be submitted', () => {
    given(planDecider, drafted).when(submit()).thenThrows(RuleViolationError, { rule: 'PLAN_EMPTY', article: 'Art.19(1)' });
  });

  it('a plan holding a risk avoided since it was added is not submitted: the item would stay PENDING in the approved plan', () => {
    const error = given(planDecider, withItems)
      .when(submit({ risks: [{ ...r1, targetLevel: 'LOW', status: 'CLOSED' }, { ...r2, targetLevel: 'LOW' }] }))
      .thenThrows(RuleViolationError, { rule: 'ITEM_RISK_CLOSED', article: 'Art.19(1)' });
    expect(error.message).toContain(`risk ${r1.id}, closed (avoided)`);
  });

  it('submitting again is already satisfied (submitted or approved)', () => {
    given(planDecider, submitted).when(submit()).thenNothing();
    given(planDecider, approved).when(submit()).thenNothing();
  });

  it.each([
    ['BOARD_SECRETARY', secretary],
    ['RISK_OWNER', owner1],
    ['AUDITOR', auditor],
  ])('%s may not submit', (_label, who) => {
    given(planDecider, withItems).when(submit({ actor: who })).thenThrows(ForbiddenError);
  });

  it('the plan must exist', () => {
    given(planDecider, []).when(submit()).thenThrows(NotFoundError, { entity: 'Plan', id: PLAN });
  });
});

describe('RecordBoardResolution (Art.19(2): decided by board resolution)', () => {
  it('an approval records the resolution and approves the plan; consents are PENDING', () => {
    const { state } = given(planDecider, submitted).when(resolve()).then([
      {
        type: 'BoardResolutionRecorded',
        data: {
          resolutionNumber: 'BR-2026-014',
          meetingDate: '2026-04-09',
          decision: 'APPROVED',
          minutesReference: 'board-minutes/2026-04-09#item-5',
          notes: 'Approved as proposed',
          revision: 1,
          recordedBy: secretary.id,
          recordedAt: T_RESOLVE,
        },
      },
      {
        type: 'PlanApproved',
        data: {
          revision: 1,
          resolutionNumber: 'BR-2026-014',
          items: [
            { riskId: 'r-1', ownerId: owner1.id },
            { riskId: 'r-2', ownerId: owner2.id },
          ],
          approvedAt: T_RESOLVE,
        },
      },
    ]);
    expect(state.status).toBe('APPROVED');
    expect(state.approvedAt).toBe(T_RESOLVE);
    expect(state.resolution).toEqual({
      resolutionNumber: 'BR-2026-014',
      meetingDate: '2026-04-09',
      decision: 'APPROVED',
      minutesReference: 'board-minutes/2026-04-09#item-5',
      notes: 'Approved as proposed',
      revision: 1,
      recordedBy: secretary.id,
      recordedAt: T_RESOLVE,
    });
    expect(state.resolutions).toHaveLength(1);
    expect(state.revisions[0]).toMatchObject({ outcome: 'APPROVED', resolutionNumber: 'BR-2026-014', decidedAt: T_RESOLVE });
    expect(state.items.map((i) => i.consent)).toEqual(['PENDING', 'PENDING']);
    expect(isPlanInForce(state)).toBe(false);
    expect(pendingConsents(state).map((i) => i.riskId)).toEqual(['r-1', 'r-2']);
  });

  it('a rejection returns the plan to DRAFT as revision 2, keeping its items and history', () => {
    const { state } = given(planDecider, submitted)
      .when(resolve({ resolutionNumber: 'BR-2026-013', decision: 'REJECTED', notes: 'Add the reconciliation risk' }))
      .then([
        {
          type: 'BoardResolutionRecorded',
          data: {
            resolutionNumber: 'BR-2026-013',
            meetingDate: '2026-04-09',
            decision: 'REJECTED',
            minutesReference: 'board-minutes/2026-04-09#item-5',
            notes: 'Add the reconciliation risk',
            revision: 1,
            recordedBy: secretary.id,
            recordedAt: T_RESOLVE,
          },
        },
        {
          type: 'PlanReturnedToDraft',
          data: { revision: 2, previousRevision: 1, resolutionNumber: 'BR-2026-013', returnedAt: T_RESOLVE },
        },
      ]);
    expect(state).toMatchObject({ status: 'DRAFT', revision: 2 });
    expect(state.submittedAt).toBeUndefined();
    expect(state.submittedBy).toBeUndefined();
    expect(state.items.map((i) => i.riskId)).toEqual(['r-1', 'r-2']);
    expect(state.resolution).toMatchObject({ resolutionNumber: 'BR-2026-013', decision: 'REJECTED', revision: 1 });
    expect(state.revisions).toEqual([
      {
        revision: 1,
        items: [
          { riskId: 'r-1', riskVersion: 7, riskTitle: r1.title, ownerId: owner1.id },
          { riskId: 'r-2', riskVersion: 4, riskTitle: r2.title, ownerId: owner2.id },
        ],
        outcome: 'REJECTED',
        submittedAt: T_SUBMIT,
        submittedBy: committee.id,
        resolutionNumber: 'BR-2026-013',
        decidedAt: T_RESOLVE,
      },
      {
        revision: 2,
        items: [
          { riskId: 'r-1', riskVersion: 7, riskTitle: r1.title, ownerId: owner1.id },
          { riskId: 'r-2', riskVersion: 4, riskTitle: r2.title, ownerId: owner2.id },
        ],
        outcome: 'OPEN',
      },
    ]);
  });

  it('revision 2 can be amended, resubmitted and approved under a new resolution; history is kept', () => {
    const events = play(
      draft(),
      add(r1),
      add(r2),
      submit(),
      resolve({ resolutionNumber: 'BR-2026-013', decision: 'REJECTED' }),
      add(r3, { at: T_LATER }),
      submit({ at: T_LATER }),
      resolve({ resolutionNumber: 'BR-2026-021', meetingDate: '2026-05-01', at: T_LATER }),
    );
    const added = events.find((e) => e.type === 'PlanRiskAdded' && e.data.riskId === 'r-3');
    expect(added?.data).toMatchObject({ revision: 2 });
    const state = stateOf(events);
    expect(state).toMatchObject({ status: 'APPROVED', revision: 2 });
    expect(state.resolution).toMatchObject({ resolutionNumber: 'BR-2026-021', decision: 'APPROVED', revision: 2 });
    expect(state.resolutions.map((r) => [r.resolutionNumber, r.decision, r.revision])).toEqual([
      ['BR-2026-013', 'REJECTED', 1],
      ['BR-2026-021', 'APPROVED', 2],
    ]);
    expect(state.revisions.map((r) => [r.revision, r.outcome, r.items.map((i) => i.riskId)])).toEqual([
      [1, 'REJECTED', ['r-1', 'r-2']],
      [2, 'APPROVED', ['r-1', 'r-2', 'r-3']],
    ]);
  });

  it('only a BOARD_SECRETARY records it', () => {
    for (const who of [ciso, committee, owner1, admin, actor('u-cm2', 'COMMITTEE_MEMBER', 'CISO')]) {
      given(planDecider, submitted).when(resolve({ actor: who })).thenThrows(ForbiddenError);
    }
  });

  it('an auditor cannot record it, even holding BOARD_SECRETARY too', () => {
    given(planDecider, submitted).when(resolve({ actor: auditor })).thenThrows(ForbiddenError);
    given(planDecider, submitted)
      .when(resolve({ actor: actor('u-sec-aud', 'BOARD_SECRETARY', 'AUDITOR') }))
      .thenThrows(ForbiddenError);
  });

  it('whoever drafted the plan cannot record its resolution, even as BOARD_SECRETARY (Art.23(3))', () => {
    const drafter = actor('u-drafter', 'COMMITTEE_MEMBER', 'BOARD_SECRETARY');
    const events = play(draft({ actor: drafter }), add(r1), submit());
    given(planDecider, events)
      .when(resolve({ actor: drafter }))
      .thenThrows(ForbiddenError, { rule: 'RESOLUTION_BY_DRAFTER', article: 'Art.23(3)' });
    // another secretary may
    given(planDecider, events).when(resolve()).thenMatches([{ type: 'BoardResolutionRecorded' }, { type: 'PlanApproved' }]);
  });

  it('the board decides only on a submitted plan', () => {
    given(planDecider, withItems).when(resolve()).thenThrows(RuleViolationError, { rule: 'PLAN_NOT_SUBMITTED', article: 'Art.19(2)' });
    given(planDecider, rejected)
      .when(resolve({ resolutionNumber: 'BR-2026-099' }))
      .thenThrows(RuleViolationError, { rule: 'PLAN_NOT_SUBMITTED' });
    given(planDecider, approved)
      .when(resolve({ resolutionNumber: 'BR-2026-099', decision: 'REJECTED' }))
      .thenThrows(RuleViolationError, { rule: 'PLAN_NOT_SUBMITTED' });
  });

  it('recording the same approval again is already satisfied', () => {
    given(planDecider, approved).when(resolve({ at: T_CONSENT })).thenNothing();
    given(planDecider, inForce).when(resolve()).thenNothing();
  });

  it('recording the same rejection again, after the plan went back to draft, is already satisfied', () => {
    const { state } = given(planDecider, rejected).when(resolve({ resolutionNumber: 'BR-2026-013', decision: 'REJECTED' })).thenNothing();
    expect(state).toMatchObject({ status: 'DRAFT', revision: 2 });
  });

  it('a resolution number already used with different content is refused', () => {
    given(planDecider, approved)
      .when(resolve({ decision: 'REJECTED' }))
      .thenThrows(RuleViolationError, { rule: 'RESOLUTION_NUMBER_REUSED', article: 'Art.19(2)' });
    given(planDecider, approved)
      .when(resolve({ minutesReference: 'board-minutes/other' }))
      .thenThrows(RuleViolationError, { rule: 'RESOLUTION_NUMBER_REUSED' });
    // revision 2 submitted: the number of revision 1's rejection cannot approve it
    const resubmitted = [...rejected, ...decide(submit({ at: T_LATER }), stateOf(rejected))];
    given(planDecider, resubmitted)
      .when(resolve({ resolutionNumber: 'BR-2026-013', decision: 'APPROVED' }))
      .thenThrows(RuleViolationError, { rule: 'RESOLUTION_NUMBER_REUSED' });
  });

  it('reports every bad field at once', () => {
    const error = given(planDecider, submitted)
      .when(resolve({ resolutionNumber: ' ', meetingDate: '2026-02-30', decision: 'MAYBE' as never, minutesReference: '' }))
      .thenThrows(BadInputError);
    expect(Object.keys(error.fields).sort()).toEqual(['decision', 'meetingDate', 'minutesReference', 'resolutionNumber']);
  });

  it.each([
    ['not ISO', '09/04/2026'],
    ['no such day', '2026-04-31'],
    ['no such month', '2026-13-01'],
    ['not a leap year', '2026-02-29'],
    ['empty', ''],
    ['after the day of the command', '2026-04-11'],
  ])('meetingDate %s (%s) is refused', (_label, meetingDate) => {
    given(planDecider, submitted).when(resolve({ meetingDate })).thenRejectsFields('meetingDate');
  });

  it('meetingDate may be today, and a 29 February of a leap year', () => {
    given(planDecider, submitted).when(resolve({ meetingDate: '2026-04-10' })).thenMatches([{ type: 'BoardResolutionRecorded' }, { type: 'PlanApproved' }]);
    given(planDecider, submitted)
      .when(resolve({ meetingDate: '2028-02-29', at: '2028-03-01T00:00:00.000Z' }))
      .thenMatches([{ type: 'BoardResolutionRecorded', data: { meetingDate: '2028-02-29' } }, { type: 'PlanApproved' }]);
  });

  it("'today' is the day in Japan (UTC+9)", () => {
    // 05:00 on 11 April in Tokyo, still 10 April in UTC
    given(planDecider, submitted)
      .when(resolve({ meetingDate: '2026-04-11', at: '2026-04-10T20:00:00.000Z' }))
      .thenMatches([{ type: 'BoardResolutionRecorded', data: { meetingDate: '2026-04-11' } }, { type: 'PlanApproved' }]);
    // 23:00 on 10 April in Tokyo
    given(planDecider, submitted)
      .when(resolve({ meetingDate: '2026-04-11', at: '2026-04-10T14:00:00.000Z' }))
      .thenRejectsFields('meetingDate');
  });

  it('notes are optional; blank notes are recorded as null', () => {
    given(planDecider, submitted).when(resolve({ notes: undefined })).thenMatches([{ type: 'BoardResolutionRecorded', data: { notes: null } }, { type: 'PlanApproved' }]);
    given(planDecider, submitted).when(resolve({ notes: '   ' })).thenMatches([{ type: 'BoardResolutionRecorded', data: { notes: null } }, { type: 'PlanApproved' }]);
  });

  it('minutesReference is required', () => {
    given(planDecider, submitted).when(resolve({ minutesReference: '' })).thenRejectsFields('minutesReference');
  });

  it('the plan must exist', () => {
    given(planDecider, []).when(resolve()).thenThrows(NotFoundError, { entity: 'Plan', id: PLAN });
  });
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
