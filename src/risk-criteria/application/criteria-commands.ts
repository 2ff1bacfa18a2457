import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { commandContext, type RequestMeta, type Retryable } from '../../shared/application/request-meta.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { criteriaById, criteriaDecider, criteriaStreamId, type CriteriaCommand } from '../domain/criteria.decider.js';
import type { CriteriaDefinition, CriteriaVersionState } from '../domain/criteria.state.js';

export type RiskCriteriaInput =
  | { operation: 'proposeRiskCriteria'; input: Omit<Retryable, 'expectedVersion'> & CriteriaDefinition }
  | { operation: 'approveRiskCriteria'; input: Retryable & { criteriaId: string } };

/** One command type for the criteria register's two operations; the handler maps each to the decider. */
export class RiskCriteriaCommand extends Command<CriteriaVersionState> {
  constructor(readonly request: RiskCriteriaInput, readonly meta: RequestMeta) {
    super();
  }
}

/**
 * Maps each criteria command to the decider and runs it on the one register stream. The
 * client's expectedVersion is compared with the targeted version's own `version` (the register
 * stream moves with every proposal), by the pipeline and again by the decider.
 */
@CommandHandler(RiskCriteriaCommand)
export class RiskCriteriaCommandHandler implements ICommandHandler<RiskCriteriaCommand, CriteriaVersionState> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ request, meta }: RiskCriteriaCommand): Promise<CriteriaVersionState> {
    const ctx = commandContext(meta, this.clock, request.input.commandId);
    const base = { actor: ctx.actor, at: ctx.at };
    let domain: CriteriaCommand;
    let expectedVersion: number | null | undefined;
    switch (request.operation) {
      case 'proposeRiskCriteria': {
        const { commandId: _commandId, ...definition } = request.input;
        domain = { type: 'ProposeRiskCriteria', ...base, criteriaId: randomUUID(), definition };
        break;
      }
      case 'approveRiskCriteria': {
        const i = request.input;
        expectedVersion = i.expectedVersion;
        domain = { type: 'ApproveRiskCriteria', ...base, criteriaId: i.criteriaId, ...(typeof i.expectedVersion === 'number' ? { expectedVersion: i.expectedVersion } : {}) };
        break;
      }
    }
    const criteriaId = domain.criteriaId;
    const result = await this.executor.execute(
      { streamId: criteriaStreamId(criteriaId), decider: criteriaDecider, entityVersion: (state) => criteriaById(state, criteriaId)?.version ?? -1 },
      domain,
      ctx,
      expectedVersion,
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
