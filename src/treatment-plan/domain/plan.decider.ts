/**
 * The information security management plan (Art. 19) and the risk owners' consent to residual
 * risk (Art. 20), as a pure decider: the decisions (`decide`) and `planDecider`. Stream:
 * `plan-<id>` (planStreams). Commands are in plan.commands.ts, events in plan.events.ts, the
 * fold in plan.evolve.ts, the state in plan.state.ts.
 *
 * Order of checks in every command: who may (ForbiddenError) → shape of the input
 * (BadInputError, all problems at once) → existence (NotFoundError) → already satisfied ([])
 * → rules of the process (RuleViolationError).
 *
 * The Risk aggregate is not this one's: the application loads each risk concerned and passes a
 * RiskSnapshot in the command.
 */
import type { Decider } from '../../shared/domain/decider.js';
import { BadInputError, FieldErrors, NotFoundError } from '../../shared/domain/errors.js';
import { dayInJapan, dutiesSeparated, isNonEmptyText, isRealDate, nameAsPerson, optionalText, requiredText, requireRole, samePerson, violation } from '../../shared/domain/guards.js';
import type {
  AddRiskToPlan,
  ClosePlan,
  DraftPlan,
  LearnResidualConsent,
  MarkConsentStale,
  MarkItemRiskClosed,
  LearnItemOwner,
  MarkItemReopened,
  PlanCommand,
  RecordBoardResolution,
  RemoveRiskFromPlan,
  SubmitPlan,
  UnsettledItems,
  WithdrawPlan,
} from './plan.commands.js';
import type { PlanEvent, PlanLeftForceCause } from './plan.events.js';
import { explainResidualRisk } from './consent-explanation.js';
import { evolve } from './plan.evolve.js';
import { BOARD_DECISIONS, initialPlanState, type PlanContribution, type PlanItem, type PlanState } from './plan.state.js';

import { latestRemoval, PLAN_LIMITS, PLAN_RULES, requireExists, requireItem } from './plan.rules.js';

export { PLAN_LIMITS, PLAN_RULES, type PlanRule } from './plan.rules.js';

// ---------------------------------------------------------------------------------------------
// decide
// ---------------------------------------------------------------------------------------------

export function decide(command: PlanCommand, state: PlanState): PlanEvent[] {
  switch (command.type) {
    case 'DraftPlan':
      return draftPlan(command, state);
    case 'AddRiskToPlan':
      return addRiskToPlan(command, state);
    case 'SubmitPlan':
      return submitPlan(command, state);
    case 'RecordBoardResolution':
      return recordBoardResolution(command, state);
    case 'WithdrawPlan':
      return withdrawPlan(command, state);
    case 'ClosePlan':
      return closePlan(command, state);
    case 'RemoveRiskFromPlan':
      return removeRiskFromPlan(command, state);
    case 'LearnResidualConsent':
      return learnResidualConsent(command, state);
    case 'ReconsiderForce':
      return state.exists ? withForceDecided(state, [], command.at, undefined, command.unsettledRiskIds) : [];
    case 'MarkItemReopened':
      return markItemReopened(command, state);
    case 'MarkConsentStale':
      return markConsentStale(command, state);
    case 'MarkItemRiskClosed':
      return markItemRiskClosed(command, state);
    case 'LearnItemOwner':
      return learnItemOwner(command, state);
    case 'ExplainResidualRisk':
      return explainResidualRisk(command, state);
    default: {
      const unknownCommand: never = command;
      throw new Error(`Unknown plan command ${(unknownCommand as { type?: string }).type}`);
    }
  }
}

function draftPlan(c: DraftPlan, s: PlanState): PlanEvent[] {
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'draft a plan');
  const errors = new FieldErrors();
  const planId = requiredText(errors, 'planId', c.planId, 200);
  const title = requiredText(errors, 'title', c.title, PLAN_LIMITS.title);
  const period = requiredText(errors, 'period', c.period, PLAN_LIMITS.period);
  errors.throwIfAny();

  if (s.exists) {
    if (s.title === title && s.period === period && s.draftedBy === c.actor.id) return [];
    throw violation(PLAN_RULES.PLAN_ALREADY_EXISTS, `Plan ${s.id} already exists`);
  }
  return [{ type: 'PlanDrafted', data: { planId, title, period, draftedBy: c.actor.id, draftedAt: c.at } }];
}

