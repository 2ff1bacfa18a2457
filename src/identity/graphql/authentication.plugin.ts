import type { ApolloServerPlugin } from '@apollo/server';
import { RefusedRequest, validateStandIn } from '../../graphql/edge-limits.js';
import { domainExtensions } from '../../graphql/error-format.js';
import { UnauthenticatedError } from '../../shared/domain/errors.js';
import type { RequestContext } from './auth.guard.js';

/**
 * A request without a valid token is refused once, before execution, with one UNAUTHENTICATED
 * (HTTP 200, as the guard's answer was): the guard (GraphqlAuthGuard) refuses every root field,
 * but it runs and throws once per field, so 2,000 aliases of `me` held the event loop for
 * 0.2-0.6 s to answer 2,000 identical errors. Operations that select only `__typename` or
 * introspection fields are refused too: no guard of ours runs on them, and without a token
 * `{ __schema { types { name } } }` answered the whole schema (200 aliases of it held the loop
 * for 0.9-2.6 s). graphql-ws needs nothing here: a socket without a valid token is refused when
 * it opens.
 */
function refusalOf(error: unknown): UnauthenticatedError {
  return error instanceof UnauthenticatedError ? error : new UnauthenticatedError();
}

export const authenticationPlugin: ApolloServerPlugin<RequestContext> = {
  async requestDidStart() {
    return {
      // Not validated at all: GraphQL's validation of a document of 30,000 tokens (3,700
      // operations of one name) and the 100 errors it raised cost ~60 ms for an answer that is
      // UNAUTHENTICATED anyway, and anyone could ask for it (hostile-input probe).
      async validationDidStart(requestContext) {
        const auth = requestContext.contextValue?.auth;
        if (auth && 'error' in auth) validateStandIn(requestContext, refusalOf(auth.error));
      },
      async didResolveOperation({ contextValue, operation }) {
        const auth = contextValue.auth;
        if (!('error' in auth) || !operation) return;
        throw new RefusedRequest(refusalOf(auth.error), 200);
      },
      // A document that does not parse or validate never reaches didResolveOperation (Apollo
      // answers it first, and no earlier hook may refuse): without a token, `{ acessLog { edges } }`
      // answered "Cannot query field" (with "Did you mean accessLog?" in development) and a bad
      // input its required fields, so an anonymous client could map the schema field by field
      // with introspection off (authz probe p14). The answer is replaced by the refusal.
      async willSendResponse({ contextValue, response }) {
        const auth = contextValue?.auth;
        if (!auth || !('error' in auth) || response.body.kind !== 'single') return;
        const result = response.body.singleResult;
        if (result.data !== undefined && result.data !== null) return;
        const error = refusalOf(auth.error);
        response.body.singleResult = { errors: [{ message: error.message, extensions: domainExtensions(error) }] };
        response.http.status = 200;
      },
    };
  },
};

