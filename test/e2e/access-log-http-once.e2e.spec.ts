import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { TestApp, users } from './support/test-app.js';

/** A small but real PDF: file-type recognises it by its header. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');

/** One request with node:http, sent exactly as written (fetch would normalise the path). */
function send(t: TestApp, method: string, path: string, headers: Record<string, string | number>, body?: Buffer): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${t.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: any = null;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Every request under /evidence/ and /documents/ is one access-log entry, whatever its spelling:
 * POST /evidence/ matched both routes the middleware was bound to ('evidence' and
 * 'evidence/{*path}') and was logged twice (insider probe p16).
 */
const LOG = `query($from: DateTime) { accessLog(first: 500, from: $from) { edges { node { operationName operationType targetIds outcome correlationId } } } }`;

describe('the access log: one entry per HTTP request', () => {
  let t: TestApp;
  let auditor: string;

  beforeAll(async () => {
    t = await TestApp.start();
    auditor = await t.token(users.auditor);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The entries carrying this correlation id (written since `since`), once the request's entry had time to be written. */
  async function entriesOf(correlationId: string, since: string): Promise<any[]> {
    const read = async () => {
      const { accessLog } = await t.ok(LOG, { from: since }, auditor);
      return accessLog.edges.map((e: any) => e.node).filter((n: any) => n.correlationId === correlationId);
    };
    for (let i = 0; i < 100 && (await read()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    // A second entry would be written in the same batch or the next one: give it that time.
    await new Promise((r) => setTimeout(r, 100));
    return read();
  }

  it('logs an upload once, with or without a trailing slash, in any case, with a query string', async () => {
    const secretary = `Bearer ${await t.token(users.secretary)}`;
    let evidenceId = '';
    for (const path of ['/evidence', '/evidence/', '/EVIDENCE/', '/Evidence', '/evidence?x=1', '/evidence/?x=1']) {
      const correlationId = `upload-${path}`.replace(/[^A-Za-z0-9-]/g, '_');
      const since = new Date().toISOString();
      const up = await send(t, 'POST', path, { authorization: secretary, 'content-type': 'application/pdf', 'x-filename': 'minutes.pdf', 'content-length': PDF.length, 'x-request-id': correlationId }, PDF);
      expect([path, up.status]).toEqual([path, 201]);
      evidenceId = up.json.id;
      const entries = await entriesOf(correlationId, since);
      expect([path, entries]).toEqual([path, [expect.objectContaining({ operationType: 'http', outcome: 'ALLOWED' })]]);
    }
    // Downloads and refusals too.
    for (const [path, status] of [[`/evidence/${evidenceId}`, 200], [`/evidence/${evidenceId}/`, 200], ['/evidence/no-such-file', 404], ['/evidence//', 404]] as const) {
      const correlationId = `download-${path}`.replace(/[^A-Za-z0-9-]/g, '_');
      const since = new Date().toISOString();
      const got = await send(t, 'GET', path, { authorization: `Bearer ${auditor}`, 'x-request-id': correlationId });
      expect([path, got.status]).toEqual([path, status]);
      expect([path, (await entriesOf(correlationId, since)).length]).toEqual([path, 1]);
    }
  });

  it('logs a request under /documents/ once, with or without a trailing slash', async () => {
    for (const path of ['/documents', '/documents/', '/documents/controls.md', '/documents/controls.md/', '/DOCUMENTS/']) {
      const correlationId = `documents-${path}`.replace(/[^A-Za-z0-9-]/g, '_');
      const since = new Date().toISOString();
      await send(t, 'GET', path, { authorization: `Bearer ${auditor}`, 'x-request-id': correlationId });
      expect([path, (await entriesOf(correlationId, since)).length]).toEqual([path, 1]);
    }
  });
});
