/**
 * Art. 20 ("explain the plan and the risk to be accepted fully to each risk owner, and obtain their
 * agreement") through the real application (SQLite file, HTTP): the committee records the
 * explanation (explainResidualRisk), pinned to the risk's state; the owner's agreement stays their
 * own; the plan document shows both; refusals change nothing; explanations and the owner's answer
 * sent together are each recorded once and leave plan and risk agreeing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users, type TestUser } from './support/test-app.js';
import { todayInJapan } from './support/scenario.js';
import { logHead, quiesce } from '../concurrency/support.js';
import { ACCEPT, DRAFT, approvedPlan, type ApprovedPlan } from './documents/plan-scenario.js';

const ITEM = 'riskId consent consentRecord { riskVersion riskStateHash } explanations { planRevision ownerId explainedBy explainedOn summary riskVersion riskStateHash residualLevel recordedAt }';
const EXPLAIN = `mutation($input: ExplainResidualRiskInput!) { explainResidualRisk(input: $input) { id status items { ${ITEM} } } }`;
const SUMMARY = '情報の安全管理計画書（第1版）と受容する残留リスク（LOW）を説明し、質疑に回答した';

describe('the explanation to each risk owner (Art.20)', () => {
  let t: TestApp;
  let plan: ApprovedPlan;

  beforeAll(async () => {
    t = await TestApp.start();
    plan = await approvedPlan(t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const explain = (input: Record<string, unknown>, user: TestUser = users.committee) =>
    t.gql(EXPLAIN, { input: { planId: plan.planId, riskId: plan.riskId, explainedOn: todayInJapan(), summary: SUMMARY, ...input } }, user);
  const planNow = async (asOf?: string) => (await t.ok(`query($id: ID!, $asOf: DateTime) { plan(id: $id, asOf: $asOf) { status items { ${ITEM} } } }`, { id: plan.planId, asOf }, users.auditor)).plan;
  const document = async () => {
    const response = await fetch(`${t.url}/documents/plans/${plan.planId}.md`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const day = (offset: number) => new Date(Date.parse(`${todayInJapan()}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);

  it('refuses what is not the committee\'s to record, or not true of the plan, and appends nothing', async () => {
    await quiesce(t, await logHead(t));
    const head = await logHead(t);
    expect(errorOf(await explain({}, users.riskOwner)).extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(errorOf(await explain({}, users.auditor)).extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(errorOf(await explain({}, users.secretary)).extensions).toMatchObject({ code: 'FORBIDDEN' });
    const future = errorOf(await explain({ explainedOn: day(1) }));
    expect(future.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { explainedOn: expect.stringContaining('must not be after') } });
    // The board met today: an explanation of what it approved cannot come before.
    const early = errorOf(await explain({ explainedOn: day(-1) }));
    expect(early.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { explainedOn: expect.stringContaining('board meeting') } });
    expect(errorOf(await explain({ explainedOn: '2026-13-01' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(errorOf(await explain({ summary: ' \u200b ' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(errorOf(await explain({ riskId: 'no-such-risk' })).extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect(errorOf(await explain({ planId: 'no-such-plan' })).extensions).toMatchObject({ code: 'NOT_FOUND' });
    const draft = (await t.ok(DRAFT, { input: { title: '説明前の草案', period: '令和9年度' } }, users.committee)).draftPlan;
    const afterDraft = await logHead(t);
    expect(errorOf(await explain({ planId: draft.id })).extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect(await logHead(t)).toBe(afterDraft);
    expect(head).not.toBe(afterDraft);
    expect((await planNow()).items[0].explanations).toEqual([]);
  });

  it('records who explained, the day and what, pinned to the state the owner then accepts; sent again, nothing more', async () => {
    const before = new Date().toISOString();
    const recorded = (await explain({})).data!.explainResidualRisk;
    expect(recorded.status).toBe('APPROVED');
    const [item] = recorded.items;
    expect(item.consent).toBe('PENDING');
    expect(item.explanations).toEqual([
      expect.objectContaining({ planRevision: 1, ownerId: users.riskOwner.sub, explainedBy: users.committee.sub, explainedOn: todayInJapan(), summary: SUMMARY, residualLevel: 'LOW', riskStateHash: expect.stringMatching(/^[0-9a-f]{64}$/) }),
    ]);
    const head = await logHead(t);
    expect((await explain({})).data!.explainResidualRisk.items[0].explanations).toHaveLength(1);
    expect(await logHead(t)).toBe(head);

    const accepted = (await t.ok(ACCEPT, { input: { planId: plan.planId, riskId: plan.riskId, statement: '説明を受け、了解しました' } }, users.riskOwner)).acceptResidualRisk;
    expect(accepted.status).toBe('IN_FORCE');
    const now = await planNow();
    // The state explained is the state accepted.
    expect(now.items[0].explanations[0].riskStateHash).toBe(now.items[0].consentRecord.riskStateHash);
    expect(now.items[0].explanations[0].riskVersion).toBeLessThanOrEqual(now.items[0].consentRecord.riskVersion + 1);
    // Before it was recorded, the plan had none (asOf folds the log).
    expect((await planNow(before)).items[0].explanations).toEqual([]);

    const md = await document();
    expect(md).toContain('説明（第20条）');
    // With the instant it was recorded: before the owner's answer, so not marked as after it.
    expect(md).toContain(`${users.committee.sub}から${users.riskOwner.sub}へ（計画の第1版、リスクの版 ${now.items[0].explanations[0].riskVersion}、`);
    expect(md).toMatch(new RegExp(`リスクの版 ${now.items[0].explanations[0].riskVersion}、令和\\d+年\\d{1,2}月\\d{1,2}日（\\d{4}-\\d{2}-\\d{2}）\\d{2}:\\d{2}:\\d{2} JSTに記録）：${SUMMARY}`));
    expect(md).not.toContain('より後の記録');
    expect(md).toContain('説明を受け、了解しました');
  });

  it('16 explanations in flight at once, two of each, with the owner withdrawing the consent: each recorded once, plan and risk agree', async () => {
    const summaries = Array.from({ length: 8 }, (_, n) => `追加説明 ${n + 1}：管理策の期限と残留リスクの再確認`);
    const decline = t.gql(`mutation($input: DeclineResidualRiskInput!) { declineResidualRisk(input: $input) { id } }`, { input: { planId: plan.planId, riskId: plan.riskId, reason: '説明を受け、再検討を求めます' } }, users.riskOwner);
    const answers = await Promise.all([decline, ...[...summaries, ...summaries].map((summary) => explain({ summary }))]);
    for (const a of answers) expect(a.errors).toBeUndefined();
    await quiesce(t, await logHead(t));
    const now = await planNow();
    const recorded = now.items[0].explanations.map((e: { summary: string }) => e.summary);
    expect(recorded.filter((s: string) => summaries.includes(s)).sort()).toEqual([...summaries].sort());
    expect(recorded).toHaveLength(summaries.length + 1);
    // The decline is the owner's answer, whatever the explanations around it: the plan left force.
    expect(now).toMatchObject({ status: 'APPROVED', items: [{ consent: 'DECLINED' }] });
    // The document marks those recorded after the answer, and only those (auditor probe of 2026-12-06, F2).
    expect((await explain({ summary: '辞退の後に改めて説明した' })).errors).toBeUndefined();
    const { declinedAt, explanations } = (await t.ok(`query($id: ID!) { plan(id: $id) { items { declinedAt explanations { recordedAt } } } }`, { id: plan.planId }, users.auditor)).plan.items[0];
    const afterAnswer = explanations.filter((e: { recordedAt: string }) => e.recordedAt > declinedAt).length;
    expect(afterAnswer).toBeGreaterThanOrEqual(1);
    expect((await document()).split('より後の記録').length - 1).toBe(afterAnswer);
    const { risk } = await t.ok(`query($id: ID!) { risk(id: $id) { status consent { planId status } } }`, { id: plan.riskId }, users.auditor);
    expect(risk).toMatchObject({ status: 'TO_TREAT', consent: { planId: plan.planId, status: 'DECLINED' } });
  });

  it('the same words to the risk\'s new owner are recorded as an explanation to them, and the document names whom (probe of 2026-12-06, H1, M1)', async () => {
    await t.ok(`mutation($input: ReassignRiskOwnerInput!) { reassignRiskOwner(input: $input) { ownerId } }`, { input: { riskId: plan.riskId, ownerId: users.otherOwner.sub } }, users.committee);
    await quiesce(t, await logHead(t));
    const head = await logHead(t);
    const items = (await explain({})).data!.explainResidualRisk.items;
    expect(await logHead(t)).not.toBe(head);
    const toNewOwner = items[0].explanations.filter((e: { ownerId: string; summary: string }) => e.ownerId === users.otherOwner.sub && e.summary === SUMMARY);
    expect(toNewOwner).toHaveLength(1);
    expect(toNewOwner[0].riskStateHash).not.toBe(items[0].explanations[0].riskStateHash);
    const md = await document();
    expect(md).toContain(`${users.committee.sub}から${users.otherOwner.sub}へ`);
    expect(md).toContain(`${users.committee.sub}から${users.riskOwner.sub}へ`);
  });
});
