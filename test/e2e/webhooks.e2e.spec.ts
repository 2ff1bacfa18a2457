import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { NOTICE_OF_EVENT } from '../../src/notifications/application/notice-mapping.js';
import { noticeId } from '../../src/notifications/domain/notice.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';
import { sharedPostgresStore, type SharedPostgresStore } from './support/shared-postgres.js';
import { ANALYSE, EVALUATE, assetWithThreat, identifyRisk, proposeAndApproveCriteria, todayInJapan } from './support/scenario.js';
import { TestApp, users, type TestUser } from './support/test-app.js';
import { CLOCK, type SystemClock } from '../../src/shared/application/clock.js';
import { DeadlineWatch } from '../../src/risk-register/application/deadline-watch.js';

const JWT_SECRET = 'webhooks-e2e-jwt-secret-0123456789abcdef';
const WEBHOOK_SECRET = 'webhooks-e2e-hmac-secret-0123456789abcdef';

interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: { type: string; id: string; occurredAt: string; data: Record<string, any> };
  /** What the receiver answered. */
  status: number;
}

/**
 * A webhook receiver on loopback, as an integrator would write it: it checks the signature over
 * the raw body, and answers 204, or 500 while `failing`. `stop()` closes the port (the server then
 * meets connection refused); `start()` opens the same port again.
 */
class Receiver {
  failing = false;
  readonly requests: Received[] = [];
  private server?: Server;

  private constructor(readonly port: number) {}

  static async onFreePort(): Promise<Receiver> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    return new Receiver(port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/risk-ledger`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const status = this.failing ? 500 : 204;
        this.requests.push({ headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')), status });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 500 ? 'receiver failing' : undefined);
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  accepted(): Received[] {
    return this.requests.filter((r) => r.status === 204);
  }

  /** Ids in the order they first arrived, consecutive repeats (retries) collapsed. */
  arrivalOrder(from = 0): string[] {
    const ids: string[] = [];
    for (const r of this.requests.slice(from)) if (ids.at(-1) !== r.body.id) ids.push(r.body.id);
    return ids;
  }
}

/** The receiver's check, as the README shows it. */
function validSignature(raw: Buffer, header: string | string[] | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', WEBHOOK_SECRET).update(raw).digest('hex')}`);
  const given = Buffer.from(String(header ?? ''));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The server's JSON log lines. */
function logLines(server: ServerProcess): Record<string, unknown>[] {
  return server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

/** The server's /metrics samples without a timestamp, by name and labels as exposed. */
async function metricsOf(server: ServerProcess): Promise<Record<string, number>> {
  const text = await (await fetch(new URL('/metrics', server.url))).text();
  const samples: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) samples[m[1]!] = Number(m[2]);
  }
  return samples;
}

