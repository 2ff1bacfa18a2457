/**
 * Review (Art. 12(3)-(4), Art. 10): a retained or accepted risk is reviewed against the level it
 * was meant to stay at; a level found above it, or controls found not in place, opens a new
 * assessment cycle (the risk is identified again, leaving its plan), and the review is kept as
 * evidence. When a review falls due is decided here too (reviewSchedule).
 */
import type { CriteriaDefinition } from '../../risk-criteria/domain/criteria.state.js';
import { isWithinAcceptance, levelFor, levelRank, reviewIntervalDaysFor } from '../../risk-criteria/domain/scoring.js';
import { FieldErrors } from '../../shared/domain/errors.js';
import { checkIntIn, dayInJapan, optionalText, requiredText, violation } from '../../shared/domain/guards.js';
import { DONE_CONTROL_STATUSES, progressOf } from './control.state.js';
import type { RecordReview } from './risk.commands.js';
import type { RiskEvent } from './risk.events.js';
import { RISK_TEXT_MAX_LENGTH, RiskRules, refuseClosed, requireCriteria, requireOwnerOr, requireRisk } from './risk.rules.js';
import { recordedResidual, residualLevelUnder, type LevelScales, type RiskState } from './risk.state.js';

/**
 * A review that finds the controls in place may not contradict the register: every control of the
 * risk is IMPLEMENTED or VERIFIED (or CANCELLED), and when the risk has controls, at least one of
 * them is not CANCELLED (a treatment whose every control was cancelled has none in place).
 * Otherwise their progress is recorded first, or the review records them not in place, which is a
 * finding (Art.12(3)). A risk with no controls at all (retained, avoided) passes.
 */
function requireControlsImplemented(state: RiskState): void {
  const statuses = state.controls.map((control) => ({ control, status: progressOf(state, control.controlId).status }));
  if (statuses.length > 0 && statuses.every((c) => c.status === 'CANCELLED')) {
    throw violation(
      RiskRules.CONTROLS_NOT_IMPLEMENTED,
      `Every control of risk ${state.id} was cancelled, so none is in place: record the review with controlsInPlace: false`,
    );
  }
  const pending = statuses.filter((c) => !DONE_CONTROL_STATUSES.includes(c.status));
  if (pending.length === 0) return;
  throw violation(
    RiskRules.CONTROLS_NOT_IMPLEMENTED,
    `Risk ${state.id}'s controls ${pending.map((p) => `"${p.control.title}" (${p.status})`).join(', ')} are not implemented: ` +
      'record their progress first (recordControlProgress), or record the review with controlsInPlace: false',
  );
}

export function decideReview(c: RecordReview, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireOwnerOr(c.actor, state, ['COMMITTEE_MEMBER', 'CISO'], 'review this risk');
  if (state.recentReviewIds.includes(c.reviewId)) return [];
  refuseClosed(state, 'be reviewed');
  const criteria = requireCriteria(c.criteria);
  if (state.status !== 'RETAINED' && state.status !== 'ACCEPTED') {
    throw violation(RiskRules.REVIEW_NOT_DUE, `Risk ${state.id} is ${state.status}: only a retained risk or one whose residual risk was accepted is reviewed`);
  }
  const errors = new FieldErrors();
  requiredText(errors, 'reviewId', c.reviewId, RISK_TEXT_MAX_LENGTH);
  if (typeof c.controlsInPlace !== 'boolean') errors.add('controlsInPlace', 'must be true or false');
  checkIntIn(errors, 'actualLikelihood', c.actualLikelihood, 1, criteria.likelihoodLevels.length);
  checkIntIn(errors, 'actualImpact', c.actualImpact, 1, criteria.impactLevels.length);
  const notes = optionalText(errors, 'notes', c.notes, RISK_TEXT_MAX_LENGTH) ?? undefined;
  errors.throwIfAny();
  if (c.controlsInPlace) requireControlsImplemented(state);

  const actualLevel = levelFor(criteria, c.actualLikelihood, c.actualImpact);
  // The level the review compares with: the risk's residual level under the criteria in force
  // (residualLevelUnder), the same level acceptance and the review schedule go by.
  const placed = residualLevelUnder(state, criteria);
  const targetLevel = placed ?? recordedResidual(state)?.level ?? state.level ?? '';
  const targetRank = placed === undefined ? -1 : levelRank(criteria, placed);
  // Art.12(3): controls not in place are a finding whatever the level (the level may hold by luck,
  // not by the controls). A target the criteria in force cannot place is treated as a gap too, and
  // so is an actual level above their acceptance level (Art.13(1): above it a risk must be treated),
  // even when it is the target: one retained or accepted under earlier, laxer criteria (compliance
  // probe of 2026-12-07, F2: reviewed at MEDIUM under acceptance LOW, no finding, next review in 180 days).
  const finding = c.controlsInPlace === false || targetRank < 0 || levelRank(criteria, actualLevel) > targetRank || !isWithinAcceptance(criteria, actualLevel);
  const interval = reviewIntervalDaysFor(criteria, actualLevel);
  const events: RiskEvent[] = [
    {
      type: 'RiskReviewed',
      data: {
        riskId: state.id,
        reviewId: c.reviewId,
        cycle: state.cycle,
        controlsInPlace: c.controlsInPlace,
        actualLikelihood: c.actualLikelihood,
        actualImpact: c.actualImpact,
        actualLevel,
        targetLevel,
        finding,
        criteriaId: criteria.id,
        criteriaNumber: criteria.number,
        ...(notes !== undefined ? { notes } : {}),
        ...(interval !== undefined ? { reviewIntervalDays: interval } : {}),
        reviewedBy: c.actor.id,
        reviewedAt: c.at,
      },
    },
  ];
  if (finding) {
    events.push({
      type: 'RiskReassessmentOpened',
      data: { riskId: state.id, cycle: state.cycle + 1, previousCycle: state.cycle, reviewId: c.reviewId, ...(state.planId !== undefined ? { planId: state.planId } : {}), openedAt: c.at },
    });
  }
  return events;
}

