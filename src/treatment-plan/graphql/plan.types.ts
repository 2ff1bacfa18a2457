import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IdLimit, NameLimit, TextLimit, VersionLimit } from '../../graphql/input-limits.js';
import { COMMAND_ID_DESCRIPTION } from '../../graphql/descriptions.js';
import { ConnectionType } from '../../graphql/pagination.js';
import { ConsentStatusEnum } from '../../risk-register/graphql/risk.types.js';
import { BOARD_DECISIONS, PLAN_STATUSES, type BoardDecision, type ConsentStatus, type PlanStatus } from '../domain/plan.state.js';
import { PLAN_LIMITS } from '../domain/plan.decider.js';

const asEnum = <T extends string>(values: readonly T[]) => Object.fromEntries(values.map((v) => [v, v])) as Record<T, T>;
const EXPECTED_PLAN_VERSION =
  "The plan's version the client last read; when given and the plan has moved on, the command is refused with CONCURRENCY_CONFLICT (expectedVersion, actualVersion).";
const INSTANT = 'Instant (ISO 8601, UTC).';

export const PlanStatusEnum = asEnum(PLAN_STATUSES);
registerEnumType(PlanStatusEnum, {
  name: 'PlanStatus',
  description:
    'Where a plan stands (Art.19-20): DRAFT → SUBMITTED → APPROVED → IN_FORCE; a rejected or withdrawn plan becomes DRAFT again with revision + 1; CLOSED ends an approved or in-force plan.',
  valuesMap: {
    DRAFT: { description: 'Being drafted by the committee: risks may be added and removed.' },
    SUBMITTED: { description: 'Submitted to the board: the plan and its risks are frozen until the resolution or a withdrawal (Art.19).' },
    APPROVED: { description: "Approved by board resolution (Art.19(2)); the risk owners' consents are awaited (Art.20)." },
    IN_FORCE: { description: 'Approved and every remaining item ACCEPTED by its owner (Art.20).' },
    CLOSED: { description: 'Ended by the committee; its risks may join another plan.' },
  },
});
export const BoardDecisionEnum = asEnum(BOARD_DECISIONS);
registerEnumType(BoardDecisionEnum, {
  name: 'BoardDecision',
  description: "The board of directors' decision on a submitted plan revision (Art.19(2)).",
  valuesMap: {
    APPROVED: { description: 'The plan is approved; each risk owner is asked to consent to the residual risk (Art.20).' },
    REJECTED: { description: 'The plan is rejected; it returns to DRAFT as revision + 1, history kept.' },
  },
});

@ObjectType({ description: "An owner's consent to the residual risk, pinned to the state consented to (Art.20)." })
export class ConsentRecord {
  @Field(() => ID, { description: 'User id of the owner who consented.' }) ownerId!: string;
  @Field({ description: "The owner's statement (may be empty)." }) statement!: string;
  @Field(() => Int, { description: "The risk's version consented to." }) riskVersion!: number;
  @Field({ description: 'Fingerprint (SHA-256) of the risk state consented to.' }) riskStateHash!: string;
  @Field(() => String, { nullable: true, description: "The risk's level when consented (a label of the criteria)." }) riskLevel!: string | null;
  @Field(() => String, { nullable: true, description: 'The residual level accepted: the treatment target level.' }) residualLevel!: string | null;
  @Field(() => Int, { description: "The plan's version when the consent was recorded." }) planVersion!: number;
  @Field(() => Int, { description: "The plan's revision consented to." }) planRevision!: number;
  @Field(() => Int, { nullable: true, description: 'Number of the criteria version in force when consented (Art.13).' }) criteriaNumber!: number | null;
  @Field({ description: `When the owner consented. ${INSTANT}` }) acceptedAt!: string;
}

@ObjectType({ description: "The committee's record of having explained the plan and the residual risk to be accepted to the risk's owner (Art.20), pinned to the risk's state then." })
export class ConsentExplanation {
  @Field(() => Int, { description: 'The plan revision explained (the one the board approved).' }) planRevision!: number;
  @Field(() => ID, { description: "User id of the risk's owner it was explained to." }) ownerId!: string;
  @Field(() => ID, { description: 'User id of the COMMITTEE_MEMBER or CISO who explained it and recorded it.' }) explainedBy!: string;
  @Field({ description: 'The day it was explained, YYYY-MM-DD (Japan).' }) explainedOn!: string;
  @Field({ description: 'What was explained and how (the documents shown, the questions asked).' }) summary!: string;
  @Field(() => Int, { description: "The risk's version when the explanation was recorded." }) riskVersion!: number;
  @Field({ description: "Fingerprint (SHA-256) of the risk's state when it was recorded, as a consent pins the state consented to (compare consentRecord.riskStateHash)." }) riskStateHash!: string;
  @Field(() => String, { nullable: true, description: 'The residual level the owner was asked to accept then (the item\'s residualLevel).' }) residualLevel!: string | null;
  @Field({ description: `When it was recorded. ${INSTANT}` }) recordedAt!: string;
}