function addRiskToPlan(c: AddRiskToPlan, s: PlanState): PlanEvent[] {
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'add a risk to a plan');
  const errors = new FieldErrors();
  const risk = c.risk;
  if (!risk || !isNonEmptyText(risk.id)) errors.add('riskId', 'is required');
  errors.throwIfAny();
  requireExists(s, c.planId);

  if (risk.version < 0) throw new NotFoundError('Risk', risk.id);
  const item = s.items.find((i) => i.riskId === risk.id);
  // Already an item: satisfied, unless a review reopened it. The risk then left this plan for a
  // new cycle (its own stream would take it back), and the board never saw that cycle.
  if (item && item.consent !== 'REOPENED') return [];
  if (s.status !== 'DRAFT') {
    const reopened = item ? `: its item for risk ${risk.id} was reopened by a review, so the risk goes into a new plan (remove the item here, or close this plan if it is the last)` : '';
    const why = s.status === 'CLOSED' ? 'a closed plan takes no more risks: draft a new plan' : 'only a draft takes risks; a submitted plan cannot be changed (Art.19(2))';
    throw violation(PLAN_RULES.PLAN_FROZEN, `Plan ${s.id} is ${s.status}: ${why}${reopened}`);
  }
  // The bound on the removals the plan records (PLAN_LIMITS.removedItems) is kept where an item
  // comes in, never where one goes out: a plan at the bound takes no more risks, and every item it
  // holds can still be removed (its records then outnumber the bound by its items at most). A
  // removal refused there left a draft holding its risks until the board approved it, as a draft
  // is not closed (review of 2026-12-07, M3). Items come in only while the plan is a DRAFT.
  const removed = s.removedItems?.length ?? 0;
  if (removed >= PLAN_LIMITS.removedItems) {
    throw violation(
      PLAN_RULES.TOO_MANY_REMOVED_ITEMS,
      `Plan ${s.id} has had ${removed} items removed, the most one plan records (${PLAN_LIMITS.removedItems}): it takes no more risks (its items can still be removed): draft another plan (draftPlan) for risk ${risk.id}`,
    );
  }
  // Whether the risk may join (its controls are decided, it is in no other open plan) is the
  // risk's own decision (IncludeInPlan), appended in the same step as this event.
  return [
    {
      type: 'PlanRiskAdded',
      data: {
        riskId: risk.id,
        ownerId: risk.ownerId,
        riskTitle: risk.title,
        riskVersion: risk.version,
        riskStateHash: risk.stateHash,
        revision: s.revision,
        addedBy: c.actor.id,
        addedAt: c.at,
      },
    },
  ];
}

