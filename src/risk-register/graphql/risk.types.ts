import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IdLimit, ListLimit, NameLimit, NestedInput, TextLimit, VersionLimit } from '../../graphql/input-limits.js';
import { COMMAND_ID_DESCRIPTION } from '../../graphql/descriptions.js';
import { ConnectionType } from '../../graphql/pagination.js';
import { SecurityPropertyEnum } from '../../asset-inventory/graphql/asset.types.js';
import type { SecurityProperty } from '../../asset-inventory/domain/asset.state.js';
import { AnalysisMethodEnum } from '../../risk-criteria/graphql/criteria.types.js';
import type { AnalysisMethod } from '../../risk-criteria/domain/criteria.state.js';
import { BASELINE_REQUIREMENT_STATUSES, type BaselineRequirementStatus } from '../../baseline-catalogues/domain/catalogue.state.js';
import type { ControlStatus } from '../domain/control-lifecycle.js';
import { RISK_TEXT_MAX_LENGTH, RISK_TITLE_MAX_LENGTH } from '../domain/risk.rules.js';
import { ControlStatusEnum } from './control.types.js';
import { RISK_STATUSES, TREATMENT_OPTIONS, type ConsentStatus, type EvaluationDecision, type RiskStatus, type TreatmentOption } from '../domain/risk.state.js';

const asEnum = <T extends string>(values: readonly T[]) => Object.fromEntries(values.map((v) => [v, v])) as Record<T, T>;

const EXPECTED_RISK_VERSION =
  "The risk's version the client last read; when given and the risk has moved on, the command is refused with CONCURRENCY_CONFLICT (expectedVersion, actualVersion).";
const LIKELIHOOD = 'Likelihood, 1..N of the likelihood scale of the criteria used (1 = lowest).';
const IMPACT = 'Impact, 1..M of the impact scale of the criteria used (1 = lowest).';
const LEVEL = 'Risk level: a label of the riskLevels of the criteria used, read from matrix[likelihood-1][impact-1].';
const CRITERIA_NUMBER = 'Number of the risk-criteria version used (Art.13).';
const CYCLE = 'Assessment cycle of the risk (1 first; a review finding opens the next, Art.12(3)).';
const INSTANT = 'Instant (ISO 8601, UTC).';

export const RiskStatusEnum = asEnum(RISK_STATUSES);
registerEnumType(RiskStatusEnum, {
  name: 'RiskStatus',
  description:
    'Where a risk stands in the Chapter 4 process: IDENTIFIED → ANALYSED → RETAINED or TO_TREAT → TREATMENT_DECIDED → CONTROLS_DECIDED → IN_PLAN → AWAITING_CONSENT → ACCEPTED; CLOSED once avoided (Art.17) or withdrawn (identified in error or twice, Art.14(1)): closedReason says which. A review finding sends it back to IDENTIFIED with cycle + 1.',
  valuesMap: {
    IDENTIFIED: { description: 'Identified with its assets, threat, vulnerability and owner (Art.14(1)); not yet analysed in this cycle.' },
    ANALYSED: { description: 'At least one analysis of this cycle gives it a level (Art.15); not yet evaluated.' },
    RETAINED: { description: 'Evaluated within the acceptance criterion: retained without treatment (Art.16), and reviewed by the interval of its level.' },
    TO_TREAT: { description: 'Evaluated above the acceptance criterion: it must be treated (Art.16).' },
    TREATMENT_DECIDED: { description: 'A treatment and a target level within acceptance are decided (Art.17).' },
    CONTROLS_DECIDED: { description: 'Controls, their owners, due dates and reasons are decided (Art.18); it may join a plan.' },
    IN_PLAN: { description: 'An item of a plan not yet approved by the board (Art.19).' },
    AWAITING_CONSENT: { description: "The plan is approved; the risk's owner is asked to accept the residual risk (Art.20)." },
    ACCEPTED: { description: "The risk's owner accepted the residual risk under the plan (Art.20)." },
    CLOSED: { description: 'Avoided (Art.17): the business or the assets are retired; the risk accepts no further command.' },
  },
});
export const TreatmentOptionEnum = asEnum(TREATMENT_OPTIONS);
registerEnumType(TreatmentOptionEnum, {
  name: 'TreatmentOption',
  description: 'A way to treat a risk above the acceptance criterion (Art.17); a decision names one or more.',
  valuesMap: {
    REDUCE: { description: 'Reduce the likelihood or impact by controls (Art.17).' },
    AVOID: { description: 'Avoid the risk by retiring the business or the assets: the risk is CLOSED and its assets leave the inventory (Art.17).' },
    SHARE: { description: 'Share the risk by outsourcing or insurance; counterparty and contractReference are required (Art.17).' },
  },
});
export const ConsentStatusEnum = asEnum(['PENDING', 'ACCEPTED', 'DECLINED', 'STALE', 'REOPENED'] as const);
registerEnumType(ConsentStatusEnum, {
  name: 'ConsentStatus',
  description: "A risk owner's consent to the residual risk of a plan item (Art.20).",
  valuesMap: {
    PENDING: { description: 'Not asked yet (plan not approved) or asked and not answered yet.' },
    ACCEPTED: { description: 'The owner accepted the residual risk; the consent is pinned to the state of the risk accepted.' },
    DECLINED: { description: 'The owner refused the residual risk, with a reason; the risk goes back to treatment and the item may be removed.' },
    STALE: { description: 'The risk changed materially after consent was requested or given; the owner must be asked again.' },
    REOPENED: { description: 'A review found the actual level above the target (Art.12(3)); the item no longer counts and the risk may join another plan.' },
  },
});
export const EvaluationDecisionEnum = asEnum(['RETAINED', 'TO_TREAT'] as const);
registerEnumType(EvaluationDecisionEnum, {
  name: 'EvaluationDecision',
  description: "Outcome of comparing a risk's level with the acceptance criterion (Art.16).",
  valuesMap: {
    RETAINED: { description: 'The level is within the acceptance level: the risk may be retained.' },
    TO_TREAT: { description: 'The level is above the acceptance level: the risk must be treated (Art.17).' },
  },
});
export const BaselineRequirementStatusEnum = asEnum(BASELINE_REQUIREMENT_STATUSES);
registerEnumType(BaselineRequirementStatusEnum, {
  name: 'BaselineRequirementStatus',
  description: 'How far an asset meets one requirement of a baseline catalogue (Art.15, baseline method).',
  valuesMap: {
    MET: { description: 'The requirement is met; counts 0 in the gap.' },
    PARTIAL: { description: 'The requirement is partly met; counts 0.5 in the gap.' },
    NOT_MET: { description: 'The requirement is not met; counts 1 in the gap.' },
    NOT_APPLICABLE: { description: 'The requirement does not apply; left out of the gap.' },
  },
});

