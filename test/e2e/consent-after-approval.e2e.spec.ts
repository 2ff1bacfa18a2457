/**
 * Art. 19-20 after the board's approval, through the real application (SQLite file, process
 * manager, HTTP): a material change makes the consent stale and the owner is asked again, whether
 * the consent was given or only asked for; an owner can accept again only the residual level the
 * board approved (a changed target level would bring the plan into force over a level the board
 * never saw); a decline lets the committee take the risk out and the rest of the plan stands.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { EVENT_STORE, ExpectedVersion, type EventStore, type NewEvent } from '../../src/event-store/event-store.port.js';
import { riskDecider } from '../../src/risk-register/domain/risk.decider.js';
import { riskStreamId, type RiskEvent } from '../../src/risk-register/domain/risk.events.js';
import { AggregateReader } from '../../src/shared/application/aggregate-reader.js';
import { ProcessManager } from '../../src/shared/application/process-manager.js';
import { DeadlineWatch } from '../../src/risk-register/application/deadline-watch.js';
import { TestApp, errorOf, users } from './support/test-app.js';
import { proposeAndApproveCriteria } from './support/scenario.js';
import { addRisk, controlsB, draftPlan, forceOverUnacceptedRisks, logHead, quiesce, riskWithControls, sharedAsset, submitAndApprove, todayInJapan, tokenFor, waitForRisk, type SharedAsset } from '../concurrency/support.js';

const PLAN = 'id status items { riskId consent residualLevel }';
const RISK = 'id status treatment { targetLevel } consent { planId status residualLevel approvedResidualLevel contentAsApproved }';

describe('consent after the board approved the plan (Art. 19-20)', () => {
  let t: TestApp;
  let asset: SharedAsset;

  beforeAll(async () => {
    t = await TestApp.start();
    // Acceptance MEDIUM, so that a treatment can move its target between LOW and MEDIUM.
    await proposeAndApproveCriteria(t, { acceptanceLevel: 'MEDIUM' });
    asset = await sharedAsset(t, 'Hot wallet (consent after approval)');
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  const as = async (user: (typeof users)[keyof typeof users]) => tokenFor(t, user);
  const accept = async (planId: string, riskId: string) =>
    t.gql(`mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { ${PLAN} } }`, { input: { planId, riskId } }, await as(users.riskOwner));
  const decline = async (planId: string, riskId: string) =>
    t.ok(`mutation($input: DeclineResidualRiskInput!) { declineResidualRisk(input: $input) { ${PLAN} } }`, { input: { planId, riskId, reason: 'Not what the board approved' } }, await as(users.riskOwner));
  const retarget = async (riskId: string, targetLikelihood: number, targetImpact: number) =>
    t.ok(`mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { id } }`,
      { input: { riskId, options: ['REDUCE'], rationale: 'Cold storage ratio revised', targetLikelihood, targetImpact } }, await as(users.committee));
  // A material change that keeps what the board approved (its treatment and controls): a new analysis by the owner.
  const reanalyse = async (riskId: string) =>
    t.ok(`mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id } }`,
      { input: { riskId, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: `Re-assessed ${randomUUID()}` } } }, await as(users.riskOwner));
  const plan = async (id: string) => (await t.ok(`query($id: ID!) { plan(id: $id) { ${PLAN} } }`, { id }, await as(users.auditor))).plan;
  const risk = async (id: string) => (await t.ok(`query($id: ID!) { risk(id: $id) { ${RISK} } }`, { id }, await as(users.auditor))).risk;

  /** Two risks treated to LOW, in a plan the board approved; consent as given by `consent`. */
  async function approvedPlan(name: string, consent: 'given' | 'asked', assetOfA: SharedAsset = asset): Promise<{ planId: string; a: string; b: string }> {
    const a = await riskWithControls(t, assetOfA, `${name} A`);
    const b = await riskWithControls(t, asset, `${name} B`);
    const planId = await draftPlan(t, `${name} plan`);
    await addRisk(t, planId, a);
    await addRisk(t, planId, b);
    await submitAndApprove(t, planId, [a, b], `BR-${name}`);
    if (consent === 'given') {
      expect((await accept(planId, a)).errors).toBeUndefined();
      expect((await accept(planId, b)).data.acceptResidualRisk.status).toBe('IN_FORCE');
    }
    return { planId, a, b };
  }

  it('a target level changed after approval: asked again, accepting is refused and appends nothing, declining lets the committee take it out', async () => {
    const { planId, a, b } = await approvedPlan('level-changed', 'given');
    await retarget(a, 1, 3); // Rare x Severe: MEDIUM, where the board approved LOW
    await quiesce(t, await logHead(t));

    expect(await plan(planId)).toMatchObject({ status: 'APPROVED', items: [{ riskId: a, consent: 'STALE', residualLevel: 'LOW' }, { riskId: b, consent: 'ACCEPTED' }] });
    // Asked again at once (not left STALE with nothing to answer), for the level it now targets.
    expect(await risk(a)).toMatchObject({ status: 'AWAITING_CONSENT', treatment: { targetLevel: 'MEDIUM' }, consent: { planId, status: 'PENDING', residualLevel: 'MEDIUM', approvedResidualLevel: 'LOW' } });

    const head = await logHead(t);
    const refused = errorOf(await accept(planId, a));
    expect(refused.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'RESIDUAL_LEVEL_NOT_APPROVED', article: 'Art.19(2)' });
    expect(refused.message).toContain('the board approved LOW');
    expect(await quiesce(t, head)).toBe(head);
    expect((await plan(planId)).status).toBe('APPROVED');

    const declined = (await decline(planId, a)).declineResidualRisk;
    expect(declined.items.find((i: { riskId: string }) => i.riskId === a).consent).toBe('DECLINED');
    const removed = await t.ok(`mutation($input: RemoveRiskFromPlanInput!) { removeRiskFromPlan(input: $input) { ${PLAN} } }`,
      { input: { planId, riskId: a, reason: 'Goes to the board again with its new target' } }, await as(users.committee));
    expect(removed.removeRiskFromPlan).toMatchObject({ status: 'IN_FORCE', items: [{ riskId: b, consent: 'ACCEPTED' }] });
  }, 60_000);

  it('an answer sent again with other words is refused and appends nothing, before and after the item left the plan; the same answer again is done (race probe of 2026-12-06, F1)', async () => {
    const { planId, a, b } = await approvedPlan('answered-again', 'given');
    const owner = await as(users.riskOwner);
    const ACCEPT = `mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { ${PLAN} } }`;
    const DECLINE = `mutation($input: DeclineResidualRiskInput!) { declineResidualRisk(input: $input) { ${PLAN} } }`;
    const refusedWithout = async (query: string, input: Record<string, unknown>, words: RegExp) => {
      const head = await logHead(t);
      const error = errorOf(await t.gql(query, { input }, owner));
      expect(error.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'CONSENT_NOT_REQUESTED', article: 'Art.20' });
      expect(error.message).toMatch(words);
      expect(await quiesce(t, head)).toBe(head);
    };
    // Accepted with no statement: again with none is done; with one, refused (it was answered ok, the words dropped).
    expect((await t.ok(ACCEPT, { input: { planId, riskId: b } }, owner)).acceptResidualRisk.status).toBe('IN_FORCE');
    await refusedWithout(ACCEPT, { planId, riskId: b, statement: 'Words added afterwards' }, /accepted its residual risk .* already .*with no statement/);
    // Declined for one reason: again for another is refused, also once the item has left the plan.
    await retarget(a, 1, 3);
    await quiesce(t, await logHead(t));
    await t.ok(DECLINE, { input: { planId, riskId: a, reason: 'Too high' } }, owner);
    await refusedWithout(DECLINE, { planId, riskId: a, reason: 'Another reason' }, /declined its residual risk .* already .* for another reason/);
    await t.ok(`mutation($input: RemoveRiskFromPlanInput!) { removeRiskFromPlan(input: $input) { id } }`, { input: { planId, riskId: a, reason: 'Goes to the board again' } }, await as(users.committee));
    await refusedWithout(DECLINE, { planId, riskId: a, reason: 'A third reason' }, /for another reason/);
    const head = await logHead(t);
    await t.ok(DECLINE, { input: { planId, riskId: a, reason: 'Too high' } }, owner);
    expect(await quiesce(t, head)).toBe(head);
  }, 60_000);

  it('the treatment or controls decided again after approval, the level kept: accepting is refused and appends nothing, the plan stays out of force under its resolution (auditor probe F2)', async () => {
    const { planId, a, b } = await approvedPlan('content-changed', 'given');
    await retarget(a, 1, 2); // Rare x Moderate: still LOW, as approved, but not the treatment the board approved
    await quiesce(t, await logHead(t));
    // The owner is asked again, and the answer says acceptance is not open to them.
    expect(await risk(a)).toMatchObject({ consent: { status: 'PENDING', residualLevel: 'LOW', approvedResidualLevel: 'LOW', contentAsApproved: false } });
    expect(await risk(b)).toMatchObject({ consent: { status: 'ACCEPTED', contentAsApproved: true } });
    const head = await logHead(t);
    const refused = errorOf(await accept(planId, a));
    expect(refused.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'PLAN_CONTENT_NOT_APPROVED', article: 'Art.19(2)' });
    expect(refused.message).toContain('treatment changed after the board approved');
    expect(await quiesce(t, head)).toBe(head);
    expect(await plan(planId)).toMatchObject({ status: 'APPROVED', items: [{ riskId: a, consent: 'STALE' }, { riskId: b, consent: 'ACCEPTED' }] });
    // The controls too, on the other item (the probe's "annual reminder e-mail" for MFA).
    await t.ok(`mutation($input: DecideControlsInput!) { decideControls(input: $input) { id } }`, { input: { riskId: b, controls: controlsB } }, await as(users.committee));
    await quiesce(t, await logHead(t));
    expect(errorOf(await accept(planId, b)).extensions).toMatchObject({ rule: 'PLAN_CONTENT_NOT_APPROVED' });
    // The way back to the board: the owner declines, the committee removes the item.
    await decline(planId, a);
    await t.ok(`mutation($input: RemoveRiskFromPlanInput!) { removeRiskFromPlan(input: $input) { id } }`, { input: { planId, riskId: a, reason: 'Goes to the board again with its new treatment' } }, await as(users.committee));
    expect((await plan(planId)).status).toBe('APPROVED');
  }, 60_000);

  it('a change that keeps what the board approved (a new analysis): the owner is asked again and accepting brings the plan back into force', async () => {
    const { planId, a } = await approvedPlan('level-kept', 'given');
    await reanalyse(a);
    await quiesce(t, await logHead(t));
    expect(await risk(a)).toMatchObject({ consent: { status: 'PENDING', residualLevel: 'LOW', contentAsApproved: true } });
    const again = await accept(planId, a);
    expect(again.errors).toBeUndefined();
    expect(again.data.acceptResidualRisk).toMatchObject({ status: 'IN_FORCE' });
  }, 60_000);

  it('the plan learns a stale consent, a review finding and an acceptance in the same append as the risk: at no instant in force over them, nor behind an acceptance (year probe p14)', async () => {
    const { planId, a, b } = await approvedPlan('joint-stale', 'given');
    const eventsSince = async (after: string | null) =>
      (await t.ok(`query($after: String) { events(after: $after, first: 500) { edges { node { position streamId revision type recordedAt metadata { correlationId causationId } } } } }`, { after }, await as(users.auditor))).events.edges.map((e: any) => e.node);
    const sameAppend = async (head: string | null, riskType: string, planTypes: string[], statusThen = 'APPROVED') => {
      const events = await eventsSince(head);
      const i = events.findIndex((e: any) => e.type === riskType);
      expect(i).toBeGreaterThanOrEqual(0);
      const next = events.slice(i + 1, i + 1 + planTypes.length);
      // Right after the risk's event, in the same commit (one instant, one correlation), stamped as it is.
      expect(next.map((e: any) => [e.streamId, e.type])).toEqual(planTypes.map((type) => [`plan-${planId}`, type]));
      for (const e of next) expect([e.recordedAt, e.metadata.correlationId]).toEqual([events[i].recordedAt, events[i].metadata.correlationId]);
      const then = (await t.ok(`query($id: ID!, $asOf: DateTime) { plan(id: $id, asOf: $asOf) { status } }`, { id: planId, asOf: events[i].recordedAt }, await as(users.auditor))).plan;
      expect(then.status).toBe(statusThen);
      // At any position inside that commit (the risk's first event of it included), the plan and the
      // register are as the whole commit left them, never half of it (compliance probe 2026-12-04).
      const commit = events.filter((e: any) => e.recordedAt === events[i].recordedAt && e.metadata.correlationId === events[i].metadata.correlationId && e.metadata.causationId === events[i].metadata.causationId);
      const whole = commit[commit.length - 1];
      const at = async (position: string) =>
        (await t.ok(`query($id: ID!, $at: String) { plan(id: $id, atPosition: $at) { status items { riskId consent } } risks(atPosition: $at, first: 500) { edges { node { id status consent { status } } } } }`, { id: planId, at: position }, await as(users.auditor)));
      const end = await at(whole.position);
      expect(end.plan.status).toBe(statusThen);
      for (const e of commit) expect(await at(e.position)).toEqual(end);
    };
    let head = await logHead(t);
    await reanalyse(a); // what the board approved kept: the owner is asked again
    await sameAppend(head, 'ResidualConsentInvalidated', ['ResidualConsentBecameStale', 'PlanLeftForce']);
    await quiesce(t, await logHead(t));
    head = await logHead(t);
    expect((await accept(planId, a)).data.acceptResidualRisk.status).toBe('IN_FORCE');
    // The acceptance too: the risk ACCEPTED and its item PENDING for no instant of the log.
    await sameAppend(head, 'ResidualRiskAcceptedByOwner', ['ResidualRiskAccepted', 'PlanCameIntoForce'], 'IN_FORCE');
    head = await logHead(t);
    await t.ok(`mutation($input: RecordReviewInput!) { recordReview(input: $input) { id } }`, { input: { riskId: b, controlsInPlace: false, actualLikelihood: 1, actualImpact: 1, notes: 'the log of the control was not kept' } }, await as(users.committee));
    await sameAppend(head, 'RiskReassessmentOpened', ['PlanItemReopened', 'PlanLeftForce']);
    await quiesce(t, await logHead(t));
    expect(await plan(planId)).toMatchObject({ status: 'APPROVED', items: [{ riskId: a, consent: 'ACCEPTED' }, { riskId: b, consent: 'REOPENED' }] });

    // An owner withdrawing an acceptance of an in-force plan (re-probe p15): the decline too.
    const other = await approvedPlan('joint-decline', 'given');
    head = await logHead(t);
    await decline(other.planId, other.a);
    const events = await eventsSince(head);
    const i = events.findIndex((e: any) => e.type === 'ResidualRiskDeclinedByOwner');
    expect(events.slice(i + 1, i + 3).map((e: any) => [e.streamId, e.type, e.recordedAt])).toEqual([
      [`plan-${other.planId}`, 'ResidualRiskDeclined', events[i].recordedAt],
      [`plan-${other.planId}`, 'PlanLeftForce', events[i].recordedAt],
    ]);
    // The plan's item pins the state declined, as the risk's consent does.
    const declinedItem = (await t.ok(`query($id: ID!) { plan(id: $id) { items { riskId declinedBy declinedAt declinedRiskVersion declinedRiskStateHash } } }`, { id: other.planId }, await as(users.auditor))).plan.items.find((item: { riskId: string }) => item.riskId === other.a);
    const riskConsent = (await t.ok(`query($id: ID!) { risk(id: $id) { consent { fingerprint } } }`, { id: other.a }, await as(users.auditor))).risk.consent;
    expect(declinedItem).toEqual({ riskId: other.a, declinedBy: users.riskOwner.sub, declinedAt: expect.any(String), declinedRiskVersion: events[i].revision - 1, declinedRiskStateHash: riskConsent.fingerprint });
    // The command's instant, at or before its commit's (README, Auditors: asOf).
    expect(Date.parse(declinedItem.declinedAt)).toBeLessThanOrEqual(Date.parse(events[i].recordedAt));
    expect(riskConsent.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  }, 60_000);

  it('an acceptance the risk took back before the plan learnt it never brings the plan into force, not even for a moment of the log', async () => {
    const { planId, a, b } = await approvedPlan('taken-back', 'asked');
    expect((await accept(planId, b)).errors).toBeUndefined();
    // The owner's acceptance of A and its withdrawal, committed together: when the reactions come to
    // the acceptance, the risk already holds the decline (as when the plan lags behind the risk).
    const store = t.app.get<EventStore>(EVENT_STORE);
    const { state, streamVersion } = await t.app.get(AggregateReader).load(riskStreamId(a), riskDecider);
    const owner = { id: users.riskOwner.sub, name: users.riskOwner.name, roles: [...users.riskOwner.roles] } as Parameters<typeof riskDecider.decide>[0]['actor'];
    const at = new Date().toISOString();
    const accepted = riskDecider.decide({ type: 'RecordResidualConsent', actor: owner, at, riskId: a, planId, accepted: true, statement: '' }, state);
    const withdrawn = riskDecider.decide({ type: 'RecordResidualConsent', actor: owner, at, riskId: a, planId, accepted: false, reason: 'Withdrawn at once' }, accepted.reduce(riskDecider.evolve, state));
    const correlationId = randomUUID();
    const metadata = { actor: owner, occurredAt: at, correlationId, causationId: correlationId };
    const head = await logHead(t);
    await store.append(riskStreamId(a), [...accepted, ...withdrawn].map((e: RiskEvent) => ({ eventId: randomUUID(), type: e.type, schemaVersion: 1, data: e.data as Record<string, unknown>, metadata })), { expectedVersion: ExpectedVersion.exact(streamVersion) });
    await quiesce(t, head);
    const { history } = await t.ok(`query($id: ID!) { history(id: $id) { type } }`, { id: planId }, await as(users.auditor));
    const types = history.map((h: { type: string }) => h.type);
    expect(types).toContain('ResidualRiskDeclined');
    expect(types).not.toContain('PlanCameIntoForce');
    expect(await plan(planId)).toMatchObject({ status: 'APPROVED', items: [{ riskId: a, consent: 'DECLINED' }, { riskId: b, consent: 'ACCEPTED' }] });
  }, 60_000);

  it('a closure appended outside the command pipeline (an import, an older build) is learnt by the reactions: the item is marked once', async () => {
    const { planId, a } = await approvedPlan('closed-outside', 'asked');
    const { streamVersion } = await t.app.get(AggregateReader).load(riskStreamId(a), riskDecider);
    const committee = { id: users.committee.sub, name: users.committee.name, roles: [...users.committee.roles] };
    const closedAt = new Date().toISOString();
    const correlationId = randomUUID();
    const head = await logHead(t);
    await t.app.get<EventStore>(EVENT_STORE).append(riskStreamId(a), [{
      eventId: randomUUID(), type: 'RiskClosed', schemaVersion: 2, data: { riskId: a, reason: 'AVOIDED', assetIds: [], planId, closedBy: committee.id, closedAt },
      metadata: { actor: committee, occurredAt: closedAt, correlationId, causationId: correlationId },
    }], { expectedVersion: ExpectedVersion.exact(streamVersion) });
    await quiesce(t, head);
    const { history } = await t.ok(`query($id: ID!) { history(id: $id) { type } }`, { id: planId }, await as(users.auditor));
    expect(history.filter((h: { type: string }) => h.type === 'PlanItemRiskClosed')).toHaveLength(1);
    const items = (await t.ok(`query($id: ID!) { plan(id: $id) { items { riskId consent riskClosedAt } } }`, { id: planId }, await as(users.auditor))).plan.items;
    expect(items.find((i: { riskId: string }) => i.riskId === a)).toEqual({ riskId: a, consent: 'PENDING', riskClosedAt: closedAt });
  }, 60_000);

  it('a risk given a new owner: its item names them in the same commit, the former owner\'s consent goes STALE as theirs, and only the new owner answers (compliance #6)', async () => {
    const { planId, a, b } = await approvedPlan('new-owner', 'given');
    const ITEMS = 'status items { riskId ownerId consent consentRecord { ownerId } declinedBy }';
    const head = await logHead(t);
    await t.ok(`mutation($input: ReassignRiskOwnerInput!) { reassignRiskOwner(input: $input) { ownerId } }`, { input: { riskId: a, ownerId: users.otherOwner.sub } }, await as(users.committee));
    const events = (await t.ok(`query($after: String) { events(after: $after, first: 100) { edges { node { streamId type data recordedAt metadata { correlationId } } } } }`, { after: head }, await as(users.auditor))).events.edges.map((e: any) => e.node);
    const reassigned = events.find((e: any) => e.type === 'RiskOwnerReassigned');
    expect(reassigned.data).toMatchObject({ riskId: a, planId, previousOwnerId: users.riskOwner.sub, ownerId: users.otherOwner.sub });
    const planEvents = events.filter((e: any) => e.streamId === `plan-${planId}`);
    expect(planEvents.map((e: any) => e.type)).toEqual(['PlanItemOwnerChanged', 'ResidualConsentBecameStale', 'PlanLeftForce']);
    for (const e of planEvents) expect(e).toMatchObject({ recordedAt: reassigned.recordedAt, metadata: { correlationId: reassigned.metadata.correlationId } });
    expect(planEvents[0].data).toMatchObject({ riskId: a, previousOwnerId: users.riskOwner.sub, ownerId: users.otherOwner.sub });
    expect(planEvents[1].data).toMatchObject({ riskId: a, ownerId: users.riskOwner.sub, reason: 'OWNER_REASSIGNED' });
    await quiesce(t, await logHead(t));
    const items = async () => (await t.ok(`query($id: ID!) { plan(id: $id) { ${ITEMS} } }`, { id: planId }, await as(users.auditor))).plan;
    expect(await items()).toEqual({
      status: 'APPROVED',
      items: [
        { riskId: a, ownerId: users.otherOwner.sub, consent: 'STALE', consentRecord: { ownerId: users.riskOwner.sub }, declinedBy: null },
        { riskId: b, ownerId: users.riskOwner.sub, consent: 'ACCEPTED', consentRecord: { ownerId: users.riskOwner.sub }, declinedBy: null },
      ],
    });
    // The plan document's consent table names who is to answer now.
    const consentRow = async () => {
      const doc = await (await fetch(`${t.url}/documents/plans/${planId}.md?lang=en`, { headers: { authorization: `Bearer ${await as(users.auditor)}` } })).text();
      return doc.slice(doc.indexOf("## Risk owners' consent")).split('\n').find((line) => line.startsWith('| new-owner A'))!;
    };
    // The stale acceptance is the former owner's, said so, and why it went stale in words (compliance probe 2 #3, #10).
    const stale = (await consentRow()).split('|').map((cell) => cell.trim());
    expect([...stale.slice(1, 5), stale[6]]).toEqual(['new-owner A', users.otherOwner.sub, 'To be given again (changed after consent)', `LOW (given by ${users.riskOwner.sub}; no longer current)`, 'The risk has a new owner']);
    // The former owner can no longer answer; the new one can, and the plan is back in force.
    expect(errorOf(await accept(planId, a)).extensions.code).toBe('FORBIDDEN');
    const byNewOwner = await t.gql(`mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { status } }`, { input: { planId, riskId: a } }, await as(users.otherOwner));
    expect(byNewOwner.data.acceptResidualRisk.status).toBe('IN_FORCE');
    expect((await items()).items[0]).toMatchObject({ ownerId: users.otherOwner.sub, consent: 'ACCEPTED', consentRecord: { ownerId: users.otherOwner.sub } });
    expect((await consentRow()).split('|').map((cell) => cell.trim()).slice(1, 4)).toEqual(['new-owner A', users.otherOwner.sub, 'Accepted']);
    // The risk's details, as submitted, say who its owner is now (compliance probe F7: they named the former one alone).
    const details = await (await fetch(`${t.url}/documents/plans/${planId}.md?lang=en`, { headers: { authorization: `Bearer ${await as(users.auditor)}` } })).text();
    expect(details).toContain(`Its risk owner is now ${users.otherOwner.sub} (at the submission: ${users.riskOwner.sub})`);

    // In a draft, the item (and the revision the board is asked to decide) names the new owner, whom the approval asks.
    const c = await riskWithControls(t, asset, 'new-owner C');
    const draft = await draftPlan(t, 'new-owner draft');
    await addRisk(t, draft, c);
    await t.ok(`mutation($input: ReassignRiskOwnerInput!) { reassignRiskOwner(input: $input) { ownerId } }`, { input: { riskId: c, ownerId: users.otherOwner.sub } }, await as(users.committee));
    await submitAndApprove(t, draft, [c], 'BR-new-owner-draft');
    const approvedEvent = (await t.ok(`query($id: ID!) { history(id: $id) { type data } }`, { id: draft }, await as(users.auditor))).history.find((e: { type: string }) => e.type === 'PlanApproved');
    expect(approvedEvent.data.items).toEqual([{ riskId: c, ownerId: users.otherOwner.sub }]);
    const asked = await t.gql(`mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { status items { ownerId } } }`, { input: { planId: draft, riskId: c } }, await as(users.otherOwner));
    expect(asked.data.acceptResidualRisk).toEqual({ status: 'IN_FORCE', items: [{ ownerId: users.otherOwner.sub }] });
  }, 60_000);

  it('a declined item whose risk is given a new owner names the new owner, and still who declined, there and in the plan document', async () => {
    // A of its own asset: the AVOID below retires it.
    const { planId, a } = await approvedPlan('declined-new-owner', 'asked', await sharedAsset(t, 'Declined then given up'));
    await decline(planId, a);
    await t.ok(`mutation($input: ReassignRiskOwnerInput!) { reassignRiskOwner(input: $input) { ownerId } }`, { input: { riskId: a, ownerId: users.otherOwner.sub } }, await as(users.committee));
    await quiesce(t, await logHead(t));
    const items = (await t.ok(`query($id: ID!) { plan(id: $id) { items { riskId ownerId consent declinedBy } } }`, { id: planId }, await as(users.auditor))).plan.items;
    expect(items[0]).toEqual({ riskId: a, ownerId: users.otherOwner.sub, consent: 'DECLINED', declinedBy: users.riskOwner.sub });
    const doc = await (await fetch(`${t.url}/documents/plans/${planId}.md?lang=en`, { headers: { authorization: `Bearer ${await as(users.auditor)}` } })).text();
    const row = doc.slice(doc.indexOf("## Risk owners' consent")).split('\n').find((line) => line.startsWith('| declined-new-owner A'))!;
    expect(row.split('|').map((cell) => cell.trim()).slice(1, 4)).toEqual(['declined-new-owner A', users.riskOwner.sub, 'Declined']);
    // Then avoided: the table says so beside the decline, and the section gives the risk's status now (compliance probe 2 #1, #2).
    await t.ok(`mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { status } }`, { input: { riskId: a, options: ['AVOID'], rationale: 'Given up', targetLikelihood: 1, targetImpact: 1 } }, await as(users.committee));
    await quiesce(t, await logHead(t));
    const after = await (await fetch(`${t.url}/documents/plans/${planId}.md?lang=en`, { headers: { authorization: `Bearer ${await as(users.auditor)}` } })).text();
    const avoidedRow = after.slice(after.indexOf("## Risk owners' consent")).split('\n').find((line) => line.startsWith('| declined-new-owner A'))!;
    expect(avoidedRow).toMatch(/\| Not what the board approved The risk was closed \(avoided\) at [^|]+\| — \|$/);
    const section = after.slice(after.indexOf('### 1. declined-new-owner A'), after.indexOf('### 2.'));
    expect(section).toContain('- **Status of the risk**: Closed');
  }, 60_000);

  it('a new owner appended outside the command pipeline is learnt by the reactions: the item names them once', async () => {
    const { planId, a } = await approvedPlan('owner-outside', 'asked');
    const { streamVersion } = await t.app.get(AggregateReader).load(riskStreamId(a), riskDecider);
    const committee = { id: users.committee.sub, name: users.committee.name, roles: [...users.committee.roles] };
    const at = new Date().toISOString();
    const correlationId = randomUUID();
    const head = await logHead(t);
    await t.app.get<EventStore>(EVENT_STORE).append(riskStreamId(a), [{
      eventId: randomUUID(), type: 'RiskOwnerReassigned', schemaVersion: 2, data: { riskId: a, previousOwnerId: users.riskOwner.sub, ownerId: users.otherOwner.sub, planId, reassignedBy: committee.id, reassignedAt: at },
      metadata: { actor: committee, occurredAt: at, correlationId, causationId: correlationId },
    }], { expectedVersion: ExpectedVersion.exact(streamVersion) });
    await quiesce(t, head);
    const { history } = await t.ok(`query($id: ID!) { history(id: $id) { type } }`, { id: planId }, await as(users.auditor));
    expect(history.filter((h: { type: string }) => h.type === 'PlanItemOwnerChanged')).toHaveLength(1);
    const items = (await t.ok(`query($id: ID!) { plan(id: $id) { items { riskId ownerId } } }`, { id: planId }, await as(users.auditor))).plan.items;
    expect(items.find((i: { riskId: string }) => i.riskId === a)).toEqual({ riskId: a, ownerId: users.otherOwner.sub });
  }, 60_000);

  it('retries with the same commandId answer their first result, reactions to them included, after later changes', async () => {
    const { planId, a, b } = await approvedPlan('retried', 'asked');
    expect((await accept(planId, b)).errors).toBeUndefined();
    const ACCEPT = `mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { ${PLAN} } }`;
    const acceptInput = { planId, riskId: a, commandId: `accept-${a}` };
    const firstAccept = (await t.ok(ACCEPT, { input: acceptInput }, await as(users.riskOwner))).acceptResidualRisk;
    expect(firstAccept).toMatchObject({ status: 'IN_FORCE' });

    const TREAT = `mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { ${RISK} } }`;
    const treatInput = { riskId: a, options: ['REDUCE'], rationale: 'Revised once', targetLikelihood: 1, targetImpact: 2, commandId: `treat-${a}` };
    const firstTreat = (await t.ok(TREAT, { input: treatInput }, await as(users.committee))).decideTreatment;
    // Its answer waited for the reactions: the owner is asked again.
    expect(firstTreat).toMatchObject({ consent: { status: 'PENDING' } });
    await retarget(a, 1, 1);
    await quiesce(t, await logHead(t));

    const before = await logHead(t);
    expect((await t.ok(ACCEPT, { input: acceptInput }, await as(users.riskOwner))).acceptResidualRisk).toEqual(firstAccept);
    expect((await t.ok(TREAT, { input: treatInput }, await as(users.committee))).decideTreatment).toEqual(firstTreat);
    expect(await quiesce(t, before)).toBe(before);
  }, 60_000);

  it("one commandId for an acceptance and a refusal: the other answer is BAD_USER_INPUT, never the first one's result (race probe 10-a F1)", async () => {
    const ACCEPT = `mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { ${PLAN} } }`;
    const DECLINE = `mutation($input: DeclineResidualRiskInput!) { declineResidualRisk(input: $input) { ${PLAN} } }`;
    const owner = await as(users.riskOwner);
    // One after the other: declined, then "accepted" under the same key.
    const first = await approvedPlan('one-key', 'asked');
    const key = `answer-${first.a}`;
    expect((await t.ok(DECLINE, { input: { planId: first.planId, riskId: first.a, reason: 'Too high', commandId: key } }, owner)).declineResidualRisk.items).toContainEqual(expect.objectContaining({ riskId: first.a, consent: 'DECLINED' }));
    const before = await logHead(t);
    const accepted = await t.gql(ACCEPT, { input: { planId: first.planId, riskId: first.a, commandId: key } }, owner);
    expect(accepted.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/different kind of command/) } });
    // A retry of the refusal itself is still answered with its first result.
    expect((await t.ok(DECLINE, { input: { planId: first.planId, riskId: first.a, reason: 'Too high', commandId: key } }, owner)).declineResidualRisk.items).toContainEqual(expect.objectContaining({ riskId: first.a, consent: 'DECLINED' }));
    expect(await quiesce(t, before)).toBe(before);
    // In flight: 8 acceptances and 8 refusals under one key. One kind is recorded; the other kind's calls are refused.
    const second = await approvedPlan('one-key-in-flight', 'asked');
    const inFlight = `answer-${second.a}`;
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        i % 2 === 0
          ? t.gql(ACCEPT, { input: { planId: second.planId, riskId: second.a, commandId: inFlight } }, owner).then((r) => ({ kind: 'accept', r }))
          : t.gql(DECLINE, { input: { planId: second.planId, riskId: second.a, reason: 'Too high', commandId: inFlight } }, owner).then((r) => ({ kind: 'decline', r })),
      ),
    );
    const consent = (await plan(second.planId)).items.find((item: { riskId: string }) => item.riskId === second.a).consent;
    const recordedKind = consent === 'DECLINED' ? 'decline' : 'accept';
    expect(['DECLINED', 'ACCEPTED']).toContain(consent);
    for (const { kind, r } of answers) {
      if (kind === recordedKind) expect(r.errors).toBeUndefined();
      else expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  }, 60_000);

  it('a change while consent was only asked for: asked again, never left STALE, and the owner can answer', async () => {
    const { planId, a, b } = await approvedPlan('while-asked', 'asked');
    await reanalyse(a);
    await quiesce(t, await logHead(t));
    expect(await plan(planId)).toMatchObject({ status: 'APPROVED', items: [{ riskId: a, consent: 'PENDING' }, { riskId: b, consent: 'PENDING' }] });
    expect(await risk(a)).toMatchObject({ status: 'AWAITING_CONSENT', consent: { status: 'PENDING' } });
    expect((await accept(planId, a)).errors).toBeUndefined();
    expect((await accept(planId, b)).data.acceptResidualRisk.status).toBe('IN_FORCE');
  }, 60_000);

  it('an AVOID of a risk whose owner was asked and had not answered: the item, PENDING for good, is marked in the same commit, and the committee removes it', async () => {
    // An asset of its own: the AVOID retires it.
    const a = await riskWithControls(t, await sharedAsset(t, 'Hot wallet (given up)'), 'Given up A');
    const b = await riskWithControls(t, asset, 'Kept B');
    const planId = await draftPlan(t, 'Given-up plan');
    await addRisk(t, planId, a);
    await addRisk(t, planId, b);
    await submitAndApprove(t, planId, [a, b], 'BR-given-up');
    expect((await accept(planId, b)).data.acceptResidualRisk.status).toBe('APPROVED');
    const head = await logHead(t);
    const avoided = await t.ok(`mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { status } }`,
      { input: { riskId: a, options: ['AVOID'], rationale: 'The business is given up', targetLikelihood: 1, targetImpact: 1 } }, await as(users.committee));
    expect(avoided.decideTreatment.status).toBe('CLOSED');
    // The closure names the plan, which learns it in the same commit; the request made stale had no answer to invalidate.
    const events = (await t.ok(`query($after: String) { events(after: $after, first: 100) { edges { node { streamId type data recordedAt metadata { correlationId } } } } }`, { after: head }, await as(users.auditor))).events.edges.map((e: any) => e.node);
    const closed = events.find((e: any) => e.type === 'RiskClosed');
    expect(closed.data).toMatchObject({ riskId: a, planId });
    expect(events.find((e: any) => e.type === 'PlanItemRiskClosed')).toMatchObject({ streamId: `plan-${planId}`, recordedAt: closed.recordedAt, metadata: { correlationId: closed.metadata.correlationId } });
    expect(events.map((e: any) => e.type)).not.toContain('ResidualConsentBecameStale');
    await quiesce(t, await logHead(t));
    const items = 'status items { riskId consent riskClosedAt }';
    expect((await t.ok(`query($id: ID!) { plan(id: $id) { ${items} } }`, { id: planId }, await as(users.auditor))).plan).toMatchObject({
      status: 'APPROVED',
      items: [{ riskId: a, consent: 'PENDING', riskClosedAt: closed.data.closedAt }, { riskId: b, consent: 'ACCEPTED', riskClosedAt: null }],
    });
    expect(errorOf(await accept(planId, a)).extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'RISK_CLOSED' });
    // The plan document's consent table gives the reason, in both languages.
    const doc = async (lang: string) => (await fetch(`${t.url}/documents/plans/${planId}.md?lang=${lang}`, { headers: { authorization: `Bearer ${await as(users.auditor)}` } })).text();
    expect(await doc('en')).toContain('The risk was closed (avoided) at');
    expect(await doc('ja')).toContain('回避により終了しました');
    const removed = await t.ok(`mutation($input: RemoveRiskFromPlanInput!) { removeRiskFromPlan(input: $input) { ${items} } }`,
      { input: { planId, riskId: a, reason: 'Avoided: the business is given up' } }, await as(users.committee));
    expect(removed.removeRiskFromPlan).toMatchObject({ status: 'IN_FORCE', items: [{ riskId: b, consent: 'ACCEPTED' }] });
  }, 60_000);
});