function submitPlan(c: SubmitPlan, s: PlanState): PlanEvent[] {
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'submit a plan');
  requireExists(s, c.planId);
  if (s.status !== 'DRAFT') return [];
  if (s.items.length === 0) {
    throw violation(PLAN_RULES.PLAN_EMPTY, `Plan ${s.id} has no risk: there is nothing to submit (Art.19(1))`);
  }
  // An avoided risk has no residual risk for the board to decide on or its owner to accept: its
  // item would stay PENDING in the approved plan for good.
  // By id: a plan of 2,000 items searched the list once per item (4 million comparisons, ~100 ms).
  const risks = new Map(c.risks.map((r) => [r.id, r]));
  const closed = s.items.filter((item) => risks.get(item.riskId)?.status === 'CLOSED').map((i) => i.riskId);
  if (closed.length > 0) {
    throw violation(PLAN_RULES.ITEM_RISK_CLOSED, `Plan ${s.id} holds ${closed.length === 1 ? 'risk' : 'risks'} ${closed.join(', ')}, closed (avoided) since ${closed.length === 1 ? 'it was' : 'they were'} added: remove ${closed.length === 1 ? 'it' : 'them'} before submitting (Art.19(1))`);
  }
  // Art. 16: a risk analysed on scales longer than those of the criteria in force cannot be
  // compared with them; the board would decide under criteria that cannot express its level
  // (compliance probe of 2026-12-05, F2). Analysed again under them first, or removed.
  const beyond = c.risksBeyondScales ?? [];
  if (beyond.length > 0) {
    throw violation(
      PLAN_RULES.ITEM_BEYOND_CRITERIA,
      `Plan ${s.id} holds ${beyond.length === 1 ? 'risk' : 'risks'} ${beyond.join(', ')} analysed beyond the likelihood or impact scales of criteria #${c.criteria?.number ?? '?'}, now in force: ` +
        `analyse ${beyond.length === 1 ? 'it' : 'them'} again under them, or remove ${beyond.length === 1 ? 'it' : 'them'}, before submitting`,
    );
  }
  // Art. 13(1), 17: a residual level the criteria in force place above their acceptance level is
  // not for the board to approve nor for an owner to accept (the acceptance would be refused, and
  // the approved plan could never come into force: probe 7 F3). Treated again first, or removed.
  const above = c.risksAboveAcceptance ?? [];
  if (above.length > 0) {
    throw violation(
      PLAN_RULES.ITEM_ABOVE_ACCEPTANCE,
      `Plan ${s.id} holds ${above.length === 1 ? 'risk' : 'risks'} ${above.join(', ')} whose target residual level is above the acceptance level ${c.criteria?.acceptanceLevel ?? ''} of criteria #${c.criteria?.number ?? '?'}, now in force: ` +
        `decide ${above.length === 1 ? 'its' : 'their'} treatment again under them, or remove ${above.length === 1 ? 'it' : 'them'}, before submitting`,
    );
  }
  const residualLevels: Record<string, string | null> = {};
  for (const item of s.items) residualLevels[item.riskId] = risks.get(item.riskId)?.targetLevel ?? null;
  return [
    {
      type: 'PlanSubmitted',
      data: {
        revision: s.revision,
        riskIds: s.items.map((i) => i.riskId),
        residualLevels,
        ...(c.criteria ? { criteria: { number: c.criteria.number, acceptanceLevel: c.criteria.acceptanceLevel } } : {}),
        submittedBy: c.actor.id,
        submittedAt: c.at,
      },
    },
  ];
}

function recordBoardResolution(c: RecordBoardResolution, s: PlanState): PlanEvent[] {
  requireRole(c.actor, ['BOARD_SECRETARY'], 'record a board resolution');
  const errors = new FieldErrors();
  const resolutionNumber = requiredText(errors, 'resolutionNumber', c.resolutionNumber, PLAN_LIMITS.resolutionNumber);
  const meetingDate = typeof c.meetingDate === 'string' ? c.meetingDate.trim() : '';
  if (meetingDate === '') errors.add('meetingDate', 'is required');
  else if (!isRealDate(meetingDate)) errors.add('meetingDate', 'must be a real date (YYYY-MM-DD)');
  else {
    const today = dayInJapan(c.at);
    if (meetingDate > today) errors.add('meetingDate', `must not be after ${today}`);
  }
  if (!(BOARD_DECISIONS as readonly string[]).includes(c.decision)) {
    errors.add('decision', `must be one of ${BOARD_DECISIONS.join(', ')}`);
  }
  const minutesReference = requiredText(errors, 'minutesReference', c.minutesReference, PLAN_LIMITS.minutesReference);
  const notes = optionalText(errors, 'notes', c.notes, PLAN_LIMITS.notes);
  const planRevision = c.planRevision ?? undefined;
  if (planRevision !== undefined && !(Number.isInteger(planRevision) && planRevision >= 1)) errors.add('planRevision', 'must be an integer >= 1');
  errors.throwIfAny();
  requireExists(s, c.planId);

  refusePreparer(s, c.actor.id);
  const earlier = s.resolutions.find((r) => r.resolutionNumber === resolutionNumber);
  if (earlier) {
    if (
      earlier.decision === c.decision &&
      earlier.meetingDate === meetingDate &&
      earlier.minutesReference === minutesReference &&
      (planRevision === undefined || planRevision === earlier.revision)
    ) {
      return [];
    }
    throw violation(
      PLAN_RULES.RESOLUTION_NUMBER_REUSED,
      `Resolution ${resolutionNumber} was already recorded for revision ${earlier.revision} with different content: a new resolution takes a new number`,
    );
  }
  if (s.status !== 'SUBMITTED') {
    throw violation(PLAN_RULES.PLAN_NOT_SUBMITTED, `Plan ${s.id} is ${s.status}: the board decides on a submitted plan (Art.19(2))`);
  }
  if (planRevision !== undefined && planRevision !== s.revision) throw revisionMismatch(s, planRevision);
  const submittedOn = s.submittedAt ? dayInJapan(s.submittedAt) : undefined;
  if (submittedOn !== undefined && meetingDate < submittedOn) {
    throw new BadInputError({ meetingDate: `must not be before ${submittedOn}, the day the plan was submitted to the board` });
  }

  const recorded: PlanEvent = {
    type: 'BoardResolutionRecorded',
    data: {
      resolutionNumber,
      meetingDate,
      decision: c.decision,
      minutesReference,
      notes,
      revision: s.revision,
      recordedBy: c.actor.id,
      recordedAt: c.at,
    },
  };
  if (c.decision === 'APPROVED') {
    return [
      recorded,
      {
        type: 'PlanApproved',
        data: {
          revision: s.revision,
          resolutionNumber,
          items: s.items.map((i) => ({ riskId: i.riskId, ownerId: i.ownerId })),
          approvedAt: c.at,
        },
      },
    ];
  }
  return [
    recorded,
    {
      type: 'PlanReturnedToDraft',
      data: { revision: s.revision + 1, previousRevision: s.revision, resolutionNumber, returnedAt: c.at },
    },
  ];
}

