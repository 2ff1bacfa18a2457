import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { ForbiddenError, UnauthenticatedError } from '../../shared/domain/errors.js';
import type { DomainActor } from '../../shared/domain/decider.js';
import { checkOperation } from '../access-policy.js';
import { ActorRateLimiter } from '../rate-limit/actor-rate-limiter.js';

/** What each GraphQL request's context holds once the bearer token has been looked at. */
export interface RequestContext {
  req?: { headers: Record<string, string | string[] | undefined> };
  /** `expiresAt`: the token's `exp` in ms since the epoch; `issuedAt`: its `iat` in seconds. */
  auth: { actor: DomainActor; expiresAt?: number; issuedAt?: number } | { error: Error };
  actor?: DomainActor;
  correlationId: string;
  /** The server's id of this request's (or graphql-ws operation's) answer: unconfirmed-writes.ts. */
  answerId: string;
  /** The request's one count against RATE_LIMIT_PER_MINUTE, shared by its root fields (the error, if refused). */
  rateLimit?: { refused?: Error };
  /** Over graphql-ws: closes the socket as a consumer that fell too far behind (4413). */
  closeSlowConsumer?: () => void;
}

/**
 * Runs before every root field: the token must be valid (UNAUTHENTICATED), the actor within
 * RATE_LIMIT_PER_MINUTE (RATE_LIMITED; a request counts once, however many root fields it has)
 * and the role table must allow the operation (FORBIDDEN). Nested fields are not root
 * operations and pass.
 */
@Injectable()
export class GraphqlAuthGuard implements CanActivate {
  constructor(private readonly rateLimiter: ActorRateLimiter) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType<string>() !== 'graphql') return true;
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<GraphQLResolveInfo>();
    const parentType = info.parentType.name;
    const kind = parentType === 'Mutation' ? 'mutation' : parentType === 'Subscription' ? 'subscription' : parentType === 'Query' ? 'query' : null;
    if (!kind) return true;
    const ctx = gql.getContext<RequestContext>();
    if ('error' in ctx.auth) throw ctx.auth.error instanceof UnauthenticatedError ? ctx.auth.error : new UnauthenticatedError();
    const actor = ctx.auth.actor;
    if (this.rateLimiter.enabled) {
      if (!ctx.rateLimit) {
        try {
          this.rateLimiter.hit(actor.id);
          ctx.rateLimit = {};
        } catch (error) {
          ctx.rateLimit = { refused: error as Error };
        }
      }
      if (ctx.rateLimit.refused) throw ctx.rateLimit.refused;
    }
    const denied = checkOperation(kind, info.fieldName, actor);
    if (denied) throw new ForbiddenError(denied);
    ctx.actor = actor;
    return true;
  }
}
