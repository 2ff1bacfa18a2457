/** A plan approved by the board, in Japanese, with a SHARE treatment: what the documents tests render. */
import { TestApp, users } from '../support/test-app.js';
import { ANALYSE, EVALUATE, RISK_FIELDS, assetWithThreat, identifyRisk, proposeAndApproveCriteria, todayInJapan } from '../support/scenario.js';

export const PLAN_FIELDS = `id version revision status title items { riskId consent } resolution { resolutionNumber decision position }`;
export const DRAFT = `mutation($input: DraftPlanInput!) { draftPlan(input: $input) { ${PLAN_FIELDS} } }`;
export const ADD = `mutation($input: PlanRiskInput!) { addRiskToPlan(input: $input) { ${PLAN_FIELDS} } }`;
export const SUBMIT = `mutation($input: PlanRefInput!) { submitPlan(input: $input) { ${PLAN_FIELDS} } }`;
export const RESOLVE = `mutation($input: RecordBoardResolutionInput!) { recordBoardResolution(input: $input) { ${PLAN_FIELDS} } }`;
export const ACCEPT = `mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { ${PLAN_FIELDS} } }`;
export const TREAT = `mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { ${RISK_FIELDS} } }`;
export const CONTROLS = `mutation($input: DecideControlsInput!) { decideControls(input: $input) { ${RISK_FIELDS} } }`;

/** A reason with a quote, a comma and a line break: CSV must quote it, Markdown must keep it on one line. */
export const TRICKY_REASON = '秘密鍵を"分割"して保管する,\n単独の盗難で資金が動かないため';
export const COUNTERPARTY = '東京海上日動火災保険株式会社';
export const CONTRACT = 'サイバー保険 証券番号 CY-2026-001';
export const PLAN_TITLE = '令和8年度 情報セキュリティ管理計画';

export interface ApprovedPlan {
  planId: string;
  riskId: string;
  submittedAt: string;
  submissionPosition: string;
  resolutionPosition: string;
  resolutionNumber: string;
}

export async function approvedPlan(t: TestApp): Promise<ApprovedPlan> {
  await proposeAndApproveCriteria(t);
  const asset = await assetWithThreat(t, 'ホットウォレット署名サーバ', { c: 1, i: 1, a: 1 });
  const risk = await identifyRisk(t, asset, 'ホットウォレット秘密鍵の窃取');
  await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: '情報セキュリティ委員', rationale: '他社の流出事案（2018年）' } } }, users.riskOwner);
  await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee);
  await t.ok(
    TREAT,
    { input: { riskId: risk.id, options: ['REDUCE', 'SHARE'], rationale: 'コールドウォレット移管とサイバー保険', targetLikelihood: 1, targetImpact: 1, counterparty: COUNTERPARTY, contractReference: CONTRACT } },
    users.committee,
  );
  await t.ok(
    CONTROLS,
    {
      input: {
        riskId: risk.id,
        controls: [
          { title: 'マルチシグ出金', description: '3鍵中2鍵の承認 | 別々の役員が保管', ownerId: 'ops-lead', dueDate: '2027-03-31', reason: TRICKY_REASON, reference: 'JVCEA-6-05' },
          { title: 'コールドウォレットへの移管', description: '日次でホットウォレットを上限まで掃き出す', ownerId: 'ops-lead', dueDate: '2027-06-30', reason: 'ホットウォレットの残高を上限内に保つ' },
        ],
      },
    },
    users.committee,
  );
  const plan = (await t.ok(DRAFT, { input: { title: PLAN_TITLE, period: '令和8年度' } }, users.committee)).draftPlan;
  await t.ok(ADD, { input: { planId: plan.id, riskId: risk.id } }, users.committee);
  await t.ok(SUBMIT, { input: { planId: plan.id } }, users.committee);
  const resolved = (await t.ok(RESOLVE, { input: { planId: plan.id, resolutionNumber: '取締役会決議第12号', meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: '議事録 2026-11' } }, users.secretary)).recordBoardResolution;
  const { events } = await t.ok(`{ events(first: 500) { edges { node { position type streamId recordedAt } } } }`, {}, users.auditor);
  const submitted = events.edges.map((e: any) => e.node).find((e: any) => e.type === 'PlanSubmitted' && e.streamId === `plan-${plan.id}`);
  return { planId: plan.id, riskId: risk.id, submittedAt: submitted.recordedAt, submissionPosition: submitted.position, resolutionPosition: resolved.resolution.position, resolutionNumber: '取締役会決議第12号' };
}
