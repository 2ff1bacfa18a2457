import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IdLimit, ListLimit, NameLimit, NestedInput, TextLimit } from '../../graphql/input-limits.js';
import { ConnectionType } from '../../graphql/pagination.js';
import { SecurityPropertyEnum } from '../../asset-inventory/graphql/asset.types.js';
import type { SecurityProperty } from '../../asset-inventory/domain/asset.state.js';
import { AnalysisMethodEnum } from '../../risk-criteria/graphql/criteria.types.js';
import type { AnalysisMethod } from '../../risk-criteria/domain/criteria.state.js';
import { BASELINE_REQUIREMENT_STATUSES, type BaselineRequirementStatus } from '../../baseline-catalogues/domain/catalogue.state.js';
import { RISK_STATUSES, TREATMENT_OPTIONS, type ConsentStatus, type EvaluationDecision, type RiskStatus, type TreatmentOption } from '../domain/risk.state.js';

const asEnum = <T extends string>(values: readonly T[]) => Object.fromEntries(values.map((v) => [v, v])) as Record<T, T>;

export const RiskStatusEnum = asEnum(RISK_STATUSES);
registerEnumType(RiskStatusEnum, { name: 'RiskStatus', description: 'IDENTIFIED → ANALYSED → RETAINED | TO_TREAT → TREATMENT_DECIDED → CONTROLS_DECIDED → IN_PLAN → AWAITING_CONSENT → ACCEPTED; CLOSED once avoided.' });
export const TreatmentOptionEnum = asEnum(TREATMENT_OPTIONS);
registerEnumType(TreatmentOptionEnum, { name: 'TreatmentOption', description: 'Art.17: reduce, avoid, share.' });
export const ConsentStatusEnum = asEnum(['PENDING', 'ACCEPTED', 'DECLINED', 'STALE', 'REOPENED'] as const);
registerEnumType(ConsentStatusEnum, { name: 'ConsentStatus', description: "A risk owner's consent to the residual risk (Art.20)." });
export const EvaluationDecisionEnum = asEnum(['RETAINED', 'TO_TREAT'] as const);
registerEnumType(EvaluationDecisionEnum, { name: 'EvaluationDecision' });
export const BaselineRequirementStatusEnum = asEnum(BASELINE_REQUIREMENT_STATUSES);
registerEnumType(BaselineRequirementStatusEnum, { name: 'BaselineRequirementStatus' });

@ObjectType()
export class BaselineResult {
  @Field() requirementId!: string;
  @Field(() => BaselineRequirementStatusEnum) status!: BaselineRequirementStatus;
}

@ObjectType()
export class BaselineCounts {
  @Field(() => Int) met!: number;
  @Field(() => Int) partial!: number;
  @Field(() => Int) notMet!: number;
  @Field(() => Int) notApplicable!: number;
  @Field(() => Int) applicable!: number;
}

@ObjectType()
export class BaselineAnalysis {
  @Field(() => ID) catalogueId!: string;
  @Field() catalogueName!: string;
  @Field() catalogueVersion!: string;
  @Field(() => [BaselineResult]) results!: BaselineResult[];
  @Field(() => Int) impact!: number;
  @Field(() => BaselineCounts) counts!: BaselineCounts;
  @Field(() => Float, { description: '(NOT_MET + 0.5 x PARTIAL) / (all but NOT_APPLICABLE)' }) gap!: number;
}

@ObjectType()
export class InformalAnalysis {
  @Field(() => Int) likelihood!: number;
  @Field(() => Int) impact!: number;
  @Field() expert!: string;
  @Field() rationale!: string;
}

@ObjectType()
export class DetailedAssetAssessment {
  @Field(() => ID) assetId!: string;
  @Field(() => Int) threatLevel!: number;
  @Field(() => Int) vulnerabilityLevel!: number;
  @Field(() => Int) score!: number;
  @Field(() => Int) assetValue!: number;
  @Field(() => Int) likelihood!: number;
  @Field(() => Int) impact!: number;
  @Field() level!: string;
}

@ObjectType()
export class DetailedAnalysis {
  @Field(() => ID) threatId!: string;
  @Field(() => [SecurityPropertyEnum]) affects!: SecurityProperty[];
  @Field(() => [DetailedAssetAssessment]) assessments!: DetailedAssetAssessment[];
}

