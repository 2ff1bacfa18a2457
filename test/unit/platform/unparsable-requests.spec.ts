import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { answerUnparsableRequests } from '../../../src/platform/observability/unparsable-requests.js';

/**
 * Requests Node's parser refuses are answered in the endpoint's shape and logged at warn; a
 * request the client itself ended half-way (FIN in the middle of its body) is answered too (a
 * half-closing client may still read it: probe 8b) but it is a client going away, logged at info
 * (soak probe L1: 1,795 warn lines for cut requests).
 */
describe('requests the HTTP parser does not complete', () => {
  let server: Server;
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const log = { warn: (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level: 'warn', msg, fields }), info: (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level: 'info', msg, fields }) };

  async function start(): Promise<number> {
    // As the application's body parsers do: answered once the whole body is in.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    answerUnparsableRequests(server, log as never);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** Sends `bytes`, then ends its side (FIN) when `end`; resolves with what came back once the server closes. */
  function send(port: number, bytes: string, end: boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(bytes);
        if (end) socket.end();
      });
      let answer = '';
      socket.on('data', (d) => (answer += d.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve(answer) : reject(e)));
    });
  }

  afterEach(async () => {
    lines.length = 0;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a request cut by its client is answered 400 for a client still reading, and logged at info', async () => {
    const port = await start();
    const answer = await send(port, 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":', true);
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(lines).toEqual([{ level: 'info', msg: 'http: a request its client ended before it was complete was answered 400', fields: { status: 400, code: 'HPE_INVALID_EOF_STATE', path: null } }]);
  });

  it('a malformed request is still answered 400 in the endpoint’s shape, at warn', async () => {
    const port = await start();
    const answer = await send(port, 'POST /graphql HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', false);
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('"code":"BAD_USER_INPUT"');
    expect(lines.map((l) => l.level)).toEqual(['warn']);
  });
});
