/**
 * The information security management plan (Art. 19) and the risk owners' consent to residual
 * risk (Art. 20), as a pure decider. Stream: `plan-<id>` (planStreamId).
 *
 * Order of checks in every command: who may (ForbiddenError) → shape of the input
 * (BadInputError, all problems at once) → existence (NotFoundError) → already satisfied ([])
 * → rules of the process (RuleViolationError).
 *
 * The Risk aggregate is not this one's: the application loads each risk concerned and passes a
 * RiskSnapshot in the command.
 */
import { hasRole } from '../../shared/domain/guards.js';
import { type Decider, type DomainActor, type Role } from '../../shared/domain/decider.js';
import { BadInputError, FieldErrors, ForbiddenError, NotFoundError, RuleViolationError } from '../../shared/domain/errors.js';
import { refuseAuditor } from '../../shared/domain/guards.js';
import {
  BOARD_DECISIONS,
  initialPlanState,
  type BoardDecision,
  type BoardResolution,
  type PlanEvent,
  type PlanItem,
  type PlanLeftForceCause,
  type PlanRevisionRecord,
  type PlanState,
  type RiskSnapshot,
} from './plan.state.js';

export * from './plan.state.js';

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

interface PlanCommandBase {
  planId: string;
  actor: DomainActor;
  /** ISO-8601 instant the command is handled (from the application's clock). */
  at: string;
}

/** Art. 19(2): the committee drafts the plan. `planId` is a new id chosen by the application. */
export interface DraftPlan extends PlanCommandBase {
  type: 'DraftPlan';
  title: string;
  period: string;
}

/** Art. 19(1): the plan compiles the execution of the controls decided under Art. 18. */
export interface AddRiskToPlan extends PlanCommandBase {
  type: 'AddRiskToPlan';
  risk: RiskSnapshot;
}

/** The risks of the plan, as read in the same attempt: their residual levels are fixed at submission. */
export interface SubmitPlan extends PlanCommandBase {
  type: 'SubmitPlan';
  risks: RiskSnapshot[];
}

/** Takes a submitted plan back to DRAFT as revision + 1 (the board has not decided). */
export interface WithdrawPlan extends PlanCommandBase {
  type: 'WithdrawPlan';
  reason: string;
}

/** Ends an approved or in-force plan: its risks are free to join another plan. */
export interface ClosePlan extends PlanCommandBase {
  type: 'ClosePlan';
  reason: string;
}

/** In DRAFT, or for an item whose consent is DECLINED or REOPENED. */
export interface RemoveRiskFromPlan extends PlanCommandBase {
  type: 'RemoveRiskFromPlan';
  riskId: string;
  reason: string;
}

/** Art. 19(2): the plan is decided by resolution of the board of directors. */
export interface RecordBoardResolution extends PlanCommandBase {
  type: 'RecordBoardResolution';
  resolutionNumber: string;
  /** YYYY-MM-DD, not after the day of `at` (in Japan). */
  meetingDate: string;
  decision: BoardDecision;
  minutesReference: string;
  notes?: string | null;
}

/**
 * The plan learns the owner's answer, decided on the risk (Art. 20): issued by the process manager
 * from the risk's event. The plan records it and decides IN_FORCE from what it has learnt; it never
 * refuses a fact (an answer for another revision, a removed item or a closed plan is ignored).
 */
export interface LearnResidualConsent extends PlanCommandBase {
  type: 'LearnResidualConsent';
  riskId: string;
  accepted: boolean;
  ownerId: string;
  planRevision: number;
  riskVersion: number;
  riskStateHash: string;
  riskLevel: string | null;
  residualLevel: string | null;
  criteriaNumber: number | null;
  statement: string;
  reason: string;
}

/** A review finding on the risk (Art. 12(3)) reopens its item; issued by the process manager. */
export interface MarkItemReopened extends PlanCommandBase {
  type: 'MarkItemReopened';
  riskId: string;
  riskVersion: number;
  reviewId: string;
}

