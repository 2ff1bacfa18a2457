/**
 * Receiving an upload: the request body is streamed to a temporary file while it is hashed and
 * counted (never held in memory, never parsed by a body parser), refused past the size limit
 * (early on Content-Length, else as soon as the count passes it), fsynced, then sniffed with
 * file-type against the declared media type. Only then is it handed to the blob store.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileTypeFromBuffer } from 'file-type';
import { filenameProblem } from '../domain/evidence-file.decider.js';
import { ALLOWED_MEDIA_TYPES, contentAgrees, isAllowedMediaType, isTextMediaType, mediaTypeEssence } from '../domain/media-types.js';

/** How much of the file's start is sniffed (Office files are recognised from their first zip entries). */
const SNIFF_BYTES = 4 * 1024 * 1024;

/** An upload refused: the HTTP status, a stable code, and what to tell the client. */
export class UploadRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'UploadRefusedError';
  }
}

export interface UploadHeaders {
  contentType: string | undefined;
  /** x-filename: each value it was sent with (req.rawHeaders), or the one value. */
  filename: string | readonly string[] | undefined;
  contentLength: string | undefined;
}

export interface DeclaredUpload {
  mediaType: string;
  filename: string;
}

export interface ReceivedUpload extends DeclaredUpload {
  tempPath: string;
  sha256: string;
  size: number;
}

/** x-filename as sent: plain ASCII, or percent-encoded UTF-8 (for names such as 取締役会議事録.pdf). */
function decodeFilename(raw: string): string | null {
  // Node reads header bytes as latin1: a raw UTF-8 name would be stored garbled.
  if (/[^\x00-\x7f]/.test(raw)) return null;
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** The checks made before a byte of the body is read. */
export function checkDeclaration(headers: UploadHeaders, maxBytes: number): DeclaredUpload {
  const mediaType = mediaTypeEssence(headers.contentType);
  if (!mediaType || !isAllowedMediaType(mediaType)) {
    throw new UploadRefusedError(415, 'UNSUPPORTED_MEDIA_TYPE', `content-type ${headers.contentType ?? '(none)'} is not an accepted evidence type`, { accepted: ALLOWED_MEDIA_TYPES });
  }
  const sent = typeof headers.filename === 'string' ? [headers.filename] : (headers.filename ?? []);
  // Node joins a repeated x-filename into one value ("one.txt, two.txt"), which was stored as the name.
  const raw = sent.length === 1 ? sent[0]! : undefined;
  const filename = raw === undefined ? null : decodeFilename(raw.trim());
  const problem =
    sent.length > 1
      ? `must be sent once (it was sent ${sent.length} times)`
      : filename === null
        ? raw === undefined
          ? 'is required'
          : 'must be ASCII or percent-encoded UTF-8 (percent-encode a UTF-8 name, e.g. with encodeURIComponent)'
        : filenameProblem(filename);
  if (problem || filename === null) throw new UploadRefusedError(400, 'BAD_USER_INPUT', `x-filename ${problem}`, { fields: { 'x-filename': problem } });
  if (headers.contentLength !== undefined) {
    const length = Number(headers.contentLength);
    if (Number.isFinite(length) && length > maxBytes) throw tooLarge(maxBytes);
  }
  return { mediaType, filename };
}

function tooLarge(maxBytes: number): UploadRefusedError {
  return new UploadRefusedError(413, 'PAYLOAD_TOO_LARGE', `an evidence file may be at most ${maxBytes} bytes (EVIDENCE_MAX_BYTES)`, { maxBytes });
}

/**
 * Streams `body` into a new file of `uploadDir`, hashing and counting it; refuses it past
 * `maxBytes`, when empty, or when its bytes contradict the declared type. On any refusal or
 * failure the temporary file is removed and the body is left unread for the caller to drain.
 */
export async function receiveUpload(body: Readable, declared: DeclaredUpload, uploadDir: string, maxBytes: number): Promise<ReceivedUpload> {
  const tempPath = join(uploadDir, `${randomUUID()}.part`);
  const sha = createHash('sha256');
  const text = isTextMediaType(declared.mediaType) ? new TextDecoder('utf-8', { fatal: true }) : null;
  let looksLikeText = true;
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxBytes) return done(tooLarge(maxBytes));
      sha.update(chunk);
      if (text && looksLikeText) {
        try {
          text.decode(chunk, { stream: true });
          if (chunk.includes(0)) looksLikeText = false;
        } catch {
          looksLikeText = false;
        }
      }
      done(null, chunk);
    },
  });
  // The body is piped, not pipelined: a refusal must not destroy the request (and its socket)
  // before the answer is written; the caller drains what is left.
  let interrupted: UploadRefusedError | null = null;
  const onAbort = () => {
    interrupted ??= new UploadRefusedError(400, 'UPLOAD_ABORTED', 'the upload was interrupted before its end');
    meter.destroy(interrupted);
  };
  const onClose = () => {
    if (!(body as Readable & { complete?: boolean }).complete) onAbort();
  };
  // The pipeline below reports the meter's error; a client leaving before it exists (while the
  // folder is made) destroys the meter with no one else listening, and an 'error' event nobody
  // listens to ends the process.
  meter.on('error', () => {});
  body.once('error', onAbort);
  body.once('close', onClose);
  try {
    // Re-created each time: a tmp cleaner may have removed a folder under the system's tmp.
    await mkdir(uploadDir, { recursive: true, mode: 0o700 });
    if (interrupted) throw interrupted;
    // A client gone before the listeners were attached (during the caller's awaits) fired 'close'
    // already: without this, nothing would ever end the pipeline below.
    const gone = body as Readable & { complete?: boolean; closed?: boolean };
    if ((gone.destroyed || gone.closed) && !gone.complete) throw new UploadRefusedError(400, 'UPLOAD_ABORTED', 'the upload was interrupted before its end');
    body.pipe(meter);
    await pipeline(meter, createWriteStream(tempPath, { flags: 'wx', mode: 0o600 }));
    if (text && looksLikeText) {
      try {
        text.decode();
      } catch {
        looksLikeText = false;
      }
    }
    if (size === 0) throw new UploadRefusedError(400, 'BAD_USER_INPUT', 'the file is empty', { fields: { body: 'is empty' } });
    const handle = await open(tempPath, 'r');
    let head: Buffer;
    try {
      await handle.sync();
      const buffer = Buffer.alloc(Math.min(size, SNIFF_BYTES));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
    const sniffed = await sniff(head);
    if (!contentAgrees(declared.mediaType, sniffed, looksLikeText)) {
      throw new UploadRefusedError(415, 'MEDIA_TYPE_MISMATCH', `the file's content is ${sniffed ?? (looksLikeText ? 'plain text' : 'unrecognised binary data')}, not the declared ${declared.mediaType}`, {
        declared: declared.mediaType,
        // What the message says: text that no magic number names is text/plain (new-user probe 7: null beside "plain text").
        detected: sniffed ?? (looksLikeText ? 'text/plain' : null),
      });
    }
    return { ...declared, tempPath, sha256: sha.digest('hex'), size };
  } catch (error) {
    body.unpipe(meter);
    await rm(tempPath, { force: true });
    throw error;
  } finally {
    body.off('error', onAbort);
    body.off('close', onClose);
  }
}

async function sniff(head: Buffer): Promise<string | null> {
  try {
    return (await fileTypeFromBuffer(head))?.mime ?? null;
  } catch {
    return null;
  }
}
