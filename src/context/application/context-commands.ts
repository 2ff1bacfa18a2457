import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { ClientCommand, commandContext, type Retryable } from '../../shared/application/request-meta.js';
import { contextDecider } from '../domain/context.decider.js';
import { CONTEXT_STREAM, currentContext, type ContextVersion } from '../domain/context.state.js';

/** Art.12(1): records the organisation's context as a new version. */
export class RecordContextCommand extends ClientCommand<
  Retryable & { period: string; scope: string; internalIssues: string[]; externalIssues: string[]; interestedParties: string[] },
  ContextVersion
> {}

/**
 * One stream holds every version, so its version check orders concurrent records: each becomes
 * the next version (or, with the client's expectedVersion = Context.version, a conflict).
 */
@CommandHandler(RecordContextCommand)
export class RecordContextHandler implements ICommandHandler<RecordContextCommand, ContextVersion> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ input: i, meta }: RecordContextCommand): Promise<ContextVersion> {
    const ctx = commandContext(meta, this.clock, i);
    const { state } = await this.executor.execute(
      { streamId: CONTEXT_STREAM, decider: contextDecider, entityVersion: (s) => s.version },
      { type: 'RecordContext', actor: ctx.actor, at: ctx.at, period: i.period, scope: i.scope, internalIssues: i.internalIssues, externalIssues: i.externalIssues, interestedParties: i.interestedParties },
      ctx,
      i.expectedVersion,
    );
    // decide() refuses an empty context, so after it there is always a version in force.
    return currentContext(state)!;
  }
}
