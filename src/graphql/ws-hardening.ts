import type { IncomingMessage } from 'node:http';
import type { GraphQLError } from 'graphql';
import { JSON_MAX_NESTING, JSON_MAX_SEPARATORS, jsonLimitPassed } from '../platform/http/json-limits.js';
import { rootLogger } from '../shared/logging/json-logger.js';
import { OnePerTurn } from '../shared/application/turns.js';

/**
 * The graphql-ws sockets' own limits, past what graphql-ws does by itself (see server.ts for the
 * frame size and graphql-options.ts for tokens and the per-actor count):
 *
 * - a socket whose unsent data (ws `bufferedAmount`) passes WS_MAX_BUFFERED_BYTES is closed with
 *   WS_SLOW_CONSUMER_CLOSE_CODE and its subscriptions end: a consumer that stopped reading held
 *   every event sent to it in memory (1,000 subscriptions of one actor grew the heap from 687 MB
 *   to 2.45 GB on one 2.4 MB event, kept until the sockets closed);
 * - nothing is serialised for a socket that is closing, and a peer that went away with
 *   operations running is logged once, without a stack (it was one error line with a stack per
 *   operation: 7,660 of them);
 * - a message only the server sends (`next`, `error`, `connection_ack`) closes the socket with
 *   4400, graphql-ws's code for an invalid message (it answered 4500, an internal error);
 * - at most WS_MAX_AWAITING_INIT_PER_ADDRESS sockets of one remote address wait for their
 *   `connection_init` at once: the next upgrade is answered 429 before the handshake.
 */

/** Unsent bytes a socket may hold (several of the largest events: an import's body is at most 5 MB). */
export const WS_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** The close code of a socket that fell too far behind (as HTTP 413: too much for it). */
export const WS_SLOW_CONSUMER_CLOSE_CODE = 4413;
/**
 * After closing a slow consumer, how long its close frame may wait behind its unsent data before
 * the socket is cut (`graceMs`, 2 s; a test that reads tens of megabytes back on a loaded machine
 * lengthens it, as it does live-events.ts's limits).
 */
export const wsSlowConsumer = { graceMs: 2_000 };
/** graphql-ws's "Bad request" (invalid message). */
export const WS_BAD_MESSAGE_CLOSE_CODE = 4400;
/** Sockets of one remote address waiting for connection_init at once (each waits at most 3 s). */
export const WS_MAX_AWAITING_INIT_PER_ADDRESS = 32;

const OPEN = 1;
const log = rootLogger.child('graphql-ws');

export interface WsSocket {
  readyState: number;
  bufferedAmount: number;
  send(data: unknown, ...rest: unknown[]): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  listeners(event: 'message'): ((...args: unknown[]) => void)[];
  removeAllListeners(event: 'message'): void;
  on(event: 'message', listener: (data: unknown, isBinary: boolean) => void): void;
  once(event: 'close' | 'message', listener: (...args: unknown[]) => void): void;
  pause(): void;
  resume(): void;
}

/** A socket's state as graphql-ws hands it to its hooks (`ctx.extra.socket`). */
type Extra = { socket?: WsSocket };
type Ctx = { extra: unknown; subscriptions?: Record<string, unknown> };

/** Whether graphql-ws can still send on this operation's socket. */
export function socketOpen(ctx: Ctx): boolean {
  const socket = (ctx.extra as Extra | undefined)?.socket;
  return !socket || socket.readyState === OPEN;
}

/** What onNext hands graphql-ws for a socket that is closing: never sent (graphql-ws sends only on an open socket), cheap to serialise. */
export const UNDELIVERABLE = Object.freeze({ data: null });

/**
 * onNext for a socket that is no longer open: ends its subscriptions (their queues stop growing)
 * and returns UNDELIVERABLE, so the event is not serialised for nobody. Undefined while it is open.
 */
export function skipIfClosing(ctx: Ctx): typeof UNDELIVERABLE | undefined {
  if (socketOpen(ctx)) return undefined;
  endSubscriptions(ctx);
  return UNDELIVERABLE;
}

function endSubscriptions(ctx: Ctx): void {
  for (const sub of Object.values(ctx.subscriptions ?? {})) {
    const iterator = sub as { return?: () => Promise<unknown> } | null;
    void iterator?.return?.().catch(() => undefined);
  }
}

const reported = new WeakSet<object>();

/**
 * onError for a socket that is no longer open (the peer reset it, or it was closed as a slow
 * consumer): the errors cannot be delivered, and they are the transport's, not the operations'.
 * Logged once per socket at info, without a stack; returns true when it took the errors.
 */
/**
 * A socket the server acknowledged that ended without a close frame (1006): its peer went away,
 * or stopped reading altogether and so stopped answering graphql-ws's keep-alive pings, which ends
 * the socket 12-24 s later with no 4413 and no message to the client (soak probe M2: a paused
 * subscriber was cut so and nothing was logged). One info line, so operators can tell.
 */
export function logEndedWithoutCloseFrame(code: number | undefined, actorId: string): void {
  if (code === 1006) log.info('graphql-ws: a socket ended without a close frame', { code, actorId, note: 'the peer went away, or stopped answering keep-alive pings (it stopped reading)' });
}

export function peerGoneError(ctx: Ctx, errors: readonly GraphQLError[]): boolean {
  if (socketOpen(ctx)) return false;
  const key = ctx.extra as object;
  if (!reported.has(key)) {
    reported.add(key);
    const cause = errors[0]?.originalError as (Error & { code?: string }) | undefined;
    log.info('graphql-ws: the peer went away while operations were running; they ended', { error: cause?.code ?? cause?.message ?? errors[0]?.message, operations: Object.keys(ctx.subscriptions ?? {}).length });
  }
  endSubscriptions(ctx);
  return true;
}

