/**
 * The plan (Art. 19) and residual consent (Art. 20), as the risk sees them. The process manager
 * issues these commands (system actor, no role check) in the same append as the plan's own
 * decision: a risk joins one plan at a time, is frozen while the board decides on it, and leaves
 * the plan when it is removed or closed. The owner's consent is decided here, on the risk, whose
 * stream orders it against every material change; it is pinned to `consentFingerprint`.
 */
import { hash } from 'node:crypto';
import type { AssetState } from '../../asset-inventory/domain/asset.state.js';
import type { CriteriaVersionState } from '../../risk-criteria/domain/criteria.state.js';
import { canonicalJson } from '../../shared/domain/canonical-json.js';
import { FieldErrors } from '../../shared/domain/errors.js';
import { isIntIn, optionalText, requireActorOrRole, requiredText, violation } from '../../shared/domain/guards.js';
import type { AwaitResidualConsent, FreezeForBoard, IncludeInPlan, LeavePlan, RecordResidualConsent, ReleaseFromBoard } from './risk.commands.js';
import type { RiskEvent } from './risk.events.js';
import { RISK_TEXT_MAX_LENGTH, RiskRules, refuseClosed, requireRisk } from './risk.rules.js';
import { progressOf } from './control.state.js';
import { acceptableUnder, analysisBeyondScales, residualLevelUnder, type BoardContent, type RiskConsent, type RiskState, type RiskStatus } from './risk.state.js';

/**
 * SHA-256 (hex) of the canonical JSON (canonicalJson: keys sorted, no whitespace, undefined left
 * out) of what an owner consents to: id, cycle, level, likelihood, impact, criteriaNumber,
 * treatment, controls, ownerId.
 */
export function consentFingerprint(state: RiskState): string {
  const content = {
    id: state.id,
    cycle: state.cycle,
    level: state.level,
    likelihood: state.likelihood,
    impact: state.impact,
    criteriaNumber: state.criteriaNumber,
    treatment: state.treatment,
    controls: state.controls,
    ownerId: state.ownerId,
  };
  return hash('sha256', canonicalJson(content), 'hex');
}

/**
 * What the board decides on for a risk (Art. 19(2)): SHA-256 fingerprints (canonicalJson) of its
 * treatment (options, rationale, target, the SHARE counterparty and contract) and of its controls
 * (each one's title, description, owner, due date, reason and reference, in order; a cancelled one
 * left out, as it is no longer part of what is done). Who decided them, when, and under which
 * criteria are left out (the level the board approved is kept and checked on its own), and so is
 * each control's id and progress: deciding the same controls again, or implementing them, changes
 * nothing the board saw.
 */
export function boardContentOf(state: RiskState): BoardContent {
  const t = state.treatment;
  const treatment = t ? { options: t.options, rationale: t.rationale, targetLikelihood: t.targetLikelihood, targetImpact: t.targetImpact, counterparty: t.counterparty, contractReference: t.contractReference } : null;
  const controls = state.controls
    .filter((c) => progressOf(state, c.controlId).status !== 'CANCELLED')
    .map((c) => ({ title: c.title, description: c.description, ownerId: c.ownerId, dueDate: c.dueDate, reason: c.reason, reference: c.reference }));
  return { treatment: hash('sha256', canonicalJson(treatment), 'hex'), controls: hash('sha256', canonicalJson(controls), 'hex') };
}

const PLANNED_STATUSES: readonly RiskStatus[] = ['IN_PLAN', 'AWAITING_CONSENT', 'ACCEPTED'];

/**
 * Whether an acceptance the owner recorded is still the risk's consent: not made stale by a
 * material change, withdrawn by a decline, or followed by another acceptance since. The plan
 * learns only such an acceptance (plan-risk-reactions.ts).
 */
export function isCurrentAcceptance(state: RiskState, accepted: { planId: string; atVersion: number; fingerprint: string }): boolean {
  const consent = state.consent;
  return consent?.status === 'ACCEPTED' && consent.planId === accepted.planId && consent.atVersion === accepted.atVersion && consent.fingerprint === accepted.fingerprint;
}

