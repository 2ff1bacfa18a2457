/**
 * Review of 2026-12-07 (be32772^..481a442): a commandId is scoped to its user ("a retry with the
 * same commandId by the same user"), but the store's key is `${sub}:${commandId}` and both a sub
 * and a commandId may hold ':'. User "committee-1" with commandId "x:k" and user "committee-1:x"
 * with commandId "k" share one key: the second user's command is refused for a key they never
 * used, or answered with the first user's result and recorded nowhere.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from '../support/test-app.js';

const RECORD_CONTEXT = `mutation($input: RecordContextInput!) { recordContext(input: $input) { id version period } }`;
const RECORD_INCIDENT = `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { id } }`;
const EVENTS = `{ events(first: 500) { edges { node { type streamId metadata { actor { id } } } } } }`;
const context = (period: string) => ({ period, scope: 'Custody', internalIssues: ['Keys in one data centre'], externalIssues: ['JVCEA rules'], interestedParties: ['Customers'] });

const other = { sub: 'committee-1:x', name: 'Another member', roles: ['COMMITTEE_MEMBER'] };

let t: TestApp;

describe('command keys of two users', () => {
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => t?.close());

  it("another user's command is not refused, nor answered, by a key only the first user used", async () => {
    await t.ok(RECORD_CONTEXT, { input: { ...context('FY2026'), commandId: 'x:k' } }, users.committee);
    // committee-1:x never used "k": its incident is a new command of its own.
    const incident = { title: 'Leak elsewhere', organisation: 'Other exchange', occurredOn: '2024-05-31', description: 'Hot wallet theft', commandId: 'k' };
    const answer = await t.gql(RECORD_INCIDENT, { input: incident }, other);
    expect(answer.errors?.[0]?.extensions ?? null).toBeNull();
  });

  it("another user's same command is recorded as theirs, not answered with the first user's result", async () => {
    await t.ok(RECORD_CONTEXT, { input: { ...context('FY2027'), commandId: 'x:k2' } }, users.committee);
    await t.ok(RECORD_CONTEXT, { input: { ...context('FY2028') } }, users.committee);
    const answer = await t.ok(RECORD_CONTEXT, { input: { ...context('FY2027'), commandId: 'k2' } }, other);
    // The context is FY2028 now: other's command records FY2027 again (a new version), as its own.
    expect(answer.recordContext.period).toBe('FY2027');
    const { events } = await t.ok(EVENTS, {}, users.auditor);
    expect(events.edges.some((e: any) => e.node.metadata.actor.id === other.sub)).toBe(true);
  });
});
