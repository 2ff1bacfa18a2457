/**
 * Art. 13(1), 16, 20 after the board's approval (auditor probe F1), through the real application
 * (SQLite file, process manager, HTTP): criteria approved after a plan's submission that place
 * residual levels already accepted above their acceptance level keep the plan out of force; the
 * owners decline (an acceptance under them is refused, a repeated one too) and the committee takes
 * the risks out. Then the same rule with the criteria approval in flight with the acceptances.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TestApp, errorOf, users } from './support/test-app.js';
import { criteriaInput, proposeAndApproveCriteria } from './support/scenario.js';
import {
  Burst,
  addRisk,
  codeOf,
  controlsA,
  delayArb,
  draftPlan,
  eventsAfter,
  fcParams,
  fireConcurrently,
  forceOverUnacceptedRisks,
  logHead,
  quiesce,
  ruleOf,
  sharedAsset,
  submitAndApprove,
  succeeded,
  tokenFor,
  unexpectedOutcomes,
  type SharedAsset,
} from '../concurrency/support.js';

const PLAN = 'id status items { riskId consent }';
/** Criteria under which (Rare, Moderate) is MEDIUM, above the acceptance level LOW; (Rare, Minor) stays LOW. */
const STRICT = { matrix: [['LOW', 'MEDIUM', 'MEDIUM'], ['LOW', 'MEDIUM', 'HIGH'], ['MEDIUM', 'HIGH', 'HIGH']] };
/** Criteria with a fourth likelihood and a fourth impact: (4, 4) is HIGH; (Rare, Minor) LOW; (3, 3), HIGH under the others, MEDIUM. */
const WIDE = {
  likelihoodLevels: ['Rare', 'Possible', 'Likely', 'Almost certain'],
  impactLevels: ['Minor', 'Moderate', 'Severe', 'Critical'],
  matrix: [['LOW', 'LOW', 'MEDIUM', 'MEDIUM'], ['LOW', 'MEDIUM', 'MEDIUM', 'HIGH'], ['MEDIUM', 'MEDIUM', 'MEDIUM', 'HIGH'], ['MEDIUM', 'HIGH', 'HIGH', 'HIGH']],
  baselineGapThresholds: [0.25, 0.5, 0.75],
  detailedLikelihoodThresholds: [3, 6, 9],
  impactByAssetValue: [1, 2, 4],
};

