/**
 * addComment and attachEvidence take `expectedVersion` (contract, Commands: "where it targets an
 * existing entity"): the annotated entity's version as its GraphQL type shows it, a control's and a
 * board resolution's being their risk's and plan's. Missing until the contract probe of
 * 2026-12-07 (F1): a tool that sends it on every entity-targeting input got a validation error.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TestApp, errorOf, users, type TestUser } from './support/test-app.js';
import { assetWithThreat, identifyRisk, proposeAndApproveCriteria } from './support/scenario.js';
import { approvedPlan } from './documents/plan-scenario.js';
import { BUILTIN_CATALOGUE_ID } from '../../src/baseline-catalogues/domain/builtin-catalogue.js';

const COMMENT = `mutation($input: AddCommentInput!) { addComment(input: $input) { id text } }`;
const ATTACH = `mutation($input: AttachEvidenceInput!) { attachEvidence(input: $input) { id description } }`;
const COMMENTS = `query($id: ID!) { comments(entityId: $id) { text } }`;
const HISTORY = `query($id: ID!) { history(id: $id) { type position streamId revision data } }`;
const THREAT = `mutation($input: IdentifyThreatInput!) { identifyThreat(input: $input) { version } }`;

describe('expectedVersion on addComment and attachEvidence: the annotated entity\'s version', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start();
  }, 180_000);

  afterAll(async () => {
    await t?.close();
  });

  const comment = (entityId: string, expectedVersion: number | undefined, user: TestUser = users.committee, text = `note ${randomUUID()}`) =>
    t.gql(COMMENT, { input: { entityId, text, ...(expectedVersion === undefined ? {} : { expectedVersion }) } }, user);
  const upload = async (user: TestUser): Promise<string> => {
    const response = await fetch(`${t.url}/evidence`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await t.token(user)}`, 'content-type': 'text/plain', 'x-filename': 'note.txt' },
      body: `evidence ${randomUUID()}\n`,
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };

  it('takes each kind\'s version: the current one is accepted, another one is CONCURRENCY_CONFLICT naming both and records nothing', async () => {
    const criteria = await proposeAndApproveCriteria(t);
    const asset = await assetWithThreat(t, 'Annotated signer', { c: 2, i: 2, a: 1 });
    const risk = await identifyRisk(t, asset, 'Annotated risk');
    const plan = await approvedPlan(t);
    const planState = (await t.ok(`query($id: ID!) { plan(id: $id) { version resolution { id } } }`, { id: plan.planId }, users.auditor)).plan;
    const riskOfPlan = (await t.ok(`query($id: ID!) { risk(id: $id) { version controls { id } } }`, { id: plan.riskId }, users.auditor)).risk;
    // The version in force (approvedPlan approved one of its own after `criteria`), and the first one, now superseded.
    const criteriaVersion = (await t.ok(`query { riskCriteria { id version } }`, {}, users.auditor)).riskCriteria;
    expect(criteriaVersion.id).not.toBe(criteria.id);
    const incident = (await t.ok(`mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { id version } }`,
      { input: { title: 'Hot wallet breach', organisation: 'Coincheck', occurredOn: '2018-01-26', description: 'NEM was sent out of a hot wallet.' } }, users.riskOwner)).recordIncident;
    const context = (await t.ok(`mutation($input: RecordContextInput!) { recordContext(input: $input) { id version } }`,
      { input: { period: 'FY2026', scope: 'Custody', internalIssues: ['one'], externalIssues: ['two'], interestedParties: ['customers'] } }, users.committee)).recordContext;
    const assetVersion = (await t.ok(`query($id: ID!) { asset(id: $id) { version } }`, { id: asset.assetId }, users.auditor)).asset.version;

    const entities: [string, string, number][] = [
      ['asset', asset.assetId, assetVersion],
      ['risk', risk.id, risk.version],
      ['control (its risk\'s version)', riskOfPlan.controls[0].id, riskOfPlan.version],
      ['plan', plan.planId, planState.version],
      ['board resolution (its plan\'s version)', planState.resolution.id, planState.version],
      ['criteria version', criteriaVersion.id, criteriaVersion.version],
      ['incident', incident.id, incident.version],
      ['context', context.id, context.version],
    ];
    for (const [what, id, version] of entities) {
      const before = (await t.ok(COMMENTS, { id }, users.auditor)).comments.length;
      // Another version than the entity's (an older one where there is one).
      const other = version > 0 ? version - 1 : version + 1;
      const stale = errorOf(await comment(id, other));
      expect([what, stale.extensions]).toEqual([what, expect.objectContaining({ code: 'CONCURRENCY_CONFLICT', expectedVersion: other, actualVersion: version })]);
      expect([what, (await t.ok(COMMENTS, { id }, users.auditor)).comments.length]).toEqual([what, before]);
      const accepted = await comment(id, version);
      expect([what, accepted.errors]).toEqual([what, undefined]);
      // An annotation does not move the entity's version: the same one is good again.
      expect([what, (await comment(id, version)).errors]).toEqual([what, undefined]);
      expect([what, (await t.ok(COMMENTS, { id }, users.auditor)).comments.length]).toEqual([what, before + 2]);
    }

    // attachEvidence the same way.
    const file = await upload(users.ciso);
    const staleAttach = errorOf(await t.gql(ATTACH, { input: { entityId: risk.id, evidenceId: file, description: 'Assessment', expectedVersion: risk.version + 1 } }, users.ciso));
    expect(staleAttach.extensions).toMatchObject({ code: 'CONCURRENCY_CONFLICT', expectedVersion: risk.version + 1, actualVersion: risk.version });
    expect((await t.ok(`query($id: ID!) { evidence(entityId: $id) { id } }`, { id: risk.id }, users.auditor)).evidence).toEqual([]);
    expect((await t.ok(ATTACH, { input: { entityId: risk.id, evidenceId: file, description: 'Assessment', expectedVersion: risk.version } }, users.ciso)).attachEvidence.id).toBe(file);

    // A baseline catalogue has no version of this sort (its version is its edition's label); a negative one is refused as input.
    const catalogue = errorOf(await comment(BUILTIN_CATALOGUE_ID, 0));
    expect(catalogue.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { expectedVersion: expect.stringMatching(/baseline catalogue/) } });
    expect((await comment(BUILTIN_CATALOGUE_ID, undefined)).errors).toBeUndefined();
    expect(errorOf(await comment(risk.id, -1)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { expectedVersion: expect.any(String) } });
    // A retry of an accepted comment (same commandId) after the entity moved on answers the first
    // comment, as every retry does, not CONCURRENCY_CONFLICT; nothing more is recorded.
    const retried = { entityId: asset.assetId, text: 'Checked before the new threat', commandId: `annotate-${randomUUID()}`, expectedVersion: assetVersion };
    const first = (await t.ok(COMMENT, { input: retried }, users.committee)).addComment;
    await t.ok(THREAT, { input: { assetId: asset.assetId, name: 'Insider copy', affects: ['CONFIDENTIALITY'] } }, users.opsManager);
    const commentsNow = (await t.ok(COMMENTS, { id: asset.assetId }, users.auditor)).comments.length;
    expect((await t.ok(COMMENT, { input: retried }, users.committee)).addComment).toEqual(first);
    expect((await t.ok(COMMENTS, { id: asset.assetId }, users.auditor)).comments.length).toBe(commentsNow);
    expect(errorOf(await comment(asset.assetId, assetVersion)).extensions).toMatchObject({ code: 'CONCURRENCY_CONFLICT', actualVersion: assetVersion + 1 });

    // Without expectedVersion nothing about the entity is compared.
    expect((await comment(asset.assetId, undefined)).errors).toBeUndefined();
  }, 180_000);

  it('with 16 requests in flight, a comment naming version v is recorded only while the asset is at v; the others are CONCURRENCY_CONFLICT', async () => {
    const outcomes = { accepted: 0, refused: 0 };
    for (let round = 0; round < 3; round++) {
      const asset = await assetWithThreat(t, `Raced signer ${round}`, { c: 2, i: 2, a: 2 });
      const seen = (await t.ok(`query($id: ID!) { asset(id: $id) { version } }`, { id: asset.assetId }, users.auditor)).asset.version as number;
      const texts = Array.from({ length: 8 }, (_, i) => `round ${round} comment ${i}`);
      // Comments and changes to the asset interleaved, all sent before any answer.
      const requests = texts.flatMap((text, i) => [
        comment(asset.assetId, seen, users.committee, text).then((r) => ({ kind: 'comment' as const, text, r })),
        t.gql(THREAT, { input: { assetId: asset.assetId, name: `Threat ${round}-${i}`, affects: ['AVAILABILITY'] } }, users.opsManager).then((r) => ({ kind: 'threat' as const, text, r })),
      ]);
      const answers = await Promise.all(requests);
      for (const a of answers.filter((x) => x.kind === 'threat')) expect(a.r.errors).toBeUndefined();
      const comments = answers.filter((x) => x.kind === 'comment');
      for (const c of comments) {
        if (c.r.errors) expect(errorOf(c.r).extensions).toMatchObject({ code: 'CONCURRENCY_CONFLICT', expectedVersion: seen, actualVersion: expect.any(Number) });
      }
      const accepted = new Set(comments.filter((c) => !c.r.errors).map((c) => c.text));
      outcomes.accepted += accepted.size;
      outcomes.refused += comments.length - accepted.size;
      // In the log: every accepted comment lies before the asset's first event after version `seen`,
      // every refused one is absent.
      const history = (await t.ok(HISTORY, { id: asset.assetId }, users.auditor)).history as { type: string; position: string; streamId: string; revision: number; data: { text?: string } }[];
      const firstChange = history.find((e) => e.streamId === `asset-${asset.assetId}` && e.revision > seen)!;
      expect(firstChange).toBeDefined();
      const recorded = history.filter((e) => e.type === 'CommentAdded');
      expect(new Set(recorded.map((e) => e.data.text))).toEqual(accepted);
      for (const e of recorded) expect([e.data.text, e.position < firstChange.position]).toEqual([e.data.text, true]);
    }
    // Both outcomes happened: the requests really raced.
    expect(outcomes.accepted).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  }, 180_000);
});
