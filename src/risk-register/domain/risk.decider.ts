/**
 * The Risk aggregate: the whole life of one risk (stream `risk-<id>`), from identification
 * (Art. 14(1)) through analysis (Art. 15), evaluation (Art. 16), treatment (Art. 17), controls
 * (Art. 18), the plan (Art. 19, through the process manager), residual-risk consent (Art. 20)
 * and the review loop (Art. 12(3)-(4), Art. 10).
 *
 * Pure: time (`at`) and new ids arrive in the command, and everything the application loads
 * from other streams (assets, the criteria version in force, a baseline catalogue) is passed IN
 * the command. `decide` throws a DomainError to reject and returns [] when the command is
 * already satisfied.
 *
 * This file only dispatches: each stage decides in its own file (identification.ts,
 * analysis.ts, evaluation.ts, treatment.ts, plan-and-consent.ts, review.ts), the events are the
 * storage contract (risk.events.ts), the rules and shared checks are in risk.rules.ts, and one
 * `evolve` (risk.evolve.ts) folds every stage's events.
 */
import type { Decider } from '../../shared/domain/decider.js';
import { decideAnalyse } from './analysis.js';
import { decideControlProgress, decidePassedDeadlines } from './control-lifecycle.js';
import { decideEvaluate } from './evaluation.js';
import { decideIdentify, decideReassignOwner, decideWithdrawal } from './identification.js';
import {
  decideAwaitConsent,
  decideFreezeForBoard,
  decideIncludeInPlan,
  decideLeavePlan,
  decideRecordConsent,
  decideReleaseFromBoard,
} from './plan-and-consent.js';
import { decideReview } from './review.js';
import type { RiskCommand } from './risk.commands.js';
import type { RiskEvent } from './risk.events.js';
import { evolveRisk } from './risk.evolve.js';
import { initialRiskState, type RiskState } from './risk.state.js';
import { decideControls, decideTreatment } from './treatment.js';

export function decideRisk(command: RiskCommand, state: RiskState): RiskEvent[] {
  switch (command.type) {
    case 'IdentifyRisk':
      return decideIdentify(command, state);
    case 'AnalyseRisk':
      return decideAnalyse(command, state);
    case 'EvaluateRisk':
      return decideEvaluate(command, state);
    case 'DecideTreatment':
      return decideTreatment(command, state);
    case 'DecideControls':
      return decideControls(command, state);
    case 'WithdrawRisk':
      return decideWithdrawal(command, state);
    case 'ReassignRiskOwner':
      return decideReassignOwner(command, state);
    case 'IncludeInPlan':
      return decideIncludeInPlan(command, state);
    case 'FreezeForBoard':
      return decideFreezeForBoard(command, state);
    case 'ReleaseFromBoard':
      return decideReleaseFromBoard(command, state);
    case 'LeavePlan':
      return decideLeavePlan(command, state);
    case 'AwaitResidualConsent':
      return decideAwaitConsent(command, state);
    case 'RecordResidualConsent':
      return decideRecordConsent(command, state);
    case 'RecordReview':
      return decideReview(command, state);
    case 'RecordControlProgress':
      return decideControlProgress(command, state);
    case 'RecordPassedDeadlines':
      return decidePassedDeadlines(command, state);
    default: {
      const unknown: never = command;
      throw new Error(`Unknown risk command ${(unknown as { type: string }).type}`);
    }
  }
}

export const riskDecider: Decider<RiskCommand, RiskEvent, RiskState> = {
  // Snapshots of this state are kept under this version: bump it whenever the state's shape (or what evolve folds into it) changes.
  stateVersion: 'risk/11',
  decide: decideRisk,
  evolve: evolveRisk,
  initialState: initialRiskState,
  subjectOf: (c) => (c.type === 'RecordControlProgress' ? c.controlId : undefined),
  // An owner's acceptance and refusal are one command type, not one kind of request.
  kindOf: (c) => (c.type === 'RecordResidualConsent' ? `${c.type}/${c.accepted ? 'accepted' : 'declined'}` : undefined),
};
