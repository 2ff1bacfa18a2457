/**
 * The plan's mutations (Art.19-20), one command class and one handler each. Plan commands that
 * concern risks decide on both streams together (plan-joint-commands.ts); an owner's answer on
 * the residual risk is decided on the risk (the plan learns it through the reactions).
 */
import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { RiskWriteContext } from '../../risk-register/application/write-context.js';
import { riskDecider } from '../../risk-register/domain/risk.decider.js';
import { riskStreamId } from '../../risk-register/domain/risk.events.js';
import { RiskRules } from '../../risk-register/domain/risk.rules.js';
import { AggregateReader } from '../../shared/application/aggregate-reader.js';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { newEntityId } from '../../shared/application/entity-id.js';
import { ClientCommand, commandContext, type Retryable } from '../../shared/application/request-meta.js';
import type { DomainActor } from '../../shared/domain/decider.js';
import { ConcurrencyConflictError, NotFoundError, RuleViolationError } from '../../shared/domain/errors.js';
import { violation } from '../../shared/domain/guards.js';
import { planDecider } from '../domain/plan.decider.js';
import { planStreamId, type BoardDecision, type PlanState } from '../domain/plan.state.js';
import { PlanLagsRisk, planJoint, type PlanRequest } from './plan-joint-commands.js';
import { rootLogger } from '../../shared/logging/json-logger.js';

const log = rootLogger.child('plan-commands');

const isNotRequested = (error: unknown): boolean => error instanceof RuleViolationError && error.rule === RiskRules.CONSENT_NOT_REQUESTED.id;

/** Rounds a plan command waits for the plan to learn its risks' answers (see PlanLagsRisk). */
const SETTLE_ROUNDS = 5;

type PlanRef = Retryable & { planId: string };

export class DraftPlanCommand extends ClientCommand<Retryable & { title: string; period: string }, PlanState> {}
export class AddRiskToPlanCommand extends ClientCommand<PlanRef & { riskId: string }, PlanState> {}
export class SubmitPlanCommand extends ClientCommand<PlanRef, PlanState> {}
export class WithdrawPlanCommand extends ClientCommand<PlanRef & { reason: string }, PlanState> {}
export class ClosePlanCommand extends ClientCommand<PlanRef & { reason: string }, PlanState> {}
export class RemoveRiskFromPlanCommand extends ClientCommand<PlanRef & { riskId: string; reason: string }, PlanState> {}
export class RecordBoardResolutionCommand extends ClientCommand<
  PlanRef & { resolutionNumber: string; meetingDate: string; decision: BoardDecision; minutesReference: string; notes?: string | null; planRevision?: number | null },
  PlanState
> {}
export class AcceptResidualRiskCommand extends ClientCommand<PlanRef & { riskId: string; statement?: string | null }, PlanState> {}
export class ExplainResidualRiskCommand extends ClientCommand<PlanRef & { riskId: string; explainedOn: string; summary: string }, PlanState> {}
export class DeclineResidualRiskCommand extends ClientCommand<PlanRef & { riskId: string; reason: string }, PlanState> {}

type Stamp = { actor: DomainActor; at: string };

