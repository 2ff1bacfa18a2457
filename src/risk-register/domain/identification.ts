/**
 * Identification (Art. 14): who may identify a risk and on which assets, the threat and
 * vulnerability it links (Art. 14(1)), the refusal of retired assets (Art. 14(2)) and the sources
 * it cites (Art. 15(3)); and the reassignment of the risk's owner, which invalidates a live
 * residual consent (Art. 20).
 */
import { FieldErrors, ForbiddenError } from '../../shared/domain/errors.js';
import { canonicalJson } from '../../shared/domain/canonical-json.js';
import { sameDepartment } from '../../asset-inventory/domain/asset-name.decider.js';
import { hasRole, isNonEmptyText, optionalText, requiredText, requireRole, textList, violation, requiredUserId } from '../../shared/domain/guards.js';
import type { IdentifyRisk, ReassignRiskOwner, WithdrawRisk } from './risk.commands.js';
import type { RiskEvent, RiskIdentified } from './risk.events.js';
import {
  RISK_TEXT_MAX_LENGTH,
  RISK_TITLE_MAX_LENGTH,
  RiskRules,
  refuseClosed,
  refuseFrozen,
  requireAssets,
  requireRisk,
  withConsentInvalidation,
} from './risk.rules.js';
import type { RiskState, RiskStatus } from './risk.state.js';

export function decideIdentify(c: IdentifyRisk, state: RiskState): RiskEvent[] {
  requireRole(c.actor, ['RISK_OWNER', 'ASSET_MANAGER', 'COMMITTEE_MEMBER', 'CISO'], 'identify risks');
  const errors = new FieldErrors();
  errors.check(isNonEmptyText(c.riskId), 'riskId', 'is required');
  const title = requiredText(errors, 'title', c.title, RISK_TITLE_MAX_LENGTH);
  const description = optionalText(errors, 'description', c.description, RISK_TEXT_MAX_LENGTH) ?? '';
  if (!Array.isArray(c.assetIds) || c.assetIds.length === 0) errors.add('assetIds', 'must name at least one asset');
  else {
    c.assetIds.forEach((id, i) => {
      if (!isNonEmptyText(id)) errors.add(`assetIds[${i}]`, 'must be an asset id');
      else if (c.assetIds.indexOf(id) !== i) errors.add(`assetIds[${i}]`, `duplicates ${id}`);
    });
  }
  requiredText(errors, 'threatId', c.threatId, RISK_TEXT_MAX_LENGTH);
  requiredText(errors, 'vulnerabilityId', c.vulnerabilityId, RISK_TEXT_MAX_LENGTH);
  const ownerId = requiredUserId(errors, 'ownerId', c.ownerId);
  const externalReferences = textList(errors, 'externalReferences', c.externalReferences, RISK_TEXT_MAX_LENGTH);
  errors.throwIfAny();

  if (state.exists) {
    // A retry of the same identification is already satisfied; anything else reuses an id.
    const same =
      state.id === c.riskId &&
      state.title === title &&
      state.description === description &&
      canonicalJson(state.assetIds) === canonicalJson(c.assetIds) &&
      state.threatId === c.threatId &&
      state.vulnerabilityId === c.vulnerabilityId;
    if (same) return [];
    throw violation(RiskRules.RISK_ALREADY_IDENTIFIED, `Risk ${state.id} is already identified with different details`);
  }

  const assets = requireAssets(c.assets, c.assetIds);

  // An ASSET_MANAGER without a broader role acts only on assets of their own department.
  if (!hasRole(c.actor, 'RISK_OWNER', 'COMMITTEE_MEMBER', 'CISO')) {
    const foreign = assets.find((a) => !sameDepartment(c.actor.department, a.department));
    if (foreign) {
      throw new ForbiddenError(
        `An ASSET_MANAGER may identify risks only on assets of their own department (${c.actor.department ?? 'none'}); ` +
          `${foreign.id} belongs to ${foreign.department}`,
      );
    }
  }

  const threatAsset = assets.find((a) => a.threats.some((t) => t.id === c.threatId));
  const threat = threatAsset?.threats.find((t) => t.id === c.threatId);
  const links = new FieldErrors();
  if (!threat) links.add('threatId', `is not a threat identified on any of the assets ${c.assetIds.join(', ')}`);
  else if (!threat.vulnerabilities.some((v) => v.id === c.vulnerabilityId)) {
    links.add('vulnerabilityId', `is not a vulnerability of threat ${c.threatId}`);
  }
  links.throwIfAny();

  const retired = assets.find((a) => a.status === 'RETIRED');
  if (retired) {
    throw violation(RiskRules.ASSET_RETIRED, `Asset ${retired.id} was retired on ${retired.retiredAt ?? '?'}: it is no longer in the inventory`);
  }

  const data: RiskIdentified['data'] = {
    riskId: c.riskId,
    title,
    description,
    assetIds: [...c.assetIds],
    threatId: c.threatId,
    threatAssetId: threatAsset!.id,
    vulnerabilityId: c.vulnerabilityId,
    ownerId,
    externalReferences,
    identifiedBy: c.actor.id,
    identifiedAt: c.at,
  };

  return [{ type: 'RiskIdentified', data }];
}

