/**
 * POST /evidence (upload, streamed) and GET /evidence/{id} (download, checked against its SHA-256),
 * with the same bearer token as GraphQL. Both are access-logged by the audit module's middleware
 * (every request under /evidence/). Answers are JSON `{ error: { code, message, … } }` on refusal.
 */
import { createHash } from 'node:crypto';
import { rm, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { IntegrityMonitor } from '../../platform/integrity-monitor.js';
import { refuseWhenClosed } from '../../health/shutdown-edge.js';
import { ShutdownState } from '../../health/shutdown-state.js';
import { domainExtensions, httpStatusOf } from '../../graphql/error-format.js';
import { INPUT_LIMITS } from '../../graphql/input-limits.js';
import { checkOperation } from '../../identity/access-policy.js';
import { TokenVerifier } from '../../identity/token-verifier.js';
import { EvidenceFiles } from '../../shared/application/evidence-files.js';
import { DomainError, IntegrityBrokenError } from '../../shared/domain/errors.js';
import { storeUnavailable } from '../../shared/application/store-unavailable.js';
import { domainWriterRefusal } from '../../shared/domain/guards.js';
import { JsonLogger } from '../../shared/logging/json-logger.js';
import { requestIdOf } from '../../shared/logging/request-id.js';
import { answerIdOfRequest } from '../../shared/application/answer-notes.js';
import { StoreEvidenceFileCommand } from '../application/evidence-commands.js';
import { EVIDENCE_BLOBS, sha256Of, type EvidenceBlobStore } from '../application/evidence-blobs.js';
import { UploadRefusedError, checkDeclaration, receiveUpload } from '../application/evidence-upload.js';
import { INTEGRITY_POSITION_HEADER } from '../../platform/http/integrity-headers.js';

type Request = IncomingMessage & { _body?: boolean; id?: unknown };

/**
 * Uploads, and downloads, in progress at once per instance: each may hold a whole file (up to
 * EVIDENCE_MAX_BYTES; with PostgreSQL, several times that) in memory. Past it: 503 and Retry-After.
 */
const MAX_CONCURRENT = 4;
/** Of those, what one user may hold at once: a client trickling bytes into every slot blocked everyone's uploads. */
const MAX_CONCURRENT_UPLOADS_PER_ACTOR = 2;
const RETRY_AFTER_SECONDS = 1;

class Slots {
  private used = 0;
  constructor(private readonly max: number) {}
  tryTake(): boolean {
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }
  release(): void {
    this.used--;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Every value `name` (lower case) was sent with, in order: Node joins a repeated header into one value, or keeps only the first. */
function headerValues(req: IncomingMessage, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === name) values.push(req.rawHeaders[i + 1]!);
  return values;
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

/**
 * Drops an upload whose client sends slower than uploadMinBytesPerSecond on average once
 * uploadRateGraceMs have passed (the socket's own byte count: nothing is added to the body's
 * stream). Returns the function that stops watching.
 */
function watchUploadRate(req: IncomingMessage): () => void {
  const socket = req.socket;
  if (!socket) return () => {};
  const started = Date.now();
  const bytesBefore = socket.bytesRead;
  const timer = setInterval(() => {
    const elapsedMs = Date.now() - started;
    if (elapsedMs < EvidenceController.uploadRateGraceMs) return;
    const rate = ((socket.bytesRead - bytesBefore) * 1000) / elapsedMs;
    if (rate < EvidenceController.uploadMinBytesPerSecond) {
      clearInterval(timer);
      req.destroy();
    }
  }, Math.min(1_000, Math.max(50, EvidenceController.uploadRateGraceMs / 4)));
  timer.unref();
  return () => clearInterval(timer);
}

@Controller('evidence')
export class EvidenceController {
  /** An upload whose client sends nothing for this long is dropped, and its slot freed (Node's own limit is 300 s a request). Tests shorten it. */
  static uploadIdleTimeoutMs = 30_000;
  /**
   * And one that sends, but slower than this on average once the grace period is over, loses it
   * too: a byte every few seconds kept the idle limit from ever firing, and two users holding two
   * uploads each kept everyone else's out. (A 25 MB file at 1 KiB/s would take 7 hours.) Tests shorten the grace.
   */
  static uploadMinBytesPerSecond = 1_024;
  static uploadRateGraceMs = 10_000;
  /**
   * A download whose client takes nothing for this long (its socket's buffers full) is cut, and
   * its slot freed: four clients that never read held every download place for good, and, once a
   * half-closed socket was answered rather than ended, each one held a shutdown its 9.5 s
   * (re-probe 9). Tests shorten it.
   */
  static downloadIdleTimeoutMs = 30_000;
  private readonly log: JsonLogger;
  private readonly uploads = new Slots(MAX_CONCURRENT);
  /** Uploads in progress per actor id. */
  private readonly uploadsByActor = new Map<string, number>();
  private readonly downloads = new Slots(MAX_CONCURRENT);

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly commands: CommandBus,
    private readonly files: EvidenceFiles,
    @Inject(EVIDENCE_BLOBS) private readonly blobs: EvidenceBlobStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    logger: JsonLogger,
    private readonly integrity: IntegrityMonitor,
    private readonly shutdown: ShutdownState,
  ) {
    this.log = logger.child('evidence');
  }

  @Post()
  async upload(@Req() req: Request, @Res() res: ServerResponse): Promise<void> {
    let stopRateWatch = () => {};
    let slot = false;
    let holder: string | null = null;
    try {
      const { actor, issuedAt } = await this.verifier.verifyAuthorizationSession(header(req, 'authorization'));
      // Refused before a byte is read: nothing stored for a client that may not store.
      const denied = domainWriterRefusal(actor, 'store an evidence file') ?? checkOperation('mutation', 'uploadEvidence', actor);
      if (denied) throw new UploadRefusedError(403, 'FORBIDDEN', denied);
      // While the log fails verification no event is appended: nor is a file stored for one.
      await this.integrity.whenWritable();
      const mine = this.uploadsByActor.get(actor.id) ?? 0;
      if (mine >= MAX_CONCURRENT_UPLOADS_PER_ACTOR) throw this.busy(res, 'uploads', `you have ${mine} uploads in progress (at most ${MAX_CONCURRENT_UPLOADS_PER_ACTOR} at once per user)`);
      slot = this.uploads.tryTake();
      if (!slot) throw this.busy(res, 'uploads');
      holder = actor.id;
      this.uploadsByActor.set(holder, mine + 1);
      // A client that stops sending loses the upload (UPLOAD_ABORTED) rather than holding its slot.
      req.setTimeout(EvidenceController.uploadIdleTimeoutMs, () => req.destroy());
      stopRateWatch = watchUploadRate(req);
      const maxBytes = this.config.evidence.maxBytes;
      const declared = checkDeclaration({ contentType: header(req, 'content-type'), filename: headerValues(req, 'x-filename'), contentLength: header(req, 'content-length') }, maxBytes);
      // A body parser that took the body (it would be for a type we refuse anyway) leaves nothing to hash.
      if (req._body || req.readableEnded) throw new UploadRefusedError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the body was consumed before it could be stored');
      const received = await receiveUpload(req, declared, this.blobs.uploadDir, maxBytes);
      // The body came in after the server closed to requests (its client stalled past the
      // shutdown drain): refused (503) as the edge refuses a late request, nothing stored.
      if (refuseWhenClosed(this.shutdown, req, res)) {
        await rm(received.tempPath, { force: true });
        return;
      }
      // The body is in: storing it and recording its event may take their time without the client.
      req.socket?.setTimeout(0);
      stopRateWatch();
      await this.blobs.put(received.sha256, received.tempPath, received.size);
      // The request's id (x-request-id, else x-correlation-id, else new: see request-id.ts). The
      // answerId only for the access log's entry (the event it names): this answer does not say
      // whether the read models confirmed the file's event.
      const correlationId = requestIdOf(req);
      const state = await this.commands.execute(
        new StoreEvidenceFileCommand({ sha256: received.sha256, size: received.size, mediaType: received.mediaType, filename: received.filename }, { actor, correlationId, answerId: answerIdOfRequest(req), credential: { issuedAt } }),
      );
      this.log.info('evidence file stored', { evidenceId: state.evidenceId, sha256: state.sha256, size: state.size, mediaType: state.mediaType, actorId: actor.id });
      res.setHeader('location', `/evidence/${state.evidenceId}`);
      sendJson(res, 201, { id: state.evidenceId, sha256: state.sha256, size: state.size, mediaType: state.mediaType, filename: state.filename });
    } catch (error) {
      // Whatever was not read is drained (and discarded), so the client can read the answer.
      if (!req.readableEnded) req.resume();
      this.refuse(res, error, 'upload');
    } finally {
      stopRateWatch();
      if (slot) this.uploads.release();
      if (holder !== null) {
        // The idle limit was this upload's: a connection kept alive for other requests does not inherit it.
        req.socket?.setTimeout(0);
        const left = (this.uploadsByActor.get(holder) ?? 1) - 1;
        if (left > 0) this.uploadsByActor.set(holder, left);
        else this.uploadsByActor.delete(holder);
      }
    }
  }

  @Get(':id')
  async download(@Param('id') id: string, @Req() req: Request, @Res() res: ServerResponse): Promise<void> {
    let slot = false;
    let streaming = false;
    try {
      const actor = await this.verifier.verifyAuthorization(header(req, 'authorization'));
      const denied = checkOperation('query', 'evidenceFile', actor);
      if (denied) throw new UploadRefusedError(403, 'FORBIDDEN', denied);
      // Ids are at most 128 characters (the contract's limit): a longer one names no file, and is not echoed back.
      const file = id.length <= INPUT_LIMITS.id ? await this.files.find(id) : null;
      // Nor is one with characters no id has (a NUL, a path): the answer shows only what an id can be.
      if (!file) throw new UploadRefusedError(404, 'NOT_FOUND', id.length > INPUT_LIMITS.id ? 'No evidence file has an id this long' : /^[A-Za-z0-9._:-]+$/.test(id) ? `Evidence ${id} not found` : 'No evidence file has such an id');
      const etag = `"${file.sha256}"`;
      res.setHeader('etag', etag);
      res.setHeader('cache-control', 'private, no-cache');
      res.setHeader('x-content-type-options', 'nosniff');
      // Answered before a byte of the blob is read: the client already holds bytes with that hash.
      if ((header(req, 'if-none-match') ?? '').split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
        res.statusCode = 304;
        return void res.end();
      }
      slot = this.downloads.tryTake();
      if (!slot) throw this.busy(res, 'downloads');
      res.setTimeout(EvidenceController.downloadIdleTimeoutMs, () => res.destroy());
      const handle = this.blobs.openBlob ? await this.blobs.openBlob(file.sha256) : undefined;
      if (handle === undefined) {
        const bytes = await this.blobs.read(file.sha256);
        this.checkBlob(file, bytes && sha256Of(bytes));
        this.writeHeaders(res, file, bytes!.length);
        return void res.end(bytes);
      }
      if (handle === null) this.checkBlob(file, null);
      await this.streamVerified(handle!, file, res, () => (streaming = true));
    } catch (error) {
      // Past the headers the client went away (or the disk failed mid-file): nothing more to answer.
      if (streaming) return void this.log.debug('evidence download cut short', { evidenceId: id, error: (error as Error).message });
      this.refuse(res, error, 'download');
    } finally {
      if (slot) {
        this.downloads.release();
        // The connection may serve further requests (keep-alive): the limit was this download's.
        if (!res.destroyed) res.socket?.setTimeout(0);
      }
    }
  }

  /** Hashes the file from disk, then (when it is the bytes the log pinned) streams it: never the whole file in memory. */
  private async streamVerified(handle: FileHandle, file: { id: string; sha256: string; mediaType: string; filename: string }, res: ServerResponse, started: () => void): Promise<void> {
    let closes = false;
    try {
      let size = 0;
      const hash = createHash('sha256');
      for await (const chunk of handle.createReadStream({ start: 0, autoClose: false })) {
        size += (chunk as Buffer).length;
        hash.update(chunk as Buffer);
      }
      this.checkBlob(file, hash.digest('hex'));
      this.writeHeaders(res, file, size);
      started();
      // Exactly the bytes hashed (the stream closes the handle when it ends or fails).
      const stream = handle.createReadStream({ start: 0, end: Math.max(size - 1, 0) });
      closes = true;
      await pipeline(stream, res);
    } finally {
      if (!closes) await handle.close();
    }
  }

  /** Throws when the blob is missing (`actual` null) or no longer hashes to the SHA-256 in the log. */
  private checkBlob(file: { id: string; sha256: string }, actual: string | null): void {
    // A missing or damaged blob is reported, never served.
    if (actual === null) {
      this.log.error('evidence file missing from the blob store', { evidenceId: file.id, sha256: file.sha256, blobs: this.blobs.description });
      throw new UploadRefusedError(500, 'EVIDENCE_FILE_MISSING', `the bytes of evidence ${file.id} (SHA-256 ${file.sha256}) are missing from the store`, { sha256: file.sha256 });
    }
    if (actual !== file.sha256) {
      this.log.error('evidence file damaged: its bytes no longer hash to the SHA-256 in the log', { evidenceId: file.id, sha256: file.sha256, actual, blobs: this.blobs.description });
      throw new UploadRefusedError(500, 'EVIDENCE_FILE_DAMAGED', `the stored bytes of evidence ${file.id} no longer hash to ${file.sha256} recorded in the log`, { sha256: file.sha256 });
    }
  }

  private writeHeaders(res: ServerResponse, file: { mediaType: string; filename: string }, size: number): void {
    res.statusCode = 200;
    res.setHeader('content-type', file.mediaType.startsWith('text/') ? `${file.mediaType}; charset=utf-8` : file.mediaType);
    res.setHeader('content-length', size);
    res.setHeader('content-disposition', contentDisposition(file.filename));
  }

  /**
   * The blob folder refusing this process (EACCES, EPERM: its owner changed; EROFS: remounted
   * read-only): a failing dependency, typed 503 STORE_UNAVAILABLE as a full disk is, with a warn
   * line and no stack (it answered 500 with a stack, re-probe 10 H1). Undefined for anything else.
   */
  private folderRefused(error: unknown, what: string): UploadRefusedError | undefined {
    const { code, syscall, path } = (error ?? {}) as NodeJS.ErrnoException;
    if (syscall === undefined || !(code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) return undefined;
    this.log.warn(`evidence ${what} failed: the evidence folder refuses this process`, { code, syscall, path, blobs: this.blobs.description });
    const refused = what === 'upload' ? `cannot be written (${code}): nothing was recorded` : `cannot be read (${code})`;
    return new UploadRefusedError(503, 'STORE_UNAVAILABLE', `the evidence files' storage ${refused}; retry later`);
  }

  /** The refusal when all slots of `what` are taken (with Retry-After). */
  private busy(res: ServerResponse, what: 'uploads' | 'downloads', why = `too many evidence ${what} in progress on this instance (at most ${MAX_CONCURRENT})`): UploadRefusedError {
    if (!res.headersSent) res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
    return new UploadRefusedError(503, 'SERVER_BUSY', `${why}: retry after ${RETRY_AFTER_SECONDS} s`, {
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    });
  }

  private refuse(res: ServerResponse, raw: unknown, what: string): void {
    const error = storeUnavailable(raw) ?? this.folderRefused(raw, what) ?? raw;
    if (error instanceof UploadRefusedError) {
      return sendJson(res, error.status, { error: { code: error.code, message: error.message, ...error.details } });
    }
    if (error instanceof DomainError) {
      // An upload or download has a valid token: its refusal for a failing log names the position in a header too, as documents do.
      if (error instanceof IntegrityBrokenError && error.position) res.setHeader(INTEGRITY_POSITION_HEADER, error.position);
      return sendJson(res, httpStatusOf(error), { error: { message: error.message, ...domainExtensions(error) } });
    }
    this.log.error(`evidence ${what} failed`, error);
    sendJson(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: `the ${what} failed on the server` } });
  }
}
