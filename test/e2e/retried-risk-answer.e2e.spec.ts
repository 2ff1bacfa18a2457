/**
 * A retried risk command answers what its first request answered: the risk as it stood at the
 * point that answer stood at (the key's acknowledgement, for a command found satisfied), with its
 * analyses and flags then (review of 2026-12-07, M5: RiskCommandPipeline answered a duplicate with
 * the state of then and the register's lists and flags of now: a retry of a satisfied evaluateRisk,
 * sent after a new analysis, answered the old status with two analyses and needsReevaluation true,
 * a risk that never existed).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, users } from './support/test-app.js';
import { ANALYSE, assetWithThreat, identifyRisk, proposeAndApproveCriteria } from './support/scenario.js';

const EVALUATE = `mutation($input: RiskRefInput!) { evaluateRisk(input: $input) { id version status needsReevaluation analyses { id } } }`;

let t: TestApp;

describe('a risk command retried after the risk moved on', () => {
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => t?.close());

  it('answers what its first request answered, satisfied (acknowledged) or appended', async () => {
    await proposeAndApproveCriteria(t);
    const asset = await assetWithThreat(t, 'Signing server', { c: 1, i: 1, a: 1 });
    const risk = await identifyRisk(t, asset, 'Key theft');
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert: 'committee', rationale: 'r' } } }, users.riskOwner);
    const appended = (await t.ok(EVALUATE, { input: { riskId: risk.id, commandId: 'eval-0' } }, users.committee)).evaluateRisk;
    // The same evaluation again under a new key: satisfied, its key recorded with the risk's version.
    const satisfied = (await t.ok(EVALUATE, { input: { riskId: risk.id, commandId: 'eval-1' } }, users.committee)).evaluateRisk;
    expect(satisfied.analyses).toHaveLength(1);
    expect(satisfied.needsReevaluation).toBe(false);
    // The risk moves on: a second analysis.
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'committee', rationale: 'again' } } }, users.riskOwner);
    expect((await t.ok(EVALUATE, { input: { riskId: risk.id, commandId: 'eval-1' } }, users.committee)).evaluateRisk).toEqual(satisfied);
    expect((await t.ok(EVALUATE, { input: { riskId: risk.id, commandId: 'eval-0' } }, users.committee)).evaluateRisk).toEqual(appended);
  });
});
