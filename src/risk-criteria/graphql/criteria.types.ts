import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IdLimit, ListLimit, NameLimit, NestedInput, VersionLimit } from '../../graphql/input-limits.js';
import { COMMAND_ID_DESCRIPTION, EXPECTED_VERSION_DESCRIPTION } from '../../graphql/descriptions.js';
import { CRITERIA_LIMITS } from '../domain/criteria.decider.js';
import { ANALYSIS_METHODS, type AnalysisMethod, type CriteriaStatus } from '../domain/criteria.state.js';

/**
 * The analysis methods of Art. 15 (BASELINE, INFORMAL, DETAILED). Registered here once: every
 * other slice (the risk register's analyseRisk) imports this object rather than registering
 * its own.
 */
export const AnalysisMethodEnum = Object.fromEntries(ANALYSIS_METHODS.map((m) => [m, m])) as Record<AnalysisMethod, AnalysisMethod>;
registerEnumType(AnalysisMethodEnum, {
  name: 'AnalysisMethod',
  description: 'A risk analysis method (Art. 15(2)); the risk criteria say which one an asset of a given value requires (Art. 13(2)).',
  valuesMap: {
    BASELINE: { description: 'Baseline approach (Art. 15(2)(1)): the asset is checked against a baseline catalogue; the gap gives the likelihood.' },
    INFORMAL: { description: "Informal approach (Art. 15(2)(2)): an expert's judgement of likelihood and impact, with the expert and the reasoning recorded." },
    DETAILED: { description: 'Detailed approach (Art. 15(2)(3)): per asset, asset value x threat level x vulnerability level through the criteria thresholds.' },
  },
});

export const CriteriaStatusEnum = { PROPOSED: 'PROPOSED', IN_FORCE: 'IN_FORCE', SUPERSEDED: 'SUPERSEDED' } as const satisfies Record<CriteriaStatus, CriteriaStatus>;
registerEnumType(CriteriaStatusEnum, {
  name: 'CriteriaStatus',
  description: 'Where a risk criteria version stands (Art. 13): PROPOSED until a CISO approves it; exactly one version is IN_FORCE at a time.',
  valuesMap: {
    PROPOSED: { description: 'Proposed, not yet approved; analyses and evaluations do not use it.' },
    IN_FORCE: { description: 'Approved and in force: every new analysis and evaluation uses it and records its number.' },
    SUPERSEDED: { description: 'Was in force until a later version was approved; it cannot be approved again.' },
  },
});

@ObjectType({ description: 'Assets of this value or higher require this analysis method (Art. 13(2)).' })
export class RequiredMethod {
  @Field(() => Int, { description: 'Asset value 1..3 from which the method is required.' }) minAssetValue!: number;
  @Field(() => AnalysisMethodEnum, { description: 'The method that must have been applied before such a risk can be evaluated.' }) method!: AnalysisMethod;
}

@ObjectType({ description: 'How often a risk of this level must be reviewed.' })
export class ReviewInterval {
  @Field({ description: 'A risk level label of riskLevels.' }) level!: string;
  @Field(() => Int, { description: 'Days between reviews of a risk at that level, 1 to 3660 (Art. 12(3)).' }) days!: number;
}

@ObjectType({ description: 'One numbered version of the risk criteria (Art. 13).' })
export class RiskCriteria {
  @Field(() => ID, { description: 'Server-assigned id of this version; pass it as approveRiskCriteria.criteriaId.' }) id!: string;
  @Field(() => Int, { description: "Revision of the register event that last changed this version: pass it back as approveRiskCriteria's expectedVersion." })
  version!: number;
  @Field(() => Int, { description: '1, 2, 3… in order of proposal.' }) number!: number;
  @Field(() => CriteriaStatusEnum, { description: 'PROPOSED, IN_FORCE or SUPERSEDED.' }) status!: CriteriaStatus;
  @Field(() => [String], { description: 'Likelihood labels, lowest first: N of them, 2 to 10, unique; likelihood k (1..N) is the k-th.' }) likelihoodLevels!: string[];
  @Field(() => [String], { description: 'Impact labels, lowest first: M of them, 2 to 10, unique; impact k (1..M) is the k-th.' }) impactLevels!: string[];
  @Field(() => [String], { description: 'Risk level labels, lowest first: 2 to 10, unique; Risk.level is one of them.' }) riskLevels!: string[];
  @Field(() => [[String]], { description: 'The risk level of each likelihood and impact: matrix[likelihood-1][impact-1] is a label of riskLevels, never lower as likelihood or impact rises.' }) matrix!: string[][];
  @Field({ description: 'The acceptance criterion (Art. 13(1)): the highest risk level tolerated, a label of riskLevels below the highest; a risk above it must be treated.' }) acceptanceLevel!: string;
  @Field(() => [Int], { description: 'Three entries, non-decreasing: the impact (1..M) of an asset of value 1, 2 and 3 (Art. 13(2)).' }) impactByAssetValue!: number[];
  @Field(() => [Float], { description: 'N-1 strictly ascending numbers in (0, 1]: a baseline gap (NOT_MET + 0.5 x PARTIAL over the applicable requirements) at or above t[i] gives likelihood i+2, below t[0] likelihood 1 (Art. 13(2)).' }) baselineGapThresholds!: number[];
  @Field(() => [Int], { description: 'N-1 strictly ascending integers 2 to 9, on threat level x vulnerability level (1..9): a score at or above t[i] gives likelihood i+2, else 1 (Art. 13(2)).' }) detailedLikelihoodThresholds!: number[];
  @Field(() => [RequiredMethod], { description: 'The assessment criteria (Art. 13(2)): the analysis methods an asset of a given value requires before its risk can be evaluated.' }) requiredMethods!: RequiredMethod[];
  @Field(() => [ReviewInterval], { description: 'How often a risk must be reviewed, one entry per risk level.' }) reviewIntervalDays!: ReviewInterval[];
  @Field(() => ID, { description: 'User id (JWT sub) of who proposed it.' }) proposedBy!: string;
  @Field({ description: 'When it was proposed: ISO 8601 date-time in UTC.' }) proposedAt!: string;
  @Field(() => ID, { nullable: true, description: 'User id (JWT sub) of the CISO who approved it; null while PROPOSED.' }) approvedBy?: string;
  @Field(() => String, { nullable: true, description: 'When it was approved (ISO 8601 date-time in UTC); null while PROPOSED.' }) approvedAt?: string;
  @Field(() => String, { nullable: true, description: 'When a later version superseded it (ISO 8601 date-time in UTC); null until then.' }) supersededAt?: string;
  @Field(() => ID, { nullable: true, description: 'Id of the version that superseded this one; null until then.' }) supersededBy?: string;
}

