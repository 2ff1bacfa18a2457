/**
 * Fixtures of the plan decider's unit tests (plan.decider.spec.ts, plan.consent.spec.ts): the
 * actors, the risks as the committee sees them, command builders and the histories they yield.
 */
import type { DomainActor } from '../../../src/shared/domain/decider.js';
import type {
  AddRiskToPlan,
  DraftPlan,
  LearnResidualConsent,
  MarkConsentStale,
  PlanCommand,
  RecordBoardResolution,
  SubmitPlan,
} from '../../../src/treatment-plan/domain/plan.commands.js';
import { decide } from '../../../src/treatment-plan/domain/plan.decider.js';
import type { PlanEvent } from '../../../src/treatment-plan/domain/plan.events.js';
import { evolve } from '../../../src/treatment-plan/domain/plan.evolve.js';
import { initialPlanState, type PlanState, type RiskSnapshot } from '../../../src/treatment-plan/domain/plan.state.js';

export const PLAN = 'p-1';
export const T_DRAFT = '2026-04-01T00:30:00.000Z';
export const T_ADD = '2026-04-01T01:00:00.000Z';
export const T_SUBMIT = '2026-04-02T02:00:00.000Z';
export const T_RESOLVE = '2026-04-10T01:00:00.000Z'; // 10:00 on 2026-04-10 in Japan
export const T_CONSENT = '2026-04-12T03:00:00.000Z';
export const T_LATER = '2026-05-01T03:00:00.000Z';

export const actor = (id: string, ...roles: DomainActor['roles']): DomainActor => ({ id, name: id, roles });
export const committee = actor('u-committee', 'COMMITTEE_MEMBER');
export const ciso = actor('u-ciso', 'CISO');
export const secretary = actor('u-secretary', 'BOARD_SECRETARY');
export const owner1 = actor('u-owner-1', 'RISK_OWNER');
export const owner2 = actor('u-owner-2', 'RISK_OWNER');
export const auditor = actor('u-auditor', 'AUDITOR');
export const admin = actor('u-admin', 'ADMIN');
export const processManager = actor('system:plan-consent-process', 'ADMIN');

/** r1 and r2 as they are when the committee puts them in the plan. */
export const r1: RiskSnapshot = {
  id: 'r-1',
  version: 7,
  title: 'Hot wallet key theft',
  ownerId: owner1.id,
  status: 'CONTROLS_DECIDED',
  stateHash: 'sha256:r1-a',
  criteriaNumber: 2,
  level: 'LOW',
};
export const r2: RiskSnapshot = {
  id: 'r-2',
  version: 4,
  title: 'Withdrawal monitoring gap',
  ownerId: owner2.id,
  status: 'CONTROLS_DECIDED',
  stateHash: 'sha256:r2-a',
  criteriaNumber: 2,
  level: 'MEDIUM',
};
export const r3: RiskSnapshot = { ...r1, id: 'r-3', title: 'Reconciliation delay', stateHash: 'sha256:r3-a' };

/** The same risks once the plan is approved: the risk side moved them to AWAITING_CONSENT. */
export const awaiting = (r: RiskSnapshot, over: Partial<RiskSnapshot> = {}): RiskSnapshot => ({
  ...r,
  version: r.version + 2,
  status: 'AWAITING_CONSENT',
  ...over,
});
export const r1Awaiting = awaiting(r1);
export const r2Awaiting = awaiting(r2);

export const draft = (over: Partial<DraftPlan> = {}): DraftPlan => ({
  type: 'DraftPlan',
  planId: PLAN,
  title: 'Information security management plan FY2026',
  period: 'FY2026',
  actor: committee,
  at: T_DRAFT,
  ...over,
});
export const add = (risk: RiskSnapshot, over: Partial<AddRiskToPlan> = {}): AddRiskToPlan => ({
  type: 'AddRiskToPlan',
  planId: PLAN,
  risk,
  actor: committee,
  at: T_ADD,
  ...over,
});
export const submit = (over: Partial<SubmitPlan> = {}): SubmitPlan => ({
  type: 'SubmitPlan',
  planId: PLAN,
  risks: [{ ...r1, targetLevel: 'LOW' }, { ...r2, targetLevel: 'LOW' }],
  actor: committee,
  at: T_SUBMIT,
  ...over,
});
export const resolve = (over: Partial<RecordBoardResolution> = {}): RecordBoardResolution => ({
  type: 'RecordBoardResolution',
  planId: PLAN,
  resolutionNumber: 'BR-2026-014',
  meetingDate: '2026-04-09',
  decision: 'APPROVED',
  minutesReference: 'board-minutes/2026-04-09#item-5',
  notes: 'Approved as proposed',
  actor: secretary,
  at: T_RESOLVE,
  ...over,
});
export const ownerOf = (risk: RiskSnapshot): DomainActor => (risk.ownerId === owner1.id ? owner1 : owner2);
/** The plan learns an owner's answer, decided on the risk (issued by the process manager). */
export const learn = (risk: RiskSnapshot, accepted: boolean, over: Partial<LearnResidualConsent> = {}): LearnResidualConsent => ({
  type: 'LearnResidualConsent',
  planId: PLAN,
  riskId: risk.id,
  accepted,
  ownerId: ownerOf(risk).id,
  planRevision: 1,
  riskVersion: risk.version,
  riskStateHash: accepted ? risk.stateHash : '',
  riskLevel: accepted ? (risk.level ?? null) : null,
  residualLevel: accepted ? 'LOW' : null,
  criteriaNumber: accepted ? (risk.criteriaNumber ?? null) : null,
  statement: accepted ? `I accept the residual risk of ${risk.title}` : '',
  reason: accepted ? '' : 'The target level is not credible before the new HSM is installed',
  actor: processManager,
  at: T_CONSENT,
  ...over,
});
export const accept = (risk: RiskSnapshot, over: Partial<LearnResidualConsent> = {}) => learn(risk, true, over);
export const decline = (risk: RiskSnapshot, over: Partial<LearnResidualConsent> = {}) => learn(risk, false, over);
export const markStale = (riskId: string, riskVersion: number, over: Partial<MarkConsentStale> = {}): MarkConsentStale => ({
  type: 'MarkConsentStale',
  planId: PLAN,
  riskId,
  riskVersion,
  reason: 'Risk re-analysed: level went from LOW to HIGH',
  actor: processManager,
  at: T_LATER,
  ...over,
});

/** The events the decider itself yields for these commands, in order (each on the state so far). */
export function play(...commands: PlanCommand[]): PlanEvent[] {
  const events: PlanEvent[] = [];
  let state = initialPlanState;
  for (const command of commands) {
    const decided = decide(command, state);
    events.push(...decided);
    state = decided.reduce(evolve, state);
  }
  return events;
}
export const stateOf = (events: PlanEvent[]): PlanState => events.reduce(evolve, initialPlanState);

export const drafted = play(draft());
export const withItems = play(draft(), add(r1), add(r2));
export const submitted = play(draft(), add(r1), add(r2), submit());
export const approved = play(draft(), add(r1), add(r2), submit(), resolve());
export const rejected = play(draft(), add(r1), add(r2), submit(), resolve({ resolutionNumber: 'BR-2026-013', decision: 'REJECTED' }));
export const oneAccepted = play(draft(), add(r1), add(r2), submit(), resolve(), accept(r1Awaiting));
export const inForce = play(draft(), add(r1), add(r2), submit(), resolve(), accept(r1Awaiting), accept(r2Awaiting));
