/**
 * The rules of the Risk aggregate (each with its stable id and article), its limits, and the
 * checks that several stages share: the risk exists, is not closed (Art. 17), is not frozen
 * while its plan awaits the board (Art. 19), criteria are in force (Art. 13(1)), and a material
 * change invalidates the owner's consent (Art. 20). The generic checks (roles, text, dates) come
 * from shared/domain/guards.ts.
 */
import type { AssetState } from '../../asset-inventory/domain/asset.state.js';
import type { CriteriaVersionState } from '../../risk-criteria/domain/criteria.state.js';
import type { DomainActor, Role } from '../../shared/domain/decider.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { defineRules, requireActorOrRole, violation } from '../../shared/domain/guards.js';
import type { IdentifyRisk, RiskCommand } from './risk.commands.js';
import type { ConsentInvalidationReason, RiskEvent } from './risk.events.js';
import { isFrozenForBoard, type RiskState } from './risk.state.js';

// ---------------------------------------------------------------------------------------------
// Limits, articles, rule ids
// ---------------------------------------------------------------------------------------------

export const RISK_TITLE_MAX_LENGTH = 200;
export const RISK_TEXT_MAX_LENGTH = 10_000;
/** Threat and vulnerability levels of a detailed analysis (Art. 15(2)(3)). */
export const DETAILED_LEVEL_MIN = 1;
export const DETAILED_LEVEL_MAX = 3;

/** Stable rule ids (RuleViolationError.rule) with the article each comes from. */
export const RiskRules = defineRules({
  RISK_ALREADY_IDENTIFIED: 'Art.14(1)',
  ASSET_RETIRED: 'Art.14(2)',
  NO_CRITERIA_IN_FORCE: 'Art.13(1)',
  RISK_CLOSED: 'Art.17',
  ANALYSIS_REQUIRED: 'Art.15',
  REQUIRED_METHOD_NOT_APPLIED: 'Art.13(2)',
  RISK_ALREADY_IN_TREATMENT: 'Art.16',
  RISK_NOT_TO_TREAT: 'Art.16',
  RISK_NOT_WITHDRAWABLE: 'Art.14(1)',
  REEVALUATION_REQUIRED: 'Art.16',
  TARGET_ABOVE_ACCEPTANCE: 'Art.17',
  TREATMENT_REQUIRED: 'Art.18',
  RISK_CONTROLS_NOT_DECIDED: 'Art.19(1)',
  RISK_IN_OTHER_PLAN: 'Art.19',
  RISK_IN_SUBMITTED_PLAN: 'Art.19',
  RISK_NOT_IN_PLAN: 'Art.20',
  CONSENT_NOT_REQUESTED: 'Art.20',
  CONSENT_STALE: 'Art.20',
  RESIDUAL_LEVEL_NOT_APPROVED: 'Art.19(2)',
  PLAN_CONTENT_NOT_APPROVED: 'Art.19(2)',
  RESIDUAL_ABOVE_ACCEPTANCE: 'Art.13(1)',
  ANALYSIS_BEYOND_CRITERIA: 'Art.16',
  REVIEW_NOT_DUE: 'Art.12(3)',
  CONTROLS_NOT_IMPLEMENTED: 'Art.12(3)',
  CONTROL_FINAL: 'Art.18',
  CONTROL_TRANSITION_NOT_ALLOWED: 'Art.19',
  CONTROL_SELF_VERIFICATION: 'Art.12(3)',
});
export type RiskRuleId = keyof typeof RiskRules;

// ---------------------------------------------------------------------------------------------
// Checks shared by the stages
// ---------------------------------------------------------------------------------------------

/** The risk's owner, or an actor with one of `roles` (and no auditor). */
export function requireOwnerOr(actor: DomainActor, state: RiskState, roles: readonly Role[], action: string): void {
  requireActorOrRole(actor, { id: state.ownerId, as: "the risk's owner" }, roles, action);
}

export function requireRisk(command: Exclude<RiskCommand, IdentifyRisk>, state: RiskState): void {
  if (!state.exists || state.id !== command.riskId) throw new NotFoundError('Risk', command.riskId);
}

export function refuseClosed(state: RiskState, action: string): void {
  if (state.status === 'CLOSED') {
    throw violation(RiskRules.RISK_CLOSED, `Risk ${state.id} was closed (${state.closedReason ?? 'closed'}) on ${state.closedAt ?? '?'}; it can no longer ${action}`);
  }
}

/** Art. 19: while the plan the risk is in awaits the board, what the board sees must not change. */
export function refuseFrozen(state: RiskState, action: string): void {
  if (isFrozenForBoard(state)) {
    throw violation(
      RiskRules.RISK_IN_SUBMITTED_PLAN,
      `Risk ${state.id} is in plan ${state.submittedInPlan}, submitted to the board: it cannot ${action} until the board decides or the plan is withdrawn`,
    );
  }
}

export function requireCriteria(criteria: CriteriaVersionState | undefined): CriteriaVersionState {
  if (!criteria) throw violation(RiskRules.NO_CRITERIA_IN_FORCE, 'No risk criteria are in force: they must be approved before risks are assessed');
  return criteria;
}

/**
 * Consent the owner has given or is asked to give (PENDING or ACCEPTED) for the plan the risk is
 * in, which a material change invalidates. An acceptance kept after its plan closed is the record
 * of what was said to that plan: no plan asks again, so nothing is invalidated.
 */
export function hasLiveConsent(state: RiskState): boolean {
  return (
    (state.status === 'AWAITING_CONSENT' || state.status === 'ACCEPTED') &&
    (state.consent?.status === 'PENDING' || state.consent?.status === 'ACCEPTED') &&
    state.planId !== undefined &&
    state.consent.planId === state.planId
  );
}

/** Appends ResidualConsentInvalidated after a material change event when a live consent exists. */
export function withConsentInvalidation(state: RiskState, changes: RiskEvent[], reason: ConsentInvalidationReason, at: string): RiskEvent[] {
  if (!hasLiveConsent(state) || !state.consent) return changes;
  return [
    ...changes,
    {
      type: 'ResidualConsentInvalidated',
      data: {
        riskId: state.id,
        planId: state.consent.planId,
        planRevision: state.consent.planRevision,
        reason,
        atVersion: state.version + changes.length,
        invalidatedAt: at,
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Assets passed in the command
// ---------------------------------------------------------------------------------------------

export function findAsset(assets: readonly AssetState[] | undefined, id: string): AssetState | undefined {
  return (assets ?? []).find((a) => a.exists && a.id === id);
}

/** The assets named by `ids`, in that order; one the application did not find is NOT_FOUND. */
export function requireAssets(assets: readonly AssetState[] | undefined, ids: readonly string[]): AssetState[] {
  return ids.map((id) => {
    const asset = findAsset(assets, id);
    if (!asset) throw new NotFoundError('Asset', id);
    return asset;
  });
}
