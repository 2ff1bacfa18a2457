/**
 * Command builders and ready-made histories for the Risk aggregate. Histories are produced by
 * running the commands through the decider itself (decide is deterministic), so they always
 * match what the aggregate really records.
 *
 * Two risks:
 *  - RISK (risk-1): key theft on the hot-wallet signing server (value 3: BASELINE and DETAILED
 *    required), owned by `owner`; the standard scoring gives HIGH -> TO_TREAT.
 *  - PRINTER_RISK (risk-p): printouts left in the tray of the office printer (value 1: no
 *    method required); an informal LOW -> RETAINED.
 */
import { fold } from '../../../src/shared/domain/decider.js';
import type {
  AnalyseRisk,
  AwaitResidualConsent,
  ControlInput,
  DecideControls,
  DecideTreatment,
  EvaluateRisk,
  IdentifyRisk,
  IncludeInPlan,
  ReassignRiskOwner,
  RecordResidualConsent,
  FreezeForBoard,
  ReleaseFromBoard,
  LeavePlan,
  RecordReview,
  RecordControlProgress,
  RiskCommand,
} from '../../../src/risk-register/domain/risk.commands.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import type { RiskEvent } from '../../../src/risk-register/domain/risk.events.js';
import type { BaselineResult, RiskState } from '../../../src/risk-register/domain/risk.state.js';
import type { BaselineRequirementStatus } from '../../../src/baseline-catalogues/domain/catalogue.state.js';
import { T0, T1, T2, committee, ciso, criteriaV1, custodyCatalogue, hotWallet, owner, printer, system, withdrawalApi } from './fixtures.js';

export const RISK = 'risk-1';
export const PRINTER_RISK = 'risk-p';
export const PLAN = 'plan-2025';

export const identify = (over: Partial<IdentifyRisk> = {}): IdentifyRisk => ({
  type: 'IdentifyRisk',
  riskId: RISK,
  title: 'Theft of the hot-wallet signing key',
  description: 'An attacker with access to the signing server exfiltrates the single hot-wallet key',
  assetIds: [hotWallet.id],
  threatId: 'thr-key-theft',
  vulnerabilityId: 'vul-shared-key',
  ownerId: owner.id,
  externalReferences: ['Coincheck NEM incident, January 2018'],
  assets: [hotWallet, withdrawalApi],
  actor: committee,
  at: T0,
  ...over,
});

export const identifyPrinter = (over: Partial<IdentifyRisk> = {}): IdentifyRisk =>
  identify({
    riskId: PRINTER_RISK,
    title: 'Printouts left in the printer tray',
    description: 'Customer letters printed without PIN release stay in the tray',
    assetIds: [printer.id],
    threatId: 'thr-paper',
    vulnerabilityId: 'vul-no-pin',
    externalReferences: [],
    assets: [printer],
    ...over,
  });

/** Results for the custody catalogue in requirement order CB-01..CB-05. */
export const results = (...statuses: BaselineRequirementStatus[]): BaselineResult[] =>
  statuses.map((status, i) => ({ requirementId: `CB-0${i + 1}`, status }));

export const analyseBaseline = (
  analysisId: string,
  statuses: BaselineRequirementStatus[],
  impact: number,
  over: Partial<AnalyseRisk> = {},
): AnalyseRisk => ({
  type: 'AnalyseRisk',
  riskId: RISK,
  analysisId,
  method: 'BASELINE',
  baseline: { catalogueId: custodyCatalogue.id, results: results(...statuses), impact },
  criteria: criteriaV1,
  assets: [hotWallet],
  catalogue: custodyCatalogue,
  actor: owner,
  at: T1,
  ...over,
});

export const analyseInformal = (analysisId: string, likelihood: number, impact: number, over: Partial<AnalyseRisk> = {}): AnalyseRisk => ({
  type: 'AnalyseRisk',
  riskId: RISK,
  analysisId,
  method: 'INFORMAL',
  informal: { likelihood, impact, expert: 'Yui Expert (custody engineering lead)', rationale: 'Two similar incidents in the industry last year' },
  criteria: criteriaV1,
  assets: [hotWallet],
  actor: owner,
  at: T1,
  ...over,
});

