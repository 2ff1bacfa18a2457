import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IdLimit, NameLimit, TextLimit } from '../../graphql/input-limits.js';
import { ConnectionType } from '../../graphql/pagination.js';
import { ConsentStatusEnum } from '../../risk-register/graphql/risk.types.js';
import { BOARD_DECISIONS, PLAN_STATUSES, type BoardDecision, type ConsentStatus, type PlanStatus } from '../domain/plan.state.js';

const asEnum = <T extends string>(values: readonly T[]) => Object.fromEntries(values.map((v) => [v, v])) as Record<T, T>;
export const PlanStatusEnum = asEnum(PLAN_STATUSES);
registerEnumType(PlanStatusEnum, { name: 'PlanStatus', description: 'DRAFT → SUBMITTED → APPROVED → IN_FORCE; a rejected or withdrawn plan becomes DRAFT again with revision + 1; CLOSED ends an approved or in-force plan.' });
export const BoardDecisionEnum = asEnum(BOARD_DECISIONS);
registerEnumType(BoardDecisionEnum, { name: 'BoardDecision' });

@ObjectType({ description: "An owner's pinned consent to the residual risk (Art.20)." })
export class ConsentRecord {
  @Field(() => ID) ownerId!: string;
  @Field() statement!: string;
  @Field(() => Int, { description: "The risk's version consented to." }) riskVersion!: number;
  @Field({ description: 'Fingerprint (SHA-256) of the risk state consented to.' }) riskStateHash!: string;
  @Field(() => String, { nullable: true }) riskLevel!: string | null;
  @Field(() => String, { nullable: true, description: 'The residual level accepted: the treatment target level.' }) residualLevel!: string | null;
  @Field(() => Int, { description: "The plan's version when the consent was recorded." }) planVersion!: number;
  @Field(() => Int) planRevision!: number;
  @Field(() => Int, { nullable: true }) criteriaNumber!: number | null;
  @Field() acceptedAt!: string;
}

@ObjectType()
export class PlanItem {
  @Field(() => ID) riskId!: string;
  @Field(() => ConsentStatusEnum) consent!: ConsentStatus;
  @Field(() => ID) ownerId!: string;
  @Field() riskTitle!: string;
  @Field(() => Int) riskVersion!: number;
  @Field(() => String, { nullable: true, description: 'The level the owner is asked to accept (the treatment target level), fixed at submission.' }) residualLevel?: string | null;
  @Field() addedAt!: string;
  @Field(() => ID) addedBy!: string;
  @Field(() => ConsentRecord, { nullable: true }) consentRecord?: ConsentRecord;
  @Field(() => String, { nullable: true }) declineReason?: string;
  @Field(() => String, { nullable: true }) staleReason?: string;
  @Field(() => Int, { nullable: true }) staleSinceRiskVersion?: number;
}

@ObjectType({ description: 'The board resolution on a plan revision (Art.19(2)).' })
export class BoardResolution {
  @Field() resolutionNumber!: string;
  @Field() meetingDate!: string;
  @Field(() => BoardDecisionEnum) decision!: BoardDecision;
  @Field() minutesReference!: string;
  @Field(() => String, { nullable: true }) notes!: string | null;
  @Field(() => ID) recordedBy!: string;
  @Field() recordedAt!: string;
  @Field(() => Int) revision!: number;
  @Field({ description: 'Log position of the resolution: use it with atPosition to see the register exactly as the board decided on it.' }) position!: string;
}

@ObjectType()
export class PlanRevision {
  @Field(() => Int) revision!: number;
  @Field(() => [ID]) riskIds!: string[];
  @Field() outcome!: string;
  @Field(() => String, { nullable: true }) submittedAt?: string;
  @Field(() => String, { nullable: true }) resolutionNumber?: string;
  @Field(() => String, { nullable: true }) decidedAt?: string;
}

@ObjectType({ description: 'The information security management plan (Art.19).' })
export class Plan {
  @Field(() => ID) id!: string;
  @Field(() => Int) version!: number;
  @Field(() => Int) revision!: number;
  @Field(() => PlanStatusEnum) status!: PlanStatus;
  @Field() title!: string;
  @Field() period!: string;
  @Field(() => ID) draftedBy!: string;
  @Field() draftedAt!: string;
  @Field(() => [PlanItem]) items!: PlanItem[];
  @Field(() => BoardResolution, { nullable: true }) resolution?: BoardResolution;
  @Field(() => [BoardResolution]) resolutions!: BoardResolution[];
  @Field(() => [PlanRevision]) revisions!: PlanRevision[];
  @Field(() => String, { nullable: true }) submittedAt?: string;
  @Field(() => String, { nullable: true }) approvedAt?: string;
  @Field(() => String, { nullable: true }) inForceSince?: string;
  @Field(() => String, { nullable: true }) closedAt?: string;
  @Field(() => String, { nullable: true }) closedReason?: string;
}

export const PlanConnection = ConnectionType(Plan, 'Plan');

@InputType()
export class DraftPlanInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @NameLimit() @Field() title!: string;
  @NameLimit() @Field({ description: 'e.g. FY2026' }) period!: string;
}

@InputType()
export class PlanRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) planId!: string;
  @IdLimit() @Field(() => ID) riskId!: string;
}

@InputType()
export class PlanRefInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) planId!: string;
}

@InputType()
export class RecordBoardResolutionInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) planId!: string;
  @TextLimit() @Field() resolutionNumber!: string;
  @TextLimit() @Field({ description: 'YYYY-MM-DD' }) meetingDate!: string;
  @Field(() => BoardDecisionEnum) decision!: BoardDecision;
  @TextLimit() @Field() minutesReference!: string;
  @TextLimit() @Field({ nullable: true }) notes?: string;
}

@InputType()
export class AcceptResidualRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) planId!: string;
  @IdLimit() @Field(() => ID) riskId!: string;
  @TextLimit() @Field({ nullable: true }) statement?: string;
}

@InputType()
export class DeclineResidualRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) planId!: string;
  @IdLimit() @Field(() => ID) riskId!: string;
  @TextLimit() @Field() reason!: string;
}

@InputType()
export class WithdrawPlanInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) planId!: string;
  @TextLimit() @Field() reason!: string;
}

@InputType()
export class ClosePlanInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) planId!: string;
  @TextLimit() @Field() reason!: string;
}

@InputType()
export class RemoveRiskFromPlanInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) planId!: string;
  @IdLimit() @Field(() => ID) riskId!: string;
  @TextLimit() @Field() reason!: string;
}
