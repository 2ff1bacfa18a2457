/**
 * Auditor probe F6: the Art.18(2) record (「前項の管理策と管理策を採用した理由を記載した文書を作成し、
 * 保管しなければならない」) forgot the controls and treatments a later decision of the same cycle
 * superseded: controls.md, controlsDocument and the register's controls and treatments sections
 * showed only what is decided now. They now keep them after the current ones, each marked with the
 * decision that superseded it (instant, revision, who), with the progress and evidence it reached;
 * a past point of the log shows them only once superseded by then.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { TestApp, users, type TestUser } from '../support/test-app.js';
import { proposeAndApproveCriteria } from '../support/scenario.js';
import { sharedAsset } from '../../concurrency/support.js';

const TIMEOUT = 120_000;
const controlOwner: TestUser = { sub: 'ops-lead', name: 'Ops Lead', roles: ['RISK_OWNER'] };
const DECIDE_TREATMENT = `mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { id version } }`;
const DECIDE_CONTROLS = `mutation($input: DecideControlsInput!) { decideControls(input: $input) { id version controls { id title } } }`;
const PROGRESS = `mutation($input: RecordControlProgressInput!) { recordControlProgress(input: $input) { id version } }`;
const HISTORY = `query($id: ID!) { history(id: $id) { type revision } }`;
const DOCUMENT = `query($riskId: ID, $atPosition: String) { controlsDocument(riskId: $riskId, atPosition: $atPosition) {
  logPosition controlCount markdown
  entries { riskId cycle treatmentOptions controls { id title status }
    supersededControls { id title ownerId dueDate reason status progressPercent progressNote overdue evidence { evidenceId sha256 } supersededAt supersededRevision supersededBy }
    supersededTreatments { options rationale targetLevel decidedBy decidedAt supersededAt supersededRevision supersededBy } } } }`;

describe('The Art.18(2) record keeps what a later decision of the cycle superseded (auditor probe F6)', () => {
  let t: TestApp;
  let riskId: string;
  let mfaId: string;
  let keysId: string;
  let evidence: { id: string; sha256: string };
  /** The log's head before the controls were decided again, and the revisions of the superseding decisions. */
  let before: string;
  let controlsRevision: number;
  let treatmentRevision: number;

  const ok = (query: string, input: Record<string, unknown>, user: TestUser) => t.ok(query, { input }, user);
  const graphql = async (variables: Record<string, unknown>) => (await t.ok(DOCUMENT, variables, users.auditor)).controlsDocument;
  async function get(path: string): Promise<Buffer> {
    const response = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } });
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  }
  const csv = async (query: string) => (parse(await get(`/documents/register.csv?${query}`), { bom: true, columns: true }) as Record<string, string>[]).filter((r) => r['Risk id'] === riskId);

  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
    const asset = await sharedAsset(t, 'VPN gateway');
    const risk = await ok(`mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`,
      { title: 'R8 VPN account takeover', assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub }, users.riskOwner);
    riskId = risk.identifyRisk.id;
    await ok(`mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id } }`,
      { riskId, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'Phished VPN passwords' } }, users.riskOwner);
    await ok(`mutation($input: RiskRefInput!) { evaluateRisk(input: $input) { id } }`, { riskId }, users.committee);
    await ok(DECIDE_TREATMENT, { riskId, options: ['REDUCE'], rationale: 'Second factor on remote access', targetLikelihood: 1, targetImpact: 1 }, users.committee);
    const control = (title: string, reason: string) => ({ title, description: `${title} for every account`, ownerId: controlOwner.sub, dueDate: '2027-06-30', reason });
    const decided = await ok(DECIDE_CONTROLS, { riskId, controls: [control('Enforce MFA on VPN', 'Stolen passwords alone no longer open the VPN'), control('Hardware keys for admins', 'Phishing-resistant factor')] }, users.committee);
    [mfaId, keysId] = decided.decideControls.controls.map((c: { id: string }) => c.id);

    const upload = await fetch(`${t.url}/evidence`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await t.token(controlOwner)}`, 'content-type': 'text/plain', 'x-filename': 'mfa-rollout.txt' },
      body: 'MFA enforced on every VPN account',
    });
    expect(upload.status).toBe(201);
    evidence = (await upload.json()) as { id: string; sha256: string };
    await ok(PROGRESS, { riskId, controlId: mfaId, status: 'IMPLEMENTED', note: 'Rolled out', evidenceIds: [evidence.id] }, controlOwner);
    await ok(PROGRESS, { riskId, controlId: mfaId, status: 'VERIFIED', note: 'Checked the VPN logs' }, users.committee);
    before = (await graphql({})).logPosition;

    // Decided again: the hardware keys kept (same title, same id), MFA left out, an e-mail added; then the treatment replaced.
    const again = await ok(DECIDE_CONTROLS, { riskId, controls: [control('Hardware keys for admins', 'Phishing-resistant factor'), control('Annual reminder e-mail', 'Cheaper than MFA')] }, users.committee);
    expect(again.decideControls.controls.map((c: { id: string }) => c.id)).toContain(keysId);
    await ok(DECIDE_TREATMENT, { riskId, options: ['SHARE'], rationale: 'Insured instead', targetLikelihood: 1, targetImpact: 1, counterparty: 'Tokio Cyber Insurance', contractReference: 'Policy CY-2027-08' }, users.committee);
    const history = (await t.ok(HISTORY, { id: riskId }, users.auditor)).history as { type: string; revision: number }[];
    controlsRevision = history.filter((e) => e.type === 'ControlsDecided').at(-1)!.revision;
    treatmentRevision = history.filter((e) => e.type === 'RiskTreatmentDecided').at(-1)!.revision;
  }, TIMEOUT);

  afterAll(async () => {
    await t?.close();
  });

  it('controlsDocument at the head: the current controls and treatment, then the superseded ones marked with the decision; at an earlier point, none superseded yet', async () => {
    const head = await graphql({ riskId });
    expect(head.entries).toHaveLength(1);
    const [entry] = head.entries;
    expect(entry.treatmentOptions).toEqual(['SHARE']);
    expect(entry.controls.map((c: any) => c.title)).toEqual(['Hardware keys for admins', 'Annual reminder e-mail']);
    // The control kept by title is not superseded; the one left out is, as it stood then.
    expect(entry.supersededControls).toEqual([
      {
        id: mfaId, title: 'Enforce MFA on VPN', ownerId: controlOwner.sub, dueDate: '2027-06-30', reason: 'Stolen passwords alone no longer open the VPN',
        status: 'VERIFIED', progressPercent: 100, progressNote: 'Checked the VPN logs', overdue: false,
        evidence: [{ evidenceId: evidence.id, sha256: evidence.sha256 }],
        supersededAt: expect.any(String), supersededRevision: controlsRevision, supersededBy: users.committee.sub,
      },
    ]);
    expect(entry.supersededTreatments).toEqual([
      { options: ['REDUCE'], rationale: 'Second factor on remote access', targetLevel: 'LOW', decidedBy: users.committee.sub, decidedAt: expect.any(String), supersededAt: expect.any(String), supersededRevision: treatmentRevision, supersededBy: users.committee.sub },
    ]);

    // Before the second decision: the controls then, nothing superseded.
    const earlier = await graphql({ riskId, atPosition: before });
    expect(earlier.entries[0].controls.map((c: any) => [c.id, c.status])).toEqual([[mfaId, 'VERIFIED'], [keysId, 'PLANNED']]);
    expect(earlier.entries[0].supersededControls).toEqual([]);
    expect(earlier.entries[0].supersededTreatments).toEqual([]);
    expect(earlier.markdown).not.toContain('差し替え');
  }, TIMEOUT);

  it('controls.md (en and ja) lists the superseded control and treatment after the current ones, with progress, evidence and the superseding decision', async () => {
    const en = (await get(`/documents/controls.md?riskId=${riskId}&lang=en`)).toString('utf8');
    const current = en.indexOf('Annual reminder e-mail');
    const heading = en.indexOf('Superseded by a later decision of this cycle');
    expect(current).toBeGreaterThan(0);
    expect(heading).toBeGreaterThan(current);
    const mfaLine = en.split('\n').find((l) => l.includes('Enforce MFA on VPN'))!;
    expect(en.indexOf(mfaLine)).toBeGreaterThan(heading);
    expect(mfaLine).toContain('Verified');
    expect(mfaLine).toContain(`${evidence.id} (SHA-256 ${evidence.sha256})`);
    expect(mfaLine).toMatch(new RegExp(`superseded at .+ \\(revision ${controlsRevision}, decision by ${users.committee.sub}\\)`));
    expect(en).toMatch(new RegExp(`Treatment superseded\\*\\*: Reduce — Second factor on remote access \\(target level LOW, decided at .+\\); superseded at .+ \\(revision ${treatmentRevision}, decision by ${users.committee.sub}\\)`));
    const ja = (await get(`/documents/controls.md?riskId=${riskId}&lang=ja`)).toString('utf8');
    expect(ja).toContain('このサイクル内で後の決定により差し替えられたもの');
    expect(ja).toContain(`（リビジョン${controlsRevision}、${users.committee.sub} の決定）`);
    expect(ja).toContain('差し替えられたリスク対応');
    // GraphQL's markdown is the same record.
    expect((await graphql({ riskId })).markdown).toBe(ja);
  }, TIMEOUT);

  it('the register keeps them: controls and treatments sections (CSV, XLSX) append the superseded rows with the decision that superseded them', async () => {
    const controls = await csv('section=controls&lang=en');
    expect(controls.map((r) => [r.Control, r['Control status'], r['Superseded by revision']])).toEqual([
      ['Hardware keys for admins', 'Planned', ''],
      ['Annual reminder e-mail', 'Planned', ''],
      ['Enforce MFA on VPN', 'Verified', String(controlsRevision)],
    ]);
    expect(controls[2]).toMatchObject({ 'Control id': mfaId, 'Progress (%)': '100', Overdue: 'no', 'Evidence cited (id and SHA-256)': `${evidence.id} sha256:${evidence.sha256}`, 'Superseded by': users.committee.sub });
    expect(controls[2]!['Superseded at (UTC)']).not.toBe('');
    const treatments = await csv('section=treatments&lang=en');
    expect(treatments.map((r) => [r.Options, r['Superseded by revision']])).toEqual([
      ['Share', ''],
      ['Reduce', String(treatmentRevision)],
    ]);
    expect(treatments[1]).toMatchObject({ Rationale: 'Second factor on remote access', 'Superseded by': users.committee.sub });
    // At the earlier point: the controls then, nothing superseded.
    const earlier = await csv(`section=controls&lang=en&atPosition=${before}`);
    expect(earlier.map((r) => [r.Control, r['Superseded by revision']])).toEqual([['Enforce MFA on VPN', ''], ['Hardware keys for admins', '']]);

    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await get('/documents/register.xlsx?lang=en')) as any);
    const sheet = workbook.getWorksheet('Controls')!;
    const header = (sheet.getRow(1).values as unknown[]).map(String);
    const titles: string[] = [];
    sheet.eachRow((row, n) => {
      if (n > 1 && row.getCell(header.indexOf('Risk id')).value === riskId) titles.push(`${row.getCell(header.indexOf('Control')).value}|${row.getCell(header.indexOf('Superseded by revision')).value ?? ''}`);
    });
    expect(titles).toEqual(['Hardware keys for admins|', 'Annual reminder e-mail|', `Enforce MFA on VPN|${controlsRevision}`]);
  }, TIMEOUT);
});
