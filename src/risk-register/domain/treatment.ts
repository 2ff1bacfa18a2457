/**
 * Treatment (Art. 17) and controls (Art. 18): how a risk evaluated as above the acceptance level
 * is reduced, avoided or shared, down to a target level within acceptance (avoiding closes the
 * risk and gives up its assets, Art. 17(2)); then the controls that carry the treatment out, each
 * with the reason it was adopted (Art. 18(2)). Revising either invalidates a live consent (Art. 20).
 */
import { isWithinAcceptance, levelFor } from '../../risk-criteria/domain/scoring.js';
import { canonicalJson } from '../../shared/domain/canonical-json.js';
import { FieldErrors } from '../../shared/domain/errors.js';
import { checkIntIn, dayInJapan, isNonEmptyText, isRealDate, optionalText, requiredText, requireRole, violation, requiredUserId } from '../../shared/domain/guards.js';
import type { DecideControls, DecideTreatment } from './risk.commands.js';
import type { RiskClosed, RiskEvent } from './risk.events.js';
import { controlsCancelledByAvoidance } from './control-lifecycle.js';
import {
  RISK_TEXT_MAX_LENGTH,
  RISK_TITLE_MAX_LENGTH,
  RiskRules,
  refuseClosed,
  refuseFrozen,
  requireCriteria,
  requireRisk,
  withConsentInvalidation,
} from './risk.rules.js';
import { TREATED_STATUSES, TREATMENT_OPTIONS, type RiskControl, type RiskState, type RiskStatus, type RiskTreatment } from './risk.state.js';

/** The same treatment decided again: the same content, whoever decided it and whenever (already satisfied; it supersedes nothing in the record). */
export function sameTreatmentDecided(a: RiskTreatment, b: RiskTreatment): boolean {
  const key = (t: RiskTreatment) => canonicalJson({ ...t, decidedBy: undefined, decidedAt: undefined });
  return key(a) === key(b);
}