@ObjectType({ description: 'The answer given for one requirement of a baseline catalogue.' })
export class BaselineResult {
  @Field({ description: 'Id of the requirement within the catalogue version.' }) requirementId!: string;
  @Field(() => BaselineRequirementStatusEnum, { description: 'How far the requirement is met.' }) status!: BaselineRequirementStatus;
}

@ObjectType({ description: 'Counts of the answers of a baseline analysis.' })
export class BaselineCounts {
  @Field(() => Int, { description: 'Requirements met.' }) met!: number;
  @Field(() => Int, { description: 'Requirements partly met.' }) partial!: number;
  @Field(() => Int, { description: 'Requirements not met.' }) notMet!: number;
  @Field(() => Int, { description: 'Requirements not applicable.' }) notApplicable!: number;
  @Field(() => Int, { description: 'Requirements that apply: all but NOT_APPLICABLE (the denominator of the gap).' }) applicable!: number;
}

@ObjectType({ description: 'Inputs and result of a baseline analysis (Art.15): the asset checked against a baseline catalogue.' })
export class BaselineAnalysis {
  @Field(() => ID, { description: 'Id of the baseline catalogue version used.' }) catalogueId!: string;
  @Field({ description: 'Name of the catalogue.' }) catalogueName!: string;
  @Field({ description: 'Version of the catalogue.' }) catalogueVersion!: string;
  @Field(() => [BaselineResult], { description: 'One answer for every requirement of the catalogue version.' }) results!: BaselineResult[];
  @Field(() => Int, { description: IMPACT }) impact!: number;
  @Field(() => BaselineCounts, { description: 'Counts of the answers.' }) counts!: BaselineCounts;
  @Field(() => Float, { description: 'Gap, 0..1: (NOT_MET + 0.5 x PARTIAL) / (all but NOT_APPLICABLE); the baselineGapThresholds of the criteria turn it into a likelihood.' }) gap!: number;
}

@ObjectType({ description: "Inputs of an informal analysis (Art.15): an expert's judgement." })
export class InformalAnalysis {
  @Field(() => Int, { description: LIKELIHOOD }) likelihood!: number;
  @Field(() => Int, { description: IMPACT }) impact!: number;
  @Field({ description: 'The expert who judged (name or id).' }) expert!: string;
  @Field({ description: "The expert's reasoning." }) rationale!: string;
}

@ObjectType({ description: 'One asset assessed by a detailed analysis (Art.15).' })
export class DetailedAssetAssessment {
  @Field(() => ID, { description: 'The assessed asset, one of the risk\'s assets.' }) assetId!: string;
  @Field(() => Int, { description: 'Threat level, 1..3.' }) threatLevel!: number;
  @Field(() => Int, { description: "Vulnerability level against the asset's security requirements, 1..3." }) vulnerabilityLevel!: number;
  @Field(() => Int, { description: 'Score, 1..9: threatLevel x vulnerabilityLevel; the detailedLikelihoodThresholds of the criteria turn it into a likelihood.' }) score!: number;
  @Field(() => Int, { description: "Asset value, 1..3: the highest rating of the properties the threat affects; impactByAssetValue of the criteria turns it into the impact." }) assetValue!: number;
  @Field(() => Int, { description: LIKELIHOOD }) likelihood!: number;
  @Field(() => Int, { description: IMPACT }) impact!: number;
  @Field({ description: LEVEL }) level!: string;
}

@ObjectType({ description: 'Inputs and result of a detailed analysis (Art.15): asset value x threat x vulnerability, per asset; the highest level wins.' })
export class DetailedAnalysis {
  @Field(() => ID, { description: 'The threat of the risk.' }) threatId!: string;
  @Field(() => [SecurityPropertyEnum], { description: 'The security properties the threat affects (they give each asset value).' }) affects!: SecurityProperty[];
  @Field(() => [DetailedAssetAssessment], { description: 'One assessment per assessed asset.' }) assessments!: DetailedAssetAssessment[];
}