/**
 * The risk's consent as `plan` sees it: the one asked for in that plan's revision, or none. An
 * answer stays on the risk after it leaves a plan (the record of what was said to which plan),
 * so the consent the risk holds may be another plan's; shown beside this one it would pass for
 * this plan's answer (probe p14 M4).
 */
export function consentInPlan(state: RiskState, plan: { id: string; revision: number }): RiskConsent | undefined {
  return answerInPlan(state.consent, plan);
}

/** What a consent says about the owner's answer: which plan revision, which answer, to which content, when. */
export type ConsentAnswer = Pick<RiskConsent, 'planId' | 'planRevision' | 'status' | 'atVersion' | 'fingerprint'>;

/** consentInPlan for an answer alone (a risk not folded: see acceptanceAnswer). */
export function answerInPlan<A extends ConsentAnswer>(answer: A | undefined, plan: { id: string; revision: number }): A | undefined {
  return answer?.planId === plan.id && answer.planRevision === plan.revision ? answer : undefined;
}

/**
 * The answer an owner's acceptance records, from the event alone: the acceptance sets it whole
 * (risk.evolve.ts builds the risk's consent on it), so a reader that needs no more of the risk
 * than the answer (the plan's itemLagsRisk) may judge from the acceptance instead of folding the risk.
 */
export function acceptanceAnswer(d: { planId: string; planRevision: number; atVersion: number; fingerprint: string }): ConsentAnswer {
  return { planId: d.planId, planRevision: d.planRevision, status: 'ACCEPTED', atVersion: d.atVersion, fingerprint: d.fingerprint };
}

export function decideIncludeInPlan(c: IncludeInPlan, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  refuseClosed(state, 'be planned');
  const errors = new FieldErrors();
  requiredText(errors, 'planId', c.planId, RISK_TEXT_MAX_LENGTH);
  errors.throwIfAny();
  if (state.planId === c.planId) return [];
  if (state.planId !== undefined) {
    throw violation(RiskRules.RISK_IN_OTHER_PLAN, `Risk ${state.id} is already an item of plan ${state.planId}, which is not closed: remove it there first`);
  }
  if (state.status !== 'CONTROLS_DECIDED') {
    throw violation(RiskRules.RISK_CONTROLS_NOT_DECIDED, `Risk ${state.id} is ${state.status}: only a risk whose controls are decided can be put in the plan (Art.19(1))`);
  }
  return [{ type: 'RiskIncludedInPlan', data: { riskId: state.id, planId: c.planId, includedAt: c.at } }];
}

export function decideFreezeForBoard(c: FreezeForBoard, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  if (state.submittedInPlan === c.planId) return [];
  if (state.planId !== c.planId) throw violation(RiskRules.RISK_NOT_IN_PLAN, `Risk ${state.id} is not an item of plan ${c.planId}`);
  // Which assets were retired is recorded in log order (the assets read in the submission's attempt),
  // for ASSET_RETIRED: the commands' own instants do not order two streams (review of 2026-12-07, M4).
  const retiredAssetIds = c.assets?.filter((a) => state.assetIds.includes(a.id) && a.status === 'RETIRED').map((a) => a.id);
  return [{ type: 'RiskSubmittedToBoard', data: { riskId: state.id, planId: c.planId, planRevision: c.planRevision, submittedAt: c.at, ...(retiredAssetIds ? { retiredAssetIds } : {}) } }];
}

export function decideReleaseFromBoard(c: ReleaseFromBoard, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  if (state.submittedInPlan !== c.planId) return [];
  return [{ type: 'RiskReleasedFromBoard', data: { riskId: state.id, planId: c.planId, reason: c.reason, releasedAt: c.at } }];
}

export function decideLeavePlan(c: LeavePlan, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  if (state.planId !== c.planId) return [];
  return [{ type: 'RiskLeftPlan', data: { riskId: state.id, planId: c.planId, reason: c.reason, leftAt: c.at } }];
}

/** The owner declined the residual risk in `planId` and the decline sent the risk back to treatment: nothing is asked or accepted there until it is planned again. */
function declinedAndBackInTreatment(state: RiskState, planId: string): boolean {
  const consent = state.consent;
  return consent?.planId === planId && consent.status === 'DECLINED' && !PLANNED_STATUSES.includes(state.status);
}

