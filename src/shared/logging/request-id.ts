import { newEventId } from '../../event-store/event-id.js';

/** What a client may send as a request id (and what we echo back): short, no spaces, no markup. */
export const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type Headers = Record<string, string | string[] | undefined>;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A request id the server makes itself (HTTP without a sane one given, a graphql-ws operation,
 * a refused socket): made like event ids, time-ordered (UUID version 7), so that the access
 * log's index of correlation ids grows at its end (event-id.ts says why that matters).
 */
export function newRequestId(): string {
  return newEventId();
}

/**
 * The id of one HTTP request: the client's `x-request-id` when sane, else its `x-correlation-id`
 * (the header this service read before), else a new one (newRequestId). It is echoed in the
 * `x-request-id` response header, written in the request's log line, and becomes the
 * `correlationId` of every event the request causes.
 */
export function requestIdFrom(headers: Headers | undefined): string {
  for (const name of ['x-request-id', 'x-correlation-id']) {
    const given = first(headers?.[name]);
    if (given && SANE_REQUEST_ID.test(given)) return given;
  }
  return newRequestId();
}

/** The id the HTTP layer gave this request (`req.id`), or one from its headers when none was given. */
export function requestIdOf(req: { id?: unknown; headers?: Headers } | undefined): string {
  const id = req?.id;
  return typeof id === 'string' && SANE_REQUEST_ID.test(id) ? id : requestIdFrom(req?.headers);
}
