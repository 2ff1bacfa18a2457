import { criteriaTitleCase } from '../support/criteria-definitions.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from './support/test-app.js';

const CRITERIA_FIELDS = `id version number status acceptanceLevel riskLevels likelihoodLevels impactLevels matrix impactByAssetValue
  baselineGapThresholds detailedLikelihoodThresholds requiredMethods { minAssetValue method } reviewIntervalDays { level days }
  proposedBy proposedAt approvedBy approvedAt supersededAt supersededBy`;
const PROPOSE = `mutation($input: ProposeRiskCriteriaInput!) { proposeRiskCriteria(input: $input) { ${CRITERIA_FIELDS} } }`;
const APPROVE = `mutation($input: ApproveRiskCriteriaInput!) { approveRiskCriteria(input: $input) { ${CRITERIA_FIELDS} } }`;
const IN_FORCE = `{ riskCriteria { ${CRITERIA_FIELDS} } }`;
const VERSIONS = `{ riskCriteriaVersions { id number status version } }`;
const VERSION = `query($id: ID!) { riskCriteriaVersion(id: $id) { ${CRITERIA_FIELDS} } }`;
const HISTORY = `query($id: ID!) { history(id: $id) { type streamId revision data metadata { actor { id name roles } commandId } } }`;
const CRITERIA_EVENTS = `{ events(first: 500, types: ["RiskCriteriaProposed", "RiskCriteriaApproved", "RiskCriteriaSuperseded"]) { edges { node { type data } } } }`;

const criteria = criteriaTitleCase;

