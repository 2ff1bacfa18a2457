/**
 * State of the InformationSecurityManagementPlan aggregate (Art. 19: the plan that compiles the
 * controls' execution, decided by board resolution; Art. 20: each risk owner's consent to the
 * residual risk). One stream per plan: `plan-<id>`. Its events are in plan.events.ts.
 */
import { streamCategory } from '../../shared/domain/guards.js';

export const PLAN_STATUSES = ['DRAFT', 'SUBMITTED', 'APPROVED', 'IN_FORCE', 'CLOSED'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];

export const CONSENT_STATUSES = ['PENDING', 'ACCEPTED', 'DECLINED', 'STALE', 'REOPENED'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

export const BOARD_DECISIONS = ['APPROVED', 'REJECTED'] as const;
export type BoardDecision = (typeof BOARD_DECISIONS)[number];

/** How a revision of the plan ended (OPEN: being drafted; SUBMITTED: awaiting the board). */
export type PlanRevisionOutcome = 'OPEN' | 'SUBMITTED' | 'APPROVED' | 'REJECTED' | 'WITHDRAWN';

/** One stream per plan: `plan-<id>`. */
export const planStreams = streamCategory('plan');
export const planStreamId = (id: string): string => planStreams.streamOf(id);

/**
 * What the application knows about a risk (the Risk aggregate is not this one's): it loads the
 * risk and passes this snapshot in the command.
 */
export interface RiskSnapshot {
  id: string;
  /** The risk stream's version when the snapshot was taken. */
  version: number;
  title: string;
  ownerId: string;
  /** The contract's RiskStatus (IDENTIFIED … CONTROLS_DECIDED, IN_PLAN, AWAITING_CONSENT, ACCEPTED, CLOSED). */
  status: string;
  /** Fingerprint of what the owner consents to (level, treatment, controls…), computed by the risk side. */
  stateHash: string;
  criteriaNumber?: number;
  level?: string;
  /** The treatment's target level: the residual level the owner will be asked to accept. */
  targetLevel?: string;
}

/** The consent as given (Art. 20), pinned to the exact risk state and plan revision it was given on. */
export interface ConsentRecord {
  ownerId: string;
  statement: string;
  riskVersion: number;
  riskStateHash: string;
  /** The risk's level as shown to the owner (null when the snapshot had none). */
  riskLevel: string | null;
  /** The residual level accepted: the treatment's target level (null when not recorded). */
  residualLevel: string | null;
  /** The plan's version just before the consent was recorded. */
  planVersion: number;
  planRevision: number;
  /** The criteria version the risk was evaluated under (null when the snapshot had none). */
  criteriaNumber: number | null;
  acceptedAt: string;
}

/** Art. 20: an explanation of the plan and the residual risk to the item's owner (ResidualRiskExplained). */
export interface ConsentExplanation {
  planRevision: number;
  ownerId: string;
  explainedBy: string;
  explainedOn: string;
  summary: string;
  riskVersion: number;
  riskStateHash: string;
  residualLevel: string | null;
  recordedAt: string;
}

export interface PlanItem {
  riskId: string;
  /** The risk's owner, who alone may consent: as of adding, then as the risk learns it (PlanItemOwnerChanged) or as they answer. */
  ownerId: string;
  riskTitle: string;
  /** The risk's version when it was added to the plan. */
  riskVersion: number;
  /** The level the owner is asked to accept (the treatment's target level), fixed at submission. */
  residualLevel?: string | null;
  riskStateHash: string;
  addedBy: string;
  addedAt: string;
  /** PENDING until the plan is approved and the owner answers. */
  consent: ConsentStatus;
  /** The latest acceptance; kept when it becomes STALE or is followed by a decline (`consent` says whether it is current). */
  consentRecord?: ConsentRecord;
  declineReason?: string;
  declinedAt?: string;
  /** Who declined (the item's owner may have changed since). */
  declinedBy?: string;
  /** The state declined: the risk's version and consent fingerprint, as an acceptance pins them. */
  declinedRiskVersion?: number;
  declinedRiskStateHash?: string;
  /** The risk version whose material change made the consent stale. */
  staleSinceRiskVersion?: number;
  staleReason?: string;
  /** When the item's risk was closed (avoided) after it was added (PlanItemRiskClosed): its owner can no longer answer. */
  riskClosedAt?: string;
  /** Art. 20: what the committee recorded having explained to the owner, oldest first (every revision's). */
  explanations?: ConsentExplanation[];
}

export interface BoardResolution {
  resolutionNumber: string;
  /** YYYY-MM-DD. */
  meetingDate: string;
  decision: BoardDecision;
  minutesReference: string;
  notes: string | null;
  recordedBy: string;
  recordedAt: string;
  /** The plan revision the board decided on. */
  revision: number;
  /**
   * The id of the event that recorded it (BoardResolution.id: evidence and comments attach to it);
   * known once the event is recorded, like the position.
   */
  id?: string;
  /** Log position of the commit that recorded it: with atPosition, the register exactly as the board decided it. */
  position?: string;
}

export interface PlanRevisionItem {
  riskId: string;
  riskVersion: number;
  riskTitle: string;
  ownerId: string;
}

/** What one revision of the plan contained and how it ended. */
export interface PlanRevisionRecord {
  revision: number;
  items: PlanRevisionItem[];
  outcome: PlanRevisionOutcome;
  submittedAt?: string;
  submittedBy?: string;
  resolutionNumber?: string;
  decidedAt?: string;
  /** A WITHDRAWN revision: who took it back from the board, when, and why. */
  withdrawnBy?: string;
  withdrawnAt?: string;
  withdrawalReason?: string;
}

/** What a person did to prepare what the board decides: it bars them from recording its resolution (Art.23(3)). */
export type PlanPreparation = 'DRAFTED' | 'ADDED_RISK' | 'REMOVED_RISK' | 'SUBMITTED' | 'WITHDREW';

export interface PlanContribution {
  actorId: string;
  did: PlanPreparation;
  /** The revision they did it to (DRAFTED: 1; WITHDREW: the revision the withdrawal opened). */
  revision: number;
  /** ADDED_RISK, REMOVED_RISK: the risk. */
  riskId?: string;
}

export interface PlanState {
  /** False until PlanDrafted. */
  exists: boolean;
  id: string;
  /** Revision of the stream's last event; -1 before drafting. Matches the store's stream version. */
  version: number;
  /** 1 initially; +1 each time the board rejects the plan. */
  revision: number;
  status: PlanStatus;
  title: string;
  period: string;
  draftedBy: string;
  draftedAt: string;
  items: PlanItem[];
  /** Of the current revision; cleared when the plan returns to draft (kept in `revisions`). */
  submittedAt?: string;
  submittedBy?: string;
  /** The risk criteria in force when the current revision was submitted (absent: submitted before they were recorded, or none). */
  submittedUnderCriteria?: SubmissionCriteria;
  /** The latest board resolution (also after a rejection, while the next revision is drafted). */
  resolution?: BoardResolution;
  /** Every resolution, oldest first. */
  resolutions: BoardResolution[];
  /** One record per revision, oldest first; the last one is the current revision. */
  revisions: PlanRevisionRecord[];
  /**
   * Who prepared the plan, oldest first: drafted it, added or removed an item while it was a draft,
   * submitted a revision. A revision carries forward what the ones before it held (its items, its
   * title), so the people who prepared revision N are those of every revision up to N.
   */
  preparedBy: PlanContribution[];
  approvedAt?: string;
  /** Since when the plan is in force (absent when it is not). */
  inForceSince?: string;
  leftForceAt?: string;
  closedAt?: string;
  closedReason?: string;
  /**
   * The items removed, oldest removal first, each as it stood when removed (its owner's answer,
   * the explanations recorded) with who removed it, when and why: an auditor reads a declined
   * item's reason and its explanations after the committee took it out (probe of 2026-12-06, M2).
   */
  removedItems?: RemovedPlanItem[];
}

export interface RemovedPlanItem extends PlanItem {
  removedFromRevision: number;
  removedBy: string;
  removedAt: string;
  removalReason: string;
}

export const initialPlanState: PlanState = {
  exists: false,
  id: '',
  version: -1,
  revision: 1,
  status: 'DRAFT',
  title: '',
  period: '',
  draftedBy: '',
  draftedAt: '',
  items: [],
  resolutions: [],
  revisions: [],
  preparedBy: [],
};

/** True when the plan is in force: approved and every owner's consent is current. */
export function isPlanInForce(state: PlanState): boolean {
  return state.exists && state.status === 'IN_FORCE';
}

/**
 * The items whose owner's consent is still needed (PENDING, STALE or DECLINED) once the plan is
 * approved. Before approval no consent is asked (Art. 20 follows the board's decision): [].
 */
export function pendingConsents(state: PlanState): PlanItem[] {
  if (!state.exists || (state.status !== 'APPROVED' && state.status !== 'IN_FORCE')) return [];
  return state.items.filter((i) => i.consent !== 'ACCEPTED');
}

/** Which risk criteria a plan was submitted under (Art.13, 19(2)): what its residual levels are judged against. */
export interface SubmissionCriteria {
  number: number;
  acceptanceLevel: string;
}
