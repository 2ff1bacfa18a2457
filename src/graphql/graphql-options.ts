import { randomUUID } from 'node:crypto';
import type { ApolloDriverConfig } from '@nestjs/apollo';
import type { TokenVerifier } from '../identity/token-verifier.js';
import type { RequestContext } from '../identity/graphql/auth.guard.js';
import { formatGraphQLError } from './error-format.js';

type Headers = Record<string, string | string[] | undefined>;

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function header(headers: Headers | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

async function authenticate(verifier: TokenVerifier, authorization: string | undefined): Promise<RequestContext['auth']> {
  try {
    return { actor: await verifier.verifyAuthorization(authorization) };
  } catch (error) {
    return { error: error as Error };
  }
}

/**
 * Apollo Server 5 through @nestjs/apollo: code-first schema, our error format, no stack traces,
 * bearer tokens over HTTP and in graphql-ws connection params.
 */
export function graphqlOptions(verifier: TokenVerifier): ApolloDriverConfig {
  return {
    autoSchemaFile: true,
    sortSchema: true,
    path: '/graphql',
    playground: false,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: formatGraphQLError,
    subscriptions: {
      'graphql-ws': {
        path: '/graphql',
        onConnect: async (ctx) => {
          const params = (ctx.connectionParams ?? {}) as Record<string, unknown>;
          const authorization = (params.Authorization ?? params.authorization) as string | undefined;
          const auth = await authenticate(verifier, authorization);
          (ctx.extra as Record<string, unknown>).auth = auth;
          // Refuse the socket at once rather than failing each subscription later.
          return 'actor' in auth;
        },
      },
    },
    context: async (arg: { req?: { headers: Headers }; extra?: Record<string, unknown> }): Promise<RequestContext> => {
      if (arg.extra && !arg.req) {
        // graphql-ws: the token was checked when the socket connected.
        return { auth: (arg.extra.auth as RequestContext['auth']) ?? { error: new Error('unauthenticated') }, correlationId: randomUUID() };
      }
      const headers = arg.req?.headers;
      const given = header(headers, 'x-correlation-id');
      return {
        req: arg.req,
        auth: await authenticate(verifier, header(headers, 'authorization')),
        correlationId: given && CORRELATION_ID.test(given) ? given : randomUUID(),
      };
    },
  };
}