const DAY_MS = 86_400_000;

export interface ReviewSchedule {
  /**
   * The level the interval is taken for: the residual level under the criteria (the target of an
   * accepted risk, the evaluated level of a retained one, placed on their matrix); the recorded
   * label when they cannot place it (the interval is then their shortest).
   */
  level: string;
  intervalDays: number;
  /** The last review of this cycle, or the evaluation when there is none. */
  since: string;
  /** The instant the interval ends (`since` + the interval), ISO. */
  dueAt: string;
  /** The day in Japan the review falls due (of `dueAt`), YYYY-MM-DD (as controls' due dates; before 2026-12-02 the UTC day was recorded). */
  dueOn: string;
}

/** What of the criteria the review schedule reads: the intervals, and what places a level (LevelScales). */
export type ReviewCriteria = Pick<CriteriaDefinition, 'reviewIntervalDays'> & LevelScales;

/**
 * Art.12(3)-(4), Art.10: when a retained or accepted risk is next due for review, by the interval
 * the criteria set for its residual level under them (residualLevelUnder: the same level the
 * review compares with), counted from the last review of the cycle (or the evaluation). A level
 * they cannot place, or one they set no interval for, falls due at their shortest interval: a
 * change of criteria never takes a risk off the schedule. Undefined for a risk that is not reviewed.
 */
export function reviewSchedule(risk: RiskState, criteria: ReviewCriteria): ReviewSchedule | undefined {
  if (!risk.exists || (risk.status !== 'RETAINED' && risk.status !== 'ACCEPTED')) return undefined;
  const recorded = recordedResidual(risk);
  if (!recorded) return undefined;
  const placed = residualLevelUnder(risk, criteria);
  const level = placed ?? recorded.level;
  const shortest = criteria.reviewIntervalDays.length > 0 ? Math.min(...criteria.reviewIntervalDays.map((r) => r.days)) : undefined;
  const intervalDays = (placed !== undefined ? reviewIntervalDaysFor(criteria, placed) : undefined) ?? shortest;
  if (intervalDays === undefined) return undefined;
  const since = (risk.lastReview?.cycle === risk.cycle ? risk.lastReview.reviewedAt : undefined) ?? risk.evaluation?.evaluatedAt;
  if (!since) return undefined;
  const dueAt = new Date(new Date(since).getTime() + intervalDays * DAY_MS).toISOString();
  return { level, intervalDays, since, dueAt, dueOn: dayInJapan(dueAt) };
}

/**
 * The schedule when the review is due at `at`, else undefined: from the start of its due day in
 * Japan (`dueOn`), as a control is overdue by the day in Japan, not from the instant of that day.
 */
export function reviewDue(risk: RiskState, criteria: ReviewCriteria, at: string | Date): ReviewSchedule | undefined {
  const schedule = reviewSchedule(risk, criteria);
  return schedule && schedule.dueOn <= dayInJapan(at) ? schedule : undefined;
}

/**
 * Whether the risk has already recorded this review as due (RiskReviewBecameDue of its cycle for
 * that due day): the one check behind the deadline watch's sweep and the command it issues.
 * Builds before 2026-12-01 14:27 recorded the UTC day of the due instant, a day before the day in
 * Japan when the instant falls between 15:00 and 24:00 UTC; that record counts too, or an upgraded
 * server would record (and notify) the same review due a second time.
 */
export function reviewDueRecorded(risk: RiskState, due: ReviewSchedule): boolean {
  const recorded = risk.reviewDueRecorded;
  if (recorded?.cycle !== risk.cycle) return false;
  return recorded.dueOn === due.dueOn || recorded.dueOn === due.dueAt.slice(0, 10);
}
