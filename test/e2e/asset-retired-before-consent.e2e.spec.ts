/**
 * Art.14(2), 19(2), 20: an asset retired after its risk went to the board was before neither the
 * board nor the owner, so the owner's acceptance is refused (ASSET_RETIRED) and the plan does not
 * come into force over it (compliance probe of 2026-12-07, F1: retired while the plan was
 * submitted, the plan was approved, accepted and in force, the re-evaluation flag cleared).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from './support/test-app.js';
import { ANALYSE, EVALUATE, RISK_FIELDS, assetWithThreat, identifyRisk, proposeAndApproveCriteria, todayInJapan } from './support/scenario.js';
import { ACCEPT, ADD, CONTROLS, DRAFT, RESOLVE, SUBMIT, TREAT } from './documents/plan-scenario.js';
import { assetStreamId } from '../../src/asset-inventory/domain/asset.decider.js';
import { riskStreamId } from '../../src/risk-register/domain/risk.events.js';

const RETIRE = `mutation($input: RetireAssetInput!) { retireAsset(input: $input) { id status } }`;
const DECLINE = `mutation($input: DeclineResidualRiskInput!) { declineResidualRisk(input: $input) { id status items { riskId consent } } }`;
const RISK = `query($id: ID!) { risk(id: $id) { ${RISK_FIELDS} } }`;
const PLAN = `query($id: ID!) { plan(id: $id) { id status items { riskId consent } } }`;

let t: TestApp;
let n = 0;

/** A risk on its own asset, treated, with a control, in a plan submitted to the board. */
async function submitted(): Promise<{ assetId: string; riskId: string; planId: string }> {
  n++;
  const asset = await assetWithThreat(t, `Settlement server ${n}`, { c: 1, i: 1, a: 1 });
  const risk = await identifyRisk(t, asset, `Tampered settlement ${n}`);
  await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'Committee', rationale: 'Seen elsewhere' } } }, users.riskOwner);
  await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee);
  await t.ok(TREAT, { input: { riskId: risk.id, options: ['REDUCE'], rationale: 'Dual control', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
  await t.ok(CONTROLS, { input: { riskId: risk.id, controls: [{ title: 'Dual approval', description: 'Two officers', ownerId: 'ops-lead', dueDate: '2027-03-31', reason: 'One person alone cannot settle' }] } }, users.committee);
  const plan = (await t.ok(DRAFT, { input: { title: `Plan ${n}`, period: 'FY2026' } }, users.committee)).draftPlan;
  await t.ok(ADD, { input: { planId: plan.id, riskId: risk.id } }, users.committee);
  await t.ok(SUBMIT, { input: { planId: plan.id } }, users.committee);
  return { assetId: asset.assetId, riskId: risk.id, planId: plan.id };
}

const approve = (planId: string) => t.ok(RESOLVE, { input: { planId, resolutionNumber: `BR-${planId.slice(-6)}`, meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: 'Minutes' } }, users.secretary);

describe('an asset retired after its risk went to the board', () => {
  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
  });
  afterAll(async () => t?.close());

  it('refuses the acceptance (ASSET_RETIRED) and leaves the plan out of force; the owner declines', async () => {
    const { assetId, riskId, planId } = await submitted();
    await t.ok(RETIRE, { input: { assetId, reason: 'Decommissioned' } }, users.ciso);
    await approve(planId);
    const refused = errorOf(await t.gql(ACCEPT, { input: { planId, riskId, statement: 'I accept' } }, users.riskOwner));
    expect(refused.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_RETIRED', article: 'Art.14(2)' });
    expect(refused.message).toMatch(/left the inventory after the risk went to the board/);
    expect((await t.ok(PLAN, { id: planId }, users.auditor)).plan).toMatchObject({ status: 'APPROVED', items: [{ riskId, consent: 'PENDING' }] });
    expect((await t.ok(RISK, { id: riskId }, users.auditor)).risk).toMatchObject({ status: 'AWAITING_CONSENT', assetsRetired: true, needsReevaluation: true });
    const declined = (await t.ok(DECLINE, { input: { planId, riskId, reason: 'The server is gone: re-evaluate' } }, users.riskOwner)).declineResidualRisk;
    expect(declined.items).toEqual([{ riskId, consent: 'DECLINED' }]);
  });

  it('an asset retired before the submission was before the board: the acceptance is taken', async () => {
    n++;
    const { assetId, riskId, planId } = await submitted();
    // Released by a withdrawal, retired, submitted again: the board now decides with the retirement on record.
    await t.ok(`mutation($input: WithdrawPlanInput!) { withdrawPlan(input: $input) { id } }`, { input: { planId, reason: 'Asset retired' } }, users.committee);
    await t.ok(RETIRE, { input: { assetId, reason: 'Decommissioned' } }, users.ciso);
    await t.ok(SUBMIT, { input: { planId } }, users.committee);
    await approve(planId);
    expect((await t.ok(ACCEPT, { input: { planId, riskId, statement: 'I accept' } }, users.riskOwner)).acceptResidualRisk.status).toBe('IN_FORCE');
  });

  it('an acceptance racing the retirement: either it lands first and stands, or it is refused; never accepted after the retirement (16 in flight, 3 rounds)', async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const { assetId, riskId, planId } = await submitted();
      await approve(planId);
      const answers = await Promise.all([
        ...Array.from({ length: 15 }, (_, i) => t.gql(ACCEPT, { input: { planId, riskId, statement: 'I accept', commandId: `accept-${round}-${i}` } }, users.riskOwner)),
        t.gql(RETIRE, { input: { assetId, reason: 'Decommissioned' } }, users.ciso),
      ]);
      expect(answers.at(-1)!.errors).toBeUndefined();
      const { events } = await t.ok(`{ events(first: 500, types: ["ResidualRiskAcceptedByOwner", "AssetRetired"]) { edges { node { position type streamId } } } }`, {}, users.auditor);
      const at = (type: string, streamId: string) => events.edges.map((e: any) => e.node).find((e: any) => e.type === type && e.streamId === streamId)?.position;
      const accepted = at('ResidualRiskAcceptedByOwner', riskStreamId(riskId));
      const retired = at('AssetRetired', assetStreamId(assetId));
      expect(retired).toBeDefined();
      for (const a of answers.slice(0, 15)) {
        if (a.errors) expect(a.errors[0].extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_RETIRED' });
      }
      if (accepted === undefined) {
        expect(answers.slice(0, 15).every((a) => a.errors)).toBe(true);
        outcomes.add('refused');
      } else {
        // Positions are opaque, ordered as strings of one width (encodePosition).
        expect(accepted < retired).toBe(true);
        outcomes.add('accepted first');
      }
    }
    expect(outcomes.size).toBeGreaterThan(0);
  }, 120_000);
});
