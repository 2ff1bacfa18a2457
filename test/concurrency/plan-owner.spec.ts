/**
 * Concurrency harness (see invariants.spec.ts for the method): a risk's owner changing while its
 * plan is drafted, or while owners answer it. The plan item names the risk's owner, and only that
 * owner's acceptance stands (invariant 13), whatever the interleaving of 16 requests in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { TestApp, users } from '../e2e/support/test-app.js';
import { proposeAndApproveCriteria } from '../e2e/support/scenario.js';
import {
  Burst,
  PLAN_SEL,
  RISK_SEL,
  codeOf,
  consentViolations,
  describeOutcome,
  draftPlan,
  eventsOfRefusedCommands,
  fireConcurrently,
  forceOverUnacceptedRisks,
  itemOwnerViolations,
  logHead,
  quiesce,
  riskWithControls,
  sharedAsset,
  submitAndApprove,
  addRisk,
  type SharedAsset,
} from './support.js';

const TIMEOUT = 120_000;
const RUNS = Number(process.env.CONCURRENCY_RUNS ?? 5);
const replay = (): Partial<fc.Parameters<unknown>> => (process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}) } : {});
const params = (): fc.Parameters<unknown> => ({ numRuns: RUNS, endOnFailure: true, ...replay() });
const delayArb = fc.integer({ min: 0, max: 6 });
const owners = [users.riskOwner, users.otherOwner] as const;

describe('13. a plan item names its risk\'s owner under concurrency (real app, real HTTP, random interleavings)', () => {
  let t: TestApp;
  let asset: SharedAsset;
  let run = 0;
  const next = () => `${++run}-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    t = await TestApp.start();
    await proposeAndApproveCriteria(t);
    asset = await sharedAsset(t, 'Hot wallet (owner harness)');
  }, TIMEOUT);

  afterAll(async () => {
    await t?.close();
  });

  async function expectConsistent(burst: Burst, since: string | null, planId: string): Promise<void> {
    await quiesce(t, since);
    expect(await itemOwnerViolations(t, [planId])).toEqual([]);
    expect(await consentViolations(t, [planId])).toEqual([]);
    expect(await forceOverUnacceptedRisks(t, since)).toEqual([]);
    const unexpected = burst.outcomes.filter((o) => ['INTERNAL_SERVER_ERROR', 'CONCURRENCY_CONFLICT', 'TRANSPORT'].includes(codeOf(o) ?? '')).map(describeOutcome);
    expect(unexpected).toEqual([]);
    expect(await eventsOfRefusedCommands(t, burst, since)).toEqual([]);
  }

  it('reassignRiskOwner racing both owners\' acceptances in an approved plan: the item names the owner, only whose acceptance stands', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom('reassign' as const, 'accept' as const), owner: fc.integer({ min: 0, max: 1 }), delayMs: delayArb }), { minLength: 16, maxLength: 16 }),
        fc.scheduler(),
        async (calls, s) => {
          const id = next();
          const riskId = await riskWithControls(t, asset, `Owner race ${id}`);
          const planId = await draftPlan(t, `Owner race plan ${id}`);
          await addRisk(t, planId, riskId);
          await submitAndApprove(t, planId, [riskId], `BR-owner-${id}`);
          const since = await logHead(t);
          const burst = new Burst(t);
          await fireConcurrently(s, calls.map((c, i) => ({
            label: `${c.kind}#${i}`,
            delayMs: c.delayMs,
            run: () =>
              c.kind === 'reassign'
                ? burst.mutate(`reassign#${i}`, 'reassignRiskOwner', 'ReassignRiskOwnerInput', RISK_SEL, { riskId, ownerId: owners[c.owner]!.sub }, users.committee)
                : burst.mutate(`accept#${i}`, 'acceptResidualRisk', 'AcceptResidualRiskInput', PLAN_SEL, { planId, riskId, statement: `I accept (${i})` }, owners[c.owner]!),
          })));
          await expectConsistent(burst, since, planId);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it('reassignRiskOwner racing addRiskToPlan on a draft: the item, and the approval that follows, name the owner the risk has', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ owner: fc.integer({ min: 0, max: 1 }), delayMs: delayArb }), { minLength: 15, maxLength: 15 }),
        delayArb,
        fc.scheduler(),
        async (reassigns, addDelay, s) => {
          const id = next();
          const riskId = await riskWithControls(t, asset, `Owner draft race ${id}`);
          const planId = await draftPlan(t, `Owner draft plan ${id}`);
          const since = await logHead(t);
          const burst = new Burst(t);
          await fireConcurrently(s, [
            { label: 'add', delayMs: addDelay, run: () => burst.mutate('add', 'addRiskToPlan', 'PlanRiskInput', PLAN_SEL, { planId, riskId }, users.committee) },
            ...reassigns.map((c, i) => ({
              label: `reassign#${i}`,
              delayMs: c.delayMs,
              run: () => burst.mutate(`reassign#${i}`, 'reassignRiskOwner', 'ReassignRiskOwnerInput', RISK_SEL, { riskId, ownerId: owners[c.owner]!.sub }, users.committee),
            })),
          ]);
          await expectConsistent(burst, since, planId);
          // The board approves the item with the owner it names, and that owner is asked.
          await submitAndApprove(t, planId, [riskId], `BR-owner-draft-${id}`);
          expect(await itemOwnerViolations(t, [planId])).toEqual([]);
          const { risk } = await t.ok(`query($id: ID!) { risk(id: $id) { ownerId } }`, { id: riskId }, users.auditor);
          const owner = owners.find((o) => o.sub === risk.ownerId)!;
          const answered = await t.ok(`mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { status } }`, { input: { planId, riskId, statement: 'I accept' } }, owner);
          expect(answered.acceptResidualRisk.status).toBe('IN_FORCE');
        },
      ),
      params(),
    );
  }, TIMEOUT);
});
