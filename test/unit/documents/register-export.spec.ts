import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { registerExport } from '../../../src/documents/application/register-export.js';
import type { DocumentData } from '../../../src/documents/application/document-source.js';
import { messagesFor, type Language } from '../../../src/documents/messages/index.js';
import { registerCsv } from '../../../src/documents/render/csv.js';
import { registerXlsx } from '../../../src/documents/render/xlsx.js';
import type { ControlProgress } from '../../../src/risk-register/domain/control.state.js';
import { initialRiskState, type RiskConsent, type RiskControl, type RiskState } from '../../../src/risk-register/domain/risk.state.js';
import type { RiskRow } from '../../../src/risk-register/projections/risk-register.projection.js';
import type { ClosedCycle } from '../../../src/risk-register/projections/closed-cycles.js';
import type { Supersession } from '../../../src/risk-register/projections/superseded.js';
import type { PlanState } from '../../../src/treatment-plan/domain/plan.state.js';
import type { AssetState } from '../../../src/asset-inventory/domain/asset.state.js';
import { criteria3x3 } from '../../support/criteria-definitions.js';

const consent = (planId: string, status: RiskConsent['status'], planRevision = 1): RiskConsent => ({ planId, planRevision, status, atVersion: 5, fingerprint: 'f' });
const control = (controlId: string, dueDate: string): RiskControl => ({ controlId, title: `管理策 ${controlId}`, description: 'd', ownerId: 'ken', dueDate, reason: 'r' });
const progress = (status: ControlProgress['status'], progressPercent: number): ControlProgress => ({ status, progressPercent, evidence: [] });

function risk(id: string, patch: Partial<RiskState>): RiskState {
  return { ...initialRiskState, exists: true, id, title: `リスク ${id}`, ownerId: 'rita', status: 'CONTROLS_DECIDED', identifiedAt: '2027-01-01T00:00:00.000Z', updatedAt: '2027-01-02T00:00:00.000Z', ...patch };
}

/** The read models at a head recorded at `recordedAt`: the risks and plans given, nothing else. */
function data(states: RiskState[], plans: Array<Pick<PlanState, 'id' | 'revision'>>, recordedAt: string): DocumentData {
  const rows: RiskRow[] = states.map((state, i) => ({ state, sortKey: String(i), priority: null, needsReevaluation: false, assetsRetired: false, analyses: () => [], reviews: () => [] }));
  return {
    head: { position: '42', recordedAt, hash: 'h', chainHash: 'c' } as DocumentData['head'],
    criteria: undefined,
    eachRiskPage: async (each) => {
      await each(rows);
    },
    riskStates: async () => states,
    riskState: (id) => states.find((s) => s.id === id) ?? null,
    plan: (id) => (plans.find((p) => p.id === id) as PlanState | undefined) ?? null,
    assetLabel: () => null,
    threatNames: () => ({}),
    assets: async () => [],
    criteriaVersions: () => [],
    contextVersions: async () => [],
    db: undefined as unknown as DocumentData['db'],
    closedCycles: () => new Map(),
    superseded: () => new Map(),
    evidenceOf: () => [],
  };
}

async function csvOf(d: DocumentData, section: 'risks' | 'controls' | 'treatments' | 'analyses' | 'assets' | 'criteria' | 'context', lang: Language = 'ja'): Promise<Record<string, string>[]> {
  const view = await registerExport(d, lang, messagesFor(lang), 'csv', section);
  return parse(Buffer.concat(await registerCsv(view.tables[0]!, lang)), { bom: true, columns: true, record_delimiter: '\r\n' }) as Record<string, string>[];
}

async function sheetOf(d: DocumentData, name: string): Promise<ExcelJS.Worksheet> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load((await registerXlsx(await registerExport(d, 'ja', messagesFor('ja'), 'xlsx'))) as any);
  return workbook.getWorksheet(name)!;
}

