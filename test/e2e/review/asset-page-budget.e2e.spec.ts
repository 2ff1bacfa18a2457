/**
 * Review of 2026-12-07 (516702c, 92ab2c5): Asset.threats is charged to the result budget, and one
 * asset holds up to ASSET_TOO_LARGE (1,000,000 characters of threats). But a page of assets reads
 * and parses every asset's whole record, threats included, whatever fields are selected, and
 * charges nothing unless threats are selected: aliases of assets(first: 500) { edges { node { id } } }
 * read up to 500 MB-class rows each, never refused (risks(first) charges its page's characters).
 * Script proof: /tmp/review/scripts/asset-page-budget.mjs (60 assets at the cap: one page, id only,
 * 0.9 s; 40 aliases of it, 47.8 s, /health/live held up to 2.3 s, no QUERY_TOO_COMPLEX).
 * The budget is lowered as the other result-budget tests do.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { resultBudget } from '../../../src/graphql/result-budget.js';
import { TestApp, users } from '../support/test-app.js';

const ASSETS = 4;
const THREATS = 10; // of 10,000 characters each: ~100,000 characters per asset

describe('a page of large assets and the result budget', () => {
  let t: TestApp;
  const saved = resultBudget.bytes;
  beforeAll(async () => {
    t = await TestApp.start();
    for (let a = 0; a < ASSETS; a++) {
      const { registerAsset } = await t.ok(`mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`, { i: { name: `Large ${a}`, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 } }, users.opsManager);
      for (let i = 0; i < THREATS; i++) {
        await t.ok(`mutation($i: IdentifyThreatInput!) { identifyThreat(input: $i) { id } }`, { i: { assetId: registerAsset.id, name: `T${i}`, description: 'x'.repeat(10_000), affects: ['CONFIDENTIALITY'] } }, users.opsManager);
      }
    }
    // Room for about two assets' threats.
    resultBudget.bytes = 250_000;
  }, 120_000);
  afterAll(async () => {
    resultBudget.bytes = saved;
    await t?.close();
  });

  it('is charged for what it reads, not only when threats are selected', async () => {
    const withThreats = await t.gql(`{ assets(first: 10) { edges { node { id threats { id } } } } }`, {}, users.auditor);
    expect(withThreats.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    // The same rows read ten times over (~4 MB of asset records against a 250 KB budget).
    const aliases = Array.from({ length: 10 }, (_, i) => `a${i}: assets(first: 10) { edges { node { id } } }`).join(' ');
    const idsOnly = await t.gql(`{ ${aliases} }`, {}, users.auditor);
    expect(idsOnly.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });
});
