import { Controller, Get, Headers, Param, Req, Res } from '@nestjs/common';
import type { IntegrityReport } from '../../event-store/integrity-verifier.js';
import { IntegrityMonitor } from '../../platform/integrity-monitor.js';
import { integrityHeaders } from '../../platform/http/integrity-headers.js';
import { domainExtensions, httpStatusOf } from '../../graphql/error-format.js';
import { checkOperation } from '../../identity/access-policy.js';
import { ActorRateLimiter } from '../../identity/rate-limit/actor-rate-limiter.js';
import { TokenVerifier } from '../../identity/token-verifier.js';
import { DomainError, ForbiddenError, NotFoundError, RateLimitedError } from '../../shared/domain/errors.js';
import { storeUnavailable } from '../../shared/application/store-unavailable.js';
import { documentRequest, single } from '../application/document-request.js';
import { DocumentTooLargeError } from '../application/document-size.js';
import { DocumentsService, type RenderedDocument } from '../application/documents.service.js';
import { REGISTER_SECTIONS, type RegisterSection } from '../application/register-export.js';

interface DocumentHttpRequest {
  originalUrl?: string;
  url: string;
}
interface DocumentHttpResponse {
  status(code: number): DocumentHttpResponse;
  setHeader(name: string, value: string): void;
  send(body: Buffer | string): void;
  write(chunk: Buffer): boolean;
  end(): void;
  once(event: 'drain' | 'close', listener: () => void): void;
  off(event: 'drain' | 'close', listener: () => void): void;
  readonly destroyed?: boolean;
  json(body: unknown): void;
}


/**
 * Renders at once by this process: each may replay the log (asOf/atPosition) and is outside
 * GraphQL's cost budget, so past this a new one is refused (503, DOCUMENTS_BUSY) rather than
 * queued. A request for a document at a fixed point (asOf, atPosition) that is already being
 * rendered waits for that render and gets its bytes; one for the present is rendered for itself
 * (a render begun before the client's last write would not show it) and counts. The per-actor
 * rate limit (RATE_LIMIT_PER_MINUTE) applies as for GraphQL. Memory: each render holds at most a
 * few times DOCUMENT_MAX_BYTES (its rows or view, then its bytes: document-size.ts), so these
 * renders about 12 times it at most; four workbooks of 237 MB of text each, unbounded, took 6.7 GB
 * (hostile probe of 2026-12-07, F1).
 */
export const MAX_CONCURRENT_RENDERS = 4;
const BUSY_RETRY_AFTER_SECONDS = 5;
const ID = /^[A-Za-z0-9._:@-]{1,128}$/;

