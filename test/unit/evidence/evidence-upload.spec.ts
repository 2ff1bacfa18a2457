/**
 * Receiving an upload (evidence-upload.ts) through a real temporary folder and file-type: a body
 * already gone, an upload folder removed under it, raw UTF-8 names, text that looks like a BMP.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { UploadRefusedError, checkDeclaration, receiveUpload } from '../../../src/evidence/application/evidence-upload.js';

const MAX = 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'risk-ledger-upload-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const body = (bytes: Buffer) => Readable.from([bytes]);

describe('receiveUpload', () => {
  it('refuses at once (UPLOAD_ABORTED) a body whose client went away before it was read, leaving no .part', async () => {
    const dir = join(work, 'gone');
    const req = new PassThrough();
    req.write('id,title\n');
    req.destroy();
    await new Promise((resolve) => req.once('close', resolve)); // 'close' fired before receiveUpload listens
    const error = await receiveUpload(req, { mediaType: 'text/csv', filename: 'x.csv' }, dir, MAX).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadRefusedError);
    expect(error).toMatchObject({ status: 400, code: 'UPLOAD_ABORTED' });
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('refuses (UPLOAD_ABORTED) a body whose client goes away while the upload folder is being made, and the process lives on', async () => {
    // The 'close' arrives while receiveUpload awaits mkdir, before anything is piped: it once
    // destroyed the byte counter with no listener for its error, which ended the process.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      for (let i = 0; i < 5; i++) {
        const dir = join(work, `leaving-${i}`);
        const req = new PassThrough();
        req.write('id,title\n');
        const received = receiveUpload(req, { mediaType: 'text/csv', filename: 'x.csv' }, dir, MAX).catch((e: unknown) => e);
        req.destroy();
        const error = await received;
        expect(error).toMatchObject({ status: 400, code: 'UPLOAD_ABORTED' });
        expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('re-creates an upload folder removed since the store opened (a tmp cleaner)', async () => {
    const dir = join(work, 'cleaned');
    const bytes = Buffer.from('id,title\n1,鍵管理\n');
    await receiveUpload(body(bytes), { mediaType: 'text/csv', filename: 'a.csv' }, dir, MAX).then((r) => rmSync(r.tempPath));
    rmSync(dir, { recursive: true, force: true });
    const received = await receiveUpload(body(bytes), { mediaType: 'text/csv', filename: 'a.csv' }, dir, MAX);
    expect(received.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(existsSync(received.tempPath)).toBe(true);
  });

  it('accepts a UTF-8 CSV that file-type takes for a BMP by its first two bytes', async () => {
    const csv = Buffer.from('BM-001,Backup of the hot wallet signer,IMPLEMENTED\nBM-002,鍵の分散保管,PLANNED\n');
    const received = await receiveUpload(body(csv), { mediaType: 'text/csv', filename: 'controls.csv' }, join(work, 'csv'), MAX);
    expect(received).toMatchObject({ mediaType: 'text/csv', size: csv.length });
    // Binary declared as text is still refused.
    const bmp = Buffer.concat([Buffer.from('BM'), Buffer.alloc(60, 0)]);
    await expect(receiveUpload(body(bmp), { mediaType: 'text/csv', filename: 'x.csv' }, join(work, 'csv'), MAX)).rejects.toMatchObject({ code: 'MEDIA_TYPE_MISMATCH' });
  });
});

describe('checkDeclaration: x-filename', () => {
  const declare = (filename: string) => checkDeclaration({ contentType: 'application/pdf', filename, contentLength: undefined }, MAX);

  it('refuses a raw (not percent-encoded) UTF-8 name, read by Node as latin1, saying to percent-encode it', () => {
    const raw = Buffer.from('取締役会議事録.pdf', 'utf8').toString('latin1');
    let error: unknown;
    try {
      declare(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', details: { fields: { 'x-filename': expect.stringMatching(/percent-encode/) } } });
    expect(declare(encodeURIComponent('取締役会議事録.pdf')).filename).toBe('取締役会議事録.pdf');
    expect(declare('minutes 2025.pdf').filename).toBe('minutes 2025.pdf');
  });

  it('refuses a percent-encoded bidi override', () => {
    expect(() => declare(encodeURIComponent('invoice\u202efdp.exe'))).toThrow(UploadRefusedError);
  });
});
