import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { RiskWriteContext } from '../../risk-register/application/write-context.js';
import { consentFingerprint } from '../../risk-register/domain/risk.decider.js';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { commandContext, type RequestMeta, type Retryable } from '../../shared/application/request-meta.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { planDecider, type PlanCommand } from '../domain/plan.decider.js';
import { planStreamId, type BoardDecision, type PlanState, type RiskSnapshot } from '../domain/plan.state.js';

export type PlanInput =
  | { operation: 'draftPlan'; input: Retryable & { title: string; period: string } }
  | { operation: 'addRiskToPlan'; input: Retryable & { planId: string; riskId: string } }
  | { operation: 'submitPlan'; input: Retryable & { planId: string } }
  | { operation: 'recordBoardResolution'; input: Retryable & { planId: string; resolutionNumber: string; meetingDate: string; decision: BoardDecision; minutesReference: string; notes?: string | null } }
  | { operation: 'acceptResidualRisk'; input: Retryable & { planId: string; riskId: string; statement?: string | null } }
  | { operation: 'declineResidualRisk'; input: Retryable & { planId: string; riskId: string; reason: string } };

/** One command type for the plan's operations (Art.19-20). */
export class PlanCommandEnvelope extends Command<PlanState> {
  constructor(readonly request: PlanInput, readonly meta: RequestMeta) {
    super();
  }
}

@CommandHandler(PlanCommandEnvelope)
export class PlanCommandHandler implements ICommandHandler<PlanCommandEnvelope, PlanState> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly risks: RiskWriteContext,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ request, meta }: PlanCommandEnvelope): Promise<PlanState> {
    const ctx = commandContext(meta, this.clock, request.input.commandId);
    const base = { actor: ctx.actor, at: ctx.at };
    let command: PlanCommand;
    switch (request.operation) {
      case 'draftPlan':
        command = { type: 'DraftPlan', ...base, planId: randomUUID(), title: request.input.title, period: request.input.period };
        break;
      case 'addRiskToPlan':
        command = { type: 'AddRiskToPlan', ...base, planId: request.input.planId, risk: await this.snapshot(request.input.riskId) };
        break;
      case 'submitPlan':
        command = { type: 'SubmitPlan', ...base, planId: request.input.planId };
        break;
      case 'recordBoardResolution': {
        const i = request.input;
        command = { type: 'RecordBoardResolution', ...base, planId: i.planId, resolutionNumber: i.resolutionNumber, meetingDate: i.meetingDate, decision: i.decision, minutesReference: i.minutesReference, notes: i.notes };
        break;
      }
      case 'acceptResidualRisk': {
        const i = request.input;
        command = { type: 'AcceptResidualRisk', ...base, planId: i.planId, riskId: i.riskId, statement: i.statement ?? '', risk: await this.snapshot(i.riskId) };
        break;
      }
      case 'declineResidualRisk': {
        const i = request.input;
        command = { type: 'DeclineResidualRisk', ...base, planId: i.planId, riskId: i.riskId, reason: i.reason, risk: await this.snapshot(i.riskId) };
        break;
      }
    }
    const result = await this.executor.execute({ streamId: planStreamId(command.planId), decider: planDecider }, command, ctx, request.input.expectedVersion);
    if (!result.state.exists) throw new NotFoundError('Plan', command.planId);
    return result.state;
  }

  /** What the plan may know of a risk: its version, owner, status and the fingerprint of what an owner consents to. */
  private async snapshot(riskId: string): Promise<RiskSnapshot> {
    const risk = await this.risks.risk(riskId);
    if (!risk.exists) throw new NotFoundError('Risk', riskId);
    return {
      id: risk.id,
      version: risk.version,
      title: risk.title,
      ownerId: risk.ownerId,
      status: risk.status,
      stateHash: consentFingerprint(risk),
      criteriaNumber: risk.evaluation?.criteriaNumber ?? risk.criteriaNumber,
      level: risk.level,
    };
  }
}
