/**
 * Following the plan through (Art. 18, 19, 12(3)): each control decided under Art. 18 is carried
 * out PLANNED → IN_PROGRESS → IMPLEMENTED → VERIFIED, or CANCELLED with a reason, and is overdue
 * once its due date has passed (Japan's calendar day) while it is not done. The deadlines that
 * pass with time (a control overdue, a review due) are recorded once each, decided here on the
 * risk's stream, so that racing watchers can never record one twice.
 */
import { FieldErrors, NotFoundError } from '../../shared/domain/errors.js';
import { dayInJapan, isNonEmptyText, optionalText, requireActorOrRole, requireRole, samePerson, violation } from '../../shared/domain/guards.js';
import type { RecordControlProgress, RecordPassedDeadlines } from './risk.commands.js';
import type { ControlBecameOverdue, ControlProgressRecorded, RiskEvent } from './risk.events.js';
import { RISK_TEXT_MAX_LENGTH, RiskRules, refuseClosed, refuseFrozen, requireRisk, withConsentInvalidation } from './risk.rules.js';
import type { RiskControl, RiskState } from './risk.state.js';
import { reviewDue, reviewDueRecorded } from './review.js';
import {
  CONTROL_STATUSES,
  CONTROL_TRANSITIONS,
  FINAL_CONTROL_STATUSES,
  isControlOverdueOn,
  progressOf,
  type ControlProgress,
  type ControlStatus,
  type EvidenceCitation,
} from './control.state.js';

export * from './control.state.js';

/** The controls of the state overdue at `at`, with their progress. */
export function overdueControlsOf(state: RiskState, at: string | Date): Array<{ control: RiskControl; progress: ControlProgress }> {
  return overdueControlsOn(state, dayInJapan(at));
}

/** overdueControlsOf on the day in Japan at the reference instant (dayInJapan), for a register judged at one instant. */
export function overdueControlsOn(state: RiskState, day: string): Array<{ control: RiskControl; progress: ControlProgress }> {
  if (!state.exists || state.status === 'CLOSED') return [];
  const overdue: Array<{ control: RiskControl; progress: ControlProgress }> = [];
  for (const control of state.controls) {
    const progress = progressOf(state, control.controlId);
    if (isControlOverdueOn(control.dueDate, progress.status, day)) overdue.push({ control, progress });
  }
  return overdue;
}

// ---------------------------------------------------------------------------------------------
// recordControlProgress
// ---------------------------------------------------------------------------------------------

/** The percentage a status implies when none is given, and whether one given fits the status. */
function resolvePercent(errors: FieldErrors, target: ControlStatus, current: ControlProgress, given: number | null | undefined): number {
  const field = 'progressPercent';
  if (given !== undefined && given !== null && (!Number.isInteger(given) || given < 0 || given > 100)) {
    errors.add(field, 'must be a whole number from 0 to 100');
    return current.progressPercent;
  }
  switch (target) {
    case 'PLANNED':
      if (given != null && given !== 0) errors.add(field, 'must be 0 while the control is PLANNED');
      return 0;
    case 'IN_PROGRESS': {
      if (given != null && given > 99) errors.add(field, 'must be 0..99 while IN_PROGRESS (100 is IMPLEMENTED)');
      return given ?? (current.status === 'IN_PROGRESS' ? current.progressPercent : 0);
    }
    case 'IMPLEMENTED':
    case 'VERIFIED':
      if (given != null && given !== 100) errors.add(field, `must be 100 (or omitted) when ${target}`);
      return 100;
    case 'CANCELLED':
      if (given != null && given !== current.progressPercent) errors.add(field, `a cancelled control keeps the progress it had (${current.progressPercent}); omit it`);
      return current.progressPercent;
  }
}