// Consent requests the reactions have not made: an older build passed one over, or they are behind.
describe('a consent left STALE with no question (a server upgraded in place), and an answer sent before the owner was asked (re-probe F6)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t, { acceptanceLevel: 'MEDIUM' });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  /**
   * The store holds the reaction that asks an owner (its append of RiskAwaitingResidualConsent)
   * until `release()`: the board's approval is committed, the owner not yet asked.
   */
  function holdTheRequests(): { held: Promise<void>; release: () => void } {
    const store = t.app.get<EventStore>(EVENT_STORE);
    let release!: () => void;
    let reached!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = new Promise<void>((resolve) => (reached = resolve));
    const asks = (events: readonly NewEvent[]) => events.some((e) => e.type === 'RiskAwaitingResidualConsent');
    const append = store.append.bind(store);
    const appendMultiple = store.appendMultiple.bind(store);
    store.append = async (streamId, events, options) => {
      if (asks(events)) (reached(), await gate);
      return append(streamId, events, options);
    };
    store.appendMultiple = async (parts, options) => {
      if (parts.some((p) => asks(p.events))) (reached(), await gate);
      return appendMultiple(parts, options);
    };
    return { held, release };
  }

  async function approvedWithRequestHeld(name: string) {
    const asset = await sharedAsset(t, `Hot wallet (${name})`);
    const riskId = await riskWithControls(t, asset, `${name} A`);
    const planId = await draftPlan(t, `${name} plan`);
    await addRisk(t, planId, riskId);
    await t.ok(`mutation($input: PlanRefInput!) { submitPlan(input: $input) { id } }`, { input: { planId } }, users.committee);
    const hold = holdTheRequests();
    const resolution = t.ok(`mutation($input: RecordBoardResolutionInput!) { recordBoardResolution(input: $input) { status } }`,
      { input: { planId, resolutionNumber: `BR-${name}`, meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: `Minutes ${name}` } }, users.secretary);
    await hold.held;
    const accept = async () =>
      t.gql(`mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { id status } }`, { input: { planId, riskId } }, await tokenFor(t, users.riskOwner));
    return { planId, riskId, resolution, accept, release: hold.release };
  }

  it('waits for the reactions once: an acceptance sent while they ask is taken as soon as they have', async () => {
    const { accept, resolution, release } = await approvedWithRequestHeld('early');
    const answer = accept();
    setTimeout(release, 300);
    const accepted = await answer;
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data.acceptResidualRisk.status).toBe('IN_FORCE');
    expect((await resolution).recordBoardResolution.status).toBe('APPROVED');
  }, 60_000);

  it('while they stay behind, the refusal says so rather than that nobody asked', async () => {
    const { accept, resolution, release } = await approvedWithRequestHeld('late');
    try {
      const refused = await accept();
      expect(errorOf(refused).extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'CONSENT_NOT_REQUESTED' });
      expect(errorOf(refused).message).toMatch(/was approved \(revision 1\), but the request for the owner's consent has not reached risk .* yet: the server's reactions are behind/);
    } finally {
      release();
    }
    await resolution;
    expect((await accept()).data.acceptResidualRisk.status).toBe('IN_FORCE');
  }, 60_000);

  // Last: it stops the reactions for good.
  it('the deadline watch asks the owner again: builds before 2026-12-01 11:04 did not, and the reactions resume after them', async () => {
    const asset = await sharedAsset(t, 'Hot wallet (stale after upgrade)');
    const a = await riskWithControls(t, asset, 'Upgraded A');
    const planId = await draftPlan(t, 'Upgraded plan');
    await addRisk(t, planId, a);
    await submitAndApprove(t, planId, [a], 'BR-upgraded');
    // The reactions stop (as an older build's passed over the invalidation below without asking again).
    await t.app.get(ProcessManager).stop();
    const { state, streamVersion } = await t.app.get(AggregateReader).load(riskStreamId(a), riskDecider);
    expect(state.consent).toMatchObject({ status: 'PENDING', approvedResidualLevel: 'LOW' });
    const committee = { id: users.committee.sub, name: users.committee.name, roles: [...users.committee.roles] } as Parameters<typeof riskDecider.decide>[0]['actor'];
    const at = new Date().toISOString();
    const changed = riskDecider.decide({ type: 'DecideControls', actor: committee, at, riskId: a, controls: [{ controlId: randomUUID(), title: 'Quarterly key inventory', description: 'Count the keys', ownerId: 'ops-lead', dueDate: '2030-12-31', reason: 'audit finding' }] } as Parameters<typeof riskDecider.decide>[0], state);
    expect(changed.map((e) => e.type)).toContain('ResidualConsentInvalidated');
    const correlationId = randomUUID();
    const head = await logHead(t);
    await t.app.get<EventStore>(EVENT_STORE).append(riskStreamId(a), changed.map((e: RiskEvent) => ({ eventId: randomUUID(), type: e.type, schemaVersion: 1, data: e.data as Record<string, unknown>, metadata: { actor: committee, occurredAt: at, correlationId, causationId: correlationId } })), { expectedVersion: ExpectedVersion.exact(streamVersion) });
    await quiesce(t, head);
    const read = async () => (await t.ok(`query($id: ID!) { risk(id: $id) { ${RISK} } }`, { id: a }, await tokenFor(t, users.auditor))).risk;
    expect(await read()).toMatchObject({ status: 'AWAITING_CONSENT', consent: { status: 'STALE' } });
    // One pass of the watch asks again, for the same plan revision and the level the board approved; a second asks nothing.
    await t.app.get(DeadlineWatch).check();
    expect(await read()).toMatchObject({ status: 'AWAITING_CONSENT', consent: { planId, status: 'PENDING', approvedResidualLevel: 'LOW' } });
    const requests = async () => (await t.ok(`query($id: ID!) { history(id: $id) { type } }`, { id: a }, await tokenFor(t, users.auditor))).history.filter((e: { type: string }) => e.type === 'RiskAwaitingResidualConsent').length;
    const asked = await requests();
    await t.app.get(DeadlineWatch).check();
    expect(await requests()).toBe(asked);
  }, 60_000);
});

