import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from './support/test-app.js';
import { ANALYSE, EVALUATE, assetWithThreat, identifyRisk, proposeAndApproveCriteria } from './support/scenario.js';

/**
 * Avoidance (Art.17(2)) gives up "the business or the asset": the committee names which of the
 * risk's assets leave the inventory (retiredAssetIds). Every asset of the risk was retired until
 * 2026-12-06, so a customer database still used by spot trading read as retired once OTC
 * trading was given up, no risk or threat could be recorded on it, and every other risk on it was
 * flagged (compliance probe H1).
 */
const AVOID = `mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { status } }`;
const ASSET = `query($id: ID!) { asset(id: $id) { status retiredAt } }`;
const RISK = `query($id: ID!) { risk(id: $id) { status assetsRetired needsReevaluation } }`;

describe('an avoidance names the assets it retires', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A risk on the asset, analysed HIGH and evaluated TO_TREAT. */
  async function toTreat(asset: { assetId: string; threatId: string; vulnerabilityId: string }, title: string): Promise<string> {
    const risk = await identifyRisk(t, asset, title);
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO', rationale: 'shared database' } } }, users.riskOwner);
    expect((await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee)).evaluateRisk.evaluation.decision).toBe('TO_TREAT');
    return risk.id;
  }

  it('keeps an asset other business still uses, retires it when named, and refuses an asset of another risk', async () => {
    const customers = await assetWithThreat(t, 'Customer database (shared)', { c: 1, i: 1, a: 1 });
    const elsewhere = await assetWithThreat(t, 'Unrelated ledger', { c: 1, i: 1, a: 1 });
    const otc = await toTreat(customers, 'Leak through the OTC desk');
    const spot = await toTreat(customers, 'Tampering in spot trading');
    const avoid = (riskId: string, retiredAssetIds?: string[]) =>
      t.gql(AVOID, { input: { riskId, options: ['AVOID'], rationale: 'OTC trading ends; the database stays for spot trading', targetLikelihood: 1, targetImpact: 1, ...(retiredAssetIds ? { retiredAssetIds } : {}) } }, users.committee);

    const refused = await avoid(otc, [elsewhere.assetId]);
    expect(errorOf(refused).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'retiredAssetIds[0]': expect.stringMatching(/not an asset of risk/) } });

    expect((await avoid(otc, [])).data!.decideTreatment.status).toBe('CLOSED');
    expect((await t.ok(ASSET, { id: customers.assetId }, users.auditor)).asset).toEqual({ status: 'ACTIVE', retiredAt: null });
    expect((await t.ok(RISK, { id: spot }, users.auditor)).risk).toEqual({ status: 'TO_TREAT', assetsRetired: false, needsReevaluation: false });
    // Still in the inventory: a new risk can be identified on it.
    expect((await identifyRisk(t, customers, 'Phishing of the spot desk')).status).toBe('IDENTIFIED');

    // Named: it leaves the inventory with the avoidance.
    expect((await avoid(spot, [customers.assetId])).data!.decideTreatment.status).toBe('CLOSED');
    expect((await t.ok(ASSET, { id: customers.assetId }, users.auditor)).asset.status).toBe('RETIRED');
  });
});
