import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { ClientCommand, commandContext } from '../../shared/application/request-meta.js';
import { TOKEN_REVOCATIONS_STREAM, tokenRevocationDecider, type TokenRevocation } from '../domain/token-revocation.decider.js';
import { TokenRevocations } from '../token-revocations.js';

/** Revokes every token of one subject issued until now (ADMIN): an operational act, no domain data. */
export class RevokeTokensCommand extends ClientCommand<{ commandId?: string | null; subject: string; reason: string }, TokenRevocation> {}

@CommandHandler(RevokeTokensCommand)
export class RevokeTokensHandler implements ICommandHandler<RevokeTokensCommand, TokenRevocation> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly revocations: TokenRevocations,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ input: i, meta }: RevokeTokensCommand): Promise<TokenRevocation> {
    const ctx = commandContext(meta, this.clock, i.commandId);
    const { state } = await this.executor.execute({ streamId: TOKEN_REVOCATIONS_STREAM, decider: tokenRevocationDecider }, { type: 'RevokeTokens', actor: ctx.actor, at: ctx.at, subject: i.subject, reason: i.reason }, ctx);
    // decide() refuses a bad subject, so after it the subject is revoked (now, or at a later instant already).
    const revocation = state.bySubject[i.subject]!;
    // This instance refuses the token as soon as the mutation answers; the others learn it from the log.
    this.revocations.apply(revocation);
    return revocation;
  }
}