export function decideTreatment(c: DecideTreatment, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'decide treatments');
  refuseClosed(state, 'be treated');
  refuseFrozen(state, 'have its treatment changed');
  const criteria = requireCriteria(c.criteria);
  if (state.status !== 'TO_TREAT' && !(TREATED_STATUSES as readonly RiskStatus[]).includes(state.status)) {
    throw violation(
      RiskRules.RISK_NOT_TO_TREAT,
      `Risk ${state.id} is ${state.status}: only a risk evaluated as above the acceptance criterion (TO_TREAT) is treated`,
    );
  }

  const errors = new FieldErrors();
  if (!Array.isArray(c.options) || c.options.length === 0) errors.add('options', 'must name at least one treatment option');
  else {
    c.options.forEach((o, k) => {
      if (!(TREATMENT_OPTIONS as readonly unknown[]).includes(o)) errors.add(`options[${k}]`, `must be one of ${TREATMENT_OPTIONS.join(', ')}`);
      else if (c.options.indexOf(o) !== k) errors.add(`options[${k}]`, `duplicates ${o}`);
    });
  }
  const rationale = requiredText(errors, 'rationale', c.rationale, RISK_TEXT_MAX_LENGTH);
  checkIntIn(errors, 'targetLikelihood', c.targetLikelihood, 1, criteria.likelihoodLevels.length);
  checkIntIn(errors, 'targetImpact', c.targetImpact, 1, criteria.impactLevels.length);
  const counterparty = optionalText(errors, 'counterparty', c.counterparty, RISK_TITLE_MAX_LENGTH) ?? undefined;
  const contractReference = optionalText(errors, 'contractReference', c.contractReference, RISK_TITLE_MAX_LENGTH) ?? undefined;
  const options = Array.isArray(c.options) ? TREATMENT_OPTIONS.filter((o) => c.options.includes(o)) : [];
  if (options.includes('SHARE')) {
    if (counterparty === undefined) errors.add('counterparty', 'is required when sharing the risk (the outsourcee or insurer)');
    if (contractReference === undefined) errors.add('contractReference', 'is required when sharing the risk (the contract or policy)');
  }
  const retiredAssetIds = retiredOnAvoidance(errors, c, state, options);
  errors.throwIfAny();

  if (state.status === 'TO_TREAT' && state.evaluation && state.evaluation.criteriaId !== criteria.id) {
    throw violation(
      RiskRules.REEVALUATION_REQUIRED,
      `Risk ${state.id} was evaluated under criteria #${state.evaluation.criteriaNumber}; criteria #${criteria.number} are in force: evaluate it again`,
    );
  }

  const targetLevel = levelFor(criteria, c.targetLikelihood, c.targetImpact);
  if (!isWithinAcceptance(criteria, targetLevel)) {
    throw violation(
      RiskRules.TARGET_ABOVE_ACCEPTANCE,
      `The target level ${targetLevel} (likelihood ${c.targetLikelihood}, impact ${c.targetImpact}) is above ` +
        `the acceptance level ${criteria.acceptanceLevel} of criteria #${criteria.number}`,
    );
  }

  const treatment: RiskTreatment = {
    options,
    rationale,
    targetLikelihood: c.targetLikelihood,
    targetImpact: c.targetImpact,
    targetLevel,
    ...(counterparty !== undefined ? { counterparty } : {}),
    ...(contractReference !== undefined ? { contractReference } : {}),
    criteriaId: criteria.id,
    criteriaNumber: criteria.number,
    decidedBy: c.actor.id,
    decidedAt: c.at,
  };

  if (state.status !== 'TO_TREAT' && state.treatment) {
    if (sameTreatmentDecided(state.treatment, treatment)) return [];
  }

  let events = withConsentInvalidation(
    state,
    [{ type: 'RiskTreatmentDecided', data: { riskId: state.id, cycle: state.cycle, ...treatment } }],
    'TREATMENT_REVISED',
    c.at,
  );
  if (options.includes('AVOID')) {
    const closed: RiskClosed = {
      type: 'RiskClosed',
      data: { riskId: state.id, reason: 'AVOIDED', assetIds: retiredAssetIds, ...(state.planId ? { planId: state.planId } : {}), closedBy: c.actor.id, closedAt: c.at },
    };
    events = [...events, ...controlsCancelledByAvoidance(state, c.actor.id, c.at), closed];
  }
  return events;
}

/**
 * The assets an avoidance retires (RiskClosed.assetIds), in the risk's order: those the command
 * names, each an asset of the risk, or all of them when it names none (the rule before 2026-12-06).
 * An avoidance may give up the business and keep an asset that other business still uses (a
 * database shared with spot trading when OTC trading stops): it retired every asset until then,
 * and the inventory showed one in use as retired (compliance probe H1).
 */
function retiredOnAvoidance(errors: FieldErrors, c: DecideTreatment, state: RiskState, options: readonly string[]): string[] {
  const named = c.retiredAssetIds;
  if (named === undefined || named === null) return [...state.assetIds];
  if (!Array.isArray(named)) {
    errors.add('retiredAssetIds', 'must be a list of asset ids');
    return [];
  }
  if (!options.includes('AVOID')) errors.add('retiredAssetIds', 'is only given with AVOID (the assets whose use is given up)');
  named.forEach((id, k) => {
    if (!state.assetIds.includes(id)) errors.add(`retiredAssetIds[${k}]`, `is not an asset of risk ${state.id}`);
    else if (named.indexOf(id) !== k) errors.add(`retiredAssetIds[${k}]`, `duplicates ${id}`);
  });
  return state.assetIds.filter((id) => named.includes(id));
}