const TYPES = {
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

/**
 * The documents the board, the committee and the regulators read (Art.18(2), Art.19), rendered
 * at a point of the log (`?asOf=` or `?atPosition=`, default now) in Japanese (default) or
 * English (`?lang=en`). The same bearer token as GraphQL; any role of this product may read them
 * (an auditor every one). Each download is written to the access log by AuditModule's middleware
 * (Art.23(2)). Errors are JSON: `{ error: { message, code, fields? } }`; RATE_LIMITED (429) and
 * DOCUMENTS_BUSY (503) come with Retry-After; a document past DOCUMENT_MAX_BYTES is 413
 * DOCUMENT_TOO_LARGE (with maxBytes), refused whole before any of it is sent.
 */
@Controller('documents')
export class DocumentsController {
  /** Renders running now (MAX_CONCURRENT_RENDERS at most). */
  private renders = 0;
  /**
   * The render of each document at a fixed point (path and sorted query) while it runs: identical
   * requests used to pass the limit as "joined" and render each on its own, so 16 identical
   * workbooks of 38k risks took 198 s each, 2 GB more and held /health/live 1.6 s (scale probe of
   * 2026-12-06, H2).
   */
  private readonly atFixedPoint = new Map<string, Promise<Rendered>>();

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly documents: DocumentsService,
    private readonly rateLimiter: ActorRateLimiter,
    private readonly integrity: IntegrityMonitor,
  ) {}

  /** Art.18(2): the record of controls and the reasons for their adoption (`?riskId=` for one risk). */
  @Get('controls.md')
  controls(@Headers('authorization') authorization: string | undefined, @Req() req: DocumentHttpRequest, @Res() res: DocumentHttpResponse): Promise<void> {
    return this.serve(
      authorization, req, res,
      (params) => documentRequest(params, (errors) => ({ riskId: idParameter(params, 'riskId', errors) }), ['riskId']),
      async (request) => ({ document: await this.documents.controls(request.riskId ?? null, request), type: 'md', filename: 'controls.md', disposition: 'attachment' }),
    );
  }

  /** The risk register as CSV, one section per file (`?section=` one of REGISTER_SECTIONS, default risks). */
  @Get('register.csv')
  registerCsv(@Headers('authorization') authorization: string | undefined, @Req() req: DocumentHttpRequest, @Res() res: DocumentHttpResponse): Promise<void> {
    return this.serve(
      authorization, req, res,
      (params) =>
        documentRequest(params, (errors) => {
          const section = single(params, 'section', errors);
          if (section !== undefined && !(REGISTER_SECTIONS as readonly string[]).includes(section)) errors.section = `must be one of ${REGISTER_SECTIONS.join(', ')}`;
          return { section: (section ?? 'risks') as RegisterSection };
        }, ['section']),
      async (request) => {
        const document = await this.documents.registerCsv(request.section, request);
        // A CSV stays one table (no source block after it): its file name keeps the position it shows.
        return { document, type: 'csv', filename: `risk-register-${request.section}-at-${document.position}.csv`, disposition: 'attachment' };
      },
    );
  }

  /** The risk register as an XLSX workbook, one sheet per section. */
  @Get('register.xlsx')
  registerXlsx(@Headers('authorization') authorization: string | undefined, @Req() req: DocumentHttpRequest, @Res() res: DocumentHttpResponse): Promise<void> {
    return this.serve(
      authorization, req, res,
      (params) => documentRequest(params, () => ({})),
      async (request) => ({ document: await this.documents.registerXlsx(request), type: 'xlsx', filename: 'risk-register.xlsx', disposition: 'attachment' }),
    );
  }

  /** Art.19: the information security management plan, `{id}.md` or `{id}.html` (a printable page). */
  @Get('plans/:file')
  plan(@Headers('authorization') authorization: string | undefined, @Param('file') file: string, @Req() req: DocumentHttpRequest, @Res() res: DocumentHttpResponse): Promise<void> {
    return this.serve(
      authorization, req, res,
      (params) => {
        const match = /^(.+)\.(md|html)$/.exec(file);
        if (!match) throw new NotFoundError('Document', file.slice(0, 128));
        const [, id, format] = match as unknown as [string, string, 'md' | 'html'];
        const request = documentRequest(params, (errors) => {
          if (!ID.test(id)) errors.id = 'is not a plan id (1-128 letters, digits or . _ : @ -)';
          return {};
        });
        return { ...request, id, format };
      },
      async (request) => ({ document: await this.documents.plan(request.id, request.format, request), type: request.format, filename: `plan-${request.id}.${request.format}`, disposition: request.format === 'html' ? 'inline' : 'attachment' }),
    );
  }

  /**
   * Authenticates, reads the request's parameters (`parse`: a bad one is 400 at once, never
   * DOCUMENTS_BUSY, which a client would retry: soak probe p9), then renders within the limit.
   */
  private async serve<R>(
    authorization: string | undefined,
    req: DocumentHttpRequest,
    res: DocumentHttpResponse,
    parse: (params: URLSearchParams) => R,
    render: (request: R) => Promise<Rendered>,
  ): Promise<void> {
    try {
      const actor = await this.verifier.verifyAuthorization(authorization);
      const denied = checkOperation('query', 'documents', actor);
      if (denied) throw new ForbiddenError(denied);
      this.rateLimiter.hit(actor.id);
      const url = new URL(req.originalUrl ?? req.url, 'http://local');
      const params = url.searchParams;
      const request = parse(params);
      const sorted = new URLSearchParams(params);
      sorted.sort();
      const key = `${url.pathname}?${sorted.toString()}`;
      const fixedPoint = params.has('asOf') || params.has('atPosition');
      let pending = fixedPoint ? this.atFixedPoint.get(key) : undefined;
      if (!pending) {
        if (this.renders >= MAX_CONCURRENT_RENDERS) {
          res.setHeader('retry-after', String(BUSY_RETRY_AFTER_SECONDS));
          res.status(503).json({ error: { message: `${MAX_CONCURRENT_RENDERS} documents are being rendered: try again in ${BUSY_RETRY_AFTER_SECONDS} s`, code: 'DOCUMENTS_BUSY' } });
          return;
        }
        this.renders++;
        const started = render(request).finally(() => {
          this.renders--;
          if (this.atFixedPoint.get(key) === started) this.atFixedPoint.delete(key);
        });
        pending = started;
        if (fixedPoint) this.atFixedPoint.set(key, started);
      }
      let rendered: Rendered;
      try {
        rendered = await pending;
      } catch (error) {
        // Events that no decider wrote (forged into the file) can break the fold itself: when
        // the log then fails verification, that is the answer, not an internal error.
        if (error instanceof DomainError || error instanceof DocumentTooLargeError) throw error;
        await this.integrity.settled();
        this.integrity.assertWritable();
        throw error;
      }
      const { document, type, filename, disposition } = rendered;
      res.setHeader('content-type', TYPES[type]);
      res.setHeader('content-disposition', `${disposition}; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
      res.setHeader('cache-control', 'no-store');
      // The point it was rendered at: the last event's position, or the start of the log (position 0) when none was by then.
      res.setHeader('x-log-position', document.position);
      if (document.regenerateUrl) res.setHeader('x-regenerate', document.regenerateUrl);
      // Auditors still read while the log fails verification (contract), warned on every copy.
      const failure = this.integrity.status === 'BROKEN' ? this.integrity.failure : null;
      for (const [name, value] of integrityHeaders(this.integrity, true)) res.setHeader(name, value);
      const parts = failure ? [withIntegrityWarning(Buffer.concat(document.body), type, failure)] : document.body;
      res.setHeader('content-length', String(parts.reduce((n, part) => n + part.length, 0)));
      res.status(200);
      // Part after part, as the client takes them (no copy of the whole, no hash of it for an ETag: no-store).
      for (const part of parts) {
        if (res.destroyed) break;
        if (!res.write(part)) await drainedOrClosed(res);
      }
      res.end();
    } catch (raw) {
      // Past DOCUMENT_MAX_BYTES: refused whole, before any byte is sent (document-size.ts).
      if (raw instanceof DocumentTooLargeError) {
        res.status(raw.status).json({ error: { message: raw.message, code: raw.code, maxBytes: raw.maxBytes } });
        return;
      }
      const error = storeUnavailable(raw) ?? raw;
      if (!(error instanceof DomainError)) throw error;
      if (error instanceof RateLimitedError) res.setHeader('retry-after', String(error.retryAfterSeconds));
      res.status(httpStatusOf(error)).json({ error: { message: error.message, ...domainExtensions(error) } });
    }
  }
}

/** A document rendered for a request, with how it is served. */
interface Rendered {
  document: RenderedDocument;
  type: keyof typeof TYPES;
  filename: string;
  disposition: 'inline' | 'attachment';
}

/** An optional id parameter (`riskId`): absent or empty is none; a malformed one is named in `errors`. */
function idParameter(params: URLSearchParams, name: string, errors: Record<string, string>): string | undefined {
  const value = single(params, name, errors);
  if (value === undefined || value === '') return undefined;
  if (!ID.test(value)) {
    errors[name] = 'is not an id (1-128 letters, digits or . _ : @ -)';
    return undefined;
  }
  return value;
}

/** Resolves once the response can take more, or is closed; the other listener is taken off (a part per wait: no listeners pile up). */
function drainedOrClosed(res: DocumentHttpResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/**
 * A document read from a log that fails verification says so at its top (Markdown, HTML; a CSV
 * or workbook keeps its shape and carries the response headers only): what it shows may be
 * forged, from the broken position on.
 */
function withIntegrityWarning(document: Buffer, type: keyof typeof TYPES, failure: IntegrityReport): Buffer {
  if (type !== 'md' && type !== 'html') return document;
  const body = document.toString('utf8');
  const text = `WARNING: the event log fails verification at position ${failure.firstBrokenPosition ?? '?'} (${failure.reason ?? 'unknown reason'}); what this document shows from there on may be forged.`;
  if (type === 'md') return Buffer.from(`> **${text}**\n\n${body}`, 'utf8');
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return Buffer.from(body.replace(/<body([^>]*)>/, (tag) => `${tag}\n<p role="alert" style="border:2px solid #b00;padding:.5em;color:#b00;font-weight:bold">${escaped}</p>`), 'utf8');
}