/**
 * Issued by the application's process manager when a risk changed materially (at `riskVersion`)
 * after its owner consented. System actor: no role check.
 */
export interface MarkConsentStale extends PlanCommandBase {
  type: 'MarkConsentStale';
  riskId: string;
  riskVersion: number;
  reason: string;
}

export type PlanCommand =
  | DraftPlan
  | AddRiskToPlan
  | SubmitPlan
  | RecordBoardResolution
  | WithdrawPlan
  | ClosePlan
  | RemoveRiskFromPlan
  | LearnResidualConsent
  | MarkItemReopened
  | MarkConsentStale;

// ---------------------------------------------------------------------------------------------
// Rules: stable ids (extensions.rule) and the article they come from (extensions.article)
// ---------------------------------------------------------------------------------------------

export const PLAN_RULES = {
  PLAN_ALREADY_EXISTS: 'Art.19(1)',
  PLAN_EMPTY: 'Art.19(1)',
  PLAN_FROZEN: 'Art.19(2)',
  PLAN_NOT_SUBMITTED: 'Art.19(2)',
  RESOLUTION_NUMBER_REUSED: 'Art.19(2)',
  RESOLUTION_BY_DRAFTER: 'Art.23(3)',
  PLAN_NOT_APPROVED: 'Art.20',
  MEETING_BEFORE_SUBMISSION: 'Art.19(2)',
  PLAN_NOT_CLOSABLE: 'Art.19',
  ITEM_NOT_REMOVABLE: 'Art.19',
} as const;
export type PlanRule = keyof typeof PLAN_RULES;

function violation(rule: PlanRule, message: string): RuleViolationError {
  return new RuleViolationError(rule, PLAN_RULES[rule], message);
}

export const PLAN_LIMITS = {
  title: 200,
  period: 50,
  resolutionNumber: 100,
  minutesReference: 500,
  notes: 4000,
  statement: 4000,
  reason: 4000,
} as const;

/** Board meetings are dated in Japan (JST, UTC+9, no daylight saving). */
const JAPAN_OFFSET_MS = 9 * 60 * 60 * 1000;

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
    case 'MarkItemReopened':
      return markItemReopened(command, state);
    case 'MarkConsentStale':
      return markConsentStale(command, state);
    default: {
      const unknownCommand: never = command;
      throw new Error(`Unknown plan command ${(unknownCommand as { type?: string }).type}`);
    }
  }
}

function draftPlan(c: DraftPlan, s: PlanState): PlanEvent[] {
  requireRole(c.actor, 'draft a plan', 'COMMITTEE_MEMBER', 'CISO');
  const errors = new FieldErrors();
  const planId = requiredText(errors, 'planId', c.planId, 200);
  const title = requiredText(errors, 'title', c.title, PLAN_LIMITS.title);
  const period = requiredText(errors, 'period', c.period, PLAN_LIMITS.period);
  errors.throwIfAny();

  if (s.exists) {
    if (s.title === title && s.period === period && s.draftedBy === c.actor.id) return [];
    throw violation('PLAN_ALREADY_EXISTS', `Plan ${s.id} already exists`);
  }
  return [{ type: 'PlanDrafted', data: { planId, title, period, draftedBy: c.actor.id, draftedAt: c.at } }];
}

