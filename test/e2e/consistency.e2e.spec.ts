/**
 * The contract's "Consistency rules (Art. 19–20, Art. 12(3))" that need no concurrency, over
 * HTTP, written against the CONTRACT names (withdrawPlan, closePlan, removeRiskFromPlan,
 * ConsentStatus REOPENED, PlanItem.residualLevel, BoardResolution.position...). The racing
 * cases are in test/concurrency/invariants.spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, users, type GraphQLResponse, type TestUser } from './support/test-app.js';
import { criteriaInput, proposeAndApproveCriteria } from './support/scenario.js';
import {
  addRisk,
  controlsA,
  controlsB,
  draftPlan,
  riskInSeveralOpenPlans,
  riskWithControls,
  sharedAsset,
  sleep,
  submitAndApprove,
  todayInJapan,
  waitForRisk,
  type SharedAsset,
} from '../concurrency/support.js';

const TIMEOUT = 120_000;
const PLAN_FIELDS = 'id version revision status items { riskId consent }';
const PLAN = `query($id: ID!) { plan(id: $id) { ${PLAN_FIELDS} } }`;
const RISK = `query($id: ID!) { risk(id: $id) { id version status cycle needsReevaluation planId consent { planId status } treatment { targetLevel } } }`;
const HISTORY = `query($id: ID!) { history(id: $id) { type } }`;

const SUBMIT = `mutation($input: PlanRefInput!) { submitPlan(input: $input) { ${PLAN_FIELDS} } }`;
const RESOLVE = `mutation($input: RecordBoardResolutionInput!) { recordBoardResolution(input: $input) { ${PLAN_FIELDS} resolution { decision } } }`;
const RESOLVE_WITH_POSITION = `mutation($input: RecordBoardResolutionInput!) { recordBoardResolution(input: $input) { ${PLAN_FIELDS} resolution { decision position } } }`;
const ACCEPT = `mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { ${PLAN_FIELDS} } }`;
const DECLINE = `mutation($input: DeclineResidualRiskInput!) { declineResidualRisk(input: $input) { ${PLAN_FIELDS} } }`;
const WITHDRAW = `mutation($input: WithdrawPlanInput!) { withdrawPlan(input: $input) { ${PLAN_FIELDS} } }`;
const CLOSE = `mutation($input: ClosePlanInput!) { closePlan(input: $input) { ${PLAN_FIELDS} } }`;
const REMOVE = `mutation($input: RemoveRiskFromPlanInput!) { removeRiskFromPlan(input: $input) { ${PLAN_FIELDS} } }`;
const ADD = `mutation($input: PlanRiskInput!) { addRiskToPlan(input: $input) { ${PLAN_FIELDS} } }`;
const ANALYSE = `mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id status } }`;
const EVALUATE = `mutation($input: RiskRefInput!) { evaluateRisk(input: $input) { id status } }`;
const TREAT = `mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { id status } }`;
const CONTROLS = `mutation($input: DecideControlsInput!) { decideControls(input: $input) { id status planId controls { title description } } }`;
const REASSIGN = `mutation($input: ReassignRiskOwnerInput!) { reassignRiskOwner(input: $input) { id ownerId } }`;
const REVIEW = `mutation($input: RecordReviewInput!) { recordReview(input: $input) { id status cycle } }`;

const informal = (riskId: string) => ({ riskId, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'incidents at other exchanges' } });

/** The first error, or a clear failure when the call succeeded. */
function refusal(result: GraphQLResponse): { message: string; extensions: Record<string, any> } {
  if (!result.errors?.length) throw new Error(`expected a refusal, got ${JSON.stringify(result.data)}`);
  return { message: result.errors[0]!.message, extensions: result.errors[0]!.extensions ?? {} };
}

/** The value `read` gives once `ready` holds; after `maxMs` (only a hang) it fails with the last value read, not handing it to the next expectation. */
async function waitFor<T>(read: () => Promise<T>, ready: (v: T) => boolean, maxMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (ready(value)) return value;
    if (Date.now() - started > maxMs) throw new Error(`not ready within ${maxMs} ms (${ready.toString()}): ${JSON.stringify(value)}`);
    await sleep(25);
  }
}

