import type { CriteriaDefinition } from '../../risk-criteria/domain/criteria.state.js';
import { dayInJapan } from '../../shared/domain/guards.js';
import { reviewDue } from '../domain/review.js';
import type { RiskState } from '../domain/risk.state.js';

export interface ReviewDue {
  risk: RiskState;
  /** The level the interval is taken for: the residual (target) level of an accepted risk, the evaluated level of a retained one. */
  level: string;
  intervalDays: number;
  /** The last review of this cycle, or the evaluation when there is none. */
  since: string;
  dueOn: string;
  overdueDays: number;
}

const DAY = 86_400_000;

/**
 * Art.12(3)-(4), Art.10: which retained or accepted risks are due for review on `asOf`, by the
 * interval the criteria in force set for their level. Oldest due date first.
 */
export function risksDueForReview(risks: readonly RiskState[], criteria: CriteriaDefinition | undefined, asOf: Date): ReviewDue[] {
  if (!criteria) return [];
  const due: ReviewDue[] = [];
  const today = Date.parse(dayInJapan(asOf));
  for (const risk of risks) {
    // The domain's one rule for when a review falls due (also behind RiskReviewBecameDue).
    const schedule = reviewDue(risk, criteria, asOf);
    if (!schedule) continue;
    const { level, intervalDays, since, dueOn } = schedule;
    // Whole days in Japan since the due day (0 on the day itself), as the due day is counted.
    const overdueDays = Math.round((today - Date.parse(dueOn)) / DAY);
    due.push({ risk, level, intervalDays, since, dueOn, overdueDays });
  }
  return due.sort((a, b) => a.dueOn.localeCompare(b.dueOn) || a.risk.id.localeCompare(b.risk.id));
}
