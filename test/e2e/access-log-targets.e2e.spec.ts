import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { TestApp, errorOf, users } from './support/test-app.js';
import { assetWithThreat, proposeAndApproveCriteria } from './support/scenario.js';

const LOG = `query($from: DateTime) { accessLog(first: 500, from: $from) { edges { node { operationName operationType fields targetIds outcome correlationId } } } }`;
const asset = (name: string) => ({ name, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 2, integrity: 2, availability: 1 });
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');

/**
 * What an access-log entry names (insider probe p16): a creating mutation's entry named the ids of
 * its arguments only, so registerAsset named its manager (a user) and never the asset it created.
 * An entry names the entity the request's answer returns first, then the ids of its arguments.
 */
describe('the access log names the entity a request created', () => {
  let t: TestApp;
  let auditor: string;
  let n = 0;

  beforeAll(async () => {
    t = await TestApp.start();
    auditor = await t.token(users.auditor);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Runs one operation under a correlation id of its own and returns its answer and its one access-log entry. */
  async function logged(query: string, variables: Record<string, unknown>, user: typeof users.auditor): Promise<{ body: any; entry: any }> {
    const correlationId = `targets-${++n}`;
    const since = new Date().toISOString();
    const response = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(user)}`, 'x-request-id': correlationId },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    const { accessLog } = await t.ok(LOG, { from: since }, auditor);
    const entries = accessLog.edges.map((e: any) => e.node).filter((e: any) => e.correlationId === correlationId);
    expect(entries).toHaveLength(1);
    return { body, entry: entries[0] };
  }

  it('registerAsset: the new asset first, then the ids of its arguments (the manager), whatever the answer selects', async () => {
    const { body, entry } = await logged(`mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`, { input: asset('Signing HSM') }, users.opsManager);
    const assetId = body.data.registerAsset.id;
    expect(entry).toMatchObject({ fields: ['registerAsset'], outcome: 'ALLOWED', targetIds: [assetId, 'mgr-ops'] });

    // An answer that selects no id names the asset all the same.
    const unselected = await logged(`mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { name } }`, { input: asset('Backup HSM') }, users.opsManager);
    const { assets } = await t.ok(`{ assets(first: 100) { edges { node { id name } } } }`, {}, users.auditor);
    const backup = assets.edges.map((e: any) => e.node).find((a: any) => a.name === 'Backup HSM');
    expect(unselected.entry.targetIds).toEqual([backup.id, 'mgr-ops']);

    // A retry under the same commandId names the asset the first one created.
    const first = await logged(`mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`, { input: { ...asset('Cold wallet'), commandId: 'cmd-cold-1' } }, users.opsManager);
    const retry = await logged(`mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`, { input: { ...asset('Cold wallet'), commandId: 'cmd-cold-1' } }, users.opsManager);
    expect(retry.body.data.registerAsset.id).toBe(first.body.data.registerAsset.id);
    expect(retry.entry.targetIds).toEqual([first.body.data.registerAsset.id, 'mgr-ops']);

    // Over graphql-ws as well.
    const since = new Date().toISOString();
    const client = await t.wsClient(users.opsManager);
    const overWs = await new Promise<any>((resolve, reject) =>
      client.subscribe({ query: `mutation OverWs($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`, variables: { input: asset('Socket HSM') } }, { next: resolve, error: reject, complete: () => undefined }),
    );
    await client.dispose();
    const wsEntries = (await t.ok(LOG, { from: since }, auditor)).accessLog.edges.map((e: any) => e.node).filter((e: any) => e.operationName === 'OverWs');
    expect(wsEntries).toEqual([expect.objectContaining({ operationType: 'mutation', outcome: 'ALLOWED', targetIds: [overWs.data.registerAsset.id, 'mgr-ops'] })]);

    // Refused: nothing was created, the entry names what the arguments name.
    const refused = await logged(`mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`, { input: asset('Not mine') }, users.financeManager);
    expect(errorOf(refused.body).extensions.code).toBe('FORBIDDEN');
    expect(refused.entry).toMatchObject({ outcome: 'DENIED', targetIds: ['mgr-ops'] });
  });

  it('names the created entity of every creating mutation: risk, plan, incident, criteria, context, comment, catalogue, and an uploaded evidence file', async () => {
    await proposeAndApproveCriteria(t);
    const a = await assetWithThreat(t, 'Hot wallet', { c: 1, i: 1, a: 1 });

    const risk = await logged(
      `mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`,
      { input: { title: 'Key theft', assetIds: [a.assetId], threatId: a.threatId, vulnerabilityId: a.vulnerabilityId, ownerId: users.riskOwner.sub } },
      users.riskOwner,
    );
    const riskId = risk.body.data.identifyRisk.id;
    expect(risk.entry.targetIds).toEqual([riskId, a.assetId, a.threatId, a.vulnerabilityId, users.riskOwner.sub]);

    const plan = await logged(`mutation { draftPlan(input: { title: "Budget", period: "FY2026" }) { id } }`, {}, users.committee);
    expect(plan.entry.targetIds).toEqual([plan.body.data.draftPlan.id]);

    const incident = await logged(
      `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { id } }`,
      { input: { title: 'Hot wallet breach', organisation: 'Coincheck', occurredOn: '2018-01-26', description: 'NEM was sent out of a hot wallet.' } },
      users.riskOwner,
    );
    expect(incident.entry.targetIds).toEqual([incident.body.data.recordIncident.id]);

    const { criteriaInput } = await import('./support/scenario.js');
    const criteria = await logged(`mutation($input: ProposeRiskCriteriaInput!) { proposeRiskCriteria(input: $input) { id } }`, { input: { ...criteriaInput, acceptanceLevel: 'MEDIUM' } }, users.committee);
    expect(criteria.entry.targetIds).toEqual([criteria.body.data.proposeRiskCriteria.id]);

    const context = await logged(
      `mutation($input: RecordContextInput!) { recordContext(input: $input) { id } }`,
      { input: { period: 'FY2026', scope: 'Custody', internalIssues: ['one'], externalIssues: ['two'], interestedParties: ['customers'] } },
      users.committee,
    );
    expect(context.entry.targetIds).toEqual(['organisation']);

    const comment = await logged(`mutation($input: AddCommentInput!) { addComment(input: $input) { id } }`, { input: { entityId: riskId, text: 'Seen at the committee' } }, users.committee);
    expect(comment.entry.targetIds).toEqual([comment.body.data.addComment.id, riskId]);

    const catalogue = await logged(
      `mutation($input: ImportBaselineCatalogueInput!) { importBaselineCatalogue(input: $input) { id } }`,
      { input: { name: 'house-rules', version: '1', requirements: [{ id: 'HR-1', title: 'Keys split', statement: 'Signing keys are split.' }] } },
      users.ciso,
    );
    expect(catalogue.body.errors).toBeUndefined();
    // The requirement's id is an id of the arguments.
    expect(catalogue.entry.targetIds).toEqual([catalogue.body.data.importBaselineCatalogue.id, 'HR-1']);

    // A mutation that changes an existing entity names it once (it is also in the arguments).
    const link = await logged(`mutation($input: LinkIncidentToRiskInput!) { linkIncidentToRisk(input: $input) { id } }`, { input: { riskId, incidentId: incident.body.data.recordIncident.id } }, users.riskOwner);
    expect(link.entry.targetIds).toEqual([riskId, incident.body.data.recordIncident.id]);

    // An upload (POST /evidence) names the evidence file it stored (its answer's Location).
    const correlationId = 'targets-upload';
    const since = new Date().toISOString();
    const up = await new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = request(`${t.url}/evidence`, { method: 'POST', headers: { authorization: '', 'content-type': 'application/pdf', 'x-filename': 'minutes.pdf', 'content-length': PDF.length, 'x-request-id': correlationId } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      });
      req.on('error', reject);
      void t.token(users.secretary).then((token) => {
        req.setHeader('authorization', `Bearer ${token}`);
        req.end(PDF);
      });
    });
    expect(up.status).toBe(201);
    let entries: any[] = [];
    for (let i = 0; i < 100 && entries.length === 0; i++) {
      if (i) await new Promise((r) => setTimeout(r, 20));
      entries = (await t.ok(LOG, { from: since }, auditor)).accessLog.edges.map((e: any) => e.node).filter((e: any) => e.correlationId === correlationId);
    }
    expect(entries).toEqual([expect.objectContaining({ operationName: 'POST /evidence', targetIds: [up.json.id] })]);

    const attach = await logged(`mutation($input: AttachEvidenceInput!) { attachEvidence(input: $input) { id } }`, { input: { entityId: riskId, evidenceId: up.json.id, description: 'Board minutes' } }, users.riskOwner);
    expect(attach.body.errors).toBeUndefined();
    expect(attach.entry.targetIds).toEqual([up.json.id, riskId]);

    // The entries are hashed and chained as before: the log verifies.
    expect((await t.ok(`query { verifyAccessLog { ok reason } }`, {}, auditor)).verifyAccessLog).toEqual({ ok: true, reason: null });
  });
});
