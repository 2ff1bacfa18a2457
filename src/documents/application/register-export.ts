/**
 * The risk register as tables, one per section (risks, analyses, treatments, controls, reviews), with
 * typed columns: what the CSV (one section per file) and the XLSX workbook (one sheet per
 * section) are written from. Headers come from the message catalogue; instants are in Japan
 * time for ja and UTC for en, as the headers say.
 */
import { controlsWithProgress, supersededByCycle, supersededIn, type SupersededMark } from '../../risk-register/application/controls-document.js';
import { progressOf, type EvidenceCitation } from '../../risk-register/domain/control.state.js';
import { consentInPlan } from '../../risk-register/domain/plan-and-consent.js';
import type { RiskState, RiskTreatment } from '../../risk-register/domain/risk.state.js';
import type { ClosedCycleControl } from '../../risk-register/projections/closed-cycles.js';
import type { RiskRow } from '../../risk-register/projections/risk-register.projection.js';
import type { PlanState } from '../../treatment-plan/domain/plan.state.js';
import { fill, labelOf, type Language, type Messages } from '../messages/index.js';
import { documentInstant, type DocumentData } from './document-source.js';
import { assetLabel, sourceView, type SourceView } from './document-view.js';
import { eachInTurnsBySize } from '../../shared/application/turns.js';
import { cellsWeight, type DocumentBudget } from './document-size.js';
import { dayInJapan } from '../../shared/domain/guards.js';

/** In the workbook's order; `assets`, the inventory of Art.14(2), appended last (2026-12-06) so the other sheets keep their places. */
export const REGISTER_SECTIONS = ['risks', 'analyses', 'treatments', 'controls', 'reviews', 'assets', 'criteria', 'context'] as const;
export type RegisterSection = (typeof REGISTER_SECTIONS)[number];

/** text; integer; a calendar day (YYYY-MM-DD); an instant (ISO 8601). */
export type ColumnType = 'text' | 'integer' | 'day' | 'instant';
type ColumnKey = keyof Messages['register']['columns'];
export type Cell = string | number | null;

export interface Column {
  key: ColumnKey;
  header: string;
  type: ColumnType;
  /** Width in characters (XLSX). */
  width: number;
}

export interface RegisterTable {
  section: RegisterSection;
  name: string;
  columns: Column[];
  rows: Cell[][];
}

export interface RegisterExport {
  lang: Language;
  m: Messages;
  tables: RegisterTable[];
  source: SourceView;
  /** When the head event was recorded (workbook properties), null for an empty log. */
  recordedAt: string | null;
}