/**
 * Closes a socket that fell too far behind with 4413 (too much unsent data on it, or one of its
 * subscriptions with too many events not taken: live-events.ts, where graphql-ws, sending one
 * message at a time, leaves what a client does not read), then cuts it if its close frame is still
 * stuck behind its unsent data.
 */
export function closeSlowConsumer(socket: WsSocket, reason = 'Too much unsent data: read faster or subscribe to less'): void {
  if (socket.readyState !== OPEN) return;
  log.warn('graphql-ws: a socket fell too far behind and was closed', { bufferedBytes: socket.bufferedAmount, limit: WS_MAX_BUFFERED_BYTES, code: WS_SLOW_CONSUMER_CLOSE_CODE, reason });
  socket.close(WS_SLOW_CONSUMER_CLOSE_CODE, reason);
  const cut = setTimeout(() => socket.terminate(), wsSlowConsumer.graceMs);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
}

/** A message only the server sends, which graphql-ws answered with 4500 (checked on a cheap match first). */
const SERVER_ONLY = /"type"\s*:\s*"(?:next|error|connection_ack)"/;
const SERVER_ONLY_TYPES = new Set(['next', 'error', 'connection_ack']);

function serverOnlyMessage(text: string): boolean {
  if (!SERVER_ONLY.test(text)) return false;
  try {
    const message = JSON.parse(text) as { type?: unknown } | null;
    return typeof message?.type === 'string' && SERVER_ONLY_TYPES.has(message.type);
  } catch {
    return false;
  }
}

const INIT = /"type"\s*:\s*"connection_init"/;

/** Sockets awaiting connection_init, by remote address. */
export class AwaitingInit {
  private readonly counts = new Map<string, number>();

  /** ws's verifyClient (two-argument form): refuses an upgrade (429) past the cap of its address. */
  readonly verifyClient = (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void): void => {
    const address = info.req.socket.remoteAddress ?? '';
    if ((this.counts.get(address) ?? 0) >= WS_MAX_AWAITING_INIT_PER_ADDRESS) {
      log.info('graphql-ws: upgrade refused, too many sockets of this address await connection_init', { limit: WS_MAX_AWAITING_INIT_PER_ADDRESS });
      return done(false, 429, 'Too Many Requests');
    }
    done(true);
  };

  /** Counts the socket until its connection_init arrives or it closes; returns what to call with each message. */
  track(socket: WsSocket, request: IncomingMessage): (text: string) => void {
    const address = request.socket.remoteAddress ?? '';
    this.counts.set(address, (this.counts.get(address) ?? 0) + 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      const left = (this.counts.get(address) ?? 1) - 1;
      if (left > 0) this.counts.set(address, left);
      else this.counts.delete(address);
    };
    socket.once('close', release);
    return (text: string) => {
      if (counted && INIT.test(text)) release();
    };
  }
}

/**
 * Called for each new socket, after graphql-ws set it up: caps its unsent data, screens the
 * messages graphql-ws would answer with an internal error, and notes its connection_init.
 */
export function hardenSocket(socket: WsSocket, awaiting: AwaitingInit, request: IncomingMessage): void {
  const initSeen = awaiting.track(socket, request);
  const send = socket.send.bind(socket);
  socket.send = (data: unknown, ...rest: unknown[]) => {
    send(data, ...rest);
    if (socket.readyState === OPEN && socket.bufferedAmount > WS_MAX_BUFFERED_BYTES) closeSlowConsumer(socket);
  };
  const inner = socket.listeners('message');
  socket.removeAllListeners('message');
  // One message per turn of the event loop: 50 subscribe messages arriving in one read were
  // each parsed, checked and priced back to back (0.7-1.2 s with 1,999 aliases each). While some
  // wait, the socket is not read (TCP pushes back on the client), so they cannot pile up. One
  // message per turn across every socket (messageTurns): one per socket and turn, 50 sockets of
  // 20 subscriptions each resuming from the start held /health/live ~0.2 s (probe 8b).
  const backlog: [string, boolean, Uint8Array][] = [];
  const handle = () => {
    const next = backlog.shift();
    if (next && socket.readyState === OPEN) {
      const [text, isBinary, bytes] = next;
      // graphql-ws parses every message whole: the JSON limits of an HTTP body apply (json-limits.ts).
      const passed = jsonLimitPassed(bytes);
      if (passed) socket.close(WS_BAD_MESSAGE_CLOSE_CODE, passed === 'nesting' ? `Invalid message received: nested deeper than ${JSON_MAX_NESTING}` : `Invalid message received: more than ${JSON_MAX_SEPARATORS} values`);
      else if (serverOnlyMessage(text)) socket.close(WS_BAD_MESSAGE_CLOSE_CODE, 'Invalid message received: a client does not send this type');
      else for (const listener of inner) listener.call(socket, text, isBinary);
    }
    if (backlog.length) messageTurns.take(handle);
    else socket.resume();
  };
  socket.on('message', (data: unknown, isBinary: boolean) => {
    const text = String(data);
    initSeen(text);
    backlog.push([text, isBinary, data instanceof Uint8Array ? data : Buffer.from(text)]);
    if (backlog.length > 1) return;
    socket.pause();
    // A connection_init first in line is handled at once (it is cheap): graphql-ws closes a socket
    // whose init it has not handled within 3 s (4408), however many messages of others wait.
    if (INIT.test(text)) handle();
    else messageTurns.take(handle);
  });
}

/** graphql-ws messages of every socket, one per turn (hardenSocket). */
const messageTurns = new OnePerTurn();