function requireSamePlan(state: RiskState, planId: string): void {
  if (!PLANNED_STATUSES.includes(state.status) || state.planId !== planId) {
    // A risk submitted to the board in that plan and that has left it since: the plan may still list
    // its item (REOPENED until the committee removes it), so "not an item" alone misled (compliance probe 2026-12-04).
    // Nor "not an item any more" alone: a closed plan keeps listing the item with its last answer (PostgreSQL probe L1).
    const left = state.boardSubmission?.planId === planId && state.planId !== planId;
    if (left) {
      throw violation(
        RiskRules.RISK_NOT_IN_PLAN,
        `Risk ${state.id} (${state.status}) no longer awaits its owner's answer in plan ${planId}: it has left that plan since it was submitted to the board in it ` +
          `(a review finding reopened it, now cycle ${state.cycle}; or it was removed from the plan, or the plan was closed, which keeps listing the item with its last answer); nothing is asked of its owner there`,
      );
    }
    throw violation(RiskRules.RISK_NOT_IN_PLAN, `Risk ${state.id} (${state.status}) is not an item of plan ${planId}`);
  }
}

/**
 * A consent made stale that no question answers: the owner is asked again at once when a
 * material change voids a consent (plan-risk-reactions.ts), but a server upgraded in place
 * resumes its reactions after invalidations an older build passed over without asking (builds
 * before 2026-12-01 11:04), and such a risk would stay STALE for good: only declining works. The
 * deadline watch asks these again (the same plan revision, keeping the level the board approved).
 */
export function staleWithoutQuestion(state: RiskState): { planId: string; planRevision: number } | undefined {
  const consent = state.consent;
  return state.status === 'AWAITING_CONSENT' && consent?.status === 'STALE' ? { planId: consent.planId, planRevision: consent.planRevision } : undefined;
}

export function decideAwaitConsent(c: AwaitResidualConsent, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  // Closed (avoided) since the request was due: there is no residual risk left to consent to.
  if (state.status === 'CLOSED') return [];
  const errors = new FieldErrors();
  requiredText(errors, 'planId', c.planId, RISK_TEXT_MAX_LENGTH);
  if (!isIntIn(c.planRevision, 0, Number.MAX_SAFE_INTEGER)) errors.add('planRevision', 'must be a non-negative integer');
  errors.throwIfAny();
  const consent = state.consent;
  // The owner declined in the meantime (a decline may answer a stale request): nothing to ask.
  if (declinedAndBackInTreatment(state, c.planId) && consent?.planRevision === c.planRevision) return [];
  requireSamePlan(state, c.planId);
  if (state.status === 'AWAITING_CONSENT' && consent?.status === 'PENDING' && consent.planRevision === c.planRevision) return [];
  if (state.status === 'ACCEPTED' && consent?.status === 'ACCEPTED' && consent.planRevision === c.planRevision) return [];
  const sameRequest = consent?.planId === c.planId && consent.planRevision === c.planRevision;
  const approvedResidualLevel = c.approvedResidualLevel ?? (sameRequest ? consent.approvedResidualLevel : undefined);
  return [
    {
      type: 'RiskAwaitingResidualConsent',
      data: {
        riskId: state.id,
        planId: c.planId,
        planRevision: c.planRevision,
        ownerId: state.ownerId,
        fingerprint: consentFingerprint(state),
        atVersion: state.version,
        ...(state.treatment ? { residualLevel: state.treatment.targetLevel } : {}),
        ...(approvedResidualLevel !== undefined ? { approvedResidualLevel } : {}),
        requestedAt: c.at,
      },
    },
  ];
}

