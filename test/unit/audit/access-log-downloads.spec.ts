import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { AccessLog, AccessRecord } from '../../../src/audit/application/access-log.js';
import { DownloadAccessLogMiddleware, LOGGED_DOWNLOAD_ROUTES, httpTargets } from '../../../src/audit/graphql/access-log.downloads.js';
import type { TokenVerifier } from '../../../src/identity/token-verifier.js';
import { StoreUnavailableError } from '../../../src/shared/domain/errors.js';

describe('the access-log middleware for /documents/ and /evidence/', () => {
  it('is bound to one route per prefix', () => {
    expect(LOGGED_DOWNLOAD_ROUTES).toEqual(['documents{/*path}', 'evidence{/*path}']);
  });

  it('records a request once even when it runs for it twice (two bindings that match the same path)', async () => {
    const records: AccessRecord[] = [];
    const log = { record: (r: AccessRecord) => records.push(r), backlog: { assertAdmits: () => undefined } } as unknown as AccessLog;
    const verifier = { verifyAuthorization: async () => ({ id: 'secretary', name: 'Board Secretary', roles: ['BOARD_SECRETARY'] }) } as unknown as TokenVerifier;
    const middleware = new DownloadAccessLogMiddleware(log, verifier);
    const req = { method: 'POST', url: '/evidence/', originalUrl: '/evidence/', headers: { authorization: 'Bearer x', 'x-request-id': 'one-request' } };
    const res = Object.assign(new EventEmitter(), { statusCode: 201, writableFinished: true, setHeader: () => undefined, end: () => undefined });
    let nexts = 0;
    middleware.use(req, res, () => nexts++);
    middleware.use(req, res, () => nexts++);
    expect(nexts).toBe(2);
    res.emit('close');
    await new Promise((r) => setImmediate(r));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ operationName: 'POST /evidence/', operationType: 'http', outcome: 'ALLOWED', correlationId: 'one-request', actorId: 'secretary' });
    // Another request on the same connection is its own entry.
    const again = { ...req, headers: { ...req.headers, 'x-request-id': 'next-request' } };
    const res2 = Object.assign(new EventEmitter(), { statusCode: 201, writableFinished: true, setHeader: () => undefined, end: () => undefined });
    middleware.use(again, res2, () => {});
    res2.emit('close');
    await new Promise((r) => setImmediate(r));
    expect(records.map((r) => r.correlationId)).toEqual(['one-request', 'next-request']);
  });

  it('at the cap of its queue: refused 503 STORE_UNAVAILABLE before it runs, and still recorded (counted at the cap)', async () => {
    const records: AccessRecord[] = [];
    const full = () => {
      throw new StoreUnavailableError(false, 'The access log holds 10000 entries it cannot write yet');
    };
    const log = { record: (r: AccessRecord) => records.push(r), backlog: { assertAdmits: full } } as unknown as AccessLog;
    const middleware = new DownloadAccessLogMiddleware(log, { verifyAuthorization: async () => null } as unknown as TokenVerifier);
    const sent: { headers: Record<string, string>; body?: string } = { headers: {} };
    const res = Object.assign(new EventEmitter(), {
      statusCode: 200,
      writableFinished: true,
      setHeader: (name: string, value: string) => (sent.headers[name] = value),
      end: (body: string) => (sent.body = body),
    });
    let nexts = 0;
    middleware.use({ method: 'GET', url: '/documents/controls.md', headers: {} }, res, () => nexts++);
    expect(nexts).toBe(0);
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(sent.body!)).toMatchObject({ error: { code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/10000 entries/) } });
    res.emit('close');
    await new Promise((r) => setImmediate(r));
    expect(records).toEqual([expect.objectContaining({ operationName: 'GET /documents/controls.md', outcome: 'FAILED' })]);
  });

  it('names what a successful answer created (its Location) first, then the ids of the request', () => {
    expect(httpTargets('/evidence', {}, 201, '/evidence/ev-1')).toEqual(['ev-1']);
    expect(httpTargets('/evidence/ev-1', { riskId: ['risk-1'] }, 200, undefined)).toEqual(['ev-1', 'risk-1']);
    // A refusal created nothing, whatever a header says.
    expect(httpTargets('/evidence', {}, 403, '/evidence/ev-2')).toEqual([]);
    expect(httpTargets('/evidence', {}, 201, 'http://[bad')).toEqual([]);
  });
});
