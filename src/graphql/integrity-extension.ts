import type { ApolloServerPlugin } from '@apollo/server';

/** What an answer needs of the integrity monitor (platform/integrity-monitor.ts): in-memory fields only. */
export interface IntegritySource {
  readonly status: string;
  readonly failure: { firstBrokenPosition: string | null; reason: string | null } | null;
}

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

/** The answers over HTTP (Apollo's plugin), with the `x-integrity` headers the documents carry; graphql-options.ts adds the extension to graphql-ws's. */
export function integrityPlugin(source: IntegritySource | undefined): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const auth = (contextValue as { auth?: object } | undefined)?.auth;
          const integrity = integrityExtension(source, auth !== undefined && !('error' in auth));
          if (!integrity) return;
          response.http.headers.set('x-integrity', 'BROKEN');
          if (integrity.firstBrokenPosition) response.http.headers.set('x-integrity-broken-position', String(integrity.firstBrokenPosition));
          if (response.body.kind === 'single') response.body.singleResult.extensions = { ...response.body.singleResult.extensions, integrity };
        },
      };
    },
  };
}