/** The path of the plan's own mutations: context, the joint decision (plan and risks), the plan as it now is. */
@Injectable()
export class PlanCommandPipeline {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly aggregates: AggregateReader,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly riskContext: RiskWriteContext,
  ) {}

  async run({ input, meta }: ClientCommand<Retryable, PlanState>, build: (stamp: Stamp) => PlanRequest): Promise<PlanState> {
    const ctx = commandContext(meta, this.clock, input);
    const command = build({ actor: ctx.actor, at: ctx.at });
    // Closing a plan or removing an item waits until the plan has learnt the answers its risks
    // already hold (PlanLagsRisk): the reactions carry them within milliseconds. Past a few rounds
    // (owners answering in a tight loop, reactions stopped) the plan decides on what it knows.
    for (let round = 1; ; round++) {
      try {
        const result = await this.executor.executeJoint(planJoint(command, { settled: round <= SETTLE_ROUNDS }), ctx, input.expectedVersion);
        if (!result.state.exists) throw new NotFoundError('Plan', command.planId);
        return result.state;
      } catch (error) {
        if (!(error instanceof PlanLagsRisk)) throw error;
        await this.executor.catchUp(planStreamId(command.planId));
        if (round === SETTLE_ROUNDS) log.warn('the plan still lags a risk\'s answer: deciding on what it knows', { planId: command.planId, riskId: error.riskId, type: command.type });
      }
    }
  }

  /**
   * Art. 20: the owner's answer is decided on the risk, whose stream orders it against every
   * material change; the plan learns of it through the reactions, which the pipeline waits for,
   * so the plan returned already shows it (also when a concurrent request gave the same answer).
   * `expectedVersion` is the plan's, as the client read it.
   */
  async consent({ input, meta }: ClientCommand<PlanRef & { riskId: string }, PlanState>, answer: { accepted: true; statement: string } | { accepted: false; reason: string }): Promise<PlanState> {
    const ctx = commandContext(meta, this.clock, input);
    const plan = await this.aggregates.state(planStreamId(input.planId), planDecider);
    if (!plan.exists) throw new NotFoundError('Plan', input.planId);
    // The client names the plan version it saw; the decision itself is ordered by the risk's stream.
    if (input.expectedVersion !== undefined && input.expectedVersion !== null && input.expectedVersion !== plan.version) {
      throw new ConcurrencyConflictError(input.expectedVersion, plan.version);
    }
    // An acceptance reads the criteria in force through the attempt: approved criteria landing
    // before its append make it conflict and be decided again under them.
    const decide = () =>
      this.executor.executeJoint(async (reader) => {
        const criteria = answer.accepted ? await this.riskContext.criteriaInForce(reader) : undefined;
        // And the risk's assets: a retirement landing before its append makes it conflict too.
        const risk = answer.accepted ? await reader.state(riskStreamId(input.riskId), riskDecider) : undefined;
        const assets = risk?.exists ? await this.riskContext.assets(risk.assetIds, reader) : undefined;
        const command = { type: 'RecordResidualConsent' as const, actor: ctx.actor, at: ctx.at, riskId: input.riskId, planId: input.planId, ...answer, ...(criteria ? { criteria } : {}), ...(assets ? { assets } : {}) };
        return { primary: { streamId: riskStreamId(input.riskId), decider: riskDecider, command } };
      }, ctx);
    let result: Awaited<ReturnType<typeof decide>>;
    try {
      result = await decide();
    } catch (error) {
      // The board approved the plan, and the reaction that asks the owner (AwaitResidualConsent)
      // has not reached the risk yet: an answer sent right after the resolution. It waits for the
      // reactions once; were they still behind (read models retrying a storage error), the refusal
      // says so rather than that nobody asked (re-probe F6).
      const awaiting = (plan.status === 'APPROVED' || plan.status === 'IN_FORCE') && plan.items.some((i) => i.riskId === input.riskId && i.consent === 'PENDING');
      if (!awaiting || !isNotRequested(error)) throw error;
      await this.executor.catchUp(planStreamId(input.planId));
      try {
        result = await decide();
      } catch (again) {
        if (!isNotRequested(again)) throw again;
        throw violation(
          RiskRules.CONSENT_NOT_REQUESTED,
          `Plan ${plan.id} was approved (revision ${plan.revision}), but the request for the owner's consent has not reached risk ${input.riskId} yet: the server's reactions are behind. Try again shortly`,
        );
      }
    }
    if (!result.state.exists) throw new NotFoundError('Risk', input.riskId);
    // A retry (same commandId) answers its first result: the plan as that answer's reactions left it,
    // or, when the first found the answer given already (satisfied-command.ts), as it stood then.
    if (result.duplicate && result.events.length === 0 && result.position) return this.aggregates.stateAt(planStreamId(input.planId), planDecider, { atPosition: result.position });
    if (result.duplicate) {
      const end = await this.executor.cascadeEnd(planStreamId(input.planId), result.events, -1);
      if (end !== undefined && end >= 0) return (await this.aggregates.load(planStreamId(input.planId), planDecider, end)).state;
    }
    // The risk already held this answer (a concurrent request of the owner gave it): the plan
    // learns it through that request's reactions, which this one waits for before answering.
    if (result.events.length === 0) await this.executor.catchUp(riskStreamId(input.riskId));
    const after = await this.aggregates.state(planStreamId(input.planId), planDecider);
    // An acceptance the owner took back at once (a decline recorded before the plan learnt it) is
    // never learnt: the answer then shows what followed it rather than an item still PENDING.
    // (Its reaction, which the wait above ended with, found the decline already recorded: once more
    // to the head, which then holds the decline, and so past the plan learning it.)
    if (answer.accepted && after.items.find((i) => i.riskId === input.riskId)?.consent === 'PENDING') {
      await this.executor.catchUp(riskStreamId(input.riskId));
      return this.aggregates.state(planStreamId(input.planId), planDecider);
    }
    return after;
  }
}

@CommandHandler(DraftPlanCommand)
export class DraftPlanHandler implements ICommandHandler<DraftPlanCommand, PlanState> {
  constructor(private readonly pipeline: PlanCommandPipeline) {}
  execute(command: DraftPlanCommand): Promise<PlanState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({ type: 'DraftPlan', ...stamp, planId: newEntityId(), title: i.title, period: i.period }));
  }
}

