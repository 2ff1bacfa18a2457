import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createHash, createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { buildOnce } from './support/server-process.js';
import { cliProcess } from './support/cli-process.js';
import { TestApp, errorOf, users, type TestUser } from './support/test-app.js';
import { assetWithThreat, proposeAndApproveCriteria } from './support/scenario.js';
import { approvedPlan } from './documents/plan-scenario.js';
import { eventually } from '../support/eventually.js';
import { EVENT_STORE, ExpectedVersion, type EventStore } from '../../src/event-store/event-store.port.js';
import { annotationStreams } from '../../src/evidence/domain/evidence.events.js';

const MAX = 26_214_400;

/** A small but real PDF: file-type recognises it by its header. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
/** A 1x1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: any;
}

/** One HTTP request with node:http (so an early answer to a large body is read as the client would). */
function http(t: TestApp, method: string, path: string, headers: Record<string, string | number | string[]>, body?: Buffer | Readable): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${t.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        let json: any = null;
        try {
          json = JSON.parse(data.toString('utf8'));
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, json });
      });
    });
    req.on('error', reject);
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

async function upload(t: TestApp, user: TestUser | null, bytes: Buffer | Readable, contentType: string, filename: string, extra: Record<string, string | number | string[]> = {}): Promise<HttpAnswer> {
  const headers: Record<string, string | number | string[]> = { 'content-type': contentType, 'x-filename': filename, ...extra };
  if (user) headers.authorization = `Bearer ${await t.token(user)}`;
  if (Buffer.isBuffer(bytes)) headers['content-length'] = bytes.length;
  return http(t, 'POST', '/evidence', headers, bytes);
}

async function download(t: TestApp, user: TestUser, id: string, extra: Record<string, string> = {}): Promise<HttpAnswer> {
  return http(t, 'GET', `/evidence/${id}`, { authorization: `Bearer ${await t.token(user)}`, ...extra });
}

/** Every blob file under DATA_DIR/evidence (uploads in progress excluded). */
function blobs(dataDir: string): string[] {
  const root = join(dataDir, 'evidence');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== '.uploads')
    .flatMap((d) => readdirSync(join(root, d.name)).map((f) => join(root, d.name, f)));
}

const cli = (args: string[], env: Record<string, string>) => cliProcess(args, { LOG_LEVEL: 'warn', ...env });

const REGISTER = `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`;
const ATTACH = `mutation($input: AttachEvidenceInput!) { attachEvidence(input: $input) { id sha256 size mediaType filename description attachedBy attachedAt entityId source downloadPath } }`;
const EVIDENCE = `query($id: ID!) { evidence(entityId: $id) { id sha256 size mediaType filename description attachedBy source } }`;
const COMMENT = `mutation($input: AddCommentInput!) { addComment(input: $input) { id author { id name } text createdAt entityId } }`;
const COMMENTS = `query($id: ID!) { comments(entityId: $id) { id author { id name } text createdAt } }`;
const STORED = `{ events(types: ["EvidenceFileStored"], first: 500) { edges { node { data } } } }`;