const SPEC: Record<RegisterSection, [ColumnKey, ColumnType, number][]> = {
  risks: [
    ['riskId', 'text', 38], ['title', 'text', 40], ['status', 'text', 18], ['owner', 'text', 16], ['assets', 'text', 36], ['level', 'text', 12], ['likelihood', 'integer', 10], ['impact', 'integer', 10],
    ['criteria', 'integer', 10], ['evaluation', 'text', 18], ['targetLevel', 'text', 12], ['planId', 'text', 38], ['consent', 'text', 16], ['needsReevaluation', 'text', 12], ['identifiedAt', 'instant', 20], ['updatedAt', 'instant', 20],
    // Appended: the criteria version whose label `targetLevel` is (the treatment's, which later criteria do not relabel).
    ['targetCriteria', 'integer', 10],
    // Appended: the priority of treatment the evaluation set (Art.16: 1 = first, among the risks to treat), and who evaluated, when.
    ['priority', 'integer', 10], ['evaluatedBy', 'text', 16], ['evaluatedAt', 'instant', 20],
    // Appended: why and when a CLOSED risk left the register (avoided, or withdrawn as identified in error: then why and by whom).
    ['closedReason', 'text', 20], ['closedAt', 'instant', 20], ['withdrawalReason', 'text', 40], ['withdrawnBy', 'text', 16],
    // Appended: for an avoided risk, why it was avoided and who decided it (the AVOID treatment's rationale, Art.17).
    ['avoidanceRationale', 'text', 40], ['avoidedBy', 'text', 16],
  ],
  analyses: [
    ['riskId', 'text', 38], ['title', 'text', 40], ['analysisId', 'text', 38], ['cycle', 'integer', 8], ['method', 'text', 22], ['likelihood', 'integer', 10], ['impact', 'integer', 10], ['level', 'text', 12], ['criteria', 'integer', 10], ['analysedBy', 'text', 16], ['analysedAt', 'instant', 20],
    // Appended: whose judgement an informal analysis is (Art.15(2)), and the incidents at other firms it cited (Art.15(3)).
    ['expert', 'text', 24], ['incidents', 'text', 38],
  ],
  treatments: [
    ['riskId', 'text', 38], ['title', 'text', 40], ['options', 'text', 24], ['rationale', 'text', 48], ['targetLikelihood', 'integer', 10], ['targetImpact', 'integer', 10], ['targetLevel', 'text', 12],
    ['counterparty', 'text', 28], ['contract', 'text', 28], ['criteria', 'integer', 10], ['decidedBy', 'text', 16], ['decidedAt', 'instant', 20],
    // Appended: the cycle (a review's finding closes one; its treatment stays in the register, Art.12(3)).
    ['cycle', 'integer', 8],
    // Appended: a treatment a later decision of its cycle replaced stays too, after the one that replaced it (Art.18(2)).
    ['supersededAt', 'instant', 20], ['supersededRevision', 'integer', 10], ['supersededBy', 'text', 16],
  ],
  controls: [
    ['riskId', 'text', 38], ['title', 'text', 40], ['controlId', 'text', 38], ['control', 'text', 36], ['description', 'text', 48], ['controlOwner', 'text', 16], ['due', 'day', 14], ['reason', 'text', 48], ['reference', 'text', 24],
    // Appended, so that the earlier columns keep their places in sheets and formulas built on them.
    ['controlStatus', 'text', 14], ['progressPercent', 'integer', 10], ['overdue', 'text', 10],
    // The cycle: the controls of a cycle a review's finding closed stay in the record as they stood then.
    ['cycle', 'integer', 8],
    // The evidence cited; and for a control a later decision of its cycle left out, that decision (Art.18(2): kept).
    ['evidence', 'text', 48], ['supersededAt', 'instant', 20], ['supersededRevision', 'integer', 10], ['supersededBy', 'text', 16],
  ],
  // Art.10, 12(3)-(4): every review, all cycles, oldest first; a finding reopened the risk as the next cycle.
  reviews: [
    ['riskId', 'text', 38], ['title', 'text', 40], ['reviewId', 'text', 38], ['cycle', 'integer', 8], ['controlsInPlace', 'text', 10], ['actualLikelihood', 'integer', 10], ['actualImpact', 'integer', 10],
    ['actualLevel', 'text', 12], ['targetLevel', 'text', 12], ['finding', 'text', 10], ['criteria', 'integer', 10], ['notes', 'text', 48], ['reviewedBy', 'text', 16], ['reviewedAt', 'instant', 20],
  ],
  // Art.14(2): the inventory, one row per vulnerability of each threat of each asset (an asset
  // without threats, a threat without vulnerabilities: one row with those cells empty), in
  // registration order, retired assets included (with when and why).
  assets: [
    ['assetId', 'text', 38], ['assetName', 'text', 32], ['category', 'text', 14], ['department', 'text', 16], ['manager', 'text', 16], ['confidentiality', 'integer', 10], ['integrity', 'integer', 10],
    ['availability', 'integer', 10], ['assetValue', 'integer', 10], ['assetStatus', 'text', 14], ['retiredAt', 'instant', 20], ['retirementReason', 'text', 36], ['threatId', 'text', 38], ['threat', 'text', 32],
    ['affects', 'text', 24], ['vulnerabilityId', 'text', 38], ['vulnerability', 'text', 32], ['registeredAt', 'instant', 20],
  ],
  // Art.13: every criteria version recorded by the point, newest first, its matrix and assessment criteria as text.
  criteria: [
    ['criteriaId', 'text', 38], ['criteriaNumber', 'integer', 8], ['criteriaStatus', 'text', 18], ['acceptanceLevel', 'text', 16], ['riskLevels', 'text', 28], ['likelihoodLevels', 'text', 32], ['impactLevels', 'text', 32],
    ['matrix', 'text', 60], ['impactByAssetValue', 'text', 16], ['baselineGapThresholds', 'text', 18], ['detailedLikelihoodThresholds', 'text', 18], ['requiredMethods', 'text', 40], ['reviewIntervals', 'text', 32],
    ['proposedBy', 'text', 16], ['proposedAt', 'instant', 20], ['approvedBy', 'text', 16], ['approvedAt', 'instant', 20], ['supersededAt', 'instant', 20],
  ],
  // Art.12(1): every version of the organisation's context recorded by the point, oldest first.
  context: [
    ['contextVersion', 'integer', 8], ['period', 'text', 14], ['scope', 'text', 40], ['internalIssues', 'text', 48], ['externalIssues', 'text', 48], ['interestedParties', 'text', 36],
    ['recordedBy', 'text', 16], ['recordedAt', 'instant', 20],
  ],
};

