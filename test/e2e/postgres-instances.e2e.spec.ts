import { describe, expect, it } from '@jest/globals';
import { addRisk, draftPlan, riskWithControls, sharedAsset, todayInJapan } from '../concurrency/support.js';
import { proposeAndApproveCriteria } from './support/scenario.js';
import { stopServer, type ServerProcess } from './support/server-process.js';
import { type TestApp, users } from './support/test-app.js';
import { remote, twoInstancesOnPostgres, until } from './support/two-instances.js';

/**
 * Several instances on one PostgreSQL store (issue 12): two server processes, each with its own
 * local read models, share the log. Each answers its own writes at once, both converge, the
 * reactions run on exactly one of them (an advisory lock) and exactly once, and when that one is
 * killed the other takes over within seconds.
 */
const SUBMIT = `mutation($input: PlanRefInput!) { submitPlan(input: $input) { id status } }`;
const RESOLVE = `mutation($input: RecordBoardResolutionInput!) { recordBoardResolution(input: $input) { id status } }`;
const RISK = `query($id: ID!) { risk(id: $id) { id status } }`;
const ASSET = `query($id: ID!) { asset(id: $id) { id status retirementReason } }`;
const REGISTER = `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id version } }`;

const asset = (name: string) => ({ input: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 } });
const leads = (server: ServerProcess) => (server.output().match(/process manager runs the reactions on this instance/g) ?? []).length;

/**
 * A board's approval of a plan through `app`: the reaction to it asks the risk's owner for
 * consent (an avoided risk's retirement is no reaction: the avoidance appends it itself).
 */
async function approveOn(app: TestApp, name: string) {
  const riskId = await riskWithControls(app, await sharedAsset(app, name), `${name} fraud`);
  const planId = await draftPlan(app, `${name} plan`);
  await addRisk(app, planId, riskId);
  await app.ok(SUBMIT, { input: { planId } }, users.committee);
  const resolution = { planId, resolutionNumber: `BR-${name}`, meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: `Minutes of ${name}` };
  expect((await app.ok(RESOLVE, { input: resolution }, users.secretary)).recordBoardResolution.status).toBe('APPROVED');
  return { riskId };
}

async function consentRequests(app: TestApp, riskId: string): Promise<number> {
  const { history } = await app.ok(`query($id: ID!) { history(id: $id) { type } }`, { id: riskId }, users.auditor);
  return history.filter((e: { type: string }) => e.type === 'RiskAwaitingResidualConsent').length;
}

