import { afterAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestApp, users } from './support/test-app.js';
import { ANALYSE, EVALUATE, assetWithThreat, identifyRisk, proposeAndApproveCriteria, todayInJapan } from './support/scenario.js';

/**
 * The read models are disposable, the process manager's progress is not: deleting both local
 * files must neither lose a reaction nor repeat one. The checkpoint lives in its own file, and
 * without it the manager finds in the log where it stopped.
 */
describe('process manager after losing its local state', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
  });

  it('resumes where the log says it stopped, appends nothing twice, and the rebuilt register agrees', async () => {
    const first = await TestApp.start();
    apps.push(first);
    await proposeAndApproveCriteria(first);
    const asset = await assetWithThreat(first, 'Hot wallet', { c: 1, i: 1, a: 1 });
    const risk = await identifyRisk(first, asset);
    await first.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'x', rationale: 'y' } } }, users.riskOwner);
    await first.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee);
    await first.ok(`mutation($i: DecideTreatmentInput!) { decideTreatment(input: $i) { id } }`, { i: { riskId: risk.id, options: ['REDUCE'], rationale: 'r', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
    await first.ok(`mutation($i: DecideControlsInput!) { decideControls(input: $i) { id } }`, { i: { riskId: risk.id, controls: [{ title: 'Cold storage', description: 'd', ownerId: 'ops', dueDate: '2099-01-01', reason: 'limits losses' }] } }, users.committee);
    const { draftPlan } = await first.ok(`mutation { draftPlan(input: { title: "FY", period: "FY2026" }) { id } }`, {}, users.committee);
    await first.ok(`mutation($p: ID!, $r: ID!) { addRiskToPlan(input: { planId: $p, riskId: $r }) { id } }`, { p: draftPlan.id, r: risk.id }, users.committee);
    await first.ok(`mutation($p: ID!) { submitPlan(input: { planId: $p }) { id } }`, { p: draftPlan.id }, users.committee);
    await first.ok(`mutation($p: ID!, $d: String!) { recordBoardResolution(input: { planId: $p, resolutionNumber: "BR-1", meetingDate: $d, decision: APPROVED, minutesReference: "M-1" }) { id } }`, { p: draftPlan.id, d: todayInJapan() }, users.secretary);
    await first.ok(`mutation($p: ID!, $r: ID!) { acceptResidualRisk(input: { planId: $p, riskId: $r, statement: "ok" }) { status } }`, { p: draftPlan.id, r: risk.id }, users.riskOwner);
    const HEAD = `{ events(first: 500) { edges { node { position type } } } }`;
    const before = (await first.ok(HEAD, {}, users.auditor)).events.edges;
    await first.close({ keepData: true });

    for (const file of ['read-models.sqlite', 'process-manager.sqlite']) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(join(first.dataDir, file + suffix), { force: true });
    }
    const second = await TestApp.start({ dataDir: first.dataDir });
    apps.push(second);
    // A command after the restart waits for the projections and the reactions to catch up.
    await second.ok(`mutation { draftPlan(input: { title: "Next", period: "FY2027" }) { id } }`, {}, users.committee);
    const after = (await second.ok(HEAD, {}, users.auditor)).events.edges;
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length).map((e: any) => e.node.type)).toEqual(['PlanDrafted']);
    const { plan } = await second.ok(`query($p: ID!) { plan(id: $p) { status items { consent } } }`, { p: draftPlan.id }, users.auditor);
    expect(plan).toEqual({ status: 'IN_FORCE', items: [{ consent: 'ACCEPTED' }] });
    expect((await second.ok(`query($r: ID!) { risk(id: $r) { status } }`, { r: risk.id }, users.auditor)).risk.status).toBe('ACCEPTED');
    // 3-10 s alone. Once, in a full run (2026-12-05 19:19), it timed out: an app on this store was
    // still running in jest's process 10 minutes later, and the second app's draftPlan was never
    // recorded. Most likely jest's own process, near its heap limit at the 140th of 193 files,
    // collecting garbage most of the time: run so, this test took 12-56 s and a start was seen in
    // createApp after 22 s (README, Decisions and limits, "A restart that stalled once"); npm test
    // now runs the files in a worker replaced past 1 GB of heap. The longer limit is for a loaded
    // machine.
  }, 90_000);
});