/** Statuses a risk may be withdrawn from: nothing decided on it yet but its analysis and evaluation. */
const WITHDRAWABLE: readonly RiskStatus[] = ['IDENTIFIED', 'ANALYSED', 'TO_TREAT', 'RETAINED'];

/**
 * Withdraws a risk identified in error or twice (Art.14(1): the register names the risks there
 * are). Only before its treatment, in its first cycle: a treated or reviewed risk is in the
 * Art.18 record and maybe before the board, and leaves the register by avoidance (Art.17). It
 * stays in the register, CLOSED (WITHDRAWN, with who, when and why), its assets untouched.
 * Withdrawn already: nothing to do.
 */
export function decideWithdrawal(c: WithdrawRisk, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'withdraw risks');
  const errors = new FieldErrors();
  const explanation = requiredText(errors, 'reason', c.reason, RISK_TEXT_MAX_LENGTH);
  errors.throwIfAny();
  // Withdrawn already: for the same reason, nothing more; for another, refused (RISK_CLOSED), not
  // answered as done with the new reason dropped (probes of 2026-12-06, Art.20 L4 and auditor F4).
  if (state.status === 'CLOSED' && state.closedReason === 'WITHDRAWN' && state.closedExplanation === explanation) return [];
  refuseClosed(state, 'be withdrawn');
  // A risk in its second cycle or later was found real by a review (Art.12(3)): its earlier cycles
  // are in the register and maybe in an approved plan, whatever its status now (hostile probe of
  // 2026-12-06, F1: reopened by a finding, it read as never treated and was withdrawn).
  if (state.cycle > 1) {
    throw violation(
      RiskRules.RISK_NOT_WITHDRAWABLE,
      `Risk ${state.id} is in its cycle ${state.cycle}: a review reopened it (Art.12(3)), so it was not identified in error; it leaves the register by avoidance (decideTreatment with AVOID, Art.17)`,
    );
  }
  if (!WITHDRAWABLE.includes(state.status) || state.treatment || state.planId) {
    throw violation(
      RiskRules.RISK_NOT_WITHDRAWABLE,
      `Risk ${state.id} is ${state.status}: only a risk not yet treated (${WITHDRAWABLE.join(', ')}) is withdrawn; a treated risk leaves the register by avoidance (decideTreatment with AVOID, Art.17)`,
    );
  }
  return [{ type: 'RiskClosed', data: { riskId: state.id, reason: 'WITHDRAWN', assetIds: [], explanation, closedBy: c.actor.id, closedAt: c.at } }];
}

export function decideReassignOwner(c: ReassignRiskOwner, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'reassign risk owners');
  refuseClosed(state, 'change owner');
  refuseFrozen(state, 'change owner');
  const errors = new FieldErrors();
  const ownerId = requiredUserId(errors, 'ownerId', c.ownerId);
  errors.throwIfAny();
  if (ownerId === state.ownerId) return [];
  return withConsentInvalidation(
    state,
    [{ type: 'RiskOwnerReassigned', data: { riskId: state.id, previousOwnerId: state.ownerId, ownerId, ...(state.planId ? { planId: state.planId } : {}), reassignedBy: c.actor.id, reassignedAt: c.at } }],
    'OWNER_REASSIGNED',
    c.at,
  );
}
