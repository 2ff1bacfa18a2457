import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestIdFrom } from '../../shared/logging/request-id.js';
import type { JsonLogger } from '../../shared/logging/json-logger.js';
import type { Metrics } from './metrics.js';

/** What later layers learn about a request (the GraphQL plugin: who, which operation) for its log line. */
interface RequestNotes {
  actorId?: string;
  operation?: string;
}
const notes = new WeakMap<object, RequestNotes>();

export function noteRequest(req: object, fields: RequestNotes): void {
  notes.set(req, { ...notes.get(req), ...fields });
}

/** Probes and scrapes: logged at debug only, so that a poll every few seconds is not the log. */
const QUIET_PATHS = new Set(['/metrics', '/health', '/health/live', '/health/ready']);
/** Paths served by middleware rather than a Nest route (no `req.route`): their own label. */
const KNOWN_PATHS = new Set(['/graphql', ...QUIET_PATHS]);

type Req = IncomingMessage & { originalUrl?: string; baseUrl?: string; route?: { path?: unknown } };

function pathOf(req: Req): string {
  return (req.originalUrl ?? req.url ?? '').split('?')[0]!;
}

/** The route, never the raw path: ids in paths and unknown URLs would make a label per request. */
/** The status logged for a request whose client went away before the answer was sent (nginx's). */
const CLIENT_CLOSED_REQUEST = 499;

/** How a request's line is logged. 503 is this server shedding load on purpose (SERVER_BUSY, DOCUMENTS_BUSY) or refusing a request at shutdown (SERVER_SHUTTING_DOWN): a warning, not a failure. */
function outcomeOf(status: number): { level: 'info' | 'warn' | 'error'; message: string } {
  if (status === CLIENT_CLOSED_REQUEST) return { level: 'warn', message: 'request abandoned by the client' };
  if (status === 503) return { level: 'warn', message: 'request refused: busy or shutting down' };
  if (status >= 500) return { level: 'error', message: 'request failed' };
  return { level: 'info', message: 'request completed' };
}

function routeOf(req: Req): string {
  const path = req.route?.path;
  // Apollo's router is mounted at /graphql and declares /graphql itself: one /graphql, not two.
  if (typeof path === 'string') return (req.baseUrl && path.startsWith(req.baseUrl) ? path : `${req.baseUrl ?? ''}${path}`) || '/';
  const raw = pathOf(req);
  return KNOWN_PATHS.has(raw) ? raw : 'unmatched';
}

export interface HttpObservability {
  /** Express middleware: request id, one log line per request, the HTTP duration metric. */
  middleware(req: IncomingMessage, res: ServerResponse, next: () => void): void;
  /** Resolves once no request is in flight (graceful shutdown). */
  drained(): Promise<void>;
  /** The requests in flight now (received headers, answer not yet sent or abandoned). */
  inFlight(): number;
}

/**
 * The HTTP edge, first in the chain: each request gets its id (a sane `x-request-id` from the
 * client, else a new one; echoed in the response), which becomes the correlationId of the events
 * it causes (see request-id.ts); one JSON line per request is written when it ends (method,
 * route, status, duration, request id, actor id when known; no headers, so no token); and its
 * duration is observed by route and status.
 *
 * The line is pino-http's (`requestId` bound, `request completed` or, from 500 on, `request
 * failed`), written here with one call to the pino logger: pino-http made two child loggers per
 * request (one binding the request, serialised for nothing), a cost the e2e profile showed.
 */
export function httpObservability(metrics: Metrics, logger: JsonLogger): HttpObservability {
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  const log = logger.pinoChild('http');
  const line = (req: Req, res: ServerResponse, requestId: string, durationMs: number, status: number) => {
    const known = notes.get(req);
    return {
      requestId,
      method: req.method,
      route: routeOf(req),
      status,
      durationMs,
      ...(known?.operation ? { operation: known.operation } : {}),
      ...(known?.actorId ? { actorId: known.actorId } : {}),
    };
  };
  return {
    middleware(req, res, next) {
      const started = process.hrtime.bigint();
      const startedMs = Date.now();
      const requestId = requestIdFrom(req.headers);
      (req as { id?: string }).id = requestId;
      res.setHeader('x-request-id', requestId);
      inFlight++;
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        inFlight--;
        // An answer never sent in full (the client went away first) is 499, as proxies log it: not
        // the status the handler had set (an aborted upload was logged 201).
        const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED_REQUEST;
        metrics.httpRequest({ method: req.method ?? 'GET', route: routeOf(req as Req), status, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
        const outcome = outcomeOf(status);
        const level = QUIET_PATHS.has(pathOf(req as Req)) ? 'debug' : outcome.level;
        if (log.isLevelEnabled(level)) log[level](line(req as Req, res, requestId, Date.now() - startedMs, status), outcome.message);
        if (inFlight === 0) for (const wake of waiters.splice(0)) wake();
      };
      res.once('finish', end);
      res.once('close', end);
      next();
    },
    drained() {
      return inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve));
    },
    inFlight() {
      return inFlight;
    },
  };
}