describe('evidence files and comments (POST/GET /evidence, attachEvidence, addComment, export and verify)', () => {
  let t: TestApp;
  let work: string;
  let assetId: string;

  beforeAll(async () => {
    buildOnce();
    work = mkdtempSync(join(tmpdir(), 'risk-ledger-evidence-files-'));
    t = await TestApp.start();
    assetId = (await t.ok(REGISTER, { input: { name: 'Cold wallet HSM', category: 'HARDWARE', department: 'ops', managerId: 'mgr-ops', confidentiality: 3, integrity: 3, availability: 2 } }, users.opsManager)).registerAsset.id;
  }, 180_000);

  afterAll(async () => {
    await t?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('uploads, attaches, downloads with the right headers, exports and verifies offline; a tampered file fails verify by name', async () => {
    const name = '取締役会議事録 2025-04.pdf';
    const up = await upload(t, users.secretary, PDF, 'application/pdf', encodeURIComponent(name), { 'x-request-id': 'upload-trace-7' });
    expect(up.status).toBe(201);
    // The request id (x-request-id, echoed back) is the correlationId of the event the upload caused.
    expect(up.headers['x-request-id']).toBe('upload-trace-7');
    const storedEvents = (await t.ok(`{ events(types: ["EvidenceFileStored"], first: 500) { edges { node { data metadata { correlationId } } } } }`, {}, users.auditor)).events.edges;
    expect(storedEvents.find((e: any) => e.node.data.evidenceId === up.json.id).node.metadata.correlationId).toBe('upload-trace-7');
    expect(up.json).toEqual({ id: expect.any(String), sha256: sha256(PDF), size: PDF.length, mediaType: 'application/pdf', filename: name });
    const evidenceId = up.json.id as string;
    // Content-addressed: the blob's name is its hash, never the client's file name.
    expect(blobs(t.dataDir)).toEqual([join(t.dataDir, 'evidence', sha256(PDF).slice(0, 2), sha256(PDF))]);

    const { attachEvidence } = await t.ok(ATTACH, { input: { entityId: assetId, evidenceId, description: 'Board minutes approving the HSM purchase' } }, users.opsManager);
    expect(attachEvidence).toMatchObject({ id: evidenceId, sha256: sha256(PDF), size: PDF.length, filename: name, attachedBy: 'mgr-ops', entityId: assetId, source: 'ATTACHMENT', downloadPath: `/evidence/${evidenceId}` });
    // The same file attached again changes nothing; with another description it is refused (it was answered as done, the description dropped).
    await t.ok(ATTACH, { input: { entityId: assetId, evidenceId, description: 'Board minutes approving the HSM purchase' } }, users.opsManager);
    expect(errorOf(await t.gql(ATTACH, { input: { entityId: assetId, evidenceId, description: 'again' } }, users.opsManager)).extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'EVIDENCE_ALREADY_ATTACHED', article: 'Art.5(4)' });
    const { evidence } = await t.ok(EVIDENCE, { id: assetId }, users.auditor);
    expect(evidence).toEqual([expect.objectContaining({ id: evidenceId, description: 'Board minutes approving the HSM purchase' })]);
    const history = (await t.ok(`query($id: ID!) { history(id: $id) { type data } }`, { id: assetId }, users.auditor)).history;
    expect(history.map((e: any) => e.type)).toEqual(['AssetRegistered', 'EvidenceAttached']);
    expect(history[1].data.sha256).toBe(sha256(PDF));

    const got = await download(t, users.auditor, evidenceId);
    expect(got.status).toBe(200);
    expect(got.body.equals(PDF)).toBe(true);
    expect(got.headers['content-type']).toBe('application/pdf');
    expect(got.headers['content-length']).toBe(String(PDF.length));
    expect(got.headers['content-disposition']).toBe(`attachment; filename="${name.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`);
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers.etag).toBe(`"${sha256(PDF)}"`);
    expect((await download(t, users.auditor, evidenceId, { 'if-none-match': `"${sha256(PDF)}"` })).status).toBe(304);
    // Downloads under /evidence/ are access-logged.
    // The entry is written once the answer has gone out: wait for it (bounded).
    let log: any[] = [];
    for (let i = 0; i < 100 && !log.some((e) => e.operationName === `GET /evidence/${evidenceId}`); i++) {
      if (i) await new Promise((r) => setTimeout(r, 20));
      log = (await t.ok(`{ accessLog(first: 500) { edges { node { operationName targetIds outcome actorId } } } }`, {}, users.auditor)).accessLog.edges.map((e: any) => e.node);
    }
    expect(log).toContainEqual(expect.objectContaining({ operationName: `GET /evidence/${evidenceId}`, targetIds: [evidenceId], outcome: 'ALLOWED', actorId: 'auditor' }));

    const exportFile = join(work, 'log.ndjson');
    const env = { EVENT_STORE: 'sqlite', SQLITE_PATH: join(t.dataDir, 'events.sqlite'), DATA_DIR: t.dataDir };
    const exported = await cli(['export', '--out', exportFile], env);
    expect(exported.code).toBe(0);
    const manifest = JSON.parse(readFileSync(`${exportFile}.manifest.json`, 'utf8'));
    expect(manifest.evidenceFiles).toEqual({ dir: 'log.ndjson.evidence', files: [{ sha256: sha256(PDF), size: PDF.length }], missing: [] });
    const copy = join(`${exportFile}.evidence`, sha256(PDF));
    expect(readFileSync(copy).equals(PDF)).toBe(true);

    const verified = await cli(['verify', exportFile], {});
    expect(verified.code).toBe(0);
    expect(verified.json).toMatchObject({ ok: true, evidenceFilesChecked: 1 });

    // An import restores the file with the log: the restored installation serves and exports it.
    const restored = mkdtempSync(join(work, 'restored-'));
    const restoredEnv = { EVENT_STORE: 'sqlite', SQLITE_PATH: join(restored, 'events.sqlite'), DATA_DIR: restored };
    // The restored installation has a new key: the exporting one's is named as trusted.
    const exporterKey = join(work, 'exporter-public.pem');
    writeFileSync(exporterKey, createPublicKey(createPrivateKey(readFileSync(join(t.dataDir, 'signing-key.pem'), 'utf8'))).export({ type: 'spki', format: 'pem' }).toString());
    const imported = await cli(['import', exportFile, '--trusted-key', exporterKey], restoredEnv);
    expect(imported.code).toBe(0);
    expect(imported.json).toMatchObject({ ok: true, evidenceFilesRestored: 1 });
    expect(blobs(restored).map((f) => readFileSync(f).equals(PDF))).toEqual([true]);
    const reexported = await cli(['export', '--out', join(restored, 'again.ndjson')], restoredEnv);
    expect(reexported.code).toBe(0);
    expect(readFileSync(join(restored, 'again.ndjson.evidence', sha256(PDF))).equals(PDF)).toBe(true);

    const tampered = Buffer.from(PDF);
    tampered[20] = tampered[20]! ^ 1;
    writeFileSync(copy, tampered);
    const broken = await cli(['verify', exportFile], {});
    expect(broken.code).toBe(1);
    expect(broken.json.ok).toBe(false);
    expect(broken.json.reason).toContain(copy);
    expect(broken.json.reason).toContain('altered');

    rmSync(copy);
    const missing = await cli(['verify', exportFile], {});
    expect(missing.code).toBe(1);
    expect(missing.json.reason).toContain(`${copy} cited by the log is missing`);
  }, 120_000);

  it('answers a commandId used again for the same file on the same entity with the first attachment; for another file or entity it is BAD_USER_INPUT and nothing is attached (re-probe F1)', async () => {
    const first = (await upload(t, users.secretary, Buffer.from('first minutes'), 'text/plain', 'first.txt')).json.id as string;
    const second = (await upload(t, users.secretary, Buffer.from('second minutes'), 'text/plain', 'second.txt')).json.id as string;
    const otherAsset = (await t.ok(REGISTER, { input: { name: 'Hot wallet signer', category: 'HARDWARE', department: 'ops', managerId: 'mgr-ops', confidentiality: 3, integrity: 3, availability: 2 } }, users.opsManager)).registerAsset.id;
    const answer = (await t.ok(ATTACH, { input: { entityId: assetId, evidenceId: first, description: 'First', commandId: 'attach-once-1' } }, users.opsManager)).attachEvidence;
    expect(answer).toMatchObject({ id: first, entityId: assetId, description: 'First' });
    // The retry: the first attachment. With another description it is another request (README probe M3).
    expect((await t.ok(ATTACH, { input: { entityId: assetId, evidenceId: first, description: 'First', commandId: 'attach-once-1' } }, users.opsManager)).attachEvidence).toEqual(answer);
    const described = errorOf(await t.gql(ATTACH, { input: { entityId: assetId, evidenceId: first, description: 'Again', commandId: 'attach-once-1' } }, users.opsManager));
    expect(described.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/another input/) } });
    // Another file on the same entity, then another entity (with no notes yet: its stream does not exist):
    // they answered the first attachment and attached nothing.
    for (const input of [{ entityId: assetId, evidenceId: second }, { entityId: otherAsset, evidenceId: second }, { entityId: otherAsset, evidenceId: first }]) {
      const again = errorOf(await t.gql(ATTACH, { input: { ...input, description: 'Second', commandId: 'attach-once-1' } }, users.opsManager));
      expect(again.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/another entity/) } });
    }
    const listed = async (id: string) => (await t.ok(EVIDENCE, { id }, users.auditor)).evidence.map((e: { id: string }) => e.id);
    expect(await listed(assetId)).not.toContain(second);
    expect(await listed(otherAsset)).toEqual([]);
    // A comment's key on another entity (with no notes yet), likewise.
    const thirdAsset = (await t.ok(REGISTER, { input: { name: 'Cold wallet signer', category: 'HARDWARE', department: 'ops', managerId: 'mgr-ops', confidentiality: 3, integrity: 3, availability: 2 } }, users.opsManager)).registerAsset.id;
    const comment = (await t.ok(COMMENT, { input: { entityId: otherAsset, text: 'Minutes filed', commandId: 'comment-once-1' } }, users.opsManager)).addComment;
    expect((await t.ok(COMMENT, { input: { entityId: otherAsset, text: 'Minutes filed', commandId: 'comment-once-1' } }, users.opsManager)).addComment).toEqual(comment);
    const elsewhere = errorOf(await t.gql(COMMENT, { input: { entityId: thirdAsset, text: 'Minutes filed', commandId: 'comment-once-1' } }, users.opsManager));
    expect(elsewhere.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/another entity/) } });
    expect((await t.ok(COMMENTS, { id: thirdAsset }, users.auditor)).comments).toEqual([]);
  });

  it('refuses a 26 MB upload with 413, by Content-Length and mid-stream, and stores nothing', async () => {
    const storedBefore = (await t.ok(STORED, {}, users.auditor)).events.edges.length;
    const blobsBefore = blobs(t.dataDir);
    const big = Buffer.alloc(26 * 1024 * 1024, 0x41);
    big.write('%PDF-1.4\n', 0, 'latin1');
    const early = await upload(t, users.ciso, big, 'application/pdf', 'big.pdf');
    expect(early.status).toBe(413);
    expect(early.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', maxBytes: MAX });

    // No Content-Length (chunked): counted while it streams, refused once past the limit.
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    const stream = Readable.from((function* () {
      for (let i = 0; i < 26; i++) yield chunk;
    })());
    const late = await upload(t, users.ciso, stream, 'text/plain', 'big.txt');
    expect(late.status).toBe(413);
    expect(late.json.error.code).toBe('PAYLOAD_TOO_LARGE');

    expect(blobs(t.dataDir)).toEqual(blobsBefore);
    expect(readdirSync(join(t.dataDir, 'evidence', '.uploads'))).toEqual([]);
    expect((await t.ok(STORED, {}, users.auditor)).events.edges.length).toBe(storedBefore);
  }, 60_000);

  it('refuses a declared type the bytes contradict, an unaccepted type and a bad file name, with a code', async () => {
    const pngAsPdf = await upload(t, users.ciso, PNG, 'application/pdf', 'minutes.pdf');
    expect(pngAsPdf.status).toBe(415);
    expect(pngAsPdf.json.error).toMatchObject({ code: 'MEDIA_TYPE_MISMATCH', declared: 'application/pdf', detected: 'image/png' });
    const pdfAsText = await upload(t, users.ciso, PDF, 'text/plain', 'notes.txt');
    expect(pdfAsText.json.error).toMatchObject({ code: 'MEDIA_TYPE_MISMATCH', detected: 'application/pdf' });
    const textAsPng = await upload(t, users.ciso, Buffer.from('just words'), 'image/png', 'x.png');
    expect(textAsPng.json.error).toMatchObject({ code: 'MEDIA_TYPE_MISMATCH', detected: 'text/plain', message: "the file's content is plain text, not the declared image/png" });
    const binaryAsCsv = await upload(t, users.ciso, Buffer.from([0xff, 0xfe, 0x00, 0x01]), 'text/csv', 'x.csv');
    expect(binaryAsCsv.json.error.code).toBe('MEDIA_TYPE_MISMATCH');
    const exe = await upload(t, users.ciso, Buffer.from('MZ'), 'application/x-msdownload', 'x.exe');
    expect(exe.status).toBe(415);
    expect(exe.json.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const path = await upload(t, users.ciso, PDF, 'application/pdf', '../../etc/passwd');
    expect(path.status).toBe(400);
    expect(path.json.error.fields).toHaveProperty('x-filename');
    // A name that reads as another (U+034F displays as nothing), and x-filename sent twice (Node
    // joined them into "one.txt, two.txt", stored as the name): refused, nothing stored (probe 8b).
    const storedBefore = (await t.ok(STORED, {}, users.auditor)).events.edges.length;
    const invisible = await upload(t, users.ciso, PDF, 'application/pdf', 'report%CD%8F.pdf');
    expect(invisible.status).toBe(400);
    expect(invisible.json.error).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'x-filename': expect.stringContaining('must not contain U+034F') } });
    const twice = await upload(t, users.ciso, PDF, 'application/pdf', 'one.pdf', { 'x-filename': ['one.pdf', 'two.pdf'] });
    expect(twice.status).toBe(400);
    expect(twice.json.error).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'x-filename': 'must be sent once (it was sent 2 times)' } });
    expect((await t.ok(STORED, {}, users.auditor)).events.edges.length).toBe(storedBefore);
    const csv = await upload(t, users.ciso, Buffer.from('id,title\n1,鍵管理\n'), 'text/csv; charset=utf-8', 'controls.csv');
    expect(csv.status).toBe(201);
    expect(csv.json.mediaType).toBe('text/csv');
  });

  it('answers NOT_FOUND for unknown ids, 401 without a token, and refuses an AUDITOR (storing nothing)', async () => {
    expect((await download(t, users.ciso, randomUUID())).status).toBe(404);
    // Neither is a path or a NUL: only what an id can be is echoed.
    for (const odd of ['..%2F..%2Fevents.sqlite', '%00', 'a%0Ab']) {
      const answer = await download(t, users.ciso, odd);
      expect([odd, answer.status, answer.body.toString()]).toEqual([odd, 404, expect.stringContaining('No evidence file has such an id')]);
    }
    // An id far past the limit is not echoed back.
    const long = await download(t, users.ciso, 'x'.repeat(5_000));
    expect({ status: long.status, echoed: long.body.toString().includes('x'.repeat(200)) }).toEqual({ status: 404, echoed: false });
    expect((await upload(t, null, PDF, 'application/pdf', 'a.pdf')).status).toBe(401);
    const { id } = (await upload(t, users.ciso, PDF, 'application/pdf', 'unattached.pdf')).json;
    expect(errorOf(await t.gql(ATTACH, { input: { entityId: randomUUID(), evidenceId: id, description: 'd' } }, users.ciso)).extensions.code).toBe('NOT_FOUND');
    expect(errorOf(await t.gql(ATTACH, { input: { entityId: '', evidenceId: id, description: 'd' } }, users.ciso)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { entityId: 'must not be blank: an id names an entity' } });
    expect(errorOf(await t.gql(ATTACH, { input: { entityId: assetId, evidenceId: randomUUID(), description: 'd' } }, users.ciso)).extensions.code).toBe('NOT_FOUND');
    expect(errorOf(await t.gql(COMMENT, { input: { entityId: randomUUID(), text: 'hello' } }, users.ciso)).extensions.code).toBe('NOT_FOUND');
    expect(errorOf(await t.gql(COMMENTS, { id: randomUUID() }, users.ciso)).extensions.code).toBe('NOT_FOUND');
    expect(errorOf(await t.gql(EVIDENCE, { id: randomUUID() }, users.ciso)).extensions.code).toBe('NOT_FOUND');
    // Names every JavaScript object has are no entity either (a plain-object lookup once took them for one).
    const logSize = async () => (await t.ok(`{ events(first: 1) { totalCount } }`, {}, users.auditor)).events.totalCount as number;
    const appendedBefore = await logSize();
    for (const entityId of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect([entityId, errorOf(await t.gql(COMMENT, { input: { entityId, text: 'hi' } }, users.ciso)).extensions.code]).toEqual([entityId, 'NOT_FOUND']);
      expect([entityId, errorOf(await t.gql(ATTACH, { input: { entityId, evidenceId: id, description: 'd' } }, users.ciso)).extensions.code]).toEqual([entityId, 'NOT_FOUND']);
      expect([entityId, errorOf(await t.gql(COMMENTS, { id: entityId }, users.ciso)).extensions.code]).toEqual([entityId, 'NOT_FOUND']);
      expect([entityId, errorOf(await t.gql(EVIDENCE, { id: entityId }, users.ciso)).extensions.code]).toEqual([entityId, 'NOT_FOUND']);
    }
    expect(await logSize()).toBe(appendedBefore);

    const storedBefore = (await t.ok(STORED, {}, users.auditor)).events.edges.length;
    const blobsBefore = blobs(t.dataDir);
    const auditorUpload = await upload(t, users.auditor, PNG, 'image/png', 'audit.png');
    expect(auditorUpload.status).toBe(403);
    expect(auditorUpload.json.error.code).toBe('FORBIDDEN');
    expect(blobs(t.dataDir)).toEqual(blobsBefore);
    expect((await t.ok(STORED, {}, users.auditor)).events.edges.length).toBe(storedBefore);
    expect(errorOf(await t.gql(ATTACH, { input: { entityId: assetId, evidenceId: id, description: 'd' } }, users.auditor)).extensions.code).toBe('FORBIDDEN');
    expect(errorOf(await t.gql(COMMENT, { input: { entityId: assetId, text: 'I object' } }, users.auditor)).extensions.code).toBe('FORBIDDEN');
    // Nor does a token with no role but ADMIN (it writes no domain data: probe 7 F2).
    const adminUpload = await upload(t, users.admin, PNG, 'image/png', 'minutes.png');
    expect([adminUpload.status, adminUpload.json.error.code]).toEqual([403, 'FORBIDDEN']);
    expect(adminUpload.json.error.message).toContain('writes no domain data');
    expect(blobs(t.dataDir)).toEqual(blobsBefore);
    expect(errorOf(await t.gql(ATTACH, { input: { entityId: assetId, evidenceId: id, description: 'Board minutes (signed)' } }, users.admin)).extensions.code).toBe('FORBIDDEN');
    // An auditor reads: the file downloads.
    expect((await download(t, users.auditor, id)).status).toBe(200);
  });

  it('deduplicates 16 concurrent uploads of the same file: one id, one blob, one event', async () => {
    const bytes = Buffer.concat([PNG, Buffer.from(randomUUID())]);
    // At most 4 uploads at once, 2 per user (four users here): a client told 503 (Retry-After)
    // tries again, as it should.
    const uploaders = [users.committee, users.ciso, users.opsManager, users.riskOwner];
    const uploadRetrying = async (_: unknown, i: number): Promise<HttpAnswer> => {
      for (let attempt = 0; ; attempt++) {
        const answer = await upload(t, uploaders[i % uploaders.length]!, bytes, 'image/png', 'firewall-test.png');
        if (answer.status !== 503 || attempt >= 200) return answer;
        expect(answer.headers['retry-after']).toBe('1');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const answers = await Promise.all(Array.from({ length: 16 }, uploadRetrying));
    expect(answers.map((a) => a.status)).toEqual(Array(16).fill(201));
    const ids = new Set(answers.map((a) => a.json.id));
    expect(ids.size).toBe(1);
    expect(blobs(t.dataDir).filter((p) => p.endsWith(sha256(bytes)))).toHaveLength(1);
    const stored = (await t.ok(STORED, {}, users.auditor)).events.edges.filter((e: any) => e.node.data.sha256 === sha256(bytes));
    expect(stored).toHaveLength(1);
    expect(readdirSync(join(t.dataDir, 'evidence', '.uploads'))).toEqual([]);
  }, 60_000);

  it('cuts a download whose client takes nothing for the idle limit, freeing its place: four that never read kept every other download out for good (re-probe 9)', async () => {
    const { EvidenceController } = await import('../../src/evidence/http/evidence.controller.js');
    const { id } = (await upload(t, users.ciso, Buffer.alloc(8 * 1024 * 1024, `large ${randomUUID()}\n`), 'text/plain', 'large.txt')).json;
    const token = await t.token(users.ciso);
    const before = EvidenceController.downloadIdleTimeoutMs;
    EvidenceController.downloadIdleTimeoutMs = 400;
    const stuck = [];
    try {
      // Four downloads asked for, the sockets half-closed, nothing read: every place is taken.
      for (let i = 0; i < 4; i++) {
        const socket = connect(Number(new URL(t.url).port), '127.0.0.1');
        socket.on('error', () => undefined);
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.pause();
        socket.end(`GET /evidence/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
        stuck.push(socket);
      }
      await new Promise((r) => setTimeout(r, 100));
      expect((await download(t, users.ciso, id)).status).toBe(503);
      // Past the idle limit they are cut, and a download is served whole. While the limit is 400 ms,
      // a loaded machine may stall this very client long enough for its own download to be cut too
      // (a hang-up): that try counts as "not yet".
      await eventually('a download to be served again', async () =>
        download(t, users.ciso, id).then((answer) => answer.status === 200, () => false),
      );
      EvidenceController.downloadIdleTimeoutMs = before;
      const served = await download(t, users.ciso, id);
      expect([served.status, served.body.length]).toEqual([200, 8 * 1024 * 1024]);
    } finally {
      EvidenceController.downloadIdleTimeoutMs = before;
      for (const socket of stuck) socket.destroy();
    }
  }, 60_000);

  it('takes at most 4 uploads at once: a fifth is answered 503 SERVER_BUSY with Retry-After, and nothing is stored for it', async () => {
    const uploads = join(t.dataDir, 'evidence', '.uploads');
    // Four users (one user holds at most 2 at once, below).
    const tokens = await Promise.all([users.ciso, users.committee, users.opsManager, users.riskOwner].map((u) => t.token(u)));
    const bodies = Array.from({ length: 4 }, () => new PassThrough());
    const contents = bodies.map(() => Buffer.from(`held open ${randomUUID()}\n`));
    const held = bodies.map((body, i) => {
      body.write(contents[i]!.subarray(0, 5));
      return http(t, 'POST', '/evidence', { authorization: `Bearer ${tokens[i]}`, 'content-type': 'text/plain', 'x-filename': `held-${i}.txt` }, body);
    });
    // All four are being received once their four .part files exist (bounded wait).
    await eventually('the four uploads to be received (their .part files)', () => readdirSync(uploads).length >= 4);
    expect(readdirSync(uploads)).toHaveLength(4);
    const fifth = await upload(t, users.ciso, Buffer.from(`fifth ${randomUUID()}\n`), 'text/plain', 'fifth.txt');
    expect(fifth.status).toBe(503);
    expect(fifth.headers['retry-after']).toBe('1');
    expect(fifth.json.error).toMatchObject({ code: 'SERVER_BUSY', retryAfterSeconds: 1 });
    expect(readdirSync(uploads)).toHaveLength(4);
    // The four finish and are stored; their slots are free again.
    bodies.forEach((body, i) => body.end(contents[i]!.subarray(5)));
    const answers = await Promise.all(held);
    expect(answers.map((a) => [a.status, a.json.sha256])).toEqual(contents.map((c) => [201, sha256(c)]));
    expect((await upload(t, users.ciso, Buffer.from(`sixth ${randomUUID()}\n`), 'text/plain', 'sixth.txt')).status).toBe(201);
    expect(readdirSync(uploads)).toEqual([]);
  }, 60_000);

  it('an upload in flight while the CLI exports the log is stored: the export opens the same evidence folder and left it its .part (it answered 500, ENOENT)', async () => {
    const uploads = join(t.dataDir, 'evidence', '.uploads');
    const body = new PassThrough();
    const content = Buffer.from(`received across an export ${randomUUID()}\n`);
    body.write(content.subarray(0, 10));
    const answer = http(t, 'POST', '/evidence', { authorization: `Bearer ${await t.token(users.ciso)}`, 'content-type': 'text/plain', 'x-filename': 'across-export.txt' }, body);
    await eventually('the upload to be received (its .part file)', () => readdirSync(uploads).length >= 1);
    const exported = await cli(['export', '--out', join(work, `during-upload-${randomUUID()}.ndjson`)], { EVENT_STORE: 'sqlite', SQLITE_PATH: join(t.dataDir, 'events.sqlite'), DATA_DIR: t.dataDir });
    expect(exported.code).toBe(0);
    body.end(content.subarray(10));
    const done = await answer;
    expect([done.status, done.json.sha256]).toEqual([201, sha256(content)]);
    expect((await download(t, users.auditor, done.json.id)).body.equals(content)).toBe(true);
  }, 60_000);

  it('lets one user hold at most 2 uploads at once, and drops an upload whose client stops sending', async () => {
    const uploads = join(t.dataDir, 'evidence', '.uploads');
    const token = await t.token(users.ciso);
    const bodies = [new PassThrough(), new PassThrough()];
    const held = bodies.map((body, i) => {
      body.write('trickle');
      return http(t, 'POST', '/evidence', { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'x-filename': `mine-${i}.txt` }, body);
    });
    await eventually('the two uploads to be received (their .part files)', () => readdirSync(uploads).length >= 2);
    const third = await upload(t, users.ciso, Buffer.from(`third ${randomUUID()}\n`), 'text/plain', 'third.txt');
    expect(third.status).toBe(503);
    expect(third.json.error).toMatchObject({ code: 'SERVER_BUSY', message: expect.stringContaining('at most 2 at once per user') });
    // Another user is not held up by them.
    expect((await upload(t, users.committee, Buffer.from(`other ${randomUUID()}\n`), 'text/plain', 'other.txt')).status).toBe(201);
    bodies.forEach((body) => body.end('\n'));
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([201, 201]);

    // A client that goes silent mid-upload loses it, and its slot, after the idle limit.
    const { EvidenceController } = await import('../../src/evidence/http/evidence.controller.js');
    const before = EvidenceController.uploadIdleTimeoutMs;
    EvidenceController.uploadIdleTimeoutMs = 300;
    try {
      const silent = new PassThrough();
      silent.write('half a file');
      const started = Date.now();
      const dropped = await http(t, 'POST', '/evidence', { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'x-filename': 'silent.txt' }, silent).then(
        (answer) => `answered ${answer.status}`,
        (error: Error) => `connection ${error.message}`,
      );
      expect(dropped).toMatch(/^connection /);
      expect(Date.now() - started).toBeLessThan(10_000);
      await eventually('the dropped upload\'s .part file to be removed', () => readdirSync(uploads).length === 0);
      expect(readdirSync(uploads)).toEqual([]);
    } finally {
      EvidenceController.uploadIdleTimeoutMs = before;
    }
    // A client that keeps sending, a byte at a time, slower than the minimum rate loses it too once
    // the grace period is over (the idle limit alone never fired for it).
    const [grace, rate] = [EvidenceController.uploadRateGraceMs, EvidenceController.uploadMinBytesPerSecond];
    EvidenceController.uploadRateGraceMs = 400;
    try {
      const trickle = new PassThrough();
      const dripping = setInterval(() => trickle.write('x'), 50);
      const started = Date.now();
      const dropped = await http(t, 'POST', '/evidence', { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'x-filename': 'trickle.txt' }, trickle).then(
        (answer) => `answered ${answer.status}`,
        (error: Error) => `connection ${error.message}`,
      ).finally(() => clearInterval(dripping));
      expect(dropped).toMatch(/^connection /);
      expect(Date.now() - started).toBeLessThan(10_000);
      await eventually('the dropped upload\'s .part file to be removed', () => readdirSync(uploads).length === 0);
      expect(readdirSync(uploads)).toEqual([]);
    } finally {
      [EvidenceController.uploadRateGraceMs, EvidenceController.uploadMinBytesPerSecond] = [grace, rate];
    }
    expect((await upload(t, users.ciso, Buffer.from(`after ${randomUUID()}\n`), 'text/plain', 'after.txt')).status).toBe(201);
  }, 60_000);

  it('answers an upload whose client half-closes its socket once the whole body is sent (nc -N), and drops one whose body the half-close cut short (probe 8b)', async () => {
    const token = await t.token(users.ciso);
    /** What the server sends back on a raw socket the client ends (FIN) right after writing `text`. */
    const halfClosed = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(t.url).port), '127.0.0.1');
        let answer = '';
        socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
        socket.on('error', reject);
        socket.on('close', () => resolve(answer));
        socket.end(text);
      });
    const head = (length: number) => `POST /evidence HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: text/plain\r\nX-Filename: half-closed.txt\r\nContent-Length: ${length}\r\n\r\n`;
    const body = `sent whole, then shutdown(SHUT_WR) ${randomUUID()}\n`;
    const answer = await halfClosed(head(Buffer.byteLength(body)) + body);
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    const stored = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(stored).toMatchObject({ sha256: sha256(Buffer.from(body)), filename: 'half-closed.txt' });
    expect((await download(t, users.ciso, stored.id)).body.toString('utf8')).toBe(body);

    // A body the FIN cut short is refused (the parser's 400) and nothing is stored for it.
    const storedBefore = (await t.ok(STORED, {}, users.auditor)).events.edges.length;
    expect(await halfClosed(head(1000) + 'only part of it')).toMatch(/^HTTP\/1\.1 400 /);
    await eventually("the cut upload's .part file to be removed", () => readdirSync(join(t.dataDir, 'evidence', '.uploads')).length === 0);
    expect((await t.ok(STORED, {}, users.auditor)).events.edges.length).toBe(storedBefore);
  }, 60_000);

  it('never serves a damaged blob silently', async () => {
    const bytes = Buffer.from(`incident report ${randomUUID()}\n`);
    const { id, sha256: hash } = (await upload(t, users.ciso, bytes, 'text/plain', 'report.txt')).json;
    writeFileSync(join(t.dataDir, 'evidence', hash.slice(0, 2), hash), 'altered on disk\n');
    // verify-store reads back every file the log cites: found without anyone downloading it (insider probe p14, L2).
    const env = { EVENT_STORE: 'sqlite', SQLITE_PATH: join(t.dataDir, 'events.sqlite'), DATA_DIR: t.dataDir };
    const scrubbed = await cli(['verify-store'], env);
    expect(scrubbed.code).toBe(1);
    expect(scrubbed.json).toMatchObject({ ok: false, evidenceFilesDamaged: [hash], reason: expect.stringMatching(new RegExp(`^1 evidence file\\(s\\) cited by the log are missing or altered in .*, first ${hash}$`)) });
    const got = await download(t, users.ciso, id);
    expect(got.status).toBe(500);
    expect(got.json.error).toMatchObject({ code: 'EVIDENCE_FILE_DAMAGED', sha256: hash });
    // A client holding the bytes (ETag = their SHA-256) is answered 304 before the blob is read at all.
    const revalidated = await download(t, users.ciso, id, { 'if-none-match': `"${hash}"` });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.etag).toBe(`"${hash}"`);
    // A new upload of the same bytes repairs it.
    expect((await upload(t, users.ciso, bytes, 'text/plain', 'report.txt')).status).toBe(201);
    expect((await download(t, users.ciso, id)).body.equals(bytes)).toBe(true);
    const repaired = await cli(['verify-store'], env);
    expect(repaired.code).toBe(0);
    expect(repaired.json).toMatchObject({ ok: true, evidenceFilesChecked: expect.any(Number), evidenceFilesDamaged: [] });
    expect(repaired.json.evidenceFilesChecked).toBeGreaterThan(0);
  });

  it('a commandId an older build recorded for a comment (no commandType), used again to attach a file, is BAD_USER_INPUT, not a NOT_FOUND naming the file (upgrade probe F4)', async () => {
    const { assetId: target } = await assetWithThreat(t, `Legacy key asset ${randomUUID().slice(0, 8)}`, { c: 1, i: 1, a: 1 });
    // The comment as a build before 2026-12-03 recorded it: its metadata names the key, not the command.
    const actor = { id: users.opsManager.sub, name: users.opsManager.name, roles: [...users.opsManager.roles] };
    const at = new Date().toISOString();
    await t.app.get<EventStore>(EVENT_STORE).appendMultiple([{
      streamId: annotationStreams.streamOf(target),
      expectedVersion: ExpectedVersion.noStream,
      events: [{
        eventId: randomUUID(), type: 'CommentAdded', schemaVersion: 1,
        data: { commentId: randomUUID(), entityId: target, entityKind: 'ASSET', text: 'Firmware checked', authorId: actor.id, authorName: actor.name, addedAt: at },
        metadata: { actor, occurredAt: at, correlationId: 'legacy', causationId: 'legacy-comment', commandId: 'legacy-comment' },
      }],
    }], { idempotencyKey: `${actor.id}:legacy-comment` });
    const file = (await upload(t, users.opsManager, Buffer.from(`minutes ${randomUUID()}`), 'text/plain', 'minutes.txt')).json;
    const refused = errorOf(await t.gql(ATTACH, { input: { entityId: target, evidenceId: file.id, description: 'Minutes', commandId: 'legacy-comment' } }, users.opsManager));
    // Told apart by what the comment's event names (the entity, not this file) or, were it the file's entity and id, by its kind.
    expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/different kind of command|another entity/) } });
    // And the comment's own retry still answers the comment.
    expect((await t.ok(COMMENT, { input: { entityId: target, text: 'Firmware checked', commandId: 'legacy-comment' } }, users.opsManager)).addComment).toMatchObject({ text: 'Firmware checked' });
  });

  it('lists comments in order and shows them in the entity history', async () => {
    const first = (await t.ok(COMMENT, { input: { entityId: assetId, text: 'Is the HSM firmware current?' } }, users.ciso)).addComment;
    expect(first).toMatchObject({ author: { id: 'ciso', name: 'Chief ISO' }, text: 'Is the HSM firmware current?', entityId: assetId });
    const second = (await t.ok(COMMENT, { input: { entityId: assetId, text: 'Yes: 3.2.1, checked today.', commandId: 'c-1' } }, users.opsManager)).addComment;
    // A retry with the same commandId answers the same comment and adds none.
    expect((await t.ok(COMMENT, { input: { entityId: assetId, text: 'Yes: 3.2.1, checked today.', commandId: 'c-1' } }, users.opsManager)).addComment.id).toBe(second.id);
    const { comments } = await t.ok(COMMENTS, { id: assetId }, users.auditor);
    expect(comments.map((c: any) => [c.id, c.author.id, c.text])).toEqual([
      [first.id, 'ciso', 'Is the HSM firmware current?'],
      [second.id, 'mgr-ops', 'Yes: 3.2.1, checked today.'],
    ]);
    const history = (await t.ok(`query($id: ID!) { history(id: $id) { type position data metadata { actor { id } } } }`, { id: assetId }, users.auditor)).history;
    const added = history.filter((e: any) => e.type === 'CommentAdded');
    expect(added.map((e: any) => e.data.commentId)).toEqual([first.id, second.id]);
    expect(added[0].metadata.actor.id).toBe('ciso');
    const positions = history.map((e: any) => e.position);
    expect([...positions].sort()).toEqual(positions);

    const blank = errorOf(await t.gql(COMMENT, { input: { entityId: assetId, text: '   ' } }, users.ciso));
    expect(blank.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { text: expect.any(String) } });
    const long = errorOf(await t.gql(COMMENT, { input: { entityId: assetId, text: 'x'.repeat(10_001) } }, users.ciso));
    expect(long.extensions.code).toBe('BAD_USER_INPUT');
  });
  it("lists a control's evidence: attached to it and cited by its progress (Control.evidence), in the control's history", async () => {
    await proposeAndApproveCriteria(t);
    const asset = await assetWithThreat(t, 'Withdrawal signer', { c: 1, i: 1, a: 1 });
    const ok = (query: string, input: Record<string, unknown>, user: TestUser) => t.ok(query, { input }, user);
    const riskId = (await ok(`mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`, { title: 'Signer key theft', assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub }, users.riskOwner)).identifyRisk.id;
    await ok(`mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id } }`, { riskId, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'hot wallet' } }, users.riskOwner);
    await ok(`mutation($input: RiskRefInput!) { evaluateRisk(input: $input) { id } }`, { riskId }, users.committee);
    await ok(`mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { id } }`, { riskId, options: ['REDUCE'], rationale: 'multisig', targetLikelihood: 1, targetImpact: 1 }, users.committee);
    const controlId = (await ok(`mutation($input: DecideControlsInput!) { decideControls(input: $input) { controls { id } } }`,
      { riskId, controls: [{ title: 'Multisig', description: '2 of 3', ownerId: users.ciso.sub, dueDate: '2099-01-01', reason: 'no single key' }] }, users.committee)).decideControls.controls[0].id;
    // A control has no stream of its own: before anything is attached, its history is empty, not NOT_FOUND (compliance #8).
    const HISTORY_OF = `query($id: ID!) { history(id: $id) { type } }`;
    expect((await t.ok(HISTORY_OF, { id: controlId }, users.auditor)).history).toEqual([]);
    expect((await t.gql(HISTORY_OF, { id: `no-such-control-${randomUUID()}` }, users.auditor)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const report = (await upload(t, users.ciso, Buffer.from(`pentest ${randomUUID()}\n`), 'text/plain', 'pentest.txt')).json;
    const policy = (await upload(t, users.ciso, Buffer.concat([PDF, Buffer.from(randomUUID())]), 'application/pdf', 'policy.pdf')).json;
    await ok(`mutation($input: RecordControlProgressInput!) { recordControlProgress(input: $input) { id } }`, { riskId, controlId, status: 'IN_PROGRESS', progressPercent: 50, note: 'Pentest passed', evidenceIds: [report.id] }, users.ciso);
    const beforeAttachment = (await t.ok(`query($id: ID!) { history(id: $id) { position } }`, { id: riskId }, users.auditor)).history.at(-1).position;
    await ok(ATTACH, { entityId: controlId, evidenceId: policy.id, description: 'Signed key policy' }, users.ciso);
    // At a point before the attachment, the control's evidence is what it was then (upgrade probe F1).
    const then = (await t.ok(`query($id: ID!, $at: String!) { risk(id: $id, atPosition: $at) { controls { evidence { id } } } }`, { id: riskId, at: beforeAttachment }, users.auditor)).risk;
    expect(then.controls[0].evidence).toEqual([{ id: report.id }]);

    const risk = (await t.ok(`query($id: ID!) { risk(id: $id) { controls { id evidence { id sha256 description source } } } }`, { id: riskId }, users.auditor)).risk;
    expect(risk.controls[0].evidence).toEqual([
      { id: report.id, sha256: report.sha256, description: 'Pentest passed', source: 'CONTROL_PROGRESS' },
      { id: policy.id, sha256: policy.sha256, description: 'Signed key policy', source: 'ATTACHMENT' },
    ]);
    expect((await t.ok(EVIDENCE, { id: controlId }, users.auditor)).evidence.map((e: any) => e.id)).toEqual([report.id, policy.id]);
    await ok(COMMENT, { entityId: controlId, text: 'Second signer still to be enrolled' }, users.riskOwner);
    const history = (await t.ok(`query($id: ID!) { history(id: $id) { type } }`, { id: controlId }, users.auditor)).history;
    expect(history.map((e: any) => e.type)).toEqual(['EvidenceAttached', 'CommentAdded']);

    // Controls that never existed, written into the read-model file: the log does not confirm them (insider probe p14).
    const readModels = new Database(join(t.dataDir, 'read-models.sqlite'));
    try {
      // The real control's row copied (the event's position and stream revision) under other ids.
      const { position, revision } = readModels.prepare('SELECT position, revision FROM annotated_entities WHERE id = ?').get(controlId) as { position: string; revision: number };
      const ghost = readModels.prepare("INSERT INTO annotated_entities (id, kind, parent_id, position, revision) VALUES (?, 'CONTROL', ?, ?, ?)");
      ghost.run('ghost-control-0001', riskId, position, revision);
      ghost.run('ghost-control-0002', riskId, '0000000000000000001', 0);
      // A forged row under a real asset's id: the asset is still found by its own stream (re-probe p15).
      ghost.run(asset.assetId, riskId, position, revision);
    } finally {
      readModels.close();
    }
    for (const entityId of ['ghost-control-0001', 'ghost-control-0002']) {
      const refused = await t.gql(COMMENT, { input: { entityId, text: 'on nothing' } }, users.riskOwner);
      expect([entityId, refused.errors?.[0]?.extensions?.code]).toEqual([entityId, 'NOT_FOUND']);
      expect((await t.gql(HISTORY_OF, { id: entityId }, users.auditor)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    await ok(COMMENT, { entityId: controlId, text: 'The real control still takes comments' }, users.riskOwner);
    await ok(COMMENT, { entityId: asset.assetId, text: 'And the asset' }, users.riskOwner);

    // The export carries both files (the one cited by the progress record too), and verify checks them.
    const exportFile = join(work, 'controls.ndjson');
    const exported = await cli(['export', '--out', exportFile], { EVENT_STORE: 'sqlite', SQLITE_PATH: join(t.dataDir, 'events.sqlite'), DATA_DIR: t.dataDir });
    expect(exported.code).toBe(0);
    const files = JSON.parse(readFileSync(`${exportFile}.manifest.json`, 'utf8')).evidenceFiles.files.map((f: any) => f.sha256);
    expect(files).toEqual(expect.arrayContaining([report.sha256, policy.sha256]));
    expect((await cli(['verify', exportFile], {})).json).toMatchObject({ ok: true, evidenceFilesChecked: files.length });
  }, 120_000);

  it("takes the signed minutes on a board resolution by BoardResolution.id, the id of the event that recorded it, and lists them there", async () => {
    const approved = await approvedPlan(t);
    const RESOLUTION = `query($id: ID!) { plan(id: $id) { resolution { id resolutionNumber evidence { id description } } resolutions { id } } }`;
    const { plan } = await t.ok(RESOLUTION, { id: approved.planId }, users.auditor);
    const recorded = (await t.ok(`query($id: ID!) { history(id: $id) { type eventId } }`, { id: approved.planId }, users.auditor)).history.find((e: any) => e.type === 'BoardResolutionRecorded');
    expect(plan.resolution.id).toBe(recorded.eventId);
    expect(plan.resolutions).toEqual([{ id: recorded.eventId }]);
    const minutes = (await upload(t, users.secretary, Buffer.concat([PDF, Buffer.from(randomUUID())]), 'application/pdf', 'minutes.pdf')).json;
    await t.ok(ATTACH, { input: { entityId: plan.resolution.id, evidenceId: minutes.id, description: 'Signed minutes' } }, users.secretary);
    expect((await t.ok(RESOLUTION, { id: approved.planId }, users.auditor)).plan.resolution.evidence).toEqual([{ id: minutes.id, description: 'Signed minutes' }]);
    // The board's view of the plan (atPosition of the resolution) names the same resolution.
    const atBoard = (await t.ok(`query($id: ID!, $at: String!) { plan(id: $id, atPosition: $at) { resolution { id evidence { id } } } }`, { id: approved.planId, at: approved.resolutionPosition }, users.auditor)).plan;
    expect(atBoard.resolution.id).toBe(recorded.eventId);
    // As the board decided it, nothing was attached yet: the past does not change with later
    // attachments (upgrade probe F1: it listed the minutes attached after that point).
    expect(atBoard.resolution.evidence).toEqual([]);
    // The plan document lists them under the resolution: as the log stands, not at the board's point (attached later).
    const doc = async (query: string) => {
      const response = await fetch(`${t.url}/documents/plans/${approved.planId}.md?${query}`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } });
      expect(response.status).toBe(200);
      return response.text();
    };
    const now = await doc('lang=en');
    expect(now).toContain(`- **Evidence attached**: minutes.pdf (Signed minutes; evidence ${minutes.id}, SHA-256 ${minutes.sha256}; attached by ${users.secretary.sub}, `);
    expect(await doc(`lang=en&atPosition=${approved.resolutionPosition}`)).not.toContain('Evidence attached');
    expect(await doc('lang=ja')).toContain(`- **添付された証跡**: minutes.pdf（Signed minutes、証跡 ${minutes.id}、SHA-256 ${minutes.sha256}、${users.secretary.sub} が `);
  }, 120_000);
});
