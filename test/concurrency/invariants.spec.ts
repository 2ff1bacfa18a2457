/**
 * Concurrency harness for the contract's "Consistency rules" (shared/api-contract.md, second
 * round): the real application (TestApp: SQLite file, projections, process manager, HTTP), and
 * fast-check properties that fire random interleavings of real GraphQL mutations, up to 16 in
 * flight at once (fc.scheduler picks the launch order, each call adds its own random small
 * delay), then wait until the log stops growing and read the state back over GraphQL.
 *
 * Invariants (asserted, never timings):
 *  1. plan IN_FORCE ⇒ every remaining item ACCEPTED; in an approved plan item ACCEPTED ⇔ risk
 *     ACCEPTED under that plan;
 *  2. a risk is an item of at most one plan that is not CLOSED; of two racing addRiskToPlan
 *     exactly one succeeds, the others are RULE_VIOLATION / RISK_IN_OTHER_PLAN;
 *  3. asset names unique per department after NFKC + trim, also when registrations race
 *     (RULE_VIOLATION / ASSET_NAME_TAKEN);
 *  4. a command without expectedVersion never answers CONCURRENCY_CONFLICT (16 identifyThreat);
 *  5. concurrent accept / decline / material change leave plan and risk agreeing (invariant 1);
 *  6. a refused command appends nothing (every mutation carries a unique commandId, the log's
 *     metadata.commandId is checked), in every burst of this file, but the binding of its key to
 *     a rule's refusal (CommandRefused);
 *  7. a token carrying AUDITOR changes nothing, whatever other roles it carries;
 *  8. an analysis or evaluation records the criteria version in force at its place in the log,
 *     also while criteria approvals race it (the criteria stream is appended at the version read);
 *  9. closePlan racing the owner's answers and changes of the risk: the closed plan keeps the answer
 *     the risk holds (nothing is appended to it after PlanClosed), no risk is left asked by it, and
 *     no plan comes into force, anywhere in the log, over a risk not ACCEPTED under it;
 * 10. the same when an avoided or declined item is removed while another item's risk changes
 *     (an avoided risk's item not removed stays PENDING: its STALE consent is asked no more);
 * 11. and when an owner's acceptance, which the plan learns through a reaction, races a change of
 *     another item's risk;
 * 12. a plan is never submitted holding a risk avoided at its submission (ITEM_RISK_CLOSED), also
 *     when the AVOID races the submission;
 * 13. a plan item names its risk's owner, who alone may consent, and only that owner's
 *     acceptance stands, while reassignRiskOwner races the owners' answers or addRiskToPlan.
 *
 * fast-check stops at the first counterexample (endOnFailure) to keep the file under 90 s.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { TestApp, users, type TestUser } from '../e2e/support/test-app.js';
import { criteriaInput } from '../e2e/support/scenario.js';
import {
  Burst,
  PLAN_SEL,
  RISK_SEL,
  addRisk,
  closedPlanViolations,
  codeOf,
  consentViolations,
  controlsA,
  controlsB,
  describeOutcome,
  draftPlan,
  eventsAfter,
  eventsOfRefusedCommands,
  fireConcurrently,
  forceOverUnacceptedRisks,
  logHead,
  nameKey,
  quiesce,
  riskInSeveralOpenPlans,
  riskWithControls,
  ruleOf,
  sharedAsset,
  submitAndApprove,
  succeeded,
  tokenFor,
  type Outcome,
  type SharedAsset,
  HARNESS_TIMEOUT,
  delayArb,
  fcParams,
  startHarness,
  unexpectedOutcomes,
  itemOwnerViolations,
} from './support.js';

const TIMEOUT = HARNESS_TIMEOUT;
/** The two owners a risk is reassigned between (invariant 13). */
const owners = [users.riskOwner, users.otherOwner] as const;
const params = fcParams;

/** Asset names that NFKC + trim make equal: half-width katakana, NFD dakuten, spaces, full-width latin. */
const LOOK_ALIKES: string[][] = [
  ['データ基盤', 'ﾃﾞｰﾀ基盤', ' データ基盤 ', 'データ基盤\u3000', 'テ\u3099ータ基盤'],
  ['ベース', 'ヘ\u3099ース', ' ベース', 'ﾍﾞｰｽ'],
  ['Account DB', 'Ａｃｃｏｕｎｔ ＤＢ', ' Account DB ', 'Ａccount DB'],
  ['Wallet-1', 'Ｗａｌｌｅｔ－１', 'Wallet-1 ', '\tWallet-1'],
];

