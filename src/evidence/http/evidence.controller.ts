/**
 * POST /evidence (upload, streamed) and GET /evidence/{id} (download, checked against its SHA-256),
 * with the same bearer token as GraphQL. Both are access-logged by the audit module's middleware
 * (every request under /evidence/). Answers are JSON `{ error: { code, message, … } }` on refusal.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { domainExtensions } from '../../graphql/error-format.js';
import { checkOperation } from '../../identity/access-policy.js';
import { TokenVerifier } from '../../identity/token-verifier.js';
import { EvidenceFiles } from '../../shared/application/evidence-files.js';
import { DomainError } from '../../shared/domain/errors.js';
import { auditorRefusal } from '../../shared/domain/guards.js';
import { JsonLogger } from '../../shared/logging/json-logger.js';
import { StoreEvidenceFileCommand } from '../application/evidence-commands.js';
import { EVIDENCE_BLOBS, sha256Of, type EvidenceBlobStore } from '../application/evidence-blobs.js';
import { UploadRefusedError, checkDeclaration, receiveUpload } from '../application/evidence-upload.js';

type Request = IncomingMessage & { _body?: boolean };

const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, BAD_USER_INPUT: 400, RULE_VIOLATION: 409, CONCURRENCY_CONFLICT: 409, RATE_LIMITED: 429, INTEGRITY_BROKEN: 503 };
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/** RFC 6266 / RFC 5987: an ASCII fallback and the exact UTF-8 name. */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const exact = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

@Controller('evidence')
export class EvidenceController {
  private readonly log: JsonLogger;

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly commands: CommandBus,
    private readonly files: EvidenceFiles,
    @Inject(EVIDENCE_BLOBS) private readonly blobs: EvidenceBlobStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    logger: JsonLogger,
  ) {
    this.log = logger.child('evidence');
  }

  @Post()
  async upload(@Req() req: Request, @Res() res: ServerResponse): Promise<void> {
    try {
      const actor = await this.verifier.verifyAuthorization(header(req, 'authorization'));
      // Refused before a byte is read: nothing stored for a client that may not store.
      const denied = auditorRefusal(actor) ?? checkOperation('mutation', 'uploadEvidence', actor);
      if (denied) throw new UploadRefusedError(403, 'FORBIDDEN', denied);
      const maxBytes = this.config.evidence.maxBytes;
      const declared = checkDeclaration({ contentType: header(req, 'content-type'), filename: header(req, 'x-filename'), contentLength: header(req, 'content-length') }, maxBytes);
      // A body parser that took the body (it would be for a type we refuse anyway) leaves nothing to hash.
      if (req._body || req.readableEnded) throw new UploadRefusedError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the body was consumed before it could be stored');
      const received = await receiveUpload(req, declared, this.blobs.uploadDir, maxBytes);
      await this.blobs.put(received.sha256, received.tempPath, received.size);
      const given = header(req, 'x-correlation-id');
      const correlationId = given && CORRELATION_ID.test(given) ? given : randomUUID();
      const state = await this.commands.execute(
        new StoreEvidenceFileCommand({ sha256: received.sha256, size: received.size, mediaType: received.mediaType, filename: received.filename }, { actor, correlationId }),
      );
      this.log.info('evidence file stored', { evidenceId: state.evidenceId, sha256: state.sha256, size: state.size, mediaType: state.mediaType, actorId: actor.id });
      res.setHeader('location', `/evidence/${state.evidenceId}`);
      sendJson(res, 201, { id: state.evidenceId, sha256: state.sha256, size: state.size, mediaType: state.mediaType, filename: state.filename });
    } catch (error) {
      // Whatever was not read is drained (and discarded), so the client can read the answer.
      if (!req.readableEnded) req.resume();
      this.refuse(res, error, 'upload');
    }
  }

  @Get(':id')
  async download(@Param('id') id: string, @Req() req: Request, @Res() res: ServerResponse): Promise<void> {
    try {
      const actor = await this.verifier.verifyAuthorization(header(req, 'authorization'));
      const denied = checkOperation('query', 'evidenceFile', actor);
      if (denied) throw new UploadRefusedError(403, 'FORBIDDEN', denied);
      const file = await this.files.find(id);
      if (!file) throw new UploadRefusedError(404, 'NOT_FOUND', `Evidence ${id} not found`);
      const bytes = await this.blobs.read(file.sha256);
      // A file is served only as the bytes the log pinned: a missing or damaged blob is reported, never served.
      if (!bytes) {
        this.log.error('evidence file missing from the blob store', { evidenceId: file.id, sha256: file.sha256, blobs: this.blobs.description });
        throw new UploadRefusedError(500, 'EVIDENCE_FILE_MISSING', `the bytes of evidence ${file.id} (SHA-256 ${file.sha256}) are missing from the store`, { sha256: file.sha256 });
      }
      const actual = sha256Of(bytes);
      if (actual !== file.sha256) {
        this.log.error('evidence file damaged: its bytes no longer hash to the SHA-256 in the log', { evidenceId: file.id, sha256: file.sha256, actual, blobs: this.blobs.description });
        throw new UploadRefusedError(500, 'EVIDENCE_FILE_DAMAGED', `the stored bytes of evidence ${file.id} no longer hash to ${file.sha256} recorded in the log`, { sha256: file.sha256 });
      }
      const etag = `"${file.sha256}"`;
      res.setHeader('etag', etag);
      res.setHeader('cache-control', 'private, no-cache');
      res.setHeader('x-content-type-options', 'nosniff');
      if ((header(req, 'if-none-match') ?? '').split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
        res.statusCode = 304;
        return void res.end();
      }
      res.statusCode = 200;
      res.setHeader('content-type', file.mediaType.startsWith('text/') ? `${file.mediaType}; charset=utf-8` : file.mediaType);
      res.setHeader('content-length', bytes.length);
      res.setHeader('content-disposition', contentDisposition(file.filename));
      res.end(bytes);
    } catch (error) {
      this.refuse(res, error, 'download');
    }
  }

  private refuse(res: ServerResponse, error: unknown, what: string): void {
    if (error instanceof UploadRefusedError) {
      return sendJson(res, error.status, { error: { code: error.code, message: error.message, ...error.details } });
    }
    if (error instanceof DomainError) {
      return sendJson(res, STATUS[error.code] ?? 400, { error: { message: error.message, ...domainExtensions(error) } });
    }
    this.log.error(`evidence ${what} failed`, error);
    sendJson(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: `the ${what} failed on the server` } });
  }
}