@CommandHandler(AddRiskToPlanCommand)
export class AddRiskToPlanHandler implements ICommandHandler<AddRiskToPlanCommand, PlanState> {
  constructor(private readonly pipeline: PlanCommandPipeline) {}
  execute(command: AddRiskToPlanCommand): Promise<PlanState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({ type: 'AddRiskToPlan', ...stamp, planId: i.planId, riskId: i.riskId }));
  }
}

@CommandHandler(SubmitPlanCommand)
export class SubmitPlanHandler implements ICommandHandler<SubmitPlanCommand, PlanState> {
  constructor(private readonly pipeline: PlanCommandPipeline) {}
  execute(command: SubmitPlanCommand): Promise<PlanState> {
    return this.pipeline.run(command, (stamp) => ({ type: 'SubmitPlan', ...stamp, planId: command.input.planId }));
  }
}

@CommandHandler(WithdrawPlanCommand)
export class WithdrawPlanHandler implements ICommandHandler<WithdrawPlanCommand, PlanState> {
  constructor(private readonly pipeline: PlanCommandPipeline) {}
  execute(command: WithdrawPlanCommand): Promise<PlanState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({ type: 'WithdrawPlan', ...stamp, planId: i.planId, reason: i.reason }));
  }
}

@CommandHandler(ClosePlanCommand)
export class ClosePlanHandler implements ICommandHandler<ClosePlanCommand, PlanState> {
  constructor(private readonly pipeline: PlanCommandPipeline) {}
  execute(command: ClosePlanCommand): Promise<PlanState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({ type: 'ClosePlan', ...stamp, planId: i.planId, reason: i.reason }));
  }
}

@CommandHandler(RemoveRiskFromPlanCommand)
export class RemoveRiskFromPlanHandler implements ICommandHandler<RemoveRiskFromPlanCommand, PlanState> {
  constructor(private readonly pipeline: PlanCommandPipeline) {}
  execute(command: RemoveRiskFromPlanCommand): Promise<PlanState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({ type: 'RemoveRiskFromPlan', ...stamp, planId: i.planId, riskId: i.riskId, reason: i.reason }));
  }
}

@CommandHandler(RecordBoardResolutionCommand)
export class RecordBoardResolutionHandler implements ICommandHandler<RecordBoardResolutionCommand, PlanState> {
  constructor(private readonly pipeline: PlanCommandPipeline) {}
  execute(command: RecordBoardResolutionCommand): Promise<PlanState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({
      type: 'RecordBoardResolution', ...stamp, planId: i.planId, resolutionNumber: i.resolutionNumber, meetingDate: i.meetingDate, decision: i.decision,
      minutesReference: i.minutesReference, notes: i.notes, planRevision: i.planRevision,
    }));
  }
}

@CommandHandler(AcceptResidualRiskCommand)
export class AcceptResidualRiskHandler implements ICommandHandler<AcceptResidualRiskCommand, PlanState> {
  constructor(private readonly pipeline: PlanCommandPipeline) {}
  execute(command: AcceptResidualRiskCommand): Promise<PlanState> {
    return this.pipeline.consent(command, { accepted: true, statement: command.input.statement ?? '' });
  }
}

@CommandHandler(DeclineResidualRiskCommand)
export class DeclineResidualRiskHandler implements ICommandHandler<DeclineResidualRiskCommand, PlanState> {
  constructor(private readonly pipeline: PlanCommandPipeline) {}
  execute(command: DeclineResidualRiskCommand): Promise<PlanState> {
    return this.pipeline.consent(command, { accepted: false, reason: command.input.reason });
  }
}

@CommandHandler(ExplainResidualRiskCommand)
export class ExplainResidualRiskHandler implements ICommandHandler<ExplainResidualRiskCommand, PlanState> {
  constructor(private readonly pipeline: PlanCommandPipeline) {}
  execute(command: ExplainResidualRiskCommand): Promise<PlanState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({ type: 'ExplainResidualRisk', ...stamp, planId: i.planId, riskId: i.riskId, explainedOn: i.explainedOn, summary: i.summary }));
  }
}

export const PLAN_COMMAND_HANDLERS = [
  PlanCommandPipeline,
  DraftPlanHandler,
  AddRiskToPlanHandler,
  SubmitPlanHandler,
  WithdrawPlanHandler,
  ClosePlanHandler,
  RemoveRiskFromPlanHandler,
  RecordBoardResolutionHandler,
  AcceptResidualRiskHandler,
  DeclineResidualRiskHandler,
  ExplainResidualRiskHandler,
];
