import { dayInJapan } from '../../shared/domain/guards.js';
import { isControlOverdueOn, withProgress, type ControlStatus } from '../domain/control-lifecycle.js';
import type { RiskState, RiskTreatment } from '../domain/risk.state.js';
import type { ClosedCycle } from '../projections/closed-cycles.js';
import type { SupersededControl, Supersession } from '../projections/superseded.js';
import { eachInTurns } from '../../shared/application/turns.js';

export interface ControlsDocumentEntry {
  riskId: string;
  riskTitle: string;
  riskStatus: string;
  ownerId: string;
  level: string | null;
  targetLevel: string | null;
  treatmentOptions: string[];
  treatmentRationale: string | null;
  /** SHARE (Art.17(3)): with whom the risk is shared, and under which contract or policy. */
  counterparty: string | null;
  contractReference: string | null;
  controls: Array<RiskState['controls'][number] & { id: string; status: ControlStatus; progressPercent: number; progressNote?: string; overdue: boolean }>;
  /** The risk's cycle this entry records (a risk reopened by a review has one entry per cycle). */
  cycle: number;
  /** A cycle a review's finding closed: when, and which review (absent for the current cycle); its controls are as they stood then. */
  closedAt?: string;
  closedByReviewId?: string;
  /** The controls a later decision of this cycle left out, oldest decision first, as they stood then (Art.18(2): kept). */
  supersededControls: SupersededControlEntry[];
  /** The treatments a later decision of this cycle replaced, oldest first. */
  supersededTreatments: SupersededTreatmentEntry[];
}

/** When, by which event of the risk's stream (revision) and by whom an item of the record was superseded. */
export interface SupersededMark {
  supersededAt: string;
  supersededRevision: number;
  supersededBy: string;
}

export type SupersededControlEntry = SupersededControl & SupersededMark & { id: string; overdue: false };
export type SupersededTreatmentEntry = RiskTreatment & SupersededMark;

export interface ControlsDocumentView {
  generatedAt: string;
  riskCount: number;
  controlCount: number;
  entries: ControlsDocumentEntry[];
}

/** Risks turned into entries per turn of the event loop (a register of thousands is not one task). */
const ENTRIES_PER_TURN = 500;

/**
 * Art.18(2): the record of the controls decided and the reason each was adopted. Built from risk
 * states only, so the same function serves today's register and any replayed past one. Its
 * rendering as a document (Markdown, in Japanese or English) is the documents module's
 * (src/documents), which reads it at a point of the log (DocumentsService.controlsRecord) for
 * GET /documents/controls.md and GraphQL's controlsDocument alike.
 */
export async function controlsDocument(
  risks: readonly RiskState[],
  generatedAt: string,
  closedCycles: ReadonlyMap<string, readonly ClosedCycle[]> = new Map(),
  superseded: ReadonlyMap<string, readonly Supersession[]> = new Map(),
): Promise<ControlsDocumentView> {
  const entries: ControlsDocumentEntry[] = [];
  const day = dayInJapan(generatedAt);
  await eachInTurns(risks, ENTRIES_PER_TURN, (r) => {
    const byCycle = supersededByCycle(superseded.get(r.id));
    // The cycles a review closed first, oldest first: what was decided then stays in the record,
    // and what a later decision of each cycle superseded after it.
    for (const cycle of closedCycles.get(r.id) ?? []) entries.push({ ...closedCycleEntry(r, cycle), ...supersededIn(byCycle, cycle.cycle) });
    const current = supersededIn(byCycle, r.cycle);
    if (r.controls.length > 0 || current.supersededControls.length > 0 || current.supersededTreatments.length > 0) entries.push({ ...controlsEntry(r, day), ...current });
  });
  const controlCount = entries.reduce((n, e) => n + e.controls.length, 0);
  return { generatedAt, riskCount: riskCountOf(entries), controlCount, entries };
}

/** A risk's supersessions by the cycle they happened in. */
export function supersededByCycle(list: readonly Supersession[] | undefined): Map<number, Supersession[]> {
  const byCycle = new Map<number, Supersession[]>();
  for (const s of list ?? []) byCycle.set(s.cycle, [...(byCycle.get(s.cycle) ?? []), s]);
  return byCycle;
}

/** What later decisions of `cycle` superseded, oldest first, each marked with the decision. */
export function supersededIn(byCycle: ReadonlyMap<number, readonly Supersession[]>, cycle: number): Pick<ControlsDocumentEntry, 'supersededControls' | 'supersededTreatments'> {
  const supersededControls: SupersededControlEntry[] = [];
  const supersededTreatments: SupersededTreatmentEntry[] = [];
  for (const s of byCycle.get(cycle) ?? []) {
    const mark: SupersededMark = { supersededAt: s.supersededAt, supersededRevision: s.revision, supersededBy: s.supersededBy };
    for (const c of s.controls) supersededControls.push({ ...c, id: c.controlId, overdue: false, ...mark });
    if (s.treatment) supersededTreatments.push({ ...s.treatment, ...mark });
  }
  return { supersededControls, supersededTreatments };
}

/** The risks an entry list covers (a risk reopened by a review has an entry per cycle). */
export function riskCountOf(entries: readonly Pick<ControlsDocumentEntry, 'riskId'>[]): number {
  return new Set(entries.map((e) => e.riskId)).size;
}

/** One risk's entry: its treatment and its controls with their progress, overdue on `day` (the document's instant in Japan). */
function controlsEntry(r: RiskState, day: string): Omit<ControlsDocumentEntry, 'supersededControls' | 'supersededTreatments'> {
  return {
    riskId: r.id,
    riskTitle: r.title,
    riskStatus: r.status,
    ownerId: r.ownerId,
    level: r.level ?? r.evaluation?.level ?? null,
    targetLevel: r.treatment?.targetLevel ?? null,
    treatmentOptions: r.treatment?.options ?? [],
    treatmentRationale: r.treatment?.rationale ?? null,
    counterparty: r.treatment?.counterparty ?? null,
    contractReference: r.treatment?.contractReference ?? null,
    controls: controlsWithProgress(r, day),
    cycle: r.cycle,
  };
}

/** A closed cycle's entry: its treatment and controls as they stood when the review closed it (nothing is overdue in a cycle that ended). */
function closedCycleEntry(r: RiskState, c: ClosedCycle): Omit<ControlsDocumentEntry, 'supersededControls' | 'supersededTreatments'> {
  const t = c.treatment;
  return {
    riskId: r.id,
    riskTitle: r.title,
    riskStatus: c.status ?? r.status,
    ownerId: r.ownerId,
    level: c.level,
    targetLevel: t?.targetLevel ?? null,
    treatmentOptions: t?.options ?? [],
    treatmentRationale: t?.rationale ?? null,
    counterparty: t?.counterparty ?? null,
    contractReference: t?.contractReference ?? null,
    controls: c.controls.map((control) => ({ ...control, id: control.controlId, overdue: false })),
    cycle: c.cycle,
    closedAt: c.closedAt,
    closedByReviewId: c.reviewId,
  };
}

/**
 * The risk's controls with their progress, and overdue on `day` (the day in Japan at the
 * document's instant), as the GraphQL Control fields give them: the controls record and the
 * register export (src/documents) both show them.
 */
export function controlsWithProgress(r: RiskState, day: string): ControlsDocumentEntry['controls'] {
  return r.controls.map((c) => {
    const control = withProgress(r, c);
    return { ...control, id: c.controlId, overdue: r.status !== 'CLOSED' && isControlOverdueOn(c.dueDate, control.status, day) };
  });
}