@ObjectType({ description: 'One analysis (Art.15), with every input used so that the level can be recomputed.' })
export class Analysis {
  @Field(() => ID) id!: string;
  @Field(() => Int) cycle!: number;
  @Field(() => AnalysisMethodEnum) method!: AnalysisMethod;
  @Field(() => ID) criteriaId!: string;
  @Field(() => Int) criteriaNumber!: number;
  @Field(() => Int) likelihood!: number;
  @Field(() => Int) impact!: number;
  @Field() level!: string;
  @Field(() => BaselineAnalysis, { nullable: true }) baseline?: BaselineAnalysis;
  @Field(() => InformalAnalysis, { nullable: true }) informal?: InformalAnalysis;
  @Field(() => DetailedAnalysis, { nullable: true }) detailed?: DetailedAnalysis;
  @Field(() => [String]) externalReferences!: string[];
  @Field(() => ID) analysedBy!: string;
  @Field() analysedAt!: string;
}

@ObjectType({ description: 'Evaluation against the acceptance criterion (Art.16).' })
export class Evaluation {
  @Field(() => Int) cycle!: number;
  @Field(() => Int) criteriaNumber!: number;
  @Field() level!: string;
  @Field(() => Int) likelihood!: number;
  @Field(() => Int) impact!: number;
  @Field(() => EvaluationDecisionEnum) decision!: EvaluationDecision;
  @Field(() => Int) assetValue!: number;
  @Field(() => ID) evaluatedBy!: string;
  @Field() evaluatedAt!: string;
}

@ObjectType({ description: 'Treatment decision (Art.17).' })
export class Treatment {
  @Field(() => [TreatmentOptionEnum]) options!: TreatmentOption[];
  @Field() rationale!: string;
  @Field(() => Int) targetLikelihood!: number;
  @Field(() => Int) targetImpact!: number;
  @Field() targetLevel!: string;
  @Field(() => String, { nullable: true }) counterparty?: string;
  @Field(() => String, { nullable: true }) contractReference?: string;
  @Field(() => Int) criteriaNumber!: number;
  @Field(() => ID) decidedBy!: string;
  @Field() decidedAt!: string;
}

@ObjectType({ description: 'A control and the reason it was adopted (Art.18).' })
export class Control {
  @Field(() => ID) id!: string;
  @Field() title!: string;
  @Field() description!: string;
  @Field(() => ID) ownerId!: string;
  @Field() dueDate!: string;
  @Field() reason!: string;
  @Field(() => String, { nullable: true }) reference?: string;
}

@ObjectType({ description: "The owner's consent to the residual risk, pinned to the risk's version (Art.20)." })
export class RiskConsent {
  @Field(() => ID) planId!: string;
  @Field(() => Int) planRevision!: number;
  @Field(() => ConsentStatusEnum) status!: ConsentStatus;
  @Field(() => Int) atVersion!: number;
  @Field() fingerprint!: string;
  @Field(() => String, { nullable: true, description: 'The residual level the owner is asked to accept / accepted (the treatment target level).' }) residualLevel?: string;
  @Field(() => String, { nullable: true }) reason?: string;
}

@ObjectType({ description: 'A review of the controls and the actual level (Art.12(3)-(4)).' })
export class Review {
  @Field(() => ID) id!: string;
  @Field(() => Int) cycle!: number;
  @Field() controlsInPlace!: boolean;
  @Field(() => Int) actualLikelihood!: number;
  @Field(() => Int) actualImpact!: number;
  @Field() actualLevel!: string;
  @Field() targetLevel!: string;
  @Field({ description: 'The actual level is above the target: a new assessment cycle was opened.' }) finding!: boolean;
  @Field(() => String, { nullable: true }) notes?: string;
  @Field(() => ID) reviewedBy!: string;
  @Field() reviewedAt!: string;
}

