/**
 * The server: the Nest application with its HTTP and WebSocket edge (createApp), its start and its
 * graceful stop. The process starts in main.ts, which loads this module once it can answer a signal.
 */
import 'reflect-metadata';
import { resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import helmet from 'helmet';
import { APP_CONFIG, ConfigError, loadConfig, type AppConfig } from './config/app-config.js';
import { misspelledSettings } from './config/settings.js';
import { JSON_BODY_LIMIT, refuseCostlyJson, requestBodyErrors } from './platform/observability/request-body-errors.js';
import { answerUnparsableRequests } from './platform/observability/unparsable-requests.js';
import { integrityHeaderMiddleware, integrityHeaders } from './platform/http/integrity-headers.js';
import { httpObservability, type HttpObservability } from './platform/observability/http-observability.js';
import { Metrics } from './platform/observability/metrics.js';
import { TokenVerifier } from './identity/token-verifier.js';
import { refuseUnauthenticatedLargeBodies } from './identity/http/unauthenticated-bodies.js';
import { unreadRequestRecorder } from './audit/graphql/access-log.plugin.js';
import { ACCESS_LOG } from './audit/application/access-log-port.js';
import type { AccessLog } from './audit/application/access-log.js';
import { ShutdownState } from './health/shutdown-state.js';
import { shutdownEdge } from './health/shutdown-edge.js';
import { LiveEvents } from './shared/application/live-events.js';
import { rootLogger } from './shared/logging/json-logger.js';
import { DataDirLockedError } from './platform/data-dir-lock.js';
import { AccessLogRefusedError, AccessLogSchemaError } from './audit/application/access-log.js';
import { EventStoreSchemaError } from './event-store/errors.js';
import { EventStoreConfigError } from './event-store/create-event-store.js';
import { isTransientStorageError } from './shared/application/transient-errors.js';
import { AwaitingInit, hardenSocket, type WsSocket } from './graphql/ws-hardening.js';

/** The HTTP edge of each application built here (request ids, the request log, in-flight requests). */
const edges = new WeakMap<INestApplication, HttpObservability>();

/**
 * Builds the Nest application (used by main and by the end-to-end tests). Nest logs through our
 * pino logger. Signals are main's (gracefulShutdown), not Nest's shutdown hooks, which end the
 * process by re-sending the signal (exit 143).
 */
export async function createApp(): Promise<INestApplication> {
  // Loaded here, not at the top: a configuration error is reported before the whole application loads.
  const { AppModule } = await import('./app.module.js');
  const { IntegrityMonitor } = await import('./platform/integrity-monitor.js');
  // abortOnError off: a provider failing at start is thrown to the caller (main reports it in one
  // line, exit 1) instead of Nest's ExceptionHandler logging it with its stack trace and exiting.
  // That handler logs before it throws, and so does listen() before it rejects (a port taken): their
  // lines are left out here, since the caller reports the same error.
  const nestLogger = Object.create(rootLogger) as typeof rootLogger;
  nestLogger.error = (message: unknown, ...rest: unknown[]) => {
    const reportedByCaller = rest.includes('ExceptionHandler') || (rest.includes('NestApplication') && String(message).startsWith('Error: listen '));
    if (!reportedByCaller) rootLogger.error(message, ...rest);
  };
  // bodyParser off: Nest's defaults are a JSON parser (ours, with its limits, is added below) and a
  // urlencoded one, which no endpoint takes (GraphQL and the REST routes read JSON or the raw body).
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: nestLogger, bufferLogs: false, abortOnError: false, bodyParser: false });
  // First: every request gets its id and its log line, whatever answers it.
  const edge = httpObservability(app.get(Metrics), rootLogger);
  edges.set(app, edge);
  app.use(edge.middleware);
  // While shutting down, every answer closes its connection; once the requests in flight are done, none runs.
  const shutdown = shutdownEdge(app.get(ShutdownState));
  app.use(shutdown);
  useSecurityHeaders(app);
  // While the log fails verification, every answer says so, refusals before any route included.
  const integrity = app.get(IntegrityMonitor);
  app.use(integrityHeaderMiddleware(integrity));
  // A large GraphQL body is read only with a valid token; refused unread, it is recorded in the access log.
  app.use('/graphql', refuseUnauthenticatedLargeBodies(app.get(TokenVerifier), unreadRequestRecorder(app.get<AccessLog>(ACCESS_LOG))));
  // Express's default of 100 kB is below a legitimate catalogue import (500 requirements).
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT, verify: refuseCostlyJson });
  // Its refusals answered in each endpoint's own error shape.
  app.use(requestBodyErrors);
  // Again once the body is in (GraphQL, and any route sent a JSON body): a request whose body was
  // still arriving when the server closed to requests is refused here, not run (shutdown-edge.ts).
  app.use(shutdown);
  // GraphQL (and its WebSocket server) starts here, so that graphql-ws's frames can be bounded.
  await app.init();
  hardenWebSocketServer(app);
  answerUnparsableRequests(app.getHttpServer() as Server, rootLogger, () => integrityHeaders(integrity, false));
  answerHalfClosedClients(app.getHttpServer() as Server);
  return app;
}

