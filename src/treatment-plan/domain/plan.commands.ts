/**
 * Commands of the InformationSecurityManagementPlan aggregate (Art. 19, Art. 20): what a caller
 * asks of a plan. Decided in plan.decider.ts.
 */
import type { DomainActor } from '../../shared/domain/decider.js';
import type { BoardDecision, RiskSnapshot, SubmissionCriteria } from './plan.state.js';

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
  /** The risk criteria in force, read in the same attempt: the board decides under them (none: no criteria yet). */
  criteria?: SubmissionCriteria | null;
  /** The items whose target residual level those criteria place above their acceptance level (residualMeetsAcceptance), read in the same attempt. */
  risksAboveAcceptance?: string[];
  /** The items analysed beyond the scales of those criteria (analysisBeyondScales): they cannot compare them with their acceptance level (Art.16). */
  risksBeyondScales?: string[];
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

/** In DRAFT, or for an item whose consent is DECLINED or REOPENED, or whose risk is closed. */
export interface RemoveRiskFromPlan extends PlanCommandBase {
  type: 'RemoveRiskFromPlan';
  riskId: string;
  reason: string;
  /** The risk is CLOSED (avoided): read from its stream in the same attempt by the application (plan-joint-commands.ts). */
  riskClosed?: boolean;
  /** See UnsettledItems. */
  unsettledRiskIds?: UnsettledItems;
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
  /** The revision the board decided (optional): when given, it must be the revision under submission. */
  planRevision?: number | null;
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
  /** See UnsettledItems. */
  unsettledRiskIds?: UnsettledItems;
}

/**
 * The plan's items whose risks, read with the command in the same attempt (version-checked at the
 * append), no longer hold what the plan counts for them (planLagsRisk: an acceptance made stale or
 * withdrawn, a reopening, that the reactions have not carried to the plan yet). They do not count
 * as ACCEPTED when the command would bring the plan into force: the log would otherwise say the
 * plan came into force after a change that voids one of its consents.
 */
export type UnsettledItems = readonly string[];

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

/**
 * Issued when the item's risk was closed (avoided) at `riskVersion` (its RiskClosed), by the
 * risk's own append or the reactions. System actor: no role check.
 */
export interface MarkItemRiskClosed extends PlanCommandBase {
  type: 'MarkItemRiskClosed';
  riskId: string;
  riskVersion: number;
  closedAt: string;
}

/**
 * Issued when the item's risk was given a new owner at `riskVersion` (its RiskOwnerReassigned), by
 * the risk's own append or the reactions. System actor: no role check.
 */
export interface LearnItemOwner extends PlanCommandBase {
  type: 'LearnItemOwner';
  riskId: string;
  riskVersion: number;
  previousOwnerId: string;
  ownerId: string;
}

/**
 * Issued when new risk criteria come into force, for an approved plan whose every item is
 * ACCEPTED: whether it comes into force now that the criteria in force (read with the command)
 * may no longer place an accepted residual above their acceptance level (UnsettledItems). Without
 * it such a plan, held back by criteria approved since its submission, stayed APPROVED for good
 * once the criteria were eased again (probe 7 F1). System actor: no role check.
 */
export interface ReconsiderForce extends PlanCommandBase {
  type: 'ReconsiderForce';
  /** See UnsettledItems. */
  unsettledRiskIds?: UnsettledItems;
}

/**
 * Art. 20: the committee records that it explained the plan and the residual risk to be accepted
 * to the item's owner (consent-explanation.ts).
 */
export interface ExplainResidualRisk extends PlanCommandBase {
  type: 'ExplainResidualRisk';
  riskId: string;
  /** YYYY-MM-DD, the day it was explained (Japan). */
  explainedOn: string;
  summary: string;
  /** The item's risk as read in the same attempt by the application: the state explained (none when it does not exist). */
  risk?: RiskSnapshot;
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
  | MarkConsentStale
  | MarkItemRiskClosed
  | LearnItemOwner
  | ReconsiderForce
  | ExplainResidualRisk;