@InputType({ description: 'One assessment criterion (Art. 13(2)): assets of this value or higher require this analysis method.' })
export class RequiredMethodInput {
  @Field(() => Int, { description: 'Asset value 1..3 from which the method is required.' }) minAssetValue!: number;
  @Field(() => AnalysisMethodEnum, { description: 'The required method; the same value and method twice is BAD_USER_INPUT.' }) method!: AnalysisMethod;
}

@InputType({ description: 'How often a risk of one level must be reviewed.' })
export class ReviewIntervalInput {
  @NameLimit() @Field({ description: 'A label of riskLevels, once per list.' }) level!: string;
  @Field(() => Int, { description: 'Days between reviews, 1 to 3660.' }) days!: number;
}

@InputType({ description: 'Input of proposeRiskCriteria (Art. 13): a complete criteria definition; every inconsistency is BAD_USER_INPUT naming the field (such as matrix[1][0]).' })
export class ProposeRiskCriteriaInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @ListLimit(CRITERIA_LIMITS.maxLevels) @NameLimit(CRITERIA_LIMITS.maxLabelLength) @Field(() => [String], { description: `Likelihood labels, lowest first: N of them, ${CRITERIA_LIMITS.minLevels} to ${CRITERIA_LIMITS.maxLevels}, unique, each 1 to ${CRITERIA_LIMITS.maxLabelLength} characters.` }) likelihoodLevels!: string[];
  @ListLimit(CRITERIA_LIMITS.maxLevels) @NameLimit(CRITERIA_LIMITS.maxLabelLength) @Field(() => [String], { description: `Impact labels, lowest first: M of them, ${CRITERIA_LIMITS.minLevels} to ${CRITERIA_LIMITS.maxLevels}, unique, each 1 to ${CRITERIA_LIMITS.maxLabelLength} characters.` }) impactLevels!: string[];
  @ListLimit(CRITERIA_LIMITS.maxLevels) @NameLimit(CRITERIA_LIMITS.maxLabelLength) @Field(() => [String], { description: `Risk level labels, lowest first: ${CRITERIA_LIMITS.minLevels} to ${CRITERIA_LIMITS.maxLevels}, unique, each 1 to ${CRITERIA_LIMITS.maxLabelLength} characters.` }) riskLevels!: string[];
  @ListLimit(CRITERIA_LIMITS.maxLevels) @NameLimit(CRITERIA_LIMITS.maxLabelLength) @Field(() => [[String]], { description: `N rows of M cells: matrix[likelihood-1][impact-1] is a label of riskLevels (so 1 to ${CRITERIA_LIMITS.maxLabelLength} characters), never lower than the cell above or to the left.` }) matrix!: string[][];
  @NameLimit(CRITERIA_LIMITS.maxLabelLength) @Field({ description: `The acceptance criterion (Art. 13(1)): the highest tolerated level, a label of riskLevels (so 1 to ${CRITERIA_LIMITS.maxLabelLength} characters) below the highest.` }) acceptanceLevel!: string;
  @ListLimit() @Field(() => [Int], { description: 'Exactly 3 entries, non-decreasing: the impact (1..M) of an asset of value 1, 2 and 3.' }) impactByAssetValue!: number[];
  @ListLimit() @Field(() => [Float], { description: 'N-1 strictly ascending numbers in (0, 1]: a baseline gap at or above t[i] gives likelihood i+2, below t[0] likelihood 1.' }) baselineGapThresholds!: number[];
  @ListLimit() @Field(() => [Int], { description: 'N-1 strictly ascending integers 2 to 9, on threat level x vulnerability level (1..9): a score at or above t[i] gives likelihood i+2, else 1.' }) detailedLikelihoodThresholds!: number[];
  @ListLimit() @NestedInput(() => RequiredMethodInput) @Field(() => [RequiredMethodInput], { description: 'The assessment criteria (Art. 13(2)): which analysis method an asset of a given value requires; may be empty.' }) requiredMethods!: RequiredMethodInput[];
  @ListLimit() @NestedInput(() => ReviewIntervalInput) @Field(() => [ReviewIntervalInput], { description: 'Exactly one entry per risk level; a higher level is reviewed at least as often as a lower one (its days at most those of the level below it).' }) reviewIntervalDays!: ReviewIntervalInput[];
}

@InputType({ description: 'Input of approveRiskCriteria (Art. 13, Art. 23(3)).' })
export class ApproveRiskCriteriaInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_VERSION_DESCRIPTION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The PROPOSED version to approve (RiskCriteria.id); unknown: NOT_FOUND; already IN_FORCE: nothing changes.' }) criteriaId!: string;
}