export function decideRecordConsent(c: RecordResidualConsent, state: RiskState): RiskEvent[] {
  requireRisk(c, state);
  // Art. 20: the owner of that risk, no one else, whatever their other roles (not an ADMIN-only token: requireActorOrRole).
  requireActorOrRole(c.actor, { id: state.ownerId, as: `the risk's owner (${state.ownerId})` }, [], 'accept or decline its residual risk');
  refuseClosed(state, 'be consented to');
  const errors = new FieldErrors();
  requiredText(errors, 'planId', c.planId, RISK_TEXT_MAX_LENGTH);
  if (typeof c.accepted !== 'boolean') errors.add('accepted', 'must be true or false');
  const reason = c.accepted === false ? requiredText(errors, 'reason', c.reason, RISK_TEXT_MAX_LENGTH) : '';
  const statement = optionalText(errors, 'statement', c.statement, RISK_TEXT_MAX_LENGTH) ?? undefined;
  errors.throwIfAny();
  const consent = state.consent;
  // Already in the requested state: nothing to do.
  if (consent && consent.planId === c.planId) {
    if (c.accepted && state.status === 'ACCEPTED' && consent.status === 'ACCEPTED') {
      // Already accepted, and nothing to record; but an owner who accepts again under criteria that
      // now place the residual above their acceptance level is told so, not answered as if their
      // acceptance were given under them (auditor probe F1): the one recorded stands until declined.
      // Sent again with other words, it is not the same acceptance: answered as done, the words were
      // dropped (race probe of 2026-12-06, F1). The one recorded stands; a decline withdraws it.
      if (statement !== undefined && statement !== consent.statement) {
        throw violation(
          RiskRules.CONSENT_NOT_REQUESTED,
          `Risk ${state.id}'s owner accepted its residual risk in plan ${c.planId} already (at version ${consent.atVersion}), ${consent.statement === undefined ? 'with no statement' : 'with another statement'}: that acceptance stands, and a statement is not added to it (to withdraw it, decline)`,
        );
      }
      requireResidualWithinAcceptance(state, c.criteria, ` (the acceptance recorded under earlier criteria stands until the owner declines it; a plan does not come into force over it)`);
      return [];
    }
    if (!c.accepted && consent.status === 'DECLINED') {
      // The same decline again is done; one with another reason was answered as done too, its reason
      // recorded nowhere, also after the item had left the plan (race probe of 2026-12-06, F1).
      if (reason === consent.reason) return [];
      throw violation(
        RiskRules.CONSENT_NOT_REQUESTED,
        `Risk ${state.id}'s owner declined its residual risk in plan ${c.planId} already (at version ${consent.atVersion}) for another reason: that decline answered the request and stands; a new request comes once the risk is planned and submitted again`,
      );
    }
    // An acceptance needs a new request (the risk planned and submitted again), not "not an item of the plan".
    if (c.accepted && declinedAndBackInTreatment(state, c.planId)) {
      throw violation(RiskRules.CONSENT_NOT_REQUESTED, `Risk ${state.id}'s owner declined its residual risk in plan ${c.planId} and it went back to treatment (${state.status}): an acceptance needs a new request, once the risk is planned and submitted again`);
    }
  }
  requireSamePlan(state, c.planId);
  // An owner who consented may withdraw the consent (decline) until the risk changes again.
  const withdrawing = !c.accepted && state.status === 'ACCEPTED' && consent?.status === 'ACCEPTED';
  if (!withdrawing && (state.status !== 'AWAITING_CONSENT' || !consent)) {
    throw violation(RiskRules.CONSENT_NOT_REQUESTED, `Risk ${state.id} is ${state.status}: its owner has not been asked for consent`);
  }
  // An acceptance must answer the request for the risk as it now is; a refusal stands whatever changed.
  if (consent.status === 'STALE' && c.accepted) {
    throw violation(RiskRules.CONSENT_STALE, `Risk ${state.id} changed after consent was requested (at version ${consent.atVersion}); the owner must be asked again`);
  }
  if (!consent) throw violation(RiskRules.CONSENT_NOT_REQUESTED, `Risk ${state.id} has no consent request`);
  if (consent.status !== 'PENDING' && consent.status !== 'STALE' && !withdrawing) {
    throw violation(RiskRules.CONSENT_NOT_REQUESTED, `Risk ${state.id} has no pending consent request (${consent.status})`);
  }
  if (c.accepted) {
    requireApprovedResidualLevel(state, consent);
    requireApprovedContent(state, consent);
    requireAssetsAsSubmitted(state, consent, c.assets);
    requireResidualWithinAcceptance(state, c.criteria);
    return [
      {
        type: 'ResidualRiskAcceptedByOwner',
        data: {
          riskId: state.id,
          planId: consent.planId,
          planRevision: consent.planRevision,
          ownerId: state.ownerId,
          fingerprint: consentFingerprint(state),
          atVersion: consent.atVersion,
          ...(state.treatment ? { residualLevel: state.treatment.targetLevel } : {}),
          ...(state.level !== undefined ? { level: state.level } : {}),
          ...((state.evaluation?.criteriaNumber ?? state.criteriaNumber) !== undefined ? { criteriaNumber: state.evaluation?.criteriaNumber ?? state.criteriaNumber } : {}),
          ...(statement !== undefined ? { statement } : {}),
          acceptedAt: c.at,
        },
      },
    ];
  }
  return [
    {
      type: 'ResidualRiskDeclinedByOwner',
      data: {
        riskId: state.id,
        planId: consent.planId,
        planRevision: consent.planRevision,
        ownerId: state.ownerId,
        reason,
        atVersion: consent.atVersion,
        fingerprint: consentFingerprint(state),
        declinedAt: c.at,
      },
    },
  ];
}