describe('register export (CSV and XLSX rows)', () => {
  // R6: declined in P1, removed from P1, treated again and added to P2 (still a draft): the
  // decline is P1's answer, not P2's (probe p14 M4). R7: accepted in P3, the plan it is in.
  // R8: declined in P1 and removed from it: in no plan, so no plan's consent either.
  const states = [
    risk('R6', { planId: 'P2', status: 'IN_PLAN', consent: consent('P1', 'DECLINED') }),
    risk('R7', { planId: 'P3', status: 'ACCEPTED', consent: consent('P3', 'ACCEPTED') }),
    risk('R8', { status: 'TO_TREAT', consent: consent('P1', 'DECLINED') }),
    risk('R9', { planId: 'P4', status: 'AWAITING_CONSENT', consent: consent('P4', 'PENDING', 2) }),
  ];
  const plans = [
    { id: 'P1', revision: 1 },
    { id: 'P2', revision: 1 },
    { id: 'P3', revision: 1 },
    { id: 'P4', revision: 2 },
  ];
  const d = data(states, plans, '2027-04-01T00:00:00.000Z');

  it('reads the register once for every section, a page at a time, with the rows of one page (hostile re-probe of 2026-12-07, E)', async () => {
    // The same risks in pages of one: the rows of every section as from one page, in order.
    const paged = data(states, plans, '2027-04-01T00:00:00.000Z');
    const pages: RiskRow[][] = [];
    await d.eachRiskPage((page) => void pages.push(...page.map((r) => [r])));
    let reads = 0;
    paged.eachRiskPage = async (each) => {
      reads++;
      for (const page of pages) await each(page);
    };
    const whole = await registerExport(d, 'ja', messagesFor('ja'), 'xlsx');
    const inPages = await registerExport(paged, 'ja', messagesFor('ja'), 'xlsx');
    expect(reads).toBe(1);
    expect(inPages.tables.map((t) => [t.section, t.rows])).toEqual(whole.tables.map((t) => [t.section, t.rows]));
    expect(whole.tables.find((t) => t.section === 'risks')!.rows.map((r) => r[0])).toEqual(['R6', 'R7', 'R8', 'R9']);
  });

  it("shows a risk's consent only beside the plan (and revision) it was given for", async () => {
    const rows = await csvOf(d, 'risks');
    expect(rows.map((r) => [r['リスクID'], r['計画ID'], r['同意状況']])).toEqual([
      ['R6', 'P2', ''],
      ['R7', 'P3', '同意'],
      ['R8', '', ''],
      ['R9', 'P4', '未回答'],
    ]);
    const sheet = await sheetOf(d, 'リスク');
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    const [plan, answer] = [header.indexOf('計画ID') + 1, header.indexOf('同意状況') + 1];
    expect([2, 3, 4, 5].map((r) => [sheet.getRow(r).getCell(plan).value, sheet.getRow(r).getCell(answer).value])).toEqual([
      ['P2', null],
      ['P3', '同意'],
      [null, null],
      ['P4', '未回答'],
    ]);
  });

  it("gives each control its status, progress and whether it is overdue on the export's day in Japan", async () => {
    // 2027-03-31T16:00Z is 2027-04-01 01:00 in Japan: a control due 2027-03-31 is overdue there
    // (though it is still the 31st in UTC); one due 2027-04-01 is not yet.
    const withControls = [
      risk('R1', {
        controls: [control('C1', '2027-03-31'), control('C2', '2027-03-31'), control('C3', '2027-04-01'), control('C4', '2027-03-31')],
        controlProgress: { C1: progress('IN_PROGRESS', 40), C2: progress('IMPLEMENTED', 100), C4: progress('CANCELLED', 10) },
      }),
      // A closed (avoided) risk's controls are no longer followed: never overdue.
      risk('R2', { status: 'CLOSED', controls: [control('C5', '2027-01-31')] }),
    ];
    const at = data(withControls, [], '2027-03-31T16:00:00.000Z');
    const rows = await csvOf(at, 'controls');
    // Appended columns keep the earlier ones in their places: the evidence and the superseding decision last.
    expect(Object.keys(rows[0]!).slice(-8)).toEqual(['実施状況', '進捗率（%）', '期限超過', 'サイクル', '引用した証跡（ID と SHA-256）', '差し替え日時（日本時間）', '差し替えた決定のリビジョン', '差し替えた決定者']);
    expect(rows.map((r) => [r['管理策ID'], r['実施状況'], r['進捗率（%）'], r['期限超過']])).toEqual([
      ['C1', '実施中', '40', 'はい'],
      ['C2', '導入済み', '100', 'いいえ'],
      ['C3', '未着手', '0', 'いいえ'],
      ['C4', '中止', '10', 'いいえ'],
      ['C5', '未着手', '0', 'いいえ'],
    ]);
    const english = await csvOf(at, 'controls', 'en');
    expect(english[0]).toMatchObject({ 'Control status': 'In progress', 'Progress (%)': '40', Overdue: 'yes' });

    const sheet = await sheetOf(at, '管理策');
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header.slice(-8, -4)).toEqual(['実施状況', '進捗率（%）', '期限超過', 'サイクル']);
    expect([9, 10, 11, 12].map((k) => sheet.getRow(2).getCell(k + 1).value)).toEqual(['実施中', 40, 'はい', 1]);
  });

  it("keeps a cycle a review closed: its treatment and controls as they stood then, before the current cycle's (Art.18(2), 12(3))", async () => {
    const current = risk('R1', {
      cycle: 2,
      treatment: treatment('Cold storage, again'),
      controls: [control('C3', '2027-06-30')],
    });
    const closedCycle: ClosedCycle = {
      cycle: 1,
      closedAt: '2027-03-01T00:00:00.000Z',
      reviewId: 'rv-1',
      level: 'HIGH',
      treatment: treatment('Cold storage'),
      // Due long before the export: a control of an ended cycle is never overdue.
      controls: [{ ...control('C1', '2027-01-31'), status: 'IMPLEMENTED', progressPercent: 100 }, { ...control('C2', '2027-01-31'), status: 'IN_PROGRESS', progressPercent: 50 }],
    };
    const at = { ...data([current], [], '2027-04-01T00:00:00.000Z'), closedCycles: () => new Map([['R1', [closedCycle]]]) };
    const rows = await csvOf(at, 'controls');
    expect(rows.map((r) => [r['管理策ID'], r['実施状況'], r['期限超過'], r['サイクル']])).toEqual([
      ['C1', '導入済み', 'いいえ', '1'],
      ['C2', '実施中', 'いいえ', '1'],
      ['C3', '未着手', 'いいえ', '2'],
    ]);
    const treatments = await csvOf(at, 'treatments');
    expect(treatments.map((r) => [r['理由'], r['サイクル']])).toEqual([
      ['Cold storage', '1'],
      ['Cold storage, again', '2'],
    ]);
  });

  it('keeps what a later decision of a cycle superseded after that cycle\'s rows, marked with the decision (Art.18(2), auditor probe F6)', async () => {
    const current = risk('R1', { cycle: 2, treatment: treatment('Insured'), controls: [control('C4', '2027-06-30')] });
    const closedCycle: ClosedCycle = { cycle: 1, closedAt: '2027-03-01T00:00:00.000Z', reviewId: 'rv-1', level: 'HIGH', treatment: treatment('Cold storage'), controls: [{ ...control('C2', '2027-01-31'), status: 'PLANNED', progressPercent: 0 }] };
    const evidence = [{ evidenceId: 'ev-1', sha256: 'a'.repeat(64) }];
    const superseded: Supersession[] = [
      { cycle: 1, revision: 7, supersededAt: '2027-02-01T00:00:00.000Z', supersededBy: 'carol', controls: [{ ...control('C1', '2027-01-31'), status: 'VERIFIED', progressPercent: 100, evidence }], treatment: null },
      { cycle: 2, revision: 12, supersededAt: '2027-03-15T00:00:00.000Z', supersededBy: 'dave', controls: [{ ...control('C3', '2027-01-31'), status: 'IN_PROGRESS', progressPercent: 10, evidence: [] }], treatment: null },
      { cycle: 2, revision: 14, supersededAt: '2027-03-20T00:00:00.000Z', supersededBy: 'dave', controls: [], treatment: treatment('Reduce first') },
    ];
    const at = { ...data([current], [], '2027-04-01T00:00:00.000Z'), closedCycles: () => new Map([['R1', [closedCycle]]]), superseded: () => new Map([['R1', superseded]]) };
    const rows = await csvOf(at, 'controls', 'en');
    expect(rows.map((r) => [r['Control id'], r.Cycle, r['Control status'], r.Overdue, r['Evidence cited (id and SHA-256)'], r['Superseded by revision'], r['Superseded by']])).toEqual([
      ['C2', '1', 'Planned', 'no', '', '', ''],
      ['C1', '1', 'Verified', 'no', `ev-1 sha256:${'a'.repeat(64)}`, '7', 'carol'],
      ['C4', '2', 'Planned', 'no', '', '', ''],
      // Due before the export, but superseded: never overdue.
      ['C3', '2', 'In progress', 'no', '', '12', 'dave'],
    ]);
    const treatments = await csvOf(at, 'treatments', 'en');
    expect(treatments.map((r) => [r.Rationale, r.Cycle, r['Superseded by revision']])).toEqual([
      ['Cold storage', '1', ''],
      ['Insured', '2', ''],
      ['Reduce first', '2', '14'],
    ]);
  });

  it('names beside a target level the criteria version it is a label of, which later criteria do not relabel (auditor probe F7)', async () => {
    // Level and evaluation under criteria version 2; the treatment's target (LOW) was decided under version 1.
    const relabelled = risk('R1', { level: 'MEDIUM', criteriaNumber: 2, treatment: treatment('Cold storage') });
    const untreated = risk('R2', { level: 'HIGH', criteriaNumber: 2 });
    const rows = await csvOf(data([relabelled, untreated], [], '2027-04-01T00:00:00.000Z'), 'risks', 'en');
    // Appended last, so the earlier columns keep their places.
    expect(Object.keys(rows[0]!).slice(16, 20)).toEqual(['Criteria version of the target level', 'Treatment priority (Art.16)', 'Evaluated by', 'Evaluated at (UTC)']);
    expect(rows.map((r) => [r['Risk id'], r.Level, r['Criteria version'], r['Target level'], r['Criteria version of the target level']])).toEqual([
      ['R1', 'MEDIUM', '2', 'LOW', '1'],
      ['R2', 'HIGH', '2', '', ''],
    ]);
    const sheet = await sheetOf(data([relabelled], [], '2027-04-01T00:00:00.000Z'), 'リスク');
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(sheet.getRow(2).getCell(header.indexOf('目標レベルのリスク基準の版') + 1).value).toBe(1);
  });

  it('states the priority of treatment the evaluation set, who evaluated and when, and per analysis the expert and the incidents cited (compliance probe M1, M2)', async () => {
    const evaluation = { cycle: 1, criteriaId: 'c1', criteriaNumber: 1, level: 'HIGH', likelihood: 3, impact: 3, decision: 'TO_TREAT', assetValue: 3, levelRank: 2, analysisCount: 1, evaluatedBy: 'carol', evaluatedAt: '2027-01-03T01:00:00.000Z' } as NonNullable<RiskState['evaluation']>;
    const informal = { analysisId: 'A1', cycle: 1, method: 'INFORMAL', criteriaId: 'c1', criteriaNumber: 1, likelihood: 3, impact: 3, level: 'HIGH', levelRank: 2, informal: { likelihood: 3, impact: 3, expert: '山田 CISO', rationale: 'r' }, externalReferences: [], incidentIds: ['inc-coincheck', 'inc-dmm'], analysedBy: 'rita', analysedAt: '2027-01-02T01:00:00.000Z' } as const;
    const baseline = { ...informal, analysisId: 'A2', method: 'BASELINE', informal: undefined, incidentIds: undefined } as const;
    const d = data([risk('R1', { status: 'TO_TREAT', level: 'HIGH', evaluation })], [], '2027-04-01T00:00:00.000Z');
    let row: RiskRow | undefined;
    await d.eachRiskPage((page) => void (row ??= page[0]));
    Object.assign(row!, { priority: 1, analyses: () => [informal, baseline] });
    expect((await csvOf(d, 'risks'))[0]).toMatchObject({ '対応の優先順位（第16条）': '1', 評価者: 'carol', '評価日時（日本時間）': '2027-01-03 10:00:00' });
    const analyses = await csvOf(d, 'analyses');
    expect(analyses.map((a) => [a['分析ID'], a['判断した専門家（非形式的アプローチ）'], a['参照した他者の不正・不祥事件（第15条第3項）']])).toEqual([
      ['A1', '山田 CISO', 'inc-coincheck、inc-dmm'],
      ['A2', '', ''],
    ]);
  });

  it('writes the inventory of Art.14(2): value, manager, each threat and each of its vulnerabilities, retired assets with when and why (compliance probe M3)', async () => {
    const asset = (id: string, patch: Partial<AssetState>): AssetState => ({
      exists: true, id, version: 3, name: `資産 ${id}`, description: '', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 3, integrity: 2, availability: 1, value: 3,
      status: 'ACTIVE', threats: [], registeredAt: '2027-01-01T00:00:00.000Z', registeredBy: 'mgr-ops', updatedAt: '2027-01-01T00:00:00.000Z', ...patch,
    });
    const threat = (id: string, vulnerabilities: string[]) => ({
      id, name: `脅威 ${id}`, description: '', affects: ['CONFIDENTIALITY', 'INTEGRITY'] as AssetState['threats'][number]['affects'], identifiedAt: '2027-01-01T00:00:00.000Z', identifiedBy: 'mgr-ops',
      vulnerabilities: vulnerabilities.map((v) => ({ id: v, name: `脆弱性 ${v}`, description: '', identifiedAt: '2027-01-01T00:00:00.000Z', identifiedBy: 'mgr-ops' })),
    });
    const d = data([], [], '2027-04-01T00:00:00.000Z');
    d.assets = async () => [
      asset('A1', { threats: [threat('T1', ['V1', 'V2']), threat('T2', [])] }),
      asset('A2', { status: 'RETIRED', retiredAt: '2027-02-01T03:00:00.000Z', retirementReason: 'Risk R9 avoided (Art.17)' }),
    ];
    d.eachRiskPage = async () => {
      throw new Error('the inventory reads no risk');
    };
    const rows = await csvOf(d, 'assets');
    expect(rows.map((r) => [r['情報資産ID'], r['資産価値（第14条第2項第1号）'], r['管理責任者（第14条第2項第2号）'], r['脅威ID'], r['脅威が損なう性質'], r['脆弱性ID'], r['目録の状態'], r['廃止日時（日本時間）']])).toEqual([
      ['A1', '3', 'mgr-ops', 'T1', '機密性、完全性', 'V1', '目録に記載', ''],
      ['A1', '3', 'mgr-ops', 'T1', '機密性、完全性', 'V2', '目録に記載', ''],
      ['A1', '3', 'mgr-ops', 'T2', '機密性、完全性', '', '目録に記載', ''],
      ['A2', '3', 'mgr-ops', '', '', '', '廃止', '2027-02-01 12:00:00'],
    ]);
    expect((await csvOf(d, 'assets', 'en'))[0]).toMatchObject({ 'Asset id': 'A1', Category: 'System', 'Threat (Art.14(2)(iii))': '脅威 T1', 'Vulnerability (Art.14(2)(iv))': '脆弱性 V1' });
  });

  it('writes the criteria of Art.13: each version recorded by the point, its acceptance criterion, matrix and assessment criteria (compliance probe L7)', async () => {
    const d = data([], [], '2027-04-01T00:00:00.000Z');
    const definition = criteria3x3();
    d.criteriaVersions = () => [
      { ...definition, id: 'c2', number: 2, version: 3, status: 'PROPOSED', proposedBy: 'carol', proposedAt: '2027-02-01T00:00:00.000Z' },
      { ...definition, id: 'c1', number: 1, version: 3, status: 'IN_FORCE', proposedBy: 'carol', proposedAt: '2027-01-01T00:00:00.000Z', approvedBy: 'ciso', approvedAt: '2027-01-02T00:00:00.000Z' },
    ];
    d.eachRiskPage = async () => {
      throw new Error('the criteria read no risk');
    };
    const rows = await csvOf(d, 'criteria');
    expect(rows.map((r) => [r['リスク基準ID'], r['版'], r['状態'], r['承認者']])).toEqual([
      ['c2', '2', '提案中', ''],
      ['c1', '1', '適用中', 'ciso'],
    ]);
    expect(rows[1]!['リスク受容基準（第13条第1号）']).toBe(definition.acceptanceLevel);
    expect(rows[1]!['リスクマトリクス（行：発生可能性、列：影響度）']!.split('\n')).toEqual(definition.matrix.map((levels, i) => `発生可能性 ${i + 1}（${definition.likelihoodLevels[i]}）：${levels.join('、')}`));
    expect(rows[1]!['必要な分析手法（第13条第2号）']).toBe(definition.requiredMethods.map((r) => `資産価値 ${r.minAssetValue} 以上：${({ BASELINE: 'ベースラインアプローチ', INFORMAL: '非形式的アプローチ', DETAILED: '詳細リスク分析' })[r.method]}`).join('\n'));
  });

  it('writes each context list item marked, its own further lines indented: an item of two lines is not read as two items (probe of 2026-12-06, F3)', async () => {
    const d = data([], [], '2027-04-01T00:00:00.000Z');
    d.contextVersions = async () => [
      { version: 1, period: 'FY2027', scope: '全社', internalIssues: ['鍵管理の属人化\n（担当者2名のみ）', '監視の夜間体制'], externalIssues: ['他社の流出事案'], interestedParties: ['顧客'], recordedBy: 'carol', recordedAt: '2027-01-01T00:00:00.000Z' },
    ];
    const [ja] = await csvOf(d, 'context');
    expect(ja!['内部の課題（第12条第1項）']).toBe('・鍵管理の属人化\n　（担当者2名のみ）\n・監視の夜間体制');
    expect(ja!['外部の課題（第12条第1項）']).toBe('・他社の流出事案');
    // Read back: one item per marked line, the indented ones continuing it.
    const items = ja!['内部の課題（第12条第1項）']!.split(/\n(?=・)/).map((item) => item.slice(1).replace(/\n　/g, '\n'));
    expect(items).toEqual(['鍵管理の属人化\n（担当者2名のみ）', '監視の夜間体制']);
    const [en] = await csvOf(d, 'context', 'en');
    expect(en!['Internal issues (Art.12(1))']).toBe('• 鍵管理の属人化\n  （担当者2名のみ）\n• 監視の夜間体制');
  });

  it('says why a closed risk left the register: avoided, with why and by whom, or withdrawn with the reason and by whom (probe of 2026-12-06, F2)', async () => {
    const d = data(
      [
        risk('W1', { status: 'CLOSED', closedReason: 'WITHDRAWN', closedAt: '2027-01-03T00:00:00.000Z', closedExplanation: '重複登録のため取下げ', closedBy: 'carol' }),
        risk('A1', { status: 'CLOSED', closedReason: 'AVOIDED', closedAt: '2027-01-04T00:00:00.000Z', treatment: { ...treatment('事業を廃止するため'), options: ['AVOID'], decidedBy: 'dave' } }),
        risk('O1', { status: 'TO_TREAT' }),
      ],
      [],
      '2027-04-01T00:00:00.000Z',
    );
    const rows = await csvOf(d, 'risks');
    expect(rows.map((r) => [r['リスクID'], r['状態'], r['終了の理由'], r['取下げの理由'], r['取り下げた者'], r['回避の理由（第17条）'], r['回避を決定した者']])).toEqual([
      ['W1', '終了', '取下げ（誤り又は重複による特定）', '重複登録のため取下げ', 'carol', '', ''],
      // And an avoided one why it was avoided and who decided it (Art.20 probe of 2026-12-06, L5).
      ['A1', '終了', '回避（第17条）', '', '', '事業を廃止するため', 'dave'],
      ['O1', '要対応', '', '', '', '', ''],
    ]);
    // The columns are appended: the earlier ones keep their places.
    const [en] = await csvOf(d, 'risks', 'en');
    expect(Object.keys(en!).slice(-4)).toEqual(['Reason for the withdrawal', 'Withdrawn by', 'Why avoided (Art.17)', 'Avoidance decided by']);
    expect([en!['Why avoided (Art.17)'], en!['Avoidance decided by']]).toEqual(['', '']);
    expect(rows[0]!['終了日時（日本時間）']).toContain('2027');
    expect(rows[2]!['終了日時（日本時間）']).toBe('');
  });
});

function treatment(rationale: string): NonNullable<RiskState['treatment']> {
  return { options: ['REDUCE'], rationale, targetLikelihood: 1, targetImpact: 1, targetLevel: 'LOW', criteriaNumber: 1, decidedBy: 'carol', decidedAt: '2027-01-01T00:00:00.000Z' } as NonNullable<RiskState['treatment']>;
}
