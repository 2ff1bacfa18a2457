import type { IncomingMessage, ServerResponse } from 'node:http';
import { JSON_MAX_NESTING, JSON_MAX_SEPARATORS, jsonLimitPassed } from '../http/json-limits.js';

/** The largest JSON body the server parses (a catalogue of 500 requirements with long statements fits). */
export const JSON_BODY_LIMIT = '5mb';

/**
 * body-parser's `verify` hook: refuses, before JSON.parse sees it, a body past the JSON limits
 * (json-limits.ts: nested deeper than JSON_MAX_NESTING, more than JSON_MAX_SEPARATORS values).
 */
export function refuseCostlyJson(_req: IncomingMessage, _res: ServerResponse, body: Buffer): void {
  const passed = jsonLimitPassed(body);
  if (passed === 'nesting') throw Object.assign(new Error('JSON nested too deeply'), { status: 400, type: 'entity.too.deep' });
  if (passed === 'values') throw Object.assign(new Error('JSON with too many values'), { status: 400, type: 'entity.too.many' });
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