/**
 * Art. 13(1), 20: a residual risk is accepted only within the acceptance level of the criteria in
 * force, judged on its level under them (residualLevelUnder: the treatment's target likelihood and
 * impact placed on their matrix). Criteria approved since the treatment was decided may set the
 * acceptance level lower or place the target higher: the risk then needs re-evaluation
 * (needsReevaluation), and its owner can decline but not accept.
 */
function requireResidualWithinAcceptance(state: RiskState, criteria: CriteriaVersionState | undefined, standing = ''): void {
  const t = state.treatment;
  if (!criteria || !t || acceptableUnder(state, criteria)) return;
  // Art. 16: analysed on longer scales than these criteria have (compliance probe of 2026-12-05, F2).
  if (analysisBeyondScales(state, criteria)) {
    throw violation(
      RiskRules.ANALYSIS_BEYOND_CRITERIA,
      `Risk ${state.id} was analysed at likelihood ${state.likelihood}, impact ${state.impact}, beyond the scales of criteria #${criteria.number}, now in force: ` +
        `its owner can decline, and the risk is analysed, evaluated and treated again under these criteria${standing}`,
    );
  }
  const level = residualLevelUnder(state, criteria);
  const placed =
    level === undefined
      ? `(likelihood ${t.targetLikelihood}, impact ${t.targetImpact}) cannot be placed on the scales`
      : `${level} (likelihood ${t.targetLikelihood}, impact ${t.targetImpact}; ${t.targetLevel} under criteria #${t.criteriaNumber}) is above the acceptance level ${criteria.acceptanceLevel}`;
  throw violation(
    RiskRules.RESIDUAL_ABOVE_ACCEPTANCE,
    `Risk ${state.id}'s residual level ${placed} of criteria #${criteria.number}, now in force: ` +
      `its owner can decline, and the risk is evaluated and treated again under these criteria${standing}`,
  );
}

/**
 * Art. 19-20: the owner accepts the residual risk of the plan the board approved. A risk whose
 * target level changed after the board's approval no longer carries that residual risk, so an
 * acceptance now would bring the plan into force over a level the board never saw: the owner
 * can only decline, and the risk goes back to the board in a plan of its own.
 */
function requireApprovedResidualLevel(state: RiskState, consent: RiskConsent): void {
  const approved = consent.approvedResidualLevel;
  const target = state.treatment?.targetLevel;
  if (approved === undefined || target === approved) return;
  throw violation(
    RiskRules.RESIDUAL_LEVEL_NOT_APPROVED,
    `Risk ${state.id}'s target level is now ${target ?? 'undecided'}, but the board approved ${approved} for it in plan ${consent.planId}: ` +
      'its owner can decline (then the committee removes it from the plan) and the risk goes to the board again in a new plan',
  );
}

