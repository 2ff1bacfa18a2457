/**
 * Assets read whole and the result budget (review of 2026-12-07, H1): an asset holds up to
 * 1,000,000 characters of threats (ASSET_TOO_LARGE), and `assets(first)` and `asset(id)` read and
 * parse its whole record, threats included, whatever fields are selected. Only `Asset.threats` was
 * charged, so 40 aliases of `assets(first: 60) { edges { node { id } } }` over 60 such assets read
 * ~1.2 GB for a 33 KB answer in 47.8 s, with /health/live held up to 2.3 s, and 99 aliases of
 * `asset(id) { name }` were answered. A page of assets is charged now as a page of risks is (its
 * stored assets' text, refused while it is read once past the budget), as is `asset(id)`, and the
 * threats of an asset so charged are not charged again.
 * The budget is lowered to about two assets, as result-budget-lists' tests do.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { resultBudget } from '../../src/graphql/result-budget.js';
import { TestApp, users } from './support/test-app.js';

const ASSETS = 4;
const THREATS = 10; // of 10,000 characters each: ~100,000 characters per asset

describe('result budget: pages of assets and assets read whole', () => {
  let t: TestApp;
  const ids: string[] = [];
  const saved = resultBudget.bytes;

  beforeAll(async () => {
    t = await TestApp.start();
    for (let a = 0; a < ASSETS; a++) {
      const { registerAsset } = await t.ok(`mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`, { i: { name: `Large ${a}`, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 } }, users.opsManager);
      ids.push(registerAsset.id);
      for (let i = 0; i < THREATS; i++) {
        await t.ok(`mutation($i: IdentifyThreatInput!) { identifyThreat(input: $i) { id } }`, { i: { assetId: registerAsset.id, name: `T${i}`, description: 'x'.repeat(10_000), affects: ['CONFIDENTIALITY'] } }, users.opsManager);
      }
    }
    // Room for about two assets' records.
    resultBudget.bytes = 250_000;
  }, 120_000);

  afterAll(async () => {
    resultBudget.bytes = saved;
    await t?.close();
  });

  it('charges a page of assets for the records it reads, not only when threats are selected', async () => {
    const withThreats = await t.gql(`{ assets(first: 10) { edges { node { id threats { id } } } } }`, {}, users.auditor);
    expect(withThreats.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    // The same rows read ten times over (~4 MB of asset records against a 250 KB budget).
    const aliases = Array.from({ length: 10 }, (_, i) => `a${i}: assets(first: 10) { edges { node { id } } }`).join(' ');
    const idsOnly = await t.gql(`{ ${aliases} }`, {}, users.auditor);
    expect(idsOnly.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(idsOnly.errors?.[0]?.message).toMatch(/^This page of assets holds more than 0\.2 MB \(3 assets read of 4\)/);
  });

  it('answers a page within the budget with its threats, charged once', async () => {
    // The page reads two records (one more tells whether there is a next page): ~200 KB charged,
    // and its asset's threats, charged again, would pass the budget.
    const page = await t.gql(`{ assets(first: 1) { edges { node { id threats { id } } } } }`, {}, users.auditor);
    expect(page.errors).toBeUndefined();
    expect(page.data.assets.edges.map((e: { node: { threats: unknown[] } }) => e.node.threats.length)).toEqual([THREATS]);
  });

  it('charges asset(id) for the record it reads', async () => {
    const one = await t.gql(`query($id: ID!) { asset(id: $id) { name threats { id } } }`, { id: ids[0] }, users.auditor);
    expect(one.errors).toBeUndefined();
    expect(one.data.asset.threats).toHaveLength(THREATS);
    const aliases = ids.map((id, i) => `a${i}: asset(id: "${id}") { name }`).join(' ');
    const names = await t.gql(`{ ${aliases} }`, {}, users.auditor);
    expect(names.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });
});