@ObjectType({ description: 'One analysis (Art.15), with every input used, so that the level can be recomputed from it.' })
export class Analysis {
  @Field(() => ID, { description: 'Id of the analysis.' }) id!: string;
  @Field(() => Int, { description: CYCLE }) cycle!: number;
  @Field(() => AnalysisMethodEnum, { description: 'The method used; exactly the matching part (baseline, informal, detailed) is set.' }) method!: AnalysisMethod;
  @Field(() => ID, { description: 'Id of the risk-criteria version used (Art.13).' }) criteriaId!: string;
  @Field(() => Int, { description: CRITERIA_NUMBER }) criteriaNumber!: number;
  @Field(() => Int, { description: LIKELIHOOD }) likelihood!: number;
  @Field(() => Int, { description: IMPACT }) impact!: number;
  @Field({ description: LEVEL }) level!: string;
  @Field(() => BaselineAnalysis, { nullable: true, description: 'The baseline part; set when method is BASELINE.' }) baseline?: BaselineAnalysis;
  @Field(() => InformalAnalysis, { nullable: true, description: 'The informal part; set when method is INFORMAL.' }) informal?: InformalAnalysis;
  @Field(() => DetailedAnalysis, { nullable: true, description: 'The detailed part; set when method is DETAILED.' }) detailed?: DetailedAnalysis;
  @Field(() => [String], { description: 'Sources cited, such as incidents or fraud at other firms (Art.15(3)).' }) externalReferences!: string[];
  @Field(() => ID, { description: 'User id of who analysed.' }) analysedBy!: string;
  @Field({ description: `When it was analysed. ${INSTANT}` }) analysedAt!: string;
}

@ObjectType({ description: 'Evaluation of a risk against the acceptance criterion (Art.16).' })
export class Evaluation {
  @Field(() => Int, { description: CYCLE }) cycle!: number;
  @Field(() => Int, { description: CRITERIA_NUMBER }) criteriaNumber!: number;
  @Field({ description: "The risk's level: the highest level among the analyses of the cycle, a label of the criteria's riskLevels." }) level!: string;
  @Field(() => Int, { description: `${LIKELIHOOD} Taken from the analysis that gives the level.` }) likelihood!: number;
  @Field(() => Int, { description: `${IMPACT} Taken from the analysis that gives the level.` }) impact!: number;
  @Field(() => EvaluationDecisionEnum, { description: 'RETAINED (within the acceptance level) or TO_TREAT (above it).' }) decision!: EvaluationDecision;
  @Field(() => Int, { description: "Highest value (1..3) of the risk's assets; the second key of the treatment priority." }) assetValue!: number;
  @Field(() => ID, { description: 'User id of who evaluated.' }) evaluatedBy!: string;
  @Field({ description: `When it was evaluated. ${INSTANT}` }) evaluatedAt!: string;
}

@ObjectType({ description: 'The treatment decided for a risk above the acceptance criterion (Art.17).' })
export class Treatment {
  @Field(() => [TreatmentOptionEnum], { description: 'The options chosen, one or more of REDUCE, AVOID, SHARE.' }) options!: TreatmentOption[];
  @Field({ description: 'Why this treatment was chosen.' }) rationale!: string;
  @Field(() => Int, { description: 'Target residual likelihood, 1..N of the criteria used.' }) targetLikelihood!: number;
  @Field(() => Int, { description: 'Target residual impact, 1..M of the criteria used.' }) targetImpact!: number;
  @Field({ description: 'Target residual level, a label of the criteria; within the acceptance level. The owner is asked to accept it (Art.20).' }) targetLevel!: string;
  @Field(() => String, { nullable: true, description: 'With SHARE: the outsourcee or insurer.' }) counterparty?: string;
  @Field(() => String, { nullable: true, description: 'With SHARE: the contract or insurance policy.' }) contractReference?: string;
  @Field(() => Int, { description: CRITERIA_NUMBER }) criteriaNumber!: number;
  @Field(() => ID, { description: 'User id of who decided.' }) decidedBy!: string;
  @Field({ description: `When it was decided. ${INSTANT}` }) decidedAt!: string;
}

@ObjectType({ description: 'A control that makes the treatment concrete, and the reason it was adopted (Art.18).' })
export class Control {
  @Field(() => ID, { description: 'Id of the control.' }) id!: string;
  @Field({ description: 'Short name of the control.' }) title!: string;
  @Field({ description: 'What the control does.' }) description!: string;
  @Field(() => ID, { description: 'User id of who carries the control out.' }) ownerId!: string;
  @Field({ description: 'Date by which it is to be in place (YYYY-MM-DD).' }) dueDate!: string;
  @Field({ description: 'Why this control was adopted (Art.18(1)); part of the Art.18(2) record.' }) reason!: string;
  @Field(() => String, { nullable: true, description: 'A reference, such as a baseline requirement or a standard clause.' }) reference?: string;
  @Field(() => ControlStatusEnum, { description: 'How far it has been carried out (recordControlProgress); PLANNED until recorded.' }) status!: ControlStatus;
  @Field(() => Int, { description: 'Progress, 0..100 (100 once IMPLEMENTED or VERIFIED).' }) progressPercent!: number;
  @Field(() => String, { nullable: true, description: 'The latest progress note (the reason, when CANCELLED).' }) progressNote?: string;
  @Field({ description: "Its due date has passed (Japan's calendar day) and it is not IMPLEMENTED, VERIFIED or CANCELLED: at the clock's instant, or at asOf for a past read." })
  overdue!: boolean;
}

