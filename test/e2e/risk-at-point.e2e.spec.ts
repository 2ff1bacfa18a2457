/**
 * A single risk's past (risk(id, asOf | atPosition)) is read from its own stream, from the newest
 * snapshot at or before the point (the suite runs with a snapshot every 2 events), plus the
 * register's append-only analyses and reviews cut at the point; the register-wide replay
 * (risks(asOf | atPosition)) folds the whole log from zero. The two must agree at every position
 * of the log and at instants between events, and again once every snapshot is deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { TestApp, errorOf, users } from './support/test-app.js';
import { riskDecider } from '../../src/risk-register/domain/risk.decider.js';
import { SEALED_SUFFIX } from '../../src/shared/application/aggregate-reader.js';
import { ANALYSE, EVALUATE, RISK_FIELDS, assetWithThreat, criteriaInput, identifyRisk, proposeAndApproveCriteria } from './support/scenario.js';

const AT_POSITION = `query($id: ID!, $p: String) { risk(id: $id, atPosition: $p) { ${RISK_FIELDS} } risks(atPosition: $p, first: 500) { edges { node { ${RISK_FIELDS} } } } }`;
const AS_OF = `query($id: ID!, $at: DateTime) { risk(id: $id, asOf: $at) { ${RISK_FIELDS} } risks(asOf: $at, first: 500) { edges { node { ${RISK_FIELDS} } } } }`;

describe('a single risk at a past point equals the register replayed to that point', () => {
  let t: TestApp;
  let riskId: string;
  const ids: string[] = [];
  const instants: string[] = [];

  const informal = (likelihood: number, impact: number) => ({ input: { riskId, method: 'INFORMAL', informal: { likelihood, impact, expert: 'CISO office', rationale: `seen ${likelihood}x${impact}` } } });

  beforeAll(async () => {
    t = await TestApp.start();
    // Criteria that require nothing but an informal analysis, so the risk can move through evaluation.
    await proposeAndApproveCriteria(t, { requiredMethods: [] });
    const asset = await assetWithThreat(t, 'Signing server', { c: 3, i: 2, a: 1 });
    const other = await assetWithThreat(t, 'Cold storage', { c: 2, i: 2, a: 1 });
    riskId = (await identifyRisk(t, asset)).id;
    const second = (await identifyRisk(t, other, 'Loss of cold-storage shares')).id;
    // A long history on the risk: analyses at different levels (the top moves and stays), an
    // evaluation, more analyses after it, a second risk in between (priority is a rank), a new
    // criteria version (needsReevaluation), and instants recorded between the writes.
    for (const [l, i] of [[1, 1], [3, 3], [2, 2], [1, 3], [2, 1]] as const) {
      await t.ok(ANALYSE, informal(l, i), users.riskOwner);
      instants.push(new Date().toISOString());
    }
    await t.ok(ANALYSE, { input: { riskId: second, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'x', rationale: 'y' } } }, users.committee);
    await t.ok(EVALUATE, { input: { riskId } }, users.committee);
    await t.ok(EVALUATE, { input: { riskId: second } }, users.committee);
    instants.push(new Date().toISOString());
    for (const [l, i] of [[3, 1], [1, 2]] as const) await t.ok(ANALYSE, informal(l, i), users.riskOwner);
    await proposeAndApproveCriteria(t, { ...criteriaInput, acceptanceLevel: 'MEDIUM', requiredMethods: [] });
    instants.push(new Date().toISOString());
    await t.ok(ANALYSE, informal(2, 3), users.riskOwner);
    // A third risk, retained and reviewed twice (its reviews are read at the point too).
    const third = (await identifyRisk(t, other, 'Printer leaks')).id;
    await t.ok(ANALYSE, { input: { riskId: third, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert: 'x', rationale: 'y' } } }, users.committee);
    await t.ok(EVALUATE, { input: { riskId: third } }, users.committee);
    const REVIEW = `mutation($input: RecordReviewInput!) { recordReview(input: $input) { id status } }`;
    await t.ok(REVIEW, { input: { riskId: third, controlsInPlace: true, actualLikelihood: 1, actualImpact: 1, notes: 'first' } }, users.committee);
    instants.push(new Date().toISOString());
    await t.ok(REVIEW, { input: { riskId: third, controlsInPlace: true, actualLikelihood: 1, actualImpact: 1, notes: 'second' } }, users.committee);
    ids.push(riskId, second, third);
  });

  afterAll(async () => {
    await t?.close();
  });

  async function positions(): Promise<string[]> {
    const { events } = await t.ok(`{ events(first: 500) { edges { node { position } } } }`, {}, users.auditor);
    return events.edges.map((e: { node: { position: string } }) => e.node.position);
  }

  /**
   * What the log itself says a risk's analyses and reviews were at a position: an answer
   * independent of the read models (a replay reads them from the live tables, cut at its head).
   */
  async function listsFromTheLog(): Promise<(p: string, riskId: string) => { analyses: string[]; reviews: string[] }> {
    const { events } = await t.ok(`{ events(first: 500) { edges { node { position type data } } } }`, {}, users.auditor);
    const log = events.edges.map((e: { node: { position: string; type: string; data: Record<string, string> } }) => e.node);
    return (p, riskId) => {
      const upTo = log.filter((e: { position: string; data: Record<string, string> }) => e.position <= p && e.data.riskId === riskId);
      const ids = (type: string, key: string) => upTo.filter((e: { type: string }) => e.type === type).map((e: { data: Record<string, string> }) => e.data[key]!);
      return { analyses: ids('RiskAnalysed', 'analysisId'), reviews: ids('RiskReviewed', 'reviewId') };
    };
  }

  const nodeOf = (risks: { edges: { node: { id: string } }[] }, id: string) => risks.edges.map((e) => e.node).find((n) => n.id === id) ?? null;

  async function expectSameEverywhere(): Promise<number> {
    let compared = 0;
    const fromTheLog = await listsFromTheLog();
    for (const p of await positions()) {
      for (const id of ids) {
        const { risk, risks } = await t.ok(AT_POSITION, { id, p }, users.auditor);
        expect({ p, id, risk }).toEqual({ p, id, risk: nodeOf(risks, id) });
        if (risk) {
          compared++;
          const listed = { analyses: risk.analyses.map((a: { id: string }) => a.id), reviews: risk.reviews.map((r: { id: string }) => r.id) };
          expect({ p, id, listed }).toEqual({ p, id, listed: fromTheLog(p, id) });
        }
      }
    }
    for (const at of instants) {
      for (const id of ids) {
        const { risk, risks } = await t.ok(AS_OF, { id, at }, users.auditor);
        expect({ at, id, risk }).toEqual({ at, id, risk: nodeOf(risks, id) });
      }
    }
    return compared;
  }

  it('at every position of the log and at instants between writes (analyses, reviews, priority, flags included)', async () => {
    const compared = await expectSameEverywhere();
    // The risks exist at most positions, and their histories really are long enough to have snapshots.
    expect(compared).toBeGreaterThan(30);
    const { risk } = await t.ok(`query($id: ID!) { risk(id: $id) { reviews { id } } }`, { id: ids[2] }, users.auditor);
    expect(risk.reviews).toHaveLength(2);
    const db = new Database(join(t.dataDir, 'events.sqlite'), { readonly: true });
    try {
      const snapshots = db.prepare('SELECT COUNT(*) FROM snapshots WHERE stream_id = ? AND state_version = ?').pluck().get(`risk-${riskId}`, `${riskDecider.stateVersion}${SEALED_SUFFIX}`) as number;
      expect(snapshots).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it("stored snapshots are sealed: one edited in the database is not used, and every answer stays the log's (insider probe p14)", async () => {
    const db = new Database(join(t.dataDir, 'events.sqlite'));
    try {
      const sealed = db.prepare("SELECT COUNT(*) FROM snapshots WHERE stream_id = ? AND json_extract(state, '$.sealed') = 'v2' AND length(json_extract(state, '$.mac')) = 64").pluck().get(`risk-${riskId}`) as number;
      expect(sealed).toBeGreaterThan(0);
      // The title forged where a bare state (before seals) and a sealed one keep it.
      const edited = db.prepare("UPDATE snapshots SET state = json_set(state, '$.title', 'Forged title', '$.state.title', 'Forged title') WHERE stream_id = ?").run(`risk-${riskId}`);
      expect(edited.changes).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    expect(await expectSameEverywhere()).toBeGreaterThan(30);
    const { risk } = await t.ok(AT_POSITION, { id: riskId, p: (await positions()).at(-1) }, users.auditor);
    expect(JSON.stringify(risk)).not.toContain('Forged title');
  });

  it('the same answers once every snapshot is deleted (they are an optimisation only)', async () => {
    const db = new Database(join(t.dataDir, 'events.sqlite'));
    try {
      db.exec('DELETE FROM snapshots');
    } finally {
      db.close();
    }
    expect(await expectSameEverywhere()).toBeGreaterThan(30);
  });

  it('a short position is read as the padded one; before the risk existed it is null', async () => {
    const [first] = await positions();
    const short = String(Number(first));
    const { risk } = await t.ok(AT_POSITION, { id: riskId, p: short }, users.auditor);
    expect(risk).toBeNull();
    const { risk: before } = await t.ok(AS_OF, { id: riskId, at: '2000-01-01T00:00:00.000Z' }, users.auditor);
    expect(before).toBeNull();
  });

  it('a position past the head is refused (its answer would change as the log grows), in GraphQL and in documents', async () => {
    const past = '9000000000000000000';
    for (const query of [`query($id: ID!, $p: String) { risk(id: $id, atPosition: $p) { id } }`, `query($p: String) { risks(atPosition: $p) { totalCount } }`, `query($p: String) { heatMap(atPosition: $p) { total } }`]) {
      const error = errorOf(await t.gql(query, { id: riskId, p: past }, users.auditor));
      expect([query, error.extensions]).toEqual([query, expect.objectContaining({ code: 'BAD_USER_INPUT', fields: { atPosition: expect.stringContaining("past the log's head") } })]);
    }
    const document = await fetch(`${t.url}/documents/register.csv?atPosition=${past}`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } });
    expect(document.status).toBe(400);
  });

  it('an instant just past answers the same then and later, while commits are still being synced', async () => {
    const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`;
    let writing = true;
    const writer = async (w: number) => {
      for (let i = 0; writing; i++) {
        await t.ok(REGISTER, { i: { name: `sync-${w}-${i}`, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 } }, users.opsManager);
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    const COUNT = `query($at: DateTime) { assets(asOf: $at, first: 0) { totalCount } }`;
    const seen: { at: string; count: number }[] = [];
    // 1.5 s and at least 12 samples (a loaded machine answered only 5 in 1.5 s), at most 60 s.
    const until = Date.now() + 1_500;
    const deadline = Date.now() + 60_000;
    try {
      while ((Date.now() < until || seen.length < 12) && Date.now() < deadline) {
        const at = new Date(Date.now() - 1).toISOString();
        seen.push({ at, count: (await t.ok(COUNT, { at }, users.auditor)).assets.totalCount });
      }
    } finally {
      writing = false;
      await Promise.all(writers);
    }
    const changed: string[] = [];
    for (const { at, count } of seen) {
      const again = (await t.ok(COUNT, { at }, users.auditor)).assets.totalCount;
      if (again !== count) changed.push(`${at}: ${count} then ${again}`);
    }
    expect(seen.length).toBeGreaterThan(10);
    expect(new Set(seen.map((s) => s.count)).size).toBeGreaterThan(1); // the writes were really in flight
    expect(changed).toEqual([]);
  });

  it('an instant later than now is refused too (its answer, the state today, would change), in GraphQL and in documents; the look-ahead queries take it', async () => {
    const later = new Date(Date.now() + 60 * 60_000).toISOString();
    for (const query of [
      `query($id: ID!, $at: DateTime) { risk(id: $id, asOf: $at) { id } }`,
      `query($at: DateTime) { risks(asOf: $at) { totalCount } }`,
      `query($at: DateTime) { heatMap(asOf: $at) { total } }`,
      `query($at: DateTime) { assets(asOf: $at) { totalCount } }`,
    ]) {
      const error = errorOf(await t.gql(query, { id: riskId, at: later }, users.auditor));
      expect([query, error.extensions]).toEqual([query, expect.objectContaining({ code: 'BAD_USER_INPUT', fields: { asOf: expect.stringContaining('later than now') } })]);
    }
    const auth = { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } };
    const document = await fetch(`${t.url}/documents/register.csv?asOf=${encodeURIComponent(later)}`, auth);
    expect(document.status).toBe(400);
    expect(await document.text()).toContain('later than now');
    // A moment just past is a moment of the log; overdueControls and risksDueForReview look ahead on purpose.
    const { risk } = await t.ok(AS_OF, { id: riskId, at: new Date(Date.now() - 1).toISOString() }, users.auditor);
    expect(risk).toMatchObject({ id: riskId });
    await t.ok(`query($at: DateTime) { overdueControls(asOf: $at) { riskId } risksDueForReview(asOf: $at) { dueOn } }`, { at: later }, users.auditor);
    // Up to the last instant whose day in Japan has four digits (days compare as strings): past it, refused.
    await t.ok(`query { overdueControls(asOf: "9999-12-31T14:59:59.999Z") { riskId } }`, {}, users.auditor);
    const beyond = errorOf(await t.gql(`query { overdueControls(asOf: "9999-12-31T23:59:59Z") { riskId } }`, {}, users.auditor));
    expect(beyond.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    // The message gives the reason whole, the bound included (it was cut at "on a rea…", compliance probe 2026-12-04).
    expect(beyond.message).toContain('up to the end of 9999-12-31 in Japan (9999-12-31T14:59:59.999Z)');
    expect(beyond.message).not.toContain('…');
  });
});
