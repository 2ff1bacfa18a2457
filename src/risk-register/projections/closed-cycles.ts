import { withProgressAndEvidence, type EvidenceCitation, type WithProgress } from '../domain/control.state.js';
import type { RiskControl, RiskState, RiskStatus, RiskTreatment } from '../domain/risk.state.js';

/** A control of a closed cycle, with the progress it had reached when the cycle ended and the evidence cited (absent in rows written before it was kept). */
export type ClosedCycleControl = WithProgress<RiskControl> & { evidence?: EvidenceCitation[] };

/**
 * A cycle of a risk that a review's finding closed (RiskReassessmentOpened, Art.12(3)): the
 * treatment and the controls decided in it, as they stood when it ended. The risk's state starts
 * the next cycle without them; the Art.18(2) record keeps them (「作成し、保管しなければならない」).
 */
export interface ClosedCycle {
  cycle: number;
  /** The risk's status when the cycle closed (absent in rows written before it was kept). */
  status?: RiskStatus;
  /** When the finding reopened the risk (the reassessment's instant). */
  closedAt: string;
  reviewId: string;
  /** The risk's level in that cycle (its analysis, or its evaluation). */
  level: string | null;
  treatment: RiskTreatment | null;
  controls: ClosedCycleControl[];
}

/** What the cycle ending with `before` leaves to the record; null when it decided no treatment nor control. */
export function closedCycleOf(before: RiskState, reviewId: string, closedAt: string): ClosedCycle | null {
  if (!before.treatment && before.controls.length === 0) return null;
  return {
    cycle: before.cycle,
    status: before.status,
    closedAt,
    reviewId,
    level: before.level ?? before.evaluation?.level ?? null,
    treatment: before.treatment ?? null,
    controls: before.controls.map((c) => withProgressAndEvidence(before, c)),
  };
}
