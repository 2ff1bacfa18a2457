import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { resultBudget } from '../../src/graphql/result-budget.js';
import { TestApp, errorOf, users } from './support/test-app.js';
import { assetWithThreat, proposeAndApproveCriteria, todayInJapan } from './support/scenario.js';

const CONTEXT_FIELDS = 'id version period scope internalIssues externalIssues interestedParties recordedBy recordedAt';
const RECORD_CONTEXT = `mutation($input: RecordContextInput!) { recordContext(input: $input) { ${CONTEXT_FIELDS} } }`;
const CONTEXT = `query($asOf: DateTime, $atPosition: String) { context(asOf: $asOf, atPosition: $atPosition) { ${CONTEXT_FIELDS} } }`;
const HISTORY = `query($id: ID!) { history(id: $id) { type streamId revision position data } }`;

const INCIDENT_FIELDS = 'id version title organisation occurredOn description sources recordedBy recordedAt riskIds';
const RECORD_INCIDENT = `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { ${INCIDENT_FIELDS} } }`;
const INCIDENTS = `query($first: Int, $after: String) { incidents(first: $first, after: $after) { totalCount edges { cursor node { id title } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
const LINK = `mutation($input: LinkIncidentToRiskInput!) { linkIncidentToRisk(input: $input) { id version incidents { id title } } }`;
const UNLINK = `mutation($input: UnlinkIncidentFromRiskInput!) { unlinkIncidentFromRisk(input: $input) { id incidents { id } } }`;
const RISK_INCIDENTS = `query($id: ID!, $asOf: DateTime) { risk(id: $id, asOf: $asOf) { id incidents { id title organisation } } }`;
const ANALYSE = `mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id analyses { id incidentIds incidents { id title } } } }`;

const context = (over: Record<string, unknown> = {}) => ({
  period: '2026年度',
  scope: '暗号資産の受託・売買業務（カストディ部門・システム部門）',
  internalIssues: ['ホットウォレットの署名鍵が単一データセンターにある', 'Key ceremony knowledge held by two engineers'],
  externalIssues: ['JVCEA 情報セキュリティ管理規則', 'Phishing campaigns against exchange staff'],
  interestedParties: ['顧客', '金融庁', 'JVCEA'],
  ...over,
});

const incident = (title: string, over: Record<string, unknown> = {}) => ({
  title,
  organisation: 'Coincheck',
  occurredOn: '2018-01-26',
  description: 'NEM was sent out of a hot wallet whose single key was stolen.',
  sources: ['FSA business improvement order, 2018-01-29'],
  ...over,
});

/** A risk on a new asset of value 1, owned by `owner` (only the fields this suite reads). */
async function identifyRisk(t: TestApp, asset: { assetId: string; threatId: string; vulnerabilityId: string }, title: string, owner = users.riskOwner) {
  const input = { title, assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: owner.sub };
  return (await t.ok(`mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id version title } }`, { input }, owner)).identifyRisk;
}

const pause = () => new Promise((r) => setTimeout(r, 15));

describe("the organisation's context (Art.12(1)) and incidents at other firms (Art.15(3)) over GraphQL", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('keeps the context as versions: the same content again is no new version; context(asOf) answers the version in force then', async () => {
    expect((await t.ok(CONTEXT, {}, users.auditor)).context).toBeNull();
    const beforeAny = new Date().toISOString();
    await pause();
    const v1 = (await t.ok(RECORD_CONTEXT, { input: context() }, users.committee)).recordContext;
    expect(v1).toMatchObject({ id: 'organisation', version: 1, period: '2026年度', recordedBy: 'committee-1', interestedParties: ['顧客', '金融庁', 'JVCEA'] });
    // The same content again, by someone else, with a commandId: no new version.
    const again = (await t.ok(RECORD_CONTEXT, { input: { ...context(), commandId: 'ctx-again' } }, users.ciso)).recordContext;
    expect(again).toEqual(v1);

    await pause();
    const between = new Date().toISOString();
    await pause();
    const v2 = (await t.ok(RECORD_CONTEXT, { input: { ...context({ externalIssues: [...context().externalIssues, '他社のホットウォレット流出事案'] }), expectedVersion: 1 } }, users.ciso)).recordContext;
    expect(v2).toMatchObject({ version: 2, recordedBy: 'ciso' });
    expect(v2.externalIssues).toHaveLength(3);

    expect((await t.ok(CONTEXT, {}, users.riskOwner)).context).toEqual(v2);
    expect((await t.ok(CONTEXT, { asOf: between }, users.auditor)).context).toEqual(v1);
    expect((await t.ok(CONTEXT, { asOf: beforeAny }, users.auditor)).context).toBeNull();
    const { contextVersions } = await t.ok(`{ contextVersions { version } }`, {}, users.auditor);
    expect(contextVersions).toEqual([{ version: 1 }, { version: 2 }]);

    // history(id) holds every version; atPosition of the first answers it.
    const { history } = await t.ok(HISTORY, { id: 'organisation' }, users.auditor);
    expect(history.map((e: any) => [e.type, e.streamId, e.data.version])).toEqual([
      ['ContextRecorded', 'context-organisation', 1],
      ['ContextRecorded', 'context-organisation', 2],
    ]);
    expect((await t.ok(CONTEXT, { atPosition: history[0].position }, users.auditor)).context).toEqual(v1);

    // The register's context section (Art.12(1), compliance probe L8): the versions recorded by the point, each list one item per line.
    const csv = async (query: string) => {
      const response = await fetch(`${t.url}/documents/register.csv?section=context${query}`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } });
      expect(response.status).toBe(200);
      return parse(Buffer.from(await response.arrayBuffer()), { bom: true, columns: true }) as Record<string, string>[];
    };
    expect((await csv('')).map((r) => [r['版'], r['記録者'], r['外部の課題（第12条第1項）']])).toEqual([
      ['1', 'committee-1', v1.externalIssues.map((i: string) => `・${i}`).join('\n')],
      ['2', 'ciso', v2.externalIssues.map((i: string) => `・${i}`).join('\n')],
    ]);
    expect((await csv(`&atPosition=${history[0].position}`)).map((r) => r['版'])).toEqual(['1']);

    // A client that read version 1 is told that version 2 came since.
    const stale = await t.gql(RECORD_CONTEXT, { input: { ...context({ period: 'FY2027' }), expectedVersion: 1 } }, users.committee);
    expect(errorOf(stale).extensions).toMatchObject({ code: 'CONCURRENCY_CONFLICT', expectedVersion: 1, actualVersion: 2 });
  });

  it('refuses other roles, an auditor and bad input, appending nothing', async () => {
    for (const user of [users.riskOwner, users.secretary, users.opsManager, users.auditor, users.admin]) {
      expect(errorOf(await t.gql(RECORD_CONTEXT, { input: context({ period: 'x' }) }, user)).extensions.code).toBe('FORBIDDEN');
    }
    const bad = await t.gql(RECORD_CONTEXT, { input: context({ period: ' ', internalIssues: [], externalIssues: ['a', 'a'] }) }, users.committee);
    expect(errorOf(bad).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { period: expect.any(String), internalIssues: expect.any(String), 'externalIssues[1]': expect.any(String) } });
    // Repeats differ only by case or width (auditor finding F10.2): refused as asset names are.
    const folded = await t.gql(RECORD_CONTEXT, { input: context({ internalIssues: ['x', 'X'], externalIssues: ['ｘ', 'x'], interestedParties: ['JVCEA', 'ｊｖｃｅａ'] }) }, users.committee);
    expect(errorOf(folded).extensions).toEqual({
      code: 'BAD_USER_INPUT',
      fields: { 'internalIssues[1]': expect.stringMatching(/^repeats internalIssues\[0\]/), 'externalIssues[1]': expect.stringMatching(/^repeats externalIssues\[0\]/), 'interestedParties[1]': expect.stringMatching(/^repeats interestedParties\[0\]/) },
    });
    expect((await t.ok(HISTORY, { id: 'organisation' }, users.auditor)).history).toHaveLength(2);
  });

  it('records incidents, lists them with paging, links one to two risks, and an analysis cites it', async () => {
    const a = (await t.ok(RECORD_INCIDENT, { input: incident('ホットウォレット秘密鍵の流出') }, users.opsManager)).recordIncident;
    expect(a).toMatchObject({ version: 0, organisation: 'Coincheck', occurredOn: '2018-01-26', recordedBy: 'mgr-ops', riskIds: [] });
    const b = (await t.ok(RECORD_INCIDENT, { input: incident('Zaif hot wallet breach', { organisation: 'Tech Bureau', occurredOn: '2018-09-14', sources: null }) }, users.riskOwner)).recordIncident;
    expect(b.sources).toEqual([]);
    const c = (await t.ok(RECORD_INCIDENT, { input: incident('DMM Bitcoin outflow', { organisation: 'DMM Bitcoin', occurredOn: todayInJapan() }) }, users.secretary)).recordIncident;

    const page1 = (await t.ok(INCIDENTS, { first: 2 }, users.auditor)).incidents;
    expect(page1.totalCount).toBe(3);
    expect(page1.edges.map((e: any) => e.node.id)).toEqual([a.id, b.id]);
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const page2 = (await t.ok(INCIDENTS, { first: 2, after: page1.pageInfo.endCursor }, users.auditor)).incidents;
    expect(page2.edges.map((e: any) => e.node.id)).toEqual([c.id]);
    expect(page2.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(errorOf(await t.gql(INCIDENTS, { after: 'bm90LWEtY3Vyc29y' }, users.auditor)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { after: expect.any(String) } });

    const risk1 = await identifyRisk(t, await assetWithThreat(t, 'Hot wallet 1', { c: 1, i: 1, a: 1 }), 'Key theft 1');
    const risk2 = await identifyRisk(t, await assetWithThreat(t, 'Hot wallet 2', { c: 1, i: 1, a: 1 }), 'Key theft 2', users.otherOwner);

    // The risk's owner links to their risk; a committee member to any.
    const linked1 = (await t.ok(LINK, { input: { incidentId: a.id, riskId: risk1.id } }, users.riskOwner)).linkIncidentToRisk;
    expect(linked1).toMatchObject({ id: risk1.id, version: risk1.version, incidents: [{ id: a.id, title: 'ホットウォレット秘密鍵の流出' }] });
    await t.ok(LINK, { input: { incidentId: a.id, riskId: risk2.id, expectedVersion: 1 } }, users.committee);
    const { incident: readA } = await t.ok(`query($id: ID!) { incident(id: $id) { version riskIds risks { id title } } }`, { id: a.id }, users.auditor);
    expect(readA).toEqual({ version: 2, riskIds: [risk1.id, risk2.id], risks: [{ id: risk1.id, title: 'Key theft 1' }, { id: risk2.id, title: 'Key theft 2' }] });
    expect((await t.ok(RISK_INCIDENTS, { id: risk2.id }, users.riskOwner)).risk.incidents).toEqual([{ id: a.id, title: 'ホットウォレット秘密鍵の流出', organisation: 'Coincheck' }]);

    // Refusals: another owner, an auditor, unknown ids, a stale incident version.
    expect(errorOf(await t.gql(LINK, { input: { incidentId: b.id, riskId: risk1.id } }, users.otherOwner)).extensions.code).toBe('FORBIDDEN');
    expect(errorOf(await t.gql(LINK, { input: { incidentId: b.id, riskId: risk1.id } }, users.auditor)).extensions.code).toBe('FORBIDDEN');
    expect(errorOf(await t.gql(LINK, { input: { incidentId: 'nope', riskId: risk1.id } }, users.committee)).extensions.code).toBe('NOT_FOUND');
    expect(errorOf(await t.gql(LINK, { input: { incidentId: b.id, riskId: 'nope' } }, users.committee)).extensions.code).toBe('NOT_FOUND');
    expect(errorOf(await t.gql(LINK, { input: { incidentId: a.id, riskId: risk1.id, expectedVersion: 0 } }, users.committee)).extensions).toMatchObject({ code: 'CONCURRENCY_CONFLICT', actualVersion: 2 });

    // An analysis cites the incident; an unknown one is refused naming the field, appending nothing.
    const analysed = (await t.ok(ANALYSE, { input: { riskId: risk1.id, method: 'INFORMAL', informal: { likelihood: 2, impact: 2, expert: 'K. Sato', rationale: 'as at Coincheck' }, incidentIds: [a.id] } }, users.riskOwner)).analyseRisk;
    expect(analysed.analyses).toEqual([{ id: expect.any(String), incidentIds: [a.id], incidents: [{ id: a.id, title: 'ホットウォレット秘密鍵の流出' }] }]);
    const countAnalyses = async () => (await t.ok(HISTORY, { id: risk1.id }, users.auditor)).history.filter((e: any) => e.type === 'RiskAnalysed').length;
    const before = await countAnalyses();
    const unknown = await t.gql(ANALYSE, { input: { riskId: risk1.id, method: 'INFORMAL', informal: { likelihood: 2, impact: 2, expert: 'K. Sato', rationale: 'x' }, incidentIds: [a.id, 'no-such-incident'] } }, users.riskOwner);
    expect(errorOf(unknown).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'incidentIds[1]': expect.stringMatching(/not a recorded incident/) } });
    expect(await countAnalyses()).toBe(before);
    const { history: riskHistory } = await t.ok(HISTORY, { id: risk1.id }, users.auditor);
    expect(riskHistory.find((e: any) => e.type === 'RiskAnalysed').data.incidentIds).toEqual([a.id]);

    // An auditor records nothing.
    expect(errorOf(await t.gql(RECORD_INCIDENT, { input: incident('x') }, users.auditor)).extensions.code).toBe('FORBIDDEN');
    const future = await t.gql(RECORD_INCIDENT, { input: incident('x', { occurredOn: '2999-01-01' }) }, users.committee);
    expect(errorOf(future).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { occurredOn: expect.any(String) } });
    expect(errorOf(await t.gql(RECORD_INCIDENT, { input: incident('x', { occurredOn: '2018-02-30' }) }, users.committee)).extensions.fields).toHaveProperty('occurredOn');
    expect((await t.ok(INCIDENTS, {}, users.auditor)).incidents.totalCount).toBe(3);
  });

  it('unlinks with a reason; history(id) and asOf reads show the links as they were', async () => {
    const a = (await t.ok(RECORD_INCIDENT, { input: incident('Bitpoint hot wallet breach', { organisation: 'Bitpoint', occurredOn: '2019-07-11' }) }, users.committee)).recordIncident;
    const risk = await identifyRisk(t, await assetWithThreat(t, 'Hot wallet 3', { c: 1, i: 1, a: 1 }), 'Key theft 3');
    await t.ok(LINK, { input: { incidentId: a.id, riskId: risk.id } }, users.ciso);
    await pause();
    const between = new Date().toISOString();
    await pause();
    expect((await t.ok(UNLINK, { input: { incidentId: a.id, riskId: risk.id, reason: 'Different attack path' } }, users.riskOwner)).unlinkIncidentFromRisk.incidents).toEqual([]);
    // The same unlink again (a retry) is already satisfied; another reason is refused, the unlink
    // standing (it was answered as done, the reason recorded nowhere).
    await t.ok(UNLINK, { input: { incidentId: a.id, riskId: risk.id, reason: 'Different attack path' } }, users.riskOwner);
    const again = errorOf(await t.gql(UNLINK, { input: { incidentId: a.id, riskId: risk.id, reason: 'again' } }, users.riskOwner));
    expect(again.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'INCIDENT_NOT_LINKED', article: 'Art.15(3)' });
    expect(again.message).toMatch(/unlinked from risk .* already \(by owner-1 at .*\) for another reason/);

    expect((await t.ok(RISK_INCIDENTS, { id: risk.id }, users.auditor)).risk.incidents).toEqual([]);
    expect((await t.ok(RISK_INCIDENTS, { id: risk.id, asOf: between }, users.auditor)).risk.incidents.map((i: any) => i.id)).toEqual([a.id]);
    const { risks } = await t.ok(`query($asOf: DateTime) { risks(asOf: $asOf, first: 500) { edges { node { id incidents { id } } } } }`, { asOf: between }, users.auditor);
    expect(risks.edges.find((e: any) => e.node.id === risk.id).node.incidents).toEqual([{ id: a.id }]);
    const { incident: then } = await t.ok(`query($id: ID!, $asOf: DateTime) { incident(id: $id, asOf: $asOf) { riskIds risks { id incidents { id } } } }`, { id: a.id, asOf: between }, users.auditor);
    expect(then).toEqual({ riskIds: [risk.id], risks: [{ id: risk.id, incidents: [{ id: a.id }] }] });

    const { history } = await t.ok(HISTORY, { id: a.id }, users.auditor);
    expect(history.map((e: any) => e.type)).toEqual(['IncidentRecorded', 'IncidentLinkedToRisk', 'IncidentUnlinkedFromRisk']);
    expect(history[2].data).toMatchObject({ riskId: risk.id, reason: 'Different attack path', unlinkedBy: 'owner-1' });
  });

  it('16 clients linking the same incident to the same risk at once end with one link', async () => {
    const a = (await t.ok(RECORD_INCIDENT, { input: { ...incident('Liquid hot wallet breach', { organisation: 'Liquid', occurredOn: '2021-08-19' }), commandId: 'liquid-1' } }, users.committee)).recordIncident;
    // A retry with the same commandId answers the same incident and records nothing new.
    const retried = (await t.ok(RECORD_INCIDENT, { input: { ...incident('Liquid hot wallet breach', { organisation: 'Liquid', occurredOn: '2021-08-19' }), commandId: 'liquid-1' } }, users.committee)).recordIncident;
    expect(retried).toEqual(a);
    const risk = await identifyRisk(t, await assetWithThreat(t, 'Hot wallet 4', { c: 1, i: 1, a: 1 }), 'Key theft 4');
    const results = await Promise.all(Array.from({ length: 16 }, (_, k) => t.gql(LINK, { input: { incidentId: a.id, riskId: risk.id } }, k % 2 ? users.committee : users.ciso)));
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expect(r.data.linkIncidentToRisk.incidents).toEqual([{ id: a.id, title: 'Liquid hot wallet breach' }]);
    }
    const { history } = await t.ok(HISTORY, { id: a.id }, users.auditor);
    expect(history.map((e: any) => e.type)).toEqual(['IncidentRecorded', 'IncidentLinkedToRisk']);
    const { events } = await t.ok(`{ events(first: 500, types: ["IncidentRecorded"]) { edges { node { data } } } }`, {}, users.auditor);
    expect(events.edges.filter((e: any) => e.node.data.title === 'Liquid hot wallet breach')).toHaveLength(1);
    expect((await t.ok(RISK_INCIDENTS, { id: risk.id }, users.auditor)).risk.incidents.map((i: any) => i.id)).toEqual([a.id]);
  });

  it("an incident's risks, a risk's incidents and an analysis's incidents count against the request's linked entities (priced at 50 a list)", async () => {
    const a = (await t.ok(RECORD_INCIDENT, { input: incident('FTX collapse', { organisation: 'FTX Japan', occurredOn: '2022-11-11' }) }, users.committee)).recordIncident;
    const risks: string[] = [];
    for (let k = 0; k < 60; k++) risks.push((await identifyRisk(t, await assetWithThreat(t, `Linked wallet ${k}`, { c: 1, i: 1, a: 1 }), `Linked risk ${k}`)).id);
    for (const riskId of risks) await t.ok(LINK, { input: { incidentId: a.id, riskId } }, users.committee);
    const risksOf = (aliases: number, selection = 'id') => `query($id: ID!) { ${Array.from({ length: aliases }, (_, k) => `a${k}: incident(id: $id) { risks { ${selection} } }`).join(' ')} }`;
    // Completed in turns of 50, in linking order.
    expect((await t.ok(risksOf(1), { id: a.id }, users.auditor)).a0.risks.map((r: any) => r.id)).toEqual(risks);

    const saved = resultBudget.linkedEntities;
    resultBudget.linkedEntities = 100;
    try {
      // One list of 60 fits; a second alias passes 100 and is refused, naming the list.
      const two = await t.gql(risksOf(2), { id: a.id }, users.auditor);
      expect(two.data?.a0?.risks).toHaveLength(60);
      expect(two.data?.a1).toBeNull();
      expect(two.errors?.[0]?.path).toEqual(['a1', 'risks']);
      expect(errorOf(two).extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', cost: 120, limit: 100 });
      expect(errorOf(two).message).toMatch(/Incident\.risks passed it/);
      // Nested: 60 risks, then each risk's one incident (60 more).
      const nested = await t.gql(risksOf(1, 'id incidents { id }'), { id: a.id }, users.auditor);
      expect(errorOf(nested).extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 100 });
      expect(errorOf(nested).message).toMatch(/Risk\.incidents passed it/);
      // The budget is the request's: the next request starts from nothing.
      expect((await t.ok(risksOf(1), { id: a.id }, users.auditor)).a0.risks).toHaveLength(60);
      // An analysis's incidents count too: under a budget of 0 a risk with no analysis is read, one citing an incident is refused.
      await t.ok(ANALYSE, { input: { riskId: risks[0], method: 'INFORMAL', informal: { likelihood: 2, impact: 2, expert: 'K. Sato', rationale: 'as at FTX' }, incidentIds: [a.id] } }, users.riskOwner);
      resultBudget.linkedEntities = 0;
      const cited = await t.gql(`query($id: ID!) { risk(id: $id) { analyses { incidents { id } } } }`, { id: risks[1] }, users.auditor);
      expect(cited.errors).toBeUndefined();
      const refused = await t.gql(`query($id: ID!) { risk(id: $id) { analyses { incidents { id } } } }`, { id: risks[0] }, users.auditor);
      expect(errorOf(refused).extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', cost: 1, limit: 0 });
      expect(errorOf(refused).message).toMatch(/Analysis\.incidents passed it/);
    } finally {
      resultBudget.linkedEntities = saved;
    }
  });

  it('8 clients recording the same new context at once make one new version', async () => {
    const before = (await t.ok(CONTEXT, {}, users.auditor)).context.version;
    const input = context({ period: 'FY2027', scope: 'Same scope, recorded by eight clients at once' });
    const results = await Promise.all(Array.from({ length: 8 }, (_, k) => t.gql(RECORD_CONTEXT, { input }, k % 2 ? users.committee : users.ciso)));
    for (const r of results) expect(r.data?.recordContext).toMatchObject({ version: before + 1, period: 'FY2027' });
    expect((await t.ok(HISTORY, { id: 'organisation' }, users.auditor)).history).toHaveLength(before + 1);
  });
});
