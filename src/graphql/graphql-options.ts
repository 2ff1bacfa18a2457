import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { ApolloDriverConfig } from '@nestjs/apollo';
import { getOperationAST, type ExecutionArgs, type GraphQLError } from 'graphql';
import type { TokenVerifier } from '../identity/token-verifier.js';
import type { RequestContext } from '../identity/graphql/auth.guard.js';
import { clearTokenExpiry, closeSocketWhenTokenExpires, closeSocketWhenTokenRevoked, revokedOn, TOKEN_EXPIRED_CLOSE_CODE } from '../identity/graphql/ws-token-expiry.js';
import type { AccessLog } from '../audit/application/access-log.js';
import { accessLogPlugin, accessLogWsHooks, logReturnedEntities } from '../audit/graphql/access-log.plugin.js';
import { formatGraphQLError } from './error-format.js';
import { authenticationPlugin } from '../identity/graphql/authentication.plugin.js';
import { newRequestId, requestIdOf } from '../shared/logging/request-id.js';
import { newAnswerId } from '../shared/application/unconfirmed-writes.js';
import { ReadModelsAnswers, readModelsPlugin, type ReadModelsSource } from './read-models-extension.js';
import { integrityExtension, integrityPlugin, type IntegritySource } from './integrity-extension.js';
import { closeSlowConsumer, logEndedWithoutCloseFrame, peerGoneError, skipIfClosing, type WsSocket } from './ws-hardening.js';
import { edgePlugin, edgeShapeRule, MAX_RECURSIVE_SELECTIONS, MAX_TOKENS, WS_MAX_CONNECTIONS_PER_ACTOR, withoutSuggestions, wsEdgeCheck, type EdgeLimits, type SchemaHolder } from './edge-limits.js';
import { rootFieldsInTurns } from './root-fields-in-turns.js';
import { sortedKeepingEnumOrder } from './schema-order.js';
import { DEFAULT_GRAPHQL_MAX_COST } from '../config/app-config.js';

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

async function authenticate(verifier: TokenVerifier, authorization: string | undefined): Promise<RequestContext['auth']> {
  try {
    return await verifier.verifyAuthorizationSession(authorization);
  } catch (error) {
    return { error: error as Error };
  }
}

/**
 * The token of a graphql-ws connection: `Authorization` or `authorization`, a string. Both at once,
 * or anything but a string, is no token (the socket is refused with 4401).
 */
function authorizationParam(params: Record<string, unknown>): string | undefined {
  if ('Authorization' in params && 'authorization' in params) return undefined;
  const value = params.Authorization ?? params.authorization;
  return typeof value === 'string' ? value : undefined;
}

/** A `cache-control` header that Apollo's cache-control plugin leaves alone (neither `no-store` nor its own `max-age=N, scope`). */
const FOREIGN_CACHE_CONTROL = (value: string) => value !== 'no-store' && !/^max-age=(\d+), (public|private)$/.test(value);

/**
 * What Apollo's default cache-control plugin answered, without its cost: no type or field of the
 * schema carries a cache hint and no resolver sets one, so every answer it computed was
 * `cache-control: no-store` (unless a header it cannot parse was there already, which it then
 * left as is). It took a hook on every field of every request to work that out (Apollo wraps
 * every resolver as soon as one plugin watches fields), hence this plugin in its place.
 */
export const noStorePlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        const existing = response.http.headers.get('cache-control');
        if (existing && FOREIGN_CACHE_CONTROL(existing)) return;
        response.http.headers.set('cache-control', 'no-store');
      },
    };
  },
};

/** graphql-ws does not run Apollo's formatError: errors sent over the socket get the same shape here. */
function formatAll(errors: readonly GraphQLError[], format: typeof formatGraphQLError = formatGraphQLError) {
  return errors.map((e) => format(e.toJSON(), e));
}

/**
 * Apollo Server 5 through @nestjs/apollo: code-first schema, our error format, no stack traces,
 * bearer tokens over HTTP and in graphql-ws connection params. With an access log, every
 * operation (HTTP or graphql-ws), allowed or denied, is recorded in it (Art. 23(2)).
 */