describe('an acceptance carried to the plan after another item was changed, asked again and accepted again (probe p9 F1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The deadline watch asks again an owner whose consent went stale as soon as the register
    // shows it (staleWithoutQuestion): ahead of the reactions, which are held here.
    process.env.DEADLINE_CHECK_INTERVAL_MS = '20';
    try {
      t = await TestApp.start();
    } finally {
      delete process.env.DEADLINE_CHECK_INTERVAL_MS;
    }
    await proposeAndApproveCriteria(t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const gql = async (query: string, input: Record<string, unknown>, user: (typeof users)[keyof typeof users]) => t.gql(query, { input }, await tokenFor(t, user));
  const risk = async (id: string) => (await t.ok(`query($id: ID!) { risk(id: $id) { status consent { status atVersion fingerprint } } }`, { id }, await tokenFor(t, users.auditor))).risk;
  const until = async (id: string, ready: (r: any) => boolean) => {
    const deadline = Date.now() + 30_000;
    for (let r = await risk(id); ; r = await risk(id)) {
      if (ready(r)) return r;
      if (Date.now() > deadline) throw new Error(`risk ${id} never got there: ${JSON.stringify(r)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('does not come into force over the consent the change voided: the plan waits to learn the new one', async () => {
    const asset = await sharedAsset(t, 'Hot wallet (re-accepted)');
    const a = await riskWithControls(t, asset, 'Re-accepted A');
    const b = await riskWithControls(t, asset, 'Re-accepted B');
    const planId = await draftPlan(t, 'Re-accepted plan');
    await addRisk(t, planId, a);
    await addRisk(t, planId, b);
    await submitAndApprove(t, planId, [a, b], 'BR-reaccepted');
    const accept = (riskId: string) => gql(`mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { id } }`, { planId, riskId, statement: 'I accept' }, users.riskOwner);
    expect((await accept(b)).errors).toBeUndefined();
    const since = await logHead(t);

    // The reaction that carries A's acceptance to the plan is held at its append until released.
    const store = t.app.get<EventStore>(EVENT_STORE);
    let release!: () => void;
    let reached!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = new Promise<void>((resolve) => (reached = resolve));
    const appendMultiple = store.appendMultiple.bind(store);
    let holding = true;
    store.appendMultiple = async (parts, options) => {
      if (holding && parts.some((p) => p.events.some((e) => e.type === 'ResidualRiskAccepted' && (e.data as { riskId?: string }).riskId === a))) {
        holding = false;
        reached();
        await gate;
      }
      return appendMultiple(parts, options);
    };
    // (The mutations below wait for the reactions, held behind A's: they are awaited at the end.)
    const answers: Promise<unknown>[] = [accept(a)];
    let reaccepted;
    try {
      await held;
      // Meanwhile B changes materially, its owner is asked again (by the watch) and accepts again.
      const before = await risk(b);
      // (A new analysis: it keeps the treatment and controls the board approved, so B may be accepted again.)
      answers.push(gql(`mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id } }`, { riskId: b, method: 'INFORMAL', informal: { likelihood: 3, impact: 2, expert: 'CISO office', rationale: 'Re-assessed' } }, users.riskOwner));
      await until(b, (r) => r.status === 'AWAITING_CONSENT' && r.consent.status === 'PENDING' && r.consent.atVersion > before.consent.atVersion);
      answers.push(accept(b));
      reaccepted = await until(b, (r) => r.status === 'ACCEPTED');
      expect(reaccepted.consent.fingerprint).not.toBe(before.consent.fingerprint);
    } finally {
      release(); // never leave the server holding an append (its close would wait for it)
    }
    await Promise.all(answers);
    await quiesce(t, since);

    // Along the log: never in force over an acceptance the risk no longer held; in force at the end on B's new one.
    expect(await forceOverUnacceptedRisks(t, since)).toEqual([]);
    const { plan } = await t.ok(`query($id: ID!) { plan(id: $id) { status items { riskId consent consentRecord { riskStateHash } } } }`, { id: planId }, await tokenFor(t, users.auditor));
    expect(plan.status).toBe('IN_FORCE');
    expect(plan.items.find((i: { riskId: string }) => i.riskId === b)).toMatchObject({ consent: 'ACCEPTED', consentRecord: { riskStateHash: reaccepted.consent.fingerprint } });
  }, 90_000);
});