export function decideControlProgress(c: RecordControlProgress, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  const control = state.controls.find((x) => x.controlId === c.controlId);
  if (!control) throw new NotFoundError('Control', c.controlId);
  requireActorOrRole(c.actor, { id: control.ownerId, as: "the control's owner" }, ['COMMITTEE_MEMBER', 'CISO'], 'record progress on this control');
  // Verifying and cancelling judge the control rather than carry it out: the committee's (Art.18, 12(3)).
  if (c.status === 'VERIFIED') requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'verify a control');
  if (c.status === 'CANCELLED') requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'cancel a control');
  refuseClosed(state, 'have its controls carried out');

  const current = progressOf(state, control.controlId);
  const errors = new FieldErrors();
  if (!(CONTROL_STATUSES as readonly unknown[]).includes(c.status)) errors.add('status', `must be one of ${CONTROL_STATUSES.join(', ')}`);
  const note = optionalText(errors, 'note', c.note, RISK_TEXT_MAX_LENGTH) ?? undefined;
  errors.throwIfAny();
  const percent = resolvePercent(errors, c.status, current, c.progressPercent);
  const reopening = current.status === 'IMPLEMENTED' && c.status === 'IN_PROGRESS';
  if (c.status === 'CANCELLED' && note === undefined && current.status !== 'CANCELLED') errors.add('note', 'is required when cancelling a control: the reason (Art.18)');
  if (reopening && note === undefined) errors.add('note', 'is required when an implemented control goes back IN_PROGRESS: what was found');
  errors.throwIfAny();

  const evidence = distinctCitations(c.evidence ?? []);
  const known = new Set(current.evidence.map((e) => `${e.evidenceId}:${e.sha256}`));
  const newEvidence = evidence.filter((e) => !known.has(`${e.evidenceId}:${e.sha256}`));
  const sameNote = note === undefined || note === current.note;

  // No going back from a final status; the same final status again is already satisfied, and with
  // another note or new evidence refused: it was answered as done, the note or evidence recorded
  // nowhere (a cancellation's reason sent again reworded; race probe of 2026-12-06, F1's kind).
  if (FINAL_CONTROL_STATUSES.includes(current.status)) {
    if (c.status === current.status && sameNote && newEvidence.length === 0) return [];
    if (c.status === current.status) {
      throw violation(
        RiskRules.CONTROL_FINAL,
        `Control ${control.controlId} of risk ${state.id} is ${current.status} already${current.note ? ` (${current.note})` : ''}: its record is final, and ${sameNote ? 'evidence is' : 'another note is'} not added to it; decide the controls again to replace it`,
      );
    }
    throw violation(
      RiskRules.CONTROL_FINAL,
      `Control ${control.controlId} of risk ${state.id} is ${current.status}${current.note ? ` (${current.note})` : ''}: its record is final; decide the controls again to replace it`,
    );
  }
  // Cancelling takes a control out of the plan's content, which the board must see as submitted
  // (Art.19(2)); progress is the plan carried out and goes on (compliance probe of 2026-12-07, F3:
  // a cancellation while submitted was taken, the board approved, and no consent could follow).
  if (c.status === 'CANCELLED') refuseFrozen(state, 'have a control cancelled');
  if (!CONTROL_TRANSITIONS[current.status].includes(c.status)) {
    throw violation(
      RiskRules.CONTROL_TRANSITION_NOT_ALLOWED,
      `Control ${control.controlId} of risk ${state.id} is ${current.status}: it cannot become ${c.status} (allowed: ${CONTROL_TRANSITIONS[current.status].join(', ')})`,
    );
  }
  if (c.status === 'VERIFIED' && (samePerson(c.actor.id, control.ownerId) || samePerson(c.actor.id, current.implementedBy))) {
    throw violation(
      RiskRules.CONTROL_SELF_VERIFICATION,
      `Control ${control.controlId} of risk ${state.id} must be verified by someone other than its owner and whoever recorded it implemented (Art.12(3))`,
    );
  }

  if (c.status === current.status && percent === current.progressPercent && sameNote && newEvidence.length === 0) return [];

  const recorded: RiskEvent[] = [
    {
      type: 'ControlProgressRecorded',
      data: {
        riskId: state.id,
        controlId: control.controlId,
        status: c.status,
        previousStatus: current.status,
        progressPercent: percent,
        ...(note !== undefined ? { note } : {}),
        evidence,
        recordedBy: c.actor.id,
        recordedAt: c.at,
      },
    },
  ];
  // Progress is no material change; a control given up is: the residual risk its owner accepted
  // (or is asked to) rested on it, as on controls decided again (Art.20; auditor probe F5).
  return c.status === 'CANCELLED' ? withConsentInvalidation(state, recorded, 'CONTROLS_REVISED', c.at) : recorded;
}