/**
 * What of the treatment and controls the board approved for the plan revision `consent` answers
 * (or is asked for) the risk no longer holds: [] when it holds them, undefined when no approval of
 * that content is on record (a request not made by a board's approval, a log before it was kept).
 */
export function changedSinceApproval(state: RiskState, consent: RiskConsent): ('treatment' | 'controls')[] | undefined {
  const submitted = state.boardSubmission;
  if (consent.approvedResidualLevel === undefined || submitted?.content === undefined) return undefined;
  if (submitted.planId !== consent.planId || submitted.planRevision !== consent.planRevision) return undefined;
  const now = boardContentOf(state);
  return [...(now.treatment !== submitted.content.treatment ? (['treatment'] as const) : []), ...(now.controls !== submitted.content.controls ? (['controls'] as const) : [])];
}

/**
 * Art. 14(2), 19(2), 20: an asset of the risk retired since the risk went to the board left the
 * inventory after the board was asked: neither the board nor the owner decided on the risk as it
 * now stands (compliance probe of 2026-12-07, F1: retired while the plan was submitted, the plan
 * was approved, accepted and in force, and the acceptance cleared the risk's re-evaluation flag).
 * The owner declines; the risk goes to the board again with the retirement on record. An asset
 * retired before the submission was before the board (the plan document marks it) and stays
 * acceptable, as an acceptance given before a retirement stands. "Since" is in log order: the
 * submission records which assets were retired as it read them (version-checked at its append),
 * and a retired asset not among them was retired after it. The commands' own instants (`at`)
 * order nothing across streams: after a step back of the clock, or across instances, an asset
 * retired after the submission was stamped before it and the acceptance taken (review of
 * 2026-12-07, M4). A submission recorded before that list was kept falls back to the instants.
 */
function requireAssetsAsSubmitted(state: RiskState, consent: RiskConsent, assets: readonly AssetState[] | undefined): void {
  const submission = state.boardSubmission?.planId === consent.planId && state.boardSubmission.planRevision === consent.planRevision ? state.boardSubmission : undefined;
  const submittedAt = submission?.submittedAt;
  if (!assets || !submission || (submission.retiredAssetIds === undefined && submittedAt === undefined)) return;
  const retiredThen = submission.retiredAssetIds;
  const retired = assets.filter((a) => a.status === 'RETIRED' && (retiredThen ? !retiredThen.includes(a.id) : a.retiredAt !== undefined && a.retiredAt >= submittedAt!));
  if (retired.length === 0) return;
  throw violation(
    RiskRules.ASSET_RETIRED,
    `Risk ${state.id}'s ${retired.length === 1 ? 'asset' : 'assets'} ${retired.map((a) => `${a.id} (retired ${a.retiredAt})`).join(', ')} left the inventory after the risk went to the board in plan ${consent.planId} (revision ${consent.planRevision}, ${submittedAt}${retiredThen ? ', in the order of the log, whatever the instants' : ''}): ` +
      'the owner can accept only what the board decided on, so they can decline (then the committee removes the risk from the plan) and the risk, re-evaluated, goes to the board again',
  );
}

/**
 * Art. 19(2), 20: what the owner accepts is the plan the board approved. A treatment or controls
 * decided again (or a control cancelled) after the board's approval are content the board never
 * saw: an acceptance now would bring the plan into force under a resolution that approved
 * something else (auditor probe F2). Checked only for a request the board's approval made (it
 * carries the approved level) and against the content the risk carried to the board in that plan
 * revision; as for a changed level, the owner can decline and the risk goes to the board again.
 */
function requireApprovedContent(state: RiskState, consent: RiskConsent): void {
  const changed = changedSinceApproval(state, consent);
  if (!changed?.length) return;
  throw violation(
    RiskRules.PLAN_CONTENT_NOT_APPROVED,
    `Risk ${state.id}'s ${changed.join(' and ')} changed after the board approved plan ${consent.planId} (revision ${consent.planRevision}): ` +
      'the owner can accept only what the board approved, so they can decline (then the committee removes the risk from the plan) and the risk goes to the board again in a new plan',
  );
}