export const analyseDetailed = (
  analysisId: string,
  assessments: Array<{ assetId: string; threatLevel: number; vulnerabilityLevel: number }>,
  over: Partial<AnalyseRisk> = {},
): AnalyseRisk => ({
  type: 'AnalyseRisk',
  riskId: RISK,
  analysisId,
  method: 'DETAILED',
  detailed: { assessments },
  criteria: criteriaV1,
  assets: [hotWallet],
  actor: owner,
  at: T1,
  ...over,
});

export const evaluate = (over: Partial<EvaluateRisk> = {}): EvaluateRisk => ({
  type: 'EvaluateRisk',
  riskId: RISK,
  criteria: criteriaV1,
  assets: [hotWallet],
  actor: committee,
  at: T2,
  ...over,
});

export const decideTreatment = (over: Partial<DecideTreatment> = {}): DecideTreatment => ({
  type: 'DecideTreatment',
  riskId: RISK,
  options: ['REDUCE'],
  rationale: 'Split the key with multi-signature and move most funds to cold storage',
  targetLikelihood: 1,
  targetImpact: 2,
  criteria: criteriaV1,
  actor: committee,
  at: T2,
  ...over,
});

export const control = (over: Partial<ControlInput> = {}): ControlInput => ({
  controlId: 'ctl-multisig',
  title: '2-of-3 multi-signature for hot-wallet withdrawals',
  description: 'Withdrawals need signatures from keys held by separate teams',
  ownerId: 'u-custody-lead',
  dueDate: '2025-06-30',
  reason: 'A single stolen key can no longer move funds (Art.18(2))',
  reference: 'CB-02',
  ...over,
});

export const decideControls = (over: Partial<DecideControls> = {}): DecideControls => ({
  type: 'DecideControls',
  riskId: RISK,
  controls: [control()],
  actor: committee,
  at: T2,
  ...over,
});

export const reassignOwner = (ownerId: string, over: Partial<ReassignRiskOwner> = {}): ReassignRiskOwner => ({
  type: 'ReassignRiskOwner',
  riskId: RISK,
  ownerId,
  actor: ciso,
  at: T2,
  ...over,
});

export const includeInPlan = (over: Partial<IncludeInPlan> = {}): IncludeInPlan => ({
  type: 'IncludeInPlan',
  riskId: RISK,
  planId: PLAN,
  actor: system,
  at: T2,
  ...over,
});

export const awaitConsent = (over: Partial<AwaitResidualConsent> = {}): AwaitResidualConsent => ({
  type: 'AwaitResidualConsent',
  riskId: RISK,
  planId: PLAN,
  planRevision: 1,
  actor: system,
  at: T2,
  ...over,
});

export const freezeForBoard = (over: Partial<FreezeForBoard> = {}): FreezeForBoard => ({ type: 'FreezeForBoard', riskId: RISK, planId: PLAN, planRevision: 1, actor: committee, at: T2, ...over });
export const releaseFromBoard = (over: Partial<ReleaseFromBoard> = {}): ReleaseFromBoard => ({ type: 'ReleaseFromBoard', riskId: RISK, planId: PLAN, reason: 'PLAN_WITHDRAWN', actor: committee, at: T2, ...over });
export const leavePlan = (over: Partial<LeavePlan> = {}): LeavePlan => ({ type: 'LeavePlan', riskId: RISK, planId: PLAN, reason: 'REMOVED_FROM_PLAN', actor: committee, at: T2, ...over });

export const recordConsent = (accepted: boolean, over: Partial<RecordResidualConsent> = {}): RecordResidualConsent => ({
  type: 'RecordResidualConsent',
  riskId: RISK,
  planId: PLAN,
  accepted,
  ...(accepted ? { statement: 'I accept the residual risk as planned' } : { reason: 'Cold storage ratio is too low for my business line' }),
  // Consent is decided on the risk by its owner (Art. 20).
  actor: owner,
  at: T2,
  ...over,
});