/**
 * Separation of duties (Art.23(3)): nobody who prepared what the board decides (drafted the plan,
 * added or removed an item of the revision under submission or of one it carries forward,
 * submitted one, or withdrew one to be changed) records the board's resolution on it. People are compared by samePerson.
 */
function refusePreparer(s: PlanState, actorId: string): void {
  const mine = s.preparedBy.filter((p) => p.revision <= s.revision && samePerson(p.actorId, actorId));
  if (mine.length === 0) return;
  const shown = 5;
  const deeds = mine.slice(0, shown).map(describeContribution).join(', ') + (mine.length > shown ? ` and ${mine.length - shown} more` : '');
  throw dutiesSeparated(
    PLAN_RULES.RESOLUTION_BY_DRAFTER,
    `${nameAsPerson(mine[0]!.actorId, actorId)} ${deeds} of plan ${s.id}: whoever drafted, changed or submitted what the board decides cannot record its resolution (separation of duties, Art.23(3)); another BOARD_SECRETARY must record it`,
  );
}

function describeContribution(p: PlanContribution): string {
  switch (p.did) {
    case 'DRAFTED':
      return 'drafted the plan';
    case 'ADDED_RISK':
      return `added risk ${p.riskId} to revision ${p.revision}`;
    case 'REMOVED_RISK':
      return `removed risk ${p.riskId} from revision ${p.revision}`;
    case 'SUBMITTED':
      return `submitted revision ${p.revision}`;
    case 'WITHDREW':
      return `withdrew revision ${p.revision - 1} to be changed`;
  }
}

/** The resolution names a revision other than the one under submission: the board decided other content (Art.19(2)). */
function revisionMismatch(s: PlanState, named: number): Error {
  const record = s.revisions.find((r) => r.revision === named);
  const what = record
    ? `revision ${named} was ${record.outcome}${record.decidedAt ? ` (${record.resolutionNumber ?? 'decided'})` : ''}, with ${record.items.length} item(s)`
    : `plan ${s.id} has no revision ${named}`;
  const submitted = s.submittedAt ? ` on ${dayInJapan(s.submittedAt)}` : '';
  return violation(
    PLAN_RULES.PLAN_REVISION_MISMATCH,
    `The resolution is on revision ${named} but revision ${s.revision} of plan ${s.id} is the one submitted${submitted}, with ${s.items.length} item(s); ${what}: a resolution records what the board decided, so revision ${s.revision} needs its own resolution`,
  );
}

/** Withdrawing and closing: the committee's decision on an existing plan, with its reason (returned trimmed). */
function committeeDecisionWithReason(c: WithdrawPlan | ClosePlan, s: PlanState, what: string): string {
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], what);
  const errors = new FieldErrors();
  const reason = requiredText(errors, 'reason', c.reason, PLAN_LIMITS.reason);
  errors.throwIfAny();
  requireExists(s, c.planId);
  return reason;
}

