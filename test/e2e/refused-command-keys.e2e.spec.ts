/**
 * A keyed command refused by a rule binds its key to that refusal (CommandRefused,
 * src/shared/application/satisfied-command.ts): sent again, it is refused again, as its first
 * result was, and never decided afresh once the state would let it through (PostgreSQL race probe
 * of 2026-12-08, High: an acceptance refused CONSENT_STALE, retried under its key once the consent
 * was asked again, recorded an Art.20 acceptance of a state the owner never saw; a control
 * cancellation refused while its plan was before the board, retried after the approval, cancelled
 * a control the board had just approved). A new request takes a new commandId.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from './support/test-app.js';
import { ANALYSE, EVALUATE, assetWithThreat, identifyRisk, proposeAndApproveCriteria, todayInJapan } from './support/scenario.js';
import { ADD, CONTROLS, DRAFT, RESOLVE, SUBMIT, TREAT } from './documents/plan-scenario.js';

const PROGRESS = `mutation($input: RecordControlProgressInput!) { recordControlProgress(input: $input) { id version controls { id status } } }`;
const EVENTS = `{ events(first: 500) { edges { node { type streamId data metadata { commandId } } } } }`;

let t: TestApp;

describe('a keyed command refused by a rule keeps its key', () => {
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => t?.close());

  it('a cancellation refused while its plan is before the board is refused again when retried after the approval, 16 copies in flight alike; a new key cancels', async () => {
    await proposeAndApproveCriteria(t);
    const risk = await identifyRisk(t, await assetWithThreat(t, 'Signing server', { c: 1, i: 1, a: 1 }), 'Key theft');
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'Committee', rationale: 'r' } } }, users.riskOwner);
    await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee);
    await t.ok(TREAT, { input: { riskId: risk.id, options: ['REDUCE'], rationale: 'Cold storage', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
    const controlled = (await t.ok(CONTROLS, { input: { riskId: risk.id, controls: [{ title: 'Multisig', description: '2 of 3', ownerId: 'ops-lead', dueDate: '2027-03-31', reason: 'One key is not enough' }] } }, users.committee)).decideControls;
    const controlId = controlled.controls[0].id;
    const plan = (await t.ok(DRAFT, { input: { title: 'FY2026', period: 'FY2026' } }, users.committee)).draftPlan;
    await t.ok(ADD, { input: { planId: plan.id, riskId: risk.id } }, users.committee);
    await t.ok(SUBMIT, { input: { planId: plan.id } }, users.committee);

    const cancel = (commandId: string) => t.gql(PROGRESS, { input: { riskId: risk.id, controlId, status: 'CANCELLED', note: 'No longer needed', commandId } }, users.committee);
    const refusals = await Promise.all(Array.from({ length: 16 }, () => cancel('cancel-1')));
    const first = errorOf(refusals[0]!);
    expect(first.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'RISK_IN_SUBMITTED_PLAN' });
    for (const answer of refusals) expect(errorOf(answer)).toEqual(first);

    await t.ok(RESOLVE, { input: { planId: plan.id, resolutionNumber: 'R-1', meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: 'Minutes' } }, users.secretary);
    // The retry answers its first result: the refusal, though a cancellation would now be taken.
    expect(errorOf(await cancel('cancel-1'))).toEqual(first);
    expect((await t.ok(`query($id: ID!) { risk(id: $id) { controls { id status } } }`, { id: risk.id }, users.auditor)).risk.controls).toEqual([{ id: controlId, status: 'PLANNED' }]);
    const keyed = (await t.ok(EVENTS, {}, users.auditor)).events.edges.map((e: any) => e.node).filter((e: any) => e.metadata.commandId === 'cancel-1');
    expect(keyed.map((e: any) => [e.type, e.data.rule])).toEqual([['CommandRefused', 'RISK_IN_SUBMITTED_PLAN']]);
    // A new request, a new key: decided on the state now.
    expect((await t.ok(PROGRESS, { input: { riskId: risk.id, controlId, status: 'CANCELLED', note: 'No longer needed', commandId: 'cancel-2' } }, users.committee)).recordControlProgress.controls).toEqual([{ id: controlId, status: 'CANCELLED' }]);
  }, 120_000);
});
