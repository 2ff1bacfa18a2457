import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { AccessLogStore } from '../../src/audit/application/access-log.js';
import { inFlight } from '../../src/audit/application/access-log-crosscheck.js';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { loadSigningKeys } from '../../src/event-store/signing.js';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { eventually } from '../support/eventually.js';
import { holdSqliteLock, type HeldSqliteLock } from '../support/sqlite-lock.js';
import { fcParams } from '../concurrency/support.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';

const SECRET = 'access-log-fails-in-flight-secret-0123456789ab';
const CLIENTS = 16;
const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`;
const REASSIGN = `mutation($i: ReassignAssetManagerInput!) { reassignAssetManager(input: $i) { id } }`;
const asset = (name: string) => ({ name, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 2, integrity: 2, availability: 2 });
const FULL_DISK = `CREATE TRIGGER full_disk BEFORE INSERT ON access_log BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`;

/** What a client sends: a new asset, a name the other 'dup' clients race for, or a new manager for the one asset all 'reassign' clients share. */
type Kind = 'new' | 'dup' | 'reassign';

interface Answer {
  client: number;
  kind: Kind;
  requestId: string;
  name: string | null;
  /** Ticks of one counter that the controller's steps also take: an order, never a duration. */
  sentAt: number;
  answeredAt: number;
  ok: boolean;
  code: string | null;
  rule: string | null;
  message: string | null;
}

/** The controller's steps, as ticks of the clients' counter. */
type Marks = Record<'lockTaken' | 'triggerCreated' | 'failingSeen' | 'lockReleased' | 'triggerDropped' | 'recovered', number>;

interface Plan {
  kinds: Kind[];
  delays: number[];
  acksBefore: number;
  refusals: number;
  acksAfter: number;
}

const planArb: fc.Arbitrary<Plan> = fc
  .record({
    kinds: fc.array(fc.constantFrom<Kind>('new', 'dup', 'reassign'), { minLength: CLIENTS, maxLength: CLIENTS }),
    delays: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: CLIENTS, maxLength: CLIENTS }),
    acksBefore: fc.integer({ min: 1, max: 24 }),
    refusals: fc.integer({ min: 1, max: 16 }),
    acksAfter: fc.integer({ min: 1, max: 16 }),
  })
  // Both new streams and a contended one, in every run.
  .map((p) => ({ ...p, kinds: ['new', 'reassign', ...p.kinds.slice(2)] as Kind[] }));

/**
 * The access log's fail-closed rule (access-log-backlog.ts, operations probe 10-c M4) with 16
 * clients in flight together: while its writes fail, mutations are refused STORE_UNAVAILABLE before
 * they change anything, and those already past the gate when the first write failed are answered
 * and their entries written once the log can be written again. Each fast-check run: 16 clients
 * loop on mutations (new assets, raced names, reassignments of one shared asset); after some are
 * answered, another process holds the event store's lock so that every client's mutation waits at
 * the store, past the gate; the access log is made unwritable (the full-disk trigger of
 * access-log-unwritable.e2e.spec.ts) and a read's entry makes its batch fail; the store's lock is
 * released (the held mutations commit while the log fails), the clients go on and are refused;
 * then the log is made writable again and the clients are answered again. Over every answer:
 * nothing but OK, STORE_UNAVAILABLE or a raced name's ASSET_NAME_TAKEN; each answered OK has its
 * events and its access-log entry (also those held across the failure), each refused appended
 * nothing; names stay unique; verifyAccessLog is ok. At the end the server is stopped and the
 * cross-check (changesWithoutAccessEntry) runs over both files with no in-flight allowance: no
 * change without its entry. Ordering only, never a duration.
 */
describe('16 clients in flight while the access log fails and recovers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-access-log-in-flight-'));
  const accessLogPath = join(dir, 'access-log.sqlite');
  let server: ServerProcess;
  let manager: string;
  let auditor: string;
  let run = 0;
  /** Answers over all runs (each has its access-log entry). */
  let answered = 0;
  /** The controller's steps with their wall-clock times, for the failure message only (nothing is asserted on them). */
  const steps: string[] = [];

  const post = async (token: string, query: string, variables: Record<string, unknown>, requestId = `ctl-${randomUUID()}`): Promise<any> =>
    (await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': requestId }, body: JSON.stringify({ query, variables }) })).json();
  const health = async (): Promise<any> => (await fetch(server.url.replace(/\/graphql$/, '/health'), { headers: { authorization: `Bearer ${auditor}` } })).json();

  beforeAll(async () => {
    buildOnce();
    server = await startServer({ EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, NODE_ENV: 'test' });
    manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
  }, 180_000);

  afterAll(async () => {
    if (server) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers OK only what it can record, refuses the rest STORE_UNAVAILABLE with nothing appended, and loses no entry', async () => {
    try {
      await fc.assert(fc.asyncProperty(planArb, scenario), fcParams(Number(process.env.CONCURRENCY_RUNS ?? 3)));
    } catch (error) {
      const cause = (error as Error).cause as Error | undefined;
      throw new Error(`${(error as Error).message}\n${cause?.stack ?? ''}\n--- steps: ${steps.join(', ')}\n--- server output (exit ${server.child.exitCode ?? server.child.signalCode}):\n${server.output().slice(-3000)}`);
    }
  }, 240_000);

  it('after a clean stop, the cross-check over both files finds no change without its entry (no in-flight allowance)', async () => {
    await stopServer(server);
    const saved = inFlight.ms;
    inFlight.ms = 0;
    const events = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
    await events.init();
    const log = await AccessLogStore.open(accessLogPath, { signing: loadSigningKeys(join(dir, 'signing-key.pem')), events });
    try {
      const verified = await log.verify();
      expect(verified).toMatchObject({ ok: true, reason: null });
      expect(verified.acknowledged ?? null).toBeNull();
      expect(verified.entriesChecked).toBeGreaterThanOrEqual(answered);
    } finally {
      log.close();
      await events.close();
      inFlight.ms = saved;
    }
  }, 60_000);

  async function scenario(plan: Plan): Promise<void> {
    const r = ++run;
    steps.push(`run ${r} start ${new Date().toISOString().slice(17, 23)}`);
    const shared = (await post(manager, REGISTER, { i: asset(`run-${r}-shared`) })).data.registerAsset.id as string;
    let tick = 0;
    const marks: Marks = {
      lockTaken: Infinity, triggerCreated: Infinity, failingSeen: Infinity, lockReleased: Infinity, triggerDropped: Infinity, recovered: Infinity,
    };
    const answers: Answer[] = [];
    /** Each client's request on its way: when it was sent (null: none). */
    const outstanding: (number | null)[] = Array(CLIENTS).fill(null);
    let stop = false;

    async function client(c: number): Promise<void> {
      const kind = plan.kinds[c]!;
      for (let n = 0; !stop; n++) {
        const requestId = `run-${r}-c${c}-${n}-${randomUUID()}`;
        const name = kind === 'new' ? `run-${r}-c${c}-${n}` : kind === 'dup' ? `run-${r}-dup-${n}` : null;
        const [query, input] = kind === 'reassign' ? [REASSIGN, { assetId: shared, managerId: `mgr-${r}-${c}-${n}` }] : [REGISTER, asset(name!)];
        const sentAt = (outstanding[c] = ++tick);
        let body: any;
        try {
          body = await post(manager, query, { i: input }, requestId);
        } catch (error) {
          body = { errors: [{ message: (error as Error).message, extensions: { code: 'TRANSPORT' } }] };
        }
        outstanding[c] = null;
        const error = body.errors?.[0];
        const ok = !error && body.data != null;
        answers.push({ client: c, kind, requestId, name, sentAt, answeredAt: ++tick, ok, code: ok ? null : error?.extensions?.code ?? '?', rule: error?.extensions?.rule ?? null, message: error?.message ?? null });
        if (plan.delays[c]) await new Promise((resolve) => setTimeout(resolve, plan.delays[c]));
      }
    }

    const acked = (from: number) => answers.filter((a) => a.ok && a.sentAt > from).length;
    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
    let lock: HeldSqliteLock | undefined;
    let other: Database.Database | undefined;
    try {
      await eventually(`${plan.acksBefore} mutations answered OK`, () => acked(0) >= plan.acksBefore);
      // Every client's next mutation waits at the store (past the gate: the access log is writable).
      lock = await holdSqliteLock(join(dir, 'events.sqlite'));
      marks.lockTaken = ++tick;
      steps.push(`run ${r} lockTaken ${new Date().toISOString().slice(17, 23)}`);
      // Every client has a mutation on its way: none can be answered before the lock is released
      // (each waits at the store, past the gate, or will be refused at the gate once the log fails).
      await eventually('every client to have a mutation on its way with the store locked', () => outstanding.every((s) => s !== null));

      other = new Database(accessLogPath);
      other.exec(FULL_DISK);
      marks.triggerCreated = ++tick;
      steps.push(`run ${r} triggerCreated ${new Date().toISOString().slice(17, 23)}`);
      // A read's entry is the first batch that fails.
      await eventually('the access log to report failing writes', async () => {
        await post(auditor, '{ assets { totalCount } }', {});
        return (await health()).accessLog?.state === 'writes-failing';
      });
      marks.failingSeen = ++tick;
      steps.push(`run ${r} failingSeen ${new Date().toISOString().slice(17, 23)}`);

      await lock.release();
      lock = undefined;
      marks.lockReleased = ++tick;
      steps.push(`run ${r} lockReleased ${new Date().toISOString().slice(17, 23)}`);
      // Answered, whatever the answer (check() says which it must be).
      await eventually(`${plan.refusals} mutations sent while the access log fails to be answered`, () => answers.filter((a) => a.sentAt > marks.failingSeen).length >= plan.refusals);

      other.exec('DROP TRIGGER full_disk');
      other.close();
      other = undefined;
      marks.triggerDropped = ++tick;
      steps.push(`run ${r} triggerDropped ${new Date().toISOString().slice(17, 23)}`);
      await eventually('the access log to be written again', async () => (await health()).accessLog?.ok === true);
      marks.recovered = ++tick;
      steps.push(`run ${r} recovered ${new Date().toISOString().slice(17, 23)}`);
      await eventually(`${plan.acksAfter} mutations answered OK after the recovery`, () => acked(marks.recovered) >= plan.acksAfter);
    } finally {
      stop = true;
      await Promise.all(clients);
      await lock?.release();
      if (other) {
        other.exec('DROP TRIGGER IF EXISTS full_disk');
        other.close();
      }
    }
    steps.push(`run ${r} stopped ${new Date().toISOString().slice(17, 23)}`);
    await check(r, shared, answers, marks);
    steps.push(`run ${r} checked ${new Date().toISOString().slice(17, 23)}`);
  }

  async function check(r: number, shared: string, answers: Answer[], marks: Marks): Promise<void> {
    const show = (list: Answer[]) => list.slice(0, 5).map((a) => `${a.requestId} (${a.kind}, sent ${a.sentAt}, answered ${a.answeredAt}): ${a.ok ? 'OK' : `${a.code}/${a.rule} ${a.message}`}`);
    // No internal error, no lost connection, no conflict: OK, STORE_UNAVAILABLE, or a raced name taken.
    expect(show(answers.filter((a) => !a.ok && a.code !== 'STORE_UNAVAILABLE' && !(a.kind === 'dup' && a.rule === 'ASSET_NAME_TAKEN')))).toEqual([]);
    // The gate stays shut from the failure seen until the log can be written again.
    expect(show(answers.filter((a) => a.ok && a.sentAt > marks.failingSeen && a.answeredAt < marks.triggerDropped))).toEqual([]);

    const ok = answers.filter((a) => a.ok);
    const refused = answers.filter((a) => a.code === 'STORE_UNAVAILABLE');
    // Both phases, and the race between them: mutations sent before the log was made unwritable
    // (held at the store, past the gate) answered OK after it was seen failing; refusals after it.
    const phases = {
      okBefore: ok.filter((a) => a.answeredAt < marks.lockTaken).length,
      heldAcked: ok.filter((a) => a.sentAt < marks.triggerCreated && a.answeredAt > marks.failingSeen).length,
      refusedWhileFailing: refused.filter((a) => a.sentAt > marks.failingSeen && a.answeredAt < marks.triggerDropped).length,
      okAfter: ok.filter((a) => a.sentAt > marks.recovered).length,
    };
    expect(phases.okBefore).toBeGreaterThan(0);
    // (Held at the store for less than its 5 s busy budget: the few steps between lock and release.)
    expect(phases.heldAcked).toBeGreaterThan(0);
    expect(phases.refusedWhileFailing).toBeGreaterThan(0);
    expect(phases.okAfter).toBeGreaterThan(0);
    answered += answers.length;

    // Every event of the log, by request.
    const eventsOf = new Map<string, string[]>();
    for (let after: string | null = null; ; ) {
      const page = await post(auditor, 'query($a: String) { events(first: 500, after: $a) { edges { node { position type metadata { correlationId } } } pageInfo { hasNextPage } } }', { a: after });
      const nodes = page.data.events.edges.map((e: any) => e.node);
      for (const e of nodes) eventsOf.set(e.metadata.correlationId, [...(eventsOf.get(e.metadata.correlationId) ?? []), e.type]);
      if (!nodes.length || !page.data.events.pageInfo.hasNextPage) break;
      after = nodes[nodes.length - 1].position;
    }
    // Every entry of the manager's requests, once the log has written what it queued.
    const entries = new Map<string, { outcome: string; errorCode: string | null }>();
    for (let after: string | null = null; ; ) {
      const page = await post(auditor, 'query($a: String) { accessLog(first: 500, after: $a, actorId: "mgr") { edges { cursor node { correlationId outcome errorCode } } pageInfo { hasNextPage } } }', { a: after });
      const edges = page.data.accessLog.edges;
      for (const e of edges) entries.set(e.node.correlationId, e.node);
      if (!edges.length || !page.data.accessLog.pageInfo.hasNextPage) break;
      after = edges[edges.length - 1].cursor;
    }

    // 1. Answered OK: its events and its entry, also when it was held across the failure.
    expect(show(ok.filter((a) => !eventsOf.get(a.requestId)?.length))).toEqual([]);
    expect(show(ok.filter((a) => entries.get(a.requestId)?.outcome !== 'ALLOWED'))).toEqual([]);
    // 2. Refused: nothing appended, and the refusal itself recorded.
    expect(show(answers.filter((a) => !a.ok && eventsOf.has(a.requestId)))).toEqual([]);
    expect(show(refused.filter((a) => entries.get(a.requestId)?.errorCode !== 'STORE_UNAVAILABLE'))).toEqual([]);
    // 3. Names stay unique, and each asset registered OK is there.
    const names: string[] = [];
    for (let after: string | null = null; ; ) {
      const page = await post(auditor, 'query($a: String) { assets(first: 500, after: $a) { edges { cursor node { name } } pageInfo { hasNextPage } } }', { a: after });
      const edges = page.data.assets.edges;
      names.push(...edges.map((e: any) => e.node.name));
      if (!edges.length || !page.data.assets.pageInfo.hasNextPage) break;
      after = edges[edges.length - 1].cursor;
    }
    const mine = names.filter((n) => n.startsWith(`run-${r}-`));
    expect(mine.length).toBe(new Set(mine).size);
    expect(ok.filter((a) => a.name !== null && !mine.includes(a.name)).map((a) => a.name)).toEqual([]);
    const reassigned = ok.filter((a) => a.kind === 'reassign').length;
    const version = (await post(auditor, 'query($id: ID!) { asset(id: $id) { version } }', { id: shared })).data.asset.version;
    expect(version).toBe(reassigned); // registered at 0, one event per reassignment answered OK
    const verified = await post(auditor, '{ verifyAccessLog { ok reason } }', {});
    expect(verified.data?.verifyAccessLog).toEqual({ ok: true, reason: null });
  }
});
