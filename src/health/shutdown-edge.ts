import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ShutdownState } from './shutdown-state.js';

/** What a client refused at shutdown is told to wait before sending the request again (to this instance once back, or another). */
export const SHUTDOWN_RETRY_AFTER_SECONDS = 5;

/**
 * The HTTP edge's part in a graceful shutdown (server.ts's stop()), second in the chain after the
 * request's id and log line, and again right after the body parser:
 * - from the signal on, every answer closes its connection (`Connection: close`): its client sends
 *   nothing more on it;
 * - once the requests in flight have finished, a request that still arrives on a connection opened
 *   before is answered 503 `SERVER_SHUTTING_DOWN` (with Retry-After) and not run. Node's
 *   closeIdleConnections() leaves open a connection whose request is still on its way (headers
 *   partly received); that request then ran while the subscriptions were being closed: its client
 *   was told "ok" and no subscription received the event (2 acknowledged registrations missing in
 *   a CI run on 2026-12-02; test/e2e/shutdown-subscriptions.e2e.spec.ts). The answer says it was
 *   not run: sending it again (with the same commandId) records it once. GET /health/live still
 *   answers 200.
 * A request runs once its body is in, not when its headers arrive: one whose body was still on
 * its way when the drain gave up (a client stalled mid-body holds it the whole DRAIN_MS) ran when
 * the body completed, after the server had closed to requests (6 registrations answered 200 and
 * recorded 8.7 s after the signal, probe F4). Hence the second mount after the body parser, and
 * refuseWhenClosed() where a handler reads its own body (POST /evidence):
 * test/e2e/shutdown-late-body.e2e.spec.ts.
 */
export function shutdownEdge(state: ShutdownState): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    if (!state.shuttingDown) return next();
    res.setHeader('connection', 'close');
    // Liveness answers 200 while shutting down (the process answers); it reads and runs nothing.
    if (req.method === 'GET' && pathOf(req) === '/health/live') return next();
    if (!refuseWhenClosed(state, req, res)) next();
  };
}

/**
 * Once the server is closed to requests: answers 503 `SERVER_SHUTTING_DOWN` in the endpoint's
 * error shape (GraphQL's on /graphql, `{ error: { code, message } }` elsewhere) and returns true;
 * the caller then runs nothing. False (nothing written) while requests may still run.
 */
export function refuseWhenClosed(state: ShutdownState, req: IncomingMessage, res: ServerResponse): boolean {
  if (!state.closedToRequests) return false;
  const message = `The server is shutting down: this request was not run. Send it again in ${SHUTDOWN_RETRY_AFTER_SECONDS} s (to this server once it is back, or to another one)`;
  const body = JSON.stringify(
    pathOf(req) === '/graphql'
      ? { errors: [{ message, extensions: { code: 'SERVER_SHUTTING_DOWN', retryAfterSeconds: SHUTDOWN_RETRY_AFTER_SECONDS } }] }
      : { error: { code: 'SERVER_SHUTTING_DOWN', message } },
  );
  // The connection closes after the answer: a body not read (an upload, a large mutation) is not awaited.
  res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'retry-after': String(SHUTDOWN_RETRY_AFTER_SECONDS), connection: 'close' });
  res.end(body);
  return true;
}

/** The path asked for (Express rewrites req.url inside a mounted router; originalUrl keeps it). */
function pathOf(req: IncomingMessage): string {
  return ((req as { originalUrl?: string }).originalUrl ?? req.url ?? '/').split('?')[0]!;
}
