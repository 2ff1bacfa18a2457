import type { ApolloServerPlugin, BaseContext, GraphQLRequestContext } from '@apollo/server';
import type { ApolloDriverConfig } from '@nestjs/apollo';
import { noteRequest } from './http-observability.js';
import type { Metrics } from './metrics.js';

/** What this plugin reads of the request's context (src/identity's RequestContext), structurally. */
interface ObservedContext extends BaseContext {
  req?: object;
  auth?: { actor?: { id?: unknown } };
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

/**
 * The operation's label: its name, else its first root field (both validated names of the
 * document, so a bounded set), else `anonymous`.
 */
function operationOf(rc: GraphQLRequestContext<ObservedContext>): string {
  const name = rc.operationName ?? rc.request.operationName;
  if (name && NAME.test(name)) return name;
  const field = rc.operation?.selectionSet.selections.find((s) => s.kind === 'Field');
  return field && field.kind === 'Field' ? field.name.value : 'anonymous';
}

/**
 * GraphQL operations over HTTP: their duration by operation, type and outcome (`ok`, or the first
 * error's code as the client receives it), and, for the request's log line, who sent it and which
 * operation it was.
 */
export function graphqlObservabilityPlugin(metrics: Metrics): ApolloServerPlugin<ObservedContext> {
  return {
    async requestDidStart(start) {
      const started = process.hrtime.bigint();
      const req = start.contextValue.req;
      const actorId = start.contextValue.auth?.actor?.id;
      if (req && typeof actorId === 'string') noteRequest(req, { actorId });
      return {
        async willSendResponse(rc) {
          const body = rc.response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
          const code = errors?.[0]?.extensions?.code;
          const outcome = errors?.length ? (typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR') : 'ok';
          const operation = operationOf(rc);
          if (req) noteRequest(req, { operation });
          metrics.graphqlOperation({ operation, type: rc.operation?.operation ?? 'unknown', outcome, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
        },
      };
    },
  };
}

/** The GraphQL options with the plugin added (the options themselves are src/graphql's). */
export function withGraphqlObservability(options: ApolloDriverConfig, metrics: Metrics): ApolloDriverConfig {
  return { ...options, plugins: [...(options.plugins ?? []), graphqlObservabilityPlugin(metrics) as ApolloServerPlugin<BaseContext>] };
}
