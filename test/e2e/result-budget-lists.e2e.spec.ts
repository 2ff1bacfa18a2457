/**
 * The unpaged lists the result budget did not charge (hostile probe of 2026-12-07, F2): an asset's
 * threats (with their vulnerabilities), a risk's analyses and the evidence attached to an entity
 * have no limit in number, and their aliases gave a 466 MB answer, or HTTP 500
 * INTERNAL_SERVER_ERROR (RangeError: Invalid string length in the answer's JSON), and three such
 * requests at once took the process out of memory. They are charged now as history, comments and
 * a risk's controls are: past the request's budget QUERY_TOO_COMPLEX, within it answered in full.
 * The budget is lowered to a few of these lists (each ~16 KB here), as hostile-input's tests do.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { resultBudget } from '../../src/graphql/result-budget.js';
import { TestApp, users, type GraphQLResponse } from './support/test-app.js';
import { assetWithThreat, identifyRisk, proposeAndApproveCriteria } from './support/scenario.js';

const TEXT = 5_000; // characters of each threat's, analysis's or attachment's text
const PER_LIST = 3; // threats (besides the scenario's one), analyses, attachments

describe('result budget: threats, analyses and evidence lists', () => {
  let t: TestApp;
  let assetId: string;
  let riskId: string;
  const saved = resultBudget.bytes;

  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
    const asset = await assetWithThreat(t, 'Budgeted asset', { c: 1, i: 1, a: 1 });
    assetId = asset.assetId;
    riskId = (await identifyRisk(t, asset, 'Budgeted risk')).id;
    for (let i = 0; i < PER_LIST; i++) {
      await t.ok(`mutation($i: IdentifyThreatInput!) { identifyThreat(input: $i) { id } }`, { i: { assetId, name: `Threat ${i}`, description: 't'.repeat(TEXT), affects: ['CONFIDENTIALITY'] } }, users.opsManager);
      await t.ok(`mutation($i: AnalyseRiskInput!) { analyseRisk(input: $i) { id } }`, { i: { riskId, method: 'INFORMAL', informal: { likelihood: 2, impact: 1, expert: 'CISO office', rationale: `${i} ${'r'.repeat(TEXT)}` } } }, users.riskOwner);
      const upload = await fetch(`${t.url}/evidence`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await t.token(users.committee)}`, 'content-type': 'text/plain', 'x-filename': `note-${i}.txt` },
        body: `evidence ${randomUUID()}\n`,
      });
      expect(upload.status).toBe(201);
      const evidenceId = ((await upload.json()) as { id: string }).id;
      await t.ok(`mutation($i: AttachEvidenceInput!) { attachEvidence(input: $i) { id } }`, { i: { entityId: riskId, evidenceId, description: 'e'.repeat(TEXT) } }, users.committee);
    }
  }, 60_000);
  afterEach(() => {
    resultBudget.bytes = saved;
  });
  afterAll(async () => {
    await t.close();
  });

  const lists = () => ({
    // asset(id) is charged its whole record, threats included (review of 2026-12-07, H1): its threats are not charged again.
    threats: { field: `asset(id: "${assetId}") { threats { id description vulnerabilities { id name } } }`, what: /asset\(.*\) passed it/, items: (d: any) => d?.threats.length, count: PER_LIST + 1 },
    analyses: { field: `risk(id: "${riskId}") { analyses { id informal { rationale } } }`, what: /analyses of risk .* passed it/, items: (d: any) => d?.analyses.length, count: PER_LIST },
    evidence: { field: `evidence(entityId: "${riskId}") { id description }`, what: /evidence\(.*\) passed it/, items: (d: any) => d?.length, count: PER_LIST },
  });
  const aliases = (field: string, n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
  const codes = (result: GraphQLResponse) => new Set((result.errors ?? []).map((e) => e.extensions?.code));

  it.each(['threats', 'analyses', 'evidence'] as const)('%s: aliases within the budget are answered in full, past it QUERY_TOO_COMPLEX naming the list, never INTERNAL_SERVER_ERROR', async (name) => {
    const list = lists()[name];
    resultBudget.bytes = 60_000; // three lists of ~16 KB
    const within = await t.gql(aliases(list.field, 3), {}, users.auditor);
    expect(within.errors).toBeUndefined();
    for (let i = 0; i < 3; i++) expect([i, list.items(within.data[`a${i}`])]).toEqual([i, list.count]);

    const past = await t.gql(aliases(list.field, 12), {}, users.auditor);
    expect(codes(past)).toEqual(new Set(['QUERY_TOO_COMPLEX']));
    expect(past.errors?.[0]?.message).toMatch(list.what);
    if (name === 'evidence') {
      // evidence(entityId) is a non-null list: a refused alias takes the answer's data with it.
      expect(past.data).toBeNull();
    } else {
      // asset and risk are nullable: the aliases within the budget are answered, the others null.
      expect(list.items(past.data?.a0)).toBe(list.count);
      expect(past.data?.a11).toBeNull();
    }
    // The budget is the request's: the next request within it is answered.
    expect((await t.gql(aliases(list.field, 2), {}, users.auditor)).errors).toBeUndefined();
  }, 60_000);

  it.each([
    ['reviews', (): string => `{ risk(id: "${riskId}") { reviews { id } } }`, /reviews of risk .* passed it/],
    ['plans', (): string => '{ plans(first: 10) { edges { node { id items { riskId } } } } }', /\(plans passed it\)/],
    ['controlsDocument.entries', (): string => '{ controlsDocument { entries { riskId } } }', /controlsDocument.entries passed it/],
    ['riskCriteriaVersions', (): string => '{ riskCriteriaVersions { id } }', /riskCriteriaVersions passed it/],
  ] as const)('charges %s to the same budget', async (_name, query, what) => {
    await t.ok(`mutation { draftPlan(input: { title: "Budgeted plan ${randomUUID()}", period: "FY2026" }) { id } }`, {}, users.committee);
    expect((await t.gql(query(), {}, users.auditor)).errors).toBeUndefined();
    resultBudget.bytes = 1; // each is past it once read
    const result = await t.gql(query(), {}, users.auditor);
    expect(codes(result)).toEqual(new Set(['QUERY_TOO_COMPLEX']));
    expect(result.errors?.[0]?.message).toMatch(what);
  }, 60_000);
});