export function decideControls(c: DecideControls, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'decide controls');
  refuseClosed(state, 'get controls');
  refuseFrozen(state, 'have its controls changed');
  if (!(TREATED_STATUSES as readonly RiskStatus[]).includes(state.status)) {
    throw violation(RiskRules.TREATMENT_REQUIRED, `Risk ${state.id} is ${state.status}: controls make a decided treatment concrete (decide the treatment first)`);
  }

  const errors = new FieldErrors();
  // The day in Japan, as `overdue` counts it (isControlOverdue): a control decided at 05:00 in
  // Japan (20:00 UTC the day before) may not be due the day before, overdue from the start.
  const decisionDate = dayInJapan(c.at);
  if (!Array.isArray(c.controls) || c.controls.length === 0) errors.add('controls', 'must name at least one control');
  else {
    c.controls.forEach((ctl, k) => {
      const f = `controls[${k}]`;
      if (!isNonEmptyText(ctl?.controlId)) errors.add(`${f}.controlId`, 'is required');
      else if (c.controls.findIndex((x) => x?.controlId === ctl.controlId) !== k) errors.add(`${f}.controlId`, `duplicates ${ctl.controlId}`);
      if (ctl?.existingControlId != null) {
        if (!state.controls.some((x) => x.controlId === ctl.existingControlId)) errors.add(`${f}.existingControlId`, `is not a control of risk ${state.id}`);
        else if (c.controls.findIndex((x) => x?.existingControlId === ctl.existingControlId) !== k) errors.add(`${f}.existingControlId`, `duplicates ${ctl.existingControlId}`);
      }
      const title = requiredText(errors, `${f}.title`, ctl?.title, RISK_TITLE_MAX_LENGTH);
      // A control decided again is matched by its title when existingControlId does not name it: two of
      // one title made that match pick one of them, and the other's progress was lost (compliance probe 2026-12-04).
      const twin = title === '' ? -1 : c.controls.findIndex((x) => typeof x?.title === 'string' && x.title.trim() === title);
      if (twin >= 0 && twin < k) errors.add(`${f}.title`, `repeats the title of controls[${twin}]: give each control a title of its own`);
      requiredText(errors, `${f}.description`, ctl?.description, RISK_TEXT_MAX_LENGTH);
      requiredUserId(errors, `${f}.ownerId`, ctl?.ownerId);
      if (!isRealDate(ctl?.dueDate)) errors.add(`${f}.dueDate`, 'must be a real date written YYYY-MM-DD');
      else if (ctl.dueDate < decisionDate) errors.add(`${f}.dueDate`, `must not be before the decision date ${decisionDate}`);
      requiredText(errors, `${f}.reason`, ctl?.reason, RISK_TEXT_MAX_LENGTH);
      optionalText(errors, `${f}.reference`, ctl?.reference, RISK_TITLE_MAX_LENGTH);
    });
  }
  errors.throwIfAny();

  const ids = keptControlIds(c, state);
  const controls: RiskControl[] = c.controls.map((ctl, k) => ({
    controlId: ids[k]!,
    title: ctl.title.trim(),
    description: ctl.description.trim(),
    ownerId: ctl.ownerId.trim(),
    dueDate: ctl.dueDate,
    reason: ctl.reason.trim(),
    ...(isNonEmptyText(ctl.reference) ? { reference: ctl.reference.trim() } : {}),
  }));
  if (state.status !== 'TREATMENT_DECIDED' && canonicalJson(controls) === canonicalJson(state.controls)) return [];

  return withConsentInvalidation(
    state,
    [{ type: 'ControlsDecided', data: { riskId: state.id, cycle: state.cycle, controls, decidedBy: c.actor.id, decidedAt: c.at } }],
    'CONTROLS_REVISED',
    c.at,
  );
}

/**
 * The id each decided control gets. A control decided again keeps its id, and so its progress
 * (Art.18, 19): the one it names by `existingControlId`, else the current control with the same
 * title (trimmed) not already taken; any other control is new and gets the id the application made.
 */
function keptControlIds(c: DecideControls, state: RiskState): string[] {
  const taken = new Set(c.controls.map((ctl) => ctl.existingControlId).filter((id): id is string => typeof id === 'string'));
  return c.controls.map((ctl) => {
    if (typeof ctl.existingControlId === 'string') return ctl.existingControlId;
    const same = state.controls.find((x) => !taken.has(x.controlId) && x.title === ctl.title.trim());
    if (!same) return ctl.controlId;
    taken.add(same.controlId);
    return same.controlId;
  });
}