@ObjectType({ description: "The owner's consent to the residual risk, as seen on the risk, pinned to the risk's version (Art.20)." })
export class RiskConsent {
  @Field(() => ID, { description: 'The plan the consent is asked for.' }) planId!: string;
  @Field(() => Int, { description: "The plan's revision the consent is asked for." }) planRevision!: number;
  @Field(() => ConsentStatusEnum, { description: 'Where the consent stands.' }) status!: ConsentStatus;
  @Field(() => Int, { description: "The risk's version at which this status was set (request, answer or invalidation)." }) atVersion!: number;
  @Field({ description: 'SHA-256 fingerprint of the risk state the owner is asked to consent to, or consented to.' }) fingerprint!: string;
  @Field(() => String, { nullable: true, description: 'The residual level the owner is asked to accept, or accepted: the treatment target level.' }) residualLevel?: string;
  @Field(() => String, {
    nullable: true,
    description: 'The residual level the board approved for the risk in that plan revision (the plan item\'s, fixed at submission). While residualLevel differs from it, the owner can decline but not accept (RESIDUAL_LEVEL_NOT_APPROVED). Null for requests recorded before it was kept.',
  })
  approvedResidualLevel?: string;
  @Field(() => Boolean, {
    nullable: true,
    description:
      'Whether the risk still holds the treatment and controls the board approved in that plan revision: false once either was decided again, or a control cancelled, after the approval; the owner can then decline but not accept (PLAN_CONTENT_NOT_APPROVED). Null for a request no board approval made.',
  })
  contentAsApproved?: boolean | null;
  @Field(() => String, { nullable: true, description: "The owner's reason for declining, when DECLINED." }) reason?: string;
}

@ObjectType({ description: 'A review of the controls and of the actual level of a risk (Art.12(3)-(4)).' })
export class Review {
  @Field(() => ID, { description: 'Id of the review.' }) id!: string;
  @Field(() => Int, { description: 'Assessment cycle reviewed.' }) cycle!: number;
  @Field({ description: 'Whether the controls were found in place.' }) controlsInPlace!: boolean;
  @Field(() => Int, { description: 'Actual likelihood now, 1..N of the criteria in force at the review.' }) actualLikelihood!: number;
  @Field(() => Int, { description: 'Actual impact now, 1..M of the criteria in force at the review.' }) actualImpact!: number;
  @Field({ description: 'Actual level now, a label of the criteria in force at the review.' }) actualLevel!: string;
  @Field({ description: 'The expected level: the treatment target level, or the evaluated level of a retained risk.' }) targetLevel!: string;
  @Field({ description: 'The actual level is above the target or above the acceptance level of the criteria in force, or the controls are not in place: a new assessment cycle was opened (Art.12(3)).' }) finding!: boolean;
  @Field(() => String, { nullable: true, description: "The reviewer's notes." }) notes?: string;
  @Field(() => ID, { description: 'User id of who reviewed.' }) reviewedBy!: string;
  @Field({ description: `When it was reviewed. ${INSTANT}` }) reviewedAt!: string;
}

@ObjectType({ description: 'A risk of the register (Art.14(1)), with its analyses, evaluation, treatment, controls, consent and reviews.' })
export class Risk {
  @Field(() => ID, { description: 'Id of the risk.' }) id!: string;
  @Field(() => Int, { description: "The risk's version, which grows with each of its events; send it as expectedVersion." }) version!: number;
  @Field({ description: 'Short name of the risk (at most 200 characters).' }) title!: string;
  @Field({ description: 'What the risk is (may be empty).' }) description!: string;
  @Field(() => ID, { description: "User id of the risk's owner (Art.14(1)), who consents to its residual risk (Art.20)." }) ownerId!: string;
  @Field(() => RiskStatusEnum, { description: 'Where the risk stands in the process.' }) status!: RiskStatus;
  @Field(() => Int, { description: CYCLE }) cycle!: number;
  @Field(() => [ID], { description: 'The information assets concerned (Art.14(2)).' }) assetIds!: string[];
  @Field(() => ID, { description: 'The threat, identified on one of the assets.' }) threatId!: string;
  @Field(() => ID, { description: 'The vulnerability, of that threat.' }) vulnerabilityId!: string;
  @Field(() => [String], { description: 'Sources such as incidents or fraud at other firms (Art.15(3)).' }) externalReferences!: string[];
  @Field(() => Int, { nullable: true, description: `${LIKELIHOOD} Null until analysed.` }) likelihood?: number;
  @Field(() => Int, { nullable: true, description: `${IMPACT} Null until analysed.` }) impact?: number;
  @Field(() => String, { nullable: true, description: "Current level: the highest level of this cycle's analyses, a label of the criteria; null until analysed." }) level?: string;
  @Field(() => Int, { nullable: true, description: 'Number of the criteria version the level was given under; null until analysed.' }) criteriaNumber?: number;
  @Field(() => Int, { nullable: true, description: 'Rank among the risks still to be treated: level, then asset value, then age (1 = first); null for the others (Art.16).' }) priority!: number | null;
  @Field({ description: 'Must be analysed and evaluated again: evaluated under criteria no longer in force, its level or accepted target no longer meets the acceptance level in force, analysed since, or one of its assets has left the inventory (not for an ACCEPTED risk: its owner may still accept while only a retired asset raises the flag, and the acceptance then stands until the next review; see assetsRetired).' })
  needsReevaluation!: boolean;
  @Field({ description: 'One of its assets was retired (e.g. another risk was avoided, Art.17).' }) assetsRetired!: boolean;
  /** Every analysis (Art.15): a field of its own, charged to the request's result budget (RiskResolver.analyses). */
  analyses!: Analysis[];
  @Field(() => Evaluation, { nullable: true, description: 'The latest evaluation (Art.16); null until evaluated.' }) evaluation?: Evaluation;
  @Field(() => Treatment, { nullable: true, description: 'The treatment decided (Art.17); null until decided.' }) treatment?: Treatment;
  /** The controls decided (Art.18): a field of its own, charged to the request's result budget (ControlResolver.controls). */
  controls!: Control[];
  @Field(() => ID, { nullable: true, description: 'The plan not CLOSED the risk is an item of (at most one, Art.19); null when none.' }) planId?: string;
  @Field(() => RiskConsent, { nullable: true, description: "The owner's consent to the residual risk (Art.20); null until asked." }) consent?: RiskConsent;
  /** Every review (Art.12(3)-(4)): a field of its own, charged to the request's result budget (RiskResolver.reviews). */
  reviews!: Review[];
  @Field({ description: `When it was identified. ${INSTANT}` }) identifiedAt!: string;
  @Field(() => ID, { description: 'User id of who identified it.' }) identifiedBy!: string;
  @Field({ description: `When it last changed. ${INSTANT}` }) updatedAt!: string;
  @Field(() => String, { nullable: true, description: `When it was closed (avoided or withdrawn); null while open. ${INSTANT}` }) closedAt?: string;
  @Field(() => String, { nullable: true, description: 'Why it was closed: AVOIDED (decideTreatment with AVOID, Art.17) or WITHDRAWN (withdrawRisk: identified in error or twice, Art.14(1)); null while open.' })
  closedReason?: string;
  @Field(() => String, { nullable: true, description: 'For a withdrawn risk, the reason given (withdrawRisk); null otherwise.' }) withdrawalReason?: string;
  @Field(() => ID, { nullable: true, description: 'For a withdrawn risk, the user id of who withdrew it; null otherwise.' }) withdrawnBy?: string;
}

