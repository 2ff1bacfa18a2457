import { describe, expect, it } from '@jest/globals';
import { integrityExtension, integrityPlugin, type IntegritySource } from '../../../src/graphql/integrity-extension.js';

/** What Apollo hands willSendResponse, reduced to the parts the plugin touches. */
function response(): { http: { headers: Map<string, string> }; body: { kind: 'single'; singleResult: { data: unknown; extensions?: Record<string, unknown> } } } {
  return { http: { headers: new Map() }, body: { kind: 'single', singleResult: { data: { ok: true } } } };
}

async function answer(source: IntegritySource, auth: object = { actor: { id: 'auditor' } }) {
  const hooks = (await integrityPlugin(source).requestDidStart!({} as never)) as { willSendResponse: (ctx: unknown) => Promise<void> };
  const res = response();
  await hooks.willSendResponse({ response: res, contextValue: { auth } });
  return res;
}

describe('extensions.integrity (auditor probe F4)', () => {
  it('says nothing while the log verifies (OK, or still VERIFYING)', async () => {
    for (const status of ['OK', 'VERIFYING']) {
      expect(integrityExtension({ status, failure: null })).toBeUndefined();
      const res = await answer({ status, failure: null });
      expect(res.body.singleResult.extensions).toBeUndefined();
      expect(res.http.headers.size).toBe(0);
    }
  });

  it('flags every answer while it fails verification, with the position, the reason and the headers the documents carry', async () => {
    const source = { status: 'BROKEN', failure: { firstBrokenPosition: '0000000000000000042', reason: 'hash mismatch' } };
    const res = await answer(source);
    expect(res.body.singleResult.extensions?.integrity).toEqual({
      status: 'BROKEN',
      firstBrokenPosition: '0000000000000000042',
      reason: 'hash mismatch',
      message: expect.stringContaining('fails verification at position 0000000000000000042 (hash mismatch)'),
    });
    expect(Object.fromEntries(res.http.headers)).toEqual({ 'x-integrity': 'BROKEN', 'x-integrity-broken-position': '0000000000000000042' });
  });

  it('gives a caller without a valid token the status only, as /health does (re-probe F1)', async () => {
    const source = { status: 'BROKEN', failure: { firstBrokenPosition: '0000000000000000042', reason: 'hash mismatch in stream plan-1' } };
    const res = await answer(source, { error: new Error('no token') });
    expect(res.body.singleResult.extensions?.integrity).toEqual({ status: 'BROKEN', message: expect.not.stringContaining('42') });
    expect(Object.fromEntries(res.http.headers)).toEqual({ 'x-integrity': 'BROKEN' });
  });
});
