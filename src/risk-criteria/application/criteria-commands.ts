import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { newEntityId } from '../../shared/application/entity-id.js';
import { ClientCommand, commandContext, type Retryable } from '../../shared/application/request-meta.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { criteriaById, criteriaDecider, criteriaStreamId, criteriaVersionNumber, type CriteriaCommand, type ApproveRiskCriteria, type ProposeRiskCriteria } from '../domain/criteria.decider.js';
import type { CriteriaDefinition, CriteriaVersionState } from '../domain/criteria.state.js';

/**
 * The criteria register's mutations (Art.13), one command class and one handler each, on the one
 * register stream. The client's expectedVersion is compared with the targeted version's own
 * `version` (the register stream moves with every proposal), by the pipeline and again by the decider.
 */
export class ProposeRiskCriteriaCommand extends ClientCommand<Omit<Retryable, 'expectedVersion'> & CriteriaDefinition, CriteriaVersionState> {}
export class ApproveRiskCriteriaCommand extends ClientCommand<Retryable & { criteriaId: string }, CriteriaVersionState> {}

@Injectable()
export class CriteriaCommandPipeline {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async run({ input, meta }: ClientCommand<Retryable, CriteriaVersionState>, build: (stamp: Pick<CriteriaCommand, 'actor' | 'at'>) => CriteriaCommand): Promise<CriteriaVersionState> {
    const ctx = commandContext(meta, this.clock, input);
    const domain = build({ actor: ctx.actor, at: ctx.at });
    const criteriaId = domain.criteriaId;
    const result = await this.executor.execute(
      { streamId: criteriaStreamId(criteriaId), decider: criteriaDecider, entityVersion: (state) => criteriaVersionNumber(state, criteriaId) },
      domain,
      ctx,
      input.expectedVersion,
    );
    // The version the appended events are about: for a retried command (same commandId), the one the
    // first attempt created or approved, not the fresh id made above. Its first event names it.
    const first = result.events[0]?.data.criteriaId;
    const id = typeof first === 'string' ? first : criteriaId;
    const version = criteriaById(result.state, id);
    if (!version) throw new NotFoundError('RiskCriteria', id);
    return version;
  }
}

@CommandHandler(ProposeRiskCriteriaCommand)
export class ProposeRiskCriteriaHandler implements ICommandHandler<ProposeRiskCriteriaCommand, CriteriaVersionState> {
  constructor(private readonly pipeline: CriteriaCommandPipeline) {}
  execute(command: ProposeRiskCriteriaCommand): Promise<CriteriaVersionState> {
    const { commandId: _commandId, ...definition } = command.input;
    return this.pipeline.run(command, (stamp) => ({ type: 'ProposeRiskCriteria', ...stamp, criteriaId: newEntityId(), definition }));
  }
}

@CommandHandler(ApproveRiskCriteriaCommand)
export class ApproveRiskCriteriaHandler implements ICommandHandler<ApproveRiskCriteriaCommand, CriteriaVersionState> {
  constructor(private readonly pipeline: CriteriaCommandPipeline) {}
  execute(command: ApproveRiskCriteriaCommand): Promise<CriteriaVersionState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({
      type: 'ApproveRiskCriteria', ...stamp, criteriaId: i.criteriaId, ...(typeof i.expectedVersion === 'number' ? { expectedVersion: i.expectedVersion } : {}),
    }));
  }
}

export const CRITERIA_COMMAND_HANDLERS = [CriteriaCommandPipeline, ProposeRiskCriteriaHandler, ApproveRiskCriteriaHandler];
