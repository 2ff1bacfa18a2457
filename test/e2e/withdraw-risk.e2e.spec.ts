import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from './support/test-app.js';
import { ANALYSE, EVALUATE, assetWithThreat, identifyRisk, proposeAndApproveCriteria } from './support/scenario.js';

/**
 * A risk identified in error or twice could only be closed by avoiding it, which retired its
 * assets, so it stayed IDENTIFIED in the register for good (compliance probe M8). withdrawRisk
 * closes it before any treatment, with its reason, leaving its assets and its history as they are.
 */
const WITHDRAW = `mutation($input: WithdrawRiskInput!) { withdrawRisk(input: $input) { id status closedReason closedAt withdrawalReason withdrawnBy } }`;
const TREAT = `mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { status } }`;

describe('withdrawRisk', () => {
  let t: TestApp;
  let asset: { assetId: string; threatId: string; vulnerabilityId: string };
  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
    asset = await assetWithThreat(t, 'Signing server', { c: 1, i: 1, a: 1 });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('closes a risk identified twice, with why and by whom; the asset stays; nothing more is done on it', async () => {
    const duplicate = await identifyRisk(t, asset, 'Theft of the signing key (again)');
    const { withdrawRisk } = await t.ok(WITHDRAW, { input: { riskId: duplicate.id, reason: 'Identified twice' } }, users.committee);
    expect(withdrawRisk).toMatchObject({ status: 'CLOSED', closedReason: 'WITHDRAWN', withdrawalReason: 'Identified twice', withdrawnBy: users.committee.sub, closedAt: expect.any(String) });
    // Again: already withdrawn, nothing appended.
    const history = async () => (await t.ok(`query($id: ID!) { history(id: $id) { type } }`, { id: duplicate.id }, users.auditor)).history.map((e: any) => e.type);
    const before = await history();
    expect((await t.ok(WITHDRAW, { input: { riskId: duplicate.id, reason: 'Identified twice' } }, users.ciso)).withdrawRisk.withdrawalReason).toBe('Identified twice');
    // Another reason is refused, not answered as done with it dropped (probes of 2026-12-06).
    expect(errorOf(await t.gql(WITHDRAW, { input: { riskId: duplicate.id, reason: 'again' } }, users.ciso)).extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'RISK_CLOSED' });
    expect(await history()).toEqual(before);
    expect((await t.ok(`query($id: ID!) { asset(id: $id) { status } }`, { id: asset.assetId }, users.auditor)).asset.status).toBe('ACTIVE');
    const analysed = await t.gql(ANALYSE, { input: { riskId: duplicate.id, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert: 'x', rationale: 'y' } } }, users.riskOwner);
    expect(errorOf(analysed).extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'RISK_CLOSED' });
    expect(errorOf(await t.gql(WITHDRAW, { input: { riskId: duplicate.id, reason: 'x' } }, users.auditor)).extensions.code).toBe('FORBIDDEN');
    expect(errorOf(await t.gql(WITHDRAW, { input: { riskId: duplicate.id, reason: ' ' } }, users.committee)).extensions.code).toBe('BAD_USER_INPUT');
  });

  it('races a treatment of the same risk: one wins, the other is refused, never both (16 pairs in flight)', async () => {
    const outcomes: string[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async (_, k) => {
        const risk = await identifyRisk(t, asset, `Race ${k}`);
        await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO', rationale: 'r' } } }, users.riskOwner);
        await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee);
        const [withdrawn, treated] = await Promise.all([
          t.gql(WITHDRAW, { input: { riskId: risk.id, reason: 'In error' } }, users.ciso),
          t.gql(TREAT, { input: { riskId: risk.id, options: ['REDUCE'], rationale: 'r', targetLikelihood: 1, targetImpact: 1 } }, users.committee),
        ]);
        const w = withdrawn.errors ? errorOf(withdrawn).extensions.rule : 'withdrawn';
        const d = treated.errors ? errorOf(treated).extensions.rule : 'treated';
        outcomes.push(`${w}/${d}`);
        const { risk: now } = await t.ok(`query($id: ID!) { risk(id: $id) { status } }`, { id: risk.id }, users.auditor);
        expect(now.status).toBe(w === 'withdrawn' ? 'CLOSED' : 'TREATMENT_DECIDED');
      }),
    );
    for (const o of outcomes) expect(['withdrawn/RISK_CLOSED', 'RISK_NOT_WITHDRAWABLE/treated']).toContain(o);
  });
});