export const RiskConnection = ConnectionType(Risk, 'Risk');

@InputType({ description: 'Narrows the register; every field given must match.' })
export class RiskFilter {
  @Field(() => RiskStatusEnum, { nullable: true, description: 'Only risks in this status.' }) status?: RiskStatus;
  @IdLimit() @Field(() => ID, { nullable: true, description: 'Only risks of this owner (user id).' }) ownerId?: string;
  @NameLimit() @Field({ nullable: true, description: 'Only risks at this level (a label of the criteria).' }) level?: string;
  @IdLimit() @Field(() => ID, { nullable: true, description: 'Only risks that concern this asset.' }) assetId?: string;
  @Field({ nullable: true, description: 'Only risks whose needsReevaluation flag has this value.' }) needsReevaluation?: boolean;
}

@ObjectType({ description: 'One cell of the heat map: a likelihood x impact pair of the criteria.' })
export class HeatMapCell {
  @Field(() => Int, { description: 'Likelihood, 1..N.' }) likelihood!: number;
  @Field(() => Int, { description: 'Impact, 1..M.' }) impact!: number;
  @Field({ description: "The likelihood's label in the criteria." }) likelihoodLabel!: string;
  @Field({ description: "The impact's label in the criteria." }) impactLabel!: string;
  @Field({ description: 'The level the criteria matrix gives this cell.' }) level!: string;
  @Field(() => Int, { description: 'Open analysed risks in this cell.' }) count!: number;
}

@ObjectType({ description: 'Number of open analysed risks at one level.' })
export class LevelCount {
  @Field({ description: 'A risk level label of the criteria.' }) level!: string;
  @Field(() => Int, { description: 'Open analysed risks at this level.' }) count!: number;
}

@ObjectType({ description: 'Open analysed risks per likelihood x impact and per level, for the criteria in force.' })
export class HeatMap {
  @Field(() => Int, { nullable: true, description: 'Number of the criteria version in force; null when none is (then the map is empty).' }) criteriaNumber!: number | null;
  @Field(() => [String], { description: 'Likelihood labels, lowest first (N).' }) likelihoodLevels!: string[];
  @Field(() => [String], { description: 'Impact labels, lowest first (M).' }) impactLevels!: string[];
  @Field(() => [HeatMapCell], { description: 'The N x M cells.' }) cells!: HeatMapCell[];
  @Field(() => [LevelCount], { description: 'Counts per level, lowest level first.' }) levels!: LevelCount[];
  @Field(() => Int, { description: 'Open analysed risks counted (in a cell).' }) total!: number;
  @Field(() => Int, {
    description: 'Open analysed risks in no cell: analysed under earlier criteria on a likelihood or impact these criteria\'s scales do not have. Not in total nor in any level count; they need re-evaluation (Art.16).',
  })
  unplaced!: number;
  @Field(() => Int, {
    description: "Of the risks counted, those whose recorded level (Risk.level, given by the criteria they were analysed under) is not the level this matrix gives their cell: the register lists them at their recorded level, the map at their cell's.",
  })
  levelDiffers!: number;
}

// ----- inputs -----

@InputType({ description: 'Input of identifyRisk (Art.14(1)).' })
export class IdentifyRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @NameLimit() @Field({ description: 'Short name of the risk, 1–200 characters.' }) title!: string;
  @TextLimit() @Field({ nullable: true, description: `What the risk is; at most ${RISK_TEXT_MAX_LENGTH.toLocaleString('en')} characters.` }) description?: string;
  @ListLimit() @IdLimit() @Field(() => [ID], { description: 'The active information assets concerned, at least one, no duplicates (Art.14(2)).' }) assetIds!: string[];
  @IdLimit() @Field(() => ID, { description: 'A threat identified on one of the assets.' }) threatId!: string;
  @IdLimit() @Field(() => ID, { description: 'A vulnerability of that threat.' }) vulnerabilityId!: string;
  @IdLimit() @Field(() => ID, { description: "User id of the risk's owner (Art.14(1)), who will consent to its residual risk (Art.20)." }) ownerId!: string;
  @ListLimit() @TextLimit() @Field(() => [String], { nullable: true, description: 'Sources such as incidents or fraud at other firms (Art.15(3)).' }) externalReferences?: string[];
}