/** Risks turned into rows per turn of the event loop: a register of thousands is never one long task. */
const RISKS_PER_TURN = 200;
/**
 * And characters of rows per turn: 200 risks naming 500 assets of 200 characters each are 20 MB
 * of rows, a task of seconds (hostile probe of 2026-12-07, Finding 1: /health/live 14-20 s).
 */
const CHARS_PER_TURN = 250_000;

/** `rowsOf` of every risk added to `rows`, a slice of risks (or of their rows' characters) per turn of the event loop, counted against `budget`. */
async function slicedInto(rows: Cell[][], risks: readonly RiskRow[], rowsOf: (row: RiskRow) => Cell[][], budget?: DocumentBudget): Promise<void> {
  await eachInTurnsBySize(risks, RISKS_PER_TURN, CHARS_PER_TURN, (risk) => {
    let weight = 0;
    for (const row of rowsOf(risk)) {
      rows.push(row);
      weight += cellsWeight(row);
    }
    return budget ? budget.add(weight) : weight;
  });
}

/** The inventory's rows (Art.14(2)): each vulnerability of each threat of each asset, a slice of assets per turn of the event loop. */
async function inventoryRows(data: DocumentData, m: Messages, budget?: DocumentBudget): Promise<Cell[][]> {
  const none = m.common.none;
  const rows: Cell[][] = [];
  await eachInTurnsBySize(await data.assets(), RISKS_PER_TURN, CHARS_PER_TURN, (a) => {
    const before = rows.length;
    const asset: Cell[] = [
      a.id, a.name, labelOf(m.enums.assetCategory, a.category, none), a.department, a.managerId, a.confidentiality, a.integrity, a.availability, a.value,
      labelOf(m.enums.assetStatus, a.status, none), a.retiredAt ?? null, a.retirementReason ?? null,
    ];
    const registered = [a.registeredAt];
    if (a.threats.length === 0) rows.push([...asset, null, null, null, null, null, ...registered]);
    for (const t of a.threats) {
      const threat = [t.id, t.name, t.affects.map((p) => labelOf(m.enums.securityProperty, p, none)).join(m.common.listSeparator)];
      if (t.vulnerabilities.length === 0) rows.push([...asset, ...threat, null, null, ...registered]);
      for (const v of t.vulnerabilities) rows.push([...asset, ...threat, v.id, v.name, ...registered]);
    }
    let weight = 0;
    for (let i = before; i < rows.length; i++) weight += cellsWeight(rows[i]!);
    return budget ? budget.add(weight) : weight;
  });
  return rows;
}