/** GraphQL against the server process, shaped like TestApp.ok so the shared scenario steps can drive it. */
function remote(server: () => ServerProcess): TestApp {
  const ok = async (query: string, variables: Record<string, unknown>, user: TestUser) => {
    const token = await signToken(JWT_SECRET, user);
    const response = await fetch(server().url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const result = (await response.json()) as { data?: any; errors?: unknown[] };
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data;
  };
  return { ok } as unknown as TestApp;
}

const CONTROL = { title: 'Move 95% of funds to cold storage', description: 'Sweep daily', ownerId: 'ops-lead', dueDate: '2099-03-31', reason: 'Limits what a hot-wallet compromise can take' };
const CONTROLS = `mutation($i: DecideControlsInput!) { decideControls(input: $i) { id status } }`;
const ACCEPT = `mutation($i: AcceptResidualRiskInput!) { acceptResidualRisk(input: $i) { status } }`;

describe('webhook notices from the real server process to a receiver on loopback', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  let receiver: Receiver;
  let env: Record<string, string>;
  const t = remote(() => server!);
  /** The notices expected so far, in log order, computed from the log itself. */
  const expectedNotices = async (): Promise<{ id: string; type: string; occurredAt: string }[]> => {
    const expected: { id: string; type: string; occurredAt: string }[] = [];
    for (let after: string | null = null; ; ) {
      const { events }: any = await t.ok(`query($after: String) { events(first: 500, after: $after) { edges { node { eventId type position metadata { occurredAt } } } pageInfo { hasNextPage endCursor } } }`, { after }, users.auditor);
      for (const { node } of events.edges) {
        const type = (NOTICE_OF_EVENT as Record<string, string>)[node.type];
        if (type) expected.push({ id: noticeId(type as never, node.eventId), type, occurredAt: node.metadata.occurredAt });
      }
      if (!events.pageInfo.hasNextPage) return expected;
      after = events.pageInfo.endCursor;
    }
  };
  const walk = { riskId: '', planId: '' };

  beforeAll(async () => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-webhooks-'));
    receiver = await Receiver.onFreePort();
    env = {
      SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET, NODE_ENV: 'test',
      WEBHOOK_URL: receiver.url, WEBHOOK_SECRET, WEBHOOK_RETRY_INITIAL_MS: '50', WEBHOOK_RETRY_MAX_MS: '400', WEBHOOK_TIMEOUT_MS: '3000',
    };
  }, 120_000);
  afterAll(async () => {
    if (server) await stopServer(server, 'SIGKILL');
    await receiver?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start with a WEBHOOK_URL that is not http(s), or without a long enough WEBHOOK_SECRET', async () => {
    const base = { SQLITE_PATH: join(dir, 'refused', 'events.sqlite'), DATA_DIR: join(dir, 'refused'), JWT_SECRET, NODE_ENV: 'test' };
    await expect(startServer({ ...base, WEBHOOK_URL: 'ftp://127.0.0.1/hooks', WEBHOOK_SECRET })).rejects.toThrow(/server exited with 1[\s\S]*configuration error: WEBHOOK_URL must be an http:\/\/ or https:\/\/ URL/);
    await expect(startServer({ ...base, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: 'short' })).rejects.toThrow(/configuration error: WEBHOOK_URL needs WEBHOOK_SECRET/);
  }, 90_000);

  it('POSTs signed notices of the right types, with their data, in log order', async () => {
    await receiver.start();
    server = await startServer(env);
    await proposeAndApproveCriteria(t);
    const asset = await assetWithThreat(t, 'Hot wallet', { c: 1, i: 1, a: 1 });
    const risk = await identifyRisk(t, asset);
    walk.riskId = risk.id;
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'keys online' } } }, users.riskOwner);
    await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee);
    await t.ok(`mutation($i: DecideTreatmentInput!) { decideTreatment(input: $i) { id } }`, { i: { riskId: risk.id, options: ['REDUCE'], rationale: 'cold storage', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
    await t.ok(CONTROLS, { i: { riskId: risk.id, controls: [CONTROL] } }, users.committee);
    const { draftPlan } = await t.ok(`mutation { draftPlan(input: { title: "FY2026 plan", period: "FY2026" }) { id } }`, {}, users.committee);
    walk.planId = draftPlan.id;
    await t.ok(`mutation($p: ID!, $r: ID!) { addRiskToPlan(input: { planId: $p, riskId: $r }) { id } }`, { p: draftPlan.id, r: risk.id }, users.committee);
    await t.ok(`mutation($p: ID!) { submitPlan(input: { planId: $p }) { id } }`, { p: draftPlan.id }, users.committee);
    await t.ok(`mutation($p: ID!, $d: String!) { recordBoardResolution(input: { planId: $p, resolutionNumber: "BR-1", meetingDate: $d, decision: APPROVED, minutesReference: "M-1" }) { id } }`, { p: draftPlan.id, d: todayInJapan() }, users.secretary);
    await t.ok(ACCEPT, { i: { planId: draftPlan.id, riskId: risk.id, statement: 'I accept LOW' } }, users.riskOwner);
    // A material change after consent: the consent is stale, and the owner is asked again.
    await t.ok(CONTROLS, { i: { riskId: risk.id, controls: [{ ...CONTROL, dueDate: '2099-06-30' }] } }, users.committee);

    const expected = await expectedNotices();
    expect(expected.map((n) => n.type)).toEqual(['PlanSubmitted', 'ConsentRequested', 'ConsentStale', 'ConsentRequested']);
    await until('the four notices', () => receiver.accepted().length >= expected.length);
    const got = receiver.requests;
    expect(got.map((r) => r.body.id)).toEqual(expected.map((n) => n.id));
    for (const [i, r] of got.entries()) {
      expect(validSignature(r.raw, r.headers['x-risk-ledger-signature'])).toBe(true);
      expect(r.headers).toMatchObject({ 'content-type': 'application/json', 'x-risk-ledger-event': r.body.type, 'x-risk-ledger-notice-id': r.body.id, 'x-risk-ledger-delivery-attempt': '1' });
      expect(Object.keys(r.body)).toEqual(['type', 'id', 'occurredAt', 'data']);
      expect(r.body.occurredAt).toBe(expected[i]!.occurredAt);
      expect(r.raw.toString('utf8')).not.toContain(WEBHOOK_SECRET);
      expect(r.raw.toString('utf8')).not.toContain(JWT_SECRET);
    }
    // A signature over other bytes does not verify.
    expect(validSignature(Buffer.from(got[0]!.raw.toString('utf8').replace('FY2026', 'FY2027')), got[0]!.headers['x-risk-ledger-signature'])).toBe(false);
    const [submitted, requested, stale, requestedAgain] = got.map((r) => r.body);
    expect(submitted!.data).toMatchObject({ planId: walk.planId, title: 'FY2026 plan', period: 'FY2026', revision: 1, submittedBy: users.committee.sub, risks: [{ riskId: risk.id, title: risk.title, ownerId: users.riskOwner.sub, residualLevel: 'LOW' }] });
    expect(requested!.data).toMatchObject({ riskId: risk.id, riskTitle: risk.title, ownerId: users.riskOwner.sub, planId: walk.planId, planTitle: 'FY2026 plan', residualLevel: 'LOW' });
    expect(stale!.data).toMatchObject({ riskId: risk.id, riskTitle: risk.title, ownerId: users.riskOwner.sub, planId: walk.planId, reason: 'CONTROLS_REVISED' });
    expect(requestedAgain!.data).toMatchObject({ riskId: risk.id, ownerId: users.riskOwner.sub, planId: walk.planId });
    expect(requestedAgain!.id).not.toBe(requested!.id);
  }, 120_000);

  it('keeps retrying while the receiver is down (connection refused), then answering 500, and redelivers every notice in order once it is back', async () => {
    const from = receiver.requests.length;
    const before = (await expectedNotices()).length;
    await receiver.stop();
    // Two more stale/renewed rounds: four notices while nobody listens. (A change voids a consent
    // only asked for as one given; the owner could not accept in between: the controls are no
    // longer those the board approved, PLAN_CONTENT_NOT_APPROVED.)
    for (const dueDate of ['2099-07-31', '2099-08-31']) {
      await t.ok(CONTROLS, { i: { riskId: walk.riskId, controls: [{ ...CONTROL, dueDate }] } }, users.committee);
    }
    const expected = (await expectedNotices()).slice(before);
    expect(expected.map((n) => n.type)).toEqual(['ConsentStale', 'ConsentRequested', 'ConsentStale', 'ConsentRequested']);
    await until('a refused delivery in the server log', () => logLines(server!).some((l) => l.msg === 'webhook delivery failed: retrying' && /ECONNREFUSED/.test(String(l.error))));

    // Operators see the failure in /metrics, not only in the log.
    const failing = await metricsOf(server!);
    expect(failing['risk_ledger_webhook_failing_seconds']).toBeGreaterThan(0);
    expect(failing['risk_ledger_webhook_delivery_attempts_total{outcome="failed"}']).toBeGreaterThanOrEqual(1);
    // And how far behind the notices are (a receiver failing now and then makes them fall behind
    // while no one notice fails for long: soak probe p9).
    expect(failing['risk_ledger_follower_lag_events{follower="webhooks"}']).toBeGreaterThan(0);
    expect(failing['risk_ledger_follower_lag_seconds{follower="webhooks"}']).toBeGreaterThan(0);
    const deliveredBefore = failing['risk_ledger_webhook_delivery_attempts_total{outcome="delivered"}']!;

    receiver.failing = true;
    await receiver.start();
    await until('two answers 500', () => receiver.requests.length - from >= 2);
    receiver.failing = false;
    await until('the four notices accepted', () => receiver.accepted().length - (from) >= expected.length);
    await until('the notices caught up with the log', async () => (await metricsOf(server!))['risk_ledger_follower_lag_events{follower="webhooks"}'] === 0);
    const recovered = await metricsOf(server!);
    expect(recovered['risk_ledger_webhook_failing_seconds']).toBe(0);
    expect(recovered['risk_ledger_follower_lag_seconds{follower="webhooks"}']).toBe(0);
    expect(recovered['risk_ledger_webhook_delivery_attempts_total{outcome="delivered"}']).toBe(deliveredBefore + expected.length);
    expect(recovered['risk_ledger_webhook_delivery_attempts_total{outcome="failed"}']).toBeGreaterThanOrEqual(failing['risk_ledger_webhook_delivery_attempts_total{outcome="failed"}']! + 2);

    const phase = receiver.requests.slice(from);
    expect(phase.filter((r) => r.status === 500).length).toBeGreaterThanOrEqual(2);
    // Nothing overtakes a notice being retried, nothing is lost.
    expect(receiver.arrivalOrder(from)).toEqual(expected.map((n) => n.id));
    expect(phase.filter((r) => r.status === 204).map((r) => r.body.id)).toEqual(expected.map((n) => n.id));
    for (const r of phase) expect(validSignature(r.raw, r.headers['x-risk-ledger-signature'])).toBe(true);
    // The first notice was retried: its attempts count up, under the same id and the same bytes.
    const retried = phase.filter((r) => r.body.id === expected[0]!.id);
    expect(retried.map((r) => Number(r.headers['x-risk-ledger-delivery-attempt']))).toEqual(retried.map((_, i) => Number(retried[0]!.headers['x-risk-ledger-delivery-attempt']) + i));
    expect(Number(retried[0]!.headers['x-risk-ledger-delivery-attempt'])).toBeGreaterThan(1);
    expect(new Set(retried.map((r) => r.raw.toString('base64'))).size).toBe(1);
    expect(logLines(server!).find((l) => l.msg === 'webhook notice delivered' && l.noticeId === expected[0]!.id)).toMatchObject({ component: 'webhooks', type: 'ConsentStale', failingSince: expect.any(String) });
  }, 120_000);

  it('loses nothing when the server is killed while notices are pending, and delivers them after a restart', async () => {
    const from = receiver.requests.length;
    const before = (await expectedNotices()).length;
    receiver.failing = true;
    // A second risk and plan: PlanSubmitted and ConsentRequested, then a stale/renewed round on the first risk.
    const asset = await assetWithThreat(t, 'Cold wallet', { c: 1, i: 1, a: 1 });
    const risk = await identifyRisk(t, asset, 'Loss of cold-wallet backups');
    await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'single copy' } } }, users.riskOwner);
    await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee);
    await t.ok(`mutation($i: DecideTreatmentInput!) { decideTreatment(input: $i) { id } }`, { i: { riskId: risk.id, options: ['REDUCE'], rationale: 'second site', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
    await t.ok(CONTROLS, { i: { riskId: risk.id, controls: [{ ...CONTROL, title: 'Second backup site' }] } }, users.committee);
    const { draftPlan } = await t.ok(`mutation { draftPlan(input: { title: "FY2026 supplementary plan", period: "FY2026" }) { id } }`, {}, users.committee);
    await t.ok(`mutation($p: ID!, $r: ID!) { addRiskToPlan(input: { planId: $p, riskId: $r }) { id } }`, { p: draftPlan.id, r: risk.id }, users.committee);
    await t.ok(`mutation($p: ID!) { submitPlan(input: { planId: $p }) { id } }`, { p: draftPlan.id }, users.committee);
    await t.ok(`mutation($p: ID!, $d: String!) { recordBoardResolution(input: { planId: $p, resolutionNumber: "BR-2", meetingDate: $d, decision: APPROVED, minutesReference: "M-2" }) { id } }`, { p: draftPlan.id, d: todayInJapan() }, users.secretary);
    await t.ok(CONTROLS, { i: { riskId: walk.riskId, controls: [{ ...CONTROL, dueDate: '2099-09-30' }] } }, users.committee);
    const expected = (await expectedNotices()).slice(before);
    expect(expected.map((n) => n.type)).toEqual(['PlanSubmitted', 'ConsentRequested', 'ConsentStale', 'ConsentRequested']);
    await until('the first pending notice refused at least once', () => receiver.requests.slice(from).some((r) => r.body.id === expected[0]!.id && r.status === 500));

    await stopServer(server!, 'SIGKILL');
    receiver.failing = false;
    server = await startServer(env);
    const accepted = () => new Set(receiver.requests.slice(from).filter((r) => r.status === 204).map((r) => r.body.id));
    await until('every pending notice after the restart', () => expected.every((n) => accepted().has(n.id)));
    // At least once, in log order: the first acceptance of each notice follows the log.
    const firstAcceptances: string[] = [];
    for (const r of receiver.requests.slice(from)) if (r.status === 204 && !firstAcceptances.includes(r.body.id)) firstAcceptances.push(r.body.id);
    expect(firstAcceptances).toEqual(expected.map((n) => n.id));
    for (const r of receiver.requests.slice(from)) expect(validSignature(r.raw, r.headers['x-risk-ledger-signature'])).toBe(true);
    expect(receiver.requests.slice(from).find((r) => r.status === 204)!.body.data).toMatchObject({ planId: draftPlan.id, title: 'FY2026 supplementary plan', risks: [{ riskId: risk.id }] });
    // Nothing from before the checkpoint is sent again: every notice of the earlier phases was acknowledged.
    const earlier = new Set((await expectedNotices()).slice(0, before).map((n) => n.id));
    expect(receiver.requests.slice(from).filter((r) => earlier.has(r.body.id))).toEqual([]);
  }, 120_000);

  it('sends no notice for an event forged into the log, and keeps the checkpoint before it (PostgreSQL probe F1, on the embedded store)', async () => {
    await until('every notice so far delivered', async () => {
      const accepted = new Set(receiver.accepted().map((r) => r.body.id));
      return (await expectedNotices()).every((n) => accepted.has(n.id));
    });
    const from = receiver.requests.length;
    // A copy of the last PlanSubmitted at the head, written by another connection: the hashes are
    // the original's, so the chain and the signatures fail there.
    const db = new Database(env.SQLITE_PATH!);
    db.pragma('busy_timeout = 5000');
    const row = db.prepare(`SELECT * FROM events WHERE type = 'PlanSubmitted' ORDER BY position DESC LIMIT 1`).get() as Record<string, unknown>;
    const head = (db.prepare('SELECT MAX(position) AS p FROM events').get() as { p: number }).p;
    const revision = (db.prepare('SELECT MAX(revision) AS r FROM events WHERE stream_id = ?').get(row.stream_id) as { r: number }).r;
    const forgedId = randomUUID();
    db.prepare('INSERT INTO events (position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at, prev_hash, hash, chain_hash, hash_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      head + 1, forgedId, row.stream_id, revision + 1, row.type, row.schema_version, row.data, row.metadata, new Date().toISOString(), row.hash, row.hash, row.chain_hash, row.hash_version,
    );
    db.close();
    await until('the server to hold its notices', () => logLines(server!).some((l) => l.msg === 'webhook notices hold: the log fails verification at or before this event; nothing from there on is sent, and the checkpoint stays before it'));
    expect(logLines(server!).some((l) => String(l.msg).startsWith('integrity: the event log fails verification'))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.requests.slice(from).map((r) => r.body.id)).not.toContain(noticeId('PlanSubmitted', forgedId));
    expect(receiver.requests.slice(from)).toEqual([]);
    // Nor does the checkpoint (webhooks, reactions) pass it: undone, the log resumes where it was.
    const checkpoints = new Database(join(dir, 'process-manager.sqlite'), { readonly: true });
    const saved = checkpoints.prepare('SELECT name, position FROM process_checkpoints').all() as { name: string; position: string }[];
    checkpoints.close();
    for (const { position } of saved) expect(Number(position)).toBeLessThan(head + 1);
  }, 60_000);
});