@InputType({ description: 'The answer for one requirement of the catalogue.' })
export class BaselineResultInput {
  @IdLimit() @Field({ description: 'Id of a requirement of the catalogue version.' }) requirementId!: string;
  @Field(() => BaselineRequirementStatusEnum, { description: 'How far the asset meets it.' }) status!: BaselineRequirementStatus;
}

@InputType({ description: 'The baseline part of analyseRisk (Art.15): the gap gives the likelihood through baselineGapThresholds of the criteria in force.' })
export class BaselineAnalysisInput {
  @IdLimit() @Field(() => ID, { description: 'The baseline catalogue version checked against (see baselineCatalogues).' }) catalogueId!: string;
  @ListLimit() @NestedInput(() => BaselineResultInput) @Field(() => [BaselineResultInput], { description: 'One answer for every requirement of that catalogue version, each once.' }) results!: BaselineResultInput[];
  @Field(() => Int, { description: 'Impact, 1..M of the impact scale of the criteria in force.' }) impact!: number;
}

@InputType({ description: "The informal part of analyseRisk (Art.15): an expert's judgement, recorded with the reasoning." })
export class InformalAnalysisInput {
  @Field(() => Int, { description: 'Likelihood, 1..N of the likelihood scale of the criteria in force.' }) likelihood!: number;
  @Field(() => Int, { description: 'Impact, 1..M of the impact scale of the criteria in force.' }) impact!: number;
  @NameLimit() @Field({ description: 'The expert who judged (name or id), 1–200 characters.' }) expert!: string;
  @TextLimit() @Field({ description: "The expert's reasoning, required." }) rationale!: string;
}

@InputType({ description: 'One asset of the risk assessed by the detailed method.' })
export class DetailedAssessmentInput {
  @IdLimit() @Field(() => ID, { description: "One of the risk's assets, each at most once." }) assetId!: string;
  @Field(() => Int, { description: 'Threat level, 1..3.' }) threatLevel!: number;
  @Field(() => Int, { description: "Vulnerability level against the asset's security requirements, 1..3." }) vulnerabilityLevel!: number;
}

@InputType({ description: 'The detailed part of analyseRisk (Art.15): per asset, threatLevel x vulnerabilityLevel gives the likelihood and the asset value the impact; the highest level wins.' })
export class DetailedAnalysisInput {
  @ListLimit() @NestedInput(() => DetailedAssessmentInput) @Field(() => [DetailedAssessmentInput], { description: "At least one of the risk's assets." }) assessments!: DetailedAssessmentInput[];
}

@InputType({ description: 'Input of analyseRisk (Art.15): give exactly the part that matches method.' })
export class AnalyseRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_RISK_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The risk to analyse.' }) riskId!: string;
  @Field(() => AnalysisMethodEnum, { description: 'The method: BASELINE, INFORMAL or DETAILED.' }) method!: AnalysisMethod;
  @NestedInput(() => BaselineAnalysisInput) @Field(() => BaselineAnalysisInput, { nullable: true, description: 'Required when method is BASELINE, absent otherwise.' }) baseline?: BaselineAnalysisInput;
  @NestedInput(() => InformalAnalysisInput) @Field(() => InformalAnalysisInput, { nullable: true, description: 'Required when method is INFORMAL, absent otherwise.' }) informal?: InformalAnalysisInput;
  @NestedInput(() => DetailedAnalysisInput) @Field(() => DetailedAnalysisInput, { nullable: true, description: 'Required when method is DETAILED, absent otherwise.' }) detailed?: DetailedAnalysisInput;
  @ListLimit() @TextLimit() @Field(() => [String], { nullable: true, description: 'Sources cited, such as incidents or fraud at other firms (Art.15(3)).' }) externalReferences?: string[];
  @ListLimit() @IdLimit() @Field(() => [ID], { nullable: true, description: 'Incidents at other firms this analysis cites (Art.15(3)), recorded with recordIncident; an id not recorded is BAD_USER_INPUT on incidentIds[i]. Kept in the RiskAnalysed event (Analysis.incidents).' }) incidentIds?: string[];
}

@InputType({ description: 'Names a risk (input of evaluateRisk).' })
export class RiskRefInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_RISK_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The risk.' }) riskId!: string;
}

@InputType({ description: 'Input of decideTreatment (Art.17).' })
export class DecideTreatmentInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_RISK_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The risk, evaluated TO_TREAT (or already treated, to revise the decision).' }) riskId!: string;
  @ListLimit() @Field(() => [TreatmentOptionEnum], { description: 'One or more of REDUCE, AVOID, SHARE, no duplicates. AVOID closes the risk and retires the assets retiredAssetIds names (all of them when omitted).' }) options!: TreatmentOption[];
  @TextLimit() @Field({ description: `Why this treatment, required; at most ${RISK_TEXT_MAX_LENGTH.toLocaleString('en')} characters.` }) rationale!: string;
  @Field(() => Int, { description: 'Target residual likelihood, 1..N of the criteria in force.' }) targetLikelihood!: number;
  @Field(() => Int, { description: 'Target residual impact, 1..M of the criteria in force; the target level must meet the acceptance level (rule TARGET_ABOVE_ACCEPTANCE).' }) targetImpact!: number;
  @TextLimit(RISK_TITLE_MAX_LENGTH) @Field({ nullable: true, description: `The outsourcee or insurer; required with SHARE, at most ${RISK_TITLE_MAX_LENGTH} characters.` }) counterparty?: string;
  @TextLimit(RISK_TITLE_MAX_LENGTH) @Field({ nullable: true, description: `The contract or insurance policy; required with SHARE, at most ${RISK_TITLE_MAX_LENGTH} characters.` }) contractReference?: string;
  @ListLimit()
  @IdLimit()
  @Field(() => [ID], {
    nullable: true,
    description:
      "Only with AVOID (Art.17(2): the business or the asset is given up): the risk's assets whose use ends, which leave the inventory (retired, their names free) in the same commit; each an asset of the risk, no duplicates. Omitted: all of the risk's assets. Empty: the business is given up and the assets stay (an asset other business still uses).",
  })
  retiredAssetIds?: string[];
}

