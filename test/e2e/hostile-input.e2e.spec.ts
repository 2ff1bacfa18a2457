import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TestApp, users } from './support/test-app.js';
import { assetWithThreat, identifyRisk, proposeAndApproveCriteria } from './support/scenario.js';

/**
 * "No input a client can send yields an internal error or a stack trace": random values of the
 * right GraphQL types (so that they reach the deciders) for every mutation, from every role.
 * Each answer must be data or one of the contract's codes.
 */
const CODES = ['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND', 'CONCURRENCY_CONFLICT', 'RULE_VIOLATION'];

describe('hostile input', () => {
  let t: TestApp;
  const ids: string[] = ['', ' ', 'x'.repeat(300), '00000000-0000-4000-8000-000000000000', "'; DROP TABLE events; --", '../../etc/passwd'];
  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
    const asset = await assetWithThreat(t, 'Target', { c: 2, i: 2, a: 2 });
    const risk = await identifyRisk(t, asset);
    ids.push(asset.assetId, asset.threatId, asset.vulnerabilityId, risk.id);
  });
  afterAll(async () => {
    await t.close();
  });

  const text = () => fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(...ids), fc.string({ unit: 'grapheme', maxLength: 10 }), fc.constant('x'.repeat(5000)));
  const int = () => fc.oneof(fc.integer({ min: -3, max: 12 }), fc.constantFrom(0, -2147483648, 2147483647));
  const id = () => fc.constantFrom(...ids);
  const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const user = () => fc.constantFrom(...Object.values(users));

  const operations: [string, string, fc.Arbitrary<Record<string, unknown>>][] = [
    ['registerAsset', 'RegisterAssetInput', fc.record({ name: text(), description: maybe(text()), category: fc.constantFrom('SYSTEM', 'PAPER'), department: text(), managerId: text(), confidentiality: int(), integrity: int(), availability: int(), commandId: maybe(text()) })],
    ['identifyThreat', 'IdentifyThreatInput', fc.record({ assetId: id(), name: text(), affects: fc.array(fc.constantFrom('CONFIDENTIALITY', 'INTEGRITY', 'AVAILABILITY'), { maxLength: 4 }), expectedVersion: maybe(int()) })],
    ['identifyVulnerability', 'IdentifyVulnerabilityInput', fc.record({ assetId: id(), threatId: id(), name: text() })],
    ['retireAsset', 'RetireAssetInput', fc.record({ assetId: id(), reason: text() })],
    ['proposeRiskCriteria', 'ProposeRiskCriteriaInput', fc.record({
      likelihoodLevels: fc.array(text(), { maxLength: 4 }), impactLevels: fc.array(text(), { maxLength: 4 }), riskLevels: fc.array(text(), { maxLength: 4 }),
      matrix: fc.array(fc.array(text(), { maxLength: 4 }), { maxLength: 4 }), acceptanceLevel: text(), impactByAssetValue: fc.array(int(), { maxLength: 4 }),
      baselineGapThresholds: fc.array(fc.double({ noNaN: true, min: -2, max: 2 }), { maxLength: 3 }), detailedLikelihoodThresholds: fc.array(int(), { maxLength: 3 }),
      requiredMethods: fc.array(fc.record({ minAssetValue: int(), method: fc.constantFrom('BASELINE', 'INFORMAL', 'DETAILED') }), { maxLength: 3 }),
      reviewIntervalDays: fc.array(fc.record({ level: text(), days: int() }), { maxLength: 3 }),
    })],
    ['approveRiskCriteria', 'ApproveRiskCriteriaInput', fc.record({ criteriaId: id(), expectedVersion: maybe(int()) })],
    ['importBaselineCatalogue', 'ImportBaselineCatalogueInput', fc.record({ name: text(), version: text(), requirements: fc.array(fc.record({ id: text(), title: text(), statement: text(), reference: maybe(text()) }), { maxLength: 4 }) })],
    ['identifyRisk', 'IdentifyRiskInput', fc.record({ title: text(), assetIds: fc.array(id(), { maxLength: 3 }), threatId: id(), vulnerabilityId: id(), ownerId: text(), externalReferences: maybe(fc.array(text(), { maxLength: 3 })) })],
    ['analyseRisk', 'AnalyseRiskInput', fc.record({
      riskId: id(), method: fc.constantFrom('BASELINE', 'INFORMAL', 'DETAILED'),
      baseline: maybe(fc.record({ catalogueId: fc.constantFrom('jvcea-ism@2018', 'nope'), results: fc.array(fc.record({ requirementId: text(), status: fc.constantFrom('MET', 'PARTIAL', 'NOT_MET', 'NOT_APPLICABLE') }), { maxLength: 4 }), impact: int() })),
      informal: maybe(fc.record({ likelihood: int(), impact: int(), expert: text(), rationale: text() })),
      detailed: maybe(fc.record({ assessments: fc.array(fc.record({ assetId: id(), threatLevel: int(), vulnerabilityLevel: int() }), { maxLength: 3 }) })),
    })],
    ['evaluateRisk', 'RiskRefInput', fc.record({ riskId: id(), expectedVersion: maybe(int()) })],
    ['decideTreatment', 'DecideTreatmentInput', fc.record({ riskId: id(), options: fc.array(fc.constantFrom('REDUCE', 'AVOID', 'SHARE'), { maxLength: 4 }), rationale: text(), targetLikelihood: int(), targetImpact: int(), counterparty: maybe(text()), contractReference: maybe(text()) })],
    ['decideControls', 'DecideControlsInput', fc.record({ riskId: id(), controls: fc.array(fc.record({ title: text(), description: maybe(text()), ownerId: text(), dueDate: fc.oneof(text(), fc.constantFrom('2099-02-30', '2099-12-31', '1999-01-01')), reason: text() }), { maxLength: 3 }) })],
    ['recordReview', 'RecordReviewInput', fc.record({ riskId: id(), controlsInPlace: fc.boolean(), actualLikelihood: int(), actualImpact: int(), notes: maybe(text()) })],
    ['draftPlan', 'DraftPlanInput', fc.record({ title: text(), period: text() })],
    ['addRiskToPlan', 'PlanRiskInput', fc.record({ planId: id(), riskId: id() })],
    ['recordBoardResolution', 'RecordBoardResolutionInput', fc.record({ planId: id(), resolutionNumber: text(), meetingDate: fc.oneof(text(), fc.constant('2026-01-01')), decision: fc.constantFrom('APPROVED', 'REJECTED'), minutesReference: text() })],
    ['acceptResidualRisk', 'AcceptResidualRiskInput', fc.record({ planId: id(), riskId: id(), statement: maybe(text()) })],
    ['declineResidualRisk', 'DeclineResidualRiskInput', fc.record({ planId: id(), riskId: id(), reason: text() })],
  ];

  it('answers every random mutation with data or a contract error, never an internal one', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...operations), fc.context(), user(), async ([name, type, input], ctx, who) => {
        const [value] = fc.sample(input, 1);
        const result = await t.gql(`mutation($input: ${type}!) { ${name}(input: $input) { __typename } }`, { input: value }, who);
        ctx.log(JSON.stringify({ name, value, result }).slice(0, 2000));
        for (const e of result.errors ?? []) {
          seen.add(e.extensions?.code);
          expect(CODES).toContain(e.extensions?.code);
          expect(JSON.stringify(e)).not.toMatch(/stacktrace|\n\s+at /);
        }
      }),
      { numRuns: 300 },
    );
    expect(seen.has('BAD_USER_INPUT')).toBe(true);
    expect(seen.has('FORBIDDEN')).toBe(true);
  }, 120_000);

  it('answers random queries arguments the same way', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(...ids)), int(), async (s, n) => {
        for (const [q, v] of [
          [`query($s: String, $n: Int) { assets(after: $s, first: $n) { totalCount } }`, { s, n }],
          [`query($s: String, $n: Int) { risks(after: $s, first: $n, atPosition: $s) { totalCount } }`, { s, n }],
          [`query($s: String, $n: Int) { events(after: $s, first: $n) { pageInfo { hasNextPage } } }`, { s, n }],
          [`query($s: ID!) { history(id: $s) { type } }`, { s }],
          [`query($s: String) { accessLog(after: $s) { pageInfo { hasNextPage } } }`, { s }],
        ] as const) {
          const result = await t.gql(q, v, users.ciso);
          for (const e of result.errors ?? []) expect(CODES).toContain(e.extensions?.code);
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
