import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CommandBus } from '@nestjs/cqrs';
import { INPUT_ARGUMENT_DESCRIPTION } from '../../graphql/descriptions.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { RevokeTokensCommand } from '../application/revocation-commands.js';
import { TokenRevocations } from '../token-revocations.js';
import { RequestMeta } from './current-actor.decorator.js';
import { RevokeTokensInput, TokenRevocation } from './revocation.types.js';

/** Revocation of one person's tokens (an operational act of an ADMIN) and the list of them. */
@Resolver(() => TokenRevocation)
export class RevocationResolver {
  constructor(private readonly commands: CommandBus, private readonly revocations: TokenRevocations) {}

  @Mutation(() => TokenRevocation, {
    description:
      "ADMIN only (an operational act: no domain data): revokes every token of one subject issued until now (its iat; a token without iat too): each is refused with UNAUTHENTICATED on every instance from then on, over HTTP and graphql-ws, and that subject's open subscriptions are closed with 4401. Access comes back only with a token the identity provider issues later. Recorded as TokensRevoked (history(id: \"all\")). A subject already revoked is revoked again at this instant; the same commandId records nothing twice. Errors: UNAUTHENTICATED; FORBIDDEN (another role); BAD_USER_INPUT (subject, reason).",
  })
  async revokeTokens(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: RevokeTokensInput, @RequestMeta() meta: Meta): Promise<TokenRevocation> {
    return this.commands.execute(new RevokeTokensCommand(input, meta));
  }

  @Query(() => [TokenRevocation], { description: 'The revocations in force (the latest per subject), oldest first. AUDITOR, CISO or ADMIN. Errors: UNAUTHENTICATED; FORBIDDEN (another role).' })
  tokenRevocations(): TokenRevocation[] {
    return this.revocations.list();
  }
}