@InputType({ description: 'One control to adopt (Art.18).' })
export class ControlInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: "A control of the risk this one restates: it keeps that id and its progress. Omitted: a current control with the same title is kept; otherwise the control is new (PLANNED)." })
  existingControlId?: string;
  @NameLimit() @Field({ description: 'Short name of the control, 1–200 characters.' }) title!: string;
  @TextLimit() @Field({ description: 'What the control does; required (Art.18(2)).' }) description!: string;
  @IdLimit() @Field(() => ID, { description: 'User id of who carries the control out.' }) ownerId!: string;
  @TextLimit() @Field({ description: 'Date by which it is to be in place, YYYY-MM-DD, a real date not before the decision date.' }) dueDate!: string;
  @TextLimit() @Field({ description: 'Why this control was adopted (Art.18(1)); required.' }) reason!: string;
  @TextLimit(RISK_TITLE_MAX_LENGTH) @Field({ nullable: true, description: `A reference, such as a baseline requirement or a standard clause; at most ${RISK_TITLE_MAX_LENGTH} characters.` }) reference?: string;
}

@InputType({ description: 'Input of decideControls (Art.18).' })
export class DecideControlsInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_RISK_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The risk, whose treatment is decided.' }) riskId!: string;
  @ListLimit() @NestedInput(() => ControlInput) @Field(() => [ControlInput], { description: "At least one control; the list replaces the risk's controls." }) controls!: ControlInput[];
}

@InputType({ description: 'Input of withdrawRisk (Art.14(1)).' })
export class WithdrawRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_RISK_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The risk: IDENTIFIED, ANALYSED, TO_TREAT or RETAINED, never treated.' }) riskId!: string;
  @TextLimit() @Field({ description: `Why it is withdrawn (identified in error, a duplicate of another risk…), required; at most ${RISK_TEXT_MAX_LENGTH.toLocaleString('en')} characters.` }) reason!: string;
}

@InputType({ description: 'Input of reassignRiskOwner.' })
export class ReassignRiskOwnerInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_RISK_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The risk.' }) riskId!: string;
  @IdLimit() @Field(() => ID, { description: 'User id of the new owner (Art.14(1)).' }) ownerId!: string;
}

@InputType({ description: 'Input of recordReview (Art.12(3)-(4)).' })
export class RecordReviewInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_RISK_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The risk, RETAINED or ACCEPTED.' }) riskId!: string;
  @Field({ description: 'Whether the controls were found in place: true only once every control of the risk is IMPLEMENTED, VERIFIED or CANCELLED and not all are CANCELLED (rule CONTROLS_NOT_IMPLEMENTED); false is a finding.' }) controlsInPlace!: boolean;
  @Field(() => Int, { description: 'Actual likelihood now, 1..N of the criteria in force.' }) actualLikelihood!: number;
  @Field(() => Int, { description: 'Actual impact now, 1..M of the criteria in force.' }) actualImpact!: number;
  @TextLimit() @Field({ nullable: true, description: `The reviewer's notes; at most ${RISK_TEXT_MAX_LENGTH.toLocaleString('en')} characters.` }) notes?: string;
}

@ObjectType({ description: 'An evidence file cited for a control, pinned in the log by its SHA-256.' })
export class CitedEvidence {
  @Field(() => ID, { description: 'Id of the evidence file.' }) evidenceId!: string;
  @Field({ description: 'Lower-case hex SHA-256 of the file, as recorded when it was cited.' }) sha256!: string;
}

@ObjectType({ description: 'A control that a later decision of its cycle left out (decideControls without it), as it stood then: kept in the Art.18(2) record.' })
export class SupersededControl extends Control {
  @Field(() => [CitedEvidence], { description: 'The evidence files cited for it, first citation first.' }) evidence!: CitedEvidence[];
  @Field({ description: `When the decision that left it out was made. ${INSTANT}` }) supersededAt!: string;
  @Field(() => Int, { description: "That decision's event: its revision in the risk's stream (history, atPosition)." }) supersededRevision!: number;
  @Field(() => ID, { description: 'User id of who made that decision.' }) supersededBy!: string;
}

@ObjectType({ description: 'A treatment that a later decision of its cycle replaced (decideTreatment with other content): kept in the Art.18(2) record.' })
export class SupersededTreatment extends Treatment {
  @Field({ description: `When the decision that replaced it was made. ${INSTANT}` }) supersededAt!: string;
  @Field(() => Int, { description: "That decision's event: its revision in the risk's stream (history, atPosition)." }) supersededRevision!: number;
  @Field(() => ID, { description: 'User id of who made that decision.' }) supersededBy!: string;
}

