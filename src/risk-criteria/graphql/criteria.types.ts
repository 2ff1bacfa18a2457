import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IdLimit, ListLimit, NameLimit, NestedInput } from '../../graphql/input-limits.js';
import { ANALYSIS_METHODS, type AnalysisMethod, type CriteriaStatus } from '../domain/criteria.state.js';

/**
 * The analysis methods of Art. 15 (BASELINE, INFORMAL, DETAILED). Registered here once: every
 * other slice (the risk register's analyseRisk) imports this object rather than registering
 * its own.
 */
export const AnalysisMethodEnum = Object.fromEntries(ANALYSIS_METHODS.map((m) => [m, m])) as Record<AnalysisMethod, AnalysisMethod>;
registerEnumType(AnalysisMethodEnum, { name: 'AnalysisMethod', description: 'Risk analysis methods (Art. 15(2)): baseline, informal, detailed.' });

export const CriteriaStatusEnum = { PROPOSED: 'PROPOSED', IN_FORCE: 'IN_FORCE', SUPERSEDED: 'SUPERSEDED' } as const satisfies Record<CriteriaStatus, CriteriaStatus>;
registerEnumType(CriteriaStatusEnum, { name: 'CriteriaStatus', description: 'PROPOSED until the CISO approves it; exactly one version is IN_FORCE.' });

@ObjectType({ description: 'Assets of this value or higher require this analysis method (Art. 13(2)).' })
export class RequiredMethod {
  @Field(() => Int) minAssetValue!: number;
  @Field(() => AnalysisMethodEnum) method!: AnalysisMethod;
}

@ObjectType({ description: 'How often a risk of this level must be reviewed.' })
export class ReviewInterval {
  @Field() level!: string;
  @Field(() => Int) days!: number;
}

@ObjectType({ description: 'One numbered version of the risk criteria (Art. 13).' })
export class RiskCriteria {
  @Field(() => ID) id!: string;
  @Field(() => Int, { description: "Revision of the register event that last changed this version: pass it back as approveRiskCriteria's expectedVersion." })
  version!: number;
  @Field(() => Int, { description: '1, 2, 3… in order of proposal.' }) number!: number;
  @Field(() => CriteriaStatusEnum) status!: CriteriaStatus;
  @Field(() => [String], { description: 'Likelihood labels, lowest first (N).' }) likelihoodLevels!: string[];
  @Field(() => [String], { description: 'Impact labels, lowest first (M).' }) impactLevels!: string[];
  @Field(() => [String], { description: 'Risk level labels, lowest first.' }) riskLevels!: string[];
  @Field(() => [[String]], { description: 'matrix[likelihood-1][impact-1] = a risk level label.' }) matrix!: string[][];
  @Field({ description: 'Highest tolerated risk level: the acceptance criterion (Art. 13(1)).' }) acceptanceLevel!: string;
  @Field(() => [Int], { description: 'Impact (1..M) for asset value 1, 2, 3.' }) impactByAssetValue!: number[];
  @Field(() => [Float], { description: 'N-1 ascending: a baseline gap >= t[i] gives likelihood i+2, else 1.' }) baselineGapThresholds!: number[];
  @Field(() => [Int], { description: 'N-1 ascending, on threat level x vulnerability level (1..9).' }) detailedLikelihoodThresholds!: number[];
  @Field(() => [RequiredMethod], { description: 'Assessment criteria (Art. 13(2)).' }) requiredMethods!: RequiredMethod[];
  @Field(() => [ReviewInterval]) reviewIntervalDays!: ReviewInterval[];
  @Field(() => ID) proposedBy!: string;
  @Field() proposedAt!: string;
  @Field(() => ID, { nullable: true }) approvedBy?: string;
  @Field(() => String, { nullable: true }) approvedAt?: string;
  @Field(() => String, { nullable: true }) supersededAt?: string;
  @Field(() => ID, { nullable: true, description: 'The version that superseded this one.' }) supersededBy?: string;
}

@InputType()
export class RequiredMethodInput {
  @Field(() => Int) minAssetValue!: number;
  @Field(() => AnalysisMethodEnum) method!: AnalysisMethod;
}

@InputType()
export class ReviewIntervalInput {
  @NameLimit() @Field() level!: string;
  @Field(() => Int) days!: number;
}

@InputType()
export class ProposeRiskCriteriaInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: 'Idempotency key: a retry with the same commandId returns the first result.' }) commandId?: string;
  @ListLimit() @NameLimit() @Field(() => [String], { description: 'Labels, lowest first (N).' }) likelihoodLevels!: string[];
  @ListLimit() @NameLimit() @Field(() => [String], { description: 'Labels, lowest first (M).' }) impactLevels!: string[];
  @ListLimit() @NameLimit() @Field(() => [String], { description: 'Labels, lowest first.' }) riskLevels!: string[];
  @ListLimit() @NameLimit() @Field(() => [[String]], { description: 'matrix[likelihood-1][impact-1] = a risk level label.' }) matrix!: string[][];
  @NameLimit() @Field({ description: 'Highest tolerated level (Art. 13(1)).' }) acceptanceLevel!: string;
  @ListLimit() @Field(() => [Int], { description: '3 entries: impact (1..M) for asset value 1, 2, 3.' }) impactByAssetValue!: number[];
  @ListLimit() @Field(() => [Float], { description: 'N-1 ascending: gap >= t[i] gives likelihood i+2, else 1.' }) baselineGapThresholds!: number[];
  @ListLimit() @Field(() => [Int], { description: 'N-1 ascending, on threat x vulnerability (1..9).' }) detailedLikelihoodThresholds!: number[];
  @ListLimit() @NestedInput(() => RequiredMethodInput) @Field(() => [RequiredMethodInput], { description: 'Art. 13(2).' }) requiredMethods!: RequiredMethodInput[];
  @ListLimit() @NestedInput(() => ReviewIntervalInput) @Field(() => [ReviewIntervalInput], { description: 'One entry per risk level.' }) reviewIntervalDays!: ReviewIntervalInput[];
}

@InputType()
export class ApproveRiskCriteriaInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: 'Idempotency key: a retry with the same commandId returns the first result.' }) commandId?: string;
  @Field(() => Int, { nullable: true, description: "The criteria version's `version` as last read." }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) criteriaId!: string;
}
