/**
 * The contract's table "Who may do what" (api-contract.md), row by row: every role the row does
 * not name is answered FORBIDDEN, on a target the roles it names could act on now, and nothing is
 * appended. (What the named roles may then do, and the rules after the role, are the other e2e
 * files' subject.) An AUDITOR is refused every mutation; accessLog and verifyIntegrity are for
 * AUDITOR and CISO. The second round's mutations too (plan withdrawal, closing and removal,
 * control progress, context, incidents, comments, token revocation, verifyAccessLog), with the
 * roles the contract and the README give them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, users, type TestUser } from './support/test-app.js';
import { ANALYSE, EVALUATE, assetWithThreat, criteriaInput, identifyRisk, proposeAndApproveCriteria, todayInJapan } from './support/scenario.js';

type Role = keyof typeof users;
const ALL: Role[] = ['opsManager', 'financeManager', 'ciso', 'committee', 'riskOwner', 'otherOwner', 'secretary', 'auditor', 'admin'];
const except = (...allowed: Role[]) => ALL.filter((r) => !allowed.includes(r));

interface Row {
  name: string;
  query: string;
  variables: () => Record<string, unknown>;
  refused: Role[];
}

describe('who may do what (the contract table): every other role is FORBIDDEN and appends nothing', () => {
  let t: TestApp;
  const ids = {} as { assetId: string; threatId: string; vulnerabilityId: string; riskId: string; freeRiskId: string; draftPlanId: string; submittedPlanId: string; approvedPlanId: string; approvedRiskId: string; proposedCriteriaId: string; itemPlanId: string; itemRiskId: string; controlId: string; incidentId: string };

  /** A risk analysed, evaluated TO_TREAT, treated and with controls decided: ready for a plan. */
  async function riskWithControls(title: string): Promise<string> {
    const asset = await assetWithThreat(t, `${title} asset`, { c: 1, i: 1, a: 1 });
    const risk = await identifyRisk(t, asset, title);
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'x', rationale: 'y' } } }, users.riskOwner);
    await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee);
    await t.ok(`mutation($i: DecideTreatmentInput!) { decideTreatment(input: $i) { id } }`, { i: { riskId: risk.id, options: ['REDUCE'], rationale: 'r', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
    await t.ok(`mutation($i: DecideControlsInput!) { decideControls(input: $i) { id } }`, { i: { riskId: risk.id, controls: [{ title: 'Cold storage', description: 'd', ownerId: 'ops', dueDate: '2099-01-01', reason: 'limits losses' }] } }, users.committee);
    return risk.id as string;
  }

  async function planWith(riskId: string, title: string): Promise<string> {
    const { draftPlan } = await t.ok(`mutation($t: String!) { draftPlan(input: { title: $t, period: "FY2026" }) { id } }`, { t: title }, users.committee);
    await t.ok(`mutation($p: ID!, $r: ID!) { addRiskToPlan(input: { planId: $p, riskId: $r }) { id } }`, { p: draftPlan.id, r: riskId }, users.committee);
    return draftPlan.id as string;
  }

  const submit = (planId: string) => t.ok(`mutation($p: ID!) { submitPlan(input: { planId: $p }) { id } }`, { p: planId }, users.committee);

  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
    const { proposeRiskCriteria } = await t.ok(`mutation($input: ProposeRiskCriteriaInput!) { proposeRiskCriteria(input: $input) { id } }`, { input: criteriaInput }, users.committee);
    ids.proposedCriteriaId = proposeRiskCriteria.id;
    const asset = await assetWithThreat(t, 'Matrix wallet', { c: 2, i: 2, a: 1 });
    Object.assign(ids, asset);
    const risk = await identifyRisk(t, asset, 'Matrix risk');
    ids.riskId = risk.id;
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 2, impact: 2, expert: 'x', rationale: 'y' } } }, users.riskOwner);
    ids.freeRiskId = await riskWithControls('Free risk');
    ids.controlId = (await t.ok(`query($r: ID!) { risk(id: $r) { controls { id } } }`, { r: ids.freeRiskId }, users.auditor)).risk.controls[0].id;
    ids.itemRiskId = await riskWithControls('Item risk');
    ids.itemPlanId = await planWith(ids.itemRiskId, 'Draft with an item');
    ids.incidentId = (await t.ok(`mutation { recordIncident(input: { title: "Exchange hack", organisation: "Another exchange", occurredOn: "2024-05-31", description: "Hot wallet drained" }) { id } }`, {}, users.committee)).recordIncident.id;
    ids.draftPlanId = (await t.ok(`mutation { draftPlan(input: { title: "Draft", period: "FY2026" }) { id } }`, {}, users.committee)).draftPlan.id;
    ids.submittedPlanId = await planWith(await riskWithControls('Submitted risk'), 'Submitted');
    await submit(ids.submittedPlanId);
    ids.approvedRiskId = await riskWithControls('Approved risk');
    ids.approvedPlanId = await planWith(ids.approvedRiskId, 'Approved');
    await submit(ids.approvedPlanId);
    await t.ok(
      `mutation($p: ID!, $d: String!) { recordBoardResolution(input: { planId: $p, resolutionNumber: "BR-9", meetingDate: $d, decision: APPROVED, minutesReference: "M-9" }) { id } }`,
      { p: ids.approvedPlanId, d: todayInJapan() },
      users.secretary,
    );
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  const M = (field: string, inputType: string) => `mutation($i: ${inputType}!) { ${field}(input: $i) { __typename } }`;
  const rows: Row[] = [
    { name: 'registerAsset', query: M('registerAsset', 'RegisterAssetInput'), variables: () => ({ i: { name: 'Not allowed', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 } }), refused: except('opsManager', 'ciso') },
    { name: 'identifyThreat', query: M('identifyThreat', 'IdentifyThreatInput'), variables: () => ({ i: { assetId: ids.assetId, name: 'Another threat', affects: ['INTEGRITY'] } }), refused: except('opsManager', 'ciso') },
    { name: 'identifyVulnerability', query: M('identifyVulnerability', 'IdentifyVulnerabilityInput'), variables: () => ({ i: { assetId: ids.assetId, threatId: ids.threatId, name: 'Another weakness' } }), refused: except('opsManager', 'ciso') },
    { name: 'reassignAssetManager', query: M('reassignAssetManager', 'ReassignAssetManagerInput'), variables: () => ({ i: { assetId: ids.assetId, managerId: 'someone-else' } }), refused: except('opsManager', 'ciso') },
    { name: 'retireAsset', query: M('retireAsset', 'RetireAssetInput'), variables: () => ({ i: { assetId: ids.assetId, reason: 'decommissioned' } }), refused: except('opsManager', 'ciso') },
    { name: 'proposeRiskCriteria', query: M('proposeRiskCriteria', 'ProposeRiskCriteriaInput'), variables: () => ({ i: criteriaInput }), refused: except('committee', 'ciso') },
    { name: 'importBaselineCatalogue', query: M('importBaselineCatalogue', 'ImportBaselineCatalogueInput'), variables: () => ({ i: { name: 'Matrix catalogue', version: '1', requirements: [{ id: 'R1', title: 'A requirement', statement: 'Do it', reference: 'Art.15' }] } }), refused: except('committee', 'ciso') },
    // CISO only, never the proposer: the proposer here is a COMMITTEE_MEMBER, so every other role is refused.
    { name: 'approveRiskCriteria', query: M('approveRiskCriteria', 'ApproveRiskCriteriaInput'), variables: () => ({ i: { criteriaId: ids.proposedCriteriaId } }), refused: except('ciso') },
    { name: 'identifyRisk', query: M('identifyRisk', 'IdentifyRiskInput'), variables: () => ({ i: { title: 'Not allowed', assetIds: [ids.assetId], threatId: ids.threatId, vulnerabilityId: ids.vulnerabilityId, ownerId: 'owner-1' } }), refused: except('riskOwner', 'otherOwner', 'opsManager', 'committee', 'ciso') },
    { name: 'analyseRisk', query: M('analyseRisk', 'AnalyseRiskInput'), variables: () => ({ i: { riskId: ids.riskId, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert: 'x', rationale: 'y' } } }), refused: except('riskOwner', 'committee', 'ciso') },
    { name: 'recordReview', query: M('recordReview', 'RecordReviewInput'), variables: () => ({ i: { riskId: ids.approvedRiskId, controlsInPlace: false, actualLikelihood: 3, actualImpact: 3 } }), refused: except('riskOwner', 'committee', 'ciso') },
    { name: 'evaluateRisk', query: M('evaluateRisk', 'RiskRefInput'), variables: () => ({ i: { riskId: ids.riskId } }), refused: except('committee', 'ciso') },
    { name: 'decideTreatment', query: M('decideTreatment', 'DecideTreatmentInput'), variables: () => ({ i: { riskId: ids.freeRiskId, options: ['REDUCE'], rationale: 'again', targetLikelihood: 1, targetImpact: 2 } }), refused: except('committee', 'ciso') },
    { name: 'decideControls', query: M('decideControls', 'DecideControlsInput'), variables: () => ({ i: { riskId: ids.freeRiskId, controls: [{ title: 'Another control', description: 'd', ownerId: 'ops', dueDate: '2099-01-01', reason: 'r' }] } }), refused: except('committee', 'ciso') },
    { name: 'draftPlan', query: M('draftPlan', 'DraftPlanInput'), variables: () => ({ i: { title: 'Not allowed', period: 'FY2027' } }), refused: except('committee', 'ciso') },
    { name: 'addRiskToPlan', query: M('addRiskToPlan', 'PlanRiskInput'), variables: () => ({ i: { planId: ids.draftPlanId, riskId: ids.freeRiskId } }), refused: except('committee', 'ciso') },
    { name: 'submitPlan', query: M('submitPlan', 'PlanRefInput'), variables: () => ({ i: { planId: ids.draftPlanId } }), refused: except('committee', 'ciso') },
    // BOARD_SECRETARY only (never the drafter: the drafter is a COMMITTEE_MEMBER here).
    { name: 'recordBoardResolution', query: M('recordBoardResolution', 'RecordBoardResolutionInput'), variables: () => ({ i: { planId: ids.submittedPlanId, resolutionNumber: 'BR-1', meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: 'M-1' } }), refused: except('secretary') },
    // The owner of that risk, no one else (owner-1 owns every risk here).
    { name: 'acceptResidualRisk', query: M('acceptResidualRisk', 'AcceptResidualRiskInput'), variables: () => ({ i: { planId: ids.approvedPlanId, riskId: ids.approvedRiskId, statement: 'ok' } }), refused: except('riskOwner') },
    { name: 'declineResidualRisk', query: M('declineResidualRisk', 'DeclineResidualRiskInput'), variables: () => ({ i: { planId: ids.approvedPlanId, riskId: ids.approvedRiskId, reason: 'no' } }), refused: except('riskOwner') },
    // Second round.
    { name: 'withdrawPlan', query: M('withdrawPlan', 'WithdrawPlanInput'), variables: () => ({ i: { planId: ids.submittedPlanId, reason: 'to be changed' } }), refused: except('committee', 'ciso') },
    { name: 'closePlan', query: M('closePlan', 'ClosePlanInput'), variables: () => ({ i: { planId: ids.approvedPlanId, reason: 'period over' } }), refused: except('committee', 'ciso') },
    { name: 'removeRiskFromPlan', query: M('removeRiskFromPlan', 'RemoveRiskFromPlanInput'), variables: () => ({ i: { planId: ids.itemPlanId, riskId: ids.itemRiskId, reason: 'not this year' } }), refused: except('committee', 'ciso') },
    // The control's owner (user "ops", none of these), COMMITTEE_MEMBER, CISO: not the risk's owner.
    { name: 'recordControlProgress', query: M('recordControlProgress', 'RecordControlProgressInput'), variables: () => ({ i: { riskId: ids.freeRiskId, controlId: ids.controlId, status: 'IN_PROGRESS', progressPercent: 10 } }), refused: except('committee', 'ciso') },
    { name: 'recordContext', query: M('recordContext', 'RecordContextInput'), variables: () => ({ i: { period: 'FY2026', scope: 'Exchange', internalIssues: ['Staff'], externalIssues: ['Regulation'], interestedParties: ['Customers'] } }), refused: except('committee', 'ciso') },
    // Any role but AUDITOR (ADMIN included: README, Evidence files and comments).
    { name: 'recordIncident', query: M('recordIncident', 'RecordIncidentInput'), variables: () => ({ i: { title: 'Another hack', organisation: 'Another exchange', occurredOn: '2024-06-01', description: 'd' } }), refused: ['auditor'] },
    { name: 'addComment', query: M('addComment', 'AddCommentInput'), variables: () => ({ i: { entityId: ids.riskId, text: 'A note' } }), refused: ['auditor'] },
    { name: 'linkIncidentToRisk', query: M('linkIncidentToRisk', 'LinkIncidentToRiskInput'), variables: () => ({ i: { incidentId: ids.incidentId, riskId: ids.riskId } }), refused: except('riskOwner', 'committee', 'ciso') },
    { name: 'revokeTokens', query: M('revokeTokens', 'RevokeTokensInput'), variables: () => ({ i: { subject: 'mallory', reason: 'left' } }), refused: except('admin') },
    { name: 'verifyAccessLog', query: `{ verifyAccessLog { ok } }`, variables: () => ({}), refused: except('auditor', 'ciso') },
    { name: 'rebuildProjections', query: `mutation { rebuildProjections(input: {}) { __typename } }`, variables: () => ({}), refused: except('admin') },
    { name: 'accessLog', query: `{ accessLog(first: 1) { edges { cursor } } }`, variables: () => ({}), refused: except('auditor', 'ciso') },
    { name: 'verifyIntegrity', query: `{ verifyIntegrity { ok } }`, variables: () => ({}), refused: except('auditor', 'ciso') },
  ];

  it.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const head = async () => (await t.ok(`{ verifyIntegrity { eventsChecked } }`, {}, users.auditor)).verifyIntegrity.eventsChecked as number;
    const before = await head();
    const answers: Record<string, string> = {};
    for (const role of row.refused) {
      const result = await t.gql(row.query, row.variables(), users[role] as TestUser);
      answers[role] = result.errors?.[0]?.extensions?.code ?? 'ANSWERED';
    }
    expect(answers).toEqual(Object.fromEntries(row.refused.map((r) => [r, 'FORBIDDEN'])));
    expect(await head()).toBe(before);
  });
});
