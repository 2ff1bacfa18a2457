import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, users } from '../support/test-app.js';
import { approvedPlan, type ApprovedPlan } from './plan-scenario.js';

/**
 * Auditor finding F10.3: a document at atPosition=0 (before the log's first event) answered 200
 * without X-Log-Position or X-Regenerate, and controls.md said "(the log was empty at this point)"
 * of a log that was not empty. Such a document is at the start of the log: it cites position 0
 * (0000000000000000000), says there is no event before it, and regenerates there byte for byte.
 */
const START = '0000000000000000000';

describe('documents at the start of the log, before its first event (finding F10.3)', () => {
  let t: TestApp;
  let plan: ApprovedPlan;

  async function get(path: string): Promise<Response> {
    return fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } });
  }
  async function download(path: string): Promise<{ bytes: Buffer; position: string | null; regenerate: string | null; disposition: string | null }> {
    const response = await get(path);
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    return { bytes, position: response.headers.get('x-log-position'), regenerate: response.headers.get('x-regenerate'), disposition: response.headers.get('content-disposition') };
  }

  beforeAll(async () => {
    t = await TestApp.start();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('an empty log: the documents cite the start, and regenerate there', async () => {
    const csv = await download('/documents/register.csv');
    expect(csv.position).toBe(START);
    expect(csv.regenerate).toBe(`/documents/register.csv?atPosition=${START}&lang=ja&section=risks`);
    expect(csv.disposition).toBe(`attachment; filename="risk-register-risks-at-${START}.csv"`);
    expect((await download(csv.regenerate!)).bytes.equals(csv.bytes)).toBe(true);
    const md = await download('/documents/controls.md?lang=en');
    expect(md.position).toBe(START);
    expect(md.bytes.toString('utf8')).toContain('- **Last event recorded at**: `(none: the start of the log, before its first event)`');
  });

  it('atPosition=0 of a log with events: every document says where it is, in its headers and its source block', async () => {
    plan = await approvedPlan(t);
    const { controlsDocument } = await t.ok(`{ controlsDocument { logPosition } }`, {}, users.auditor);
    expect(controlsDocument.logPosition > START).toBe(true);

    const en = await download('/documents/controls.md?atPosition=0&lang=en');
    expect(en.position).toBe(START);
    const enText = en.bytes.toString('utf8');
    expect(enText).not.toMatch(/empty/);
    expect(enText).toContain(`- **Log position**: \`${START}\``);
    expect(enText).toContain('- **Last event recorded at**: `(none: the start of the log, before its first event)`');
    expect(enText).toContain(`GET /documents/controls.md?atPosition=${START}&lang=en\``);
    const ja = await download('/documents/controls.md?atPosition=0');
    expect(ja.position).toBe(START);
    const jaText = ja.bytes.toString('utf8');
    expect(jaText).not.toMatch(/ログは空/);
    expect(jaText).toContain(`- **ログ位置**: \`${START}\``);
    expect(jaText).toContain('（なし：ログの先頭、最初のイベントより前の時点）');
    expect(jaText).toContain(`GET /documents/controls.md?atPosition=${START}&lang=ja\``);

    const csv = await download('/documents/register.csv?atPosition=0&section=controls');
    expect(csv.position).toBe(START);
    expect(csv.regenerate).toBe(`/documents/register.csv?atPosition=${START}&lang=ja&section=controls`);
    expect(csv.disposition).toBe(`attachment; filename="risk-register-controls-at-${START}.csv"`);
    expect((await download(csv.regenerate!)).bytes.equals(csv.bytes)).toBe(true);

    const xlsx = await download('/documents/register.xlsx?atPosition=0');
    expect(xlsx.position).toBe(START);

    // No plan was drafted by then: unknown at that point, as at any position before its drafting.
    for (const format of ['md', 'html']) expect((await get(`/documents/plans/${plan.planId}.${format}?atPosition=0`)).status).toBe(404);
  });

  it('an instant before the first event is the same point: the same bytes as atPosition=0', async () => {
    const byTime = await download('/documents/controls.md?asOf=2000-01-01T00:00:00Z&lang=en');
    expect(byTime.position).toBe(START);
    expect(byTime.bytes.equals((await download(`/documents/controls.md?atPosition=${START}&lang=en`)).bytes)).toBe(true);
  });

  it("GraphQL's controlsDocument at position 0 names the start, and its markdown is the download's", async () => {
    const { controlsDocument } = await t.ok(
      `{ controlsDocument(atPosition: "0") { logPosition logRecordedAt chainHash eventHash riskCount markdown } }`,
      {},
      users.auditor,
    );
    expect(controlsDocument).toMatchObject({ logPosition: START, logRecordedAt: null, chainHash: null, eventHash: null, riskCount: 0 });
    expect(controlsDocument.markdown).toBe((await download(`/documents/controls.md?atPosition=${controlsDocument.logPosition}`)).bytes.toString('utf8'));
  });
});
