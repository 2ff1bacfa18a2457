/**
 * Following the plan through (Art.18, 19, 12(3)) over HTTP on the real server and SQLite file:
 * a control through its lifecycle, overdue controls against the clock and against asOf, the
 * deadline watch recording ControlBecameOverdue and RiskReviewBecameDue once, the review finding
 * with controls not in place, and 16 clients recording progress on one control at once.
 *
 * Time: the server's clock (CLOCK, a SystemClock) is moved forward through the Nest container,
 * the way a day passing would; the store keeps recording real instants (asOf reads use them).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CLOCK, SystemClock } from '../../src/shared/application/clock.js';
import { CONTROL_TRANSITIONS, FINAL_CONTROL_STATUSES, type ControlStatus } from '../../src/risk-register/domain/control-lifecycle.js';
import { DeadlineWatch } from '../../src/risk-register/application/deadline-watch.js';
import { TestApp, errorOf, users, type GraphQLResponse, type TestUser } from './support/test-app.js';
import { proposeAndApproveCriteria } from './support/scenario.js';
import { sharedAsset, sleep, type SharedAsset } from '../concurrency/support.js';

const TIMEOUT = 120_000;
const DAY = 86_400_000;
const controlOwner: TestUser = { sub: 'ops-lead', name: 'Ops Lead', roles: ['RISK_OWNER'] };

const CONTROL_FIELDS = 'id title ownerId dueDate status progressPercent progressNote overdue';
const RISK = `query($id: ID!, $asOf: DateTime) { risk(id: $id, asOf: $asOf) { id version status cycle controls { ${CONTROL_FIELDS} } } }`;
const PROGRESS = `mutation($input: RecordControlProgressInput!) { recordControlProgress(input: $input) { id version controls { ${CONTROL_FIELDS} } } }`;
const OVERDUE = `query($asOf: DateTime) { overdueControls(asOf: $asOf) { riskId controlId title ownerId dueDate status } }`;
const HISTORY = `query($id: ID!) { history(id: $id) { type data revision } }`;


describe('Following the plan through: control progress, overdue controls, review findings (Art.18, 19, 12(3))', () => {
  let t: TestApp;
  let asset: SharedAsset;
  let n = 0;

  const ok = (query: string, input: Record<string, unknown>, user: TestUser) => t.ok(query, { input }, user);
  const gql = (query: string, input: Record<string, unknown>, user: TestUser) => t.gql(query, { input }, user);
  const history = async (id: string) => (await t.ok(HISTORY, { id }, users.auditor)).history as { type: string; data: any; revision: number }[];
  const clock = () => t.app.get<typeof CLOCK, SystemClock>(CLOCK);
  /** A day in Japan, `days` from the server clock's now (YYYY-MM-DD). */
  const japanDay = (days: number) => new Date(clock().now().getTime() + 9 * 3600_000 + days * DAY).toISOString().slice(0, 10);

  /** A risk treated down to LOW with these controls decided (all owned by ops-lead). */
  async function riskWithControls(controls: { title: string; dueDate: string }[]): Promise<{ riskId: string; controlIds: string[] }> {
    const title = `Follow-through risk ${++n}`;
    const risk = await ok(`mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`,
      { title, assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub }, users.riskOwner);
    const riskId = risk.identifyRisk.id as string;
    await ok(`mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id } }`,
      { riskId, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'Exchange hacks of 2018' } }, users.riskOwner);
    await ok(`mutation($input: RiskRefInput!) { evaluateRisk(input: $input) { id } }`, { riskId }, users.committee);
    await ok(`mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { id } }`, { riskId, options: ['REDUCE'], rationale: 'cold storage', targetLikelihood: 1, targetImpact: 1 }, users.committee);
    const decided = await ok(`mutation($input: DecideControlsInput!) { decideControls(input: $input) { controls { id } } }`,
      { riskId, controls: controls.map((c) => ({ ...c, description: 'what it does', ownerId: controlOwner.sub, reason: 'why it was adopted' })) }, users.committee);
    return { riskId, controlIds: decided.decideControls.controls.map((c: { id: string }) => c.id) };
  }

  beforeAll(async () => {
    // The deadline watch looks every 200 ms here (60 s by default).
    process.env.DEADLINE_CHECK_INTERVAL_MS = '200';
    t = await TestApp.start();
    delete process.env.DEADLINE_CHECK_INTERVAL_MS;
    await proposeAndApproveCriteria(t);
    asset = await sharedAsset(t, 'Follow-through asset');
  }, TIMEOUT);

  afterAll(async () => {
    await t?.close();
  });

  it('takes a control PLANNED → IN_PROGRESS → IMPLEMENTED → VERIFIED, refusing what the rules forbid and appending nothing then', async () => {
    const { riskId, controlIds } = await riskWithControls([{ title: 'Cold storage sweep', dueDate: japanDay(30) }]);
    const controlId = controlIds[0]!;
    const before = (await t.ok(RISK, { id: riskId }, users.auditor)).risk;
    expect(before.controls[0]).toMatchObject({ id: controlId, status: 'PLANNED', progressPercent: 0, overdue: false });

    const started = (await ok(PROGRESS, { riskId, controlId, status: 'IN_PROGRESS', progressPercent: 40, note: 'Sweep script written' }, controlOwner)).recordControlProgress;
    expect(started.controls[0]).toMatchObject({ status: 'IN_PROGRESS', progressPercent: 40, progressNote: 'Sweep script written' });
    expect(started.version).toBe(before.version + 1);

    // The same record again changes nothing (and appends nothing).
    const again = (await ok(PROGRESS, { riskId, controlId, status: 'IN_PROGRESS', progressPercent: 40 }, controlOwner)).recordControlProgress;
    expect(again.version).toBe(started.version);

    const length = async () => (await history(riskId)).length;
    const refusals: [string, Record<string, unknown>, TestUser, Record<string, unknown>][] = [
      ['a stale expectedVersion', { status: 'IMPLEMENTED', expectedVersion: before.version }, controlOwner, { code: 'CONCURRENCY_CONFLICT' }],
      ['an inconsistent percentage', { status: 'IN_PROGRESS', progressPercent: 100 }, controlOwner, { code: 'BAD_USER_INPUT', fields: { progressPercent: expect.any(String) } }],
      ['verified before implemented', { status: 'VERIFIED' }, users.committee, { code: 'RULE_VIOLATION', rule: 'CONTROL_TRANSITION_NOT_ALLOWED', article: 'Art.19' }],
      ['cancelled without a reason', { status: 'CANCELLED' }, users.committee, { code: 'BAD_USER_INPUT', fields: { note: expect.any(String) } }],
      ['an auditor', { status: 'IMPLEMENTED' }, users.auditor, { code: 'FORBIDDEN' }],
      ["the risk's owner, who does not own the control", { status: 'IMPLEMENTED' }, users.riskOwner, { code: 'FORBIDDEN' }],
      ['an evidence id that names no file', { status: 'IN_PROGRESS', evidenceIds: ['no-such-file'] }, controlOwner, { code: 'BAD_USER_INPUT', fields: { evidenceIds: expect.any(String) } }],
      ['an unknown control', { status: 'IMPLEMENTED', controlId: 'no-such-control' }, controlOwner, { code: 'NOT_FOUND' }],
    ];
    const stable = await length();
    for (const [label, input, user, expected] of refusals) {
      const error = errorOf(await gql(PROGRESS, { riskId, controlId, ...input }, user));
      expect({ label, ...error.extensions }).toMatchObject({ label, ...expected });
      expect(error.extensions.stacktrace).toBeUndefined();
    }
    expect(await length()).toBe(stable);

    const done = (await ok(PROGRESS, { riskId, controlId, status: 'IMPLEMENTED', expectedVersion: started.version }, controlOwner)).recordControlProgress;
    expect(done.controls[0]).toMatchObject({ status: 'IMPLEMENTED', progressPercent: 100 });
    // Its owner does not verify it: FORBIDDEN without a committee role.
    expect(errorOf(await gql(PROGRESS, { riskId, controlId, status: 'VERIFIED' }, controlOwner)).extensions.code).toBe('FORBIDDEN');
    const verified = (await ok(PROGRESS, { riskId, controlId, status: 'VERIFIED', note: 'Checked the sweep logs' }, users.committee)).recordControlProgress;
    expect(verified.controls[0]).toMatchObject({ status: 'VERIFIED', progressPercent: 100, overdue: false });
    // No going back from VERIFIED.
    const final = errorOf(await gql(PROGRESS, { riskId, controlId, status: 'IN_PROGRESS', note: 'again' }, users.ciso));
    expect(final.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'CONTROL_FINAL', article: 'Art.18' });

    const recorded = (await history(riskId)).filter((e) => e.type === 'ControlProgressRecorded').map((e) => [e.data.previousStatus, e.data.status, e.data.recordedBy]);
    expect(recorded).toEqual([
      ['PLANNED', 'IN_PROGRESS', controlOwner.sub],
      ['IN_PROGRESS', 'IMPLEMENTED', controlOwner.sub],
      ['IMPLEMENTED', 'VERIFIED', users.committee.sub],
    ]);
  }, TIMEOUT);

  it('cites an uploaded evidence file: its id and SHA-256 are recorded with the progress', async () => {
    const { riskId, controlIds } = await riskWithControls([{ title: 'Penetration test', dueDate: japanDay(30) }]);
    const body = 'Penetration test report: no critical finding';
    const upload = await fetch(`${t.url}/evidence`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await t.token(controlOwner)}`, 'content-type': 'text/plain', 'x-filename': 'pentest.txt' },
      body,
    });
    expect(upload.status).toBe(201);
    const file = (await upload.json()) as { id: string; sha256: string };
    const { createHash } = await import('node:crypto');
    expect(file.sha256).toBe(createHash('sha256').update(body).digest('hex'));

    await ok(PROGRESS, { riskId, controlId: controlIds[0], status: 'IMPLEMENTED', note: 'Report attached', evidenceIds: [file.id] }, controlOwner);
    const recorded = (await history(riskId)).filter((e) => e.type === 'ControlProgressRecorded');
    expect(recorded.map((e) => e.data.evidence)).toEqual([[{ evidenceId: file.id, sha256: file.sha256 }]]);
  }, TIMEOUT);

  it('a control decided again keeps its progress', async () => {
    const { riskId, controlIds } = await riskWithControls([{ title: 'Key ceremony', dueDate: japanDay(20) }]);
    await ok(PROGRESS, { riskId, controlId: controlIds[0], status: 'IN_PROGRESS', progressPercent: 25 }, controlOwner);
    const redecided = await ok(`mutation($input: DecideControlsInput!) { decideControls(input: $input) { controls { ${CONTROL_FIELDS} } } }`, {
      riskId,
      controls: [
        { existingControlId: controlIds[0], title: 'Key ceremony (witnessed)', description: 'd', ownerId: controlOwner.sub, dueDate: japanDay(40), reason: 'r' },
        { title: 'HSM', description: 'd', ownerId: controlOwner.sub, dueDate: japanDay(40), reason: 'r' },
      ],
    }, users.committee);
    expect(redecided.decideControls.controls).toMatchObject([
      { id: controlIds[0], title: 'Key ceremony (witnessed)', status: 'IN_PROGRESS', progressPercent: 25 },
      { title: 'HSM', status: 'PLANNED', progressPercent: 0 },
    ]);
  }, TIMEOUT);

  it('a commandId used again for progress on another control of the same risk is refused, and its retry on the same control answers the first (the command names its subject)', async () => {
    const { riskId, controlIds } = await riskWithControls([{ title: 'Wallet sweep', dueDate: japanDay(20) }, { title: 'Withdrawal limits', dueDate: japanDay(20) }]);
    const first = (await ok(PROGRESS, { riskId, controlId: controlIds[0], status: 'IN_PROGRESS', progressPercent: 10, commandId: 'progress-key' }, controlOwner)).recordControlProgress;
    // Before, this answered the first control's result and recorded nothing for the second.
    const other = errorOf(await gql(PROGRESS, { riskId, controlId: controlIds[1], status: 'IN_PROGRESS', progressPercent: 60, commandId: 'progress-key' }, controlOwner));
    expect(other.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/another entity/) } });
    expect((await ok(PROGRESS, { riskId, controlId: controlIds[0], status: 'IN_PROGRESS', progressPercent: 10, commandId: 'progress-key' }, controlOwner)).recordControlProgress).toEqual(first);
    const recorded = (await history(riskId)).filter((e) => e.type === 'ControlProgressRecorded');
    expect(recorded.map((e) => e.data.controlId)).toEqual([controlIds[0]]);
    const { history: metadata } = await t.ok(`query($id: ID!) { history(id: $id) { type metadata { commandId commandType commandSubject } } }`, { id: riskId }, users.auditor);
    expect(metadata.filter((e: { type: string }) => e.type === 'ControlProgressRecorded')).toEqual([
      { type: 'ControlProgressRecorded', metadata: { commandId: 'progress-key', commandType: 'RecordControlProgress', commandSubject: controlIds[0] } },
    ]);
  }, TIMEOUT);

  it('an overdue control appears in overdueControls and on the risk; asOf before its due date shows it not overdue; the watch records ControlBecameOverdue once', async () => {
    const dueDate = japanDay(1);
    const { riskId, controlIds } = await riskWithControls([
      { title: 'Withdrawal velocity limits', dueDate },
      { title: 'Multi-signature withdrawals', dueDate },
    ]);
    const [late, done] = controlIds as [string, string];
    await ok(PROGRESS, { riskId, controlId: done, status: 'IMPLEMENTED' }, controlOwner);
    const beforeDue = new Date();
    const overdueNow = async (asOf?: string) => ((await t.ok(OVERDUE, { asOf: asOf ?? null }, users.auditor)).overdueControls as any[]).filter((c) => c.riskId === riskId);
    expect(await overdueNow()).toEqual([]);

    // Three days pass.
    clock().advanceBy(3 * DAY);
    expect(await overdueNow()).toEqual([{ riskId, controlId: late, title: 'Withdrawal velocity limits', ownerId: controlOwner.sub, dueDate, status: 'PLANNED' }]);
    const current = (await t.ok(RISK, { id: riskId }, users.auditor)).risk;
    expect(current.controls.map((c: any) => [c.id, c.overdue])).toEqual([
      [late, true],
      [done, false],
    ]);
    // As of before the due date: not overdue, in the list and on the risk.
    expect(await overdueNow(beforeDue.toISOString())).toEqual([]);
    const past = (await t.ok(RISK, { id: riskId, asOf: beforeDue.toISOString() }, users.auditor)).risk;
    expect(past.controls.map((c: any) => c.overdue)).toEqual([false, false]);
    // A later instant asked for now reads the controls as they stand.
    expect(await overdueNow(new Date(Date.now() + 10 * DAY).toISOString())).toHaveLength(1);
    // An instant past the machine's clock but before the server's (set three days ahead) reads the
    // register as it stood then, at once: nothing waits for that instant to come.
    const started = Date.now();
    expect(await overdueNow(new Date(Date.now() + 2.5 * DAY).toISOString())).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(DAY / 2);

    // The watch (every 200 ms here) records it; more passes add nothing.
    const overdueEvents = async () => (await history(riskId)).filter((e) => e.type === 'ControlBecameOverdue');
    for (let i = 0; i < 200 && (await overdueEvents()).length === 0; i++) await sleep(50);
    const watch = t.app.get(DeadlineWatch);
    await watch.check();
    await watch.check();
    expect((await overdueEvents()).map((e) => e.data)).toEqual([{ riskId, controlId: late, title: 'Withdrawal velocity limits', ownerId: controlOwner.sub, dueDate }]);

    // Done late: no longer overdue.
    await ok(PROGRESS, { riskId, controlId: late, status: 'IMPLEMENTED' }, controlOwner);
    expect(await overdueNow()).toEqual([]);
  }, TIMEOUT);

  it('recordReview with controls not in place is a finding whatever the level (Art.12(3)); a review falling due is recorded once (RiskReviewBecameDue)', async () => {
    // Retained LOW (informal 1 x 1): reviewed every 365 days.
    const risk = await ok(`mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }`,
      { title: `Retained risk ${++n}`, assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: users.riskOwner.sub }, users.riskOwner);
    const riskId = risk.identifyRisk.id as string;
    await ok(`mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id } }`,
      { riskId, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert: 'CISO office', rationale: 'minor' } }, users.riskOwner);
    expect((await ok(`mutation($input: RiskRefInput!) { evaluateRisk(input: $input) { status } }`, { riskId }, users.committee)).evaluateRisk.status).toBe('RETAINED');

    const dueEvents = async () => (await history(riskId)).filter((e) => e.type === 'RiskReviewBecameDue');
    const watch = t.app.get(DeadlineWatch);
    await watch.check();
    expect(await dueEvents()).toEqual([]);
    clock().advanceBy(366 * DAY);
    await watch.check();
    await watch.check();
    const due = await dueEvents();
    expect(due).toHaveLength(1);
    expect(due[0]!.data).toEqual({ riskId, dueOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), ownerId: users.riskOwner.sub });

    const reviewed = (await ok(`mutation($input: RecordReviewInput!) { recordReview(input: $input) { status cycle } }`,
      { riskId, controlsInPlace: false, actualLikelihood: 1, actualImpact: 1, notes: 'the control log was not kept' }, users.riskOwner)).recordReview;
    expect(reviewed).toMatchObject({ status: 'IDENTIFIED', cycle: 2 });
    const review = (await history(riskId)).find((e) => e.type === 'RiskReviewed');
    expect(review?.data).toMatchObject({ controlsInPlace: false, finding: true, actualLevel: 'LOW', targetLevel: 'LOW' });
    expect((await history(riskId)).map((e) => e.type)).toContain('RiskReassessmentOpened');
  }, TIMEOUT);

  it('one commandId sent by 16 requests at once, 8 for each of two controls: one part records it once, every request for the other is refused (the key names its subject)', async () => {
    const { riskId, controlIds } = await riskWithControls([{ title: 'Raced key A', dueDate: japanDay(30) }, { title: 'Raced key B', dueDate: japanDay(30) }]);
    const token = await t.token(controlOwner);
    const input = (controlId: string) => ({ riskId, controlId, status: 'IN_PROGRESS', progressPercent: 30, commandId: 'raced-progress-key' });
    const results: GraphQLResponse[] = await Promise.all(Array.from({ length: 16 }, (_, i) => t.gql(PROGRESS, { input: input(controlIds[i % 2]!) }, token)));
    const recorded = (await history(riskId)).filter((e) => e.type === 'ControlProgressRecorded');
    expect(recorded).toHaveLength(1);
    const winner = recorded[0]!.data.controlId as string;
    results.forEach((r, i) => {
      if (controlIds[i % 2] === winner) {
        expect(r.errors).toBeUndefined();
        expect(r.data?.recordControlProgress.controls.find((c: { id: string }) => c.id === winner)).toMatchObject({ status: 'IN_PROGRESS', progressPercent: 30 });
      } else {
        expect(errorOf(r).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { commandId: expect.stringMatching(/another entity/) } });
      }
    });
  }, TIMEOUT);

  it('16 clients recording progress on one control at once end in one consistent history', async () => {
    const { riskId, controlIds } = await riskWithControls([{ title: 'Contended control', dueDate: japanDay(30) }]);
    const controlId = controlIds[0]!;
    const attempts: [ControlStatus, TestUser, Record<string, unknown>][] = [];
    for (let i = 0; i < 4; i++) {
      attempts.push(['IN_PROGRESS', controlOwner, { progressPercent: 10 + i * 20 }]);
      attempts.push(['IMPLEMENTED', controlOwner, {}]);
      attempts.push(['CANCELLED', users.committee, { note: `cancelled by client ${i}` }]);
      attempts.push(['VERIFIED', i % 2 ? users.ciso : users.ciso2, {}]);
    }
    const tokens = await Promise.all(attempts.map(([, user]) => t.token(user)));
    const results: GraphQLResponse[] = await Promise.all(attempts.map(([status, , extra], i) => t.gql(PROGRESS, { input: { riskId, controlId, status, ...extra } }, tokens[i])));

    // Each client either succeeded or was refused in a typed way; never an internal error. An
    // IN_PROGRESS that arrives after IMPLEMENTED would reopen the control, which needs a note.
    for (const r of results) {
      const e = r.errors?.[0]?.extensions;
      if (!e) continue;
      if (e.code === 'BAD_USER_INPUT') expect(Object.keys(e.fields)).toEqual(['note']);
      else expect(e.code).toBe('RULE_VIOLATION');
    }
    const recorded = (await history(riskId)).filter((e) => e.type === 'ControlProgressRecorded').map((e) => e.data as { previousStatus: ControlStatus; status: ControlStatus });
    expect(recorded.length).toBeGreaterThan(0);
    let status: ControlStatus = 'PLANNED';
    for (const e of recorded) {
      expect(e.previousStatus).toBe(status);
      expect(FINAL_CONTROL_STATUSES).not.toContain(status);
      expect(CONTROL_TRANSITIONS[status]).toContain(e.status);
      status = e.status;
    }
    const final = (await t.ok(RISK, { id: riskId }, users.auditor)).risk.controls[0];
    expect(final.status).toBe(status);
    // Not both cancelled and implemented.
    const statuses = new Set(recorded.map((e) => e.status));
    expect(statuses.has('CANCELLED') && statuses.has('IMPLEMENTED')).toBe(false);

    // With the same expectedVersion, exactly one of 16 wins; the others are told it moved on.
    const { riskId: r2, controlIds: c2 } = await riskWithControls([{ title: 'Contended control 2', dueDate: japanDay(30) }]);
    const version = (await t.ok(RISK, { id: r2 }, users.auditor)).risk.version as number;
    const token = await t.token(controlOwner);
    const raced = await Promise.all(
      Array.from({ length: 16 }, (_, i) => t.gql(PROGRESS, { input: { riskId: r2, controlId: c2[0], status: 'IN_PROGRESS', progressPercent: i + 1, expectedVersion: version } }, token)),
    );
    expect(raced.filter((r) => !r.errors?.length)).toHaveLength(1);
    expect(raced.filter((r) => r.errors?.[0]?.extensions?.code === 'CONCURRENCY_CONFLICT')).toHaveLength(15);
    expect((await history(r2)).filter((e) => e.type === 'ControlProgressRecorded')).toHaveLength(1);
  }, TIMEOUT);
});