function distinctCitations(citations: readonly EvidenceCitation[]): EvidenceCitation[] {
  const seen = new Set<string>();
  const out: EvidenceCitation[] = [];
  for (const e of citations) {
    if (!isNonEmptyText(e?.evidenceId) || seen.has(e.evidenceId)) continue;
    seen.add(e.evidenceId);
    out.push({ evidenceId: e.evidenceId, sha256: e.sha256 });
  }
  return out;
}

/** The note on a control cancelled by its risk's avoidance. */
export const CANCELLED_BY_AVOIDANCE = 'The risk was avoided (Art.17): this control is no longer carried out';

/**
 * An AVOID gives the risk up (Art.17): its controls not yet in place (PLANNED, IN_PROGRESS) are
 * cancelled in the same decision, so that no record presents them as pending work. Controls in
 * place (IMPLEMENTED, VERIFIED) and those already cancelled stay as they are.
 */
export function controlsCancelledByAvoidance(state: RiskState, by: string, at: string): ControlProgressRecorded[] {
  return state.controls.flatMap((control): ControlProgressRecorded[] => {
    const current = progressOf(state, control.controlId);
    if (current.status !== 'PLANNED' && current.status !== 'IN_PROGRESS') return [];
    return [{
      type: 'ControlProgressRecorded',
      data: {
        riskId: state.id,
        controlId: control.controlId,
        status: 'CANCELLED',
        previousStatus: current.status,
        progressPercent: current.progressPercent,
        note: CANCELLED_BY_AVOIDANCE,
        evidence: [],
        recordedBy: by,
        recordedAt: at,
      },
    }];
  });
}

// ---------------------------------------------------------------------------------------------
// Deadlines that pass with time (issued by the deadline watch, a system actor)
// ---------------------------------------------------------------------------------------------

/**
 * Records what has fallen due by `at`: one ControlBecameOverdue per control and due date, and one
 * RiskReviewBecameDue per due date of the review (Art.12(3)-(4)). Nothing when all is recorded.
 */
export function decidePassedDeadlines(c: RecordPassedDeadlines, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  if (state.status === 'CLOSED') return [];
  const events: RiskEvent[] = [];
  for (const { control, progress } of overdueControlsOf(state, c.at)) {
    if (progress.overdueRecordedFor === control.dueDate) continue;
    events.push({
      type: 'ControlBecameOverdue',
      data: { riskId: state.id, controlId: control.controlId, title: control.title, ownerId: control.ownerId, dueDate: control.dueDate },
    });
  }
  const due = c.criteria ? reviewDue(state, c.criteria, c.at) : undefined;
  if (due && !reviewDueRecorded(state, due)) {
    events.push({ type: 'RiskReviewBecameDue', data: { riskId: state.id, dueOn: due.dueOn, ownerId: state.ownerId } });
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// evolve (called by risk.evolve.ts for the events above)
// ---------------------------------------------------------------------------------------------

export function evolveControlProgress(state: RiskState, event: ControlProgressRecorded | ControlBecameOverdue, version: number): RiskState {
  const d = event.data;
  const current = progressOf(state, d.controlId);
  let next: ControlProgress;
  if (event.type === 'ControlBecameOverdue') next = { ...current, overdueRecordedFor: event.data.dueDate };
  else {
    const p = event.data;
    const known = new Set(current.evidence.map((e) => e.evidenceId));
    next = {
      ...current,
      status: p.status,
      progressPercent: p.progressPercent,
      ...(p.note !== undefined ? { note: p.note } : {}),
      evidence: [...current.evidence, ...p.evidence.filter((e) => !known.has(e.evidenceId))],
      // Only the transition into IMPLEMENTED names the implementer: a later IMPLEMENTED record that
      // adds evidence or a note must not let the one who did implement it verify it (Art.12(3)).
      ...(p.status === 'IMPLEMENTED' && current.status !== 'IMPLEMENTED' ? { implementedBy: p.recordedBy } : {}),
      updatedBy: p.recordedBy,
      updatedAt: p.recordedAt,
    };
  }
  return {
    ...state,
    version,
    controlProgress: { ...state.controlProgress, [d.controlId]: next },
    ...(event.type === 'ControlProgressRecorded' ? { updatedAt: event.data.recordedAt } : {}),
  };
}