@ObjectType({ description: 'The controls of one cycle of a risk in the Art.18(2) record: the current cycle, or one a review\'s finding closed (kept as it stood then).' })
export class ControlsDocumentEntry {
  @Field(() => ID, { description: 'The risk.' }) riskId!: string;
  @Field({ description: "The risk's title." }) riskTitle!: string;
  @Field(() => RiskStatusEnum, { description: "The risk's status: now for the current cycle, when it closed for a closed one." }) riskStatus!: RiskStatus;
  @Field(() => ID, { description: "User id of the risk's owner." }) ownerId!: string;
  @Field(() => String, { nullable: true, description: "The risk's level in this entry's cycle (a label of the criteria): its current level for the current cycle; null until analysed." }) level!: string | null;
  @Field(() => String, { nullable: true, description: 'The treatment target level; null until a treatment is decided.' }) targetLevel!: string | null;
  @Field(() => [TreatmentOptionEnum], { description: 'The treatment options decided (Art.17); empty until decided.' }) treatmentOptions!: TreatmentOption[];
  @Field(() => String, { nullable: true, description: 'Why the treatment was chosen; null until decided.' }) treatmentRationale!: string | null;
  @Field(() => [Control], { description: 'The controls and the reasons they were adopted (Art.18).' }) controls!: Control[];
  @Field(() => Int, { description: "The risk's cycle this entry records (a review's finding opens the next one, Art.12(3))." }) cycle!: number;
  @Field(() => String, { nullable: true, description: `When a review's finding closed this cycle; null for the current cycle. Its controls are as they stood then. ${INSTANT}` }) closedAt?: string | null;
  @Field(() => ID, { nullable: true, description: 'The review whose finding closed this cycle; null for the current cycle.' }) closedByReviewId?: string | null;
  @Field(() => [SupersededControl], { nullable: true, description: 'The controls a later decision of this cycle left out, oldest decision first, with the progress and evidence they had reached then (never overdue); empty when none. A control decided again (same id) is not superseded: it is in `controls`.' })
  supersededControls?: SupersededControl[] | null;
  @Field(() => [SupersededTreatment], { nullable: true, description: "The treatments a later decision of this cycle replaced, oldest first; empty when none. The entry's treatment fields are the one in force (or when the cycle closed)." })
  supersededTreatments?: SupersededTreatment[] | null;
}

/** ControlsDocument.markdown, which the documents module resolves (one wording for the type and its resolver). */
export const CONTROLS_MARKDOWN_DESCRIPTION =
  "The same document as Markdown, in Japanese, its source block (log position, chain hash, the request that renders it again) at its end: the same text as GET /documents/controls.md?atPosition=<logPosition>&lang=ja (with riskId when given), which puts a warning on top while the log fails verification. Bounded by DOCUMENT_MAX_BYTES as that download is (its text as rendered, then its UTF-8 bytes) and refused whole, never cut short. Errors: QUERY_TOO_COMPLEX when the document passes DOCUMENT_MAX_BYTES (extensions.limit is the bound; the download answers 413 DOCUMENT_TOO_LARGE for the same record: ask for one risk, riskId), or when the request's unpaged lists and documents pass 16 MB.";

@ObjectType({ description: 'The record of controls and the reasons they were adopted (Art.18(2)), as it stood at one point of the log (logPosition): the same record as GET /documents/controls.md for that point.' })
export class ControlsDocument {
  @Field({ description: `When the document was produced (the server's clock; what it holds is the log's state at logPosition). ${INSTANT}` }) generatedAt!: string;
  @Field(() => String, { nullable: true, description: 'Position of the last event the document reflects: the head of the log when the query asked for no point, else the last event by asOf or atPosition (a position inside an append moved to its end). The value GET /documents/controls.md sends as X-Log-Position; atPosition with it gives the same document again. With no event by then (atPosition 0, an asOf before the first event, an empty log) the start of the log, position 0000000000000000000, and logRecordedAt, chainHash and eventHash null.' }) logPosition!: string | null;
  @Field(() => String, { nullable: true, description: `When that event was recorded: the instant the document judges a control overdue at (not the clock, so that the same position gives the same document); null at the start of the log (no event by then). ${INSTANT}` }) logRecordedAt!: string | null;
  @Field(() => String, { nullable: true, description: "That event's link of the log's global chain (64 lowercase hex digits), as the document's source block cites it; null at the start of the log (no event by then) or on a store without a global chain." }) chainHash!: string | null;
  @Field(() => String, { nullable: true, description: "That event's own hash (64 lowercase hex digits; the source block cites it where the store has no global chain); null at the start of the log (no event by then)." }) eventHash!: string | null;
  @Field(() => Int, { description: 'Risks in the document.' }) riskCount!: number;
  @Field(() => Int, { description: 'Controls in the document, those of closed cycles included (not those superseded within a cycle: see entries.supersededControls).' }) controlCount!: number;
  /** One entry per risk and cycle: a field of its own, charged to the request's result budget (ControlsDocumentEntriesResolver.entries). */
  entries!: ControlsDocumentEntry[];
  @Field({ description: CONTROLS_MARKDOWN_DESCRIPTION }) markdown!: string;
}

@ObjectType({ description: 'A retained or accepted risk due for review by the interval the criteria in force set for its level (Art.12(3)-(4)).' })
export class ReviewDue {
  @Field(() => Risk, { description: 'The risk.' }) risk!: Risk;
  @Field({ description: 'The level the interval is taken for: the target level of an accepted risk, the evaluated level of a retained one.' }) level!: string;
  @Field(() => Int, { description: 'Review interval for that level, in days (reviewIntervalDays of the criteria).' }) intervalDays!: number;
  @Field({ description: `The last review of the cycle, or the evaluation when there is none: the interval counts from it. ${INSTANT}` }) since!: string;
  @Field({ description: 'Date the review was due, in Japan (YYYY-MM-DD, JST, like control due dates).' }) dueOn!: string;
  @Field(() => Int, { description: 'Whole days since the due date (0 on the day).' }) overdueDays!: number;
}