function withdrawPlan(c: WithdrawPlan, s: PlanState): PlanEvent[] {
  const reason = committeeDecisionWithReason(c, s, 'withdraw a plan');
  if (s.status !== 'SUBMITTED') {
    throw violation(PLAN_RULES.PLAN_NOT_SUBMITTED, `Plan ${s.id} is ${s.status}: only a plan awaiting the board can be withdrawn`);
  }
  return [{ type: 'PlanWithdrawn', data: { revision: s.revision + 1, previousRevision: s.revision, reason, withdrawnBy: c.actor.id, withdrawnAt: c.at } }];
}

function closePlan(c: ClosePlan, s: PlanState): PlanEvent[] {
  const reason = committeeDecisionWithReason(c, s, 'close a plan');
  // Closed again for the same reason is done; for another it was answered as done too, the reason
  // recorded nowhere (the kind of the race probe of 2026-12-06, F1): refused, the first standing.
  if (s.status === 'CLOSED' && s.closedReason === reason) return [];
  if (s.status === 'CLOSED') throw violation(PLAN_RULES.PLAN_NOT_CLOSABLE, `Plan ${s.id} was closed at ${s.closedAt} for another reason: that closure stands`);
  if (s.status !== 'APPROVED' && s.status !== 'IN_FORCE') {
    throw violation(PLAN_RULES.PLAN_NOT_CLOSABLE, `Plan ${s.id} is ${s.status}: only an approved or in-force plan is closed`);
  }
  return [{ type: 'PlanClosed', data: { reason, closedBy: c.actor.id, closedAt: c.at } }];
}

function removeRiskFromPlan(c: RemoveRiskFromPlan, s: PlanState): PlanEvent[] {
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'remove a risk from a plan');
  const errors = new FieldErrors();
  const riskId = requiredText(errors, 'riskId', c.riskId, 200);
  const reason = requiredText(errors, 'reason', c.reason, PLAN_LIMITS.reason);
  errors.throwIfAny();
  requireExists(s, c.planId);
  const item = s.items.find((i) => i.riskId === riskId);
  if (!item) {
    // Removed already: for the same reason, nothing more; for another, refused, not answered as
    // done with the new reason dropped (auditor probe of 2026-12-06, F4).
    const removed = latestRemoval(s, riskId);
    if (removed && removed.removalReason !== reason) {
      throw violation(
        PLAN_RULES.ITEM_NOT_REMOVABLE,
        `Risk ${riskId} was removed from plan ${s.id} at ${removed.removedAt} by ${removed.removedBy} for another reason (Plan.removedItems): a removal stands as recorded`,
      );
    }
    if (removed) return [];
    throw new NotFoundError('PlanItem', riskId);
  }
  // A closed (avoided) risk has no residual risk left for its owner to consent to: its item, stale
  // or pending for good, would otherwise keep the plan out of force until the plan is closed.
  const approved = s.status === 'APPROVED' || s.status === 'IN_FORCE';
  const removable = s.status === 'DRAFT' || (approved && (item.consent === 'DECLINED' || item.consent === 'REOPENED' || c.riskClosed === true || item.riskClosedAt !== undefined));
  if (!removable) {
    throw violation(
      PLAN_RULES.ITEM_NOT_REMOVABLE,
      `Plan ${s.id} is ${s.status} and the item's consent is ${item.consent}: an item is removed while the plan is a draft, once its consent is DECLINED or REOPENED, or once its risk is closed`,
    );
  }
  // No bound on removals here: addRiskToPlan keeps it, so that no item is ever stuck (PLAN_LIMITS.removedItems).
  // An approved plan with no risk left would be IN_FORCE covering nothing: it is closed instead.
  if (s.status !== 'DRAFT' && s.items.length === 1) {
    throw violation(PLAN_RULES.ITEM_NOT_REMOVABLE, `Risk ${riskId} is the last item of plan ${s.id}, which is ${s.status}: close the plan instead (closePlan)`);
  }
  const events: PlanEvent[] = [{ type: 'PlanRiskRemoved', data: { riskId, reason, consent: item.consent, removedBy: c.actor.id, removedAt: c.at } }];
  return withForceDecided(s, events, c.at, undefined, c.unsettledRiskIds);
}

