/**
 * Art. 20: the committee records that it explained the plan and the residual risk to the risk's
 * owner (ExplainResidualRisk, consent-explanation.ts). Fixtures in plan.fixtures.ts.
 */
import { BadInputError, ForbiddenError, NotFoundError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import type { ExplainResidualRisk } from '../../../src/treatment-plan/domain/plan.commands.js';
import { planDecider } from '../../../src/treatment-plan/domain/plan.decider.js';
import type { PlanEvent } from '../../../src/treatment-plan/domain/plan.events.js';
import { given } from '../support/given-when-then.js';
import { accept, approved, auditor, ciso, committee, inForce, owner1, PLAN, processManager, r1Awaiting, r2Awaiting, submitted, T_LATER, withItems } from './plan.fixtures.js';

const T_EXPLAIN = '2026-04-11T01:00:00.000Z'; // 2026-04-11 in Japan; the board met on 2026-04-09

const explain = (over: Partial<ExplainResidualRisk> = {}): ExplainResidualRisk => ({
  type: 'ExplainResidualRisk',
  planId: PLAN,
  riskId: 'r-1',
  explainedOn: '2026-04-10',
  summary: '計画書（第1版）と残留リスク LOW を説明し、質疑に回答した',
  risk: r1Awaiting,
  actor: committee,
  at: T_EXPLAIN,
  ...over,
});

describe('ExplainResidualRisk (Art.20: the owner is told the plan and the residual risk)', () => {
  it('records who explained, the day, what, and the state of the risk then; the item lists it', () => {
    const { state } = given(planDecider, approved).when(explain()).then([
      {
        type: 'ResidualRiskExplained',
        data: {
          riskId: 'r-1',
          planRevision: 1,
          ownerId: owner1.id,
          explainedBy: committee.id,
          explainedOn: '2026-04-10',
          summary: '計画書（第1版）と残留リスク LOW を説明し、質疑に回答した',
          riskVersion: r1Awaiting.version,
          riskStateHash: r1Awaiting.stateHash,
          residualLevel: 'LOW',
          recordedAt: T_EXPLAIN,
        },
      },
    ]);
    const item = state.items.find((i) => i.riskId === 'r-1')!;
    expect(item.explanations).toEqual([expect.objectContaining({ explainedBy: committee.id, explainedOn: '2026-04-10', planRevision: 1 })]);
    // Not an answer: the consent is still the owner's to give.
    expect(item.consent).toBe('PENDING');
    expect(state.status).toBe('APPROVED');
  });

  it('the same explanation again changes nothing; another day or another summary is another explanation', () => {
    const first = given(planDecider, approved).when(explain()).thenMatches([{ type: 'ResidualRiskExplained' }]).events as PlanEvent[];
    given(planDecider, [...approved, ...first]).when(explain({ at: T_LATER })).thenNothing();
    given(planDecider, [...approved, ...first]).when(explain({ explainedOn: '2026-04-11' })).thenMatches([{ type: 'ResidualRiskExplained', data: { explainedOn: '2026-04-11' } }]);
    given(planDecider, [...approved, ...first]).when(explain({ actor: ciso })).thenMatches([{ type: 'ResidualRiskExplained', data: { explainedBy: ciso.id } }]);
  });

  it('the same words to the risk\'s new owner, or of a state changed since, are another explanation, recorded (probe of 2026-12-06, H1)', () => {
    const first = given(planDecider, approved).when(explain()).thenMatches([{ type: 'ResidualRiskExplained' }]).events as PlanEvent[];
    const ownerChanged = given(planDecider, [...approved, ...first])
      .when({ type: 'LearnItemOwner', planId: PLAN, riskId: 'r-1', riskVersion: r1Awaiting.version + 1, previousOwnerId: owner1.id, ownerId: 'u-owner-9', actor: processManager, at: T_EXPLAIN })
      .thenMatches([{ type: 'PlanItemOwnerChanged' }]).events as PlanEvent[];
    const newOwnerRisk = { ...r1Awaiting, version: r1Awaiting.version + 2, ownerId: 'u-owner-9', stateHash: 'sha256:r1-new-owner' };
    const { state } = given(planDecider, [...approved, ...first, ...ownerChanged])
      .when(explain({ risk: newOwnerRisk }))
      .thenMatches([{ type: 'ResidualRiskExplained', data: { ownerId: 'u-owner-9', riskVersion: newOwnerRisk.version, riskStateHash: 'sha256:r1-new-owner' } }]);
    expect(state.items.find((i) => i.riskId === 'r-1')!.explanations!.map((e) => e.ownerId)).toEqual([owner1.id, 'u-owner-9']);
    // Same owner, a state changed since (a treatment revised): explained again.
    given(planDecider, [...approved, ...first]).when(explain({ risk: { ...r1Awaiting, version: r1Awaiting.version + 3, stateHash: 'sha256:r1-b' } })).thenMatches([{ type: 'ResidualRiskExplained' }]);
  });

  it('refuses for an item a review reopened: the plan asks its owner nothing now (probe of 2026-12-06, L1)', () => {
    const reopened = given(planDecider, approved)
      .when({ type: 'MarkItemReopened', planId: PLAN, riskId: 'r-1', riskVersion: 30, reviewId: 'rv-1', actor: processManager, at: T_EXPLAIN })
      .thenMatches([{ type: 'PlanItemReopened' }]).events as PlanEvent[];
    given(planDecider, [...approved, ...reopened]).when(explain()).thenThrows(RuleViolationError, { rule: 'ITEM_REOPENED', article: 'Art.12(3)' });
  });

  it('may be recorded after the owner answered, and for a plan in force', () => {
    given(planDecider, [...approved, ...[accept(r1Awaiting)].flatMap((c) => given(planDecider, approved).when(c).thenMatches([{ type: 'ResidualRiskAccepted' }]).events as PlanEvent[])])
      .when(explain())
      .thenMatches([{ type: 'ResidualRiskExplained' }]);
    given(planDecider, inForce).when(explain({ riskId: 'r-2', risk: r2Awaiting })).thenMatches([{ type: 'ResidualRiskExplained', data: { riskId: 'r-2' } }]);
  });

  it('only the committee or the CISO records it: not the owner, not an auditor', () => {
    given(planDecider, approved).when(explain({ actor: owner1 })).thenThrows(ForbiddenError);
    given(planDecider, approved).when(explain({ actor: auditor })).thenThrows(ForbiddenError);
  });

  it('refuses a missing summary, a day that is not a date, in the future or before the approving board meeting', () => {
    given(planDecider, approved).when(explain({ summary: '  ' })).thenRejectsFields('summary');
    given(planDecider, approved).when(explain({ explainedOn: '2026-02-30' })).thenRejectsFields('explainedOn');
    given(planDecider, approved).when(explain({ explainedOn: '2026-04-12' })).thenRejectsFields('explainedOn');
    const early = given(planDecider, approved).when(explain({ explainedOn: '2026-04-08' })).thenThrows(BadInputError);
    expect(early.fields.explainedOn).toContain('2026-04-09');
  });

  it('refuses before the board approved the plan, and for a risk not in the plan', () => {
    for (const history of [withItems, submitted]) {
      given(planDecider, history).when(explain()).thenThrows(RuleViolationError, { rule: 'PLAN_NOT_APPROVED', article: 'Art.20' });
    }
    given(planDecider, approved).when(explain({ riskId: 'r-9' })).thenThrows(NotFoundError);
  });

  it('refuses for a risk closed since it was added: nothing is left to explain', () => {
    given(planDecider, approved).when(explain({ risk: { ...r1Awaiting, status: 'CLOSED' } })).thenThrows(RuleViolationError, { rule: 'ITEM_RISK_CLOSED' });
  });

  it('holds at most 50 explanations per item of one revision', () => {
    const events: PlanEvent[] = [...approved];
    for (let n = 0; n < 50; n++) {
      events.push(...(given(planDecider, events).when(explain({ summary: `briefing ${n}` })).thenMatches([{ type: 'ResidualRiskExplained' }]).events as PlanEvent[]));
    }
    given(planDecider, events).when(explain({ summary: 'one more' })).thenThrows(RuleViolationError, { rule: 'TOO_MANY_EXPLANATIONS' });
    // The same one again is still answered as done.
    given(planDecider, events).when(explain({ summary: 'briefing 7' })).thenNothing();
    // The risk's new owner is owed an explanation of their own (auditor probe of 2026-12-06, F3).
    const ownerChanged = given(planDecider, events)
      .when({ type: 'LearnItemOwner', planId: PLAN, riskId: 'r-1', riskVersion: r1Awaiting.version + 1, previousOwnerId: owner1.id, ownerId: 'u-owner-9', actor: processManager, at: T_EXPLAIN })
      .thenMatches([{ type: 'PlanItemOwnerChanged' }]).events as PlanEvent[];
    const newOwnerRisk = { ...r1Awaiting, version: r1Awaiting.version + 2, ownerId: 'u-owner-9', stateHash: 'sha256:r1-new-owner' };
    given(planDecider, [...events, ...ownerChanged]).when(explain({ risk: newOwnerRisk, summary: 'to the new owner' })).thenMatches([{ type: 'ResidualRiskExplained', data: { ownerId: 'u-owner-9' } }]);
  });

  it('holds at most 200 explanations per item of one revision, its owners together', () => {
    const events: PlanEvent[] = [...approved];
    for (let n = 0; n < 200; n++) {
      const ownerId = `u-owner-${Math.floor(n / 50)}`;
      events.push(...(given(planDecider, events).when(explain({ summary: `briefing ${n}`, risk: { ...r1Awaiting, ownerId, stateHash: `sha256:${ownerId}` } })).thenMatches([{ type: 'ResidualRiskExplained' }]).events as PlanEvent[]));
    }
    given(planDecider, events).when(explain({ summary: 'one more', risk: { ...r1Awaiting, ownerId: 'u-owner-9', stateHash: 'sha256:u-owner-9' } })).thenThrows(RuleViolationError, { rule: 'TOO_MANY_EXPLANATIONS' });
  });
});