@ObjectType({ description: 'A risk in the plan, with its owner\'s consent to the residual risk (Art.19-20).' })
export class PlanItem {
  @Field(() => ID, { description: 'The risk.' }) riskId!: string;
  @Field(() => ConsentStatusEnum, { description: "Where the owner's consent stands." }) consent!: ConsentStatus;
  @Field(() => ID, { description: "User id of the risk's owner, who alone may consent: follows reassignRiskOwner (the consent of a former owner then goes STALE; consentRecord and declinedBy keep who answered)." }) ownerId!: string;
  @Field({ description: "The risk's title when added." }) riskTitle!: string;
  @Field(() => Int, { description: "The risk's version when it was added to the plan." }) riskVersion!: number;
  @Field(() => String, { nullable: true, description: 'The level the owner is asked to accept (the treatment target level), fixed at submission; null before.' }) residualLevel?: string | null;
  @Field({ description: `When the risk was added. ${INSTANT}` }) addedAt!: string;
  @Field(() => ID, { description: 'User id of who added it.' }) addedBy!: string;
  @Field(() => ConsentRecord, { nullable: true, description: 'The consent given, when ACCEPTED.' }) consentRecord?: ConsentRecord;
  @Field(() => String, { nullable: true, description: "The owner's reason, when DECLINED." }) declineReason?: string;
  @Field(() => ID, { nullable: true, description: 'User id of the owner who declined, when DECLINED (the risk may have had another owner since).' }) declinedBy?: string;
  @Field(() => String, { nullable: true, description: `When the owner declined, when DECLINED. ${INSTANT}` }) declinedAt?: string;
  @Field(() => Int, { nullable: true, description: "When DECLINED: the risk's version the owner declined (as consentRecord.riskVersion pins an acceptance)." }) declinedRiskVersion?: number;
  @Field(() => String, { nullable: true, description: 'When DECLINED: the consent fingerprint of the state declined (as consentRecord.riskStateHash pins an acceptance).' }) declinedRiskStateHash?: string;
  @Field(() => String, { nullable: true, description: 'The material change that made the consent STALE.' }) staleReason?: string;
  @Field(() => Int, { nullable: true, description: "The risk's version from which the consent is STALE." }) staleSinceRiskVersion?: number;
  @Field(() => String, { nullable: true, description: `When the risk was closed (avoided, Art.17) after it was added: its owner can no longer answer, and the committee removes the item (removeRiskFromPlan) for the plan to come into force; null while the risk is open. ${INSTANT}` }) riskClosedAt?: string;
  @Field(() => [ConsentExplanation], { description: 'What the committee recorded having explained to the owner (explainResidualRisk, Art.20), oldest first, every revision\'s.' }) explanations!: ConsentExplanation[];
}

@ObjectType({ description: 'A risk taken out of the plan (removeRiskFromPlan), as its item stood then: its owner\'s answer and the explanations recorded, with who removed it, when and why.' })
export class RemovedPlanItem extends PlanItem {
  @Field(() => Int, { description: 'The plan revision it was removed from.' }) removedFromRevision!: number;
  @Field(() => ID, { description: 'User id of who removed it.' }) removedBy!: string;
  @Field({ description: `When it was removed. ${INSTANT}` }) removedAt!: string;
  @Field({ description: 'Why it was removed.' }) removalReason!: string;
}

@ObjectType({ description: 'The board resolution on a plan revision (Art.19(2)).' })
export class BoardResolution {
  @Field({ description: 'The resolution number, unique within the plan.' }) resolutionNumber!: string;
  @Field({ description: 'Date of the board meeting (YYYY-MM-DD), neither in the future nor before the submission day.' }) meetingDate!: string;
  @Field(() => BoardDecisionEnum, { description: 'APPROVED or REJECTED.' }) decision!: BoardDecision;
  @Field({ description: 'Reference to the board minutes.' }) minutesReference!: string;
  @Field(() => String, { nullable: true, description: "The secretary's notes." }) notes!: string | null;
  @Field(() => ID, { description: 'User id of the BOARD_SECRETARY who recorded it.' }) recordedBy!: string;
  @Field({ description: `When it was recorded. ${INSTANT}` }) recordedAt!: string;
  @Field(() => Int, { description: 'The plan revision decided on.' }) revision!: number;
  @Field({ description: 'Log position of the resolution: use it with atPosition to see the register exactly as the board decided on it.' }) position!: string;
}