function learnResidualConsent(c: LearnResidualConsent, s: PlanState): PlanEvent[] {
  if (!s.exists || (s.status !== 'APPROVED' && s.status !== 'IN_FORCE') || c.planRevision !== s.revision) return [];
  const item = s.items.find((i) => i.riskId === c.riskId);
  if (!item) return [];
  if (c.accepted) {
    if (item.consent === 'ACCEPTED' && item.consentRecord?.riskVersion === c.riskVersion) return [];
    const accepted: PlanEvent = {
      type: 'ResidualRiskAccepted',
      data: {
        riskId: c.riskId,
        ownerId: c.ownerId,
        statement: c.statement,
        riskVersion: c.riskVersion,
        riskStateHash: c.riskStateHash,
        riskLevel: c.riskLevel,
        residualLevel: c.residualLevel,
        planVersion: s.version,
        planRevision: s.revision,
        criteriaNumber: c.criteriaNumber,
        acceptedAt: c.at,
      },
    };
    return withForceDecided(s, [accepted], c.at, undefined, c.unsettledRiskIds);
  }
  if (item.consent === 'DECLINED' && item.declineReason === c.reason) return [];
  const declined: PlanEvent = {
    type: 'ResidualRiskDeclined',
    data: {
      riskId: c.riskId,
      ownerId: c.ownerId,
      reason: c.reason,
      riskVersion: c.riskVersion,
      riskStateHash: c.riskStateHash,
      planVersion: s.version,
      planRevision: s.revision,
      declinedAt: c.at,
    },
  };
  return withForceDecided(s, [declined], c.at, { cause: 'CONSENT_DECLINED', riskId: c.riskId, reason: c.reason });
}

function markItemReopened(c: MarkItemReopened, s: PlanState): PlanEvent[] {
  if (!s.exists || s.status === 'CLOSED') return [];
  const item = s.items.find((i) => i.riskId === c.riskId);
  if (!item || item.consent === 'REOPENED') return [];
  const reopened: PlanEvent = { type: 'PlanItemReopened', data: { riskId: c.riskId, riskVersion: c.riskVersion, reviewId: c.reviewId, reopenedAt: c.at } };
  return withForceDecided(s, [reopened], c.at, { cause: 'ITEM_REOPENED', riskId: c.riskId, reason: `Review ${c.reviewId} found a gap (Art.12(3))` });
}

/** Every item of the plan is ACCEPTED (but `except`, whose answer is being decided). */
function allAccepted(plan: PlanState, except?: string): boolean {
  return plan.items.every((i) => i.riskId === except || i.consent === 'ACCEPTED');
}

/**
 * Whether a command on the item of `riskId` (an answer learnt, the item removed) can bring the
 * plan into force (withForceDecided): only an APPROVED plan whose other items are all ACCEPTED.
 * Otherwise the command's UnsettledItems do not matter, and need not be read.
 */
export function mayComeIntoForceWith(plan: PlanState, riskId: string): boolean {
  return plan.status === 'APPROVED' && allAccepted(plan, riskId);
}

/**
 * The one place IN_FORCE is decided: a plan is in force exactly when it is approved and every
 * remaining item is ACCEPTED. Appends PlanCameIntoForce or PlanLeftForce after `events` when
 * they change that.
 */
function withForceDecided(
  s: PlanState,
  events: PlanEvent[],
  at: string,
  leaving?: { cause: PlanLeftForceCause; riskId: string; reason: string },
  unsettled: UnsettledItems = [],
): PlanEvent[] {
  if (s.status !== 'APPROVED' && s.status !== 'IN_FORCE') return events;
  const after = events.reduce(evolve, s);
  const inForce = allAccepted(after);
  // Not into force over an item whose risk no longer holds its acceptance (UnsettledItems): the
  // reaction that tells the plan so comes next, and a later acceptance brings it into force.
  if (s.status === 'APPROVED' && inForce && !after.items.some((i) => unsettled.includes(i.riskId))) {
    return [
      ...events,
      {
        type: 'PlanCameIntoForce',
        data: {
          revision: s.revision,
          consents: after.items.map((i) => ({
            riskId: i.riskId,
            ownerId: i.consentRecord!.ownerId,
            riskVersion: i.consentRecord!.riskVersion,
            riskStateHash: i.consentRecord!.riskStateHash,
          })),
          cameIntoForceAt: at,
        },
      },
    ];
  }
  if (s.status === 'IN_FORCE' && !inForce && leaving) {
    return [...events, { type: 'PlanLeftForce', data: { riskId: leaving.riskId, cause: leaving.cause, reason: leaving.reason, leftAt: at } }];
  }
  return events;
}