/**
 * A client that half-closes its side once its request is sent (`nc -N`, some HTTP/1.0 clients:
 * shutdown(SHUT_WR)) is answered. Node's default (`httpAllowHalfOpen` false) ends the socket at
 * the client's FIN, whatever is in flight: an answer not written by then was lost, and the request
 * it belonged to destroyed. A complete evidence upload, still being hashed and stored, got zero
 * bytes back and was not stored (logged 499, probe 8b), while a quick /graphql answer slipped out
 * first. With it on, Node answers the requests received and then closes (its `_last`); a body cut
 * short by the FIN is still a parser error (400, unparsable-requests.ts) and the upload dropped.
 * The property is Node's, undocumented: a release that drops it fails start-up here.
 */
function answerHalfClosedClients(server: Server): void {
  const node = server as Server & { httpAllowHalfOpen?: boolean };
  if (typeof node.httpAllowHalfOpen !== 'boolean') throw new Error('node:http: the server has no httpAllowHalfOpen flag to answer half-closed clients with');
  node.httpAllowHalfOpen = true;
}

/** The largest graphql-ws message read (ws closes the socket with 1009 past it; large inputs go over HTTP). */
export const WS_MAX_FRAME_BYTES = 1024 * 1024;

/**
 * The WebSocket side of the edge: bounded frames, stray upgrades closed, socket errors logged.
 * ws reads frames of up to 100 MiB by default, and graphql-ws parses each message whole, before any
 * token is checked: a 20 MB connection_init held the event loop for seconds. 1 MiB takes any
 * document the parser's token limit lets through. @nestjs/graphql creates the WebSocketServer
 * without a way to pass ws options, so its `maxPayload` (read at each upgrade) is set on the
 * instance; a dependency upgrade that moves it fails start-up loudly here.
 */
function hardenWebSocketServer(app: INestApplication): void {
  type Socket = WsSocket & { removeAllListeners(event: 'error' | 'message'): void; on(event: 'error', listener: (error: Error) => void): void };
  type WsServer = { options?: { maxPayload?: number; verifyClient?: AwaitingInit['verifyClient'] }; on(event: 'connection', listener: (socket: Socket, request: IncomingMessage) => void): void };
  const adapter = (app.get(GraphQLModule, { strict: false }) as unknown as { graphQlAdapter?: { _subscriptionService?: { wss?: WsServer } } }).graphQlAdapter;
  const wss = adapter?._subscriptionService?.wss;
  if (!wss?.options) throw new Error('graphql-ws: the WebSocket server of @nestjs/graphql was not found, so its frame size cannot be bounded');
  wss.options.maxPayload = WS_MAX_FRAME_BYTES;
  // Sockets awaiting connection_init, per remote address (read at each upgrade, as maxPayload).
  const awaiting = new AwaitingInit();
  wss.options.verifyClient = awaiting.verifyClient;
  // Only /graphql upgrades to a WebSocket. @nestjs/graphql ignores an upgrade asked on any other
  // path, and Node then neither answers nor closes it: a client without a token left a socket in
  // CLOSE-WAIT per request until the process ran out of file descriptors. Those are answered here.
  (app.getHttpServer() as Server).on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    if ((req.url ?? '').startsWith('/graphql')) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => socket.destroy());
  });
  // graphql-ws reports a socket's error (an oversized frame among them: ws has closed that socket
  // with 1009 already) with console.error; this process logs in JSON lines, at warn: a client's doing.
  wss.on('connection', (socket, request) => {
    // Unsent data capped, server-only messages refused, connection_init awaited (ws-hardening.ts).
    hardenSocket(socket, awaiting, request);
    socket.removeAllListeners('error');
    socket.on('error', (error) => {
      rootLogger.warn('graphql-ws: a socket failed and was closed', { error: error.message });
      if (socket.readyState === 1) socket.close(1011, 'Internal server error');
    });
  });
}

