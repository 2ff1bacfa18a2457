import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { riskDecider } from '../../risk-register/domain/risk.decider.js';
import { riskStreamId } from '../../risk-register/domain/risk.state.js';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { commandContext, type RequestMeta, type Retryable } from '../../shared/application/request-meta.js';
import { ConcurrencyConflictError, NotFoundError } from '../../shared/domain/errors.js';
import { planDecider } from '../domain/plan.decider.js';
import { planStreamId, type BoardDecision, type PlanState } from '../domain/plan.state.js';
import { planJoint, type PlanRequest } from './plan-joint-commands.js';

export type PlanInput =
  | { operation: 'draftPlan'; input: Retryable & { title: string; period: string } }
  | { operation: 'addRiskToPlan'; input: Retryable & { planId: string; riskId: string } }
  | { operation: 'submitPlan'; input: Retryable & { planId: string } }
  | { operation: 'withdrawPlan'; input: Retryable & { planId: string; reason: string } }
  | { operation: 'closePlan'; input: Retryable & { planId: string; reason: string } }
  | { operation: 'removeRiskFromPlan'; input: Retryable & { planId: string; riskId: string; reason: string } }
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
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ request, meta }: PlanCommandEnvelope): Promise<PlanState> {
    const ctx = commandContext(meta, this.clock, request.input.commandId);
    const base = { actor: ctx.actor, at: ctx.at };
    let command: PlanRequest;
    switch (request.operation) {
      case 'draftPlan':
        command = { type: 'DraftPlan', ...base, planId: randomUUID(), title: request.input.title, period: request.input.period };
        break;
      case 'addRiskToPlan':
        command = { type: 'AddRiskToPlan', ...base, planId: request.input.planId, riskId: request.input.riskId };
        break;
      case 'submitPlan':
        command = { type: 'SubmitPlan', ...base, planId: request.input.planId };
        break;
      case 'withdrawPlan':
        command = { type: 'WithdrawPlan', ...base, planId: request.input.planId, reason: request.input.reason };
        break;
      case 'closePlan':
        command = { type: 'ClosePlan', ...base, planId: request.input.planId, reason: request.input.reason };
        break;
      case 'removeRiskFromPlan':
        command = { type: 'RemoveRiskFromPlan', ...base, planId: request.input.planId, riskId: request.input.riskId, reason: request.input.reason };
        break;
      case 'recordBoardResolution': {
        const i = request.input;
        command = { type: 'RecordBoardResolution', ...base, planId: i.planId, resolutionNumber: i.resolutionNumber, meetingDate: i.meetingDate, decision: i.decision, minutesReference: i.minutesReference, notes: i.notes };
        break;
      }
      case 'acceptResidualRisk':
      case 'declineResidualRisk':
        return this.consent(request, ctx);
    }
    const result = await this.executor.executeJoint(planJoint(command), ctx, request.input.expectedVersion);
    if (!result.state.exists) throw new NotFoundError('Plan', command.planId);
    return result.state;
  }

  /**
   * Art. 20: the owner's answer is decided on the risk, whose stream orders it against every
   * material change; the plan learns of it through the process manager, which the pipeline waits
   * for, so the plan returned already shows it. `expectedVersion` is the plan's, as the client read it.
   */
  private async consent(request: Extract<PlanInput, { operation: 'acceptResidualRisk' | 'declineResidualRisk' }>, ctx: ReturnType<typeof commandContext>): Promise<PlanState> {
    const i = request.input;
    const plan = (await this.executor.load(planStreamId(i.planId), planDecider)).state;
    if (!plan.exists) throw new NotFoundError('Plan', i.planId);
    // The client names the plan version it saw; the decision itself is ordered by the risk's stream.
    if (i.expectedVersion !== undefined && i.expectedVersion !== null && i.expectedVersion !== plan.version) {
      throw new ConcurrencyConflictError(i.expectedVersion, plan.version);
    }
    const accepted = request.operation === 'acceptResidualRisk';
    const answer = request.operation === 'acceptResidualRisk'
      ? { accepted, statement: request.input.statement ?? '' }
      : { accepted, reason: request.input.reason };
    const result = await this.executor.execute(
      { streamId: riskStreamId(i.riskId), decider: riskDecider },
      { type: 'RecordResidualConsent', actor: ctx.actor, at: ctx.at, riskId: i.riskId, planId: i.planId, ...answer },
      ctx,
    );
    if (!result.state.exists) throw new NotFoundError('Risk', i.riskId);
    return (await this.executor.load(planStreamId(i.planId), planDecider)).state;
  }
}
