/**
 * Art.14(2), 19(2), 20: ASSET_RETIRED judges "retired since the risk went to the board" in the
 * order of the log, not by the commands' instants (review of 2026-12-07, M4): after a step back of
 * the wall clock (the server ran an hour fast, NTP set it right: the case of clock-behind-log.e2e),
 * an asset retired AFTER the submission was stamped before it and the owner's acceptance was taken,
 * the plan in force over the retired asset (compliance probe F1 again). The submission now records
 * which of each risk's assets were retired as it read them (asset-retired-in-log-order.spec.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from './support/test-app.js';
import { ANALYSE, EVALUATE, assetWithThreat, identifyRisk, proposeAndApproveCriteria, todayInJapan } from './support/scenario.js';
import { ACCEPT, ADD, CONTROLS, DRAFT, RESOLVE, SUBMIT, TREAT } from './documents/plan-scenario.js';
import { CLOCK, type SystemClock } from '../../src/shared/application/clock.js';

const RETIRE = `mutation($input: RetireAssetInput!) { retireAsset(input: $input) { id status } }`;
const HOUR = 3600_000;

let t: TestApp;

describe('an asset retired after the submission, the clock stepped back between them', () => {
  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
  });
  afterAll(async () => t?.close());

  it('still refuses the acceptance (ASSET_RETIRED)', async () => {
    const asset = await assetWithThreat(t, 'Settlement server', { c: 1, i: 1, a: 1 });
    const risk = await identifyRisk(t, asset, 'Tampered settlement');
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'Committee', rationale: 'Seen elsewhere' } } }, users.riskOwner);
    await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee);
    await t.ok(TREAT, { input: { riskId: risk.id, options: ['REDUCE'], rationale: 'Dual control', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
    await t.ok(CONTROLS, { input: { riskId: risk.id, controls: [{ title: 'Dual approval', description: 'Two officers', ownerId: 'ops-lead', dueDate: '2027-03-31', reason: 'One person alone cannot settle' }] } }, users.committee);
    const plan = (await t.ok(DRAFT, { input: { title: 'Plan', period: 'FY2026' } }, users.committee)).draftPlan;
    await t.ok(ADD, { input: { planId: plan.id, riskId: risk.id } }, users.committee);
    const clock = t.app.get<SystemClock>(CLOCK);
    // The server's clock runs an hour fast while the plan is submitted...
    clock.advanceBy(HOUR);
    await t.ok(SUBMIT, { input: { planId: plan.id } }, users.committee);
    // ...and is set right afterwards. The asset is retired while the plan is before the board.
    clock.advanceBy(-HOUR);
    await t.ok(RETIRE, { input: { assetId: asset.assetId, reason: 'Decommissioned' } }, users.ciso);
    const { events } = await t.ok(`{ events(first: 500, types: ["PlanSubmitted", "AssetRetired"]) { edges { node { type position } } } }`, {}, users.auditor);
    expect(events.edges.map((e: any) => e.node.type)).toEqual(['PlanSubmitted', 'AssetRetired']);
    await t.ok(RESOLVE, { input: { planId: plan.id, resolutionNumber: 'BR-1', meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: 'Minutes' } }, users.secretary);
    const answer = await t.gql(ACCEPT, { input: { planId: plan.id, riskId: risk.id, statement: 'I accept' } }, users.riskOwner);
    expect(answer.errors ? errorOf(answer).extensions : answer.data).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_RETIRED' });
    // Nothing taken: the plan stays APPROVED, its item PENDING.
    const { plan: after } = await t.ok(`query($id: ID!) { plan(id: $id) { status items { consent } } }`, { id: plan.id }, users.auditor);
    expect(after).toEqual({ status: 'APPROVED', items: [{ consent: 'PENDING' }] });
  });
});