@ObjectType({ description: 'A risk of the register (Art.14(1)).' })
export class Risk {
  @Field(() => ID) id!: string;
  @Field(() => Int) version!: number;
  @Field() title!: string;
  @Field() description!: string;
  @Field(() => ID) ownerId!: string;
  @Field(() => RiskStatusEnum) status!: RiskStatus;
  @Field(() => Int) cycle!: number;
  @Field(() => [ID]) assetIds!: string[];
  @Field(() => ID) threatId!: string;
  @Field(() => ID) vulnerabilityId!: string;
  @Field(() => [String], { description: 'Sources such as incidents at other firms (Art.15(3)).' }) externalReferences!: string[];
  @Field(() => Int, { nullable: true }) likelihood?: number;
  @Field(() => Int, { nullable: true }) impact?: number;
  @Field(() => String, { nullable: true }) level?: string;
  @Field(() => Int, { nullable: true }) criteriaNumber?: number;
  @Field(() => Int, { nullable: true, description: 'Rank among the risks still to be treated: level, then asset value, then age (1 = first).' }) priority!: number | null;
  @Field({ description: 'Evaluated under a criteria version that is no longer in force, analysed since, or one of its assets has left the inventory.' })
  needsReevaluation!: boolean;
  @Field({ description: 'One of its assets was retired (e.g. another risk was avoided, Art.17).' }) assetsRetired!: boolean;
  @Field(() => [Analysis]) analyses!: Analysis[];
  @Field(() => Evaluation, { nullable: true }) evaluation?: Evaluation;
  @Field(() => Treatment, { nullable: true }) treatment?: Treatment;
  @Field(() => [Control]) controls!: Control[];
  @Field(() => ID, { nullable: true }) planId?: string;
  @Field(() => RiskConsent, { nullable: true }) consent?: RiskConsent;
  @Field(() => [Review]) reviews!: Review[];
  @Field() identifiedAt!: string;
  @Field(() => ID) identifiedBy!: string;
  @Field() updatedAt!: string;
  @Field(() => String, { nullable: true }) closedAt?: string;
}

export const RiskConnection = ConnectionType(Risk, 'Risk');

@InputType()
export class RiskFilter {
  @Field(() => RiskStatusEnum, { nullable: true }) status?: RiskStatus;
  @IdLimit() @Field(() => ID, { nullable: true }) ownerId?: string;
  @NameLimit() @Field({ nullable: true }) level?: string;
  @IdLimit() @Field(() => ID, { nullable: true }) assetId?: string;
  @Field({ nullable: true }) needsReevaluation?: boolean;
}

@ObjectType()
export class HeatMapCell {
  @Field(() => Int) likelihood!: number;
  @Field(() => Int) impact!: number;
  @Field() likelihoodLabel!: string;
  @Field() impactLabel!: string;
  @Field() level!: string;
  @Field(() => Int) count!: number;
}

@ObjectType()
export class LevelCount {
  @Field() level!: string;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'Open analysed risks per likelihood x impact and per level, for the criteria in force.' })
export class HeatMap {
  @Field(() => Int, { nullable: true }) criteriaNumber!: number | null;
  @Field(() => [String]) likelihoodLevels!: string[];
  @Field(() => [String]) impactLevels!: string[];
  @Field(() => [HeatMapCell]) cells!: HeatMapCell[];
  @Field(() => [LevelCount]) levels!: LevelCount[];
  @Field(() => Int) total!: number;
}

// ----- inputs -----

@InputType()
export class IdentifyRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @NameLimit() @Field() title!: string;
  @TextLimit() @Field({ nullable: true }) description?: string;
  @ListLimit() @IdLimit() @Field(() => [ID]) assetIds!: string[];
  @IdLimit() @Field(() => ID) threatId!: string;
  @IdLimit() @Field(() => ID) vulnerabilityId!: string;
  @IdLimit() @Field(() => ID) ownerId!: string;
  @ListLimit() @TextLimit() @Field(() => [String], { nullable: true }) externalReferences?: string[];
}

@InputType()
export class BaselineResultInput {
  @IdLimit() @Field() requirementId!: string;
  @Field(() => BaselineRequirementStatusEnum) status!: BaselineRequirementStatus;
}

@InputType()
export class BaselineAnalysisInput {
  @IdLimit() @Field(() => ID) catalogueId!: string;
  @ListLimit() @NestedInput(() => BaselineResultInput) @Field(() => [BaselineResultInput]) results!: BaselineResultInput[];
  @Field(() => Int) impact!: number;
}

@InputType()
export class InformalAnalysisInput {
  @Field(() => Int) likelihood!: number;
  @Field(() => Int) impact!: number;
  @NameLimit() @Field() expert!: string;
  @TextLimit() @Field() rationale!: string;
}

@InputType()
export class DetailedAssessmentInput {
  @IdLimit() @Field(() => ID) assetId!: string;
  @Field(() => Int) threatLevel!: number;
  @Field(() => Int) vulnerabilityLevel!: number;
}