/** The criteria's rows (Art.13): one per version recorded by the point, newest first. */
function criteriaRows(data: DocumentData, m: Messages): Cell[][] {
  const none = m.common.none;
  const list = (values: readonly (string | number)[]) => values.join(m.common.listSeparator);
  return data.criteriaVersions().map((c) => [
    c.id, c.number, labelOf(m.enums.criteriaStatus, c.status, none), c.acceptanceLevel, list(c.riskLevels), list(c.likelihoodLevels), list(c.impactLevels),
    c.matrix.map((levels, i) => fill(m.register.matrixRow, { likelihood: i + 1, label: c.likelihoodLevels[i] ?? '', levels: list(levels) })).join('\n'),
    list(c.impactByAssetValue), list(c.baselineGapThresholds), list(c.detailedLikelihoodThresholds),
    c.requiredMethods.map((r) => fill(m.register.requiredMethod, { value: r.minAssetValue, method: labelOf(m.enums.method, r.method, none) })).join('\n') || null,
    c.reviewIntervalDays.map((r) => fill(m.register.reviewInterval, { level: r.level, days: r.days })).join('\n') || null,
    c.proposedBy, c.proposedAt, c.approvedBy ?? null, c.approvedAt ?? null, c.supersededAt ?? null,
  ]);
}

/**
 * The context's rows (Art.12(1)): one per version recorded by the point, oldest first, each list
 * one item per line, each item marked (m.register.listItem) and its own further lines indented: an
 * item may hold a line break, and two items of one line each read as three (probe of 2026-12-06, F3).
 */
async function contextRows(data: DocumentData, m: Messages): Promise<Cell[][]> {
  const lines = (items: readonly string[]) => (items.length ? items.map((item) => m.register.listItem + item.split(/\r\n|\r|\n/).join(`\n${m.register.listContinuation}`)).join('\n') : null);
  return (await data.contextVersions()).map((v) => [v.version, v.period, v.scope, lines(v.internalIssues), lines(v.externalIssues), lines(v.interestedParties), v.recordedBy, v.recordedAt]);
}

/** The sections that are not rows of risks: what each is written from. */
const OTHER_SECTIONS = {
  assets: (data: DocumentData, m: Messages, budget?: DocumentBudget) => inventoryRows(data, m, budget),
  criteria: async (data: DocumentData, m: Messages, budget?: DocumentBudget) => counted(criteriaRows(data, m), budget),
  context: async (data: DocumentData, m: Messages, budget?: DocumentBudget) => counted(await contextRows(data, m), budget),
} satisfies Partial<Record<RegisterSection, (data: DocumentData, m: Messages, budget?: DocumentBudget) => Promise<Cell[][]>>>;

/** Rows counted against the document's budget (a few: criteria and context versions). */
function counted(rows: Cell[][], budget: DocumentBudget | undefined): Cell[][] {
  for (const row of rows) budget?.add(cellsWeight(row));
  return rows;
}
type OtherSection = keyof typeof OTHER_SECTIONS;
const isOtherSection = (s: RegisterSection | undefined): s is OtherSection => s !== undefined && s in OTHER_SECTIONS;

/**
 * The register's tables at the point `data` reads. `budget` (DOCUMENT_MAX_BYTES) is charged each
 * row's characters as it is built: past it the export stops there (DocumentTooLargeError).
 */