describe('criteria approved after a plan was submitted (Art. 13(1), 16, 20; auditor probe F1)', () => {
  let t: TestApp;
  let asset: SharedAsset;
  let n = 0;

  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t); // (Rare, Moderate) LOW, acceptance LOW
    asset = await sharedAsset(t, 'Hot wallet (criteria after approval)');
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  const gql = async (query: string, input: Record<string, unknown>, user: (typeof users)[keyof typeof users]) => t.gql(query, { input }, await tokenFor(t, user));
  const accept = (planId: string, riskId: string) => gql(`mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { ${PLAN} } }`, { planId, riskId, statement: 'I accept' }, users.riskOwner);
  const plan = async (id: string) => (await t.ok(`query($id: ID!) { plan(id: $id) { ${PLAN} } }`, { id }, await tokenFor(t, users.auditor))).plan;

  /** A risk analysed HIGH (at `analysed` x `analysed`) and treated to (Rare, `impact`) under the criteria in force, its controls decided. */
  async function treated(title: string, targetImpact: number, analysed = 3): Promise<string> {
    const ok = async (query: string, input: Record<string, unknown>, user: (typeof users)[keyof typeof users]) => {
      const answer = await gql(query, input, user);
      expect(answer.errors).toBeUndefined();
      return Object.values(answer.data as Record<string, any>)[0];
    };
    const risk = await ok(`mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`,
      { title, assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub }, users.riskOwner);
    await ok(`mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id } }`,
      { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: analysed, impact: analysed, expert: 'CISO office', rationale: 'Exchange hacks of 2018' } }, users.riskOwner);
    await ok(`mutation($input: RiskRefInput!) { evaluateRisk(input: $input) { id } }`, { riskId: risk.id }, users.committee);
    await ok(`mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { id } }`,
      { riskId: risk.id, options: ['REDUCE'], rationale: 'cold storage', targetLikelihood: 1, targetImpact }, users.committee);
    await ok(`mutation($input: DecideControlsInput!) { decideControls(input: $input) { id } }`, { riskId: risk.id, controls: controlsA }, users.committee);
    return risk.id as string;
  }

  /** A plan approved with A and B treated to (Rare, Moderate) and C to (Rare, Minor), all LOW under the lenient criteria. */
  async function approvedPlan(analysedAB = 3): Promise<{ planId: string; a: string; b: string; c: string }> {
    const id = ++n;
    const [a, b, c] = [await treated(`Leak ${id} A`, 2, analysedAB), await treated(`Leak ${id} B`, 2, analysedAB), await treated(`Leak ${id} C`, 1)];
    const planId = await draftPlan(t, `Plan ${id}`);
    for (const riskId of [a, b, c]) await addRisk(t, planId, riskId);
    await submitAndApprove(t, planId, [a, b, c], `BR-crit-${id}`);
    return { planId, a, b, c };
  }

  const approve = async (overrides: Record<string, unknown>) => proposeAndApproveCriteria(t, overrides);
  // Each test starts under the lenient criteria, whatever the one before left in force.
  beforeEach(async () => {
    await approve({});
  }, 60_000);

  it('does not come into force over acceptances the criteria in force place above their acceptance level; declining and removing them does', async () => {
    const { planId, a, b, c } = await approvedPlan();
    for (const riskId of [a, b]) expect((await accept(planId, riskId)).errors).toBeUndefined();
    const strict = await approve(STRICT);
    const since = await logHead(t);

    // C's residual (Rare, Minor) is LOW under the new criteria too: its acceptance is recorded, but
    // the plan stays APPROVED (it came into force at this acceptance before).
    const last = await accept(planId, c);
    expect(last.errors).toBeUndefined();
    expect(last.data.acceptResidualRisk).toMatchObject({ status: 'APPROVED', items: [{ consent: 'ACCEPTED' }, { consent: 'ACCEPTED' }, { consent: 'ACCEPTED' }] });
    const risk = (await t.ok(`query($id: ID!) { risk(id: $id) { status needsReevaluation treatment { targetLevel } } }`, { id: a }, await tokenFor(t, users.auditor))).risk;
    expect(risk).toMatchObject({ status: 'ACCEPTED', needsReevaluation: true });

    // An owner accepting again is told the acceptance cannot be given now, not answered as if it were.
    const again = errorOf(await accept(planId, a));
    expect(again.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'RESIDUAL_ABOVE_ACCEPTANCE', article: 'Art.13(1)' });
    expect(again.message).toContain(`of criteria #${strict.number}, now in force`);
    expect(again.message).toContain('stands until the owner declines it');

    // The owners decline; the committee removes A: B is still accepted above the acceptance level.
    const decline = (riskId: string) => gql(`mutation($input: DeclineResidualRiskInput!) { declineResidualRisk(input: $input) { id } }`, { planId, riskId, reason: 'Treated again under the new criteria' }, users.riskOwner);
    const remove = (riskId: string) => gql(`mutation($input: RemoveRiskFromPlanInput!) { removeRiskFromPlan(input: $input) { ${PLAN} } }`, { planId, riskId, reason: 'Treated again under the new criteria' }, users.committee);
    expect((await decline(a)).errors).toBeUndefined();
    expect((await remove(a)).data.removeRiskFromPlan.status).toBe('APPROVED');
    expect((await decline(b)).errors).toBeUndefined();
    expect((await remove(b)).data.removeRiskFromPlan).toMatchObject({ status: 'IN_FORCE', items: [{ riskId: c, consent: 'ACCEPTED' }] });
    await quiesce(t, await logHead(t));
    expect(await forceOverUnacceptedRisks(t, since)).toEqual([]);

  }, 120_000);

  it('criteria eased again: an approved plan whose every item is accepted, held back by the stricter ones, comes into force under them (probe 7 F1)', async () => {
    const { planId, a, b, c } = await approvedPlan();
    expect((await accept(planId, a)).errors).toBeUndefined();
    await approve(STRICT);
    for (const riskId of [b, c]) {
      // B's acceptance is refused under the strict criteria; C's is taken, and the plan stays APPROVED.
      const answer = await accept(planId, riskId);
      if (riskId === b) expect(errorOf(answer).extensions).toMatchObject({ rule: 'RESIDUAL_ABOVE_ACCEPTANCE' });
      else expect(answer.data.acceptResidualRisk.status).toBe('APPROVED');
    }
    await approve({}); // eased again: A's (Rare, Moderate) is LOW within LOW
    expect((await accept(planId, b)).data.acceptResidualRisk.status).toBe('IN_FORCE');
    // The same when the last acceptance came while the strict criteria were in force: the easing itself brings it into force.
    const second = await approvedPlan();
    for (const riskId of [second.a, second.b]) expect((await accept(second.planId, riskId)).errors).toBeUndefined();
    await approve(STRICT);
    expect((await accept(second.planId, second.c)).data.acceptResidualRisk.status).toBe('APPROVED');
    const since = await logHead(t);
    await approve({});
    expect(await plan(second.planId)).toMatchObject({ status: 'IN_FORCE' });
    const events = await eventsAfter(t, since);
    const approvedAt = events.findIndex((e) => e.type === 'RiskCriteriaApproved');
    const cameAt = events.findIndex((e) => e.type === 'PlanCameIntoForce' && e.streamId === `plan-${second.planId}`);
    expect([approvedAt >= 0, cameAt > approvedAt]).toEqual([true, true]);
    expect(await forceOverUnacceptedRisks(t, since)).toEqual([]);
  }, 120_000);

  /**
   * Four approved plans whose A and B were accepted and whose C is accepted (twice) while A is
   * accepted again (twice) and `narrower` criteria are approved, all 17 in flight together: A's
   * acceptance after the approval is refused with `refusal`, and no plan comes into force after it.
   */
  const racingTheLastAcceptance = (plansUnder: Record<string, unknown> | null, analysedAB: number, narrower: Record<string, unknown>, refusal: string) =>
    fc.assert(
      fc.asyncProperty(fc.array(delayArb, { minLength: 17, maxLength: 17 }), fc.scheduler(), async (delays, s) => {
        if (plansUnder) await approve(plansUnder);
        const plans = [];
        for (let p = 0; p < 4; p++) {
          const approved = await approvedPlan(analysedAB);
          for (const riskId of [approved.a, approved.b]) expect((await accept(approved.planId, riskId)).errors).toBeUndefined();
          plans.push(approved);
        }
        const proposal = (await gql(`mutation($input: ProposeRiskCriteriaInput!) { proposeRiskCriteria(input: $input) { id } }`, { ...criteriaInput, ...narrower }, users.committee)).data.proposeRiskCriteria.id as string;
        const since = await logHead(t);
        const burst = new Burst(t);
        // 16 owners' calls (each plan's last acceptance twice, its A accepted again twice) and the CISO's approval, in flight together.
        await fireConcurrently(s, [
          { label: 'approve', delayMs: delays[16]!, run: () => burst.mutate('approve', 'approveRiskCriteria', 'ApproveRiskCriteriaInput', 'id', { criteriaId: proposal }, users.ciso) },
          ...plans.flatMap(({ planId, a, c }, p) =>
            [c, c, a, a].map((riskId, k) => ({
              label: `accept p${p}/${riskId === c ? 'C' : 'A'}${k}`,
              delayMs: delays[p * 4 + k]!,
              run: () => burst.mutate(`accept p${p}/${riskId === c ? 'C' : 'A'}${k}`, 'acceptResidualRisk', 'AcceptResidualRiskInput', 'id status', { planId, riskId, statement: 'I accept' }, users.riskOwner),
            })),
          ),
        ]);
        await quiesce(t, since);
        expect(unexpectedOutcomes(burst)).toEqual([]);
        // C is acceptable under both criteria: always accepted. A again: nothing to record before the approval, refused after it.
        for (const o of burst.outcomes.filter((x) => x.label.includes('/C'))) expect(succeeded(o)).toBe(true);
        for (const o of burst.outcomes.filter((x) => x.label.includes('/A'))) expect(succeeded(o) || (codeOf(o) === 'RULE_VIOLATION' && ruleOf(o) === refusal)).toBe(true);

        // In log order: a plan comes into force before the approval, never after it.
        const events = await eventsAfter(t, since);
        const approvedAt = events.findIndex((e) => e.type === 'RiskCriteriaApproved');
        expect(approvedAt).toBeGreaterThanOrEqual(0);
        const late = events.slice(approvedAt).filter((e) => e.type === 'PlanCameIntoForce').map((e) => `${e.streamId} at ${e.position}`);
        expect(late).toEqual([]);
        expect(await forceOverUnacceptedRisks(t, since)).toEqual([]);
        for (const { planId } of plans) {
          const came = events.slice(0, approvedAt).some((e) => e.type === 'PlanCameIntoForce' && e.streamId === `plan-${planId}`);
          expect((await plan(planId)).status).toBe(came ? 'IN_FORCE' : 'APPROVED');
        }
        await approve({}); // lenient again for the next run
      }),
      fcParams(),
    );

  it('the last acceptance racing the approval of such criteria (with owners accepting again): never in force after them over an acceptance above their acceptance level', async () => {
    await racingTheLastAcceptance(null, 3, STRICT, 'RESIDUAL_ABOVE_ACCEPTANCE');
  }, 600_000);

  it('the last acceptance racing the approval of criteria whose scales have no room for A and B, analysed at (4, 4): never in force after them over those acceptances (Art.16; compliance probe F2)', async () => {
    await racingTheLastAcceptance(WIDE, 4, {}, 'ANALYSIS_BEYOND_CRITERIA');
  }, 600_000);

  it('a plan holding a target such criteria place above acceptance is not submitted to the board (probe 7 F3)', async () => {
    const a = await treated(`Unsubmittable ${++n} A`, 2);
    const c = await treated(`Unsubmittable ${n} C`, 1);
    const planId = await draftPlan(t, `Unsubmittable plan ${n}`);
    for (const riskId of [a, c]) await addRisk(t, planId, riskId);
    const strict = await approve(STRICT);
    const refused = errorOf(await gql(`mutation($input: PlanRefInput!) { submitPlan(input: $input) { id status } }`, { planId }, users.committee));
    expect(refused.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ITEM_ABOVE_ACCEPTANCE', article: 'Art.13(1)' });
    expect(refused.message).toContain(`risk ${a} whose target residual level is above the acceptance level LOW of criteria #${strict.number}`);
    expect((await plan(planId)).status).toBe('DRAFT');
  }, 120_000);

  it('a treated risk analysed beyond the scales of the criteria now in force needs re-evaluation, holds its plan back from the board, and is in no cell of the heat map, which says so (Art.16; compliance probe F1, F2)', async () => {
    const auditor = await tokenFor(t, users.auditor);
    const heatMap = async () => (await t.ok('{ heatMap { criteriaNumber total unplaced levelDiffers levels { level count } cells { likelihood impact count } } }', {}, auditor)).heatMap;
    // Risks the tests before analysed at (4, 4) lie beyond these 3 x 3 criteria already.
    const unplacedBefore = (await heatMap()).unplaced;
    await approve(WIDE);
    const wide = await treated(`Beyond ${++n}`, 1, 4);
    const planId = await draftPlan(t, `Beyond plan ${n}`);
    await addRisk(t, planId, wide);
    const risk = async () => (await t.ok('query($id: ID!) { risk(id: $id) { status likelihood impact level needsReevaluation } }', { id: wide }, auditor)).risk;
    const underWide = await heatMap();
    expect(underWide.unplaced).toBe(0);
    // The earlier tests' risks analysed HIGH at (3, 3) under the 3 x 3 criteria sit in WIDE's MEDIUM cell: the map says how many.
    const { risks } = await t.ok('{ risks(first: 500, filter: { level: "HIGH" }) { edges { node { likelihood impact status } } pageInfo { hasNextPage } } }', {}, auditor);
    expect(risks.pageInfo.hasNextPage).toBe(false);
    const highAt33 = risks.edges.filter(({ node }: { node: { likelihood: number; impact: number; status: string } }) => node.likelihood === 3 && node.impact === 3 && node.status !== 'CLOSED').length;
    expect(highAt33).toBeGreaterThan(0);
    expect(underWide.levelDiffers).toBe(highAt33);
    expect(await risk()).toMatchObject({ status: 'IN_PLAN', likelihood: 4, impact: 4, level: 'HIGH', needsReevaluation: false });

    const lenient = await approve({}); // 3 x 3: no likelihood or impact 4
    expect(await risk()).toMatchObject({ status: 'IN_PLAN', needsReevaluation: true });
    const map = await heatMap();
    expect(map).toMatchObject({ criteriaNumber: lenient.number, unplaced: unplacedBefore + 1 });
    expect(map.levels.reduce((k: number, l: { count: number }) => k + l.count, 0)).toBe(map.total);
    const refused = errorOf(await gql(`mutation($input: PlanRefInput!) { submitPlan(input: $input) { id status } }`, { planId }, users.committee));
    expect(refused.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ITEM_BEYOND_CRITERIA', article: 'Art.16' });
    expect(refused.message).toContain(`risk ${wide} analysed beyond the likelihood or impact scales of criteria #${lenient.number}`);
    expect((await plan(planId)).status).toBe('DRAFT');

    // Analysed again under them: placed, the flag gone, the plan submitted.
    await gql(`mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id } }`,
      { riskId: wide, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'Again under the criteria in force' } }, users.riskOwner);
    await gql(`mutation($input: RiskRefInput!) { evaluateRisk(input: $input) { id } }`, { riskId: wide }, users.committee);
    await gql(`mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { id } }`, { riskId: wide, options: ['REDUCE'], rationale: 'cold storage', targetLikelihood: 1, targetImpact: 1 }, users.committee);
    await gql(`mutation($input: DecideControlsInput!) { decideControls(input: $input) { id } }`, { riskId: wide, controls: controlsA }, users.committee);
    expect(await risk()).toMatchObject({ likelihood: 3, impact: 3, needsReevaluation: false });
    expect((await heatMap()).unplaced).toBe(unplacedBefore);
    const submitted = await gql(`mutation($input: PlanRefInput!) { submitPlan(input: $input) { id status } }`, { planId }, users.committee);
    expect(submitted.errors).toBeUndefined();
    expect((await plan(planId)).status).toBe('SUBMITTED');
    // Out of the board's hands again for the tests after it.
    expect((await gql(`mutation($input: WithdrawPlanInput!) { withdrawPlan(input: $input) { id } }`, { planId, reason: 'test over' }, users.committee)).errors).toBeUndefined();
  }, 120_000);

  it('criteria that cannot place an approved risk\'s analysis: an acceptance under them is refused, one given before keeps the plan out of force, and the plan document says why (Art.16; compliance probe F2)', async () => {
    await approve(WIDE);
    // X and Z analysed at (4, 4), Y at (3, 3): all treated to (1, 1) and approved under WIDE.
    const [x, y, z] = [await treated(`Beyond accepted ${++n} X`, 1, 4), await treated(`Beyond accepted ${n} Y`, 1, 3), await treated(`Beyond accepted ${n} Z`, 1, 4)];
    const planId = await draftPlan(t, `Beyond accepted plan ${n}`);
    for (const riskId of [x, y, z]) await addRisk(t, planId, riskId);
    await submitAndApprove(t, planId, [x, y, z], `BR-beyond-${n}`);
    expect((await accept(planId, x)).errors).toBeUndefined();
    const lenient = await approve({});
    // Z's acceptance under the 3 x 3 criteria is refused (Z is taken out); Y's is taken, and the plan does not come into force over X's, given before.
    const refused = errorOf(await accept(planId, z));
    expect(refused.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ANALYSIS_BEYOND_CRITERIA', article: 'Art.16' });
    expect(refused.message).toContain(`was analysed at likelihood 4, impact 4, beyond the scales of criteria #${lenient.number}, now in force: its owner can decline`);
    const takeOut = async (riskId: string) => {
      expect((await gql(`mutation($input: DeclineResidualRiskInput!) { declineResidualRisk(input: $input) { status } }`, { planId, riskId, reason: 'to be analysed again' }, users.riskOwner)).errors).toBeUndefined();
      expect((await gql(`mutation($input: RemoveRiskFromPlanInput!) { removeRiskFromPlan(input: $input) { status } }`, { planId, riskId, reason: 'declined' }, users.committee)).errors).toBeUndefined();
    };
    await takeOut(z);
    expect((await accept(planId, y)).errors).toBeUndefined();
    expect(await plan(planId)).toMatchObject({ status: 'APPROVED', items: [{ riskId: x, consent: 'ACCEPTED' }, { riskId: y, consent: 'ACCEPTED' }] });
    const { risk } = await t.ok('query($id: ID!) { risk(id: $id) { status needsReevaluation } }', { id: x }, await tokenFor(t, users.auditor));
    expect(risk).toEqual({ status: 'ACCEPTED', needsReevaluation: true });
    const doc = await (await fetch(`${t.url}/documents/plans/${planId}.md?lang=en`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text();
    const row = doc.slice(doc.indexOf("## Risk owners' consent")).split('\n').find((line) => line.startsWith(`| Beyond accepted ${n} X |`));
    expect(row).toContain(`| LOW; the risk was analysed at likelihood 4 / impact 4, beyond the scales of the risk criteria in force (version ${lenient.number}): the risk needs re-evaluation |`);
    // X's owner declines, the committee takes it out: in force over Y alone.
    await takeOut(x);
    expect((await plan(planId)).status).toBe('IN_FORCE');
  }, 120_000);

  it('a plan in force before such criteria stays in force (its risks show needsReevaluation); an acceptance under them is refused', async () => {
    const { planId, a, b, c } = await approvedPlan();
    for (const riskId of [a, b, c]) expect((await accept(planId, riskId)).errors).toBeUndefined();
    expect((await plan(planId)).status).toBe('IN_FORCE');
    await approve(STRICT);
    expect((await plan(planId)).status).toBe('IN_FORCE');
    const { risk } = await t.ok(`query($id: ID!) { risk(id: $id) { needsReevaluation } }`, { id: a }, await tokenFor(t, users.auditor));
    expect(risk.needsReevaluation).toBe(true);
    expect(errorOf(await accept(planId, a)).extensions).toMatchObject({ rule: 'RESIDUAL_ABOVE_ACCEPTANCE' });
  }, 120_000);
});
