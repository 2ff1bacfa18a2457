/**
 * The board resolution's separation of duties (Art.23(3)) and the revision it decides (Art.19(2)):
 * nobody who prepared what the board decides records its resolution, people compared ignoring
 * case and width; a resolution that names a revision records it only on that revision.
 */
import { BadInputError, ForbiddenError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import { decide, planDecider } from '../../../src/treatment-plan/domain/plan.decider.js';
import type { PlanCommand } from '../../../src/treatment-plan/domain/plan.commands.js';
import type { PlanEvent } from '../../../src/treatment-plan/domain/plan.events.js';
import { given } from '../support/given-when-then.js';
import { actor, add, committee, draft, PLAN, play, r1, r2, r3, rejected, resolve, secretary, stateOf, submit, submitted, T_LATER } from './plan.fixtures.js';

/** A committee member who is also a board secretary. */
const eve = actor('eve', 'COMMITTEE_MEMBER', 'BOARD_SECRETARY');
const bella = actor('bella', 'BOARD_SECRETARY');
const withdraw = (over: Partial<PlanCommand> = {}): PlanCommand => ({ type: 'WithdrawPlan', planId: PLAN, reason: 'Risk r-3 to be added', actor: committee, at: T_LATER, ...over }) as PlanCommand;
const then = (events: PlanEvent[], ...commands: PlanCommand[]): PlanEvent[] =>
  commands.reduce((all, c) => [...all, ...decide(c, stateOf(all))], events);

describe('RecordBoardResolution: nobody who prepared what the board decides records its resolution (Art.23(3))', () => {
  it('refuses whoever added an item and submitted the plan, naming what they did', () => {
    const events = play(draft(), add(r1, { actor: eve }), submit({ actor: eve }));
    const error = given(planDecider, events)
      .when(resolve({ actor: eve }))
      .thenThrows(ForbiddenError, { rule: 'RESOLUTION_BY_DRAFTER', article: 'Art.23(3)' });
    expect(error.message).toContain('eve added risk r-1 to revision 1, submitted revision 1 of plan p-1');
    given(planDecider, events).when(resolve({ actor: bella })).thenMatches([{ type: 'BoardResolutionRecorded' }, { type: 'PlanApproved' }]);
  });

  it('refuses whoever only added an item, or only submitted', () => {
    given(planDecider, play(draft(), add(r1, { actor: eve }), add(r2), submit()))
      .when(resolve({ actor: eve }))
      .thenThrows(ForbiddenError, { rule: 'RESOLUTION_BY_DRAFTER' });
    given(planDecider, play(draft(), add(r1), submit({ actor: eve })))
      .when(resolve({ actor: eve }))
      .thenThrows(ForbiddenError, { rule: 'RESOLUTION_BY_DRAFTER' });
  });

  it('refuses whoever added an item to revision 2 and submitted it, after the board rejected revision 1', () => {
    const events = then(rejected, add(r3, { actor: eve, at: T_LATER }), submit({ actor: eve, at: T_LATER }));
    const error = given(planDecider, events)
      .when(resolve({ actor: eve, resolutionNumber: 'BR-2026-021', meetingDate: '2026-05-01', at: T_LATER }))
      .thenThrows(ForbiddenError, { rule: 'RESOLUTION_BY_DRAFTER' });
    expect(error.message).toContain('added risk r-3 to revision 2, submitted revision 2');
    given(planDecider, events)
      .when(resolve({ actor: bella, resolutionNumber: 'BR-2026-021', meetingDate: '2026-05-01', at: T_LATER }))
      .thenMatches([{ type: 'BoardResolutionRecorded', data: { revision: 2, recordedBy: 'bella' } }, { type: 'PlanApproved' }]);
  });

  it('refuses whoever prepared revision 1 when revision 2 carries it forward, and whoever removed an item from revision 2', () => {
    // eve added r-1 to revision 1; revision 2 still holds it
    const carried = then(play(draft(), add(r1, { actor: eve }), add(r2), submit()), withdraw(), submit({ at: T_LATER }));
    given(planDecider, carried)
      .when(resolve({ actor: eve, meetingDate: '2026-05-01', at: T_LATER }))
      .thenThrows(ForbiddenError, { rule: 'RESOLUTION_BY_DRAFTER' });
    const removed = then(submitted, withdraw(), { type: 'RemoveRiskFromPlan', planId: PLAN, riskId: 'r-2', reason: 'Out of scope', actor: eve, at: T_LATER } as PlanCommand, submit({ at: T_LATER }));
    const error = given(planDecider, removed)
      .when(resolve({ actor: eve, meetingDate: '2026-05-01', at: T_LATER }))
      .thenThrows(ForbiddenError, { rule: 'RESOLUTION_BY_DRAFTER' });
    expect(error.message).toContain('eve removed risk r-2 from revision 2');
  });

  it('refuses whoever withdrew a submitted revision to be changed (authz probe p14)', () => {
    const events = then(submitted, withdraw({ actor: eve }), submit({ at: T_LATER }));
    const error = given(planDecider, events)
      .when(resolve({ actor: eve, meetingDate: '2026-05-01', at: T_LATER }))
      .thenThrows(ForbiddenError, { rule: 'RESOLUTION_BY_DRAFTER' });
    expect(error.message).toContain('eve withdrew revision 1 to be changed');
    given(planDecider, events).when(resolve({ actor: bella, meetingDate: '2026-05-01', at: T_LATER })).thenMatches([{ type: 'BoardResolutionRecorded' }, { type: 'PlanApproved' }]);
    expect(stateOf(events).preparedBy.at(-2)).toEqual({ actorId: 'eve', did: 'WITHDREW', revision: 2 });
  });

  it('keeps who prepared the plan in its state, with what they did to which revision', () => {
    const state = stateOf(then(rejected, add(r3, { actor: eve, at: T_LATER }), submit({ actor: eve, at: T_LATER })));
    expect(state.preparedBy).toEqual([
      { actorId: committee.id, did: 'DRAFTED', revision: 1 },
      { actorId: committee.id, did: 'ADDED_RISK', revision: 1, riskId: 'r-1' },
      { actorId: committee.id, did: 'ADDED_RISK', revision: 1, riskId: 'r-2' },
      { actorId: committee.id, did: 'SUBMITTED', revision: 1 },
      { actorId: 'eve', did: 'ADDED_RISK', revision: 2, riskId: 'r-3' },
      { actorId: 'eve', did: 'SUBMITTED', revision: 2 },
    ]);
  });

  it.each([
    ['in another case', 'Carol'],
    ['in capitals', 'CAROL'],
    ['in full width', 'ｃａｒｏｌ'],
    ['by a Cyrillic letter that looks the same', '\u0441arol'],
  ])('refuses the drafter under an id that differs only %s (%s)', (_how, id) => {
    const carol = actor('carol', 'COMMITTEE_MEMBER');
    const error = given(planDecider, play(draft({ actor: carol }), add(r1), submit()))
      .when(resolve({ actor: actor(id, 'BOARD_SECRETARY') }))
      .thenThrows(ForbiddenError, { rule: 'RESOLUTION_BY_DRAFTER', article: 'Art.23(3)' });
    expect(error.message).toContain(`carol (the same person as ${id}: user ids are compared ignoring case, width and letters of other scripts that look the same) drafted the plan`);
  });

  it('a secretary who took no part records it', () => {
    given(planDecider, play(draft({ actor: eve }), add(r1), submit()))
      .when(resolve({ actor: secretary }))
      .thenMatches([{ type: 'BoardResolutionRecorded', data: { recordedBy: secretary.id } }, { type: 'PlanApproved' }]);
  });
});

describe('RecordBoardResolution: the revision the board decided (Art.19(2))', () => {
  /** Revision 1 (r-1, r-2) submitted, withdrawn and resubmitted the same day as revision 2 with r-3. */
  const resubmitted = then(submitted, withdraw({ at: '2026-04-02T03:00:00.000Z' }), add(r3, { at: '2026-04-02T04:00:00.000Z' }), submit({ at: '2026-04-02T05:00:00.000Z' }));

  it('refuses a resolution on revision 1 while revision 2 is the one submitted, and changes nothing', () => {
    expect(stateOf(resubmitted)).toMatchObject({ status: 'SUBMITTED', revision: 2 });
    const error = given(planDecider, resubmitted)
      .when(resolve({ planRevision: 1 }))
      .thenThrows(RuleViolationError, { rule: 'PLAN_REVISION_MISMATCH', article: 'Art.19(2)' });
    expect(error.message).toContain('revision 2 of plan p-1 is the one submitted on 2026-04-02, with 3 item(s); revision 1 was WITHDRAWN, with 2 item(s)');
  });

  it('records it when the named revision is the one submitted, or when none is named', () => {
    given(planDecider, resubmitted)
      .when(resolve({ planRevision: 2 }))
      .thenMatches([{ type: 'BoardResolutionRecorded', data: { revision: 2 } }, { type: 'PlanApproved', data: { revision: 2 } }]);
    given(planDecider, resubmitted).when(resolve()).thenMatches([{ type: 'BoardResolutionRecorded', data: { revision: 2 } }, { type: 'PlanApproved' }]);
  });

  it('refuses a revision the plan does not have yet', () => {
    const error = given(planDecider, submitted).when(resolve({ planRevision: 3 })).thenThrows(RuleViolationError, { rule: 'PLAN_REVISION_MISMATCH' });
    expect(error.message).toContain('plan p-1 has no revision 3');
  });

  it('refuses a planRevision below 1, naming the field', () => {
    for (const planRevision of [0, -1, 1.5]) given(planDecider, submitted).when(resolve({ planRevision })).thenRejectsFields('planRevision');
    given(planDecider, submitted).when(resolve({ planRevision: 0, meetingDate: '' })).thenThrows(BadInputError, { fields: { planRevision: expect.any(String), meetingDate: expect.any(String) } });
  });

  it('repeating a recorded resolution is satisfied with its revision, and reuses its number with another', () => {
    const decided = then(rejected, submit({ at: T_LATER }), resolve({ resolutionNumber: 'BR-2026-021', meetingDate: '2026-05-01', at: T_LATER, planRevision: 2 }));
    given(planDecider, decided).when(resolve({ resolutionNumber: 'BR-2026-021', meetingDate: '2026-05-01', at: T_LATER, planRevision: 2 })).thenNothing();
    given(planDecider, decided).when(resolve({ resolutionNumber: 'BR-2026-021', meetingDate: '2026-05-01', at: T_LATER })).thenNothing();
    given(planDecider, decided)
      .when(resolve({ resolutionNumber: 'BR-2026-021', meetingDate: '2026-05-01', at: T_LATER, planRevision: 1 }))
      .thenThrows(RuleViolationError, { rule: 'RESOLUTION_NUMBER_REUSED' });
  });

  it('refuses a meeting before the day the revision under submission was submitted, though after revision 1 was', () => {
    // revision 1 submitted on 2 April, rejected; revision 2 submitted on 1 May (Japan)
    const events = then(rejected, submit({ at: T_LATER }));
    given(planDecider, events).when(resolve({ resolutionNumber: 'BR-2026-021', meetingDate: '2026-04-30', at: T_LATER })).thenRejectsFields('meetingDate');
    given(planDecider, events)
      .when(resolve({ resolutionNumber: 'BR-2026-021', meetingDate: '2026-05-01', at: T_LATER }))
      .thenMatches([{ type: 'BoardResolutionRecorded' }, { type: 'PlanApproved' }]);
  });
});
