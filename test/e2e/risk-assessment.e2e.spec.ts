import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { TestApp, errorOf, users } from './support/test-app.js';
import { ANALYSE, EVALUATE, assetWithThreat, baselineResults, identifyRisk, proposeAndApproveCriteria } from './support/scenario.js';

describe('risk identification, analysis and evaluation over GraphQL (Art.13-16)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('identifies a risk with its sources; only the named roles may', async () => {
    const asset = await assetWithThreat(t, 'Hot wallet A', { c: 1, i: 1, a: 1 });
    const risk = await identifyRisk(t, asset);
    expect(risk).toMatchObject({ status: 'IDENTIFIED', cycle: 1, ownerId: 'owner-1', level: null, priority: null, needsReevaluation: false });
    const { risk: read } = await t.ok(`query($id: ID!) { risk(id: $id) { externalReferences assetIds } }`, { id: risk.id }, users.auditor);
    expect(read).toEqual({ externalReferences: ['Coincheck incident, January 2018'], assetIds: [asset.assetId] });
    for (const user of [users.secretary, users.auditor, users.admin]) {
      const r = await t.gql(`mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`, { input: { title: 'x', assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: 'owner-1' } }, user);
      expect(errorOf(r).extensions.code).toBe('FORBIDDEN');
    }
    const wrongVuln = await t.gql(`mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`, { input: { title: 'x', assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: 'nope', ownerId: 'owner-1' } }, users.committee);
    expect(errorOf(wrongVuln).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { vulnerabilityId: expect.any(String) } });
  });

  it('analyses by each method with the contract scoring, and the highest level of the cycle wins', async () => {
    // Asset value 1 (all ratings 1): no method is required.
    const asset = await assetWithThreat(t, 'Hot wallet B', { c: 1, i: 1, a: 1 });
    const risk = await identifyRisk(t, asset);
    // INFORMAL: likelihood 1, impact 2 -> matrix[0][1] = LOW.
    const informal = (await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 1, impact: 2, expert: 'K. Sato', rationale: 'cold storage covers most funds' } } }, users.riskOwner)).analyseRisk;
    expect(informal).toMatchObject({ status: 'ANALYSED', likelihood: 1, impact: 2, level: 'LOW', criteriaNumber: 1 });
    // BASELINE: 40 requirements, 10 NOT_MET, 4 PARTIAL: gap = (10 + 0.5*4)/40 = 0.3 >= 0.25 -> likelihood 2; impact 2 -> matrix[1][1] = MEDIUM.
    const { catalogueId, results, count } = await baselineResults(t, 10, 4);
    expect(count).toBe(40);
    // A baseline analysis answers every requirement of one catalogue version: an unknown id or a missing answer is refused.
    const unknown = errorOf(await t.gql(ANALYSE, { input: { riskId: risk.id, method: 'BASELINE', baseline: { catalogueId, results: [...results, { requirementId: 'NOT-IN-CATALOGUE', status: 'MET' }], impact: 2 } } }, users.committee));
    expect(unknown.extensions.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(unknown.extensions.fields)).toContain('NOT-IN-CATALOGUE');
    expect(errorOf(await t.gql(ANALYSE, { input: { riskId: risk.id, method: 'BASELINE', baseline: { catalogueId, results: results.slice(1), impact: 2 } } }, users.committee)).extensions.code).toBe('BAD_USER_INPUT');
    expect(errorOf(await t.gql(ANALYSE, { input: { riskId: risk.id, method: 'BASELINE', baseline: { catalogueId: 'no-such@1', results, impact: 2 } } }, users.committee)).extensions.code).toBe('NOT_FOUND');
    const baseline = (await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'BASELINE', baseline: { catalogueId, results, impact: 2 } } }, users.committee)).analyseRisk;
    expect(baseline.analyses[1]).toMatchObject({ method: 'BASELINE', likelihood: 2, impact: 2, level: 'MEDIUM', baseline: { gap: 0.3, impact: 2 } });
    expect(baseline.level).toBe('MEDIUM');
    // DETAILED: threat x vulnerability = 3 x 2 = 6 >= 6 -> likelihood 3; asset value over the threat's affects (C=1, I=1) = 1 -> impact 1; matrix[2][0] = MEDIUM.
    const detailed = (await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'DETAILED', detailed: { assessments: [{ assetId: asset.assetId, threatLevel: 3, vulnerabilityLevel: 2 }] } } }, users.ciso)).analyseRisk;
    expect(detailed.analyses[2].detailed.assessments[0]).toMatchObject({ score: 6, likelihood: 3, impact: 1, level: 'MEDIUM' });
    // INFORMAL again: likelihood 3, impact 3 -> HIGH: the highest of the cycle is now HIGH.
    const high = (await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO', rationale: 'worst case' } } }, users.riskOwner)).analyseRisk;
    expect(high).toMatchObject({ level: 'HIGH', likelihood: 3, impact: 3 });
    expect(high.analyses).toHaveLength(4);
    // Someone who is neither the owner, nor committee, nor CISO may not analyse.
    const other = await t.gql(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert: 'x', rationale: 'y' } } }, users.otherOwner);
    expect(errorOf(other).extensions.code).toBe('FORBIDDEN');
    // Only the part for the method: BAD_USER_INPUT naming it.
    const mixed = await t.gql(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert: 'x', rationale: 'y' }, detailed: { assessments: [] } } }, users.riskOwner);
    expect(errorOf(mixed).extensions.code).toBe('BAD_USER_INPUT');
    // Evaluation: HIGH is above the acceptance level LOW -> TO_TREAT with a priority.
    const evaluated = (await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee)).evaluateRisk;
    expect(evaluated).toMatchObject({ status: 'TO_TREAT', level: 'HIGH', evaluation: { decision: 'TO_TREAT', level: 'HIGH', criteriaNumber: 1 } });
    expect(evaluated.priority).toBeGreaterThanOrEqual(1);
  });

  it('refuses evaluation while a method the criteria require has not been applied (Art.13(2)), and wrong roles', async () => {
    // Value 3 (C=3): BASELINE (from 2) and DETAILED (from 3) are required.
    const asset = await assetWithThreat(t, 'Customer ledger', { c: 3, i: 2, a: 1 });
    const risk = await identifyRisk(t, asset, 'Ledger tampering');
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert: 'x', rationale: 'y' } } }, users.riskOwner);
    const refused = errorOf(await t.gql(EVALUATE, { input: { riskId: risk.id } }, users.committee));
    expect(refused.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'REQUIRED_METHOD_NOT_APPLIED', article: 'Art.13(2)' });
    expect(errorOf(await t.gql(EVALUATE, { input: { riskId: risk.id } }, users.riskOwner)).extensions.code).toBe('FORBIDDEN');
    const { catalogueId, results } = await baselineResults(t, 0, 0);
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'BASELINE', baseline: { catalogueId, results, impact: 1 } } }, users.riskOwner);
    expect(errorOf(await t.gql(EVALUATE, { input: { riskId: risk.id } }, users.committee)).extensions.rule).toBe('REQUIRED_METHOD_NOT_APPLIED');
    // DETAILED: 1 x 1 = 1 -> likelihood 1; value over C, I = 3 -> impact 3; matrix[0][2] = MEDIUM.
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'DETAILED', detailed: { assessments: [{ assetId: asset.assetId, threatLevel: 1, vulnerabilityLevel: 1 }] } } }, users.riskOwner);
    const evaluated = (await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.ciso)).evaluateRisk;
    expect(evaluated).toMatchObject({ status: 'TO_TREAT', level: 'MEDIUM' });
  });

  it('answers a retry with the same commandId with the first result (the risk as that command left it), even after later commands, and appends nothing', async () => {
    const asset = await assetWithThreat(t, 'Retried analysis', { c: 1, i: 1, a: 1 });
    const risk = await identifyRisk(t, asset, 'Retried analysis risk');
    const input = { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'x', rationale: 'y' }, commandId: `retry-${risk.id}` };
    const first = (await t.ok(ANALYSE, { input }, users.riskOwner)).analyseRisk;
    expect(first).toMatchObject({ version: 1, status: 'ANALYSED' });
    expect((await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee)).evaluateRisk).toMatchObject({ version: 2, status: 'TO_TREAT' });
    const count = async () => (await t.ok(`{ events(first: 1) { totalCount } }`, {}, users.auditor)).events.totalCount as number;
    const before = await count();
    const retried = (await t.ok(ANALYSE, { input }, users.riskOwner)).analyseRisk;
    expect(retried).toMatchObject({ id: risk.id, version: 1, status: 'ANALYSED', level: first.level });
    expect(await count()).toBe(before);
  });

  it('retains a risk within acceptance, orders the register by priority and filters it', async () => {
    const asset = await assetWithThreat(t, 'Marketing site', { c: 1, i: 1, a: 1 });
    const low = await identifyRisk(t, asset, 'Defacement');
    await t.ok(ANALYSE, { input: { riskId: low.id, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert: 'x', rationale: 'y' } } }, users.riskOwner);
    const retained = (await t.ok(EVALUATE, { input: { riskId: low.id } }, users.committee)).evaluateRisk;
    expect(retained).toMatchObject({ status: 'RETAINED', priority: null });
    const { risks } = await t.ok(`{ risks(first: 50) { totalCount edges { node { id title priority status level } } } }`, {}, users.auditor);
    const prioritised = risks.edges.map((e: any) => e.node).filter((n: any) => n.priority !== null);
    expect(prioritised.map((n: any) => n.priority)).toEqual(prioritised.map((_: any, i: number) => i + 1));
    expect(prioritised[0].level).toBe('HIGH');
    const onlyRetained = (await t.ok(`{ risks(filter: { status: RETAINED }) { edges { node { id } } } }`, {}, users.auditor)).risks;
    expect(onlyRetained.edges.map((e: any) => e.node.id)).toEqual([low.id]);
    const byAsset = (await t.ok(`query($a: ID!) { risks(filter: { assetId: $a }) { totalCount } }`, { a: asset.assetId }, users.auditor)).risks;
    expect(byAsset.totalCount).toBe(1);
    // An empty id or label is refused, not read as no filter (new-user probe 10: every risk came back).
    for (const key of ['assetId', 'ownerId', 'level']) {
      const refused = errorOf(await t.gql(`query($f: RiskFilter) { risks(filter: $f) { totalCount } }`, { f: { [key]: ' ' } }, users.auditor));
      // Ids meet the edge's rule for every id argument (argument-limits.ts); the level, the resolver's.
      expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { [`filter.${key}`]: expect.stringMatching(/^must (name .*|not be blank: an id names an entity) \(leave it out (for every risk|instead)\)$/) } });
    }
    // An owner shown as nothing is no user id (race probe of 2026-12-06, 5): blank, as every id of invisible characters only (F2 of the next);
    // one holding an invisible character among visible ones is no user id.
    const invisible = errorOf(await t.gql(`query($f: RiskFilter) { risks(filter: $f) { totalCount } }`, { f: { ownerId: '\u200b' } }, users.auditor));
    expect(invisible.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'filter.ownerId': 'must not be blank: an id names an entity (leave it out instead)' } });
    const hidden = errorOf(await t.gql(`query($f: RiskFilter) { risks(filter: $f) { totalCount } }`, { f: { ownerId: 'o\u200bwner' } }, users.auditor));
    expect(hidden.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'filter.ownerId': expect.stringMatching(/^must be 1 to 128 printable characters/) } });
    const { heatMap } = await t.ok(`{ heatMap { criteriaNumber total cells { likelihood impact level count } levels { level count } } }`, {}, users.auditor);
    expect(heatMap.criteriaNumber).toBe(1);
    expect(heatMap.cells).toHaveLength(9);
    expect(heatMap.cells.find((c: any) => c.likelihood === 1 && c.impact === 1).count).toBeGreaterThanOrEqual(1);
    expect(heatMap.levels.reduce((n: number, l: any) => n + l.count, 0)).toBe(heatMap.total);
  });

  it('flags earlier evaluations when a new criteria version comes into force, without touching any stored event', async () => {
    const file = join(t.dataDir, 'events.sqlite');
    const snapshot = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT * FROM events ORDER BY position').all();
      } finally {
        db.close();
      }
    };
    const before = snapshot();
    const { risks: flaggedBefore } = await t.ok(`{ risks(filter: { needsReevaluation: true, status: RETAINED }) { totalCount } }`, {}, users.auditor);
    expect(flaggedBefore.totalCount).toBe(0);
    const v2 = await proposeAndApproveCriteria(t, { acceptanceLevel: 'MEDIUM' });
    expect(v2.number).toBe(2);
    const { risks } = await t.ok(`{ risks(filter: { needsReevaluation: true }) { edges { node { id status evaluation { criteriaNumber } } } } }`, {}, users.auditor);
    const evaluated = risks.edges.map((e: any) => e.node).filter((n: any) => n.evaluation);
    expect(evaluated.length).toBeGreaterThanOrEqual(3);
    for (const n of evaluated) expect(n.evaluation.criteriaNumber).toBe(1);
    const after = snapshot();
    expect(after.slice(0, before.length)).toEqual(before);
    // Evaluation uses analyses made under the criteria in force: re-analyse, then re-evaluate; the flag clears.
    const id = evaluated[0].id;
    expect(errorOf(await t.gql(EVALUATE, { input: { riskId: id } }, users.committee)).extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ANALYSIS_REQUIRED' });
    await t.ok(ANALYSE, { input: { riskId: id, method: 'INFORMAL', informal: { likelihood: 2, impact: 2, expert: 'x', rationale: 'under v2' } } }, users.committee);
    const again = (await t.ok(EVALUATE, { input: { riskId: id } }, users.committee)).evaluateRisk;
    expect(again).toMatchObject({ needsReevaluation: false, evaluation: { criteriaNumber: 2 } });
  });

  it('shows the register as it stood before the new criteria', async () => {
    const { events } = await t.ok(`{ events(first: 500, types: ["RiskCriteriaApproved"]) { edges { node { recordedAt } } } }`, {}, users.auditor);
    const secondApproval = events.edges[1].node.recordedAt;
    const justBefore = new Date(new Date(secondApproval).getTime() - 1).toISOString();
    const { heatMap } = await t.ok(`query($at: DateTime) { heatMap(asOf: $at) { criteriaNumber } }`, { at: justBefore }, users.auditor);
    expect(heatMap.criteriaNumber).toBe(1);
    const { risks } = await t.ok(`query($at: DateTime) { risks(asOf: $at, filter: { needsReevaluation: true, status: TO_TREAT }) { totalCount } }`, { at: justBefore }, users.auditor);
    expect(risks.totalCount).toBe(0);
    const { risk } = await t.ok(`query($at: DateTime) { risks(asOf: $at) { totalCount } }`, { at: '2000-01-01T00:00:00Z' }, users.auditor).then((d) => ({ risk: d.risks }));
    expect(risk.totalCount).toBe(0);
  });

  it('pages a list with its own cursors only: one of another filter or point is refused, not paged after (scale probe of 2026-12-06, L1)', async () => {
    const PAGE = `query($f: RiskFilter, $after: String, $at: DateTime) { risks(first: 1, filter: $f, after: $after, asOf: $at) { edges { cursor node { id status needsReevaluation } } } }`;
    const first = (await t.ok(PAGE, {}, users.auditor)).risks.edges[0];
    const second = (await t.ok(PAGE, { after: first.cursor }, users.auditor)).risks.edges[0];
    expect(second.node.id).not.toBe(first.node.id);
    const at = new Date().toISOString();
    const other = [{ f: { status: 'TO_TREAT' } }, { at }, { f: { needsReevaluation: false } }];
    for (const variables of other) {
      const refused = errorOf(await t.gql(PAGE, { ...variables, after: first.cursor }, users.auditor));
      expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { after: expect.stringContaining('another filter, asOf or atPosition') } });
    }
    // The same filter however its fields are ordered, and the same point, page on.
    const { status, needsReevaluation } = first.node;
    const filtered = (await t.ok(PAGE, { f: { status, needsReevaluation } }, users.auditor)).risks.edges[0];
    expect(filtered.node.id).toBe(first.node.id);
    expect((await t.gql(PAGE, { f: { needsReevaluation, status }, after: filtered.cursor }, users.auditor)).errors).toBeUndefined();
    const past = (await t.ok(PAGE, { at }, users.auditor)).risks.edges[0];
    expect((await t.gql(PAGE, { at, after: past.cursor }, users.auditor)).errors).toBeUndefined();
    // The list's fingerprint with a key this list never gave: refused, not paged after (race probe of 2026-12-06, F3).
    const [tag, key] = Buffer.from(first.cursor, 'base64url').toString('utf8').split('~') as [string, string];
    const fields = key.split('|');
    const forged = ['', '0|abc|x|notadate|id', [...fields.slice(0, 4), '\u0000'].join('|'), [...fields.slice(0, 3), 'yesterday', fields[4]].join('|')];
    for (const bad of forged) {
      const refused = errorOf(await t.gql(PAGE, { after: Buffer.from(`${tag}~${bad}`, 'utf8').toString('base64url') }, users.auditor));
      expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { after: 'is not a cursor of this list' } });
    }
    // Its own key, encoded again, pages on.
    expect((await t.ok(PAGE, { after: Buffer.from(`${tag}~${key}`, 'utf8').toString('base64url') }, users.auditor)).risks.edges[0].node.id).toBe(second.node.id);
  });
});
