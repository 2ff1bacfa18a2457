import type { ApolloServerPlugin } from '@apollo/server';
import { integrityHeaders, type IntegritySource } from '../platform/http/integrity-headers.js';

export type { IntegritySource } from '../platform/http/integrity-headers.js';

/**
 * `extensions.integrity` of every GraphQL answer while the event log fails verification (auditor
 * probe F4: the present and the past of one forged record disagreed in one answer with no flag,
 * while the documents carried a warning, documents.controller.ts). Undefined while the log
 * verifies. The position and the reason are details, as on /health: for a caller
 * with a valid token only (`authenticated`; re-probe F1: an answer refusing no token named them).
 */
export function integrityExtension(source: IntegritySource | undefined, authenticated = true): Record<string, unknown> | undefined {
  if (source?.status !== 'BROKEN') return undefined;
  if (!authenticated) return { status: 'BROKEN', message: 'The event log fails verification: every write is refused (INTEGRITY_BROKEN). See /health, with a valid token for the details.' };
  const failure = source.failure;
  const position = failure?.firstBrokenPosition ?? null;
  return {
    status: 'BROKEN',
    firstBrokenPosition: position,
    reason: failure?.reason ?? null,
    message: `The event log fails verification at position ${position ?? '?'} (${failure?.reason ?? 'unknown reason'}): what this answer shows from there on, now or as of a past point, may be forged; every write is refused (INTEGRITY_BROKEN). See /health and verifyIntegrity.`,
  };
}

/**
 * The answers over HTTP (Apollo's plugin): the extension, and to a caller with a valid token the
 * position header (every answer has `x-integrity` already: integrity-headers.ts); graphql-options.ts
 * adds the extension to graphql-ws's.
 */
export function integrityPlugin(source: IntegritySource | undefined): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const auth = (contextValue as { auth?: object } | undefined)?.auth;
          const authenticated = auth !== undefined && !('error' in auth);
          const integrity = integrityExtension(source, authenticated);
          if (!integrity) return;
          for (const [name, value] of integrityHeaders(source, authenticated)) response.http.headers.set(name, value);
          if (response.body.kind === 'single') response.body.singleResult.extensions = { ...response.body.singleResult.extensions, integrity };
        },
      };
    },
  };
}
