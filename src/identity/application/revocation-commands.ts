import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { LiveEvents } from '../../shared/application/live-events.js';
import { ClientCommand, commandContext } from '../../shared/application/request-meta.js';
import { noteUnconfirmed } from '../../shared/application/unconfirmed-writes.js';
import { describeError } from '../../shared/application/transient-errors.js';
import { rootLogger } from '../../shared/logging/json-logger.js';
import { TOKEN_REVOCATIONS_STREAM, tokenRevocationDecider, type TokenRevocation } from '../domain/token-revocation.decider.js';
import { upcastTokenRevocationEvent } from '../domain/token-revocation.events.js';

const log = rootLogger.child('token-revocations');

/** How long the mutation waits for this instance's live feed to take its revocation in (as the read models' wait). */
const FEED_WAIT_MS = 10_000;

/** Revokes every token of one subject issued until now (ADMIN): an operational act, no domain data. */
export class RevokeTokensCommand extends ClientCommand<{ commandId?: string | null; subject: string; reason: string }, TokenRevocation> {}

@CommandHandler(RevokeTokensCommand)
export class RevokeTokensHandler implements ICommandHandler<RevokeTokensCommand, TokenRevocation> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly live: LiveEvents,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ input: i, meta }: RevokeTokensCommand): Promise<TokenRevocation> {
    const ctx = commandContext(meta, this.clock, i);
    const { state, position, events, duplicate } = await this.executor.execute({ streamId: TOKEN_REVOCATIONS_STREAM, decider: tokenRevocationDecider }, { type: 'RevokeTokens', actor: ctx.actor, at: ctx.at, subject: i.subject, reason: i.reason }, ctx);
    // A retry (the same commandId) answers the revocation the first command recorded, whatever
    // subject it names now: every revocation is on one stream, so the executor's check of the
    // command's kind cannot tell them apart (re-probe F1: another subject read an absent entry, an
    // internal error). Otherwise decide() refused a bad subject, so the subject is revoked (now,
    // or at a later instant already).
    const first = duplicate ? events.find((e) => e.type === 'TokensRevoked') : undefined;
    const revocation = first ? upcastTokenRevocationEvent(first.type, first.schemaVersion, first.data).data : state.bySubject[i.subject]!;
    // The store's live feed is the only writer of the revocations in force (revocation-feed.ts), on
    // this instance as on the others: the answer waits until it took this one in, so that this
    // instance refuses the token once the mutation answers. Nothing appended (a later revocation
    // in force, maybe recorded by another instance a moment ago): up to the log's head.
    try {
      await (position !== null ? this.live.reached(position, FEED_WAIT_MS) : this.live.reachedHead(FEED_WAIT_MS));
    } catch (error) {
      log.warn('tokens revoked, but this instance has not taken the revocation in yet: its live event feed is behind or stopped', { subject: i.subject, position, error: describeError(error) });
      if (ctx.answerId) noteUnconfirmed(ctx.answerId, { position: position ?? 'head', reason: `this instance does not refuse the tokens yet: ${describeError(error)}` });
    }
    return revocation;
  }
}
