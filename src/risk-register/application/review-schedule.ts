import { reviewIntervalDaysFor } from '../../risk-criteria/domain/scoring.js';
import type { CriteriaDefinition } from '../../risk-criteria/domain/criteria.state.js';
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
export function risksDueForReview(risks: RiskState[], criteria: CriteriaDefinition | undefined, asOf: Date): ReviewDue[] {
  if (!criteria) return [];
  const due: ReviewDue[] = [];
  for (const risk of risks) {
    if (risk.status !== 'RETAINED' && risk.status !== 'ACCEPTED') continue;
    const level = risk.status === 'ACCEPTED' ? risk.treatment?.targetLevel : risk.evaluation?.level;
    if (!level) continue;
    const intervalDays = reviewIntervalDaysFor(criteria, level);
    if (intervalDays === undefined) continue;
    const lastReview = risk.reviews.filter((r) => r.cycle === risk.cycle).at(-1)?.reviewedAt;
    const since = lastReview ?? risk.evaluation?.evaluatedAt;
    if (!since) continue;
    const dueAt = new Date(since).getTime() + intervalDays * DAY;
    if (dueAt > asOf.getTime()) continue;
    due.push({ risk, level, intervalDays, since, dueOn: new Date(dueAt).toISOString().slice(0, 10), overdueDays: Math.floor((asOf.getTime() - dueAt) / DAY) });
  }
  return due.sort((a, b) => a.dueOn.localeCompare(b.dueOn) || a.risk.id.localeCompare(b.risk.id));
}
