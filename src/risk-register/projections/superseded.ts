import { withProgressAndEvidence, type EvidenceCitation, type WithProgress } from '../domain/control.state.js';
import type { RiskEvent } from '../domain/risk.events.js';
import { sameTreatmentDecided } from '../domain/treatment.js';
import type { RiskControl, RiskState, RiskTreatment } from '../domain/risk.state.js';

/** A control left out by a later decision of its cycle, with the progress and evidence it had reached then. */
export type SupersededControl = WithProgress<RiskControl> & { evidence: EvidenceCitation[] };

/**
 * What one decision of a cycle superseded (Art.18(2), 「作成し、保管しなければならない」): the
 * controls a ControlsDecided left out, or the treatment a RiskTreatmentDecided replaced. The
 * risk's state keeps only what is decided now; the record keeps these after it.
 */
export interface Supersession {
  cycle: number;
  /** The superseding decision: its event's revision in the risk's stream, its instant and who made it. */
  revision: number;
  supersededAt: string;
  supersededBy: string;
  controls: SupersededControl[];
  treatment: RiskTreatment | null;
}


/**
 * What `event` (the risk's event at `revision`, applied to `before`) supersedes; null when nothing.
 * A control decided again keeps its id (decideControls matches it by existingControlId or title)
 * and its progress: it is not superseded. Only the controls left out are.
 */
export function supersessionOf(before: RiskState, event: RiskEvent, revision: number): Supersession | null {
  if (event.type === 'ControlsDecided') {
    const kept = new Set(event.data.controls.map((c) => c.controlId));
    const left = before.controls.filter((c) => !kept.has(c.controlId));
    if (left.length === 0) return null;
    return {
      cycle: before.cycle,
      revision,
      supersededAt: event.data.decidedAt,
      supersededBy: event.data.decidedBy,
      controls: left.map((c) => withProgressAndEvidence(before, c)),
      treatment: null,
    };
  }
  if (event.type === 'RiskTreatmentDecided') {
    const { riskId: _riskId, cycle: _cycle, ...next } = event.data;
    if (!before.treatment || sameTreatmentDecided(before.treatment, next)) return null;
    return { cycle: before.cycle, revision, supersededAt: next.decidedAt, supersededBy: next.decidedBy, controls: [], treatment: before.treatment };
  }
  return null;
}