/**
 * The clock-driven notices: the deadline watch (src/risk-register) records ControlBecameOverdue and
 * RiskReviewBecameDue when time passes. A server process's clock cannot be moved, so this part runs
 * the application in the test process (real HTTP, a real SQLite file, the same loopback receiver)
 * and moves its clock forward, as the control follow-through test does.
 */
describe('clock-driven webhook notices (ControlOverdue, ReviewDue)', () => {
  const DAY = 86_400_000;
  let t: TestApp;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await Receiver.onFreePort();
    await receiver.start();
    Object.assign(process.env, { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET, WEBHOOK_RETRY_INITIAL_MS: '50', WEBHOOK_RETRY_MAX_MS: '400' });
    try {
      t = await TestApp.start();
    } finally {
      for (const name of ['WEBHOOK_URL', 'WEBHOOK_SECRET', 'WEBHOOK_RETRY_INITIAL_MS', 'WEBHOOK_RETRY_MAX_MS']) delete process.env[name];
    }
    await proposeAndApproveCriteria(t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  it('notifies a control that passed its due date and a review that fell due, signed, with their data', async () => {
    const clock = t.app.get<typeof CLOCK, SystemClock>(CLOCK);
    const japanDay = (days: number) => new Date(clock.now().getTime() + 9 * 3600_000 + days * DAY).toISOString().slice(0, 10);
    const asset = await assetWithThreat(t, 'Withdrawal service', { c: 1, i: 1, a: 1 });
    // A risk treated down to LOW with one control due tomorrow.
    const treated = await identifyRisk(t, asset, 'Unlimited withdrawals');
    await t.ok(ANALYSE, { input: { riskId: treated.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'no limits' } } }, users.riskOwner);
    await t.ok(EVALUATE, { input: { riskId: treated.id } }, users.committee);
    await t.ok(`mutation($i: DecideTreatmentInput!) { decideTreatment(input: $i) { id } }`, { i: { riskId: treated.id, options: ['REDUCE'], rationale: 'limits', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
    const dueDate = japanDay(1);
    const decided = (await t.ok(`mutation($i: DecideControlsInput!) { decideControls(input: $i) { controls { id } } }`, { i: { riskId: treated.id, controls: [{ ...CONTROL, title: 'Withdrawal velocity limits', dueDate }] } }, users.committee)).decideControls;
    // A risk retained at LOW: reviewed every 365 days.
    const retained = await identifyRisk(t, asset, 'Minor outage of the status page');
    await t.ok(ANALYSE, { input: { riskId: retained.id, method: 'INFORMAL', informal: { likelihood: 1, impact: 1, expert: 'CISO office', rationale: 'minor' } } }, users.riskOwner);
    expect((await t.ok(EVALUATE, { input: { riskId: retained.id } }, users.committee)).evaluateRisk.status).toBe('RETAINED');

    const watch = t.app.get(DeadlineWatch);
    clock.advanceBy(3 * DAY);
    await watch.check();
    clock.advanceBy(366 * DAY);
    await watch.check();

    const { events }: any = await t.ok(`{ events(first: 500) { edges { node { eventId type metadata { occurredAt } } } } }`, {}, users.auditor);
    const expected = events.edges
      .map((e: any) => e.node)
      .filter((n: any) => n.type === 'ControlBecameOverdue' || n.type === 'RiskReviewBecameDue')
      .map((n: any) => {
        const type = (NOTICE_OF_EVENT as Record<string, string>)[n.type]!;
        return { id: noticeId(type as never, n.eventId), type, occurredAt: n.metadata.occurredAt };
      });
    expect(expected.map((n: any) => n.type)).toEqual(['ControlOverdue', 'ReviewDue']);
    await until('the clock-driven notices', () => expected.every((n: any) => receiver.accepted().some((r) => r.body.id === n.id)));
    const [overdue, due] = expected.map((n: any) => receiver.accepted().find((r) => r.body.id === n.id)!);
    for (const [i, r] of [overdue!, due!].entries()) {
      expect(validSignature(r.raw, r.headers['x-risk-ledger-signature'])).toBe(true);
      expect(r.headers['x-risk-ledger-event']).toBe(r.body.type);
      expect(r.body.occurredAt).toBe(expected[i].occurredAt);
    }
    expect(overdue!.body).toMatchObject({
      type: 'ControlOverdue',
      data: { riskId: treated.id, riskTitle: 'Unlimited withdrawals', riskOwnerId: users.riskOwner.sub, controlId: decided.controls[0].id, title: 'Withdrawal velocity limits', ownerId: CONTROL.ownerId, dueDate },
    });
    expect(due!.body).toMatchObject({
      type: 'ReviewDue',
      data: { riskId: retained.id, riskTitle: 'Minor outage of the status page', ownerId: users.riskOwner.sub, dueOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), level: 'LOW', status: 'RETAINED' },
    });
  }, 60_000);

  it('says what the register says: ReviewDue the level that set its due date, ConsentStale the owner whose consent went stale (probe p14 M3, L6)', async () => {
    const clock = t.app.get<typeof CLOCK, SystemClock>(CLOCK);
    const today = () => new Date(clock.now().getTime() + 9 * 3600_000).toISOString().slice(0, 10);
    const asset = await assetWithThreat(t, 'Signing service', { c: 1, i: 1, a: 1 });
    // Analysed HIGH (3 x 3), accepted at the target LOW (1 x 1).
    const risk = await identifyRisk(t, asset, 'Forged withdrawal signatures');
    expect((await t.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'one key' } } }, users.riskOwner)).analyseRisk.level).toBe('HIGH');
    await t.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee);
    await t.ok(`mutation($i: DecideTreatmentInput!) { decideTreatment(input: $i) { id } }`, { i: { riskId: risk.id, options: ['REDUCE'], rationale: 'multisig', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
    await t.ok(CONTROLS, { i: { riskId: risk.id, controls: [{ ...CONTROL, title: 'Two-of-three signing' }] } }, users.committee);
    const { draftPlan } = await t.ok(`mutation { draftPlan(input: { title: "Signing plan", period: "FY2027" }) { id } }`, {}, users.committee);
    await t.ok(`mutation($p: ID!, $r: ID!) { addRiskToPlan(input: { planId: $p, riskId: $r }) { id } }`, { p: draftPlan.id, r: risk.id }, users.committee);
    await t.ok(`mutation($p: ID!) { submitPlan(input: { planId: $p }) { id } }`, { p: draftPlan.id }, users.committee);
    await t.ok(`mutation($p: ID!, $d: String!) { recordBoardResolution(input: { planId: $p, resolutionNumber: "BR-9", meetingDate: $d, decision: APPROVED, minutesReference: "M-9" }) { id } }`, { p: draftPlan.id, d: today() }, users.secretary);
    await t.ok(ACCEPT, { i: { planId: draftPlan.id, riskId: risk.id, statement: 'I accept LOW' } }, users.riskOwner);
    // Handed to another owner: the first owner's consent goes stale, the new owner is asked and accepts.
    await t.ok(`mutation($i: ReassignRiskOwnerInput!) { reassignRiskOwner(input: $i) { ownerId } }`, { i: { riskId: risk.id, ownerId: users.otherOwner.sub } }, users.ciso);
    await t.ok(ACCEPT, { i: { planId: draftPlan.id, riskId: risk.id, statement: 'I accept LOW too' } }, users.otherOwner);

    clock.advanceBy(366 * DAY);
    await t.app.get(DeadlineWatch).check();
    const { risksDueForReview } = await t.ok(`query($at: DateTime) { risksDueForReview(asOf: $at) { dueOn level intervalDays risk { id level } } }`, { at: clock.now().toISOString() }, users.auditor);
    const listed = risksDueForReview.find((d: any) => d.risk.id === risk.id);
    expect(listed).toMatchObject({ level: 'LOW', intervalDays: 365, risk: { level: 'HIGH' } });

    const { events }: any = await t.ok(`{ events(first: 500) { edges { node { eventId type streamId } } } }`, {}, users.auditor);
    const ofRisk = (type: string) => events.edges.map((e: any) => e.node).filter((n: any) => n.type === type && n.streamId.endsWith(risk.id));
    const [invalidated] = ofRisk('ResidualConsentInvalidated');
    const [due] = ofRisk('RiskReviewBecameDue');
    const ids = [noticeId('ConsentStale', invalidated.eventId), noticeId('ReviewDue', due.eventId)];
    await until('the stale consent and review due notices', () => ids.every((id) => receiver.accepted().some((r) => r.body.id === id)));
    const [stale, reviewDue] = ids.map((id) => receiver.accepted().find((r) => r.body.id === id)!.body);
    expect(stale!.data).toMatchObject({ riskId: risk.id, ownerId: users.riskOwner.sub, planId: draftPlan.id, reason: 'OWNER_REASSIGNED' });
    expect(reviewDue!.data).toMatchObject({ riskId: risk.id, ownerId: users.otherOwner.sub, dueOn: listed.dueOn, level: listed.level, status: 'ACCEPTED' });
  }, 60_000);
});

