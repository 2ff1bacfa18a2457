import type { IncomingMessage, ServerResponse } from 'node:http';

/** The largest JSON body the server parses (a catalogue of 500 requirements with long statements fits). */
export const JSON_BODY_LIMIT = '5mb';

/** How deeply a JSON body may nest arrays and objects (the deepest input of the schema nests 4 or 5). */
export const JSON_MAX_NESTING = 64;

/**
 * How many separators (`,` and `:` outside strings: about one per value, two per object member) a
 * JSON body may have. The largest input of the schema with every list at 500 items (`analyseRisk`'s)
 * has about 4,500 values, a catalogue of 500 requirements about 2,500. A 4.8 MB body of one object
 * of 400,000 members, sent without a token, held the event loop 0.3-0.5 s a request (JSON.parse
 * alone: 0.3 s; 25,000 members: ~13 ms), an array of 1.2 million numbers 0.14 s (probe, 2026-12-04).
 */
export const JSON_MAX_SEPARATORS = 50_000;

/**
 * body-parser's `verify` hook: refuses, before JSON.parse sees it, a body nested deeper than
 * JSON_MAX_NESTING or with more than JSON_MAX_SEPARATORS values. A 4 MB body of two million nested
 * brackets, sent without a token, held the event loop for 0.4 s per request while it was parsed
 * (3 s for eight at once); the scan is one pass over the bytes.
 */
export function refuseCostlyJson(_req: IncomingMessage, _res: ServerResponse, body: Buffer): void {
  let depth = 0;
  let separators = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (inString) {
      if (byte === 0x5c) i++; // a backslash escapes the next byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x2c || byte === 0x3a) {
      if (++separators > JSON_MAX_SEPARATORS) throw Object.assign(new Error('JSON with too many values'), { status: 400, type: 'entity.too.many' });
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > JSON_MAX_NESTING) throw Object.assign(new Error('JSON nested too deeply'), { status: 400, type: 'entity.too.deep' });
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
}

/**
 * body-parser's refusals (malformed JSON, a body over JSON_BODY_LIMIT, an unknown encoding or
 * charset) answered in the shape of the endpoint asked, with a message of ours: GraphQL clients
 * get `{ errors: [{ message, extensions: { code } }] }` like every other error of /graphql, the
 * other routes `{ error: { code, message } }`; never Nest's `{ statusCode, message, error }`, nor
 * the parser's own text (which quotes the body).
 */
export function requestBodyErrors(error: unknown, req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
  const refusal = refusalOf(error);
  if (!refusal || res.headersSent) return next(error);
  const path = (req.url ?? '').split('?')[0] ?? '';
  const body = path === '/graphql' ? { errors: [{ message: refusal.message, extensions: { code: 'BAD_USER_INPUT', fields: { body: refusal.field } } }] } : { error: { code: refusal.code, message: refusal.message } };
  res.statusCode = refusal.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

interface Refusal {
  status: number;
  code: string;
  message: string;
  field: string;
}

/** body-parser marks its errors with a `type` (see its README, "Errors"). */
function refusalOf(error: unknown): Refusal | null {
  const type = (error as { type?: unknown } | null)?.type;
  switch (type) {
    case 'entity.parse.failed':
      return { status: 400, code: 'BAD_USER_INPUT', message: 'The request body is not valid JSON', field: 'is not valid JSON' };
    case 'entity.too.deep':
      return { status: 400, code: 'BAD_USER_INPUT', message: `The request body nests arrays and objects deeper than ${JSON_MAX_NESTING}`, field: `nests deeper than ${JSON_MAX_NESTING}` };
    case 'entity.too.many':
      return { status: 400, code: 'BAD_USER_INPUT', message: `The request body has more than ${JSON_MAX_SEPARATORS} values`, field: `has more than ${JSON_MAX_SEPARATORS} values` };
    case 'entity.too.large':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: `The request body is larger than ${JSON_BODY_LIMIT}`, field: `is larger than ${JSON_BODY_LIMIT}` };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, code: 'BAD_USER_INPUT', message: 'The request body is in an encoding or charset this server does not read', field: 'has an unsupported encoding or charset' };
    case 'request.aborted':
    case 'request.size.invalid':
    case 'entity.verify.failed':
      return { status: 400, code: 'BAD_USER_INPUT', message: 'The request body could not be read', field: 'could not be read' };
    default: {
      // A body that does not decompress (gzip, deflate, br): body-parser passes zlib's error on,
      // untyped, with status 400. Whatever else a parser refuses as the client's fault is answered so too.
      const status = (error as { status?: unknown } | null)?.status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        return { status, code: 'BAD_USER_INPUT', message: 'The request body could not be read (its content-encoding or its bytes)', field: 'could not be read' };
      }
      return null;
    }
  }
}
