import { dayInJapan } from '../../shared/domain/guards.js';
import { isControlOverdueOn, progressOf, type ControlStatus } from '../domain/control-lifecycle.js';
import type { RiskState } from '../domain/risk.state.js';
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
}

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
 * (src/documents), which also serves it at GET /documents/controls.md.
 */
export async function controlsDocument(risks: readonly RiskState[], generatedAt: string): Promise<ControlsDocumentView> {
  const entries: ControlsDocumentEntry[] = [];
  const day = dayInJapan(generatedAt);
  await eachInTurns(risks, ENTRIES_PER_TURN, (r) => {
    if (r.controls.length > 0) entries.push(controlsEntry(r, day));
  });
  const controlCount = entries.reduce((n, e) => n + e.controls.length, 0);
  return { generatedAt, riskCount: entries.length, controlCount, entries };
}

/** One risk's entry: its treatment and its controls with their progress, overdue on `day` (the document's instant in Japan). */
function controlsEntry(r: RiskState, day: string): ControlsDocumentEntry {
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
  };
}

/**
 * The risk's controls with their progress, and overdue on `day` (the day in Japan at the
 * document's instant), as the GraphQL Control fields give them: the controls record and the
 * register export (src/documents) both show them.
 */
export function controlsWithProgress(r: RiskState, day: string): ControlsDocumentEntry['controls'] {
  return r.controls.map((c) => {
    const { status, progressPercent, note } = progressOf(r, c.controlId);
    return { ...c, id: c.controlId, status, progressPercent, progressNote: note, overdue: r.status !== 'CLOSED' && isControlOverdueOn(c.dueDate, status, day) };
  });
}