describe('Consistency rules of the contract (Art.19-20, Art.12(3)) over HTTP', () => {
  let t: TestApp;
  let asset: SharedAsset;
  let n = 0;
  const ok = (query: string, input: Record<string, unknown>, user: TestUser) => t.ok(query, { input }, user);
  const gql = (query: string, input: Record<string, unknown>, user: TestUser) => t.gql(query, { input }, user);
  const plan = async (id: string) => (await t.ok(PLAN, { id }, users.auditor)).plan;
  const risk = async (id: string) => (await t.ok(RISK, { id }, users.auditor)).risk;
  const historyLength = async (id: string) => (await t.ok(HISTORY, { id }, users.auditor)).history.length as number;

  /** A submitted plan with one risk whose controls are decided (target LOW). */
  async function submittedPlanWithRisk(): Promise<{ planId: string; riskId: string }> {
    const riskId = await riskWithControls(t, asset, `Consistency risk ${++n}`);
    const planId = await draftPlan(t, `Consistency plan ${n}`);
    await addRisk(t, planId, riskId);
    await ok(SUBMIT, { planId }, users.committee);
    return { planId, riskId };
  }

  /** An approved plan with these risks (on `on`, the shared asset by default), each awaiting its owner's consent. */
  async function approvedPlan(count: number, on: SharedAsset = asset): Promise<{ planId: string; riskIds: string[] }> {
    const riskIds: string[] = [];
    for (let i = 0; i < count; i++) riskIds.push(await riskWithControls(t, on, `Approved-plan risk ${++n}`));
    const planId = await draftPlan(t, `Approved plan ${n}`);
    for (const riskId of riskIds) await addRisk(t, planId, riskId);
    await submitAndApprove(t, planId, riskIds, `BR-C-${n}`);
    return { planId, riskIds };
  }

  async function inForcePlan(): Promise<{ planId: string; riskId: string }> {
    const { planId, riskIds } = await approvedPlan(1);
    const accepted = (await ok(ACCEPT, { planId, riskId: riskIds[0], statement: 'I accept the residual risk' }, users.riskOwner)).acceptResidualRisk;
    expect(accepted.status).toBe('IN_FORCE');
    await waitForRisk(t, riskIds[0]!, (r) => r.status === 'ACCEPTED');
    return { planId, riskId: riskIds[0]! };
  }

  beforeAll(async () => {
    t = await TestApp.start();
    // Acceptance MEDIUM, so that the last test can approve stricter criteria (LOW).
    await proposeAndApproveCriteria(t, { acceptanceLevel: 'MEDIUM' });
    asset = await sharedAsset(t, 'Consistency asset');
  }, TIMEOUT);

  afterAll(async () => {
    await t?.close();
  });

  it('freezes a risk while its plan is SUBMITTED (RISK_IN_SUBMITTED_PLAN, nothing appended); withdrawPlan takes the plan back to DRAFT, revision + 1', async () => {
    const { planId, riskId } = await submittedPlanWithRisk();
    const before = await historyLength(riskId);
    const attempts: [string, string, Record<string, unknown>][] = [
      ['decideControls', CONTROLS, { riskId, controls: controlsB }],
      ['decideTreatment', TREAT, { riskId, options: ['REDUCE'], rationale: 'changed while submitted', targetLikelihood: 1, targetImpact: 2 }],
      ['analyseRisk', ANALYSE, informal(riskId)],
      ['evaluateRisk', EVALUATE, { riskId }],
      ['reassignRiskOwner', REASSIGN, { riskId, ownerId: users.otherOwner.sub }],
    ];
    for (const [name, mutation, input] of attempts) {
      const error = refusal(await gql(mutation, input, users.committee));
      expect({ name, code: error.extensions.code, rule: error.extensions.rule }).toEqual({ name, code: 'RULE_VIOLATION', rule: 'RISK_IN_SUBMITTED_PLAN' });
    }
    expect(await historyLength(riskId)).toBe(before);

    const submitted = await plan(planId);
    const withdrawn = (await ok(WITHDRAW, { planId, reason: 'The committee wants to revise the controls' }, users.committee)).withdrawPlan;
    expect(withdrawn).toMatchObject({ status: 'DRAFT', revision: submitted.revision + 1 });
    expect((await plan(planId)).status).toBe('DRAFT');
    // The withdrawal is on the record: in the plan's revisions and in the plan document.
    const revisions = (await t.ok(`query($id: ID!) { plan(id: $id) { revisions { revision outcome withdrawnBy withdrawnAt withdrawalReason } } }`, { id: planId }, users.auditor)).plan.revisions;
    expect(revisions).toEqual([
      { revision: submitted.revision, outcome: 'WITHDRAWN', withdrawnBy: users.committee.sub, withdrawnAt: expect.any(String), withdrawalReason: 'The committee wants to revise the controls' },
      { revision: submitted.revision + 1, outcome: 'OPEN', withdrawnBy: null, withdrawnAt: null, withdrawalReason: null },
    ]);
    const doc = await (await fetch(`${t.url}/documents/plans/${planId}.md?lang=en`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text();
    const revisionRows = doc.slice(doc.indexOf('## Revisions of the plan')).split('\n').filter((line) => /^\| \d+ \|/.test(line));
    expect(revisionRows).toHaveLength(2);
    // Each revision names its risks (compliance probe F8: a count alone).
    const title = (await t.ok(`query($id: ID!) { risk(id: $id) { title } }`, { id: riskId }, users.auditor)).risk.title;
    expect(revisionRows[0]).toMatch(new RegExp(`^\\| 1 \\| 1 \\(${title}\\) \\| [^|]+ UTC \\(\\S+\\) \\| Withdrawn to be changed \\| [^|]+ UTC \\(${users.committee.sub}\\) \\| The committee wants to revise the controls \\|$`));
    expect(revisionRows[1]).toBe(`| 2 | 1 (${title}) | — | Being drafted | — | — |`);
    // Back in DRAFT the content is no longer frozen.
    const change = await gql(CONTROLS, { riskId, controls: controlsB }, users.committee);
    expect(change.errors?.[0]?.extensions?.rule).not.toBe('RISK_IN_SUBMITTED_PLAN');
  }, TIMEOUT);

  it('closePlan closes an APPROVED plan and an IN_FORCE plan (status CLOSED), never a DRAFT one', async () => {
    const approved = await approvedPlan(1);
    expect((await ok(CLOSE, { planId: approved.planId, reason: 'Superseded by the FY2027 plan' }, users.committee)).closePlan.status).toBe('CLOSED');
    expect((await plan(approved.planId)).status).toBe('CLOSED');

    const inForce = await inForcePlan();
    expect((await ok(CLOSE, { planId: inForce.planId, reason: 'Period ended' }, users.ciso)).closePlan.status).toBe('CLOSED');
    expect((await plan(inForce.planId)).status).toBe('CLOSED');
    // A change to the accepted risk after the close (race probe of 2026-12-05): the closed plan keeps
    // the answer it closed with, and the risk is planned again, not left awaiting a plan that cannot ask.
    const closedPlanEvents = await historyLength(inForce.planId);
    await waitForRisk(t, inForce.riskId, (r) => r.planId === null);
    const changed = (await ok(CONTROLS, { riskId: inForce.riskId, controls: controlsB }, users.committee)).decideControls;
    expect(changed).toMatchObject({ status: 'CONTROLS_DECIDED', planId: null });
    expect(await historyLength(inForce.planId)).toBe(closedPlanEvents);
    expect(await plan(inForce.planId)).toMatchObject({ status: 'CLOSED', items: [{ riskId: inForce.riskId, consent: 'ACCEPTED' }] });
    const next = await draftPlan(t, `After the close ${++n}`);
    expect((await ok(ADD, { planId: next, riskId: inForce.riskId }, users.committee)).addRiskToPlan.items).toEqual([{ riskId: inForce.riskId, consent: 'PENDING' }]);

    // A plan closed over a consent made stale before the close asks nothing again: its document says so (re-probe F5).
    const staleAtClose = await inForcePlan();
    await ok(CONTROLS, { riskId: staleAtClose.riskId, controls: controlsB }, users.committee);
    await waitFor(() => plan(staleAtClose.planId), (p: any) => p.items[0]?.consent === 'STALE');
    await ok(CLOSE, { planId: staleAtClose.planId, reason: 'Period ended' }, users.committee);
    const closedDoc = await (await fetch(`${t.url}/documents/plans/${staleAtClose.planId}.md?lang=en`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text();
    expect(closedDoc).toContain('| Not current when the plan closed (changed after consent) |');
    expect(closedDoc).not.toContain('| To be given again (changed after consent) |');

    const draft = await draftPlan(t, 'Never approved');
    const refused = refusal(await gql(CLOSE, { planId: draft, reason: 'nothing to close' }, users.committee));
    expect(refused.extensions.code).not.toBe('INTERNAL_SERVER_ERROR');
    expect((await plan(draft)).status).toBe('DRAFT');
  }, TIMEOUT);

  it('removeRiskFromPlan works in DRAFT and for a DECLINED item; the approved plan whose remaining items are all ACCEPTED is then IN_FORCE', async () => {
    const r1 = await riskWithControls(t, asset, `Removable ${++n}`);
    const r2 = await riskWithControls(t, asset, `Kept ${n}`);
    const draft = await draftPlan(t, `Draft with removal ${n}`);
    const key = `add-${draft}`;
    await ok(ADD, { planId: draft, riskId: r1, commandId: key }, users.committee);
    // The key of one item's addition, reused for another risk of the same plan: refused, not answered with the first (re-probe F2).
    const reused = refusal(await gql(ADD, { planId: draft, riskId: r2, commandId: key }, users.committee));
    expect(reused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/same command on another entity/) } });
    expect((await ok(ADD, { planId: draft, riskId: r1, commandId: key }, users.committee)).addRiskToPlan.items).toEqual([{ riskId: r1, consent: 'PENDING' }]);
    await addRisk(t, draft, r2);
    const removed = (await ok(REMOVE, { planId: draft, riskId: r1, reason: 'Handled in another plan' }, users.committee)).removeRiskFromPlan;
    expect(removed.items.map((i: any) => i.riskId)).toEqual([r2]);

    const { planId, riskIds: [kept, declined] } = await approvedPlan(2);
    const afterAccept = (await ok(ACCEPT, { planId, riskId: kept, statement: 'Accepted' }, users.riskOwner)).acceptResidualRisk;
    expect(afterAccept.status).toBe('APPROVED');
    // An ACCEPTED item of an approved plan cannot be removed.
    expect(refusal(await gql(REMOVE, { planId, riskId: kept, reason: 'no' }, users.committee)).extensions.code).toBe('RULE_VIOLATION');
    await ok(DECLINE, { planId, riskId: declined, reason: 'Residual exposure too high' }, users.riskOwner);
    const afterRemoval = (await ok(REMOVE, { planId, riskId: declined, reason: 'The owner declined; treated again next period' }, users.committee)).removeRiskFromPlan;
    expect(afterRemoval).toMatchObject({ status: 'IN_FORCE', items: [{ riskId: kept, consent: 'ACCEPTED' }] });
    expect(await plan(planId)).toMatchObject({ status: 'IN_FORCE', items: [{ riskId: kept, consent: 'ACCEPTED' }] });
    // The removed item is still read through the API, as it stood: the decline and the removal (probe of 2026-12-06, M2).
    const { removedItems } = (await t.ok(`query($id: ID!) { plan(id: $id) { removedItems { riskId consent declineReason declinedBy removedFromRevision removedBy removalReason removedAt explanations { summary } } } }`, { id: planId }, users.auditor)).plan;
    expect(removedItems).toEqual([
      expect.objectContaining({ riskId: declined, consent: 'DECLINED', declineReason: 'Residual exposure too high', declinedBy: users.riskOwner.sub, removedFromRevision: 1, removedBy: users.committee.sub, removalReason: 'The owner declined; treated again next period', explanations: [] }),
    ]);
    // The plan document's consent table keeps the removed item's answer: who declined, when, why, and the removal.
    const doc = await (await fetch(`${t.url}/documents/plans/${planId}.md?lang=en`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text();
    const consentRows = doc.slice(doc.indexOf("## Risk owners' consent")).split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Risk |') && !line.startsWith('| ---'));
    expect(consentRows).toHaveLength(2);
    expect(consentRows[0]).toContain('| Accepted |');
    const cells = consentRows[1]!.split(' | ');
    expect(cells.slice(1, 3)).toEqual([users.riskOwner.sub, 'Removed (at the removal: Declined)']);
    expect(cells[4]).toMatch(/UTC$/);
    expect(cells[5]).toMatch(/^Residual exposure too high — Removed from the plan at [^:]+:\d\d(:\d\d)? UTC: The owner declined; treated again next period$/);
    // The last column: what the committee recorded having explained to the owner (none here).
    expect(cells[6]).toBe('— |');
  }, TIMEOUT);

  it('an AVOID of a risk in a plan in force: its item is removed (its owner can never answer again), and the plan is back in force over the others', async () => {
    // An asset of its own: the AVOID retires it.
    const { planId, riskIds: [kept, avoided] } = await approvedPlan(2, await sharedAsset(t, 'Asset given up'));
    await ok(ACCEPT, { planId, riskId: kept, statement: 'Accepted' }, users.riskOwner);
    expect((await ok(ACCEPT, { planId, riskId: avoided, statement: 'Accepted' }, users.riskOwner)).acceptResidualRisk.status).toBe('IN_FORCE');
    await waitForRisk(t, avoided!, (r) => r.status === 'ACCEPTED');
    expect((await ok(TREAT, { riskId: avoided, options: ['AVOID'], rationale: 'the business is given up', targetLikelihood: 1, targetImpact: 1 }, users.committee)).decideTreatment.status).toBe('CLOSED');
    const left = await waitFor(() => plan(planId), (p: any) => p.status !== 'IN_FORCE');
    expect(left).toMatchObject({ status: 'APPROVED', items: [{ riskId: kept, consent: 'ACCEPTED' }, { riskId: avoided, consent: 'STALE' }] });
    // The item says why its owner can never answer again, learnt after the stale consent, in the AVOID's own append.
    const planHistory = (await t.ok(`query($id: ID!) { history(id: $id) { type recordedAt } }`, { id: planId }, users.auditor)).history;
    expect(planHistory.slice(-3).map((e: { type: string }) => e.type)).toEqual(['ResidualConsentBecameStale', 'PlanLeftForce', 'PlanItemRiskClosed']);
    const closedAt = (await t.ok(`query($id: ID!) { history(id: $id) { type recordedAt } }`, { id: avoided }, users.auditor)).history.find((e: { type: string }) => e.type === 'RiskClosed').recordedAt;
    expect(planHistory.slice(-3).map((e: { recordedAt: string }) => e.recordedAt)).toEqual([closedAt, closedAt, closedAt]);
    const marked = (await t.ok(`query($id: ID!) { plan(id: $id) { items { riskId riskClosedAt } } }`, { id: planId }, users.auditor)).plan.items;
    expect(marked).toEqual([{ riskId: kept, riskClosedAt: null }, { riskId: avoided, riskClosedAt: expect.any(String) }]);
    expect(refusal(await gql(ACCEPT, { planId, riskId: avoided, statement: 'again' }, users.riskOwner)).extensions.code).toBe('RULE_VIOLATION');
    // Was ITEM_NOT_REMOVABLE: only closing the plan, which dropped the other owner's consent too, got out.
    const removed = (await ok(REMOVE, { planId, riskId: avoided, reason: 'Avoided: the business is given up' }, users.committee)).removeRiskFromPlan;
    expect(removed).toMatchObject({ status: 'IN_FORCE', items: [{ riskId: kept, consent: 'ACCEPTED' }] });
    expect(await risk(avoided!)).toMatchObject({ status: 'CLOSED', planId: null });
    expect(await risk(kept!)).toMatchObject({ status: 'ACCEPTED', planId });
    // Its controls are no longer pending work (compliance probe F9): cancelled by the AVOID.
    const controls = (await t.ok(`query($id: ID!) { risk(id: $id) { controls { status overdue } } }`, { id: avoided }, users.auditor)).risk.controls;
    expect(controls.length).toBeGreaterThan(0);
    expect(controls.every((c: { status: string; overdue: boolean }) => c.status === 'CANCELLED' && !c.overdue)).toBe(true);
    const controlRows = (await (await fetch(`${t.url}/documents/register.csv?section=controls&lang=en`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text()).split('\n').filter((line) => line.includes(avoided!));
    expect(controlRows.length).toBe(controls.length);
    for (const row of controlRows) expect(row).toContain('Cancelled');
    // And the Art.18(2) record says where each control stands (compliance probe 2 #7).
    const record = await (await fetch(`${t.url}/documents/controls.md?lang=en&riskId=${avoided}`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text();
    expect(record).toContain('| Reason for adoption | Reference | Progress |');
    const recordRows = record.split('\n').filter((line) => line.endsWith('| Cancelled — The risk was avoided (Art.17): this control is no longer carried out |'));
    expect(recordRows).toHaveLength(controls.length);
    // The plan document still lists what the board approved, the removed item marked with its
    // reason (compliance probe F2: it had dropped it without a trace), the risk as submitted.
    const doc = await (await fetch(`${t.url}/documents/plans/${planId}.md?lang=en`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text();
    const summary = doc.split('\n').filter((line) => /^\| [12] \| Approved-plan risk/.test(line));
    expect(summary).toHaveLength(2);
    expect(summary[1]).toMatch(/\| Removed \|$/);
    expect(doc).toMatch(/- \*\*Since the submission\*\*: Removed from the plan at [^:]+:\d\d(:\d\d)? UTC: Avoided: the business is given up/);
    expect(doc).toContain('| Content of the risks below | As submitted to the board (revision 1, ');
    expect(doc).toContain('- **Options**: Reduce');
    expect(doc).not.toContain('- **Options**: Avoid');
    // Its owner's last answer stays in the consent table, with why it went stale and the removal.
    const removedRow = doc.split('\n').find((line) => line.includes('| Removed (at the removal: '));
    expect(removedRow).toContain(`| ${users.riskOwner.sub} | Removed (at the removal: To be given again`);
    expect(removedRow).toMatch(/The risk was closed \(avoided\) at .*Removed from the plan at .*: Avoided: the business is given up \| — \|$/);
  }, TIMEOUT);

  it('a review finding on an ACCEPTED risk marks its item REOPENED, takes the plan out of force, and lets the risk join another plan', async () => {
    const { planId, riskId } = await inForcePlan();
    const reviewed = (await ok(REVIEW, { riskId, controlsInPlace: false, actualLikelihood: 3, actualImpact: 3, notes: 'cold storage not done' }, users.committee)).recordReview;
    expect(reviewed).toMatchObject({ status: 'IDENTIFIED', cycle: 2 });
    const reopened = await waitFor(() => plan(planId), (p: any) => p.items[0]?.consent === 'REOPENED');
    expect(reopened.items).toEqual([{ riskId, consent: 'REOPENED' }]);
    expect(reopened.status).not.toBe('IN_FORCE');
    // The cycle the finding closed stays in the Art.18(2) record (auditor probe F1: the record said
    // no control had ever been decided): its controls as they stood, marked with the cycle and the review.
    const reviewedAt = (await t.ok(`query($id: ID!) { history(id: $id) { type recordedAt } }`, { id: riskId }, users.auditor)).history.find((e: { type: string }) => e.type === 'RiskReassessmentOpened').recordedAt;
    const recordOf = async (query: string) => (await (await fetch(`${t.url}/documents/controls.md?lang=en&riskId=${riskId}${query}`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text());
    const record = await recordOf('');
    expect(record).toContain('Art.18(2): 1 risk(s), ');
    expect(record).toMatch(/## .* \(cycle 1, ended\)/);
    expect(record).toMatch(/- \*\*Cycle\*\*: 1, ended at .* by the finding of review \S+ \(Art\.12\(3\)\): its treatment and controls as they stood then/);
    expect(record).not.toContain('No control had been decided by this point.');
    const live = (await t.ok(`query($id: ID) { controlsDocument(riskId: $id) { riskCount controlCount entries { cycle closedAt closedByReviewId riskStatus controls { title } } } }`, { id: riskId }, users.auditor)).controlsDocument;
    // The closed cycle's entry gives the risk's status when it closed, not the new cycle's (re-probe F4).
    expect(live).toMatchObject({ riskCount: 1, entries: [{ cycle: 1, closedAt: expect.any(String), closedByReviewId: expect.any(String), riskStatus: 'ACCEPTED' }] });
    expect(live.controlCount).toBe(live.entries[0].controls.length);
    expect(live.controlCount).toBeGreaterThan(0);
    const csv = (await (await fetch(`${t.url}/documents/register.csv?section=controls&lang=en`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text()).split('\n').filter((line) => line.includes(riskId));
    expect(csv).toHaveLength(live.controlCount);
    // The cycle column, then the evidence and superseding-decision columns (none here).
    for (const row of csv) expect(row.trimEnd()).toMatch(/,1,,,,$/);
    // Before the finding the same cycle is the current one, not yet ended.
    const before = await recordOf(`&asOf=${encodeURIComponent(new Date(Date.parse(reviewedAt) - 1).toISOString())}`);
    expect(before).toMatch(/- \*\*Cycle\*\*: 1 \(current\)/);
    expect(before).not.toContain('ended');

    // The new cycle, then another plan.
    await ok(ANALYSE, informal(riskId), users.riskOwner);
    await ok(EVALUATE, { riskId }, users.committee);
    await ok(TREAT, { riskId, options: ['REDUCE'], rationale: 'cold storage, this time for real', targetLikelihood: 1, targetImpact: 1 }, users.committee);
    await ok(CONTROLS, { riskId, controls: controlsB }, users.committee);
    const next = await draftPlan(t, `Next plan ${++n}`);
    const joined = (await ok(ADD, { planId: next, riskId }, users.committee)).addRiskToPlan;
    expect(joined.items).toEqual([{ riskId, consent: 'PENDING' }]);
    expect(await riskInSeveralOpenPlans(t)).toEqual([]);
  }, TIMEOUT);

  it("fixes PlanItem.residualLevel at submission (the treatment's target level) and gives the resolution its log position", async () => {
    const { planId, riskId } = await submittedPlanWithRisk();
    const { plan: submitted } = await t.ok(`query($id: ID!) { plan(id: $id) { status items { riskId residualLevel } } }`, { id: planId }, users.auditor);
    expect(submitted).toEqual({ status: 'SUBMITTED', items: [{ riskId, residualLevel: 'LOW' }] });
    expect((await risk(riskId)).treatment.targetLevel).toBe('LOW');

    const resolved = (await ok(RESOLVE_WITH_POSITION, { planId, resolutionNumber: `BR-P-${++n}`, meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: 'Minutes' }, users.secretary)).recordBoardResolution;
    expect(resolved.resolution.decision).toBe('APPROVED');
    expect(typeof resolved.resolution.position).toBe('string');
    expect(resolved.resolution.position.length).toBeGreaterThan(0);
    // At that position the plan is as the board decided it (APPROVED with its resolution), not
    // between the resolution and the approval recorded with it; the risk as it was approved.
    const at = (await t.ok(`query($id: ID!, $p: String!) { plan(id: $id, atPosition: $p) { status resolution { decision position } items { riskId residualLevel } } }`, { id: planId, p: resolved.resolution.position }, users.auditor)).plan;
    expect(at).toEqual({ status: 'APPROVED', resolution: { decision: 'APPROVED', position: resolved.resolution.position }, items: [{ riskId, residualLevel: 'LOW' }] });
    expect((await t.ok(`query($id: ID!) { plan(id: $id) { resolution { position } } }`, { id: planId }, users.auditor)).plan.resolution.position).toBe(resolved.resolution.position);
  }, TIMEOUT);

  it('the plan document at a rejection\'s position shows what the board rejected; once the new draft changes, the draft (compliance probe F7)', async () => {
    const { planId, riskId } = await submittedPlanWithRisk();
    const rejected = (await ok(RESOLVE_WITH_POSITION, { planId, resolutionNumber: `BR-P-${++n}`, meetingDate: todayInJapan(), decision: 'REJECTED', minutesReference: 'Minutes' }, users.secretary)).recordBoardResolution;
    expect(rejected).toMatchObject({ status: 'DRAFT', revision: 2, resolution: { decision: 'REJECTED' } });
    const doc = async (query = '') => (await fetch(`${t.url}/documents/plans/${planId}.md?lang=en${query}`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text();
    const overview = (md: string, label: string) => md.split('\n').find((line) => line.startsWith(`| ${label} |`));
    for (const md of [await doc(`&atPosition=${rejected.resolution.position}`), await doc()]) {
      expect(overview(md, 'Revision')).toBe('| Revision | revision 2 |');
      expect(overview(md, 'Submitted to the board by')).toBe(`| Submitted to the board by | ${users.committee.sub} |`);
      expect(overview(md, 'Risk criteria at submission (the board decided under them)')).toMatch(/version \d+/);
      expect(overview(md, 'Content of the risks below')).toMatch(/^\| Content of the risks below \| As submitted to the board \(revision 1, /);
      // The residual level submitted, not "the treatment's target" of a draft.
      expect(md).toContain('- **Residual level the owner accepts**: LOW\n');
    }
    // The new draft changed (its only risk taken out, then put back): the draft as it stands.
    await ok(REMOVE, { planId, riskId, reason: 'to be re-planned' }, users.committee);
    await ok(ADD, { planId, riskId }, users.committee);
    const draft = await doc();
    expect(overview(draft, 'Submitted to the board by')).toBe('| Submitted to the board by | not submitted |');
    expect(overview(draft, 'Content of the risks below')).toBe("| Content of the risks below | The draft as it stands at this document's point of the log (not submitted) |");
  }, TIMEOUT);

  it('refuses a board meetingDate before the plan was submitted, naming meetingDate, and appends nothing', async () => {
    const { planId } = await submittedPlanWithRisk();
    const before = await historyLength(planId);
    const error = refusal(await gql(RESOLVE, { planId, resolutionNumber: `BR-OLD-${++n}`, meetingDate: '2020-01-01', decision: 'APPROVED', minutesReference: 'Minutes' }, users.secretary));
    expect(['BAD_USER_INPUT', 'RULE_VIOLATION']).toContain(error.extensions.code);
    if (error.extensions.code === 'BAD_USER_INPUT') expect(Object.keys(error.extensions.fields ?? {})).toContain('meetingDate');
    else expect(`${error.message} ${JSON.stringify(error.extensions)}`).toMatch(/meeting.?date/i);
    expect(await historyLength(planId)).toBe(before);
    expect((await plan(planId)).status).toBe('SUBMITTED');
  }, TIMEOUT);

  it('ControlInput.description omitted: accepted, or BAD_USER_INPUT naming it; never INTERNAL_SERVER_ERROR', async () => {
    const riskId = await riskWithControls(t, asset, `No description ${++n}`);
    const { description: _omitted, ...withoutDescription } = controlsA[0]!;
    const result = await gql(CONTROLS, { riskId, controls: [{ ...withoutDescription, title: 'Hardware security module' }] }, users.committee);
    if (result.errors?.length) {
      const error = result.errors[0]!;
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(`${error.message} ${JSON.stringify(error.extensions)}`).toMatch(/description/);
    } else {
      expect(result.data.decideControls.controls.map((c: any) => c.title)).toEqual(['Hardware security module']);
    }
  }, TIMEOUT);

  it('approving stricter criteria flags an ACCEPTED risk whose accepted target level no longer meets them (needsReevaluation)', async () => {
    // Target (2,2) = MEDIUM: within the acceptance level MEDIUM in force.
    const riskId = (await ok(`mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`,
      { title: `Medium residual ${++n}`, assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub }, users.riskOwner)).identifyRisk.id;
    await ok(ANALYSE, informal(riskId), users.riskOwner);
    await ok(EVALUATE, { riskId }, users.committee);
    await ok(TREAT, { riskId, options: ['REDUCE'], rationale: 'partial controls', targetLikelihood: 2, targetImpact: 2 }, users.committee);
    await ok(CONTROLS, { riskId, controls: controlsA }, users.committee);
    const planId = await draftPlan(t, `Medium plan ${n}`);
    await addRisk(t, planId, riskId);
    await submitAndApprove(t, planId, [riskId], `BR-M-${n}`);
    await ok(ACCEPT, { planId, riskId, statement: 'I accept MEDIUM' }, users.riskOwner);
    const accepted = await waitForRisk(t, riskId, (r) => r.status === 'ACCEPTED');
    expect(accepted.status).toBe('ACCEPTED');
    expect((await risk(riskId)).treatment.targetLevel).toBe('MEDIUM');

    await proposeAndApproveCriteria(t, { ...criteriaInput, acceptanceLevel: 'LOW' });
    const flagged = await waitFor(() => risk(riskId), (r: any) => r.needsReevaluation === true);
    expect(flagged).toMatchObject({ status: 'ACCEPTED', needsReevaluation: true });
    // The plan stays in force (the contract's rule), and its document's consent table says the same as the risk (compliance probe #3).
    const doc = await (await fetch(`${t.url}/documents/plans/${planId}.md?lang=en`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text();
    const row = doc.slice(doc.indexOf("## Risk owners' consent")).split('\n').find((line) => line.startsWith(`| Medium residual ${n} |`))!;
    expect(row).toMatch(/\| MEDIUM; under the risk criteria in force \(version \d+\) it is MEDIUM, above their acceptance level LOW: the risk needs re-evaluation \|/);
  }, TIMEOUT);

  it('criteria that keep the labels but move the target (1, 2) to MEDIUM: acceptance refused, an accepted risk flagged and due at MEDIUM\'s interval (Art.13(1), 20, 12(3))', async () => {
    await proposeAndApproveCriteria(t, { ...criteriaInput }); // acceptance LOW; (1, 2) = LOW
    const treated = async (title: string) => {
      const riskId = await riskWithControls(t, asset, title);
      await ok(TREAT, { riskId, options: ['REDUCE'], rationale: 'cold storage', targetLikelihood: 1, targetImpact: 2 }, users.committee);
      const planId = await draftPlan(t, `${title} plan`);
      await addRisk(t, planId, riskId);
      await submitAndApprove(t, planId, [riskId], `BR-MX-${++n}`);
      return { riskId, planId };
    };
    const accepted = await treated(`Matrix accepted ${++n}`);
    await ok(ACCEPT, { planId: accepted.planId, riskId: accepted.riskId, statement: 'I accept LOW' }, users.riskOwner);
    const asked = await treated(`Matrix asked ${++n}`);
    expect((await risk(asked.riskId)).treatment.targetLevel).toBe('LOW');

    await proposeAndApproveCriteria(t, {
      ...criteriaInput,
      matrix: [
        ['LOW', 'MEDIUM', 'MEDIUM'],
        ['LOW', 'MEDIUM', 'HIGH'],
        ['MEDIUM', 'HIGH', 'HIGH'],
      ],
    });
    const error = refusal(await gql(ACCEPT, { planId: asked.planId, riskId: asked.riskId, statement: 'I accept LOW' }, users.riskOwner));
    expect(error.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'RESIDUAL_ABOVE_ACCEPTANCE' });
    expect(error.message).toContain('MEDIUM (likelihood 1, impact 2; LOW under criteria');
    const flagged = await waitFor(() => risk(accepted.riskId), (r: any) => r.needsReevaluation === true);
    expect(flagged).toMatchObject({ status: 'ACCEPTED', needsReevaluation: true });
    expect(await risk(asked.riskId)).toMatchObject({ status: 'AWAITING_CONSENT', needsReevaluation: true });
    const in200Days = new Date(Date.now() + 200 * 86_400_000).toISOString();
    // The look-ahead's nested fields read the register it read, today's (upgrade probe F2: a risk's
    // incidents under a later asOf refused the whole answer as a time travel to the future).
    const { risksDueForReview } = await t.ok(
      `query($at: DateTime) { risksDueForReview(asOf: $at) { risk { id incidents { id } analyses { incidents { id } } } level intervalDays } overdueControls(asOf: $at) { riskId } }`,
      { at: in200Days },
      users.auditor,
    );
    expect(risksDueForReview.find((d: any) => d.risk.id === accepted.riskId)).toMatchObject({ level: 'MEDIUM', intervalDays: 180, risk: { incidents: [], analyses: [{ incidents: [] }] } });
  }, TIMEOUT);
});
