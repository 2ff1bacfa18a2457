import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from './support/test-app.js';
import { assetWithThreat, identifyRisk, proposeAndApproveCriteria } from './support/scenario.js';

/**
 * Issue 10, hardening at the GraphQL edge: point-in-time replays shared by many aliases of one
 * request, strict DateTime arguments, and size limits on every input (contract, "Limits and
 * hardening").
 */
describe('hardening: replays, dates and input limits', () => {
  let t: TestApp;
  let risk: { id: string; version: number };
  let asset: { assetId: string; threatId: string; vulnerabilityId: string };

  const eventCount = async (): Promise<number> => {
    let after: string | null = null;
    let n = 0;
    for (;;) {
      const { events }: { events: any } = await t.ok(`query($after: String) { events(first: 500, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } }`, { after }, users.auditor);
      n += events.edges.length;
      if (!events.pageInfo.hasNextPage) return n;
      after = events.pageInfo.endCursor;
    }
  };

  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
    asset = await assetWithThreat(t, 'Hardened wallet', { c: 2, i: 2, a: 2 });
    risk = await identifyRisk(t, asset);
    // More moments to replay: each risk is committed at its own instant.
    for (let i = 0; i < 8; i++) {
      await identifyRisk(t, asset, `Risk number ${i}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers many asOf aliases at different instants in one request (replays are leased, not closed under a reader)', async () => {
    const { events } = await t.ok(`{ events(first: 500) { edges { node { recordedAt } } } }`, {}, users.auditor);
    const instants = [...new Set<string>(events.edges.map((e: any) => e.node.recordedAt))];
    expect(instants.length).toBeGreaterThanOrEqual(7);
    const picked = instants.slice(-7);
    const aliases = picked.slice(0, 6).map((at, i) => `r${i}: risks(asOf: "${at}") { totalCount }`);
    aliases.push(`h: heatMap(asOf: "${picked[6]}") { total }`, `h2: heatMap(asOf: "${picked[0]}") { total }`, `same: risks(asOf: "${picked[5]}") { totalCount }`);
    for (let round = 0; round < 3; round++) {
      const result = await t.gql(`{ ${aliases.join('\n')} }`, {}, users.auditor);
      expect(result.errors).toBeUndefined();
      const counts = picked.slice(0, 6).map((_, i) => result.data[`r${i}`].totalCount as number);
      // Risks are only added here: a later instant holds at least as many.
      for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]);
      expect(result.data.same.totalCount).toBe(counts[5]);
    }
    // Concurrent requests too.
    const all = await Promise.all(Array.from({ length: 4 }, () => t.gql(`{ ${aliases.join('\n')} }`, {}, users.auditor)));
    for (const r of all) expect(r.errors).toBeUndefined();
  });

  describe('DateTime arguments are ISO 8601 on a real calendar date', () => {
    const bad = ['garbage', '', '2026-13-01', '2026-02-30', '2026-02-30T00:00:00Z', '2026-01-01T25:00:00Z', '2026-01-01T10:00:00'];
    it.each(bad)('refuses asOf %p as a variable with BAD_USER_INPUT naming asOf', async (value) => {
      const result = await t.gql(`query($at: DateTime) { risksDueForReview(asOf: $at) { dueOn } }`, { at: value }, users.auditor);
      expect(result.data ?? null).toBeNull();
      expect(errorOf(result).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { asOf: expect.any(String) } });
    });
    it.each(bad)('refuses asOf %p as a literal with BAD_USER_INPUT naming asOf', async (value) => {
      const result = await t.gql(`{ risksDueForReview(asOf: ${JSON.stringify(value)}) { dueOn } }`, {}, users.auditor);
      expect(errorOf(result).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { asOf: expect.any(String) } });
    });
    it('refuses a number and a bad date on heatMap and risks too', async () => {
      expect(errorOf(await t.gql(`{ heatMap(asOf: 12) { total } }`, {}, users.auditor)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { asOf: expect.any(String) } });
      expect(errorOf(await t.gql(`{ risks(asOf: "2025-02-29T00:00:00Z") { totalCount } }`, {}, users.auditor)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { asOf: expect.any(String) } });
    });
    it('accepts real dates and date-times with an offset', async () => {
      for (const value of ['2024-02-29', '2024-02-29T23:59:59Z', '2026-03-01T09:00:00+09:00', '2026-03-01T09:00:00.123Z', '2026-03-01T09:00Z']) {
        await t.ok(`query($at: DateTime) { risksDueForReview(asOf: $at) { dueOn } heatMap(asOf: $at) { total } }`, { at: value }, users.auditor);
      }
    });
  });

  describe('input limits', () => {
    const REGISTER = `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`;
    const IDENTIFY = `mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`;
    const CONTROLS = `mutation($input: DecideControlsInput!) { decideControls(input: $input) { id version } }`;
    const assetInput = { name: 'Limits', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 };

    it('refuses a 1 MB managerId, naming it, and appends nothing', async () => {
      const before = await eventCount();
      const result = await t.gql(REGISTER, { input: { ...assetInput, managerId: 'm'.repeat(1024 * 1024) } }, users.opsManager);
      const error = errorOf(result);
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { managerId: expect.stringMatching(/128/) } });
      expect(JSON.stringify(result).length).toBeLessThan(10_000);
      expect(await eventCount()).toBe(before);
    });

    it('refuses names over 200 and ids over 128 characters, and accepts them at the limit', async () => {
      expect(errorOf(await t.gql(REGISTER, { input: { ...assetInput, name: 'n'.repeat(201) } }, users.opsManager)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { name: expect.any(String) } });
      expect(errorOf(await t.gql(REGISTER, { input: { ...assetInput, managerId: 'm'.repeat(129) } }, users.opsManager)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { managerId: expect.any(String) } });
      await t.ok(REGISTER, { input: { ...assetInput, name: 'n'.repeat(200), managerId: 'm'.repeat(128) } }, users.opsManager);
    });

    it('refuses 10,000 externalReferences, naming them, and appends nothing', async () => {
      const before = await eventCount();
      const input = { title: 'Too many references', assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub, externalReferences: Array.from({ length: 10_000 }, (_, i) => `ref-${i}`) };
      const error = errorOf(await t.gql(IDENTIFY, { input }, users.riskOwner));
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { externalReferences: expect.stringMatching(/500/) } });
      expect(await eventCount()).toBe(before);
    });

    it('refuses 5,000 controls in one decideControls, naming them, and leaves the risk unchanged', async () => {
      const { risk: then } = await t.ok(`query($id: ID!) { risk(id: $id) { version } }`, { id: risk.id }, users.auditor);
      const before = await eventCount();
      const controls = Array.from({ length: 5000 }, (_, i) => ({ title: `Control ${i}`, description: 'd', ownerId: 'ops-lead', dueDate: '2099-03-31', reason: 'r' }));
      const error = errorOf(await t.gql(CONTROLS, { input: { riskId: risk.id, controls } }, users.committee));
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { controls: expect.stringMatching(/500/) } });
      expect(await eventCount()).toBe(before);
      expect((await t.ok(`query($id: ID!) { risk(id: $id) { version } }`, { id: risk.id }, users.auditor)).risk.version).toBe(then.version);
    });

    it('names a field inside a nested input by its path', async () => {
      const controls = [{ title: 't'.repeat(201), description: 'd', ownerId: 'ops-lead', dueDate: '2099-03-31', reason: 'r' }];
      const error = errorOf(await t.gql(CONTROLS, { input: { riskId: risk.id, controls } }, users.committee));
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { 'controls[0].title': expect.any(String) } });
    });

    it('refuses other text over 10,000 characters', async () => {
      const error = errorOf(await t.gql(REGISTER, { input: { ...assetInput, description: 'd'.repeat(10_001) } }, users.opsManager));
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { description: expect.any(String) } });
    });

    describe('ill-formed UTF-16 (a lone surrogate, which a literal in the document cannot hold) is refused through variables too', () => {
      const illFormed = { code: 'BAD_USER_INPUT' };
      const named = (field: string) => ({ ...illFormed, fields: { [field]: expect.stringMatching(/well-formed/) } });

      it('in a name, a description, a department, an id: BAD_USER_INPUT naming the field, nothing appended', async () => {
        const before = await eventCount();
        for (const [field, value] of [['name', 'abc\ud800def'], ['name', 'abc\udfffdef'], ['description', 'trailing \ud83d'], ['department', '\udc00ops'], ['managerId', 'mgr\ud800']] as const) {
          const result = await t.gql(REGISTER, { input: { ...assetInput, name: `Surrogate ${field}`, [field]: value } }, users.ciso);
          expect([field, value, errorOf(result).extensions]).toEqual([field, value, named(field)]);
        }
        // The same name through a literal never parses; through a variable it is now refused the same way.
        expect(errorOf(await t.gql(`mutation($n: String!) { registerAsset(input: { name: $n, category: SYSTEM, department: "ops", managerId: "mgr-ops", confidentiality: 1, integrity: 1, availability: 1 }) { id } }`, { n: 'abc\ud800def' }, users.opsManager)).extensions).toEqual(named('name'));
        expect(await eventCount()).toBe(before);
        // A surrogate pair (an emoji, a rare kanji) is well-formed.
        await t.ok(REGISTER, { input: { ...assetInput, name: 'Pair 😀 𠮷', description: '🔐' } }, users.opsManager);
      });

      it('in nested and list inputs, plan, comment and informal analysis texts', async () => {
        const controls = [{ title: 'Title', description: 'd\udc00', ownerId: 'ops-lead', dueDate: '2099-03-31', reason: 'r' }];
        expect(errorOf(await t.gql(CONTROLS, { input: { riskId: risk.id, controls } }, users.committee)).extensions).toEqual(named('controls[0].description'));
        const references = { title: 'Refs', assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub, externalReferences: ['ok', 'bad\ud800'] };
        expect(errorOf(await t.gql(IDENTIFY, { input: references }, users.riskOwner)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { externalReferences: expect.stringMatching(/well-formed/) } });
        const DRAFT = `mutation($input: DraftPlanInput!) { draftPlan(input: $input) { id } }`;
        expect(errorOf(await t.gql(DRAFT, { input: { title: 'Plan \ud800', period: 'FY2026' } }, users.committee)).extensions).toEqual(named('title'));
        expect(errorOf(await t.gql(DRAFT, { input: { title: 'Plan', period: 'FY\udbff' } }, users.committee)).extensions).toEqual(named('period'));
        const COMMENT = `mutation($input: AddCommentInput!) { addComment(input: $input) { id } }`;
        expect(errorOf(await t.gql(COMMENT, { input: { entityId: asset.assetId, text: 'Looks \udc01 fine' } }, users.ciso)).extensions).toEqual(named('text'));
        const ANALYSE = `mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id } }`;
        const informal = (expert: string, rationale: string) => ({ riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert, rationale } });
        expect(errorOf(await t.gql(ANALYSE, { input: informal('Dr \ud800', 'fine') }, users.committee)).extensions).toEqual(named('informal.expert'));
        expect(errorOf(await t.gql(ANALYSE, { input: informal('Dr Who', 'because \udfff') }, users.committee)).extensions).toEqual(named('informal.rationale'));
      });

      it('in the arguments of queries (ids, filters), over variables', async () => {
        expect(errorOf(await t.gql(`query($id: ID!) { asset(id: $id) { id } }`, { id: 'a\ud800' }, users.auditor)).extensions).toEqual(named('id'));
        expect(errorOf(await t.gql(`query($types: [String!]) { events(first: 1, types: $types) { totalCount } }`, { types: ['AssetRegistered', '\udc00'] }, users.auditor)).extensions).toEqual(named('types[1]'));
      });
    });
  });

  it('a made-up events cursor is BAD_USER_INPUT on `after`, and no error line is logged for it', async () => {
    // Log lines at info and above for the length of this test (the TestApp is silent otherwise).
    const lines: string[] = [];
    const level = process.env.LOG_LEVEL;
    const writes = [process.stdout, process.stderr].map((stream) => {
      const write = stream.write;
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        lines.push(String(chunk));
        return (write as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      }) as typeof stream.write;
      return () => {
        stream.write = write;
      };
    });
    process.env.LOG_LEVEL = 'info';
    try {
      for (const after of ['zzz', '', '-1', '1.5', ' 1', '9999999999999999999', 'x'.repeat(5000)]) {
        const error = errorOf(await t.gql(`query($after: String) { events(first: 2, after: $after) { edges { cursor } } }`, { after }, users.auditor));
        expect({ after: after.slice(0, 20), ...error.extensions }).toEqual({ after: after.slice(0, 20), code: 'BAD_USER_INPUT', fields: { after: 'is not a valid cursor' } });
      }
    } finally {
      process.env.LOG_LEVEL = level;
      for (const restore of writes) restore();
    }
    expect(lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  });
});