describe('Consistency under concurrency (real app, real HTTP, random interleavings)', () => {
  let t: TestApp;
  let asset: SharedAsset;
  let run = 0;
  const next = () => `${++run}-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    ({ t, asset } = await startHarness('Hot wallet (harness)'));
  }, TIMEOUT);

  afterAll(async () => {
    await t?.close();
  });

  /** Invariant 6 after any burst: nothing in the log carries the commandId of a refused request but its key's binding to a rule's refusal. */
  async function expectRefusedAppendedNothing(burst: Burst, since: string | null): Promise<void> {
    expect(await eventsOfRefusedCommands(t, burst, since)).toEqual([]);
  }

  /** Two risks with controls (on `on`), in a plan the board approved, the second one's residual risk accepted. */
  async function approvedPairSecondAccepted(label: string, on: SharedAsset): Promise<{ a: string; b: string; planId: string }> {
    const a = await riskWithControls(t, on, `${label} A`);
    const b = await riskWithControls(t, on, `${label} B`);
    const planId = await draftPlan(t, `${label} plan`);
    await addRisk(t, planId, a);
    await addRisk(t, planId, b);
    await submitAndApprove(t, planId, [a, b], `BR-${label.replace(/\s+/g, '-')}`);
    await t.ok(`mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { id } }`, { input: { planId, riskId: b, statement: 'B first' } }, users.riskOwner);
    return { a, b, planId };
  }

  /** After a burst on one plan: never in force over a risk not ACCEPTED under it, plan and risks agree, no unexpected answer, nothing appended by a refusal. */
  async function expectPlanBurstConsistent(burst: Burst, since: string | null, planId: string): Promise<void> {
    await quiesce(t, since);
    expect(await forceOverUnacceptedRisks(t, since)).toEqual([]);
    expect(await consentViolations(t, [planId])).toEqual([]);
    const unexpected = unexpectedOutcomes(burst);
    expect(unexpected).toEqual([]);
    await expectRefusedAppendedNothing(burst, since);
  }

  /**
   * Launch timing of a burst: all at once, one kind leading the other by a few milliseconds
   * (both orders), or random jitter. Which of these exposes a race depends on the implementation.
   */
  const timingArb = fc.constantFrom('together', 'declinesFirst', 'acceptsFirst', 'jitter');
  const delayFor = (timing: string, kind: 'accept' | 'decline' | 'other', jitter: number): number => {
    switch (timing) {
      case 'together':
        return 0;
      case 'declinesFirst':
        return kind === 'decline' ? jitter % 2 : 2 + (jitter % 5);
      case 'acceptsFirst':
        return kind === 'accept' ? jitter % 2 : 2 + (jitter % 5);
      default:
        return jitter;
    }
  };

  it('1+5. concurrent accept / decline (16 calls) and a material change leave plan and risk agreeing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom('accept' as const, 'decline' as const), jitter: delayArb }), { minLength: 16, maxLength: 16 }),
        timingArb,
        fc.option(delayArb, { nil: undefined }),
        fc.scheduler(),
        async (consents, timing, revisionDelay, s) => {
          const id = next();
          const riskId = await riskWithControls(t, asset, `Consent race ${id}`);
          const planId = await draftPlan(t, `Consent race plan ${id}`);
          await addRisk(t, planId, riskId);
          await submitAndApprove(t, planId, [riskId], `BR-${id}`);
          const since = await logHead(t);
          const burst = new Burst(t);
          const calls = consents.map((c, i) => ({
            label: `${c.kind}#${i}`,
            delayMs: delayFor(timing, c.kind, c.jitter),
            run: () =>
              c.kind === 'accept'
                ? burst.mutate(`accept#${i}`, 'acceptResidualRisk', 'AcceptResidualRiskInput', PLAN_SEL, { planId, riskId, statement: `I accept (${i})` }, users.riskOwner)
                : burst.mutate(`decline#${i}`, 'declineResidualRisk', 'DeclineResidualRiskInput', PLAN_SEL, { planId, riskId, reason: `Too costly (${i})` }, users.riskOwner),
          }));
          if (revisionDelay !== undefined) {
            calls.push({
              label: 'decideControls',
              delayMs: delayFor(timing, 'other', revisionDelay),
              run: () => burst.mutate('decideControls', 'decideControls', 'DecideControlsInput', RISK_SEL, { riskId, controls: controlsB }, users.committee),
            });
          }
          await fireConcurrently(s, calls);
          await quiesce(t, since);

          // Invariant 1 first: it is the point of this property; at the end, and where the plan came into force.
          expect(await consentViolations(t, [planId])).toEqual([]);
          expect(await forceOverUnacceptedRisks(t, since)).toEqual([]);
          // Read-your-writes: an answer shows what its decision led to, also when a concurrent
          // call of the owner had already given it: an accept leaves the item answered, never
          // PENDING (unless the controls changed in the same burst: then the risk's owner is asked
          // again, and an acceptance taken back before the plan learnt it is not learnt); a decline
          // leaves it DECLINED, as nothing can follow a decline here.
          const changed = burst.outcomes.some((o) => o.operation === 'decideControls' && succeeded(o));
          const contradicted = burst.outcomes
            .filter(succeeded)
            .filter((o) => o.operation === 'acceptResidualRisk' || o.operation === 'declineResidualRisk')
            .map((o) => ({ o, consent: (o.data?.items as { riskId: string; consent: string }[] | undefined)?.find((i) => i.riskId === riskId)?.consent }))
            .filter(({ o, consent }) => (o.operation === 'acceptResidualRisk' ? consent === 'PENDING' && !changed : consent !== 'DECLINED'))
            .map(({ o, consent }) => `${describeOutcome(o)} answered with the item ${consent}`);
          expect(contradicted).toEqual([]);
          // A command without expectedVersion retries its own races (contract), and never crashes.
          const unexpected = unexpectedOutcomes(burst);
          expect(unexpected).toEqual([]);
          await expectRefusedAppendedNothing(burst, since);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it('2. two or more addRiskToPlan racing with the same risk on draft plans: exactly one wins, the others RISK_IN_OTHER_PLAN', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 2, max: 8 }),
        fc.array(delayArb, { minLength: 16, maxLength: 16 }),
        fc.boolean(),
        fc.scheduler(),
        async (riskCount, planCount, delays, together, s) => {
          const id = next();
          const riskIds: string[] = [];
          for (let r = 0; r < riskCount; r++) riskIds.push(await riskWithControls(t, asset, `Plan race ${id}/${r}`));
          const planIds: string[] = [];
          for (let p = 0; p < planCount; p++) planIds.push(await draftPlan(t, `Race plan ${id}/${p}`));
          const since = await logHead(t);
          const burst = new Burst(t);
          const calls = riskIds.flatMap((riskId, r) =>
            planIds.map((planId, p) => ({
              label: `add r${r}→p${p}`,
              delayMs: together ? 0 : delays[(r * planCount + p) % delays.length]!,
              run: () => burst.mutate(`add r${r}→p${p}`, 'addRiskToPlan', 'PlanRiskInput', PLAN_SEL, { planId, riskId }, users.committee),
            })),
          );
          await fireConcurrently(s, calls);
          await quiesce(t, since);

          // Invariant 2 over every plan of the register, then the answers of the racing calls.
          expect(await riskInSeveralOpenPlans(t)).toEqual([]);
          for (const [r, riskId] of riskIds.entries()) {
            const mine = burst.outcomes.filter((o) => o.label.startsWith(`add r${r}→`));
            const winners = mine.filter(succeeded);
            expect({ risk: r, successes: winners.length, of: mine.length }).toEqual({ risk: r, successes: 1, of: planCount });
            const losers = mine.filter((o) => !succeeded(o)).map((o) => `${codeOf(o)}/${ruleOf(o)}`);
            expect(losers).toEqual(Array(planCount - 1).fill('RULE_VIOLATION/RISK_IN_OTHER_PLAN'));
            const { risk } = await t.ok(`query($id: ID!) { risk(id: $id) { status planId } }`, { id: riskId }, await tokenFor(t, users.auditor));
            expect(risk).toEqual({ status: 'IN_PLAN', planId: winners[0]!.data.id });
          }
          await expectRefusedAppendedNothing(burst, since);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it('3. 16 concurrent registerAsset with one name or NFKC look-alikes: exactly one asset, the rest ASSET_NAME_TAKEN', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: LOOK_ALIKES.length - 1 }),
        fc.oneof(
          // the very same string 16 times
          fc.integer({ min: 0, max: 4 }).map((v) => Array<number>(16).fill(v)),
          // a random mix of look-alikes
          fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 16, maxLength: 16 }),
        ),
        fc.array(fc.record({ delayMs: delayArb, asCiso: fc.boolean() }), { minLength: 16, maxLength: 16 }),
        fc.scheduler(),
        async (family, variantIdx, launches, s) => {
          const variants = LOOK_ALIKES[family]!;
          const names = variantIdx.map((v) => variants[v % variants.length]!);
          const department = `dept-${next()}`;
          const manager: TestUser = { sub: `mgr-${department}`, name: 'Department manager', roles: ['ASSET_MANAGER'], department };
          const since = await logHead(t);
          const burst = new Burst(t);
          await fireConcurrently(
            s,
            names.map((name, i) => ({
              label: `register#${i} ${JSON.stringify(name)}`,
              delayMs: launches[i]!.delayMs,
              run: () =>
                burst.mutate(`register#${i} ${JSON.stringify(name)}`, 'registerAsset', 'RegisterAssetInput', 'id name department', {
                  name, category: 'INFORMATION', department, managerId: manager.sub, confidentiality: 1, integrity: 2, availability: 1,
                }, launches[i]!.asCiso ? users.ciso : manager),
            })),
          );
          await quiesce(t, since, 200);

          const { assets } = await t.ok(`query($d: String) { assets(first: 500, department: $d) { edges { node { id name department } } } }`, { d: department }, await tokenFor(t, users.auditor));
          const registered = assets.edges.map((e: any) => e.node).filter((a: any) => nameKey(a.name) === nameKey(variants[0]!));
          const successes = burst.outcomes.filter(succeeded).length;
          expect({ successes, assetsWithThatName: registered.length }).toEqual({ successes: 1, assetsWithThatName: 1 });
          const losers = burst.outcomes.filter((o) => !succeeded(o)).map((o) => `${codeOf(o)}/${ruleOf(o)}`);
          expect(losers).toEqual(Array(15).fill('RULE_VIOLATION/ASSET_NAME_TAKEN'));
          await expectRefusedAppendedNothing(burst, since);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it('4. 16 concurrent identifyThreat on one asset without expectedVersion: all succeed, 16 threats', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ delayMs: delayArb, asCiso: fc.boolean() }), { minLength: 16, maxLength: 16 }),
        fc.scheduler(),
        async (launches, s) => {
          const id = next();
          const registered = await new Burst(t).mutate('register', 'registerAsset', 'RegisterAssetInput', 'id', {
            name: `Threat target ${id}`, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 2, integrity: 2, availability: 2,
          }, users.opsManager);
          expect(describeOutcome(registered)).toBe('register: ok');
          const assetId = registered.data.id as string;
          const since = await logHead(t);
          const burst = new Burst(t);
          await fireConcurrently(
            s,
            launches.map((l, i) => ({
              label: `threat#${i}`,
              delayMs: l.delayMs,
              run: () => burst.mutate(`threat#${i}`, 'identifyThreat', 'IdentifyThreatInput', 'id version threats { id }', {
                assetId, name: `Threat ${i}`, affects: ['AVAILABILITY'],
              }, l.asCiso ? users.ciso : users.opsManager),
            })),
          );
          const codes = burst.codes();
          expect({ ok: codes.filter((c) => c === 'OK').length, refused: burst.refused().map(describeOutcome) }).toEqual({ ok: 16, refused: [] });
          const { asset: after } = await t.ok(`query($id: ID!) { asset(id: $id) { threats { id name } } }`, { id: assetId }, await tokenFor(t, users.auditor));
          expect(after.threats).toHaveLength(16);
          await expectRefusedAppendedNothing(burst, since);
        },
      ),
      params(4),
    );
  }, TIMEOUT);

  it('6. a burst of mixed mutations, many of them refused: no refused command appended anything', async () => {
    // A plan awaiting consent, shared by the runs (the refused consent calls must leave it as it is).
    const fixtureRisk = await riskWithControls(t, asset, 'Refusal fixture');
    const fixturePlan = await draftPlan(t, 'Refusal fixture plan');
    await addRisk(t, fixturePlan, fixtureRisk);
    await submitAndApprove(t, fixturePlan, [fixtureRisk], `BR-fixture-${randomUUID().slice(0, 8)}`);
    const KINDS = ['duplicateName', 'badRating', 'threatOnMissingAsset', 'submitEmptyPlan', 'acceptByOtherOwner', 'declineBlankReason', 'auditorDraft', 'addRace', 'threatOk', 'draftOk'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom(...KINDS), delayMs: delayArb }), { minLength: 8, maxLength: 16 }),
        fc.scheduler(),
        async (ops, s) => {
          const id = next();
          const department = `mixed-${id}`;
          const needsRace = ops.some((o) => o.kind === 'addRace');
          const raceRisk = needsRace ? await riskWithControls(t, asset, `Mixed race ${id}`) : '';
          const racePlans = needsRace ? [await draftPlan(t, `Mixed A ${id}`), await draftPlan(t, `Mixed B ${id}`)] : [];
          const emptyPlan = await draftPlan(t, `Empty ${id}`);
          const since = await logHead(t);
          const burst = new Burst(t);
          const auditorOnly: TestUser = users.auditor;
          const run = (kind: (typeof KINDS)[number], i: number): Promise<Outcome> => {
            const label = `${kind}#${i}`;
            switch (kind) {
              case 'duplicateName':
                return burst.mutate(label, 'registerAsset', 'RegisterAssetInput', 'id', { name: ' Ledger DB ', category: 'SYSTEM', department, managerId: 'm', confidentiality: 1, integrity: 1, availability: 1 }, users.ciso);
              case 'badRating':
                return burst.mutate(label, 'registerAsset', 'RegisterAssetInput', 'id', { name: `Bad ${i}`, category: 'SYSTEM', department, managerId: 'm', confidentiality: 7, integrity: 1, availability: 1 }, users.ciso);
              case 'threatOnMissingAsset':
                return burst.mutate(label, 'identifyThreat', 'IdentifyThreatInput', 'id', { assetId: randomUUID(), name: 'x', affects: ['INTEGRITY'] }, users.ciso);
              case 'submitEmptyPlan':
                return burst.mutate(label, 'submitPlan', 'PlanRefInput', 'id', { planId: emptyPlan }, users.committee);
              case 'acceptByOtherOwner':
                return burst.mutate(label, 'acceptResidualRisk', 'AcceptResidualRiskInput', 'id', { planId: fixturePlan, riskId: fixtureRisk, statement: 'not mine' }, users.otherOwner);
              case 'declineBlankReason':
                return burst.mutate(label, 'declineResidualRisk', 'DeclineResidualRiskInput', 'id', { planId: fixturePlan, riskId: fixtureRisk, reason: '  ' }, users.riskOwner);
              case 'auditorDraft':
                return burst.mutate(label, 'draftPlan', 'DraftPlanInput', 'id', { title: 'by an auditor', period: 'FY2026' }, auditorOnly);
              case 'addRace':
                return burst.mutate(label, 'addRiskToPlan', 'PlanRiskInput', 'id', { planId: racePlans[i % 2]!, riskId: raceRisk }, users.committee);
              case 'threatOk':
                return burst.mutate(label, 'identifyThreat', 'IdentifyThreatInput', 'id', { assetId: asset.assetId, name: `Mixed threat ${i}`, affects: ['INTEGRITY'] }, users.opsManager);
              case 'draftOk':
                return burst.mutate(label, 'draftPlan', 'DraftPlanInput', 'id', { title: `Mixed draft ${id}/${i}`, period: 'FY2026' }, users.committee);
            }
          };
          await fireConcurrently(s, ops.map((o, i) => ({ label: `${o.kind}#${i}`, delayMs: o.delayMs, run: () => run(o.kind, i) })));
          await quiesce(t, since);

          expect(burst.outcomes.filter((o) => codeOf(o) === 'INTERNAL_SERVER_ERROR' || codeOf(o) === 'TRANSPORT').map(describeOutcome)).toEqual([]);
          await expectRefusedAppendedNothing(burst, since);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it('7. a token with AUDITOR plus a writing role gets FORBIDDEN for every mutation and appends nothing', async () => {
    const criteria = { ...criteriaInput, acceptanceLevel: 'LOW' };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(['AUDITOR', 'CISO'], ['AUDITOR', 'ASSET_MANAGER'], ['CISO', 'AUDITOR'], ['AUDITOR', 'COMMITTEE_MEMBER', 'CISO']),
        fc.array(fc.record({ op: fc.constantFrom('registerAsset', 'proposeRiskCriteria', 'draftPlan', 'identifyThreat', 'identifyRisk'), delayMs: delayArb }), { minLength: 3, maxLength: 16 }),
        fc.scheduler(),
        async (roles, ops, s) => {
          const id = next();
          const mixed: TestUser = { sub: `auditor-plus-${id}`, name: 'Auditor with another role', roles: [...roles], department: 'ops' };
          const all = [...ops, { op: 'registerAsset' as const, delayMs: 0 }, { op: 'proposeRiskCriteria' as const, delayMs: 0 }, { op: 'draftPlan' as const, delayMs: 0 }];
          const since = await logHead(t);
          const burst = new Burst(t);
          await fireConcurrently(
            s,
            all.map((o, i) => ({
              label: `${o.op}#${i}`,
              delayMs: o.delayMs,
              run: () => {
                switch (o.op) {
                  case 'registerAsset':
                    return burst.mutate(`registerAsset#${i}`, 'registerAsset', 'RegisterAssetInput', 'id', { name: `Auditor asset ${id}/${i}`, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 }, mixed);
                  case 'proposeRiskCriteria':
                    return burst.mutate(`proposeRiskCriteria#${i}`, 'proposeRiskCriteria', 'ProposeRiskCriteriaInput', 'id', criteria, mixed);
                  case 'draftPlan':
                    return burst.mutate(`draftPlan#${i}`, 'draftPlan', 'DraftPlanInput', 'id', { title: `Auditor plan ${id}/${i}`, period: 'FY2026' }, mixed);
                  case 'identifyThreat':
                    return burst.mutate(`identifyThreat#${i}`, 'identifyThreat', 'IdentifyThreatInput', 'id', { assetId: asset.assetId, name: `Auditor threat ${i}`, affects: ['INTEGRITY'] }, mixed);
                  case 'identifyRisk':
                    return burst.mutate(`identifyRisk#${i}`, 'identifyRisk', 'IdentifyRiskInput', 'id', { title: `Auditor risk ${i}`, assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub }, mixed);
                }
              },
            })),
          );
          await quiesce(t, since, 200);

          const notForbidden = burst.outcomes.filter((o) => codeOf(o) !== 'FORBIDDEN').map((o) => `${describeOutcome(o)} [roles ${roles.join('+')}]`);
          expect(notForbidden).toEqual([]);
          const appended = (await eventsAfter(t, since)).filter((e) => e.metadata.actor.id === mixed.sub).map((e) => `${e.type} on ${e.streamId}`);
          expect(appended).toEqual([]);
          await expectRefusedAppendedNothing(burst, since);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it('8. criteria approvals racing analyses and evaluations: each records the criteria version in force at its place in the log', async () => {
    const CRITERIA = `query { riskCriteria { number } }`;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom('analyse' as const, 'evaluate' as const), risk: fc.integer({ min: 0, max: 3 }), delayMs: delayArb }), { minLength: 14, maxLength: 14 }),
        fc.array(delayArb, { minLength: 2, maxLength: 2 }),
        fc.scheduler(),
        async (ops, approvalDelays, s) => {
          const id = next();
          const risks: string[] = [];
          for (let r = 0; r < 4; r++) {
            const identified = await new Burst(t).mutate('identify', 'identifyRisk', 'IdentifyRiskInput', 'id', {
              title: `Criteria race ${id}/${r}`, assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub,
            }, users.riskOwner);
            risks.push(identified.data.id as string);
            await new Burst(t).mutate('analyse', 'analyseRisk', 'AnalyseRiskInput', 'id', { riskId: risks[r], method: 'INFORMAL', informal: { likelihood: 2, impact: 2, expert: 'CISO office', rationale: 'baseline' } }, users.riskOwner);
          }
          const proposals: string[] = [];
          for (let p = 0; p < 2; p++) {
            proposals.push((await new Burst(t).mutate('propose', 'proposeRiskCriteria', 'ProposeRiskCriteriaInput', 'id', { ...criteriaInput }, users.committee)).data.id as string);
          }
          const since = await logHead(t);
          const inForceBefore = (await t.ok(CRITERIA, {}, await tokenFor(t, users.auditor))).riskCriteria.number as number;
          const burst = new Burst(t);
          await fireConcurrently(s, [
            ...proposals.map((criteriaId, p) => ({
              label: `approve#${p}`, delayMs: approvalDelays[p]!,
              run: () => burst.mutate(`approve#${p}`, 'approveRiskCriteria', 'ApproveRiskCriteriaInput', 'id', { criteriaId }, users.ciso),
            })),
            ...ops.map((o, i) => ({
              label: `${o.kind}#${i}`, delayMs: o.delayMs,
              run: () => o.kind === 'analyse'
                ? burst.mutate(`analyse#${i}`, 'analyseRisk', 'AnalyseRiskInput', 'id', { riskId: risks[o.risk], method: 'INFORMAL', informal: { likelihood: 3, impact: 2, expert: 'CISO office', rationale: `run ${i}` } }, users.riskOwner)
                : burst.mutate(`evaluate#${i}`, 'evaluateRisk', 'RiskRefInput', 'id', { riskId: risks[o.risk] }, users.committee),
            })),
          ]);
          await quiesce(t, since, 200);
          const unexpected = unexpectedOutcomes(burst);
          expect(unexpected).toEqual([]);
          // Walk the log in order: every analysis and evaluation names the criteria in force where it stands.
          const { events } = await t.ok(`query($after: String) { events(after: $after, first: 500) { edges { node { position type data } } } }`, { after: since }, await tokenFor(t, users.auditor));
          let inForce = inForceBefore;
          const wrong: string[] = [];
          for (const { node } of events.edges as { node: { position: string; type: string; data: Record<string, any> } }[]) {
            if (node.type === 'RiskCriteriaApproved') inForce = node.data.number;
            if ((node.type === 'RiskAnalysed' || node.type === 'RiskEvaluated') && node.data.criteriaNumber !== inForce) {
              wrong.push(`${node.type} at ${node.position} records criteria #${node.data.criteriaNumber}, #${inForce} was in force`);
            }
          }
          expect(wrong).toEqual([]);
          await expectRefusedAppendedNothing(burst, since);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it('9. closePlan racing the owner\'s accepts and declines and changes of the risk: the closed plan keeps the answer the risk holds, never came into force over a declined risk, and leaves no owner asked by it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom('accept' as const, 'decline' as const, 'close' as const, 'change' as const), jitter: delayArb }), { minLength: 16, maxLength: 16 }),
        timingArb,
        fc.scheduler(),
        async (calls, timing, s) => {
          const id = next();
          const riskId = await riskWithControls(t, asset, `Close race ${id}`);
          const planId = await draftPlan(t, `Close race plan ${id}`);
          await addRisk(t, planId, riskId);
          await submitAndApprove(t, planId, [riskId], `BR-${id}`);
          const since = await logHead(t);
          const burst = new Burst(t);
          await fireConcurrently(s, calls.map((c, i) => ({
            label: `${c.kind}#${i}`,
            delayMs: delayFor(timing, c.kind === 'close' || c.kind === 'change' ? 'other' : c.kind, c.jitter),
            run: () =>
              c.kind === 'accept'
                ? burst.mutate(`accept#${i}`, 'acceptResidualRisk', 'AcceptResidualRiskInput', PLAN_SEL, { planId, riskId, statement: `I accept (${i})` }, users.riskOwner)
                : c.kind === 'decline'
                  ? burst.mutate(`decline#${i}`, 'declineResidualRisk', 'DeclineResidualRiskInput', PLAN_SEL, { planId, riskId, reason: `Too costly (${i})` }, users.riskOwner)
                  : c.kind === 'change'
                    ? burst.mutate(`change#${i}`, 'decideControls', 'DecideControlsInput', RISK_SEL, { riskId, controls: i % 2 ? controlsA : controlsB }, users.committee)
                    : burst.mutate(`close#${i}`, 'closePlan', 'ClosePlanInput', PLAN_SEL, { planId, reason: `Superseded (${i})` }, users.committee),
          })));
          await quiesce(t, since);
          expect(await consentViolations(t, [planId])).toEqual([]);
          expect(await closedPlanViolations(t, [planId])).toEqual([]);
          expect(await forceOverUnacceptedRisks(t, since)).toEqual([]);
          const unexpected = unexpectedOutcomes(burst);
          expect(unexpected).toEqual([]);
          await expectRefusedAppendedNothing(burst, since);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it('10. removing an avoided or declined item racing material changes of another item: the plan never comes into force over a consent the risk no longer holds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('avoid' as const, 'decline' as const),
        fc.array(fc.record({ kind: fc.constantFrom('remove' as const, 'change' as const, 'accept' as const), jitter: delayArb }), { minLength: 16, maxLength: 16 }),
        timingArb,
        fc.scheduler(),
        async (leaving, calls, timing, s) => {
          const id = next();
          // An asset of its own: the AVOID retires it.
          const { a, b, planId } = await approvedPairSecondAccepted(`Removal race ${id}`, await sharedAsset(t, `Removal race asset ${id}`));
          const accept = (riskId: string, i = 0) => ({ planId, riskId, statement: `I accept (${i})` });
          if (leaving === 'avoid') {
            await t.ok(`mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { id } }`, { input: { riskId: a, options: ['AVOID'], rationale: 'given up', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
            // Its item says so from the AVOID's own commit (riskClosedAt), before any removal races.
            await quiesce(t, await logHead(t), 100);
            expect(await consentViolations(t, [planId])).toEqual([]);
          } else {
            await t.ok(`mutation($input: DeclineResidualRiskInput!) { declineResidualRisk(input: $input) { id } }`, { input: { planId, riskId: a, reason: 'too costly' } }, users.riskOwner);
          }
          const since = await logHead(t);
          const burst = new Burst(t);
          await fireConcurrently(s, calls.map((c, i) => ({
            label: `${c.kind}#${i}`,
            delayMs: delayFor(timing, c.kind === 'accept' ? 'accept' : c.kind === 'remove' ? 'decline' : 'other', c.jitter),
            run: () =>
              c.kind === 'remove'
                ? burst.mutate(`remove#${i}`, 'removeRiskFromPlan', 'RemoveRiskFromPlanInput', PLAN_SEL, { planId, riskId: a, reason: `Left the plan (${i})` }, users.committee)
                : c.kind === 'change'
                  ? burst.mutate(`change#${i}`, 'decideControls', 'DecideControlsInput', RISK_SEL, { riskId: b, controls: i % 2 ? controlsA : controlsB }, users.committee)
                  : burst.mutate(`accept#${i}`, 'acceptResidualRisk', 'AcceptResidualRiskInput', PLAN_SEL, accept(b, i), users.riskOwner),
          })));
          await expectPlanBurstConsistent(burst, since, planId);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it("11. an owner's acceptance racing material changes of another item (and its owner accepting again): the plan never comes into force over a consent the risk no longer holds", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom('accept' as const, 'change' as const, 'acceptAgain' as const), jitter: delayArb }), { minLength: 16, maxLength: 16 }),
        timingArb,
        fc.scheduler(),
        async (calls, timing, s) => {
          const { a, b, planId } = await approvedPairSecondAccepted(`Acceptance race ${next()}`, asset);
          const since = await logHead(t);
          const burst = new Burst(t);
          await fireConcurrently(s, calls.map((c, i) => ({
            label: `${c.kind}#${i}`,
            delayMs: delayFor(timing, c.kind === 'accept' ? 'accept' : 'other', c.jitter),
            run: () =>
              c.kind === 'change'
                ? burst.mutate(`change#${i}`, 'decideControls', 'DecideControlsInput', RISK_SEL, { riskId: b, controls: i % 2 ? controlsA : controlsB }, users.committee)
                // The changed risk's owner accepts again once asked again (refused before that).
                : burst.mutate(`${c.kind}#${i}`, 'acceptResidualRisk', 'AcceptResidualRiskInput', PLAN_SEL, { planId, riskId: c.kind === 'accept' ? a : b, statement: `I accept (${i})` }, users.riskOwner),
          })));
          await expectPlanBurstConsistent(burst, since, planId);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it("14. an owner's acceptances racing the committee changing an item's controls away from what the board approved and back: the plan never comes into force over content the board did not approve (Art.19(2))", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom('accept' as const, 'changeAway' as const, 'restore' as const, 'acceptChanged' as const), jitter: delayArb }), { minLength: 16, maxLength: 16 }),
        timingArb,
        fc.scheduler(),
        async (calls, timing, s) => {
          const { a, b, planId } = await approvedPairSecondAccepted(`Approved content race ${next()}`, asset);
          // B's controls changed away from the approved ones (controlsA) before the burst: its owner is asked again.
          await t.ok(`mutation($input: DecideControlsInput!) { decideControls(input: $input) { id } }`, { input: { riskId: b, controls: controlsB } }, users.committee);
          const since = await logHead(t);
          await quiesce(t, since);
          const burst = new Burst(t);
          await fireConcurrently(s, calls.map((c, i) => ({
            label: `${c.kind}#${i}`,
            delayMs: delayFor(timing, c.kind === 'accept' || c.kind === 'acceptChanged' ? 'accept' : 'other', c.jitter),
            run: () =>
              c.kind === 'changeAway' || c.kind === 'restore'
                ? burst.mutate(`${c.kind}#${i}`, 'decideControls', 'DecideControlsInput', RISK_SEL, { riskId: b, controls: c.kind === 'restore' ? controlsA : controlsB }, users.committee)
                : burst.mutate(`${c.kind}#${i}`, 'acceptResidualRisk', 'AcceptResidualRiskInput', PLAN_SEL, { planId, riskId: c.kind === 'accept' ? a : b, statement: `I accept (${i})` }, users.riskOwner),
          })));
          // forceOverUnacceptedRisks compares each item's content where the plan came into force with the resolution's.
          await expectPlanBurstConsistent(burst, since, planId);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it('12. submitPlan racing the AVOID of one of its risks: a plan is never submitted holding a risk closed at its submission', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom('submit' as const, 'avoid' as const), jitter: delayArb }), { minLength: 16, maxLength: 16 }),
        timingArb,
        fc.scheduler(),
        async (calls, timing, s) => {
          const id = next();
          // An asset of its own: the AVOID retires it.
          const own = await sharedAsset(t, `Submission race asset ${id}`);
          const a = await riskWithControls(t, own, `Submission race A ${id}`);
          const b = await riskWithControls(t, own, `Submission race B ${id}`);
          const planId = await draftPlan(t, `Submission race plan ${id}`);
          await addRisk(t, planId, a);
          await addRisk(t, planId, b);
          const since = await logHead(t);
          const burst = new Burst(t);
          await fireConcurrently(s, calls.map((c, i) => ({
            label: `${c.kind}#${i}`,
            delayMs: delayFor(timing, c.kind === 'avoid' ? 'decline' : 'accept', c.jitter),
            run: () =>
              c.kind === 'submit'
                ? burst.mutate(`submit#${i}`, 'submitPlan', 'PlanRefInput', PLAN_SEL, { planId }, users.committee)
                : burst.mutate(`avoid#${i}`, 'decideTreatment', 'DecideTreatmentInput', RISK_SEL, { riskId: a, options: ['AVOID'], rationale: `given up (${i})`, targetLikelihood: 1, targetImpact: 1 }, users.committee),
          })));
          await quiesce(t, since);
          const auditor = await tokenFor(t, users.auditor);
          for (const event of (await eventsAfter(t, since)).filter((e) => e.type === 'PlanSubmitted' && e.streamId === `plan-${planId}`)) {
            const { risk } = await t.ok(`query($id: ID!, $p: String) { risk(id: $id, atPosition: $p) { status } }`, { id: a, p: event.position }, auditor);
            expect([event.position, risk.status]).not.toEqual([event.position, 'CLOSED']);
          }
          const unexpected = unexpectedOutcomes(burst);
          expect(unexpected).toEqual([]);
          await expectRefusedAppendedNothing(burst, since);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it('1+2 over the whole register once the bursts have settled: every plan and risk agree, no risk in two open plans', async () => {
    await quiesce(t, null);
    expect(await consentViolations(t)).toEqual([]);
    expect(await riskInSeveralOpenPlans(t)).toEqual([]);
  }, TIMEOUT);

  it('13. reassignRiskOwner racing both owners\' acceptances in an approved plan: the item names the owner, only whose acceptance stands', async () => {
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
          await expectPlanBurstConsistent(burst, since, planId);
          expect(await itemOwnerViolations(t, [planId])).toEqual([]);
        },
      ),
      params(),
    );
  }, TIMEOUT);

  it('13. reassignRiskOwner racing addRiskToPlan on a draft: the item, and the approval that follows, name the owner the risk has', async () => {
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
          await expectPlanBurstConsistent(burst, since, planId);
          expect(await itemOwnerViolations(t, [planId])).toEqual([]);
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
