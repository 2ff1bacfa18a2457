import { maxHeaderSize, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { JsonLogger } from '../../shared/logging/json-logger.js';

/**
 * Requests Node's HTTP parser refuses before any middleware sees them (headers over
 * `maxHeaderSize`, 16 KiB by default: a 270 KB bearer token; a malformed request line or header;
 * a request that timed out) are answered in the shape of the endpoint asked, as body refusals are
 * (request-body-errors.ts), with `Connection: close`. Node's own answer was a bare status line and
 * an empty body (authz probe p14, F7): no client could tell a token too long from a broken proxy.
 * The request line is read from the bytes the parser kept, when it got that far.
 */
export function answerUnparsableRequests(server: Server, log: Pick<JsonLogger, 'warn' | 'info'>, headers: () => [string, string][] = () => []): void {
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex & { _httpMessage?: { headersSent?: boolean } }) => {
    // A reset, or a response already under way on this socket: nothing can be answered on it.
    if (error.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const refusal = refusalOf(error.code);
    const path = /^[A-Z]+ (\/[^ ?]*)/.exec(error.rawPacket?.subarray(0, 256).toString('latin1') ?? '')?.[1];
    // The client ended its side (FIN) in the middle of a request: a half-closing client (nc -N)
    // may still read the 400 (probe 8b), so it is answered; but it is a client going away, not a
    // request the server refused: logged at info (soak probe L1: 1,795 warn lines for cut
    // requests, a cut upload logged twice, 499 and 400).
    if (error.code === 'HPE_INVALID_EOF_STATE') log.info('http: a request its client ended before it was complete was answered 400', { status: refusal.status, code: error.code, path: path ?? null });
    else log.warn('http: a request the parser refused was answered', { status: refusal.status, code: error.code, path: path ?? null });
    const body = JSON.stringify(
      path === '/graphql'
        ? { errors: [{ message: refusal.message, extensions: { code: 'BAD_USER_INPUT', fields: { request: refusal.field } } }] }
        : { error: { code: 'BAD_USER_INPUT', message: refusal.message } },
    );
    // The answer's own headers (x-integrity while the log fails verification: integrity-headers.ts).
    const extra = headers().map(([name, value]) => `${name}: ${value}\r\n`).join('');
    socket.end(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
}

/** The status Node itself gives each parser error (see its http server's default clientError handling), and our words. */
function refusalOf(code: string | undefined): { status: number; message: string; field: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      // Node counts the request line with the headers: a long URL (a query string of 20 KB) ends here too (race probe of 2026-12-06, 6).
      return { status: 431, message: `The request's URL and headers are larger than ${maxHeaderSize} bytes (a query string or a bearer token that long is refused)`, field: `has a URL and headers over ${maxHeaderSize} bytes` };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, message: 'The request body has chunk extensions too large to read', field: 'has chunk extensions too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'The request was not received in time', field: 'was not received in time' };
    default:
      return { status: 400, message: 'The request is not valid HTTP', field: 'is not valid HTTP' };
  }
}
