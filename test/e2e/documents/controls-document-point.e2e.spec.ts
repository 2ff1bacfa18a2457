import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from '../support/test-app.js';
import { CONTROLS, approvedPlan, type ApprovedPlan } from './plan-scenario.js';

/**
 * Auditor finding F9: GraphQL's controlsDocument took no point in time and named no point of the
 * log, while GET /documents/controls.md renders the record at asOf / atPosition and cites the
 * event it ends with. Both now read the record through one path (DocumentsService.controlsRecord):
 * same point, same record, same Markdown and source block, same position.
 */
describe('controlsDocument at a point of the log: the same record as GET /documents/controls.md (finding F9)', () => {
  let t: TestApp;
  let plan: ApprovedPlan;

  const FIELDS = 'logPosition logRecordedAt chainHash eventHash generatedAt riskCount controlCount entries { riskId cycle controls { title reason } } markdown';
  const QUERY = `query($riskId: ID, $asOf: DateTime, $atPosition: String) { controlsDocument(riskId: $riskId, asOf: $asOf, atPosition: $atPosition) { ${FIELDS} } }`;
  const graphql = async (variables: Record<string, unknown>) => (await t.ok(QUERY, variables, users.auditor)).controlsDocument;
  async function rest(query: string): Promise<{ body: string; position: string | null }> {
    const response = await fetch(`${t.url}/documents/controls.md?${query}`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } });
    expect(response.status).toBe(200);
    return { body: await response.text(), position: response.headers.get('x-log-position') };
  }
  const titles = (document: any): string[] => document.entries.flatMap((e: any) => e.controls.map((c: any) => c.title));

  beforeAll(async () => {
    t = await TestApp.start();
    plan = await approvedPlan(t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('atPosition and asOf give the REST record at that point, with its source block and X-Log-Position; the head has moved on', async () => {
    const P = plan.resolutionPosition;
    const atP = await graphql({ atPosition: P });
    const restAtP = await rest(`atPosition=${P}&lang=ja`);
    // The same document, source block included, and the position the download's header gives.
    expect(atP.markdown).toBe(restAtP.body);
    expect(atP.logPosition).toBe(restAtP.position);
    expect(atP.logPosition).toBe(P);
    expect(atP.markdown).toContain(`ログ位置**: \`${P}\``);
    expect(atP.chainHash).toMatch(/^[0-9a-f]{64}$/);
    expect(atP.markdown).toContain(`先頭のチェーンハッシュ**: \`${atP.chainHash}\``);
    expect(atP.markdown).toContain(`GET /documents/controls.md?atPosition=${P}&lang=ja`);
    expect(atP.eventHash).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(atP.logRecordedAt)).toBeLessThanOrEqual(Date.parse(atP.generatedAt));
    expect(titles(atP)).toEqual(['マルチシグ出金', 'コールドウォレットへの移管']);
    // The chain hash it cites is the log's own: verifyIntegrity accepts it as an anchor.
    const { verifyIntegrity } = await t.ok(`query($p: String, $h: String) { verifyIntegrity(anchorPosition: $p, anchorChainHash: $h) { ok anchorOk } }`, { p: P, h: atP.chainHash }, users.auditor);
    expect(verifyIntegrity).toEqual({ ok: true, anchorOk: true });
    // One risk: the same again, riskId in the request that regenerates it.
    const oneAtP = await graphql({ riskId: plan.riskId, atPosition: P });
    expect(oneAtP.markdown).toBe((await rest(`riskId=${plan.riskId}&atPosition=${P}&lang=ja`)).body);
    expect(oneAtP.markdown).toContain(`&riskId=${plan.riskId}`);

    // An instant between the resolution and a later change of the controls.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const between = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await t.ok(CONTROLS, { input: { riskId: plan.riskId, controls: [{ title: '新しい管理策', description: '四半期ごとの鍵の棚卸し', ownerId: 'ops-lead', dueDate: '2027-12-31', reason: '見直し' }] } }, users.committee);

    // The head now: the new control, a later position; the same as the download at the head.
    const head = await graphql({});
    expect(titles(head)).toContain('新しい管理策');
    expect(head.logPosition > P).toBe(true);
    expect(head.markdown).not.toBe(atP.markdown);
    const restHead = await rest('lang=ja');
    expect(restHead.position).toBe(head.logPosition);
    expect(head.markdown).toBe(restHead.body);
    expect(head.markdown).toBe((await graphql({ atPosition: head.logPosition })).markdown);

    // At P: still the record as it stood then.
    const again = await graphql({ atPosition: P });
    expect(again.markdown).toBe(atP.markdown);
    expect(titles(again)).toEqual(titles(atP));
    expect(again.logPosition).toBe(P);

    // asOf: the record of the last event by then, the download's for the same instant, citing its position.
    const byTime = await graphql({ asOf: between });
    const restByTime = await rest(`asOf=${encodeURIComponent(between)}&lang=ja`);
    expect(byTime.logPosition).toBe(restByTime.position);
    expect(byTime.logPosition >= P && byTime.logPosition < head.logPosition).toBe(true);
    expect(Date.parse(byTime.logRecordedAt)).toBeLessThanOrEqual(Date.parse(between));
    expect(byTime.markdown).toBe(restByTime.body);
    expect(titles(byTime)).not.toContain('新しい管理策');
    expect(byTime.markdown).toBe((await graphql({ atPosition: byTime.logPosition })).markdown);
  });

  it('refuses asOf with atPosition, a malformed position, a position past the head and a later instant (BAD_USER_INPUT)', async () => {
    const refused = async (variables: Record<string, unknown>) => {
      const error = errorOf(await t.gql(QUERY, variables, users.auditor));
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
      return error.extensions.fields;
    };
    expect(Object.keys(await refused({ atPosition: plan.resolutionPosition, asOf: new Date().toISOString() }))).toEqual(['atPosition']);
    expect(Object.keys(await refused({ atPosition: 'first' }))).toEqual(['atPosition']);
    const { controlsDocument } = await t.ok(`{ controlsDocument { logPosition } }`, {}, users.auditor);
    const pastTheHead = (BigInt(controlsDocument.logPosition) + 1000n).toString();
    expect((await refused({ atPosition: pastTheHead })).atPosition).toMatch(/past the log's head/);
    expect(Object.keys(await refused({ asOf: new Date(Date.now() + 3_600_000).toISOString() }))).toEqual(['asOf']);
    // A risk unknown at that point is NOT_FOUND, as the download's 404.
    const unknown = errorOf(await t.gql(QUERY, { riskId: plan.riskId, atPosition: '1' }, users.auditor));
    expect(unknown.extensions.code).toBe('NOT_FOUND');
  });

  it('prices a point in time as the replay it is: aliases at past points are refused before any is read, at the head they run', async () => {
    const aliased = (n: number, args: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: controlsDocument${args} { logPosition }`).join(' ')} }`;
    const atPoint = errorOf(await t.gql(aliased(8, `(atPosition: "${plan.resolutionPosition}")`), {}, users.auditor));
    expect(atPoint.extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect((await t.gql(aliased(8, ''), {}, users.auditor)).errors).toBeUndefined();
    expect((await t.gql(aliased(2, `(atPosition: "${plan.resolutionPosition}")`), {}, users.auditor)).errors).toBeUndefined();
  });
});
