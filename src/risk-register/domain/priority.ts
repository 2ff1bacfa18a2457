/**
 * Treatment priority (Art. 16): which risks still have a treatment to carry through, and the
 * order of the register: those first, then by level (highest first), asset value (highest
 * first) and age (oldest first), the id breaking ties. The register projection stores both.
 */
import type { RiskState, RiskStatus } from './risk.state.js';

/** Statuses whose treatment is still to be carried through: these get a treatment priority (Art. 16). */
export const PRIORITISED_STATUSES: readonly RiskStatus[] = ['TO_TREAT', 'TREATMENT_DECIDED', 'CONTROLS_DECIDED', 'IN_PLAN', 'AWAITING_CONSENT'];

export function isPrioritised(state: RiskState): boolean {
  return PRIORITISED_STATUSES.includes(state.status);
}

/**
 * Order key of the register. One text key so that keyset pagination is a single comparison:
 * `<0 prioritised | 1 not>|<99 - level rank, 3 digits>|<3 - asset value>|<identifiedAt>|<id>`.
 * The level is the evaluated one of the current cycle, else the highest analysis of the cycle
 * (-1: none yet). Stored in the read model: changing its form needs a rebuild.
 */
export function sortKey(state: RiskState): string {
  const rank =
    state.evaluation && state.evaluation.cycle === state.cycle
      ? state.evaluation.levelRank
      : state.cycleAnalyses.reduce((m, c) => Math.max(m, c.top.levelRank), -1);
  const value = state.evaluation?.assetValue ?? 0;
  return [isPrioritised(state) ? 0 : 1, String(99 - rank).padStart(3, '0'), 3 - value, state.identifiedAt, state.id].join('|');
}

/**
 * Whether `key` has sortKey's form: a cursor carries one, and a malformed one with a list's right
 * fingerprint paged after it silently (an empty key: from the start; race probe of 2026-12-06, F3).
 */
export function isSortKey(key: string): boolean {
  return /^[01]\|\d{3}\|-?\d+\|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})\|[^\p{Cc}]{1,128}$/u.test(key);
}
