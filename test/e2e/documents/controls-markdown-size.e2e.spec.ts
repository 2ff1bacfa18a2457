/**
 * The controls record through GraphQL and DOCUMENT_MAX_BYTES (review of 2026-12-07, M6): GET
 * /documents/controls.md refuses a record past the bound (413 DOCUMENT_TOO_LARGE), but
 * controlsDocument { markdown }, "the same record", rendered it with no document budget, whole,
 * then joined it into one string before the result budget charged it: ~1 MB answered here against
 * a 64 KiB bound. Now it is bounded as the download is and refused whole with QUERY_TOO_COMPLEX
 * (limit: DOCUMENT_MAX_BYTES), the message naming the bound and the narrower request.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, users } from '../support/test-app.js';
import { ANALYSE, EVALUATE, assetWithThreat, identifyRisk, proposeAndApproveCriteria } from '../support/scenario.js';
import { CONTROLS, TREAT } from './plan-scenario.js';

const MAX_BYTES = 65_536;

describe('the controls record past DOCUMENT_MAX_BYTES', () => {
  let t: TestApp;
  let riskId = '';
  const saved = process.env.DOCUMENT_MAX_BYTES;
  beforeAll(async () => {
    process.env.DOCUMENT_MAX_BYTES = String(MAX_BYTES);
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
    const asset = await assetWithThreat(t, 'Signing server', { c: 1, i: 1, a: 1 });
    riskId = (await identifyRisk(t, asset, 'Key theft')).id;
    await t.ok(ANALYSE, { input: { riskId, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'committee', rationale: 'r' } } }, users.riskOwner);
    await t.ok(EVALUATE, { input: { riskId } }, users.committee);
    await t.ok(TREAT, { input: { riskId, options: ['REDUCE'], rationale: 'r', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
    const controls = Array.from({ length: 100 }, (_, i) => ({ title: `c${i}`, description: 'd'.repeat(5_000), ownerId: 'ops-lead', dueDate: '2099-01-01', reason: 'r'.repeat(5_000) }));
    await t.ok(CONTROLS, { input: { riskId, controls } }, users.committee);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    if (saved === undefined) delete process.env.DOCUMENT_MAX_BYTES;
    else process.env.DOCUMENT_MAX_BYTES = saved;
  });

  it('is refused by GraphQL as by GET /documents/controls.md', async () => {
    const http = await fetch(`${t.url}/documents/controls.md?riskId=${riskId}`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } });
    expect(http.status).toBe(413);
    const answer = await t.gql(`query($id: ID!) { controlsDocument(riskId: $id) { markdown } }`, { id: riskId }, users.auditor);
    const markdown: string | undefined = answer.data?.controlsDocument?.markdown;
    // ~1 MB of markdown had been answered, against a 64 KiB DOCUMENT_MAX_BYTES.
    expect({ markdownBytes: markdown === undefined ? 0 : Buffer.byteLength(markdown), error: answer.errors?.[0] }).toMatchObject({
      markdownBytes: 0,
      error: { path: ['controlsDocument', 'markdown'], extensions: { code: 'QUERY_TOO_COMPLEX', limit: MAX_BYTES }, message: expect.stringContaining('DOCUMENT_MAX_BYTES') },
    });
  });

  it('still answers the record without its markdown', async () => {
    const answer = await t.gql(`query($id: ID!) { controlsDocument(riskId: $id) { entries { riskId } } }`, { id: riskId }, users.auditor);
    expect(answer.errors).toBeUndefined();
    expect(answer.data.controlsDocument.entries).toEqual([{ riskId }]);
  });
});