/**
 * Two server processes on one PostgreSQL store: one of them delivers (the `webhooks` advisory
 * lock), so each notice arrives once; when it is killed while a notice is pending, the other takes
 * over from the shared checkpoint and delivers it.
 */
describe('webhook notices with two instances on one PostgreSQL store', () => {
  let store: SharedPostgresStore | undefined;
  let receiver: Receiver;
  const servers: Record<'a' | 'b', ServerProcess | undefined> = { a: undefined, b: undefined };
  const leadLine = 'webhook notices are delivered from this instance';
  const leads = (server: ServerProcess) => logLines(server).filter((l) => l.msg === leadLine).length;

  beforeAll(async () => {
    buildOnce();
    store = await sharedPostgresStore('rl_webhooks');
    receiver = await Receiver.onFreePort();
    await receiver.start();
    const env = (name: string) => store!.env(name, { JWT_SECRET, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET, WEBHOOK_RETRY_INITIAL_MS: '50', WEBHOOK_RETRY_MAX_MS: '400' });
    servers.a = await startServer(env('a'));
    servers.b = await startServer(env('b'));
  }, 120_000);
  afterAll(async () => {
    for (const server of Object.values(servers)) if (server) await stopServer(server, 'SIGKILL');
    await receiver?.stop();
    await store?.stop();
  });

  it('delivers each notice once from the instance holding the lead, and the other takes over when it dies', async () => {
    const [a, b] = [remote(() => servers.a!), remote(() => servers.b!)];
    await proposeAndApproveCriteria(a);
    const asset = await assetWithThreat(b, 'Hot wallet', { c: 1, i: 1, a: 1 });
    const risk = await identifyRisk(a, asset);
    await b.ok(ANALYSE, { input: { riskId: risk.id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'keys online' } } }, users.riskOwner);
    await a.ok(EVALUATE, { input: { riskId: risk.id } }, users.committee);
    await b.ok(`mutation($i: DecideTreatmentInput!) { decideTreatment(input: $i) { id } }`, { i: { riskId: risk.id, options: ['REDUCE'], rationale: 'cold storage', targetLikelihood: 1, targetImpact: 1 } }, users.committee);
    await a.ok(CONTROLS, { i: { riskId: risk.id, controls: [CONTROL] } }, users.committee);
    const { draftPlan } = await b.ok(`mutation { draftPlan(input: { title: "FY2026 plan", period: "FY2026" }) { id } }`, {}, users.committee);
    await a.ok(`mutation($p: ID!, $r: ID!) { addRiskToPlan(input: { planId: $p, riskId: $r }) { id } }`, { p: draftPlan.id, r: risk.id }, users.committee);
    await b.ok(`mutation($p: ID!) { submitPlan(input: { planId: $p }) { id } }`, { p: draftPlan.id }, users.committee);
    await a.ok(`mutation($p: ID!, $d: String!) { recordBoardResolution(input: { planId: $p, resolutionNumber: "BR-1", meetingDate: $d, decision: APPROVED, minutesReference: "M-1" }) { id } }`, { p: draftPlan.id, d: todayInJapan() }, users.secretary);

    const expectedOf = async (app: TestApp) => {
      const { events }: any = await app.ok(`{ events(first: 500) { edges { node { eventId type } } } }`, {}, users.auditor);
      return events.edges
        .map((e: any) => e.node)
        .filter((n: any) => (NOTICE_OF_EVENT as Record<string, string>)[n.type])
        .map((n: any) => noticeId((NOTICE_OF_EVENT as Record<string, string>)[n.type] as never, n.eventId)) as string[];
    };
    const first = await expectedOf(a);
    expect(first).toHaveLength(2);
    await until('PlanSubmitted and ConsentRequested', () => first.every((id) => receiver.accepted().some((r) => r.body.id === id)));
    // One instance delivers: had both, every notice would have come twice.
    expect(receiver.requests.map((r) => r.body.id)).toEqual(first);
    expect([leads(servers.a!), leads(servers.b!)].sort()).toEqual([0, 1]);
    const leader = leads(servers.a!) === 1 ? 'a' : 'b';
    const other = leader === 'a' ? 'b' : 'a';
    // Only the instance that delivers reports the notices' lag (the other's checkpoint of them is stale).
    const wh = 'risk_ledger_follower_lag_events{follower="webhooks"}';
    expect([wh in (await metricsOf(servers[leader]!)), wh in (await metricsOf(servers[other]!))]).toEqual([true, false]);
    // Likewise the reactions: one instance runs them.
    const re = 'risk_ledger_follower_lag_events{follower="reactions"}';
    expect([re in (await metricsOf(servers.a!)), re in (await metricsOf(servers.b!))].filter(Boolean)).toHaveLength(1);

    // The receiver fails; the owner accepts, then a revision makes the consent stale: the leader retries…
    receiver.failing = true;
    const from = receiver.requests.length;
    const survivor = leader === 'a' ? b : a;
    await survivor.ok(ACCEPT, { i: { planId: draftPlan.id, riskId: risk.id, statement: 'I accept LOW' } }, users.riskOwner);
    await survivor.ok(CONTROLS, { i: { riskId: risk.id, controls: [{ ...CONTROL, dueDate: '2099-06-30' }] } }, users.committee);
    const pending = (await expectedOf(survivor)).slice(first.length);
    expect(pending).toHaveLength(2);
    await until('the leader to retry the stale notice', () => receiver.requests.slice(from).some((r) => r.body.id === pending[0] && r.status === 500));
    // …and dies. The other instance takes the lead and delivers from the shared checkpoint.
    await stopServer(servers[leader]!, 'SIGKILL');
    servers[leader] = undefined;
    receiver.failing = false;
    await until('the other instance to deliver the pending notices', () => pending.every((id) => receiver.accepted().some((r) => r.body.id === id)), 30_000);
    expect(leads(servers[other]!)).toBe(1);
    const acceptedIds = receiver.accepted().map((r) => r.body.id);
    expect([...new Set(acceptedIds)]).toEqual([...first, ...pending]);
    for (const r of receiver.requests) expect(validSignature(r.raw, r.headers['x-risk-ledger-signature'])).toBe(true);
  }, 120_000);
});