describe('two instances on one PostgreSQL store', () => {
  const instances = twoInstancesOnPostgres('rl_instances');
  const a = () => instances.a();
  const b = () => instances.b();

  it('each instance reads its own writes at once, and both converge', async () => {
    const [appA, appB] = [remote(a()), remote(b())];
    await proposeAndApproveCriteria(appA);
    const onA = (await appA.ok(REGISTER, asset('Written on A'), users.opsManager)).registerAsset;
    expect((await appA.ok(ASSET, { id: onA.id }, users.auditor)).asset).toMatchObject({ id: onA.id, status: 'ACTIVE' });
    const onB = (await appB.ok(REGISTER, asset('Written on B'), users.opsManager)).registerAsset;
    expect((await appB.ok(ASSET, { id: onB.id }, users.auditor)).asset).toMatchObject({ id: onB.id, status: 'ACTIVE' });
    // Each instance follows the shared log into its own read models.
    await until('B to see A’s asset', async () => (await appB.ok(ASSET, { id: onA.id }, users.auditor)).asset);
    await until('A to see B’s asset', async () => (await appA.ok(ASSET, { id: onB.id }, users.auditor)).asset);
    // The same name in the same department is refused whichever instance is asked (one reservation stream).
    expect((await appB.gql(REGISTER, asset('Written on A'), users.opsManager)).errors?.[0]?.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_NAME_TAKEN' });
  }, 60_000);

  it('one commandId with the expectedVersion read before, sent by 16 requests at once over both instances: each answers the first result, none CONCURRENCY_CONFLICT (probe F4)', async () => {
    const [appA, appB] = [remote(a()), remote(b())];
    const threat = `mutation($input: IdentifyThreatInput!) { identifyThreat(input: $input) { id version threats { name } } }`;
    for (let round = 0; round < 6; round++) {
      const { id, version } = (await appA.ok(REGISTER, asset(`Retried on both ${round}`), users.opsManager)).registerAsset;
      await until('B to see the asset', async () => (await appB.ok(ASSET, { id }, users.auditor)).asset);
      const input = { assetId: id, name: 'Same threat', affects: ['INTEGRITY'], commandId: `key-on-both-${round}`, expectedVersion: version };
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? appB : appA).gql(threat, { input }, users.opsManager)));
      expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
      expect(new Set(results.map((r) => JSON.stringify(r.data?.identifyThreat))).size).toBe(1);
      const { history } = await appA.ok(`query($id: ID!) { history(id: $id) { type } }`, { id }, users.auditor);
      expect(history.filter((e: { type: string }) => e.type === 'ThreatIdentified')).toHaveLength(1);
    }
  }, 60_000);

  it('runs the reactions on exactly one instance, exactly once, and shows their effect to the instance that caused them', async () => {
    expect(leads(a()) + leads(b())).toBe(1);
    const follower = leads(a()) === 1 ? b() : a();
    const app = remote(follower);
    // The command goes to the instance that does not react: it still answers after the reaction, with it visible.
    const { riskId } = await approveOn(app, 'Legacy OTC desk');
    expect((await app.ok(RISK, { id: riskId }, users.auditor)).risk).toMatchObject({ status: 'AWAITING_CONSENT' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await consentRequests(app, riskId)).toBe(1);
  }, 60_000);

  it('16 board approvals in flight on the instance that does not react: each answers once the leader has asked its owner (one shared poll of the checkpoint)', async () => {
    const follower = leads(a()) === 1 ? b() : a();
    const app = remote(follower);
    const prepared: { planId: string; riskId: string; name: string }[] = [];
    for (let i = 0; i < 16; i++) {
      const name = `Desk ${i} in flight`;
      const riskId = await riskWithControls(app, await sharedAsset(app, name), `${name} fraud`);
      const planId = await draftPlan(app, `${name} plan`);
      await addRisk(app, planId, riskId);
      await app.ok(SUBMIT, { input: { planId } }, users.committee);
      prepared.push({ planId, riskId, name });
    }
    const approvals = await Promise.all(
      prepared.map(async ({ planId, riskId, name }) => {
        const resolution = { planId, resolutionNumber: `BR-${name}`, meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: `Minutes of ${name}` };
        const answer = (await app.ok(RESOLVE, { input: resolution }, users.secretary)).recordBoardResolution.status;
        // Read at once after the answer: the reaction (on the other instance) is already visible here.
        return [answer, (await app.ok(RISK, { id: riskId }, users.auditor)).risk.status];
      }),
    );
    expect(approvals).toEqual(prepared.map(() => ['APPROVED', 'AWAITING_CONSENT']));
    for (const { riskId } of prepared) expect(await consentRequests(app, riskId)).toBe(1);
  }, 120_000);

  it('hands the reactions over to the other instance when the one running them is killed', async () => {
    const leaderIsA = leads(a()) === 1;
    const leader = leaderIsA ? a() : b();
    const survivor = leaderIsA ? b() : a();
    await stopServer(leader, 'SIGKILL'); // stopped again after the tests: a no-op for an exited process
    const started = Date.now();
    await until('the survivor to take the reactions over', async () => leads(survivor) === 1, 15_000);
    const tookOver = Date.now() - started;
    expect(tookOver).toBeLessThan(15_000);
    const app = remote(survivor);
    const { riskId } = await approveOn(app, 'Second OTC desk');
    expect((await app.ok(RISK, { id: riskId }, users.auditor)).risk.status).toBe('AWAITING_CONSENT');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await consentRequests(app, riskId)).toBe(1);
  }, 90_000);
});
