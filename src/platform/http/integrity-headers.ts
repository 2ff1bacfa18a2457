import type { IncomingMessage, ServerResponse } from 'node:http';

/** The header naming the first position that fails verification, to a caller with a valid token (also /health, evidence files). */
export const INTEGRITY_POSITION_HEADER = 'x-integrity-broken-position';

/** What the headers need of the integrity monitor (platform/integrity-monitor.ts): in-memory fields only. */
export interface IntegritySource {
  readonly status: string;
  readonly failure: { firstBrokenPosition: string | null; reason: string | null } | null;
}

/**
 * `x-integrity: BROKEN` on every HTTP answer while the event log fails verification, set as the
 * request arrives: so also on an answer refused before GraphQL or a route reads the request (a
 * batched or malformed body, 400), which no later step flags (re-probe of 2026-12-05).
 */
export function integrityHeaderMiddleware(source: IntegritySource) {
  return (_req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (source.status === 'BROKEN') res.setHeader('x-integrity', 'BROKEN');
    next();
  };
}

/**
 * The headers of an answer while the log fails verification: the flag (again, should the log have
 * failed while the request ran) and, to a caller with a valid token (`authenticated`), the first
 * position that fails, as /health gives it. Set by the GraphQL plugin and the documents, which know
 * the caller; none while the log verifies.
 */
export function integrityHeaders(source: IntegritySource | undefined, authenticated: boolean): [string, string][] {
  if (source?.status !== 'BROKEN') return [];
  const position = authenticated ? source.failure?.firstBrokenPosition : null;
  return position ? [['x-integrity', 'BROKEN'], [INTEGRITY_POSITION_HEADER, position]] : [['x-integrity', 'BROKEN']];
}
