/**
 * Records every request under /documents/ and /evidence/ in the access log (Art. 23(2)): the
 * documents and evidence files leave the system there, outside GraphQL. One entry per request,
 * allowed or not, written when the answer has been sent: the actor (from the bearer token, or
 * null), `GET /documents/controls.md` as the operation name, operation type `http`, the target
 * ids (as for GraphQL, access-log.plugin.ts: first what the request created, the resource its
 * answer's Location names, such as the evidence file an upload stored; then the ids the request
 * names: `?riskId=`, `/evidence/{id}`, `/documents/plans/{id}.md`), the outcome from the
 * status (2xx/3xx ALLOWED; 401, 403 DENIED; anything else FAILED, with the status's code) and
 * the correlation id. Never the token, never the query string's other values.
 *
 * A Nest middleware bound in AuditModule to both prefixes, so that every controller under them,
 * present or future, is covered without logging code of its own.
 *
 * One route per prefix, and one entry per request whatever matches it: the middleware was bound to
 * 'evidence' and 'evidence/{*path}', and Express, not strict about a trailing slash, ran it for
 * both on `POST /evidence/` (and `/documents/`, `/EVIDENCE/`...): two entries for one request
 * (insider probe p16). Nest runs a middleware once per request only among the paths of one route,
 * not across the routes given to forRoutes(); so the routes do not overlap, and the middleware
 * itself records a request it has already seen no second time.
 */
import { requestIdOf } from '../../shared/logging/request-id.js';
import { answerIdOfRequest } from '../../shared/application/answer-notes.js';
import { takeCommitted } from '../../shared/application/committed-writes.js';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { domainExtensions, httpStatusOf } from '../../graphql/error-format.js';
import type { DomainActor } from '../../shared/domain/decider.js';
import { TokenVerifier } from '../../identity/token-verifier.js';
import { ACCESS_LOG, type AccessLog } from '../application/access-log.js';
import type { AccessRecord } from '../application/access-log-chain.js';
import { isIdArgument, refusedAtCap } from './access-log.plugin.js';
import { UnauthenticatedError } from '../../shared/domain/errors.js';

/**
 * The routes it is bound to (path-to-regexp 8 syntax, as Nest 12 takes them): one per prefix,
 * matching the prefix itself, with or without a trailing slash, and everything under it.
 */
export const LOGGED_DOWNLOAD_ROUTES = ['documents{/*path}', 'evidence{/*path}'];

const ID = /^[A-Za-z0-9._:@-]{1,128}$/;

const STATUS_CODES: Record<number, string> = {
  400: 'BAD_USER_INPUT',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

/** ALLOWED for 2xx/3xx; DENIED for 401/403; FAILED otherwise (or when the answer was never completed). */
export function httpOutcome(status: number, completed: boolean): Pick<AccessRecord, 'outcome' | 'errorCode'> {
  if (!completed) return { outcome: 'FAILED', errorCode: 'ABORTED' };
  if (status < 400) return { outcome: 'ALLOWED', errorCode: null };
  const code = STATUS_CODES[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : `HTTP_${status}`);
  return { outcome: status === 401 || status === 403 ? 'DENIED' : 'FAILED', errorCode: code };
}

/** The ids a download names: in its path (`/evidence/{id}`, `/documents/<kind>/{id}.<ext>`) and id-like query parameters. */
export function downloadTargets(path: string, query: Record<string, unknown>): string[] {
  const ids = new Set<string>();
  const segments = path.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (segments[0] === 'evidence' && segments.length >= 2) ids.add(segments[1]!);
  if (segments[0] === 'documents' && segments.length >= 3) ids.add(segments[segments.length - 1]!.replace(/\.[A-Za-z0-9]+$/, ''));
  for (const [name, value] of Object.entries(query)) {
    if (!isIdArgument(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string' && v !== '') ids.add(v);
  }
  return [...ids].filter((id) => ID.test(id)).slice(0, 50);
}

interface HttpRequest {
  method: string;
  originalUrl?: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}
/** The ids of an HTTP entry: the resource a successful answer's Location names (what the request created), then the request's own. */
export function httpTargets(path: string, query: Record<string, unknown>, status: number, location: unknown): string[] {
  const named = downloadTargets(path, query);
  if (status < 200 || status >= 300 || typeof location !== 'string') return named;
  let created: string[];
  try {
    created = downloadTargets(new URL(location, 'http://local').pathname, {});
  } catch {
    return named;
  }
  return [...new Set([...created, ...named])].slice(0, 50);
}

interface HttpResponse {
  statusCode: number;
  writableFinished: boolean;
  getHeader?(name: string): unknown;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
  once(event: 'close', listener: () => void): unknown;
}

@Injectable()
export class DownloadAccessLogMiddleware implements NestMiddleware<HttpRequest, HttpResponse> {
  /** The requests already being logged: a request that reaches the middleware again (another binding) is not logged twice. */
  private readonly seen = new WeakSet<HttpRequest>();

  constructor(@Inject(ACCESS_LOG) private readonly log: AccessLog, private readonly verifier: TokenVerifier) {}

  use(req: HttpRequest, res: HttpResponse, next: (error?: unknown) => void): void {
    if (this.seen.has(req)) return next();
    this.seen.add(req);
    const url = new URL(req.originalUrl ?? req.url, 'http://local');
    const header = req.headers.authorization;
    const authorization = Array.isArray(header) ? header[0] : header;
    // Who it is, found while the request runs: an invalid or absent token is an actor of null.
    // A revoked token's subject is kept (UnauthenticatedError.claimedActor): what a person cut off tried is theirs.
    const actor: Promise<DomainActor | null> = authorization
      ? this.verifier.verifyAuthorization(authorization).catch((error: unknown) => (error instanceof UnauthenticatedError ? (error.claimedActor ?? null) : null))
      : Promise.resolve(null);
    // The request's id (x-request-id, else x-correlation-id, else new: see request-id.ts).
    const correlationId = requestIdOf(req);
    const query: Record<string, unknown> = {};
    for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key);
    res.once('close', () => {
      const completed = res.writableFinished;
      const status = res.statusCode;
      const location = res.getHeader?.('location');
      void actor.then((a) => {
        try {
          this.log.record({
            at: new Date().toISOString(),
            actorId: a?.id ?? null,
            actorName: a?.name ?? null,
            actorRoles: a ? [...a.roles] : null,
            operationName: `${req.method} ${url.pathname}`.slice(0, 200),
            operationType: 'http',
            fields: [],
            targetIds: httpTargets(url.pathname, query, status, location),
            ...httpOutcome(status, completed),
            correlationId,
            committed: takeCommitted(answerIdOfRequest(req)) ?? null,
          });
        } catch {
          // never let the audit trail break a download
        }
      });
    });
    // Its entry could not be queued (the queue is at its cap): refused before it runs, as documents and evidence refuse (access-log-backlog.ts).
    const full = refusedAtCap(this.log);
    if (!full) return next();
    res.statusCode = httpStatusOf(full.refusal);
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ error: { message: full.refusal.message, ...domainExtensions(full.refusal) } }));
  }
}