describe('risk criteria over GraphQL (Art. 13)', () => {
  let t: TestApp;
  const countCriteriaEvents = async () => (await t.ok(CRITERIA_EVENTS, {}, users.auditor)).events.edges.length as number;

  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('has no criteria in force before the first approval', async () => {
    expect((await t.ok(IN_FORCE, {}, users.riskOwner)).riskCriteria).toBeNull();
    expect((await t.ok(VERSIONS, {}, users.auditor)).riskCriteriaVersions).toEqual([]);
  });

  it('lets a committee member propose and the CISO approve; the approved version is in force', async () => {
    const { proposeRiskCriteria: proposed } = await t.ok(PROPOSE, { input: criteria() }, users.committee);
    expect(proposed).toMatchObject({
      ...criteria(),
      number: 1,
      version: 0,
      status: 'PROPOSED',
      proposedBy: 'committee-1',
      approvedBy: null,
      approvedAt: null,
      supersededAt: null,
    });
    expect(new Date(proposed.proposedAt).toISOString()).toBe(proposed.proposedAt);
    expect((await t.ok(IN_FORCE, {}, users.riskOwner)).riskCriteria).toBeNull();

    const { approveRiskCriteria: approved } = await t.ok(APPROVE, { input: { criteriaId: proposed.id, expectedVersion: proposed.version } }, users.ciso);
    expect(approved).toMatchObject({ id: proposed.id, number: 1, version: 1, status: 'IN_FORCE', approvedBy: 'ciso', acceptanceLevel: 'Low', riskLevels: ['Low', 'Medium', 'High'] });
    expect(approved.approvedAt).toEqual(expect.any(String));

    // Read-your-writes: the queries see it at once.
    expect((await t.ok(IN_FORCE, {}, users.opsManager)).riskCriteria).toEqual(approved);
    expect((await t.ok(VERSION, { id: proposed.id }, users.auditor)).riskCriteriaVersion).toEqual(approved);

    // history(id) gives this version's events, with the actors.
    const { history } = await t.ok(HISTORY, { id: proposed.id }, users.auditor);
    expect(history.map((e: any) => e.type)).toEqual(['RiskCriteriaProposed', 'RiskCriteriaApproved']);
    expect(history[0]).toMatchObject({ streamId: 'risk-criteria', revision: 0, data: { criteriaId: proposed.id, number: 1, acceptanceLevel: 'Low' }, metadata: { actor: { id: 'committee-1', roles: ['COMMITTEE_MEMBER'] } } });
    expect(history[1]).toMatchObject({ revision: 1, data: { criteriaId: proposed.id, approvedBy: 'ciso' }, metadata: { actor: { id: 'ciso', name: 'Chief ISO', roles: ['CISO'] } } });
  });

  it('refuses the proposer as approver (Art.23(3)); a second approved version supersedes the first', async () => {
    const first = (await t.ok(IN_FORCE, {}, users.auditor)).riskCriteria;
    const { proposeRiskCriteria: second } = await t.ok(PROPOSE, { input: { ...criteria(), acceptanceLevel: 'Medium' } }, users.ciso);
    expect(second).toMatchObject({ number: 2, status: 'PROPOSED', proposedBy: 'ciso', acceptanceLevel: 'Medium' });

    const before = await countCriteriaEvents();
    const refused = errorOf(await t.gql(APPROVE, { input: { criteriaId: second.id } }, users.ciso));
    expect(refused.extensions).toEqual({ code: 'FORBIDDEN', rule: 'CRITERIA_APPROVER_IS_PROPOSER', article: 'Art.23(3)' });
    expect(await countCriteriaEvents()).toBe(before);
    expect((await t.ok(IN_FORCE, {}, users.auditor)).riskCriteria.id).toBe(first.id);

    const { approveRiskCriteria: approved } = await t.ok(APPROVE, { input: { criteriaId: second.id } }, users.ciso2);
    expect(approved).toMatchObject({ id: second.id, number: 2, status: 'IN_FORCE', approvedBy: 'ciso-2', acceptanceLevel: 'Medium' });

    const inForce = (await t.ok(IN_FORCE, {}, users.riskOwner)).riskCriteria;
    expect(inForce).toMatchObject({ id: second.id, number: 2, status: 'IN_FORCE' });
    const old = (await t.ok(VERSION, { id: first.id }, users.auditor)).riskCriteriaVersion;
    expect(old).toMatchObject({ number: 1, status: 'SUPERSEDED', supersededBy: second.id, supersededAt: approved.approvedAt, version: approved.version + 1 });
    expect((await t.ok(VERSIONS, {}, users.auditor)).riskCriteriaVersions).toEqual([
      { id: second.id, number: 2, status: 'IN_FORCE', version: approved.version },
      { id: first.id, number: 1, status: 'SUPERSEDED', version: approved.version + 1 },
    ]);
    const { history } = await t.ok(HISTORY, { id: first.id }, users.auditor);
    expect(history.map((e: any) => e.type)).toEqual(['RiskCriteriaProposed', 'RiskCriteriaApproved', 'RiskCriteriaSuperseded']);

    // As of a past point (compliance probe L7): the version in force then, and the versions recorded by then as they stood.
    const atProposal = (await t.ok(`{ events(first: 500, types: ["RiskCriteriaProposed"]) { edges { node { position data } } } }`, {}, users.auditor)).events.edges
      .map((e: any) => e.node).find((n: any) => n.data.criteriaId === second.id).position;
    const then = await t.ok(`query($p: String) { riskCriteria(atPosition: $p) { id status } riskCriteriaVersions(atPosition: $p) { id number status } }`, { p: atProposal }, users.auditor);
    expect(then.riskCriteria).toEqual({ id: first.id, status: 'IN_FORCE' });
    expect(then.riskCriteriaVersions).toEqual([{ id: second.id, number: 2, status: 'PROPOSED' }, { id: first.id, number: 1, status: 'IN_FORCE' }]);
    const beforeFirst = await t.ok(`query($at: DateTime) { riskCriteria(asOf: $at) { id } riskCriteriaVersions(asOf: $at) { id } }`, { at: '2020-01-01T00:00:00Z' }, users.auditor);
    expect(beforeFirst).toEqual({ riskCriteria: null, riskCriteriaVersions: [] });
    expect((await t.ok(`query($at: DateTime) { riskCriteria(asOf: $at) { id } }`, { at: new Date().toISOString() }, users.auditor)).riskCriteria.id).toBe(second.id);
    expect(errorOf(await t.gql(`{ riskCriteria(asOf: "2020-01-01T00:00:00Z", atPosition: "1") { id } }`, {}, users.auditor)).extensions.code).toBe('BAD_USER_INPUT');

    // A superseded version cannot come back.
    const again = errorOf(await t.gql(APPROVE, { input: { criteriaId: first.id } }, users.ciso2));
    expect(again.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'CRITERIA_SUPERSEDED', article: 'Art.13' });
  });

  it('lets only COMMITTEE_MEMBER and CISO propose and only the CISO approve', async () => {
    const { proposeRiskCriteria: proposed } = await t.ok(PROPOSE, { input: criteria() }, users.committee);
    const before = await countCriteriaEvents();
    for (const user of [users.riskOwner, users.opsManager, users.auditor, users.secretary, users.admin]) {
      expect(errorOf(await t.gql(PROPOSE, { input: criteria() }, user)).extensions.code).toBe('FORBIDDEN');
    }
    for (const user of [users.committee, users.riskOwner, users.opsManager, users.auditor, users.secretary, users.admin]) {
      expect(errorOf(await t.gql(APPROVE, { input: { criteriaId: proposed.id } }, user)).extensions.code).toBe('FORBIDDEN');
    }
    expect(errorOf(await t.gql(PROPOSE, { input: criteria() })).extensions.code).toBe('UNAUTHENTICATED');
    expect(await countCriteriaEvents()).toBe(before);
    expect((await t.ok(VERSION, { id: proposed.id }, users.auditor)).riskCriteriaVersion.status).toBe('PROPOSED');
  });

  it('refuses malformed criteria with BAD_USER_INPUT naming the fields, and appends nothing', async () => {
    const before = await countCriteriaEvents();
    const fieldsOf = async (input: Record<string, unknown>) => {
      const e = errorOf(await t.gql(PROPOSE, { input }, users.committee));
      expect(e.extensions.code).toBe('BAD_USER_INPUT');
      return e.extensions.fields as Record<string, string>;
    };
    // The matrix has the wrong size: a row missing, a row too short.
    expect(Object.keys(await fieldsOf({ ...criteria(), matrix: criteria().matrix.slice(0, 2) }))).toContain('matrix');
    expect(Object.keys(await fieldsOf({ ...criteria(), matrix: [['Low', 'Low'], ...criteria().matrix.slice(1)] }))).toContain('matrix[0]');
    // A cell that is no risk level.
    expect(await fieldsOf({ ...criteria(), matrix: [criteria().matrix[0], ['Low', 'Medium', 'Extreme'], criteria().matrix[2]] })).toHaveProperty(['matrix[1][2]']);
    // Thresholds not ascending.
    const thresholds = await fieldsOf({ ...criteria(), baselineGapThresholds: [0.5, 0.2], detailedLikelihoodThresholds: [6, 6] });
    expect(Object.keys(thresholds).sort()).toEqual(['baselineGapThresholds[1]', 'detailedLikelihoodThresholds[1]']);
    // Acceptance level that is no risk level.
    expect(Object.keys(await fieldsOf({ ...criteria(), acceptanceLevel: 'Tolerable' }))).toEqual(['acceptanceLevel']);
    // A risk level with no review interval.
    const missing = await fieldsOf({ ...criteria(), reviewIntervalDays: criteria().reviewIntervalDays.slice(0, 2) });
    expect(Object.keys(missing)).toEqual(['reviewIntervalDays']);
    expect(missing.reviewIntervalDays).toMatch(/High/);
    // Review intervals that grow as the level rises (auditor probe F10), and a repeated required method.
    const rising = await fieldsOf({ ...criteria(), reviewIntervalDays: [{ level: 'Low', days: 30 }, { level: 'Medium', days: 30 }, { level: 'High', days: 3650 }] });
    expect(Object.keys(rising)).toEqual(['reviewIntervalDays[2].days']);
    expect(rising['reviewIntervalDays[2].days']).toMatch(/reviewIntervalDays\[1\]\.days/);
    const twice = await fieldsOf({ ...criteria(), requiredMethods: [{ minAssetValue: 2, method: 'BASELINE' }, { minAssetValue: 2, method: 'BASELINE' }] });
    expect(Object.keys(twice)).toEqual(['requiredMethods[1]']);
    // Several problems at once are all named.
    const many = await fieldsOf({ ...criteria(), acceptanceLevel: 'Nope', impactByAssetValue: [1, 2], requiredMethods: [{ minAssetValue: 4, method: 'DETAILED' }] });
    expect(Object.keys(many).sort()).toEqual(['acceptanceLevel', 'impactByAssetValue', 'requiredMethods[0].minAssetValue']);
    // GraphQL itself refuses an unknown analysis method or a wrong type.
    expect(errorOf(await t.gql(PROPOSE, { input: { ...criteria(), requiredMethods: [{ minAssetValue: 1, method: 'GUESSWORK' }] } }, users.committee)).extensions.code).toBe('BAD_USER_INPUT');
    expect(errorOf(await t.gql(PROPOSE, { input: { ...criteria(), impactByAssetValue: ['high', 2, 3] } }, users.committee)).extensions.code).toBe('BAD_USER_INPUT');
    expect(await countCriteriaEvents()).toBe(before);
  });

  it("compares expectedVersion with the criteria version's own version, not the register's", async () => {
    const { proposeRiskCriteria: a } = await t.ok(PROPOSE, { input: { ...criteria(), acceptanceLevel: 'Medium' } }, users.committee);
    // Another proposal moves the register stream but not version a.
    const { proposeRiskCriteria: b } = await t.ok(PROPOSE, { input: criteria() }, users.committee);
    expect(b.version).toBe(a.version + 1);

    const before = await countCriteriaEvents();
    const conflict = errorOf(await t.gql(APPROVE, { input: { criteriaId: a.id, expectedVersion: a.version - 1 } }, users.ciso));
    expect(conflict.extensions).toEqual({ code: 'CONCURRENCY_CONFLICT', expectedVersion: a.version - 1, actualVersion: a.version });
    expect(await countCriteriaEvents()).toBe(before);

    const { approveRiskCriteria: approved } = await t.ok(APPROVE, { input: { criteriaId: a.id, expectedVersion: a.version } }, users.ciso);
    expect(approved).toMatchObject({ id: a.id, status: 'IN_FORCE' });
    // The version approved moved on: the old expectedVersion is now stale.
    const stale = errorOf(await t.gql(APPROVE, { input: { criteriaId: a.id, expectedVersion: a.version } }, users.ciso));
    expect(stale.extensions).toEqual({ code: 'CONCURRENCY_CONFLICT', expectedVersion: a.version, actualVersion: approved.version });
    // Approving the version in force again is already satisfied.
    expect((await t.ok(APPROVE, { input: { criteriaId: a.id } }, users.ciso)).approveRiskCriteria).toEqual(approved);
  });

  it('answers a retry with the same commandId with the first result and appends nothing', async () => {
    const input = { ...criteria(), commandId: 'propose-criteria-1' };
    const first = (await t.ok(PROPOSE, { input }, users.committee)).proposeRiskCriteria;
    const before = await countCriteriaEvents();
    const second = (await t.ok(PROPOSE, { input }, users.committee)).proposeRiskCriteria;
    expect(second).toEqual(first);
    expect(await countCriteriaEvents()).toBe(before);

    const approveInput = { criteriaId: first.id, commandId: 'approve-criteria-1' };
    const approved = (await t.ok(APPROVE, { input: approveInput }, users.ciso)).approveRiskCriteria;
    expect(approved).toMatchObject({ id: first.id, status: 'IN_FORCE' });
    const afterApproval = await countCriteriaEvents();
    expect((await t.ok(APPROVE, { input: approveInput }, users.ciso)).approveRiskCriteria).toEqual(approved);
    expect(await countCriteriaEvents()).toBe(afterApproval);
    const { history } = await t.ok(HISTORY, { id: first.id }, users.auditor);
    expect(history.map((e: any) => [e.type, e.metadata.commandId])).toEqual([
      ['RiskCriteriaProposed', 'propose-criteria-1'],
      ['RiskCriteriaApproved', 'approve-criteria-1'],
    ]);

    // Every version lives in one stream: the key used again to approve another version is refused
    // (the command names the version: metadata.commandSubject); it answered the first approval
    // and left the second version PROPOSED.
    const next = (await t.ok(PROPOSE, { input: { ...criteria(), acceptanceLevel: 'Medium' } }, users.committee)).proposeRiskCriteria;
    const reused = errorOf(await t.gql(APPROVE, { input: { criteriaId: next.id, commandId: 'approve-criteria-1' } }, users.ciso));
    expect(reused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/same command on another entity/) } });
    expect((await t.ok(VERSION, { id: next.id }, users.auditor)).riskCriteriaVersion).toMatchObject({ status: 'PROPOSED' });
  });

  it('answers unknown ids with NOT_FOUND or null, never a stack trace', async () => {
    expect((await t.ok(VERSION, { id: 'no-such-criteria' }, users.auditor)).riskCriteriaVersion).toBeNull();
    const missing = await t.gql(APPROVE, { input: { criteriaId: 'no-such-criteria' } }, users.ciso);
    expect(errorOf(missing).extensions.code).toBe('NOT_FOUND');
    expect(JSON.stringify(missing)).not.toMatch(/stacktrace|\n\s+at |INTERNAL_SERVER_ERROR/);
  });

  it('keeps exactly one version in force, after a rebuild from the log too', async () => {
    const versions = (await t.ok(VERSIONS, {}, users.auditor)).riskCriteriaVersions as { number: number; status: string }[];
    expect(versions.map((v) => v.number)).toEqual([...versions.map((v) => v.number)].sort((x, y) => y - x));
    expect(versions.filter((v) => v.status === 'IN_FORCE')).toHaveLength(1);
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    // Drop the read models: the new instance rebuilds them from the event log.
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `read-models.sqlite${suffix}`), { force: true });
    t = await TestApp.start({ dataDir });
    expect((await t.ok(VERSIONS, {}, users.auditor)).riskCriteriaVersions).toEqual(versions);
  });
});