/** How long in-flight requests may take to finish once a stop is asked for, and the whole stop. */
const DRAIN_MS = 8_000;
const STOP_MS = 9_500;
/**
 * The open subscriptions receive what the last requests committed for what is left of STOP_MS
 * once CLOSE_MS is kept for closing the application, and at least LIVE_DRAIN_MS.
 */
const LIVE_DRAIN_MS = 1_000;
const CLOSE_MS = 1_500;
/**
 * How long the stop waits for the requests it cut to end (they end in a few turns of the loop),
 * leaving at least CLOSE_AFTER_CUT_MS of STOP_MS for closing the application (an idle server's
 * whole stop took 74 ms).
 */
const CUT_REQUESTS_MS = 250;
const CLOSE_AFTER_CUT_MS = 500;

/** Resolves once no request is in flight, or after `ms`: the drain, and the wait for the requests the stop cut. */
async function inFlightEnded(edge: HttpObservability | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([edge?.drained(), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * SIGTERM or SIGINT: stop accepting connections, let the requests in flight finish (up to
 * DRAIN_MS), close the application (subscriptions, projections, reactions, integrity monitor,
 * store, local files, in that order: PlatformModule), log, exit 0. Within Docker's 10 s stop
 * timeout; past STOP_MS it exits 1 (the log is crash-safe; the read models rebuild what they lack).
 */
function gracefulShutdown(app: INestApplication): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    rootLogger.info('shutting down: no new connections; finishing the requests in flight', { signal });
    setTimeout(() => {
      rootLogger.error('shutdown did not finish in time: exiting', { signal, afterMs: STOP_MS });
      process.exit(1);
    }, STOP_MS).unref();
    try {
      // Readiness answers 503 from now on (connections still open may ask while the rest drains).
      app.get(ShutdownState).begin();
      const server = app.getHttpServer() as Server;
      // No new connection from now on. Node's close() would also end every idle keep-alive
      // connection at once: a client sending its next request on one at that moment saw its
      // connection reset, not knowing whether the request ran. They stay open while the requests in
      // flight finish; a request arriving on one meanwhile is answered (with Connection: close).
      const closeIdle = server.closeIdleConnections.bind(server);
      server.closeIdleConnections = () => undefined;
      server.close();
      const edge = edges.get(app);
      await inFlightEnded(edge, DRAIN_MS);
      // From here no request runs (a late one on a connection still open is refused, 503): what the
      // subscriptions are handed below is all that was acknowledged. In the same turn as the drain's
      // end, so nothing arrives between the two.
      app.get(ShutdownState).closeToRequests();
      // Requests still in flight here are the ones the drain gave up on (DRAIN_MS): a slow client
      // stalled mid-body holds it the whole 8 s. One still receiving its body is refused once the
      // body is in (shutdown-edge.ts); one already running goes on.
      const unfinished = edge?.inFlight() ?? 0;
      if (unfinished > 0) rootLogger.warn('closed to requests: the requests in flight did not all finish in time', { inFlight: unfinished, afterMs: Date.now() - started });
      else rootLogger.info('closed to requests: the requests in flight have finished', { afterMs: Date.now() - started });
      closeIdle();
      // What the finished requests committed reaches the open subscriptions, then their sockets
      // close (graphql-ws writes each woken delivery in the turns that follow).
      await app.get(LiveEvents).drain(Math.max(LIVE_DRAIN_MS, STOP_MS - CLOSE_MS - (Date.now() - started))).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Connections still busy now carry what the drain gave up on, such as a download whose
      // client stopped reading: ended, or closing the server waits for them past STOP_MS (exit 1;
      // re-probe 9: one half-closed, unread download made every stop 9.5 s).
      server.closeAllConnections();
      // The requests just cut end in the turns that follow (their answers' 'close'), and each writes
      // its access-log entry then (an upload stalled mid-body: FAILED, ABORTED): the access log
      // closes with the application, so it waits for them (bounded; README probe M2: the entry
      // was lost, "access log closed: entry not recorded"), and a turn more for their listeners.
      await inFlightEnded(edge, Math.max(0, Math.min(CUT_REQUESTS_MS, STOP_MS - CLOSE_AFTER_CUT_MS - (Date.now() - started))));
      await new Promise((resolve) => setImmediate(resolve));
      await app.close();
      rootLogger.info('shut down', { signal, ms: Date.now() - started });
      process.exit(0);
    } catch (error) {
      rootLogger.error('shutdown failed', error);
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/**
 * Helmet's headers on every answer, and no X-Powered-By. Its Content-Security-Policy too, except on
 * Apollo's landing page (a GET of /graphql asking for HTML), which loads its scripts from Apollo's
 * CDN under a nonce and carries its own policy in a meta tag.
 *
 * Helmet decides every value when it is configured (these options use no per-request function),
 * so its middlewares are run once here on a recording answer and their headers set by one
 * middleware: the same headers, without Helmet's thirteen calls a request (~5 µs of the main
 * thread per request under load). A Helmet that one day touched an answer otherwise than by
 * setHeader or removeHeader fails start-up here.
 */
function useSecurityHeaders(app: NestExpressApplication): void {
  app.disable('x-powered-by');
  const common = headersSetBy(helmet({ contentSecurityPolicy: false }));
  const csp = headersSetBy(helmet.contentSecurityPolicy());
  app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    for (const [name, value] of common) res.setHeader(name, value);
    const landingPage = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html') && (req.url ?? '').split('?')[0] === '/graphql';
    if (!landingPage) for (const [name, value] of csp) res.setHeader(name, value);
    next();
  });
}

/** The headers a middleware sets on an answer, in order (it must set them at once and call next). */
function headersSetBy(middleware: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void): [string, string][] {
  const headers: [string, string][] = [];
  let nextCalled = false;
  const recorder = {
    setHeader: (name: string, value: unknown) => void headers.push([name, String(value)]),
    // Helmet's one removeHeader is X-Powered-By's, which Express no longer sets (disabled above).
    removeHeader: () => undefined,
  };
  middleware({ method: 'GET', url: '/', headers: {} } as IncomingMessage, recorder as unknown as ServerResponse, (error) => {
    if (error) throw error;
    nextCalled = true;
  });
  if (!nextCalled || headers.length === 0) throw new Error('security headers: Helmet did not set its headers at once');
  return headers;
}

/**
 * The server as the process: called by the entry (main.ts) once this module has loaded, with the
 * function that removes the entry's own handlers of SIGTERM and SIGINT.
 */
export function runServer(releaseEntryStop: () => void): void {
  logProcessWarnings();
  main(releaseEntryStop).catch((error) => {
    reportStartFailure(error);
    process.exit(1);
  });
}

async function main(releaseEntryStop: () => void): Promise<void> {
  // A stop asked for while starting (a slow catch-up, a database not answering yet): nothing is in
  // flight to finish; exit at once, logged, releasing the locks ('exit' handlers), where the
  // signal's default action ended the process silently and left its lock files behind.
  const stopDuringStart = (signal: NodeJS.Signals) => {
    rootLogger.info('shut down during start-up', { signal });
    process.exit(0);
  };
  process.once('SIGTERM', stopDuringStart);
  process.once('SIGINT', stopDuringStart);
  // Each hand-over of the signals installs the next handlers before it removes the last ones, in one
  // turn: removing a signal's last listener gives the signal back its default action (the process
  // ends, exit 143, no line) even for an instant; and a signal is dispatched to the listeners of its
  // turn, so never to two stages at once.
  releaseEntryStop();
  // The configuration first: a wrong setting is one line naming it, before anything starts.
  try {
    loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportStartFailure(error);
    process.exitCode = 1;
    return;
  }
  for (const { variable, setting } of misspelledSettings(process.env)) rootLogger.warn(`${variable} is not a setting and is ignored: did you mean ${setting}?`, { variable, setting });
  const app = await createApp();
  // The graceful stop's handlers before stopDuringStart's go (the same hand-over as above).
  gracefulShutdown(app);
  process.off('SIGTERM', stopDuringStart);
  process.off('SIGINT', stopDuringStart);
  const config = app.get<AppConfig>(APP_CONFIG);
  await app.listen(config.port);
  const address = app.getHttpServer().address() as { port: number } | null;
  const url = `http://localhost:${address?.port ?? config.port}/graphql`;
  rootLogger.info('Risk Ledger is serving', { url, eventStore: config.eventStore, sqlitePath: config.eventStore === 'sqlite' ? config.sqlitePath : undefined });
  const verifier = app.get(TokenVerifier);
  if (verifier.devSecretFile) {
    rootLogger.info('development mode: tokens are signed with a generated secret kept in the data folder', {
      secretFile: verifier.devSecretFile,
      // The token command finds the secret through the same settings: name the folder when it is not the default.
      getAToken: `${config.dataDir === resolve('./data') ? '' : `DATA_DIR=${config.dataDir} `}npm run -s token -- --sub alice --name Alice --roles ASSET_MANAGER --department ops`,
    });
  }
}

/** Refusals by which the server protects its data at start: the message says what to do. */
const START_REFUSALS = [DataDirLockedError, AccessLogRefusedError, AccessLogSchemaError, EventStoreSchemaError, EventStoreConfigError];

/**
 * One line for a start that did not happen. A wrong setting, a refusal and the environment (a
 * database not answering, a port taken, a folder not writable: errors of a system call or of
 * PostgreSQL) are the operator's to mend and need no stack trace; anything else is a fault of
 * ours, logged with its stack.
 */
export function reportStartFailure(error: unknown, log = rootLogger): void {
  // Said even with LOG_LEVEL=silent: the process then ends with no other word (exit 1 and nothing).
  if (process.env.LOG_LEVEL === 'silent') process.env.LOG_LEVEL = 'error';
  if (error instanceof ConfigError) return log.error(`configuration error: ${error.message}`, error.setting ? { setting: error.setting } : {});
  if (START_REFUSALS.some((refusal) => error instanceof refusal)) return log.error(`start-up refused: ${(error as Error).message}`, { error: (error as Error).name });
  const { code, syscall, severity } = (error ?? {}) as NodeJS.ErrnoException & { severity?: unknown };
  const environment = typeof code === 'string' && (syscall !== undefined || severity !== undefined || code.startsWith('SQLITE_'));
  if (error instanceof Error && (environment || isTransientStorageError(error) || secureConnectionFailed(error))) {
    return log.error(`start-up failed: ${error.message}`, { ...(code ? { code } : {}), ...(syscall ? { syscall } : {}) });
  }
  log.error('start-up failed', error);
}

/**
 * The database's secure connection could not be set up: SSL asked (sslmode=require) of a server
 * without it, in pg's own words (no code), or a certificate refused (OpenSSL's verify codes, Node's
 * ERR_TLS_ and ERR_SSL_ codes). A setting or the database's certificate to mend, not a fault of
 * ours (operations probe 10-c L9: logged with a stack, and its reason only inside the stack).
 */
function secureConnectionFailed(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string') return /^ERR_(TLS|SSL)_|CERT|SIGNED|VERIFY/.test(code);
  return /^(The server does not support SSL connections|There was an error establishing an SSL connection)$/.test(error.message);
}

/**
 * Node writes a process warning (a library's deprecation or security notice) to stderr as free
 * text over several lines: the only lines of the server that were not JSON (operations probe 10-c
 * L5, pg's notices). They are log lines instead; Node's own printer is the listener removed here.
 */
function logProcessWarnings(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => rootLogger.warn(`process warning: ${warning.message}`, { name: warning.name, ...(warning.code ? { code: warning.code } : {}) }));
}
