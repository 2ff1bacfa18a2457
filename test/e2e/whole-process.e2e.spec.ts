import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../src/shared/domain/canonical-json.js';
import { join } from 'node:path';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';
import { cliInProcess } from './support/cli-in-process.js';
import { TestApp, errorOf, users } from './support/test-app.js';
import { ANALYSE, EVALUATE, RISK_FIELDS, assetWithThreat, baselineResults, identifyRisk, proposeAndApproveCriteria, todayInJapan } from './support/scenario.js';

const PLAN_FIELDS = `id version revision status title items { riskId consent ownerId riskVersion staleReason declineReason
  consentRecord { riskVersion riskStateHash planVersion planRevision criteriaNumber riskLevel statement } }
  resolution { resolutionNumber decision meetingDate minutesReference revision } resolutions { resolutionNumber decision } revisions { revision outcome riskIds }`;
const DRAFT = `mutation($input: DraftPlanInput!) { draftPlan(input: $input) { ${PLAN_FIELDS} } }`;
const ADD = `mutation($input: PlanRiskInput!) { addRiskToPlan(input: $input) { ${PLAN_FIELDS} } }`;
const SUBMIT = `mutation($input: PlanRefInput!) { submitPlan(input: $input) { ${PLAN_FIELDS} } }`;
const RESOLVE = `mutation($input: RecordBoardResolutionInput!) { recordBoardResolution(input: $input) { ${PLAN_FIELDS} } }`;
const ACCEPT = `mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { ${PLAN_FIELDS} } }`;
const DECLINE = `mutation($input: DeclineResidualRiskInput!) { declineResidualRisk(input: $input) { ${PLAN_FIELDS} } }`;
const TREAT = `mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { ${RISK_FIELDS} } }`;
const CONTROLS = `mutation($input: DecideControlsInput!) { decideControls(input: $input) { ${RISK_FIELDS} } }`;
const REVIEW = `mutation($input: RecordReviewInput!) { recordReview(input: $input) { ${RISK_FIELDS} } }`;
const RISK = `query($id: ID!) { risk(id: $id) { ${RISK_FIELDS} } }`;

/** A committee member who is also a board secretary: Art.23(3) must still stop them recording their own plan's resolution. */
const drafterSecretary = { sub: 'committee-sec', name: 'Committee Secretary', roles: ['COMMITTEE_MEMBER', 'BOARD_SECRETARY'] };
const controls = [
  { title: 'Move 95% of funds to cold storage', description: 'Sweep the hot wallet down to its limit daily', ownerId: 'ops-lead', dueDate: '2099-03-31', reason: 'Limits what a hot-wallet compromise can take (custody limit)', reference: 'JVCEA-6-05' },
  { title: 'Multi-signature withdrawals', description: '2-of-3 keys held by separate officers', ownerId: 'ops-lead', dueDate: '2099-06-30', reason: 'No single stolen key moves funds' },
];

async function riskReadyForPlan(t: TestApp, name: string) {
  const asset = await assetWithThreat(t, name, { c: 2, i: 2, a: 1 });
  const risk = await identifyRisk(t, asset, `Theft from ${name}`);
  // Value 2 requires BASELINE: 40 requirements, 20 NOT_MET: gap = 20/40 = 0.5 >= 0.5 -> likelihood 3; impact 2 -> matrix[2][1] = HIGH.
  const { catalogueId, results } = await baselineResults(t, 20, 0);
  await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'BASELINE', baseline: { catalogueId, results, impact: 2 } } }, users.riskOwner);
  const evaluated = (await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee)).evaluateRisk;
  expect(evaluated).toMatchObject({ status: 'TO_TREAT', level: 'HIGH' });
  return { asset, risk };
}

/**
 * The consent fingerprint (riskStateHash) recomputed from the API alone: SHA-256 (hex) of the
 * canonical JSON (keys sorted, no whitespace, absent values left out) of the risk's id, cycle,
 * level, likelihood, impact, criteriaNumber, treatment (with the criteria version's id) and
 * controls (as decided, in order), and ownerId, as it stood at `version`: read with atPosition at
 * the position of the risk's event of that revision (history).
 */
