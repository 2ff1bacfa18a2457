/**
 * The state of a control's follow-through (Art. 18, 19): its status, progress and the evidence
 * cited, and the one rule for `overdue`. Kept per control id in the risk's state
 * (RiskState.controlProgress); decided in control-lifecycle.ts.
 */
import { dayInJapan } from '../../shared/domain/guards.js';

/** Lifecycle order (contract's ControlStatus). */
export const CONTROL_STATUSES = ['PLANNED', 'IN_PROGRESS', 'IMPLEMENTED', 'VERIFIED', 'CANCELLED'] as const;
export type ControlStatus = (typeof CONTROL_STATUSES)[number];

/** Statuses in which a control is done with: never overdue. */
export const DONE_CONTROL_STATUSES: readonly ControlStatus[] = ['IMPLEMENTED', 'VERIFIED', 'CANCELLED'];
/** Statuses after which nothing may be recorded (no going back). */
export const FINAL_CONTROL_STATUSES: readonly ControlStatus[] = ['VERIFIED', 'CANCELLED'];

/**
 * The transitions allowed from each status (the same status again records progress or a note).
 * IMPLEMENTED → IN_PROGRESS reopens a control found not to work (a note is required);
 * VERIFIED needs IMPLEMENTED first; an implemented control is not cancelled (decide the controls
 * again instead).
 */
export const CONTROL_TRANSITIONS: Readonly<Record<ControlStatus, readonly ControlStatus[]>> = {
  PLANNED: ['PLANNED', 'IN_PROGRESS', 'IMPLEMENTED', 'CANCELLED'],
  IN_PROGRESS: ['IN_PROGRESS', 'IMPLEMENTED', 'CANCELLED'],
  IMPLEMENTED: ['IMPLEMENTED', 'IN_PROGRESS', 'VERIFIED'],
  VERIFIED: [],
  CANCELLED: [],
};

export interface EvidenceCitation {
  evidenceId: string;
  /** Lower-case hex SHA-256 of the file cited, pinned in the log. */
  sha256: string;
}

/** How far a control has come (kept per control id; a control decided again keeps it). */
export interface ControlProgress {
  status: ControlStatus;
  /** 0 while PLANNED, 0..99 while IN_PROGRESS, 100 once IMPLEMENTED or VERIFIED; kept when CANCELLED. */
  progressPercent: number;
  /** The latest note (the reason, when CANCELLED). */
  note?: string;
  /** Every evidence file cited for the control, first citation first. */
  evidence: EvidenceCitation[];
  /** Who recorded it IMPLEMENTED last (may not verify it). */
  implementedBy?: string;
  updatedBy?: string;
  updatedAt?: string;
  /** The due date for which ControlBecameOverdue was recorded (once per control and due date). */
  overdueRecordedFor?: string;
}

export const PLANNED_PROGRESS: ControlProgress = { status: 'PLANNED', progressPercent: 0, evidence: [] };

/** The progress of a control of the state (PLANNED at 0% until something is recorded). */
export function progressOf(state: { controlProgress?: Record<string, ControlProgress> }, controlId: string): ControlProgress {
  return state.controlProgress?.[controlId] ?? PLANNED_PROGRESS;
}

/** A control with how far it has come, as records show it: its status, percentage and latest note. */
export type WithProgress<C> = C & { status: ControlStatus; progressPercent: number; progressNote?: string };

/** The control of the state with its progress (progressOf), for the records that list both. */
export function withProgress<C extends { controlId: string }>(state: { controlProgress?: Record<string, ControlProgress> }, control: C): WithProgress<C> {
  const { status, progressPercent, note } = progressOf(state, control.controlId);
  return { ...control, status, progressPercent, progressNote: note };
}

/** withProgress and the evidence cited for the control: as the Art.18(2) record keeps a control that left the state (a closed cycle's, a superseded one). */
export function withProgressAndEvidence<C extends { controlId: string }>(state: { controlProgress?: Record<string, ControlProgress> }, control: C): WithProgress<C> & { evidence: EvidenceCitation[] } {
  return { ...withProgress(state, control), evidence: progressOf(state, control.controlId).evidence };
}

/**
 * The one rule for `overdue`: the due date (YYYY-MM-DD) is before the day it is in Japan at the
 * reference instant, and the control is not IMPLEMENTED, VERIFIED or CANCELLED. The due date
 * itself is not overdue: the control may be done until the end of that day, Japan time.
 */
export function isControlOverdue(dueDate: string, status: ControlStatus, at: string | Date): boolean {
  return isControlOverdueOn(dueDate, status, dayInJapan(at));
}

/**
 * isControlOverdue on `day`, the day in Japan at the reference instant (dayInJapan): for lists of
 * a whole register judged at one instant, which took the day of the same instant once per control
 * (27,000 controls: most of overdueControls' 100-180 ms, probe p12).
 */
export function isControlOverdueOn(dueDate: string, status: ControlStatus, day: string): boolean {
  return !DONE_CONTROL_STATUSES.includes(status) && day > dueDate;
}

