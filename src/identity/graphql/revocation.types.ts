import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { COMMAND_ID_DESCRIPTION } from '../../graphql/descriptions.js';
import { IdLimit, TextLimit } from '../../graphql/input-limits.js';
import { REVOCATION_LIMITS } from '../domain/token-revocation.decider.js';

@ObjectType({
  description:
    'A revocation of one person\'s bearer tokens: every token of `subject` issued at or before `revokedAt` (its iat; a token without iat too) is refused with UNAUTHENTICATED, and its open subscriptions are closed with 4401. A token the identity provider issues later works.',
})
export class TokenRevocation {
  @Field(() => ID, { description: 'The tokens\' subject (JWT sub), exactly as the identity provider writes it.' }) subject!: string;
  @Field({ description: 'Instant of the revocation (ISO 8601, UTC): tokens issued at or before it are refused.' }) revokedAt!: string;
  @Field({ description: 'Why, as the ADMIN wrote it.' }) reason!: string;
  @Field(() => ID, { description: 'User id (JWT sub) of the ADMIN who revoked them.' }) revokedBy!: string;
}

@InputType({ description: 'Input of revokeTokens.' })
export class RevokeTokensInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @IdLimit() @Field(() => ID, { description: 'The subject (JWT sub) whose tokens are revoked, exactly as in the tokens: 1 to 128 printable characters.' }) subject!: string;
  @TextLimit(REVOCATION_LIMITS.reason) @Field({ description: `Why (a departure, a lost device), 1 to ${REVOCATION_LIMITS.reason.toLocaleString('en')} characters. Recorded in the event log, which every role may read (history, events): write the reason, not the circumstances.` }) reason!: string;
}