@ObjectType({ description: 'One revision of a plan and what became of it.' })
export class PlanRevision {
  @Field(() => Int, { description: 'Revision number, from 1.' }) revision!: number;
  @Field(() => [ID], { description: 'The risks of this revision.' }) riskIds!: string[];
  @Field({ description: 'OPEN (being drafted), SUBMITTED, APPROVED, REJECTED or WITHDRAWN.' }) outcome!: string;
  @Field(() => String, { nullable: true, description: `When it was submitted to the board. ${INSTANT}` }) submittedAt?: string;
  @Field(() => String, { nullable: true, description: 'The number of the resolution that decided it.' }) resolutionNumber?: string;
  @Field(() => String, { nullable: true, description: `When the board's decision was recorded. ${INSTANT}` }) decidedAt?: string;
  @Field(() => ID, { nullable: true, description: 'WITHDRAWN: user id of who took it back from the board (withdrawPlan).' }) withdrawnBy?: string;
  @Field(() => String, { nullable: true, description: `WITHDRAWN: when it was withdrawn. ${INSTANT}` }) withdrawnAt?: string;
  @Field(() => String, { nullable: true, description: 'WITHDRAWN: the reason given.' }) withdrawalReason?: string;
}

@ObjectType({ description: 'The information security management plan (Art.19): the risks whose controls are to be carried out, approved by board resolution and in force once every owner consents (Art.20).' })
export class Plan {
  @Field(() => ID, { description: 'Id of the plan.' }) id!: string;
  @Field(() => Int, { description: "The plan's version, which grows with each of its events; send it as expectedVersion." }) version!: number;
  @Field(() => Int, { description: 'Revision, from 1; + 1 each time a rejection or a withdrawal returns it to DRAFT.' }) revision!: number;
  @Field(() => PlanStatusEnum, { description: 'Where the plan stands.' }) status!: PlanStatus;
  @Field({ description: 'Title of the plan.' }) title!: string;
  @Field({ description: 'The period the plan covers, e.g. FY2026.' }) period!: string;
  @Field(() => ID, { description: 'User id of who drafted it (who may not record its resolution, Art.23(3)).' }) draftedBy!: string;
  @Field({ description: `When it was drafted. ${INSTANT}` }) draftedAt!: string;
  @Field(() => [PlanItem], { description: 'The risks of the current revision.' }) items!: PlanItem[];
  @Field(() => [RemovedPlanItem], { description: 'The removals of risks from the plan, oldest first, each item as it stood then (a declined item\'s reason, its explanations): a history, not the risks out of the plan now: a risk removed from a draft and added again is in items too.' }) removedItems!: RemovedPlanItem[];
  @Field(() => BoardResolution, { nullable: true, description: 'The latest board resolution; null before any.' }) resolution?: BoardResolution;
  @Field(() => [BoardResolution], { description: 'Every board resolution, oldest first.' }) resolutions!: BoardResolution[];
  @Field(() => [PlanRevision], { description: 'Every revision, oldest first.' }) revisions!: PlanRevision[];
  @Field(() => String, { nullable: true, description: `When the current revision was submitted. ${INSTANT}` }) submittedAt?: string;
  @Field(() => String, { nullable: true, description: `When it was approved. ${INSTANT}` }) approvedAt?: string;
  @Field(() => String, { nullable: true, description: `Since when it is IN_FORCE; null while not. ${INSTANT}` }) inForceSince?: string;
  @Field(() => String, { nullable: true, description: `When it was closed. ${INSTANT}` }) closedAt?: string;
  @Field(() => String, { nullable: true, description: 'Why it was closed.' }) closedReason?: string;
}

export const PlanConnection = ConnectionType(Plan, 'Plan');

@InputType({ description: 'Input of draftPlan (Art.19(1)).' })
export class DraftPlanInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @NameLimit() @Field({ description: 'Title of the plan, 1–200 characters.' }) title!: string;
  @NameLimit(PLAN_LIMITS.period) @Field({ description: `The period it covers, e.g. FY2026; 1–${PLAN_LIMITS.period} characters.` }) period!: string;
}

@InputType({ description: 'Names a plan and a risk (input of addRiskToPlan).' })
export class PlanRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_PLAN_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The plan, in DRAFT.' }) planId!: string;
  @IdLimit() @Field(() => ID, { description: 'The risk, CONTROLS_DECIDED and in no other plan not CLOSED.' }) riskId!: string;
}

