import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { TestApp, users, type TestUser } from '../support/test-app.js';
import { DocumentsService } from '../../../src/documents/application/documents.service.js';
import { assetWithThreat, identifyRisk, proposeAndApproveCriteria } from '../support/scenario.js';
import { CHROMIUM, chromium } from './chromium.js';
import { ACCEPT, CONTRACT, CONTROLS, COUNTERPARTY, PLAN_TITLE, TRICKY_REASON, approvedPlan, type ApprovedPlan } from './plan-scenario.js';

/** Where the screenshot and the PDF are kept for people to look at (gitignored). */
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

describe('documents (Art.18(2), Art.19): plan, register and controls, at a point of the log, in Japanese and English', () => {
  let t: TestApp;
  let plan: ApprovedPlan;

  async function get(path: string, user: TestUser | null = users.auditor): Promise<Response> {
    const headers: Record<string, string> = user ? { authorization: `Bearer ${await t.token(user)}` } : {};
    return fetch(`${t.url}${path}`, { headers });
  }
  async function bytes(path: string, user: TestUser = users.auditor): Promise<Buffer> {
    const response = await get(path, user);
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return Buffer.from(await response.arrayBuffer());
  }
  const text = async (path: string, user?: TestUser) => (await bytes(path, user)).toString('utf8');

  beforeAll(async () => {
    t = await TestApp.start();
    plan = await approvedPlan(t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('renders the plan at the resolution exactly as the board saw it, before and after later changes, byte for byte', async () => {
    const at = `atPosition=${plan.resolutionPosition}`;
    const mdBefore = await bytes(`/documents/plans/${plan.planId}.md?${at}`);
    const htmlBefore = await bytes(`/documents/plans/${plan.planId}.html?${at}`);
    const md = mdBefore.toString('utf8');
    expect(md.startsWith('# 情報の安全管理計画書\n')).toBe(true);
    for (const expected of [PLAN_TITLE, 'ホットウォレット秘密鍵の窃取', 'マルチシグ出金', COUNTERPARTY, CONTRACT, 'リスク低減、リスク共有', '取締役会決議第12号', 'ops-lead', 'owner-1']) expect(md).toContain(expected);
    // The resolution's position is its commit's last event: the plan as the board approved it.
    // The risk's asset by its name, its threat and vulnerability by theirs (read without the asset's whole record: review M2).
    expect(md).toMatch(/- \*\*脅威\*\*: Key theft\n/);
    expect(md).toMatch(/- \*\*脆弱性\*\*: Keys in a hot wallet\n/);
    expect(md).toMatch(/- \*\*情報資産\*\*: ホットウォレット署名サーバ \([0-9a-f-]{36}\)\n/);
    expect(md).toContain('| 状態 | 取締役会承認済み |');
    expect(md).not.toContain('付議後の変更');
    expect(md).toContain('- **決議**: 承認');
    // How the level was reached (Art.15(2)): the method, and the expert whose judgement gave it (compliance probe L4).
    expect(md).toContain('- **分析手法（第15条第2項）**: 非形式的アプローチ、リスクレベルは情報セキュリティ委員の判断による\n');
    // Due dates in both calendars; the reason kept on one table row (its line break and pipe escaped).
    expect(md).toContain('令和9年3月31日（2027-03-31）');
    expect(md).toContain('秘密鍵を"分割"して保管する, 単独の盗難で資金が動かないため');
    expect(md).toContain('3鍵中2鍵の承認 \\| 別々の役員が保管');
    // The residual level fixed at submission, and consents not yet given at the resolution.
    expect(md).toMatch(/残留リスク（目標）レベル/);
    expect(md).toContain('| 1 | ホットウォレット秘密鍵の窃取 | owner-1 | HIGH | リスク低減、リスク共有 | LOW | 2 | 未回答 |');
    // The point it was rendered from: the resolution's position, its chain hash, and how to regenerate it.
    const hash = /先頭のチェーンハッシュ\*\*: `([0-9a-f]{64})`/.exec(md)?.[1];
    expect(hash).toBeDefined();
    expect(md).toContain(`ログ位置**: \`${plan.resolutionPosition}\``);
    expect(md).toContain(`GET /documents/plans/${plan.planId}.md?atPosition=${plan.resolutionPosition}&lang=ja`);
    // That head is the log's own: verifyIntegrity accepts it as an anchor.
    const { verifyIntegrity } = await t.ok(`query($p: String, $h: String) { verifyIntegrity(anchorPosition: $p, anchorChainHash: $h) { ok anchorOk } }`, { p: plan.resolutionPosition, h: hash }, users.auditor);
    expect(verifyIntegrity).toEqual({ ok: true, anchorOk: true });

    // Later: the owner consents, then the controls change (the consent goes stale), a new risk appears.
    await t.ok(ACCEPT, { input: { planId: plan.planId, riskId: plan.riskId, statement: '残留リスク LOW を受容します' } }, users.riskOwner);
    const consented = await text(`/documents/plans/${plan.planId}.md`);
    expect(consented).toContain('残留リスク LOW を受容します');
    expect(consented).toContain('実施中（残る全項目について所有者の同意済み）');
    await t.ok(CONTROLS, { input: { riskId: plan.riskId, controls: [{ title: '新しい管理策', description: '四半期ごとの鍵の棚卸し', ownerId: 'ops-lead', dueDate: '2027-12-31', reason: '見直し' }] } }, users.committee);
    await identifyRisk(t, await assetWithThreat(t, '出金承認ワークフロー', { c: 1, i: 1, a: 1 }), '出金承認の迂回');
    // Now: the risk as the board was asked to decide on it (contract: "as submitted"), marked as
    // changed since; the register shows the new controls.
    const now = await text(`/documents/plans/${plan.planId}.md`);
    expect(now).toContain('マルチシグ出金');
    expect(now).not.toContain('新しい管理策');
    expect(now).toMatch(/- \*\*付議後の変更\*\*: 付議後にリスクが変更されました（本書の時点のリスクのバージョン：\d+）/);
    expect(now).toContain('| 以下のリスクの記載内容 | 取締役会に付議した時点の内容（第1版、');

    // At the resolution's position: still exactly what the board saw.
    expect((await bytes(`/documents/plans/${plan.planId}.md?${at}`)).equals(mdBefore)).toBe(true);
    expect((await bytes(`/documents/plans/${plan.planId}.html?${at}`)).equals(htmlBefore)).toBe(true);
  });

  it('the board saw at the resolution what was submitted: the content is frozen from submission to resolution', async () => {
    // The content; the consent line is the item's at the point (none asked before the approval, 未回答 after).
    const section = (md: string) => md.slice(md.indexOf('## 各リスクの内容'), md.indexOf('## 取締役会決議')).replace(/- \*\*同意状況\*\*: .*\n/g, '');
    const atSubmission = await text(`/documents/plans/${plan.planId}.md?atPosition=${plan.submissionPosition}`);
    const atResolution = await text(`/documents/plans/${plan.planId}.md?atPosition=${plan.resolutionPosition}`);
    expect(section(atSubmission)).toContain('マルチシグ出金');
    expect(section(atSubmission)).toBe(section(atResolution));
    expect(atSubmission).toContain('この時点で取締役会決議は記録されていません。');
    expect(atSubmission).toContain('取締役会に付議中');
    // No consent is asked before the approval: the item shows none, not 未回答 (compliance probe 2 #8).
    expect(atSubmission).toContain('- **同意状況**: —');
    expect(atResolution).toContain('- **同意状況**: 未回答');
  });

  it('asOf gives the document of the last event by then, which regenerates byte for byte at the position it cites', async () => {
    const { events } = await t.ok(`{ events(first: 500) { edges { node { position recordedAt } } } }`, {}, users.auditor);
    const resolution = events.edges.map((e: any) => e.node).find((e: any) => e.position === plan.resolutionPosition);
    const byTime = await text(`/documents/plans/${plan.planId}.md?asOf=${encodeURIComponent(resolution.recordedAt)}`);
    const cited = /ログ位置\*\*: `([^`]+)`/.exec(byTime)![1]!;
    expect(cited >= plan.resolutionPosition).toBe(true);
    expect(await text(`/documents/plans/${plan.planId}.md?atPosition=${cited}`)).toBe(byTime);
    // The response says where it stands too.
    expect((await get(`/documents/plans/${plan.planId}.md?atPosition=${cited}`)).headers.get('x-log-position')).toBe(cited);
  });

  it('renders the same plan in English from the English catalogue, with Gregorian dates', async () => {
    const md = await text(`/documents/plans/${plan.planId}.md?atPosition=${plan.resolutionPosition}&lang=en`);
    expect(md.startsWith('# Information Security Management Plan\n')).toBe(true);
    for (const expected of ['## Board resolution (Art.19(2))', 'Reduce, Share', '| Status | Approved by the board |', '- **Decision**: Approved', '2027-03-31', COUNTERPARTY, 'Head chain hash', `lang=en`]) expect(md).toContain(expected);
    // User text stays as entered; no label or date of the Japanese catalogue appears.
    expect(md).not.toMatch(/令和\d+年\d+月|計画書|リスク低減|ログ位置|採用理由/);
    const html = await text(`/documents/plans/${plan.planId}.html?atPosition=${plan.resolutionPosition}&lang=en`);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<h1>Information Security Management Plan</h1>');
  });

  it('a draft plan shows the treatment\'s target as the residual level, said to be fixed only at submission', async () => {
    const { history } = await t.ok(`query($id: ID!) { history(id: $id) { type position } }`, { id: plan.planId }, users.auditor);
    const draft = (history as { type: string; position: string }[]).filter((e) => e.type === 'PlanRiskAdded').at(-1)!;
    for (const [lang, words] of [['en', 'fixed at submission'], ['ja', '提出時に確定']] as const) {
      expect(await text(`/documents/plans/${plan.planId}.md?atPosition=${draft.position}&lang=${lang}`)).toContain(words);
      expect(await text(`/documents/plans/${plan.planId}.md?atPosition=${plan.resolutionPosition}&lang=${lang}`)).not.toContain(words);
    }
  });

  it('serves the HTML as one self-contained printable page that headless Chromium renders, prints to PDF and screenshots', async () => {
    const response = await get(`/documents/plans/${plan.planId}.html?atPosition=${plan.resolutionPosition}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toContain('<h1>情報の安全管理計画書</h1>');
    expect(html).toContain('@media print');
    expect(html).toContain('@page');
    // No script, no external asset: nothing is loaded from anywhere.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|url\(|@import/i);
    // User text is escaped, not markup.
    expect(html).toContain('秘密鍵を&quot;分割&quot;して保管する');

    expect(CHROMIUM).not.toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'rl-plan-html-'));
    try {
      const file = join(dir, 'plan.html');
      writeFileSync(file, html);
      const dom = await chromium(['--dump-dom', `file://${file}`]);
      expect(dom).toContain('情報の安全管理計画書');
      expect(dom).toContain(PLAN_TITLE);
      mkdirSync(ARTIFACTS, { recursive: true });
      const pdf = join(ARTIFACTS, 'plan.pdf');
      const png = join(ARTIFACTS, 'plan.png');
      rmSync(pdf, { force: true });
      rmSync(png, { force: true });
      await chromium([`--print-to-pdf=${pdf}`, '--no-pdf-header-footer', `file://${file}`]);
      const pdfBytes = readFileSync(pdf);
      expect(pdfBytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(pdfBytes.subarray(-1024).toString('latin1')).toContain('%%EOF');
      expect(pdfBytes.length).toBeGreaterThan(10_000);
      await chromium([`--screenshot=${png}`, '--window-size=1024,1400', '--hide-scrollbars', `file://${file}`]);
      expect(existsSync(png)).toBe(true);
      expect(readFileSync(png).subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
      expect(statSync(png).size).toBeGreaterThan(10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('exports the register as XLSX that exceljs reads back: sheets per section, frozen header, filters, dates as dates', async () => {
    const workbook = new ExcelJS.Workbook();
    const saved = await bytes(`/documents/register.xlsx?atPosition=${plan.resolutionPosition}`);
    await workbook.xlsx.load(saved as any);
    // Downloaded again past the zip's 2-second time step: the same bytes (its entries are dated by the log).
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await bytes(`/documents/register.xlsx?atPosition=${plan.resolutionPosition}`)).equals(saved)).toBe(true);
    expect(workbook.worksheets.map((s) => s.name)).toEqual(['概要', 'リスク', '分析', 'リスク対応', '管理策', 'レビュー', '情報資産目録', 'リスク基準', '組織の状況']);
    const about = workbook.getWorksheet('概要')!;
    expect(about.getCell('A1').value).toBe('リスク登録簿');
    expect(about.getCell('B5').value).toBe(plan.resolutionPosition);

    const risks = workbook.getWorksheet('リスク')!;
    expect(risks.getRow(1).getCell(1).value).toBe('リスクID');
    expect(risks.getRow(1).getCell(2).value).toBe('リスク');
    expect(risks.getRow(1).font?.bold).toBe(true);
    expect(risks.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(risks.autoFilter).toBeTruthy();
    expect(risks.getRow(2).getCell(2).value).toBe('ホットウォレット秘密鍵の窃取');
    expect(risks.getRow(2).getCell(3).value).toBe('計画書に記載');
    expect(risks.getRow(2).getCell(7).value).toBe(3); // likelihood, a number
    expect(risks.getRow(2).getCell(15).value).toBeInstanceOf(Date); // identified at
    expect(risks.getColumn(2).width).toBeGreaterThanOrEqual(30);

    const controls = workbook.getWorksheet('管理策')!;
    expect(controls.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(controls.autoFilter).toBeTruthy();
    const header = (controls.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual(['リスクID', 'リスク', '管理策ID', '管理策', '説明', '担当者', '期限', '採用理由', '参照', '実施状況', '進捗率（%）', '期限超過', 'サイクル', '引用した証跡（ID と SHA-256）', '差し替え日時（日本時間）', '差し替えた決定のリビジョン', '差し替えた決定者']);
    const due = controls.getRow(2).getCell(7);
    expect(due.value).toEqual(new Date('2027-03-31T00:00:00.000Z'));
    expect(due.numFmt).toBe('yyyy-mm-dd');
    expect(controls.getRow(2).getCell(8).value).toBe(TRICKY_REASON);
    expect((controls.getRow(2).values as unknown[]).slice(10)).toEqual(['未着手', 0, 'いいえ', 1]); // status, progress (a number), overdue, cycle (a number)

    const treatments = workbook.getWorksheet('リスク対応')!;
    expect(treatments.getRow(2).getCell(8).value).toBe(COUNTERPARTY);
    expect(treatments.getRow(2).getCell(9).value).toBe(CONTRACT);
    const analyses = workbook.getWorksheet('分析')!;
    expect(analyses.getRow(2).getCell(5).value).toBe('非形式的アプローチ');
    expect(analyses.getRow(2).getCell(8).value).toBe('HIGH');

    const english = new ExcelJS.Workbook();
    await english.xlsx.load((await bytes(`/documents/register.xlsx?atPosition=${plan.resolutionPosition}&lang=en`)) as any);
    expect(english.worksheets.map((s) => s.name)).toEqual(['About', 'Risks', 'Analyses', 'Treatments', 'Controls', 'Reviews', 'Asset inventory', 'Risk criteria', 'Context']);
    expect(english.getWorksheet('About')!.getCell('A1').value).toBe('Risk register');
  });

  it('exports each register section as CSV: UTF-8 with BOM, CRLF, RFC 4180 quoting, read back by csv-parse', async () => {
    const raw = await bytes(`/documents/register.csv?section=controls&atPosition=${plan.resolutionPosition}`);
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const body = raw.toString('utf8');
    expect(body).toContain('\r\n');
    expect(body.replace(/\r\n/g, '')).not.toMatch(/(?<!,"[^"]*)\r(?!\n)/);
    const records = parse(raw, { bom: true, columns: true, record_delimiter: '\r\n' }) as Record<string, string>[];
    expect(records).toHaveLength(2);
    expect(Object.keys(records[0]!)).toEqual(['リスクID', 'リスク', '管理策ID', '管理策', '説明', '担当者', '期限', '採用理由', '参照', '実施状況', '進捗率（%）', '期限超過', 'サイクル', '引用した証跡（ID と SHA-256）', '差し替え日時（日本時間）', '差し替えた決定のリビジョン', '差し替えた決定者']);
    expect(records[0]).toMatchObject({ リスク: 'ホットウォレット秘密鍵の窃取', 管理策: 'マルチシグ出金', 期限: '2027-03-31', 採用理由: TRICKY_REASON, 説明: '3鍵中2鍵の承認 | 別々の役員が保管', 実施状況: '未着手', '進捗率（%）': '0', 期限超過: 'いいえ', サイクル: '1' });

    const risks = parse(await bytes(`/documents/register.csv?atPosition=${plan.resolutionPosition}`), { bom: true, columns: true }) as Record<string, string>[];
    expect(risks[0]).toMatchObject({ リスク: 'ホットウォレット秘密鍵の窃取', 状態: '計画書に記載', 発生可能性: '3' });
    const treatments = parse(await bytes(`/documents/register.csv?section=treatments&lang=en&atPosition=${plan.resolutionPosition}`), { bom: true, columns: true }) as Record<string, string>[];
    // The inventory (Art.14(2)) at the same point: the risk's asset with its value, manager, threat and vulnerability.
    const inventory = parse(await bytes(`/documents/register.csv?section=assets&atPosition=${plan.resolutionPosition}`), { bom: true, columns: true }) as Record<string, string>[];
    const riskAssets = risks[0]!['情報資産']!;
    const row = inventory.find((r) => riskAssets.includes(r['情報資産']!));
    expect(row).toMatchObject({ '目録の状態': '目録に記載', '管理責任者（第14条第2項第2号）': expect.stringMatching(/\S/), '脅威（第14条第2項第3号）': expect.stringMatching(/\S/), '脆弱性（第14条第2項第4号）': expect.stringMatching(/\S/) });
    expect(Number(row!['資産価値（第14条第2項第1号）'])).toBeGreaterThan(0);
    // The criteria the risk was analysed under (Art.13), as they stood at that point: in force, with the matrix and acceptance criterion.
    const criteria = parse(await bytes(`/documents/register.csv?section=criteria&atPosition=${plan.resolutionPosition}`), { bom: true, columns: true }) as Record<string, string>[];
    expect(criteria.find((c) => c['版'] === risks[0]!['リスク基準の版'])).toMatchObject({
      状態: '適用中',
      'リスク受容基準（第13条第1号）': expect.stringMatching(/\S/),
      'リスクマトリクス（行：発生可能性、列：影響度）': expect.stringMatching(/^発生可能性 1（.+）：.+\n発生可能性 2（/),
      承認者: expect.stringMatching(/\S/),
    });
    expect(treatments[0]).toMatchObject({ Options: 'Reduce, Share', 'Shared with (counterparty)': COUNTERPARTY, 'Contract or insurance policy': CONTRACT });

    // A CSV stays one table: its source is in its file name and the response's headers, and the
    // request it names renders the same bytes again.
    const response = await get(`/documents/register.csv?section=controls&asOf=${encodeURIComponent(new Date().toISOString())}`);
    const saved = Buffer.from(await response.arrayBuffer());
    const position = response.headers.get('x-log-position')!;
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="risk-register-controls-at-${position}.csv"`);
    const again = response.headers.get('x-regenerate')!;
    expect(again).toContain(`atPosition=${position}`);
    expect((await bytes(again)).equals(saved)).toBe(true);
  });

  it('GET /documents/controls.md keeps its URL and gains lang, atPosition and the SHARE details', async () => {
    const ja = await text(`/documents/controls.md?riskId=${plan.riskId}&atPosition=${plan.resolutionPosition}`);
    expect(ja.startsWith('# 管理策及び採用理由の記録\n')).toBe(true);
    for (const expected of ['第18条第2項', COUNTERPARTY, CONTRACT, 'マルチシグ出金', '令和9年3月31日（2027-03-31）', `riskId=${plan.riskId}`]) expect(ja).toContain(expected);
    const en = await text(`/documents/controls.md?riskId=${plan.riskId}&atPosition=${plan.resolutionPosition}&lang=en`);
    expect(en.startsWith('# Record of controls and the reasons for their adoption\n')).toBe(true);
    expect(en).toContain(`- **Contract or insurance policy**: ${CONTRACT}`);
    // Before any control was decided: the record is empty.
    const { events } = await t.ok(`{ events(first: 5) { edges { node { position } } } }`, {}, users.auditor);
    expect(await text(`/documents/controls.md?atPosition=${events.edges[0].node.position}`)).toContain('この時点で決定された管理策はありません。');
    // GraphQL's controlsDocument.markdown is the same rendering, in Japanese.
    const { controlsDocument } = await t.ok(`{ controlsDocument { markdown } }`, {}, users.auditor);
    expect(controlsDocument.markdown.startsWith('# 管理策及び採用理由の記録\n')).toBe(true);
  });

  it('answers bad parameters with 400 and a JSON code, an unknown plan with 404, no token with 401; any role (an auditor too) reads', async () => {
    const cases: [string, string][] = [
      [`/documents/plans/${plan.planId}.md?lang=fr`, 'lang'],
      [`/documents/plans/${plan.planId}.md?lang=ja&lang=en`, 'lang'],
      [`/documents/plans/${plan.planId}.html?asOf=yesterday`, 'asOf'],
      [`/documents/plans/${plan.planId}.md?asOf=2026-02-30`, 'asOf'],
      [`/documents/plans/${plan.planId}.md?atPosition=first`, 'atPosition'],
      [`/documents/plans/${plan.planId}.md?atPosition=${plan.resolutionPosition}&asOf=2026-01-01T00:00:00Z`, 'atPosition'],
      ['/documents/register.csv?section=everything', 'section'],
      ['/documents/register.xlsx?lang=de', 'lang'],
      ['/documents/controls.md?riskId=%3Cscript%3E', 'riskId'],
      // Unknown or misspelt parameters are refused, not ignored (a misspelt atPosition would give today's document).
      [`/documents/plans/${plan.planId}.md?atposition=${plan.resolutionPosition}`, 'atposition'],
      ['/documents/register.xlsx?section=risks', 'section'],
      ['/documents/register.csv?riskId=r-1', 'riskId'],
      ['/documents/controls.md?foo=1', 'foo'],
      // Named like an object's prototype: refused as any other (it was served, hostile-input probe).
      [`/documents/plans/${plan.planId}.md?__proto__=x`, '__proto__'],
      ['/documents/register.csv?constructor=1', 'constructor'],
    ];
    for (const [path, field] of cases) {
      const response = await get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
      expect(response.headers.get('content-type')).toContain('application/json');
      const body = (await response.json()) as any;
      expect(body.error.code).toBe('BAD_USER_INPUT');
      expect(Object.keys(body.error.fields)).toContain(field);
      expect(JSON.stringify(body)).not.toMatch(/at .*\.js:\d+/);
    }
    const unknown = await get('/documents/plans/no-such-plan.md');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe('NOT_FOUND');
    expect((await get('/documents/plans/nothing.pdf')).status).toBe(404);
    // A plan that did not exist yet at that point is unknown then.
    expect((await get(`/documents/plans/${plan.planId}.md?atPosition=1`)).status).toBe(404);
    expect((await get(`/documents/plans/${plan.planId}.md`, null)).status).toBe(401);
    expect((await get(`/documents/register.csv`, { sub: 'nobody', roles: [] })).status).toBe(403);
    for (const user of [users.auditor, users.riskOwner, users.secretary, users.admin]) {
      for (const path of [`/documents/plans/${plan.planId}.md`, `/documents/plans/${plan.planId}.html`, '/documents/register.csv', '/documents/register.xlsx', '/documents/controls.md']) {
        expect({ user: user.sub, path, status: (await get(path, user)).status }).toEqual({ user: user.sub, path, status: 200 });
      }
    }
  });

  it('16 downloads of one point in flight together share one render and give identical bytes; 16 of the present each render, within the limit (scale probe of 2026-12-06, H2)', async () => {
    // Each render held back 300 ms, so that the 16 requests arrive while the first one renders.
    const service = t.app.get(DocumentsService);
    const calls = { plan: 0, registerXlsx: 0 };
    const originals = { plan: service.plan, registerXlsx: service.registerXlsx };
    for (const name of ['plan', 'registerXlsx'] as const) {
      (service as any)[name] = async (...args: unknown[]) => {
        calls[name]++;
        await new Promise((resolve) => setTimeout(resolve, 300));
        return (originals[name] as (...a: unknown[]) => Promise<unknown>).apply(service, args);
      };
    }
    try {
      const path = `/documents/plans/${plan.planId}.html?atPosition=${plan.submissionPosition}&lang=en`;
      const bodies = await Promise.all(Array.from({ length: 16 }, () => bytes(path)));
      for (const body of bodies) expect(body.equals(bodies[0]!)).toBe(true);
      expect(calls.plan).toBe(1);
      // The present: a render begun before a client's write would not show it, so none is shared; each counts.
      const statuses = await Promise.all(Array.from({ length: 16 }, async () => (await get('/documents/register.xlsx')).status));
      expect(statuses.filter((s) => s === 200)).toHaveLength(4);
      expect(statuses.filter((s) => s === 503)).toHaveLength(12);
      expect(calls.registerXlsx).toBe(4);
    } finally {
      Object.assign(service, originals);
    }
  });

  it('renders at most 4 distinct documents at once: 50 downloads at distinct positions in flight together get 200 or 503 DOCUMENTS_BUSY with Retry-After', async () => {
    const { events } = await t.ok(`query { events(first: 200) { edges { node { position } } } }`, {}, users.auditor);
    const positions = events.edges.map((e: any) => e.node.position as string).slice(0, 50);
    expect(positions.length).toBeGreaterThan(8);
    const token = await t.token(users.auditor);
    const downloads = Promise.all(
      positions.map(async (p: string) => {
        const response = await fetch(`${t.url}/documents/register.xlsx?atPosition=${p}`, { headers: { authorization: `Bearer ${token}` } });
        return { status: response.status, retryAfter: response.headers.get('retry-after'), body: response.status === 200 ? null : ((await response.json()) as any) };
      }),
    );
    // Sent while those render: a request that can never succeed is 400 at once, not a busy answer to retry.
    const bad = await Promise.all(
      ['/documents/register.xlsx?atposition=1', '/documents/register.csv?section=nope', '/documents/controls.md?lang=de', `/documents/plans/${plan.planId}.md?atPosition=x`].map(async (path) => (await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status),
    );
    const answers = await downloads;
    expect(bad).toEqual([400, 400, 400, 400]);
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    const busy = answers.filter((a) => a.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(4);
    for (const a of busy) {
      expect(a.body.error.code).toBe('DOCUMENTS_BUSY');
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
    }
    // Once they are done, the next one renders.
    expect((await get(`/documents/register.xlsx?atPosition=${positions[positions.length - 1]}`)).status).toBe(200);
  });

  it('writes every download to the access log (Art.23(2)) with the actor, the document and the outcome', async () => {
    await bytes(`/documents/plans/${plan.planId}.html?lang=en`, users.ciso);
    await bytes('/documents/register.xlsx', users.ciso);
    await get('/documents/plans/no-such-plan.md', users.ciso);
    await get('/documents/register.csv?lang=fr', users.ciso);
    const find = async () => {
      const { accessLog } = await t.ok(`query { accessLog(first: 500, actorId: "ciso") { edges { node { operationName operationType targetIds outcome errorCode } } } }`, {}, users.auditor);
      return accessLog.edges.map((e: any) => e.node).filter((n: any) => n.operationType === 'http');
    };
    let downloads: any[] = [];
    // Entries are batched for at most 25 ms: wait until the four are written.
    for (let i = 0; i < 100 && downloads.length < 4; i++) {
      downloads = await find();
      if (downloads.length < 4) await new Promise((r) => setTimeout(r, 50));
    }
    expect(downloads).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operationName: `GET /documents/plans/${plan.planId}.html`, targetIds: [plan.planId], outcome: 'ALLOWED' }),
        expect.objectContaining({ operationName: 'GET /documents/register.xlsx', outcome: 'ALLOWED' }),
        expect.objectContaining({ operationName: 'GET /documents/plans/no-such-plan.md', outcome: 'FAILED', errorCode: 'NOT_FOUND' }),
        expect.objectContaining({ operationName: 'GET /documents/register.csv', outcome: 'FAILED', errorCode: 'BAD_USER_INPUT' }),
      ]),
    );
  });

  it('names the risk criteria the plan was submitted under, beside the ones in force when the document is read', async () => {
    const en = `/documents/plans/${plan.planId}.md?lang=en`;
    expect(await text(en)).toContain('| Risk criteria at submission (the board decided under them) | version 1 (acceptance level: LOW) |');
    // Criteria approved since: the document read now shows both; at the resolution, only the first was ever in force.
    await proposeAndApproveCriteria(t);
    const now = await text(en);
    expect(now).toContain('| Risk criteria at submission (the board decided under them) | version 1 (acceptance level: LOW) |');
    expect(now).toContain("| Risk criteria in force at this document's point of the log | version 2 (acceptance level: LOW) |");
    expect(await text(`/documents/plans/${plan.planId}.md?atPosition=${plan.resolutionPosition}`)).toContain('| 提出時のリスク基準（取締役会はこれに基づき決議） | 第1版（リスク受容基準：LOW） |');
  });
});

describe('documents under RATE_LIMIT_PER_MINUTE', () => {
  let t: TestApp;
  beforeAll(async () => {
    process.env.RATE_LIMIT_PER_MINUTE = '3';
    try {
      t = await TestApp.start();
    } finally {
      delete process.env.RATE_LIMIT_PER_MINUTE;
    }
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('counts downloads per actor as GraphQL requests are counted: past the limit, 429 RATE_LIMITED with Retry-After', async () => {
    const token = await t.token(users.auditor);
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${t.url}/documents/register.csv`, { headers: { authorization: `Bearer ${token}` } });
      statuses.push(response.status);
      if (response.status !== 200) refused = response;
      else await response.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused!.json()) as any).error.code).toBe('RATE_LIMITED');
    // Another actor has its own budget.
    expect((await fetch(`${t.url}/documents/register.csv`, { headers: { authorization: `Bearer ${await t.token(users.ciso)}` } })).status).toBe(200);
  });
});
