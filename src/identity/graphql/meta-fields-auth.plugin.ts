/**
 * Every request carries a bearer token (contract, "Identity"): GraphqlAuthGuard refuses each root
 * field of Query, Mutation and Subscription without one, but the meta-fields `__schema`, `__type`
 * and `__typename` have no resolver of ours, so no guard ran for them: without a token,
 * `{ __schema { types { name } } }` answered the whole schema (and 200 aliases of it held the
 * event loop for 0.9-2.6 s), `{ __typename }` answered `Query`. This plugin refuses, before
 * execution, an operation without a valid token that selects a meta-field at its root (through
 * fragments too): UNAUTHENTICATED with the token's own message, HTTP 200 as every other
 * UNAUTHENTICATED answer of /graphql. Operations without them are left to the guard (each root
 * field UNAUTHENTICATED, as before). graphql-ws needs nothing here: a socket without a valid
 * token is refused when it opens.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type SelectionSetNode } from 'graphql';
import { RefusedRequest } from '../../graphql/edge-limits.js';
import { UnauthenticatedError } from '../../shared/domain/errors.js';
import type { RequestContext } from './auth.guard.js';

/** Whether a selection set selects a field named `__…` at its own level, inline fragments and fragment spreads followed. */
function selectsMetaField(document: DocumentNode, set: SelectionSetNode, seen = new Set<string>()): boolean {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) return true;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selectsMetaField(document, selection.selectionSet, seen)) return true;
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION && selectsMetaField(document, fragment.selectionSet, seen)) return true;
    }
  }
  return false;
}

export const metaFieldsNeedTokenPlugin: ApolloServerPlugin<RequestContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue, document, operation }) {
        const auth = contextValue.auth;
        if (!operation || !auth || !('error' in auth)) return;
        if (!selectsMetaField(document, operation.selectionSet)) return;
        const refused = new RefusedRequest(auth.error instanceof UnauthenticatedError ? auth.error : new UnauthenticatedError());
        refused.extensions.http = { status: 200 };
        throw refused;
      },
    };
  },
};
