import type { ApolloServerPlugin } from '@apollo/server';
import { RefusedRequest } from '../../graphql/edge-limits.js';
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
export const authenticationPlugin: ApolloServerPlugin<RequestContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue, operation }) {
        const auth = contextValue.auth;
        if (!('error' in auth) || !operation) return;
        throw new RefusedRequest(auth.error instanceof UnauthenticatedError ? auth.error : new UnauthenticatedError(), 200);
      },
    };
  },
};

