import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { RequestMeta as RequestMetaValue } from '../../shared/application/request-meta.js';
import { UnauthenticatedError } from '../../shared/domain/errors.js';
import type { RequestContext } from './auth.guard.js';

/** The authenticated actor of this request (set by GraphqlAuthGuard). */
export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const ctx = GqlExecutionContext.create(context).getContext<RequestContext>();
  if (!ctx.actor) throw new UnauthenticatedError();
  return ctx.actor;
});

/** The request's command context (actor, correlation id, answer id); time and commandId are added per command. */
export const RequestMeta = createParamDecorator((_: unknown, context: ExecutionContext): RequestMetaValue => {
  const ctx = GqlExecutionContext.create(context).getContext<RequestContext>();
  if (!ctx.actor) throw new UnauthenticatedError();
  const issuedAt = 'actor' in ctx.auth ? ctx.auth.issuedAt : undefined;
  return { actor: ctx.actor, correlationId: ctx.correlationId, answerId: ctx.answerId, credential: { issuedAt } };
});
