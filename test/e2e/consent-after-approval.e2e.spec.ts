/**
 * Art. 19-20 after the board's approval, through the real application (SQLite file, process
 * manager, HTTP): a material change makes the consent stale and the owner is asked again, whether
 * the consent was given or only asked for; an owner can accept again only the residual level the
 * board approved (a changed target level would bring the plan into force over a level the board
 * never saw); a decline lets the committee take the risk out and the rest of the plan stands.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from './support/test-app.js';
import { proposeAndApproveCriteria } from './support/scenario.js';
import { addRisk, draftPlan, logHead, quiesce, riskWithControls, sharedAsset, submitAndApprove, tokenFor, type SharedAsset } from '../concurrency/support.js';

const PLAN = 'id status items { riskId consent residualLevel }';
const RISK = 'id status treatment { targetLevel } consent { planId status residualLevel }';

describe('consent after the board approved the plan (Art. 19-20)', () => {
  let t: TestApp;
  let asset: SharedAsset;

  beforeAll(async () => {
    t = await TestApp.start();
    // Acceptance MEDIUM, so that a treatment can move its target between LOW and MEDIUM.
    await proposeAndApproveCriteria(t, { acceptanceLevel: 'MEDIUM' });
    asset = await sharedAsset(t, 'Hot wallet (consent after approval)');
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  const as = async (user: (typeof users)[keyof typeof users]) => tokenFor(t, user);
  const accept = async (planId: string, riskId: string) =>
    t.gql(`mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { ${PLAN} } }`, { input: { planId, riskId } }, await as(users.riskOwner));
  const decline = async (planId: string, riskId: string) =>
    t.ok(`mutation($input: DeclineResidualRiskInput!) { declineResidualRisk(input: $input) { ${PLAN} } }`, { input: { planId, riskId, reason: 'Not what the board approved' } }, await as(users.riskOwner));
  const retarget = async (riskId: string, targetLikelihood: number, targetImpact: number) =>
    t.ok(`mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { id } }`,
      { input: { riskId, options: ['REDUCE'], rationale: 'Cold storage ratio revised', targetLikelihood, targetImpact } }, await as(users.committee));
  const plan = async (id: string) => (await t.ok(`query($id: ID!) { plan(id: $id) { ${PLAN} } }`, { id }, await as(users.auditor))).plan;
  const risk = async (id: string) => (await t.ok(`query($id: ID!) { risk(id: $id) { ${RISK} } }`, { id }, await as(users.auditor))).risk;

  /** Two risks treated to LOW, in a plan the board approved; consent as given by `consent`. */
  async function approvedPlan(name: string, consent: 'given' | 'asked'): Promise<{ planId: string; a: string; b: string }> {
    const a = await riskWithControls(t, asset, `${name} A`);
    const b = await riskWithControls(t, asset, `${name} B`);
    const planId = await draftPlan(t, `${name} plan`);
    await addRisk(t, planId, a);
    await addRisk(t, planId, b);
    await submitAndApprove(t, planId, [a, b], `BR-${name}`);
    if (consent === 'given') {
      expect((await accept(planId, a)).errors).toBeUndefined();
      expect((await accept(planId, b)).data.acceptResidualRisk.status).toBe('IN_FORCE');
    }
    return { planId, a, b };
  }

  it('a target level changed after approval: asked again, accepting is refused and appends nothing, declining lets the committee take it out', async () => {
    const { planId, a, b } = await approvedPlan('level-changed', 'given');
    await retarget(a, 1, 3); // Rare x Severe: MEDIUM, where the board approved LOW
    await quiesce(t, await logHead(t));

    expect(await plan(planId)).toMatchObject({ status: 'APPROVED', items: [{ riskId: a, consent: 'STALE', residualLevel: 'LOW' }, { riskId: b, consent: 'ACCEPTED' }] });
    // Asked again at once (not left STALE with nothing to answer), for the level it now targets.
    expect(await risk(a)).toMatchObject({ status: 'AWAITING_CONSENT', treatment: { targetLevel: 'MEDIUM' }, consent: { planId, status: 'PENDING', residualLevel: 'MEDIUM' } });

    const head = await logHead(t);
    const refused = errorOf(await accept(planId, a));
    expect(refused.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'RESIDUAL_LEVEL_NOT_APPROVED', article: 'Art.19(2)' });
    expect(refused.message).toContain('the board approved LOW');
    expect(await quiesce(t, head)).toBe(head);
    expect((await plan(planId)).status).toBe('APPROVED');

    const declined = (await decline(planId, a)).declineResidualRisk;
    expect(declined.items.find((i: { riskId: string }) => i.riskId === a).consent).toBe('DECLINED');
    const removed = await t.ok(`mutation($input: RemoveRiskFromPlanInput!) { removeRiskFromPlan(input: $input) { ${PLAN} } }`,
      { input: { planId, riskId: a, reason: 'Goes to the board again with its new target' } }, await as(users.committee));
    expect(removed.removeRiskFromPlan).toMatchObject({ status: 'IN_FORCE', items: [{ riskId: b, consent: 'ACCEPTED' }] });
  }, 60_000);

  it('a change that keeps the approved level: the owner is asked again and accepting brings the plan back into force', async () => {
    const { planId, a } = await approvedPlan('level-kept', 'given');
    await retarget(a, 1, 2); // Rare x Moderate: still LOW
    await quiesce(t, await logHead(t));
    expect(await risk(a)).toMatchObject({ consent: { status: 'PENDING', residualLevel: 'LOW' } });
    const again = await accept(planId, a);
    expect(again.errors).toBeUndefined();
    expect(again.data.acceptResidualRisk).toMatchObject({ status: 'IN_FORCE' });
  }, 60_000);

  it('a change while consent was only asked for: asked again, never left STALE, and the owner can answer', async () => {
    const { planId, a, b } = await approvedPlan('while-asked', 'asked');
    await retarget(a, 1, 2);
    await quiesce(t, await logHead(t));
    expect(await plan(planId)).toMatchObject({ status: 'APPROVED', items: [{ riskId: a, consent: 'PENDING' }, { riskId: b, consent: 'PENDING' }] });
    expect(await risk(a)).toMatchObject({ status: 'AWAITING_CONSENT', consent: { status: 'PENDING' } });
    expect((await accept(planId, a)).errors).toBeUndefined();
    expect((await accept(planId, b)).data.acceptResidualRisk.status).toBe('IN_FORCE');
  }, 60_000);
});
