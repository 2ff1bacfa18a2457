import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A receiver's answer is read (for the connection's sake) up to this much, then the connection is cut. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface WebhookPost {
  url: URL;
  body: Buffer;
  headers: Record<string, string>;
  /** From sending to the response's end (or MAX_RESPONSE_BYTES of it). */
  timeoutMs: number;
  signal?: AbortSignal;
}

export type PostOutcome = { delivered: true; status: number } | { delivered: false; status?: number; error: string };

/**
 * One POST, never followed by another: redirects are not followed (a 3xx is a failed delivery),
 * the response body is ignored (read up to MAX_RESPONSE_BYTES, then the connection is closed), a
 * fresh connection each time (no agent keeps sockets to a receiver that may restart). Only a 2xx
 * counts as delivered. Never throws: every failure is an outcome.
 */
export function postWebhook(post: WebhookPost): Promise<PostOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      post.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const send = post.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(post.url, {
      method: 'POST',
      agent: false,
      headers: { ...post.headers, 'content-length': String(post.body.length) },
    });
    const onAbort = () => req.destroy(new Error('delivery stopped (shutting down)'));
    timer = setTimeout(() => req.destroy(new Error(`no complete answer within ${post.timeoutMs} ms`)), post.timeoutMs);
    if (post.signal?.aborted) onAbort();
    else post.signal?.addEventListener('abort', onAbort, { once: true });

    req.on('error', (error) => finish({ delivered: false, error: errorText(error) }));
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const outcome: PostOutcome =
        status >= 200 && status < 300
          ? { delivered: true, status }
          : { delivered: false, status, error: status >= 300 && status < 400 ? `HTTP ${status}: redirects are not followed` : `HTTP ${status}` };
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) {
          res.destroy();
          finish(outcome);
        }
      });
      // The status decides; a body cut short (or a reset after the headers) changes nothing.
      res.on('end', () => finish(outcome));
      res.on('close', () => finish(outcome));
      res.on('error', () => finish(outcome));
    });
    req.end(post.body);
  });
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