@InputType()
export class DetailedAnalysisInput {
  @ListLimit() @NestedInput(() => DetailedAssessmentInput) @Field(() => [DetailedAssessmentInput]) assessments!: DetailedAssessmentInput[];
}

@InputType()
export class AnalyseRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) riskId!: string;
  @Field(() => AnalysisMethodEnum) method!: AnalysisMethod;
  @NestedInput(() => BaselineAnalysisInput) @Field(() => BaselineAnalysisInput, { nullable: true }) baseline?: BaselineAnalysisInput;
  @NestedInput(() => InformalAnalysisInput) @Field(() => InformalAnalysisInput, { nullable: true }) informal?: InformalAnalysisInput;
  @NestedInput(() => DetailedAnalysisInput) @Field(() => DetailedAnalysisInput, { nullable: true }) detailed?: DetailedAnalysisInput;
  @ListLimit() @TextLimit() @Field(() => [String], { nullable: true }) externalReferences?: string[];
}

@InputType()
export class RiskRefInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) riskId!: string;
}

@InputType()
export class DecideTreatmentInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) riskId!: string;
  @ListLimit() @Field(() => [TreatmentOptionEnum]) options!: TreatmentOption[];
  @TextLimit() @Field() rationale!: string;
  @Field(() => Int) targetLikelihood!: number;
  @Field(() => Int) targetImpact!: number;
  @TextLimit() @Field({ nullable: true }) counterparty?: string;
  @TextLimit() @Field({ nullable: true }) contractReference?: string;
}

@InputType()
export class ControlInput {
  @NameLimit() @Field() title!: string;
  @TextLimit() @Field({ description: 'What the control does; required (Art.18(2)).' }) description!: string;
  @IdLimit() @Field(() => ID) ownerId!: string;
  @TextLimit() @Field({ description: 'YYYY-MM-DD' }) dueDate!: string;
  @TextLimit() @Field({ description: 'Why this control was adopted (Art.18(1)); required.' }) reason!: string;
  @TextLimit() @Field({ nullable: true }) reference?: string;
}

@InputType()
export class DecideControlsInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) riskId!: string;
  @ListLimit() @NestedInput(() => ControlInput) @Field(() => [ControlInput]) controls!: ControlInput[];
}

@InputType()
export class ReassignRiskOwnerInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) riskId!: string;
  @IdLimit() @Field(() => ID) ownerId!: string;
}

@InputType()
export class RecordReviewInput {
  @IdLimit() @Field(() => ID, { nullable: true }) commandId?: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number;
  @IdLimit() @Field(() => ID) riskId!: string;
  @Field() controlsInPlace!: boolean;
  @Field(() => Int) actualLikelihood!: number;
  @Field(() => Int) actualImpact!: number;
  @TextLimit() @Field({ nullable: true }) notes?: string;
}

@ObjectType()
export class ControlsDocumentEntry {
  @Field(() => ID) riskId!: string;
  @Field() riskTitle!: string;
  @Field(() => RiskStatusEnum) riskStatus!: RiskStatus;
  @Field(() => ID) ownerId!: string;
  @Field(() => String, { nullable: true }) level!: string | null;
  @Field(() => String, { nullable: true }) targetLevel!: string | null;
  @Field(() => [TreatmentOptionEnum]) treatmentOptions!: TreatmentOption[];
  @Field(() => String, { nullable: true }) treatmentRationale!: string | null;
  @Field(() => [Control]) controls!: Control[];
}

@ObjectType({ description: 'Art.18(2): the record of controls and the reasons they were adopted.' })
export class ControlsDocument {
  @Field() generatedAt!: string;
  @Field(() => Int) riskCount!: number;
  @Field(() => Int) controlCount!: number;
  @Field(() => [ControlsDocumentEntry]) entries!: ControlsDocumentEntry[];
  @Field({ description: 'The same document as Markdown (also at GET /documents/controls.md).' }) markdown!: string;
}

@ObjectType({ description: 'A retained or accepted risk due for review by the interval of the criteria in force (Art.12(3)-(4)).' })
export class ReviewDue {
  @Field(() => Risk) risk!: Risk;
  @Field() level!: string;
  @Field(() => Int) intervalDays!: number;
  @Field() since!: string;
  @Field() dueOn!: string;
  @Field(() => Int) overdueDays!: number;
}
