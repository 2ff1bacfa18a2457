import type { IncomingMessage, ServerResponse } from 'node:http';
import { domainExtensions } from '../../graphql/error-format.js';
import { UnauthenticatedError } from '../../shared/domain/errors.js';
import type { TokenVerifier } from '../token-verifier.js';

/**
 * The largest GraphQL body read from a request without a valid token: every real operation's
 * document and variables (a few kilobytes) and many times that. The server's JSON limit (5 MB) is
 * for the large inputs of authenticated clients (a catalogue import).
 */
export const UNAUTHENTICATED_BODY_LIMIT = 64 * 1024;
/** What is let through unread after the refusal: the JSON body limit (5 MB), no more. */
const DISCARDED_BODY_LIMIT = 5 * 1024 * 1024;

/**
 * A GraphQL request whose body may pass UNAUTHENTICATED_BODY_LIMIT (declared longer, chunked, or compressed)
 * has its token checked before its body is read: without a valid one it is refused at once, as
 * the whole request is refused anyway (UNAUTHENTICATED, HTTP 200, the answer of every other
 * unauthenticated request), and its body is discarded unread. A 4.8 MB document sent without a
 * token was read, scanned, parsed as JSON and lexed before that refusal: ~100-140 ms of the event
 * loop a request, anyone could send it, and eight at once held /health/live 635 ms (hostile probe
 * of 2026-12-07, F4). Smaller requests are read as before, so the access log still records what an
 * unauthenticated client asked for (its operation, fields and ids); `refused` records these,
 * whose operation is not read. An authentic token refused as revoked is read as before too: its
 * holder's attempt is recorded with what it tried. Mounted at `/graphql` as Apollo is, so that the
 * same paths reach both (`/GraphQL/`, `/graphql/x`: Express matches a mount path so).
 */
export function refuseUnauthenticatedLargeBodies(verifier: TokenVerifier, refused: (req: IncomingMessage, error: UnauthenticatedError) => void) {
  return (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    if (req.method !== 'POST') return next();
    // A compressed body is as large as it inflates to: a gzip of 4.7 KB (brotli: 57 bytes) made 4.8 MB
    // that was inflated, parsed and lexed before the refusal (re-probe of 2026-12-08, M1).
    const declared = req.headers['content-length'];
    const encoding = req.headers['content-encoding'];
    const plain = encoding === undefined || encoding.trim().toLowerCase() === 'identity';
    if (plain && declared !== undefined && req.headers['transfer-encoding'] === undefined && Number(declared) <= UNAUTHENTICATED_BODY_LIMIT) return next();
    const header = req.headers.authorization;
    verifier.verifyAuthorizationSession(typeof header === 'string' ? header : undefined).then(
      () => next(),
      (error: unknown) => {
        // Not a refusal of the token (an identity provider unreachable), or an authentic one revoked: read as before.
        if (!(error instanceof UnauthenticatedError) || error.claimedActor) return next();
        try {
          refused(req, error);
        } finally {
          res.statusCode = 200;
          res.setHeader('content-type', 'application/json; charset=utf-8');
          res.end(JSON.stringify({ errors: [{ message: error.message, extensions: domainExtensions(error) }] }));
          discard(req);
        }
      },
    );
  };
}

/**
 * The body's bytes are let through unread, so that the client, still sending it, can read the
 * answer (a connection closed under it: EPIPE, no answer), up to the largest body the server
 * would read; past it the connection is cut.
 */
function discard(req: IncomingMessage): void {
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > DISCARDED_BODY_LIMIT) req.socket.destroy();
  });
  req.resume();
}