async function fingerprintFromApi(t: TestApp, riskId: string, version: number): Promise<string> {
  const { history } = await t.ok(`query($id: ID!) { history(id: $id) { revision position } }`, { id: riskId }, users.auditor);
  const at = history.find((e: { revision: number }) => e.revision === version).position;
  const { risk, riskCriteriaVersions } = await t.ok(
    `query($id: ID!, $at: String) { risk(id: $id, atPosition: $at) { id cycle level likelihood impact criteriaNumber ownerId
       treatment { options rationale targetLikelihood targetImpact targetLevel counterparty contractReference criteriaNumber decidedBy decidedAt }
       controls { id title description ownerId dueDate reason reference } }
     riskCriteriaVersions { id number } }`,
    { id: riskId, at },
    users.auditor,
  );
  const present = <T extends Record<string, unknown>>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
  const t_ = risk.treatment;
  const content = present({
    id: risk.id,
    cycle: risk.cycle,
    level: risk.level,
    likelihood: risk.likelihood,
    impact: risk.impact,
    criteriaNumber: risk.criteriaNumber,
    treatment: t_ && present({ ...t_, criteriaId: riskCriteriaVersions.find((c: { number: number }) => c.number === t_.criteriaNumber).id }),
    controls: risk.controls.map(({ id, ...c }: Record<string, unknown>) => present({ controlId: id, ...c })),
    ownerId: risk.ownerId,
  });
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** The same walk on the embedded store and on PostgreSQL (a cluster the test starts itself). */
describe.each(['sqlite', 'postgres'] as const)('Chapter 4 end to end on %s: criteria → register → plan in force → review that reopens the risk', (store) => {
  let t: TestApp;
  let postgres: PostgresServer | undefined;
  let databaseUrl: string | undefined;
  /** The risk and plan of the first walk, for the asOf checks. */
  const walked = { riskId: '', planId: '' };
  beforeAll(async () => {
    if (store === 'postgres') postgres = await startPostgres();
    databaseUrl = await postgres?.createDatabase('rl_whole');
    t = await TestApp.start({ store, databaseUrl });
    await proposeAndApproveCriteria(t);
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await postgres?.stop();
  });

  it('walks one risk through the whole process, with every role boundary, and the history says who did what', async () => {
    const { risk } = await riskReadyForPlan(t, 'Hot wallet');
    walked.riskId = risk.id;
    // Art.17: the target must meet the acceptance criterion (LOW): (2,2) = MEDIUM is refused.
    const tooHigh = errorOf(await t.gql(TREAT, { input: { riskId: risk.id, options: ['REDUCE'], rationale: 'x', targetLikelihood: 2, targetImpact: 2 } }, users.committee));
    expect(tooHigh.extensions).toMatchObject({ code: 'RULE_VIOLATION', article: 'Art.17' });
    expect(errorOf(await t.gql(TREAT, { input: { riskId: risk.id, options: ['REDUCE'], rationale: 'x', targetLikelihood: 1, targetImpact: 1 } }, users.riskOwner)).extensions.code).toBe('FORBIDDEN');
    const sharedWithout = errorOf(await t.gql(TREAT, { input: { riskId: risk.id, options: ['SHARE'], rationale: 'insure', targetLikelihood: 1, targetImpact: 1 } }, users.committee));
    expect(sharedWithout.extensions.code).toBe('BAD_USER_INPUT');
    const treated = (await t.ok(TREAT, { input: { riskId: risk.id, options: ['REDUCE', 'SHARE'], rationale: 'cold storage and crime insurance', targetLikelihood: 1, targetImpact: 1, counterparty: 'Tokio Marine', contractReference: 'Policy CY-2026-001' } }, users.committee)).decideTreatment;
    expect(treated).toMatchObject({ status: 'TREATMENT_DECIDED', treatment: { targetLevel: 'LOW', counterparty: 'Tokio Marine' } });
    const missingReason = errorOf(await t.gql(CONTROLS, { input: { riskId: risk.id, controls: [{ ...controls[0], reason: ' ' }] } }, users.committee));
    expect(missingReason.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(Object.keys(missingReason.extensions.fields).join()).toMatch(/reason/);
    const withControls = (await t.ok(CONTROLS, { input: { riskId: risk.id, controls } }, users.committee)).decideControls;
    expect(withControls).toMatchObject({ status: 'CONTROLS_DECIDED' });
    expect(withControls.controls).toHaveLength(2);

    // Art.19: the plan.
    const plan = (await t.ok(DRAFT, { input: { title: 'Information security management plan FY2026', period: 'FY2026' } }, drafterSecretary)).draftPlan;
    expect(plan).toMatchObject({ status: 'DRAFT', revision: 1, items: [] });
    walked.planId = plan.id;
    const added = (await t.ok(ADD, { input: { planId: plan.id, riskId: risk.id } }, users.committee)).addRiskToPlan;
    expect(added.items).toEqual([expect.objectContaining({ riskId: risk.id, consent: 'PENDING', ownerId: 'owner-1' })]);
    expect((await t.ok(RISK, { id: risk.id }, users.auditor)).risk.status).toBe('IN_PLAN');
    expect((await t.ok(ADD, { input: { planId: plan.id, riskId: risk.id } }, users.committee)).addRiskToPlan.items).toHaveLength(1);
    const { risk: unready } = await riskReadyForPlan(t, 'Cold wallet');
    expect(errorOf(await t.gql(ADD, { input: { planId: plan.id, riskId: unready.id } }, users.committee)).extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'RISK_CONTROLS_NOT_DECIDED' });
    expect((await t.ok(SUBMIT, { input: { planId: plan.id } }, users.committee)).submitPlan.status).toBe('SUBMITTED');
    expect(errorOf(await t.gql(ADD, { input: { planId: plan.id, riskId: unready.id } }, users.committee)).extensions.code).toBe('RULE_VIOLATION');

    // Art.19(2) and Art.23(3): only a board secretary, never the plan's drafter.
    const resolution = { planId: plan.id, resolutionNumber: 'BR-2026-014', meetingDate: todayInJapan(), decision: 'REJECTED', minutesReference: 'Minutes 2026-04-10 §3' };
    expect(errorOf(await t.gql(RESOLVE, { input: resolution }, drafterSecretary)).extensions).toMatchObject({ code: 'FORBIDDEN', rule: 'RESOLUTION_BY_DRAFTER', article: 'Art.23(3)' });
    // ... nor under their id in other case or width, nor whoever added the risk and submitted it.
    for (const sub of ['Committee-Sec', 'ＣＯＭＭＩＴＴＥＥ-ＳＥＣ']) {
      expect(errorOf(await t.gql(RESOLVE, { input: resolution }, { sub, name: sub, roles: ['BOARD_SECRETARY'] })).extensions).toMatchObject({ rule: 'RESOLUTION_BY_DRAFTER' });
    }
    const preparer = errorOf(await t.gql(RESOLVE, { input: resolution }, { ...users.committee, roles: ['COMMITTEE_MEMBER', 'BOARD_SECRETARY'] }));
    expect(preparer.extensions).toMatchObject({ code: 'FORBIDDEN', rule: 'RESOLUTION_BY_DRAFTER' });
    expect(preparer.message).toContain(`added risk ${risk.id} to revision 1, submitted revision 1`);
    expect(errorOf(await t.gql(RESOLVE, { input: resolution }, users.ciso)).extensions.code).toBe('FORBIDDEN');
    const rejected = (await t.ok(RESOLVE, { input: resolution }, users.secretary)).recordBoardResolution;
    expect(rejected).toMatchObject({ status: 'DRAFT', revision: 2, resolution: { decision: 'REJECTED', revision: 1 } });
    await t.ok(SUBMIT, { input: { planId: plan.id } }, users.committee);
    // Art.19(2): a resolution that names the revision the board decided is recorded only on that revision.
    const approval = { ...resolution, resolutionNumber: 'BR-2026-021', meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: 'Minutes 2026-05-08 §2' };
    const mismatch = errorOf(await t.gql(RESOLVE, { input: { ...approval, planRevision: 1 } }, users.secretary));
    expect(mismatch.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'PLAN_REVISION_MISMATCH', article: 'Art.19(2)' });
    expect(errorOf(await t.gql(RESOLVE, { input: { ...approval, planRevision: 0 } }, users.secretary)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { planRevision: expect.any(String) } });
    const approved = (await t.ok(RESOLVE, { input: { ...approval, planRevision: 2 } }, users.secretary)).recordBoardResolution;
    expect(approved).toMatchObject({ status: 'APPROVED', revision: 2, resolution: { decision: 'APPROVED', resolutionNumber: 'BR-2026-021' } });
    expect(approved.resolutions.map((r: any) => r.decision)).toEqual(['REJECTED', 'APPROVED']);
    expect((await t.ok(RISK, { id: risk.id }, users.auditor)).risk).toMatchObject({ status: 'AWAITING_CONSENT', consent: { status: 'PENDING', planId: plan.id } });

    // Art.20: only the owner consents; the consent is pinned to the state consented to.
    expect(errorOf(await t.gql(ACCEPT, { input: { planId: plan.id, riskId: risk.id, statement: 'ok' } }, users.otherOwner)).extensions.code).toBe('FORBIDDEN');
    expect(errorOf(await t.gql(ACCEPT, { input: { planId: plan.id, riskId: risk.id, statement: 'ok' } }, users.ciso)).extensions.code).toBe('FORBIDDEN');
    const inForce = (await t.ok(ACCEPT, { input: { planId: plan.id, riskId: risk.id, statement: 'I accept the residual risk LOW' } }, users.riskOwner)).acceptResidualRisk;
    expect(inForce.status).toBe('IN_FORCE');
    const riskAtConsent = (await t.ok(RISK, { id: risk.id }, users.auditor)).risk;
    expect(riskAtConsent).toMatchObject({ status: 'ACCEPTED', consent: { status: 'ACCEPTED' } });
    expect(inForce.items[0]).toMatchObject({ consent: 'ACCEPTED', consentRecord: { planRevision: 2, criteriaNumber: 1, riskLevel: 'HIGH', statement: 'I accept the residual risk LOW' } });
    expect(inForce.items[0].consentRecord.riskStateHash).toMatch(/^[0-9a-f]{64}$/);
    // An auditor recomputes the fingerprint from what the API shows (README, Auditors: "What a
    // consent pins"): the risk as it stood at the version consented to (auditor probe 10-b L3).
    expect(await fingerprintFromApi(t, risk.id, inForce.items[0].consentRecord.riskVersion)).toBe(inForce.items[0].consentRecord.riskStateHash);
    expect(inForce.items[0].consentRecord.riskVersion).toBeLessThan(riskAtConsent.version);

    // A material change after consent: the consent is STALE on the plan, the plan leaves force
    // until renewed, and the owner is asked again. The command answers once that whole cascade of
    // reactions (the plan's stale mark, then the renewed request on the risk) is carried out.
    const revised = (await t.ok(CONTROLS, { input: { riskId: risk.id, controls: [controls[0]] } }, users.committee)).decideControls;
    expect(revised).toMatchObject({ status: 'AWAITING_CONSENT', consent: { status: 'PENDING' } });
    const stalePlan = (await t.ok(`query($id: ID!) { plan(id: $id) { ${PLAN_FIELDS} } }`, { id: plan.id }, users.auditor)).plan;
    expect(stalePlan).toMatchObject({ status: 'APPROVED', items: [expect.objectContaining({ consent: 'STALE' })] });
    // Art.19(2): the owner accepts only what the board approved. With one of its controls dropped
    // the risk is no longer that content: declining (and a new plan) or the controls decided again
    // as approved.
    const notApproved = errorOf(await t.gql(ACCEPT, { input: { planId: plan.id, riskId: risk.id, statement: 'Accepted again with one control' } }, users.riskOwner));
    expect(notApproved.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'PLAN_CONTENT_NOT_APPROVED', article: 'Art.19(2)' });
    const restored = (await t.ok(CONTROLS, { input: { riskId: risk.id, controls } }, users.committee)).decideControls;
    expect(restored).toMatchObject({ status: 'AWAITING_CONSENT', consent: { status: 'PENDING' } });
    const renewed = (await t.ok(ACCEPT, { input: { planId: plan.id, riskId: risk.id, statement: 'Accepted again, the controls as approved' } }, users.riskOwner)).acceptResidualRisk;
    expect(renewed).toMatchObject({ status: 'IN_FORCE', items: [expect.objectContaining({ consent: 'ACCEPTED' })] });
    expect(renewed.items[0].consentRecord.riskStateHash).not.toBe(inForce.items[0].consentRecord.riskStateHash);

    // Art.12(3)-(4): a review whose actual level is above the target opens a new cycle.
    expect(errorOf(await t.gql(REVIEW, { input: { riskId: risk.id, controlsInPlace: true, actualLikelihood: 1, actualImpact: 1 } }, users.otherOwner)).extensions.code).toBe('FORBIDDEN');
    // Controls found in place while the register says otherwise: refused until their progress says so.
    const notYet = errorOf(await t.gql(REVIEW, { input: { riskId: risk.id, controlsInPlace: true, actualLikelihood: 1, actualImpact: 1 } }, users.riskOwner));
    expect(notYet.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'CONTROLS_NOT_IMPLEMENTED', article: 'Art.12(3)' });
    for (const control of restored.controls) {
      await t.ok(`mutation($input: RecordControlProgressInput!) { recordControlProgress(input: $input) { id } }`, { input: { riskId: risk.id, controlId: control.id, status: 'IMPLEMENTED' } }, users.committee);
    }
    const quiet = (await t.ok(REVIEW, { input: { riskId: risk.id, controlsInPlace: true, actualLikelihood: 1, actualImpact: 1, notes: 'as planned' } }, users.riskOwner)).recordReview;
    expect(quiet).toMatchObject({ status: 'ACCEPTED', cycle: 1, reviews: [expect.objectContaining({ finding: false, actualLevel: 'LOW' })] });
    const finding = (await t.ok(REVIEW, { input: { riskId: risk.id, controlsInPlace: false, actualLikelihood: 3, actualImpact: 2, notes: 'cold storage not done' } }, users.committee)).recordReview;
    expect(finding).toMatchObject({ status: 'IDENTIFIED', cycle: 2, level: null });
    expect(finding.reviews[1]).toMatchObject({ finding: true, actualLevel: 'HIGH', targetLevel: 'LOW' });
    expect(finding.analyses).toHaveLength(1);
    // Both reviews in the register's own section (Art.10, 12(3)-(4); compliance probe F4: they were in no document).
    const reviewRows = (
      await (await fetch(`${t.url}/documents/register.csv?section=reviews&lang=en`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text()
    )
      .split('\r\n')
      .filter((line) => line.startsWith(`${risk.id},`));
    expect(reviewRows).toEqual([
      expect.stringMatching(new RegExp(`^${risk.id},[^,]+,[^,]+,1,yes,1,1,LOW,LOW,no,\\d+,as planned,owner-1,\\d{4}-`)),
      expect.stringMatching(new RegExp(`^${risk.id},[^,]+,[^,]+,1,no,3,2,HIGH,LOW,yes,\\d+,cold storage not done,${users.committee.sub},\\d{4}-`)),
    ]);

    // The history, in order, with the actor of each step.
    const { history } = await t.ok(`query($id: ID!) { history(id: $id) { type metadata { actor { id } } } }`, { id: risk.id }, users.auditor);
    expect(history.map((e: any) => `${e.type}:${e.metadata.actor.id}`)).toEqual([
      'RiskIdentified:owner-1',
      'RiskAnalysed:owner-1',
      'RiskEvaluated:committee-1',
      'RiskTreatmentDecided:committee-1',
      'ControlsDecided:committee-1',
      'RiskIncludedInPlan:committee-1',
      'RiskSubmittedToBoard:committee-1',
      'RiskReleasedFromBoard:secretary',
      'RiskSubmittedToBoard:committee-1',
      'RiskAwaitingResidualConsent:system:process-manager',
      'ResidualRiskAcceptedByOwner:owner-1',
      'ControlsDecided:committee-1',
      'ResidualConsentInvalidated:committee-1',
      'RiskAwaitingResidualConsent:system:process-manager',
      'ControlsDecided:committee-1',
      'ResidualConsentInvalidated:committee-1',
      'RiskAwaitingResidualConsent:system:process-manager',
      'ResidualRiskAcceptedByOwner:owner-1',
      'ControlProgressRecorded:committee-1',
      'ControlProgressRecorded:committee-1',
      'RiskReviewed:owner-1',
      'RiskReviewed:committee-1',
      'RiskReassessmentOpened:committee-1',
    ]);
    const planHistory = (await t.ok(`query($id: ID!) { history(id: $id) { type metadata { actor { id } } } }`, { id: plan.id }, users.auditor)).history;
    expect(planHistory.map((e: any) => `${e.type}:${e.metadata.actor.id}`)).toEqual([
      'PlanDrafted:committee-sec',
      'PlanRiskAdded:committee-1',
      'PlanSubmitted:committee-1',
      'BoardResolutionRecorded:secretary',
      'PlanReturnedToDraft:secretary',
      'PlanSubmitted:committee-1',
      'BoardResolutionRecorded:secretary',
      'PlanApproved:secretary',
      // The owner's consent is decided on the risk (by owner-1, above); the plan learns it in the same append.
      'ResidualRiskAccepted:owner-1',
      'PlanCameIntoForce:owner-1',
      // The material change makes the consent stale in the same append, by whoever made it.
      'ResidualConsentBecameStale:committee-1',
      'PlanLeftForce:committee-1',
      'ResidualRiskAccepted:owner-1',
      'PlanCameIntoForce:owner-1',
      // The review's finding (Art.12(3)) reopens the item in the same append: the plan is no longer in force.
      'PlanItemReopened:committee-1',
      'PlanLeftForce:committee-1',
    ]);
  });

  it('shows the plan, the risk and the register exactly as they stood at past moments of that walk (asOf, atPosition)', async () => {
    const { events } = await t.ok(`{ events(first: 500) { edges { node { position type streamId recordedAt } } } }`, {}, users.auditor);
    const log = events.edges.map((e: any) => e.node);
    const planStream = `plan-${walked.planId}`;
    const approvedAt = log.findIndex((e: any) => e.streamId === planStream && e.type === 'PlanApproved');
    // The consent is decided on the risk; the plan learns of it right after (process manager).
    const firstConsent = log.findIndex((e: any) => e.streamId === planStream && e.type === 'ResidualRiskAccepted');
    const ownerConsent = log.findIndex((e: any) => e.streamId === `risk-${walked.riskId}` && e.type === 'ResidualRiskAcceptedByOwner');
    expect(approvedAt).toBeGreaterThan(0);
    expect(ownerConsent).toBeGreaterThan(approvedAt);
    expect(firstConsent).toBeGreaterThan(ownerConsent);
    // Between the board's approval and the owner's consent.
    const between = log[ownerConsent - 1];
    const PLAN_AT = `query($id: ID!, $p: String, $at: DateTime) { plan(id: $id, atPosition: $p, asOf: $at) { status revision items { consent } resolution { decision } } }`;
    const RISK_AT = `query($id: ID!, $p: String, $at: DateTime) { risk(id: $id, atPosition: $p, asOf: $at) { status consent { status } version } }`;
    const planThen = (await t.ok(PLAN_AT, { id: walked.planId, p: between.position }, users.auditor)).plan;
    expect(planThen).toEqual({ status: 'APPROVED', revision: 2, items: [{ consent: 'PENDING' }], resolution: { decision: 'APPROVED' } });
    const riskThen = (await t.ok(RISK_AT, { id: walked.riskId, p: between.position }, users.auditor)).risk;
    expect(riskThen).toMatchObject({ status: 'AWAITING_CONSENT', consent: { status: 'PENDING' } });
    // The same moment by time: the instant of that event.
    expect((await t.ok(PLAN_AT, { id: walked.planId, at: between.recordedAt }, users.auditor)).plan.status).toBe('APPROVED');
    // Right after the consent: in force.
    expect((await t.ok(PLAN_AT, { id: walked.planId, p: log[firstConsent + 1].position }, users.auditor)).plan.status).toBe('IN_FORCE');
    // Before the plan was drafted: nothing.
    const drafted = log.findIndex((e: any) => e.streamId === planStream && e.type === 'PlanDrafted');
    expect((await t.ok(PLAN_AT, { id: walked.planId, p: log[drafted - 1].position }, users.auditor)).plan).toBeNull();
    // The register at the approval: the risk is in the plan, not yet awaiting consent; today it has moved on.
    const registerThen = (await t.ok(`query($p: String) { risks(atPosition: $p, filter: { status: IN_PLAN }) { edges { node { id } } } }`, { p: log[approvedAt].position }, users.auditor)).risks;
    expect(registerThen.edges.map((e: any) => e.node.id)).toContain(walked.riskId);
    const firstAsset = log.find((e: any) => e.type === 'AssetRegistered');
    const assetsThen = (await t.ok(`query($p: String) { assets(atPosition: $p) { totalCount } }`, { p: firstAsset.position }, users.auditor)).assets;
    const assetsNow = (await t.ok(`{ assets { totalCount } }`, {}, users.auditor)).assets;
    expect(assetsThen.totalCount).toBe(1);
    expect(assetsNow.totalCount).toBeGreaterThan(1);
    // asOf and atPosition together, or a position that is not one: BAD_USER_INPUT.
    expect(errorOf(await t.gql(RISK_AT, { id: walked.riskId, p: between.position, at: between.recordedAt }, users.auditor)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { atPosition: expect.any(String) } });
    expect(errorOf(await t.gql(RISK_AT, { id: walked.riskId, p: 'yesterday' }, users.auditor)).extensions.code).toBe('BAD_USER_INPUT');
  });

  it('replays a later moment from a copy of an earlier cached replay exactly as from zero', async () => {
    const { AsOfReplayer } = await import('../../src/projections/as-of-replay.js');
    const { EventUpcasters } = await import('../../src/shared/application/event-upcasting.js');
    const { EVENT_STORE } = await import('../../src/event-store/event-store.port.js');
    const { FEATURES } = await import('../../src/features.js');
    const { projectionsOf } = await import('../../src/platform/feature-contribution.js');
    const allProjections = projectionsOf(FEATURES);
    const store = t.app.get(EVENT_STORE);
    const upcasters = t.app.get(EventUpcasters);
    const dump = (db: any) => {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]);
      return Object.fromEntries(tables.map((name) => [name, (db.prepare(`SELECT * FROM "${name}"`).all() as unknown[]).map((r) => JSON.stringify(r)).sort()]));
    };
    const { events } = await t.ok(`{ events(first: 500) { edges { node { position recordedAt } } } }`, {}, users.auditor);
    const log = events.edges.map((e: any) => e.node);
    const shared = new AsOfReplayer(store, upcasters, allProjections, 2);
    try {
      for (let i = 3; i < log.length; i += 7) {
        const point = i % 2 ? { atPosition: log[i].position } : { asOf: new Date(log[i].recordedAt) };
        const fresh = new AsOfReplayer(store, upcasters, allProjections);
        try {
          expect(await shared.read(point, dump)).toEqual(await fresh.read(point, dump));
        } finally {
          fresh.close();
        }
      }
    } finally {
      shared.close();
    }
  });

  it('a decline (with its reason) sends the risk back to treatment and keeps the plan from force', async () => {
    const { risk } = await riskReadyForPlan(t, 'Withdrawal service');
    await t.ok(TREAT, { input: { riskId: risk.id, options: ['REDUCE'], rationale: 'monitoring', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
    await t.ok(CONTROLS, { input: { riskId: risk.id, controls } }, users.committee);
    const plan = (await t.ok(DRAFT, { input: { title: 'Plan B', period: 'FY2026' } }, users.committee)).draftPlan;
    await t.ok(ADD, { input: { planId: plan.id, riskId: risk.id } }, users.committee);
    await t.ok(SUBMIT, { input: { planId: plan.id } }, users.committee);
    await t.ok(RESOLVE, { input: { planId: plan.id, resolutionNumber: 'BR-9', meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: 'M-9' } }, users.secretary);
    expect(errorOf(await t.gql(DECLINE, { input: { planId: plan.id, riskId: risk.id, reason: ' ' } }, users.riskOwner)).extensions.code).toBe('BAD_USER_INPUT');
    const declined = (await t.ok(DECLINE, { input: { planId: plan.id, riskId: risk.id, reason: 'Residual exposure too high for my budget' } }, users.riskOwner)).declineResidualRisk;
    expect(declined).toMatchObject({ status: 'APPROVED', items: [expect.objectContaining({ consent: 'DECLINED', declineReason: 'Residual exposure too high for my budget' })] });
    expect((await t.ok(RISK, { id: risk.id }, users.auditor)).risk.status).toBe('TO_TREAT');
  });

  it('avoiding a risk closes it and retires its assets; other open risks on them are flagged', async () => {
    const asset = await assetWithThreat(t, 'Legacy OTC desk', { c: 1, i: 1, a: 1 });
    const avoided = await identifyRisk(t, asset, 'OTC desk fraud');
    const other = await identifyRisk(t, asset, 'OTC desk outage');
    await t.ok(ANALYSE, { input: { riskId: avoided.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'x', rationale: 'y' } } }, users.riskOwner);
    await t.ok(EVALUATE, { input: { riskId: avoided.id } }, users.committee);
    const closed = (await t.ok(TREAT, { input: { riskId: avoided.id, options: ['AVOID'], rationale: 'close the OTC business', targetLikelihood: 1, targetImpact: 1 } }, users.committee)).decideTreatment;
    expect(closed.status).toBe('CLOSED');
    const { asset: retired } = await t.ok(`query($id: ID!) { asset(id: $id) { status retirementReason } }`, { id: asset.assetId }, users.auditor);
    expect(retired.status).toBe('RETIRED');
    expect(retired.retirementReason).toContain(avoided.id);
    expect((await t.ok(RISK, { id: other.id }, users.auditor)).risk).toMatchObject({ assetsRetired: true, needsReevaluation: true });
    // The register says the asset has left the inventory, in either language (compliance probe F3: it showed the name alone).
    const csv = async (lang: string) =>
      (await (await fetch(`${t.url}/documents/register.csv?lang=${lang}`, { headers: { authorization: `Bearer ${await t.token(users.auditor)}` } })).text()).split('\n').find((line) => line.includes(other.id))!;
    expect(await csv('en')).toMatch(/Legacy OTC desk \(retired \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\)/);
    expect(await csv('ja')).toMatch(/Legacy OTC desk（.+に廃止）/);
  });

  it('produces the record of controls and reasons (Art.18(2)) in GraphQL and as a Markdown file', async () => {
    const { controlsDocument } = await t.ok(`{ controlsDocument { riskCount controlCount entries { riskId riskTitle controls { title reason } } markdown } }`, {}, users.auditor);
    expect(controlsDocument.riskCount).toBeGreaterThanOrEqual(1);
    const allControls = controlsDocument.entries.flatMap((e: any) => e.controls);
    expect(allControls.length).toBe(controlsDocument.controlCount);
    for (const c of allControls) {
      expect(c.reason.length).toBeGreaterThan(0);
      expect(controlsDocument.markdown).toContain(c.reason);
      expect(controlsDocument.markdown).toContain(c.title);
    }
    const one = controlsDocument.entries[0];
    const token = await t.token(users.committee);
    const response = await fetch(`${t.url}/documents/controls.md?riskId=${one.riskId}&lang=en`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/markdown');
    const markdown = await response.text();
    expect(markdown).toContain('# Record of controls and the reasons for their adoption');
    for (const c of one.controls) expect(markdown).toContain(c.reason);
    expect((await fetch(`${t.url}/documents/controls.md`)).status).toBe(401);
    expect((await fetch(`${t.url}/documents/controls.md?riskId=nope`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  });

  it('lists the risks due for review by the interval of their level', async () => {
    const asset = await assetWithThreat(t, 'Printer', { c: 1, i: 1, a: 1 });
    const risk = await identifyRisk(t, asset, 'Printed keys left on the printer');
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert: 'x', rationale: 'y' } } }, users.riskOwner);
    expect((await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee)).evaluateRisk.status).toBe('RETAINED');
    const query = `query($at: DateTime) { risksDueForReview(asOf: $at) { risk { id } level intervalDays dueOn overdueDays } }`;
    const now = Date.now();
    const soon = (await t.ok(query, { at: new Date(now + 30 * 86_400_000).toISOString() }, users.auditor)).risksDueForReview;
    expect(soon.map((d: any) => d.risk.id)).not.toContain(risk.id);
    const later = (await t.ok(query, { at: new Date(now + 400 * 86_400_000).toISOString() }, users.auditor)).risksDueForReview;
    expect(later.find((d: any) => d.risk.id === risk.id)).toMatchObject({ level: 'LOW', intervalDays: 365, overdueDays: 35 });
  });

  // Last: it edits the read models, then rebuilds them.
  it('verify-read-models: the read models of the whole walk agree with a replay of the log row for row, while the server runs; an edit of them is found (auditor probe 10-b M5)', async () => {
    const env = { EVENT_STORE: store, DATA_DIR: t.dataDir, SQLITE_PATH: join(t.dataDir, 'events.sqlite'), ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
    const intact = await cliInProcess(['verify-read-models'], env);
    expect([intact.code, intact.json]).toEqual([0, expect.objectContaining({ ok: true, differences: [], tables: expect.any(Number), eventsReplayed: expect.any(Number) })]);
    expect(intact.json.tables).toBeGreaterThan(15);
    // What the probe did: a risk edited in the file (its level), which risk(id) and risks then answered.
    const file = new Database(join(t.dataDir, 'read-models.sqlite'));
    try {
      const changed = file.prepare(`UPDATE risks SET doc = json_set(doc, '$.level', 'LOW', '$.title', 'Edited') WHERE id = ?`).run(walked.riskId).changes;
      expect(changed).toBe(1);
    } finally {
      file.close();
    }
    const edited = await cliInProcess(['verify-read-models'], env);
    expect(edited.code).toBe(1);
    expect(edited.json).toMatchObject({ ok: false, differences: [{ table: 'risks', notInLog: 1, missing: 1, sample: [walked.riskId] }] });
    expect(edited.sentence).toMatch(/^BROKEN: the read models at position \d+ differ from a replay of the log, which verifies: risks /);
    // Rebuilt from the log, they agree again.
    await t.ok(`mutation { rebuildProjections { eventsApplied } }`, {}, users.admin);
    expect((await cliInProcess(['verify-read-models'], env)).code).toBe(0);
  }, 120_000);
});