function markConsentStale(c: MarkConsentStale, s: PlanState): PlanEvent[] {
  const errors = new FieldErrors();
  const riskId = requiredText(errors, 'riskId', c.riskId, 200);
  if (!Number.isInteger(c.riskVersion) || c.riskVersion < 0) errors.add('riskVersion', 'must be an integer >= 0');
  const reason = requiredText(errors, 'reason', c.reason, PLAN_LIMITS.reason);
  errors.throwIfAny();
  requireExists(s, c.planId);
  // A closed plan's items keep the answers they had when it closed (README: closePlan).
  if (s.status === 'CLOSED') return [];
  const events = consentMadeStale(requireItem(s, riskId), c.riskVersion, reason, c.at);
  return withForceDecided(s, events, c.at, { cause: 'CONSENT_STALE', riskId, reason });
}

/** The item's current acceptance made stale by the risk's change at `riskVersion`, or nothing when there is none to invalidate. */
function consentMadeStale(item: PlanItem, riskVersion: number, reason: string, at: string): PlanEvent[] {
  // PENDING, STALE: nothing current to invalidate. DECLINED: the refusal stands as given.
  if (item.consent !== 'ACCEPTED' || item.consentRecord === undefined) return [];
  // The owner already consented on that version of the risk or a later one.
  if (item.consentRecord.riskVersion >= riskVersion) return [];
  return [
    {
      type: 'ResidualConsentBecameStale',
      data: { riskId: item.riskId, ownerId: item.consentRecord.ownerId, riskVersion, consentedRiskVersion: item.consentRecord.riskVersion, reason, markedAt: at },
    },
  ];
}

/**
 * The item's risk was closed (avoided): the plan says so on the item, so that the committee sees
 * why it can never be answered and removes it (removeRiskFromPlan). A closed plan, an item no
 * longer in the plan, or one already marked: nothing. A consent the AVOID made stale is learnt
 * just before, in the same append (MarkConsentStale), the plan leaving force with it.
 */
function markItemRiskClosed(c: MarkItemRiskClosed, s: PlanState): PlanEvent[] {
  if (!s.exists || s.status === 'CLOSED') return [];
  const item = s.items.find((i) => i.riskId === c.riskId);
  if (!item || item.riskClosedAt !== undefined) return [];
  const closed: PlanEvent = { type: 'PlanItemRiskClosed', data: { riskId: c.riskId, riskVersion: c.riskVersion, reason: 'AVOIDED', closedAt: c.closedAt, markedAt: c.at } };
  return withForceDecided(s, [closed], c.at, { cause: 'CONSENT_STALE', riskId: c.riskId, reason: 'RISK_AVOIDED' });
}

/**
 * The item's risk has a new owner: the item names them (PlanItemOwnerChanged), so that the plan,
 * its approval and its document say who alone may consent now. A closed plan, an item no longer
 * in the plan, or one that already names that owner: nothing. Whether the plan stays in force is
 * the consent's matter (MarkConsentStale, learnt just after it in the same append).
 */
function learnItemOwner(c: LearnItemOwner, s: PlanState): PlanEvent[] {
  if (!s.exists || s.status === 'CLOSED') return [];
  const item = s.items.find((i) => i.riskId === c.riskId);
  if (!item || item.ownerId === c.ownerId) return [];
  return [{ type: 'PlanItemOwnerChanged', data: { riskId: c.riskId, riskVersion: c.riskVersion, previousOwnerId: item.ownerId, ownerId: c.ownerId, changedAt: c.at } }];
}

export const planDecider: Decider<PlanCommand, PlanEvent, PlanState> = {
  // Snapshots of this state are kept under this version: bump it whenever the state's shape (or what evolve folds into it) changes.
  stateVersion: 'plan/12',
  decide,
  evolve,
  initialState: initialPlanState,
  // An item is its risk.
  subjectOf: (c) => (c.type === 'AddRiskToPlan' ? c.risk.id : 'riskId' in c ? c.riskId : undefined),
  // The board's approval and rejection are one command type, not one kind of request.
  kindOf: (c) => (c.type === 'RecordBoardResolution' ? `${c.type}/${c.decision}` : undefined),
};