@InputType({ description: 'Names a plan (input of submitPlan).' })
export class PlanRefInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_PLAN_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The plan.' }) planId!: string;
}

@InputType({ description: 'Input of recordBoardResolution (Art.19(2)).' })
export class RecordBoardResolutionInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_PLAN_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The plan, SUBMITTED.' }) planId!: string;
  @TextLimit(PLAN_LIMITS.resolutionNumber) @Field({ description: `The resolution number, 1–${PLAN_LIMITS.resolutionNumber} characters; reusing one with other content is rule RESOLUTION_NUMBER_REUSED.` }) resolutionNumber!: string;
  @TextLimit() @Field({ description: 'Date of the board meeting, YYYY-MM-DD: a real date, not in the future, not before the day the revision under submission was submitted (Japan time).' }) meetingDate!: string;
  @Field(() => BoardDecisionEnum, { description: 'APPROVED or REJECTED.' }) decision!: BoardDecision;
  @TextLimit(PLAN_LIMITS.minutesReference) @Field({ description: `Reference to the board minutes, 1–${PLAN_LIMITS.minutesReference} characters.` }) minutesReference!: string;
  @TextLimit() @Field({ nullable: true, description: `The secretary's notes; at most ${PLAN_LIMITS.notes.toLocaleString('en')} characters.` }) notes?: string;
  @Field(() => Int, {
    nullable: true,
    description:
      'The plan revision the board decided (Plan.revision as presented to it). Optional; when given and not the revision under submission (withdrawn and resubmitted since, say), the resolution is refused with rule PLAN_REVISION_MISMATCH (Art.19(2)).',
  })
  planRevision?: number;
}

@InputType({ description: 'Input of acceptResidualRisk (Art.20).' })
export class AcceptResidualRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_PLAN_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The approved plan that asks for the consent.' }) planId!: string;
  @IdLimit() @Field(() => ID, { description: 'The risk, owned by the caller.' }) riskId!: string;
  @TextLimit() @Field({ nullable: true, description: `The owner's statement; at most ${PLAN_LIMITS.statement.toLocaleString('en')} characters.` }) statement?: string;
}

@InputType({ description: 'Input of declineResidualRisk (Art.20).' })
export class DeclineResidualRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_PLAN_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The approved plan that asks for the consent.' }) planId!: string;
  @IdLimit() @Field(() => ID, { description: 'The risk, owned by the caller.' }) riskId!: string;
  @TextLimit() @Field({ description: `Why the residual risk is refused; required, at most ${PLAN_LIMITS.reason.toLocaleString('en')} characters.` }) reason!: string;
}

@InputType({ description: 'Input of withdrawPlan (Art.19).' })
export class WithdrawPlanInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_PLAN_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The plan, SUBMITTED.' }) planId!: string;
  @TextLimit() @Field({ description: `Why it is withdrawn; required, at most ${PLAN_LIMITS.reason.toLocaleString('en')} characters.` }) reason!: string;
}

@InputType({ description: 'Input of closePlan (Art.19).' })
export class ClosePlanInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_PLAN_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The plan, APPROVED or IN_FORCE.' }) planId!: string;
  @TextLimit() @Field({ description: `Why it is closed; required, at most ${PLAN_LIMITS.reason.toLocaleString('en')} characters.` }) reason!: string;
}

@InputType({ description: 'Input of removeRiskFromPlan (Art.19).' })
export class RemoveRiskFromPlanInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_PLAN_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The plan: in DRAFT, or APPROVED or IN_FORCE for an item whose consent is DECLINED or REOPENED or whose risk is CLOSED (avoided).' }) planId!: string;
  @IdLimit() @Field(() => ID, { description: 'The risk, an item of the plan.' }) riskId!: string;
  @TextLimit() @Field({ description: `Why it is removed; required, at most ${PLAN_LIMITS.reason.toLocaleString('en')} characters.` }) reason!: string;
}

@InputType({ description: 'Input of explainResidualRisk (Art.20).' })
export class ExplainResidualRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_PLAN_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The plan, APPROVED or IN_FORCE.' }) planId!: string;
  @IdLimit() @Field(() => ID, { description: 'The risk, an item of the plan not closed.' }) riskId!: string;
  @TextLimit() @Field({ description: 'The day it was explained, YYYY-MM-DD: a real date, not in the future, not before the meeting of the board that approved the revision (Japan time).' }) explainedOn!: string;
  @TextLimit(PLAN_LIMITS.explanation) @Field({ description: `What was explained and how (the plan document and its position, the residual level, the questions asked); required, at most ${PLAN_LIMITS.explanation.toLocaleString('en')} characters.` }) summary!: string;
}
