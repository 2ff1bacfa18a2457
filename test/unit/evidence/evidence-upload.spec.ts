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

  const refusal = (filename: string | string[]) => {
    try {
      checkDeclaration({ contentType: 'application/pdf', filename, contentLength: undefined }, MAX);
    } catch (e) {
      return e;
    }
    return null;
  };

  it('refuses a name holding a code point displayed as nothing there, naming it (report + U+034F + .pdf read as report.pdf, probe 8b)', () => {
    const invisible: [string, string][] = [
      ['report\u034F.pdf', 'U+034F'], // combining grapheme joiner
      ['report\uFE0F.pdf', 'U+FE0F'], // a variation selector after a letter with no variant
      ['report\uFE00.pdf', 'U+FE00'],
      ['report\u{E0100}.pdf', 'U+E0100'], // an ideographic variation selector after no ideograph
      ['report\u{E0001}.pdf', 'U+E0001'], // tag characters outside an emoji tag sequence
      ['report\u{E0041}\u{E007F}.pdf', 'U+E0041'],
      ['report\u200F.pdf', 'U+200F'], // right-to-left mark
      ['rep\u200Dort.pdf', 'U+200D'], // a joiner between ASCII letters
      ['report\u2065.pdf', 'U+2065'],
      ['report\u17B4.pdf', 'U+17B4'],
      ['\u{1F3F4}\u{E0067}\u{E0062}.pdf', 'U+E0067'], // a tag sequence with no CANCEL TAG
    ];
    for (const [name, codePoint] of invisible) {
      expect([name, refusal(encodeURIComponent(name))]).toMatchObject([name, { status: 400, code: 'BAD_USER_INPUT', details: { fields: { 'x-filename': expect.stringContaining(`must not contain ${codePoint}, a character displayed as nothing`) } } }]);
    }
  });

  it('keeps the joiners and variation selectors that change what is seen: kanji variants, emoji, Persian, a flag', () => {
    for (const name of ['葛\u{E0100}飾区.pdf', '❤\uFE0F.pdf', '1\uFE0F\u20E3 report.pdf', '👨\u200D👩\u200D👧.pdf', 'می\u200Cخواهم.pdf', '\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F} report.pdf']) {
      expect([name, refusal(encodeURIComponent(name))]).toEqual([name, null]);
    }
  });

  it('refuses x-filename sent twice (Node joined the two into "one.txt, two.txt", stored as the name)', () => {
    expect(refusal(['one.txt', 'two.txt'])).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', details: { fields: { 'x-filename': 'must be sent once (it was sent 2 times)' } } });
    expect(refusal(['one.txt'])).toBeNull();
    expect(refusal('one.txt, two.txt')).toBeNull(); // one header whose name holds a comma
    expect(refusal([])).toMatchObject({ details: { fields: { 'x-filename': 'is required' } } });
  });
});