function addRiskToPlan(c: AddRiskToPlan, s: PlanState): PlanEvent[] {
  requireRole(c.actor, 'add a risk to a plan', 'COMMITTEE_MEMBER', 'CISO');
  const errors = new FieldErrors();
  const risk = c.risk;
  if (!risk || typeof risk.id !== 'string' || risk.id.trim() === '') errors.add('riskId', 'is required');
  errors.throwIfAny();
  requireExists(s, c.planId);

  if (risk.version < 0) throw new NotFoundError('Risk', risk.id);
  if (s.items.some((i) => i.riskId === risk.id)) return [];
  if (s.status !== 'DRAFT') {
    throw violation('PLAN_FROZEN', `Plan ${s.id} is ${s.status}: a submitted plan cannot be changed (Art.19(2))`);
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
  requireRole(c.actor, 'submit a plan', 'COMMITTEE_MEMBER', 'CISO');
  requireExists(s, c.planId);
  if (s.status !== 'DRAFT') return [];
  if (s.items.length === 0) {
    throw violation('PLAN_EMPTY', `Plan ${s.id} has no risk: there is nothing to submit (Art.19(1))`);
  }
  const residualLevels: Record<string, string | null> = {};
  for (const item of s.items) residualLevels[item.riskId] = c.risks.find((r) => r.id === item.riskId)?.targetLevel ?? null;
  return [
    {
      type: 'PlanSubmitted',
      data: { revision: s.revision, riskIds: s.items.map((i) => i.riskId), residualLevels, submittedBy: c.actor.id, submittedAt: c.at },
    },
  ];
}

function recordBoardResolution(c: RecordBoardResolution, s: PlanState): PlanEvent[] {
  requireRole(c.actor, 'record a board resolution', 'BOARD_SECRETARY');
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
  errors.throwIfAny();
  requireExists(s, c.planId);

  if (s.draftedBy === c.actor.id) {
    throw violation(
      'RESOLUTION_BY_DRAFTER',
      `Whoever drafted plan ${s.id} cannot record its board resolution (separation of duties, Art.23(3))`,
    );
  }
  const earlier = s.resolutions.find((r) => r.resolutionNumber === resolutionNumber);
  if (earlier) {
    if (
      earlier.decision === c.decision &&
      earlier.meetingDate === meetingDate &&
      earlier.minutesReference === minutesReference
    ) {
      return [];
    }
    throw violation(
      'RESOLUTION_NUMBER_REUSED',
      `Resolution ${resolutionNumber} was already recorded for revision ${earlier.revision} with different content`,
    );
  }
  if (s.status !== 'SUBMITTED') {
    throw violation('PLAN_NOT_SUBMITTED', `Plan ${s.id} is ${s.status}: the board decides on a submitted plan (Art.19(2))`);
  }
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

/** Withdrawing and closing: the committee's decision on an existing plan, with its reason (returned trimmed). */
function committeeDecisionWithReason(c: WithdrawPlan | ClosePlan, s: PlanState, what: string): string {
  requireRole(c.actor, what, 'COMMITTEE_MEMBER', 'CISO');
  const errors = new FieldErrors();
  const reason = requiredText(errors, 'reason', c.reason, PLAN_LIMITS.reason);
  errors.throwIfAny();
  requireExists(s, c.planId);
  return reason;
}

function withdrawPlan(c: WithdrawPlan, s: PlanState): PlanEvent[] {
  const reason = committeeDecisionWithReason(c, s, 'withdraw a plan');
  if (s.status !== 'SUBMITTED') {
    throw violation('PLAN_NOT_SUBMITTED', `Plan ${s.id} is ${s.status}: only a plan awaiting the board can be withdrawn`);
  }
  return [{ type: 'PlanWithdrawn', data: { revision: s.revision + 1, previousRevision: s.revision, reason, withdrawnBy: c.actor.id, withdrawnAt: c.at } }];
}

function closePlan(c: ClosePlan, s: PlanState): PlanEvent[] {
  const reason = committeeDecisionWithReason(c, s, 'close a plan');
  if (s.status === 'CLOSED') return [];
  if (s.status !== 'APPROVED' && s.status !== 'IN_FORCE') {
    throw violation('PLAN_NOT_CLOSABLE', `Plan ${s.id} is ${s.status}: only an approved or in-force plan is closed`);
  }
  return [{ type: 'PlanClosed', data: { reason, closedBy: c.actor.id, closedAt: c.at } }];
}

function removeRiskFromPlan(c: RemoveRiskFromPlan, s: PlanState): PlanEvent[] {
  requireRole(c.actor, 'remove a risk from a plan', 'COMMITTEE_MEMBER', 'CISO');
  const errors = new FieldErrors();
  const riskId = requiredText(errors, 'riskId', c.riskId, 200);
  const reason = requiredText(errors, 'reason', c.reason, PLAN_LIMITS.reason);
  errors.throwIfAny();
  requireExists(s, c.planId);
  const item = s.items.find((i) => i.riskId === riskId);
  if (!item) {
    if (s.removedRiskIds?.includes(riskId)) return [];
    throw new NotFoundError('PlanItem', riskId);
  }
  const removable = s.status === 'DRAFT' || ((s.status === 'APPROVED' || s.status === 'IN_FORCE') && (item.consent === 'DECLINED' || item.consent === 'REOPENED'));
  if (!removable) {
    throw violation(
      'ITEM_NOT_REMOVABLE',
      `Plan ${s.id} is ${s.status} and the item's consent is ${item.consent}: an item is removed while the plan is a draft, or once its consent is DECLINED or REOPENED`,
    );
  }
  const events: PlanEvent[] = [{ type: 'PlanRiskRemoved', data: { riskId, reason, consent: item.consent, removedBy: c.actor.id, removedAt: c.at } }];
  return withForceDecided(s, events, c.at);
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
    return withForceDecided(s, [accepted], c.at);
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

/**
 * The one place IN_FORCE is decided: a plan is in force exactly when it is approved and every
 * remaining item is ACCEPTED. Appends PlanCameIntoForce or PlanLeftForce after `events` when
 * they change that.
 */
function withForceDecided(s: PlanState, events: PlanEvent[], at: string, leaving?: { cause: PlanLeftForceCause; riskId: string; reason: string }): PlanEvent[] {
  if (s.status !== 'APPROVED' && s.status !== 'IN_FORCE') return events;
  const after = events.reduce(evolve, s);
  const inForce = after.items.every((i) => i.consent === 'ACCEPTED');
  if (s.status === 'APPROVED' && inForce) {
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
  const item = requireItem(s, riskId);

  // PENDING, STALE: nothing current to invalidate. DECLINED: the refusal stands as given.
  if (item.consent !== 'ACCEPTED' || item.consentRecord === undefined) return [];
  // The owner already consented on that version of the risk or a later one.
  if (item.consentRecord.riskVersion >= c.riskVersion) return [];

  const events: PlanEvent[] = [
    {
      type: 'ResidualConsentBecameStale',
      data: {
        riskId,
        ownerId: item.consentRecord.ownerId,
        riskVersion: c.riskVersion,
        consentedRiskVersion: item.consentRecord.riskVersion,
        reason,
        markedAt: c.at,
      },
    },
  ];
  return withForceDecided(s, events, c.at, { cause: 'CONSENT_STALE', riskId, reason });
}

// ---------------------------------------------------------------------------------------------
// evolve
// ---------------------------------------------------------------------------------------------

export function evolve(state: PlanState, event: PlanEvent): PlanState {
  return { ...apply(state, event), version: state.version + 1 };
}

function apply(s: PlanState, e: PlanEvent): PlanState {
  switch (e.type) {
    case 'PlanDrafted':
      return {
        ...s,
        exists: true,
        id: e.data.planId,
        revision: 1,
        status: 'DRAFT',
        title: e.data.title,
        period: e.data.period,
        draftedBy: e.data.draftedBy,
        draftedAt: e.data.draftedAt,
        items: [],
        resolutions: [],
        revisions: [{ revision: 1, items: [], outcome: 'OPEN' }],
      };
    case 'PlanRiskAdded': {
      const d = e.data;
      const item: PlanItem = {
        riskId: d.riskId,
        ownerId: d.ownerId,
        riskTitle: d.riskTitle,
        riskVersion: d.riskVersion,
        riskStateHash: d.riskStateHash,
        addedBy: d.addedBy,
        addedAt: d.addedAt,
        consent: 'PENDING',
      };
      return {
        ...s,
        items: [...s.items, item],
        revisions: updateCurrentRevision(s, (r) => ({
          ...r,
          items: [...r.items, { riskId: d.riskId, riskVersion: d.riskVersion, riskTitle: d.riskTitle, ownerId: d.ownerId }],
        })),
      };
    }
    case 'PlanSubmitted':
      return {
        ...s,
        items: s.items.map((i) => ({ ...i, residualLevel: e.data.residualLevels?.[i.riskId] ?? null })),
        status: 'SUBMITTED',
        submittedAt: e.data.submittedAt,
        submittedBy: e.data.submittedBy,
        revisions: updateCurrentRevision(s, (r) => ({
          ...r,
          items: s.items.map((i) => ({ riskId: i.riskId, riskVersion: i.riskVersion, riskTitle: i.riskTitle, ownerId: i.ownerId })),
          outcome: 'SUBMITTED',
          submittedAt: e.data.submittedAt,
          submittedBy: e.data.submittedBy,
        })),
      };
    case 'BoardResolutionRecorded': {
      // The log position is known once the event is recorded: readers that fold recorded events pass it.
      const position = (e as { position?: string }).position;
      const resolution: BoardResolution = { ...e.data, ...(position !== undefined ? { position } : {}) };
      return {
        ...s,
        resolution,
        resolutions: [...s.resolutions, resolution],
        revisions: s.revisions.map((r) =>
          r.revision === e.data.revision
            ? { ...r, outcome: e.data.decision, resolutionNumber: e.data.resolutionNumber, decidedAt: e.data.recordedAt }
            : r,
        ),
      };
    }
    case 'PlanApproved':
      return {
        ...s,
        status: 'APPROVED',
        approvedAt: e.data.approvedAt,
        items: s.items.map((i) => ({ ...i, consent: 'PENDING' })),
      };
    case 'PlanReturnedToDraft':
      return backToDraft(s, e.data.revision, s.revisions);
    case 'ResidualRiskAccepted': {
      const d = e.data;
      return updateItem(s, d.riskId, (i) => {
        const { declineReason: _r, declinedAt: _d, staleReason: _s, staleSinceRiskVersion: _v, ...rest } = i;
        return {
          ...rest,
          ownerId: d.ownerId,
          consent: 'ACCEPTED',
          consentRecord: {
            ownerId: d.ownerId,
            statement: d.statement,
            riskVersion: d.riskVersion,
            riskStateHash: d.riskStateHash,
            riskLevel: d.riskLevel,
            residualLevel: d.residualLevel ?? null,
            planVersion: d.planVersion,
            planRevision: d.planRevision,
            criteriaNumber: d.criteriaNumber,
            acceptedAt: d.acceptedAt,
          },
        };
      });
    }
    case 'ResidualRiskDeclined': {
      const d = e.data;
      return updateItem(s, d.riskId, (i) => {
        const { staleReason: _s, staleSinceRiskVersion: _v, ...rest } = i;
        return { ...rest, ownerId: d.ownerId, consent: 'DECLINED', declineReason: d.reason, declinedAt: d.declinedAt };
      });
    }
    case 'ResidualConsentBecameStale': {
      const d = e.data;
      return updateItem(s, d.riskId, (i) => ({
        ...i,
        consent: 'STALE',
        staleSinceRiskVersion: d.riskVersion,
        staleReason: d.reason,
      }));
    }
    case 'PlanCameIntoForce': {
      const { leftForceAt: _l, ...rest } = s;
      return { ...rest, status: 'IN_FORCE', inForceSince: e.data.cameIntoForceAt };
    }
    case 'PlanLeftForce': {
      const { inForceSince: _i, ...rest } = s;
      return { ...rest, status: 'APPROVED', leftForceAt: e.data.leftAt };
    }
    case 'PlanWithdrawn':
      return backToDraft(s, e.data.revision, s.revisions.map((r): PlanRevisionRecord => (r.revision === e.data.previousRevision ? { ...r, outcome: 'WITHDRAWN' } : r)));
    case 'PlanClosed': {
      const { inForceSince: _i, ...rest } = s;
      return { ...rest, status: 'CLOSED', closedAt: e.data.closedAt, closedReason: e.data.reason };
    }
    case 'PlanRiskRemoved':
      return {
        ...s,
        items: s.items.filter((i) => i.riskId !== e.data.riskId),
        removedRiskIds: [...(s.removedRiskIds ?? []), e.data.riskId],
        revisions: s.status === 'DRAFT' ? updateCurrentRevision(s, (r) => ({ ...r, items: r.items.filter((i) => i.riskId !== e.data.riskId) })) : s.revisions,
      };
    case 'PlanItemReopened':
      return updateItem(s, e.data.riskId, (i) => ({ ...i, consent: 'REOPENED' }));
    default:
      return s;
  }
}

export const planDecider: Decider<PlanCommand, PlanEvent, PlanState> = {
  decide,
  evolve,
  initialState: initialPlanState,
};

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

function updateCurrentRevision(s: PlanState, f: (r: PlanRevisionRecord) => PlanRevisionRecord): PlanRevisionRecord[] {
  return s.revisions.map((r) => (r.revision === s.revision ? f(r) : r));
}

/** A rejected or withdrawn plan: DRAFT again as a new revision that starts with the same items. */
function backToDraft(s: PlanState, revision: number, earlier: PlanRevisionRecord[]): PlanState {
  const { submittedAt: _submittedAt, submittedBy: _submittedBy, ...rest } = s;
  const items = s.items.map((i) => ({ riskId: i.riskId, riskVersion: i.riskVersion, riskTitle: i.riskTitle, ownerId: i.ownerId }));
  return { ...rest, status: 'DRAFT', revision, revisions: [...earlier, { revision, items, outcome: 'OPEN' }] };
}

function updateItem(s: PlanState, riskId: string, f: (i: PlanItem) => PlanItem): PlanState {
  return { ...s, items: s.items.map((i) => (i.riskId === riskId ? f(i) : i)) };
}

function requireRole(actor: DomainActor, what: string, ...roles: Role[]): void {
  refuseAuditor(actor);
  if (!hasRole(actor, ...roles)) throw new ForbiddenError(`Only ${roles.join(' or ')} may ${what}`);
}

function requireExists(s: PlanState, planId: string): void {
  if (!s.exists) throw new NotFoundError('Plan', planId);
}

function requireItem(s: PlanState, riskId: string): PlanItem {
  const item = s.items.find((i) => i.riskId === riskId);
  if (!item) throw new NotFoundError('PlanItem', riskId);
  return item;
}

function requireApproved(s: PlanState, what: string): void {
  if (s.status !== 'APPROVED' && s.status !== 'IN_FORCE') {
    throw violation(
      'PLAN_NOT_APPROVED',
      `Plan ${s.id} is ${s.status}: residual risk is ${what} only after the board approved the plan (Art.20)`,
    );
  }
}

function requiredText(errors: FieldErrors, field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.trim() === '') {
    errors.add(field, 'is required');
    return '';
  }
  const text = value.trim();
  if (text.length > max) errors.add(field, `must be at most ${max} characters`);
  return text;
}

function optionalText(errors: FieldErrors, field: string, value: unknown, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    errors.add(field, 'must be a string');
    return null;
  }
  const text = value.trim();
  if (text.length > max) errors.add(field, `must be at most ${max} characters`);
  return text === '' ? null : text;
}

function isRealDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!;
  return d <= days;
}

/** The calendar day (YYYY-MM-DD) of an instant in Japan. `at` comes from the application. */
export function dayInJapan(at: string): string {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) throw new Error(`Command instant "at" is not an ISO-8601 instant: ${at}`);
  return new Date(ms + JAPAN_OFFSET_MS).toISOString().slice(0, 10);
}