export const review = (reviewId: string, actualLikelihood: number, actualImpact: number, over: Partial<RecordReview> = {}): RecordReview => ({
  type: 'RecordReview',
  riskId: RISK,
  reviewId,
  controlsInPlace: true,
  actualLikelihood,
  actualImpact,
  notes: 'Quarterly review',
  criteria: criteriaV1,
  actor: owner,
  at: T2,
  ...over,
});

// ---------------------------------------------------------------------------------------------
// Histories
// ---------------------------------------------------------------------------------------------

/** Runs the commands one after the other through decide (each on the state folded so far). */
export function history(...commands: RiskCommand[]): RiskEvent[] {
  return continueHistory([], ...commands);
}

export function continueHistory(events: RiskEvent[], ...commands: RiskCommand[]): RiskEvent[] {
  const all = [...events];
  for (const c of commands) all.push(...riskDecider.decide(c, fold(riskDecider, all)));
  return all;
}

export function stateOf(events: RiskEvent[]): RiskState {
  return fold(riskDecider, events);
}

/**
 * The hot-wallet risk analysed with both required methods:
 *  - baseline MET, PARTIAL, NOT_MET, NOT_MET, MET, impact 3:
 *    gap = (2 + 0.5*1)/5 = 0.5 >= t[1]=0.5 -> likelihood 3; matrix[2][2] = HIGH
 *  - detailed hot wallet threat 2 x vulnerability 3 = 6 >= 6 -> likelihood 3;
 *    value over {C, I} = max(3, 3) = 3 -> impact 3; matrix[2][2] = HIGH
 */
export const analysedEvents = (): RiskEvent[] =>
  history(
    identify(),
    analyseBaseline('an-b1', ['MET', 'PARTIAL', 'NOT_MET', 'NOT_MET', 'MET'], 3),
    analyseDetailed('an-d1', [{ assetId: hotWallet.id, threatLevel: 2, vulnerabilityLevel: 3 }]),
  );

/** ... evaluated: HIGH is above the acceptance level LOW -> TO_TREAT. */
export const toTreatEvents = (): RiskEvent[] => continueHistory(analysedEvents(), evaluate());

/** ... REDUCE to likelihood 1, impact 2: matrix[0][1] = LOW, within acceptance. */
export const treatmentDecidedEvents = (): RiskEvent[] => continueHistory(toTreatEvents(), decideTreatment());

export const controlsDecidedEvents = (): RiskEvent[] => continueHistory(treatmentDecidedEvents(), decideControls());

export const inPlanEvents = (): RiskEvent[] => continueHistory(controlsDecidedEvents(), includeInPlan());

export const awaitingConsentEvents = (): RiskEvent[] => continueHistory(inPlanEvents(), awaitConsent());

export const acceptedEvents = (): RiskEvent[] => continueHistory(awaitingConsentEvents(), recordConsent(true));

/** Accepted, and every control IMPLEMENTED: a review may find them in place (CONTROLS_NOT_IMPLEMENTED otherwise). */
export const reviewableEvents = (): RiskEvent[] => {
  const accepted = acceptedEvents();
  const implemented = stateOf(accepted).controls.map(
    (c): RecordControlProgress => ({ type: 'RecordControlProgress', riskId: RISK, controlId: c.controlId, status: 'IMPLEMENTED', actor: committee, at: T2 }),
  );
  return continueHistory(accepted, ...implemented);
};

/** The printer risk: informal likelihood 1, impact 1 -> matrix[0][0] = LOW, retained. */
export const printerRetainedEvents = (): RiskEvent[] =>
  history(
    identifyPrinter(),
    analyseInformal('an-p1', 1, 1, { riskId: PRINTER_RISK, assets: [printer] }),
    evaluate({ riskId: PRINTER_RISK, assets: [printer] }),
  );
