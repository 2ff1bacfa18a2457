/**
 * Avoiding a risk retires its assets in the same atomic append as `RiskClosed` (Art.17(2), 14(2)),
 * under concurrency: the real application (TestApp, real HTTP), an AVOID treatment raced against
 * 16 identifyRisk on the same asset, all in flight together (fc.scheduler picks the launch order,
 * each call adds its own small delay), several rounds on a fresh asset each.
 *
 * Asserted on the log (the `events` query), never on timings:
 *  - the asset is retired by the avoiding command itself, right after `RiskClosed{AVOIDED}`;
 *  - no `RiskIdentified` (all of the burst's are on that asset) lands after `RiskClosed`;
 *  - every identifyRisk that lost is refused RULE_VIOLATION / ASSET_RETIRED, and appended nothing;
 *  - no call answers CONCURRENCY_CONFLICT or an internal error.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { TestApp, users } from '../e2e/support/test-app.js';
import { proposeAndApproveCriteria } from '../e2e/support/scenario.js';
import { Burst, codeOf, describeOutcome, eventsAfter, eventsOfRefusedCommands, fireConcurrently, logHead, quiesce, ruleOf, sharedAsset, succeeded, tokenFor, type SharedAsset } from './support.js';

const TIMEOUT = 120_000;
const RUNS = Number(process.env.CONCURRENCY_RUNS ?? 5);
const RACERS = 16;

describe('AVOID raced against identifyRisk on the same asset (Art.17(2), 14(2))', () => {
  let t: TestApp;
  let run = 0;
  /** Across the rounds, how the racing identifyRisk ended: the burst must really have raced the avoidance. */
  const tally = { identified: 0, refused: 0 };

  const must = async (query: string, input: Record<string, unknown>, user = users.committee) =>
    Object.values(await t.ok(query, { input: { ...input, commandId: `setup-${randomUUID()}` } }, await tokenFor(t, user)))[0] as any;

  /** A risk on the asset, analysed HIGH and evaluated TO_TREAT. */
  async function riskToTreat(asset: SharedAsset, title: string): Promise<string> {
    const risk = await must(`mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`,
      { title, assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub }, users.riskOwner);
    await must(`mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id } }`,
      { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'Exchange hacks of 2018' } }, users.riskOwner);
    await must(`mutation($input: RiskRefInput!) { evaluateRisk(input: $input) { id } }`, { riskId: risk.id });
    return risk.id;
  }

  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
  }, TIMEOUT);

  afterAll(async () => {
    await t?.close();
  });

  it(`AVOID and ${RACERS} identifyRisk in flight together: no risk is identified on the asset after it is avoided, the losers are refused ASSET_RETIRED`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: RACERS, maxLength: RACERS }),
        fc.integer({ min: 0, max: 6 }),
        fc.scheduler(),
        async (delays, avoidDelay, s) => {
          const id = `${++run}-${randomUUID().slice(0, 8)}`;
          const asset = await sharedAsset(t, `Avoided asset ${id}`);
          const riskId = await riskToTreat(asset, `Risk to avoid ${id}`);
          const since = await logHead(t);
          const burst = new Burst(t);
          await fireConcurrently(s, [
            {
              label: 'avoid',
              delayMs: avoidDelay,
              run: () => burst.mutate('avoid', 'decideTreatment', 'DecideTreatmentInput', 'id status', {
                riskId, options: ['AVOID'], rationale: 'Stop offering the service', targetLikelihood: 1, targetImpact: 1,
              }, users.committee),
            },
            ...delays.map((delayMs, i) => ({
              label: `identify#${i}`,
              delayMs,
              run: () => burst.mutate(`identify#${i}`, 'identifyRisk', 'IdentifyRiskInput', 'id status', {
                title: `Racing risk ${id}/${i}`, assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub,
              }, users.riskOwner),
            })),
          ]);
          await quiesce(t, since, 200);

          const avoid = burst.outcomes.find((o) => o.label === 'avoid')!;
          expect(describeOutcome(avoid)).toBe('avoid: ok');
          // The command's answer is still the risk.
          expect(avoid.data).toEqual({ id: riskId, status: 'CLOSED' });

          const log = await eventsAfter(t, since);
          const closedAt = log.findIndex((e) => e.type === 'RiskClosed' && e.streamId === `risk-${riskId}`);
          expect(closedAt).toBeGreaterThanOrEqual(0);
          // The point: nothing is identified on the asset once it is avoided.
          const identifiedAfter = log.slice(closedAt + 1).filter((e) => e.type === 'RiskIdentified').map((e) => `${e.streamId} at ${e.position}`);
          expect(identifiedAfter).toEqual([]);
          // Retired by the avoiding command itself, in its own append.
          const retired = log.filter((e) => e.type === 'AssetRetired' && e.streamId === `asset-${asset.assetId}`);
          expect(retired.map((e) => ({ afterClose: log.indexOf(e) > closedAt, commandId: e.metadata.commandId }))).toEqual([{ afterClose: true, commandId: avoid.commandId }]);
          expect(log[closedAt + 1]).toMatchObject({ type: 'AssetRetired', streamId: `asset-${asset.assetId}` });

          const identifies = burst.outcomes.filter((o) => o.operation === 'identifyRisk');
          const identifiedBefore = log.slice(0, closedAt).filter((e) => e.type === 'RiskIdentified');
          expect(identifiedBefore.length).toBe(identifies.filter(succeeded).length);
          const losers = identifies.filter((o) => !succeeded(o)).map((o) => `${codeOf(o)}/${ruleOf(o)}`);
          expect(losers).toEqual(Array(losers.length).fill('RULE_VIOLATION/ASSET_RETIRED'));
          tally.identified += identifies.length - losers.length;
          tally.refused += losers.length;
          expect(await eventsOfRefusedCommands(t, burst, since)).toEqual([]);
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    );
    // Some identifyRisk were decided on the asset before its retirement and refused after it.
    expect(tally.refused).toBeGreaterThan(0);
  }, TIMEOUT);
});
