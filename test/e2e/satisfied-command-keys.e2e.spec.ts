/**
 * A keyed command found already satisfied records its key (satisfied-command.ts): a retry of it
 * later answers what the first request answered and appends nothing, whatever happened since; the
 * key used for another command is refused (race probe of 2026-12-07, F1 and F2: the key stayed
 * free, and a retry after the state moved on recorded what the first request had not: an Art.20
 * acceptance of a state the owner never saw, an old context recorded again as a new version).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from './support/test-app.js';
import { ANALYSE } from './support/scenario.js';
import { ACCEPT, approvedPlan } from './documents/plan-scenario.js';

const RECORD_CONTEXT = `mutation($input: RecordContextInput!) { recordContext(input: $input) { id version period } }`;
const RECORD_INCIDENT = `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { id } }`;
const EVENTS = `{ events(first: 500) { edges { node { type streamId data } } } }`;
const CONSENT = `query($id: ID!) { risk(id: $id) { status version consent { status atVersion } } }`;

const context = (period: string) => ({ period, scope: 'Custody', internalIssues: ['Keys in one data centre'], externalIssues: ['JVCEA rules'], interestedParties: ['Customers'] });

let t: TestApp;
const eventCount = async () => (await t.ok(EVENTS, {}, users.auditor)).events.edges.length as number;

describe('a keyed command found satisfied keeps its key', () => {
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => t?.close());

  it('a retry after the state moved on answers the first result and records nothing; the key is refused for another command', async () => {
    expect((await t.ok(RECORD_CONTEXT, { input: { ...context('FY2026'), commandId: 'ctx-0' } }, users.committee)).recordContext).toMatchObject({ version: 1, period: 'FY2026' });
    // The same content under a new key: satisfied, answered as it stands, the key recorded.
    const before = await eventCount();
    expect((await t.ok(RECORD_CONTEXT, { input: { ...context('FY2026'), commandId: 'ctx-1' } }, users.committee)).recordContext).toMatchObject({ version: 1, period: 'FY2026' });
    const { events } = await t.ok(EVENTS, {}, users.auditor);
    expect(events.edges.length).toBe(before + 1);
    expect(events.edges.at(-1).node).toMatchObject({ type: 'CommandFoundSatisfied', data: { version: 0 } });
    // The context moves on, then ctx-1 is retried: the first answer, not FY2026 recorded again as version 3.
    expect((await t.ok(RECORD_CONTEXT, { input: context('FY2027') }, users.committee)).recordContext).toMatchObject({ version: 2, period: 'FY2027' });
    const moved = await eventCount();
    expect((await t.ok(RECORD_CONTEXT, { input: { ...context('FY2026'), commandId: 'ctx-1' } }, users.committee)).recordContext).toMatchObject({ version: 1, period: 'FY2026' });
    expect(await eventCount()).toBe(moved);
    expect((await t.ok(`{ context { version period } }`, {}, users.auditor)).context).toEqual({ version: 2, period: 'FY2027' });
    // With another input, or for another command: refused, as for a key whose command appended.
    expect(errorOf(await t.gql(RECORD_CONTEXT, { input: { ...context('FY2028'), commandId: 'ctx-1' } }, users.committee)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/another input/) } });
    const incident = { title: 'Leak elsewhere', organisation: 'Other exchange', occurredOn: '2024-05-31', description: 'Hot wallet theft', commandId: 'ctx-1' };
    expect(errorOf(await t.gql(RECORD_INCIDENT, { input: incident }, users.committee)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/different kind of command/) } });
    expect(await eventCount()).toBe(moved);
  });

  it('16 requests with one key, in flight together, on a satisfied command: one acknowledgement, one answer', async () => {
    const now = (await t.ok(`{ context { version period } }`, {}, users.auditor)).context;
    const before = await eventCount();
    const answers = await Promise.all(Array.from({ length: 16 }, () => t.ok(RECORD_CONTEXT, { input: { ...context(now.period), commandId: 'ctx-race' } }, users.committee)));
    expect(new Set(answers.map((a) => JSON.stringify(a.recordContext))).size).toBe(1);
    expect(answers[0].recordContext).toMatchObject(now);
    const { events } = await t.ok(EVENTS, {}, users.auditor);
    expect(events.edges.length).toBe(before + 1);
    expect(events.edges.at(-1).node.type).toBe('CommandFoundSatisfied');
  });

  it('an attachment made already, sent under a new key and retried, answers the attachment (not "used for a different kind of command")', async () => {
    const uploaded = await fetch(`${t.url}/evidence`, { method: 'POST', headers: { authorization: `Bearer ${await t.token(users.committee)}`, 'content-type': 'text/plain', 'x-filename': 'minutes.txt' }, body: 'Board minutes' });
    expect(uploaded.status).toBe(201);
    const { id: evidenceId } = (await uploaded.json()) as { id: string };
    const entityId = (await t.ok(`{ context { id } }`, {}, users.auditor)).context.id;
    const ATTACH = `mutation($input: AttachEvidenceInput!) { attachEvidence(input: $input) { id entityId description } }`;
    const input = { entityId, evidenceId, description: 'Minutes of the meeting that set the context' };
    const attached = (await t.ok(ATTACH, { input: { ...input, commandId: 'att-0' } }, users.committee)).attachEvidence;
    expect((await t.ok(ATTACH, { input: { ...input, commandId: 'att-1' } }, users.committee)).attachEvidence).toEqual(attached);
    expect((await t.ok(ATTACH, { input: { ...input, commandId: 'att-1' } }, users.committee)).attachEvidence).toEqual(attached);
  });

  it("an acceptance sent again under a new key, retried once the consent is asked again, is not the owner's consent to the new state (Art.20)", async () => {
    const { planId, riskId } = await approvedPlan(t);
    await t.ok(ACCEPT, { input: { planId, riskId, statement: 'I accept', commandId: 'acc-0' } }, users.riskOwner);
    const firstAnswer = (await t.ok(ACCEPT, { input: { planId, riskId, statement: 'I accept', commandId: 'acc-1' } }, users.riskOwner)).acceptResidualRisk;
    expect(firstAnswer).toMatchObject({ status: 'IN_FORCE', items: [{ riskId, consent: 'ACCEPTED' }] });
    const accepted = (await t.ok(CONSENT, { id: riskId }, users.auditor)).risk;
    expect(accepted).toMatchObject({ status: 'ACCEPTED', consent: { status: 'ACCEPTED' } });
    // A new analysis: the consent goes stale and the owner is to be asked again.
    await t.ok(ANALYSE, { input: { riskId, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'Committee', rationale: 'New incident' } } }, users.committee);
    const changed = (await t.ok(CONSENT, { id: riskId }, users.auditor)).risk;
    expect(changed.status).not.toBe('ACCEPTED');
    const moved = await eventCount();
    // The retry of acc-1 answers as its first request did (the plan as it stood then) and records no acceptance.
    expect((await t.ok(ACCEPT, { input: { planId, riskId, statement: 'I accept', commandId: 'acc-1' } }, users.riskOwner)).acceptResidualRisk).toEqual(firstAnswer);
    expect(await eventCount()).toBe(moved);
    expect((await t.ok(CONSENT, { id: riskId }, users.auditor)).risk).toEqual(changed);
  });
});