export async function registerExport(data: DocumentData, lang: Language, m: Messages, format: 'csv' | 'xlsx', section?: RegisterSection, budget?: DocumentBudget): Promise<RegisterExport> {
  const none = m.common.none;
  // Overdue on the day in Japan at the export's instant, as the controls record judges it.
  const day = dayInJapan(documentInstant(data));
  const list = (values: string[]) => values.join(m.common.listSeparator);
  const assetNames = (assetIds: string[]) => list(assetIds.map((id) => assetLabel(data.assetLabel(id), id, lang, m)));
  // A plan read once (its state holds every item): thousands of risks share a few plans.
  const plans = new Map<string, PlanState | null>();
  const planOf = (id: string): PlanState | null => {
    if (!plans.has(id)) plans.set(id, data.plan(id));
    return plans.get(id) ?? null;
  };
  // The answer for the plan the row names (consentInPlan): an answer the risk keeps from a plan it
  // left would read as this plan's (probe p14 M4).
  const consentLabel = (r: RiskState): string | null => {
    const plan = r.planId === undefined ? null : planOf(r.planId);
    const consent = plan ? consentInPlan(r, plan) : undefined;
    return consent ? labelOf(m.enums.consent, consent.status, none) : null;
  };
  // The cycles a review closed, read once, for the sections that show them.
  const closed = !section || section === 'treatments' || section === 'controls' ? data.closedCycles() : undefined;
  // And what later decisions of a cycle superseded, shown after that cycle's rows.
  const superseded = closed ? data.superseded() : undefined;
  const supersededOf = (riskId: string) => {
    const byCycle = supersededByCycle(superseded?.get(riskId));
    return (cycle: number) => supersededIn(byCycle, cycle);
  };
  const evidenceCell = (evidence: readonly EvidenceCitation[]) => (evidence.length ? list(evidence.map((e) => `${e.evidenceId} sha256:${e.sha256}`)) : null);
  const yesNo = (value: boolean) => (value ? m.common.yes : m.common.no);
  // An avoided risk's row said why it left (avoided) and when, not why it was avoided nor who decided
  // it, where a withdrawal's gives both (Art.20 probe of 2026-12-06, L5): its AVOID treatment's.
  const avoidanceCells = (r: RiskState): Cell[] => {
    const avoid = r.closedReason === 'AVOIDED' && r.treatment?.options.includes('AVOID') ? r.treatment : undefined;
    return [avoid?.rationale ?? null, avoid?.decidedBy ?? null];
  };
  const markCells = (s: SupersededMark | undefined): Cell[] => [s?.supersededAt ?? null, s?.supersededRevision ?? null, s?.supersededBy ?? null];
  const rowsOf: Record<Exclude<RegisterSection, OtherSection>, (row: RiskRow) => Cell[][]> = {
    risks: ({ state: r, needsReevaluation, priority }) => [
      [
        r.id, r.title, labelOf(m.enums.riskStatus, r.status, none), r.ownerId, assetNames(r.assetIds), r.level ?? null, r.likelihood ?? null, r.impact ?? null,
        r.criteriaNumber ?? r.evaluation?.criteriaNumber ?? null, r.evaluation ? labelOf(m.enums.evaluation, r.evaluation.decision, none) : null, r.treatment?.targetLevel ?? null,
        r.planId ?? null, consentLabel(r), yesNo(needsReevaluation), r.identifiedAt, r.updatedAt,
        r.treatment?.criteriaNumber ?? null,
        typeof priority === 'number' ? priority : null, r.evaluation?.evaluatedBy ?? null, r.evaluation?.evaluatedAt ?? null,
        r.closedReason ? labelOf(m.enums.closedReason, r.closedReason, none) : null, r.closedAt ?? null,
        r.closedReason === 'WITHDRAWN' ? (r.closedExplanation ?? null) : null, r.closedReason === 'WITHDRAWN' ? (r.closedBy ?? null) : null,
        ...avoidanceCells(r),
      ],
    ],
    analyses: (row) =>
      row.analyses().map((a) => [
        row.state.id, row.state.title, a.analysisId, a.cycle, labelOf(m.enums.method, a.method, none), a.likelihood, a.impact, a.level, a.criteriaNumber, a.analysedBy, a.analysedAt,
        a.informal?.expert ?? null, a.incidentIds?.length ? list(a.incidentIds) : null,
      ]),
    treatments: ({ state: r }) => {
      const treatmentRow = (t: RiskTreatment & Partial<SupersededMark>, cycle: number): Cell[] => [
        r.id, r.title, list(t.options.map((o) => labelOf(m.enums.treatmentOption, o, none))), t.rationale, t.targetLikelihood, t.targetImpact, t.targetLevel, t.counterparty ?? null, t.contractReference ?? null, t.criteriaNumber, t.decidedBy, t.decidedAt, cycle,
        ...markCells(t.supersededAt === undefined ? undefined : (t as SupersededMark)),
      ];
      // Each cycle's treatment, then those a later decision of the cycle replaced.
      const supersededAt = supersededOf(r.id);
      const replaced = (cycle: number) => supersededAt(cycle).supersededTreatments.map((t) => treatmentRow(t, cycle));
      const rows = (closed?.get(r.id) ?? []).flatMap((c) => [...(c.treatment ? [treatmentRow(c.treatment, c.cycle)] : []), ...replaced(c.cycle)]);
      return [...rows, ...(r.treatment ? [treatmentRow(r.treatment, r.cycle)] : []), ...replaced(r.cycle)];
    },
    controls: ({ state: r }) => {
      const controlRow = (c: ClosedCycleControl & { overdue: boolean; evidence?: readonly EvidenceCitation[] } & Partial<SupersededMark>, cycle: number): Cell[] => [
        r.id, r.title, c.controlId, c.title, c.description, c.ownerId, c.dueDate, c.reason, c.reference ?? null,
        labelOf(m.enums.controlStatus, c.status, none), c.progressPercent, yesNo(c.overdue), cycle,
        evidenceCell(c.evidence ?? []), ...markCells(c.supersededAt === undefined ? undefined : (c as SupersededMark)),
      ];
      // Each cycle's controls, then those a later decision of the cycle left out (as they stood then:
      // nothing superseded is overdue). A closed cycle's controls as they stood when it ended.
      const supersededAt = supersededOf(r.id);
      const leftOut = (cycle: number) => supersededAt(cycle).supersededControls.map((c) => controlRow(c, cycle));
      const rows = (closed?.get(r.id) ?? []).flatMap((c) => [...c.controls.map((control) => controlRow({ ...control, overdue: false }, c.cycle)), ...leftOut(c.cycle)]);
      const current = controlsWithProgress(r, day).map((c) => controlRow({ ...c, evidence: progressOf(r, c.controlId).evidence }, r.cycle));
      return [...rows, ...current, ...leftOut(r.cycle)];
    },
    reviews: (row) =>
      row.reviews().map((v) => [
        row.state.id, row.state.title, v.reviewId, v.cycle, yesNo(v.controlsInPlace), v.actualLikelihood, v.actualImpact, v.actualLevel, v.targetLevel, yesNo(v.finding), v.criteriaNumber, v.notes ?? null, v.reviewedBy, v.reviewedAt,
      ]),
  };
  const sections = section ? [section] : REGISTER_SECTIONS;
  // The register read once, a page of risks at a time, each page's rows of every section asked for
  // made before the next page is read: what is held is the rows and one page, not every risk (a
  // section that is not rows of risks reads none).
  const riskRows = new Map<Exclude<RegisterSection, OtherSection>, Cell[][]>();
  for (const s of sections) if (!isOtherSection(s)) riskRows.set(s, []);
  if (riskRows.size > 0) {
    await data.eachRiskPage(async (page) => {
      for (const [s, rows] of riskRows) await slicedInto(rows, page, rowsOf[s], budget);
    });
  }
  const tables: RegisterTable[] = [];
  for (const s of sections) {
    tables.push({
      section: s,
      name: m.register.sheets[s],
      columns: SPEC[s].map(([key, type, width]) => ({ key, type, width, header: m.register.columns[key] })),
      rows: isOtherSection(s) ? await OTHER_SECTIONS[s](data, m, budget) : riskRows.get(s)!,
    });
  }
  return { lang, m, tables, source: sourceView(data.head, m, lang, `/documents/register.${format}`, section ? `&section=${section}` : ''), recordedAt: data.head?.recordedAt ?? null };
}