export function graphqlOptions(
  verifier: TokenVerifier,
  accessLog?: AccessLog,
  limits: EdgeLimits = { maxCost: DEFAULT_GRAPHQL_MAX_COST, introspection: true },
  /** The projections, for answers read while they do not follow the log (read-models-extension.ts). */
  readModels?: ReadModelsSource,
  /** The integrity monitor, for answers given while the log fails verification (integrity-extension.ts). */
  integrity?: IntegritySource,
): ApolloDriverConfig {
  const wsHooks = accessLog ? accessLogWsHooks(accessLog) : null;
  // Open graphql-ws connections per actor (WS_MAX_CONNECTIONS_PER_ACTOR).
  const connections = new Map<string, number>();
  const schema: SchemaHolder = {};
  const edgeCheck = wsEdgeCheck(limits, schema);
  // With introspection off, errors name nothing of the schema ("Did you mean …?").
  const formatError: typeof formatGraphQLError = limits.introspection ? formatGraphQLError : (f, e) => withoutSuggestions(formatGraphQLError(f, e));
  const answers = new ReadModelsAnswers(readModels);
  return {
    plugins: [...(accessLog ? [accessLogPlugin(accessLog)] : []), authenticationPlugin, edgePlugin(limits, schema), ApolloServerPluginCacheControlDisabled(), noStorePlugin, readModelsPlugin(answers), integrityPlugin(integrity)],
    autoSchemaFile: true,
    // The root types have no decorator of their own: their descriptions are set here.
    transformSchema: (schema) => {
      const describe = (type: { description?: string | null } | null | undefined, text: string) => {
        if (type) type.description = text;
      };
      describe(schema.getQueryType(), 'Read operations. Any role of this product unless a field says otherwise; the past through asOf or atPosition where offered.');
      describe(schema.getMutationType(), 'Commands, one input each, idempotent with commandId. An AUDITOR is refused every one (FORBIDDEN); all are refused with INTEGRITY_BROKEN while the event log fails verification.');
      describe(schema.getSubscriptionType(), 'Committed events, live, over graphql-ws at /graphql (the token in the connection parameters); the socket closes with 4401 when the token expires.');
      // Sorted here rather than by Nest's sortSchema, which would sort each enum's values too (schema-order.ts).
      return sortedKeepingEnumOrder(rootFieldsInTurns(accessLog ? logReturnedEntities(schema) : schema));
    },
    path: '/graphql',
    playground: false,
    introspection: limits.introspection,
    hideSchemaDetailsFromClientErrors: !limits.introspection,
    // Edge limits (edge-limits.ts): parser tokens and fragment bombs here; depth, aliases and cost in edgePlugin.
    parseOptions: { maxTokens: MAX_TOKENS },
    maxRecursiveSelections: MAX_RECURSIVE_SELECTIONS,
    validationRules: [edgeShapeRule],
    includeStacktraceInErrorResponses: false,
    formatError,
    subscriptions: {
      'graphql-ws': {
        path: '/graphql',
        onConnect: async (ctx) => {
          const params = (ctx.connectionParams ?? {}) as Record<string, unknown>;
          const extra = ctx.extra as Record<string, unknown> & { socket?: { close(code: number, reason: string): void } };
          const auth = await authenticate(verifier, authorizationParam(params));
          // Closed while its token was being checked (graphql-ws runs onClose for a socket never
          // acknowledged too): nothing to count, nothing to watch. Counted anyway, the actor's count
          // never went down again, and after 10 such sockets every new one of theirs was refused
          // 4403 until a restart (soak probe H1: one in ~120 connects dropped at once, under load).
          if (extra.closed === true) return false;
          extra.auth = auth;
          // Refuse the socket at once rather than failing each subscription later: 4401, as an
          // expired token (graphql-ws's own refusal would be 4403, the per-actor limit's code).
          if (!('actor' in auth)) {
            wsHooks?.connectionRefused();
            extra.socket?.close(TOKEN_EXPIRED_CLOSE_CODE, 'Unauthorized');
            return false;
          }
          const open = connections.get(auth.actor.id) ?? 0;
          if (open >= WS_MAX_CONNECTIONS_PER_ACTOR) {
            wsHooks?.connectionRefused();
            return false;
          }
          connections.set(auth.actor.id, open + 1);
          extra.countedFor = auth.actor.id;
          // The socket ends (4401) when its token expires.
          if (auth.expiresAt !== undefined) closeSocketWhenTokenExpires(ctx.extra, auth.expiresAt);
          // And when it is revoked (revokeTokens, on any instance).
          // Its queries and mutations still running answer first (graphql-ws holds null for them in ctx.subscriptions).
          if (verifier.revocations) closeSocketWhenTokenRevoked(ctx.extra, verifier.revocations, auth.actor.id, auth.issuedAt, () => Object.values(ctx.subscriptions ?? {}).filter((s) => s === null).length);
          return true;
        },
        onClose: (ctx, code) => {
          (ctx.extra as Record<string, unknown>).closed = true;
          clearTokenExpiry(ctx.extra);
          const actorId = (ctx.extra as Record<string, unknown>).countedFor;
          if (typeof actorId !== 'string') return;
          logEndedWithoutCloseFrame(code, actorId);
          const open = (connections.get(actorId) ?? 1) - 1;
          if (open > 0) connections.set(actorId, open);
          else connections.delete(actorId);
        },
        // Nothing is serialised for a socket that is closing (a slow consumer, a peer gone).
        // A query's or mutation's answer says when the read models did not follow the log, as over HTTP.
        onNext: (ctx, _id, _payload, args, result) => {
          const closing = skipIfClosing(ctx);
          if (closing) return closing;
          const formatted = result.errors?.length ? { ...result, errors: formatAll(result.errors, formatError) } : undefined;
          const readModels = isSubscription(args) ? undefined : answers.extensionOfContext(args.contextValue, result.data != null);
          // Every message while the log fails verification, subscriptions' events included (they come from it).
          const broken = integrityExtension(integrity);
          if (!readModels && !broken) return formatted;
          return { ...(formatted ?? result), extensions: { ...result.extensions, ...(readModels ? { readModels } : {}), ...(broken ? { integrity: broken } : {}) } };
        },
        // Passed through to graphql-ws by @nestjs/graphql (its type lists fewer hooks than it forwards).
        ...({
          // Operations over the socket meet the same edge limits as over HTTP (and a new operation
          // frees its id in the access log's marks: operationStarts); and refused at the access log's cap.
          onSubscribe: (ctx: { extra: unknown; subscriptions?: Record<string, unknown> }, id: string, payload: Parameters<ReturnType<typeof wsEdgeCheck>>[2]) => {
            wsHooks?.operationStarts(ctx, id);
            const full = wsHooks?.refusedAtCap();
            return full ? [full] : edgeCheck(ctx, id, payload);
          },
          onOperation: (ctx: { extra: unknown }, id: string, payload: object, args: ExecutionArgs, result: unknown) => wsHooks?.onOperation(ctx, id, payload, args, result),
          onError: (ctx: { extra: unknown }, id: string, payload: object, errors: readonly GraphQLError[]) => {
            wsHooks?.onError(ctx, id, payload, errors);
            // The peer went away with operations running: logged once per socket, not as each
            // operation's error (graphql-ws's own shape is returned: it is never sent).
            if (peerGoneError(ctx, errors)) return undefined;
            return formatAll(errors, formatError);
          },
        } as object),
      },
    },
    context: async (arg: { req?: { headers: Headers }; extra?: Record<string, unknown> }): Promise<RequestContext> => {
      if (arg.extra && !arg.req) {
        // graphql-ws: the token was checked when the socket connected.
        const socket = arg.extra.socket as WsSocket | undefined;
        const context: RequestContext = {
          // Revoked while the socket is open: its new operations are refused until it closes.
          auth: revokedOn(arg.extra) ? { error: revokedOn(arg.extra)! } : ((arg.extra.auth as RequestContext['auth']) ?? { error: new Error('unauthenticated') }),
          correlationId: newRequestId(),
          answerId: newAnswerId(),
          ...(socket ? { closeSlowConsumer: () => closeSlowConsumer(socket, 'A subscription fell too far behind: read on with events(after), then subscribe again') } : {}),
        };
        // How the read models stand as the operation begins (its context is made then).
        answers.markStart(context);
        return context;
      }
      const headers = arg.req?.headers;
      return {
        req: arg.req,
        auth: await authenticate(verifier, header(headers, 'authorization')),
        // The request's id (x-request-id, else x-correlation-id, else new: see request-id.ts).
        correlationId: requestIdOf(arg.req),
        // Not the correlationId: clients may send the same x-request-id with any number of requests.
        answerId: newAnswerId(),
      };
    },
  };
}

/** Whether a graphql-ws operation is a subscription: its events come from the log (live-events.ts), not from the read models. */
function isSubscription(args: ExecutionArgs): boolean {
  return getOperationAST(args.document, args.operationName)?.operation === 'subscription';
}
