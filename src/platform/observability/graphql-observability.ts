import type { ApolloServerPlugin, BaseContext, GraphQLRequestContext } from '@apollo/server';
import type { ApolloDriverConfig } from '@nestjs/apollo';
import { Kind, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { noteRequest } from './http-observability.js';
import type { Metrics } from './metrics.js';

/** What this plugin reads of the request's context (src/identity's RequestContext), structurally. */
interface ObservedContext extends BaseContext {
  req?: object;
  auth?: { actor?: { id?: unknown } };
}

/**
 * The operation's label: the schema's name of its root field (aliases and the client's
 * operationName are ignored: a client could put anything there, before any auth check), or
 * `multiple` for several root fields; so the labels are bounded by the schema. Undefined when the
 * request did not pass validation (Apollo sets `operation` only then): such requests are not
 * labelled at all.
 */
export function operationLabel(rc: Pick<GraphQLRequestContext<BaseContext>, 'operation' | 'document'>): string | undefined {
  const operation = rc.operation;
  if (!operation) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of rc.document?.definitions ?? []) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const names = new Set<string>();
  const seen = new Set<string>();
  const collect = (set: SelectionSetNode): void => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) names.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) collect(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  const [only] = names;
  return names.size === 1 ? only! : names.size === 0 ? 'none' : 'multiple';
}

/**
 * GraphQL operations over HTTP that passed validation: their duration by operation (operationLabel),
 * type and outcome (`ok`, or the first error's code as the client receives it), and, for the
 * request's log line, who sent it and which operation it was.
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
          const operation = operationLabel(rc);
          if (operation === undefined || !rc.operation) return;
          if (req) noteRequest(req, { operation });
          metrics.graphqlOperation({ operation, type: rc.operation.operation, outcome, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
        },
      };
    },
  };
}

/** The GraphQL options with the plugin added (the options themselves are src/graphql's). */
export function withGraphqlObservability(options: ApolloDriverConfig, metrics: Metrics): ApolloDriverConfig {
  return { ...options, plugins: [...(options.plugins ?? []), graphqlObservabilityPlugin(metrics) as ApolloServerPlugin<BaseContext>] };
}
