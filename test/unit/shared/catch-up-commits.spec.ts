/**
 * A catch-up (a start behind the log, a rebuild) applies its pages in a transaction left open
 * across them and commits it every few pages (ProjectionRunner, CatchUpOptions): the checkpoints
 * still move only with the read models, waiters are released only by a commit, a failure rolls
 * the whole open span back to its checkpoints and the runner follows the log again from there,
 * and a connection that dies with a span open loses only that span.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion, type EventStore, type RecordedEvent } from '../../../src/event-store/event-store.port.js';
import { assetDecider, assetStreamId } from '../../../src/asset-inventory/domain/asset.decider.js';
import type { AssetState } from '../../../src/asset-inventory/domain/asset.state.js';
import { FEATURES } from '../../../src/features.js';
import { projectionsOf, upcastersOf } from '../../../src/platform/feature-contribution.js';
import type { Projection } from '../../../src/projections/projection.js';
import { ProjectionRunner, type CatchUpOptions } from '../../../src/projections/projection-runner.js';
import { openReadModelDatabase, type ReadDb } from '../../../src/projections/read-model-database.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';
import { follower } from '../../../src/health/readiness.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';

const ciso: DomainActor = { id: 'ciso', name: 'CISO', roles: ['CISO'] };
const silent = new JsonLogger('test', 'error');
const upcasters = upcastersOf(FEATURES);
// Commits by count only: a span is not committed early because the next page was slow to come
// (10 ms by default, which a loaded CI machine exceeded: a waiter released at 15 events).
const CATCH_UP: CatchUpOptions = { pageSize: 5, commitEvery: 20, commitAfterMs: 60_000, idleCommitMs: 60_000 };

/** Assets registered, then each reassigned in turn: every page touches several assets. */
async function buildLog(store: EventStore, assets: number, rounds: number): Promise<RecordedEvent[]> {
  let t = Date.parse('2026-01-01T00:00:00Z');
  const states: AssetState[] = Array.from({ length: assets }, () => assetDecider.initialState);
  for (let i = 0; i <= rounds; i++) {
    for (let a = 0; a < assets; a++) {
      const at = new Date((t += 1000)).toISOString();
      const assetId = `a-${a}`;
      const command =
        i === 0
          ? { type: 'RegisterAsset' as const, assetId, name: `System ${a}`, description: '', category: 'SYSTEM' as const, department: 'ops', managerId: 'm-0', confidentiality: 1 + (a % 3), integrity: 1, availability: 1, actor: ciso, at }
          : { type: 'ReassignAssetManager' as const, assetId, managerId: `m-${i}`, actor: ciso, at };
      const events = assetDecider.decide(command, states[a]!);
      await store.append(
        assetStreamId(assetId),
        events.map((e) => ({ eventId: randomUUID(), type: e.type, schemaVersion: 1, data: e.data as Record<string, unknown>, metadata: { actor: ciso, occurredAt: at, correlationId: 'c', causationId: 'c' } })),
        { expectedVersion: i === 0 ? ExpectedVersion.noStream : ExpectedVersion.exact(states[a]!.version) },
      );
      for (const e of events) states[a] = assetDecider.evolve(states[a]!, e);
    }
  }
  return store.readAll({ maxCount: 100_000 });
}

/**
 * A projection that keeps the position of every event it applied (so a rolled-back span shows),
 * counts its apply() calls, and runs `hook` before applying each event.
 */
class Witness implements Projection {
  readonly name = 'witness';
  readonly schemaVersion = 1;
  calls = 0;
  hook: (event: RecordedEvent) => void = () => {};
  setup(db: ReadDb): void {
    db.exec('CREATE TABLE IF NOT EXISTS witness (position TEXT PRIMARY KEY)');
  }
  reset(db: ReadDb): void {
    db.exec('DROP TABLE IF EXISTS witness');
    this.setup(db);
  }
  apply(event: RecordedEvent, db: ReadDb): void {
    this.calls++;
    this.hook(event);
    db.prepare('INSERT INTO witness (position) VALUES (?)').run(event.position);
  }
}

/** The read models of a database, every table but the checkpoints, rows sorted. */
function dump(db: Database.Database | ReadDb): Record<string, string[]> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'projection_checkpoints' ORDER BY name").pluck().all() as string[];
  return Object.fromEntries(tables.map((t) => [t, (db.prepare(`SELECT * FROM "${t}"`).all() as object[]).map((r) => JSON.stringify(r)).sort()]));
}

/** What a second connection sees committed: the checkpoints (one per projection) and the witness's positions. */
function committed(path: string): { checkpoints: (string | null)[]; witnessed: string[]; assets: number } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      checkpoints: db.prepare('SELECT position FROM projection_checkpoints ORDER BY name').pluck().all() as (string | null)[],
      witnessed: db.prepare('SELECT position FROM witness ORDER BY position').pluck().all() as string[],
      assets: db.prepare('SELECT COUNT(*) FROM assets').pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

/** The read models a runner with default settings builds from the log on a fresh database. */
async function expectedReadModels(store: EventStore, head: string): Promise<Record<string, string[]>> {
  const db = openReadModelDatabase(':memory:');
  const runner = new ProjectionRunner(store, db, [...projectionsOf(FEATURES)(), new Witness()], upcasters.upcast, silent);
  runner.start();
  await runner.waitFor(head);
  await runner.stop();
  const result = dump(db);
  db.close();
  return result;
}

describe('a catch-up commits its pages every few pages', () => {
  let dir: string | undefined;
  const runners: ProjectionRunner[] = [];
  afterEach(async () => {
    // Also when a test fails half-way.
    for (const runner of runners.splice(0)) await runner.stop().catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** 12 assets registered then reassigned `rounds` times, in turn; a read-model file; runners over it with a witness. */
  async function setUp(rounds = 7) {
    dir = mkdtempSync(join(tmpdir(), 'catch-up-'));
    const store = new InMemoryEventStore();
    const log = await buildLog(store, 12, rounds);
    const path = join(dir, 'read-models.sqlite');
    const db = openReadModelDatabase(path);
    const witness = new Witness();
    const runner = (options: CatchUpOptions = CATCH_UP, on: ReadDb = db, watching: Witness = witness): ProjectionRunner => {
      const r = new ProjectionRunner(store, on, [...projectionsOf(FEATURES)(), watching], upcasters.upcast, silent, options);
      runners.push(r);
      return r;
    };
    return { store, log, head: log.at(-1)!.position, path, db, witness, runner };
  }

  it('releases waiters only at a commit, when the read models and checkpoints are on disk together', async () => {
    const { store, log, head, path, db, witness, runner: runnerWith } = await setUp();
    const runner = runnerWith();
    // Checked by another connection the moment each waiter is released.
    const seen: { asked: string; checkpoints: (string | null)[]; witnessed: number }[] = [];
    const waits = [3, 7, 23, 41, 64, 95].map((k) =>
      runner.waitFor(log[k]!.position).then(() => {
        const c = committed(path);
        seen.push({ asked: log[k]!.position, checkpoints: c.checkpoints, witnessed: c.witnessed.length });
      }),
    );
    runner.start();
    await Promise.all(waits);
    for (const s of seen) {
      // Every projection's checkpoint at one commit's end, at or past the position waited for, and the rows with it.
      expect(new Set(s.checkpoints).size).toBe(1);
      expect(s.checkpoints[0]! >= s.asked).toBe(true);
      expect(s.witnessed).toBe(log.findIndex((e) => e.position === s.checkpoints[0]) + 1);
      // Commits come every 20 events or more (pages of 5), not at every page.
      expect(s.witnessed % 20 === 0 || s.witnessed === log.length).toBe(true);
    }
    await runner.waitFor(head);
    await runner.stop();
    expect(dump(db)).toEqual(await expectedReadModels(store, head));
    expect(witness.calls).toBe(log.length);
    db.close();
  });

  it('a transient failure in the middle of a span rolls the span back to its checkpoints; the runner applies it again from there', async () => {
    const { store, log, head, path, db, witness, runner: runnerWith } = await setUp();
    // Fails once, at the 33rd event: 20 committed, 12 applied in the open span.
    let failed = false;
    witness.hook = (event) => {
      if (!failed && event.position === log[32]!.position) {
        failed = true;
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      }
    };
    const runner = runnerWith();
    runner.start();
    while (!runner.retrying) await new Promise((r) => setImmediate(r));
    // While it waits to retry: what is committed is the first span, whole, and nothing after it.
    const during = committed(path);
    expect(during.checkpoints).toEqual(during.checkpoints.map(() => log[19]!.position));
    expect(during.witnessed).toEqual(log.slice(0, 20).map((e) => e.position));
    expect(during.assets).toBe(12);
    expect(runner.checkpoint).toBe(log[19]!.position);

    await runner.waitFor(head, { timeoutMs: 30_000, whileRetrying: 'wait' }); // a command's wait would fail at once while it retries
    expect(runner.retrying).toBeUndefined();
    await runner.stop();
    expect(dump(db)).toEqual(await expectedReadModels(store, head));
    // The 12 events of the rolled-back span (and the failing one) were applied twice.
    expect(witness.calls).toBe(log.length + 13);
    db.close();
  });

  it('a connection that dies with a span open loses that span only: the next runner applies it again', async () => {
    const { store, log, head, path, db, witness, runner: runnerWith } = await setUp();
    // At the 47th event (40 committed), the connection is closed under the runner, as a killed
    // process's would be: SQLite keeps what was committed and nothing of the open transaction.
    witness.hook = (event) => {
      if (event.position === log[46]!.position) setImmediate(() => db.close());
    };
    const runner = runnerWith();
    runner.start();
    await expect(runner.waitFor(head)).rejects.toThrow(/Projections stopped/);
    await runner.stop();
    const after = committed(path);
    expect(after.checkpoints).toEqual(after.checkpoints.map(() => log[39]!.position));
    expect(after.witnessed).toEqual(log.slice(0, 40).map((e) => e.position));

    const reopened = openReadModelDatabase(path);
    const next = runnerWith(CATCH_UP, reopened, new Witness());
    next.start();
    await next.waitFor(head);
    await next.stop();
    expect(dump(reopened)).toEqual(await expectedReadModels(store, head));
    reopened.close();
  });

  it('a span caught up at a page boundary is committed without a further page, and stop() commits an open one', async () => {
    // 12 x 5 = 60 events: whole pages only, so the last page is full and no short page follows.
    const { log, head, path, db, witness, runner: runnerWith } = await setUp(4);
    expect(log.length % 5).toBe(0);
    const rare = { ...CATCH_UP, commitEvery: 1_000 };
    const runner = runnerWith({ ...rare, idleCommitMs: 10 });
    runner.start();
    await runner.waitFor(head, { timeoutMs: 5_000 });
    expect(committed(path).witnessed).toHaveLength(60);
    await runner.stop();
    db.close();

    // stop() while a span is open (its commit is far off): what it applied is committed. In
    // memory: no worker thread to close, so stop() returns before the span's idle commit would come.
    const memory = openReadModelDatabase(':memory:');
    const stopping = runnerWith(rare, memory, witness);
    let applied = 0;
    let stopped: Promise<void> | undefined;
    witness.hook = () => {
      if (++applied === 23) stopped = stopping.stop();
    };
    stopping.start();
    while (!stopped) await new Promise((r) => setImmediate(r));
    await stopped;
    // The page being applied when stop() was called is finished, and every page applied is committed.
    expect(memory.inTransaction).toBe(false);
    expect(memory.prepare('SELECT COUNT(*) FROM witness').pluck().get()).toBe(25);
    const checkpoints = memory.prepare('SELECT position FROM projection_checkpoints').pluck().all();
    expect(checkpoints).toEqual(checkpoints.map(() => log[24]!.position));
    memory.close();
  });

  it('a rebuild with a retry limit (the CLI) stops with a storage error that does not go away, instead of retrying for ever', async () => {
    const { db, witness, runner: runnerWith } = await setUp(1);
    witness.hook = () => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    const runner = runnerWith({ ...CATCH_UP, retryForMs: 200 });
    const started = Date.now();
    await expect(runner.rebuild()).rejects.toThrow(/disk is full/);
    // Retried first (50, 100, 200 ms), then given up: well before any timeout.
    expect(Date.now() - started).toBeLessThan(5_000);
    await runner.stop();
    db.close();
  });

  it("a command's wait for the read models fails at once while they retry a storage error, instead of after its whole timeout", async () => {
    const { log, db, witness, runner: runnerWith } = await setUp(1);
    let failing = true;
    witness.hook = () => {
      if (failing) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    const runner = runnerWith();
    runner.start();
    while (!runner.retrying) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await expect(runner.waitFor(log.at(-1)!.position)).rejects.toThrow(/retrying a storage error since .*disk is full/);
    expect(Date.now() - started).toBeLessThan(5_000); // not the 10 s of a command's wait (a loaded machine is slow, not 10 s slow)
    // Once the disk has room again, the projections resume and the same wait is answered.
    failing = false;
    await runner.waitFor(log.at(-1)!.position, { timeoutMs: 30_000, whileRetrying: 'wait' });
    await runner.stop();
    db.close();
  });

  it('a runner behind the log at start is "catching-up" for readiness until it first reaches the end of the log', async () => {
    const { log, db, runner: runnerWith } = await setUp(2);
    const runner = runnerWith();
    expect(follower(runner)).toMatchObject({ ok: false, state: 'catching-up' });
    // whenCaughtUp (what the evidence presence check waits for) settles exactly when caughtUpOnce turns true.
    let settled = false;
    const caughtUp = runner.whenCaughtUp().then(() => {
      settled = true;
      return runner.caughtUpOnce;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    runner.start();
    await runner.waitFor(log.at(-1)!.position, { timeoutMs: 30_000, whileRetrying: 'wait' });
    expect(await caughtUp).toBe(true);
    expect(follower(runner)).toMatchObject({ ok: true, state: 'running' });
    // Once caught up, at once.
    await runner.whenCaughtUp();
    await runner.stop();
    db.close();
  });

  it('a runner behind the log at start logs that it catches up, and when it is done (upgrade probe p16: nothing after "rebuilding from zero")', async () => {
    const { store, log, db } = await setUp(2);
    const lines: [string, Record<string, unknown>][] = [];
    const logger = { child: () => logger, info: (m: string, f: Record<string, unknown>) => lines.push([m, f]), warn: () => {}, error: () => {}, debug: () => {} } as unknown as JsonLogger;
    const runner = new ProjectionRunner(store, db, projectionsOf(FEATURES)(), upcasters.upcast, logger, CATCH_UP);
    runners.push(runner);
    runner.start();
    const head = log.at(-1)!.position;
    await runner.waitFor(head, { timeoutMs: 30_000, whileRetrying: 'wait' });
    expect(lines).toContainEqual(['projections catching up with the log', { from: null, head }]);
    expect(lines).toContainEqual(['projections caught up', { events: log.length, position: head, ms: expect.any(Number) }]);
    // Caught up, a restart has nothing to report.
    await runner.stop();
    lines.length = 0;
    const again = new ProjectionRunner(store, db, projectionsOf(FEATURES)(), upcasters.upcast, logger, CATCH_UP);
    runners.push(again);
    again.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.filter(([m]) => m.startsWith('projections catching up') || m === 'projections caught up')).toEqual([]);
    await again.stop();
    db.close();
  });

  it('a long page hands the event loop back in slices (sliceMs); between two the read models and checkpoints are whole at the last event applied', async () => {
    const { store, log, head, db, witness, runner: runnerWith } = await setUp();
    // Pages of 40 events cut after every event (a slice of 0 ms), committed every 80.
    const runner = runnerWith({ ...CATCH_UP, pageSize: 40, commitEvery: 80, sliceMs: 0 });
    // What this connection shows whenever the loop turns during the catch-up.
    const seen: { calls: number; rows: number; checkpoints: (string | null)[] }[] = [];
    witness.hook = () => {
      setImmediate(() =>
        seen.push({
          calls: witness.calls,
          rows: db.prepare('SELECT COUNT(*) FROM witness').pluck().get() as number,
          checkpoints: db.prepare('SELECT DISTINCT position FROM projection_checkpoints').pluck().all() as (string | null)[],
        }),
      );
    };
    runner.start();
    await runner.waitFor(head);
    // The loop turned inside pages, not only between them.
    expect(seen.filter((s) => s.calls % 40 !== 0 && s.calls < log.length).length).toBeGreaterThan(log.length / 2);
    for (const s of seen) {
      expect(s.rows).toBe(s.calls);
      expect(s.checkpoints).toEqual([log[s.calls - 1]!.position]);
    }
    await runner.stop();
    expect(dump(db)).toEqual(await expectedReadModels(store, head));
    expect(witness.calls).toBe(log.length);
    db.close();
  });

  it("a slice's flush counts against the next slice: after a flush of 30 ms, a slice of 20 ms applies for a quarter of it", async () => {
    const { store, log, head, db } = await setUp();
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    /** Each event costs 1 ms to apply, each flush 30 ms; it counts the events of each piece. */
    class SlowFlush implements Projection {
      readonly name = 'slow-flush';
      readonly schemaVersion = 1;
      applied = 0;
      pieces: number[] = [];
      setup(): void {}
      reset(): void {}
      apply(): void {
        busy(1);
        this.applied++;
      }
      flush(): void {
        busy(30);
        this.pieces.push(this.applied);
        this.applied = 0;
      }
    }
    const slow = new SlowFlush();
    const runner = new ProjectionRunner(store, db, [...projectionsOf(FEATURES)(), slow], upcasters.upcast, silent, { ...CATCH_UP, pageSize: 40, commitEvery: 1_000, sliceMs: 20 });
    runners.push(runner);
    runner.start();
    await runner.waitFor(head);
    expect(slow.pieces.reduce((a, b) => a + b, 0)).toBe(log.length);
    // Every slice after the first had 20 - 30 ms, at least 5 ms, to apply: at most 6 events (one
    // is applied past the deadline). A machine that pauses the test only makes slices smaller.
    expect(slow.pieces.length).toBeGreaterThan(2);
    expect(Math.max(...slow.pieces.slice(1))).toBeLessThanOrEqual(6);
  });

  it('stop() between two slices of a page commits what was applied; the next runner goes on from there, applying nothing twice', async () => {
    const { store, log, head, path, db, witness, runner: runnerWith } = await setUp();
    const sliced = { ...CATCH_UP, pageSize: 40, commitEvery: 1_000, sliceMs: 0 };
    const first = runnerWith(sliced);
    let stopped: Promise<void> | undefined;
    // The 51st event is in the middle of the second page: stopped in the turn after it.
    witness.hook = (event) => {
      if (event.position === log[50]!.position) setImmediate(() => (stopped = first.stop()));
    };
    first.start();
    while (!stopped) await new Promise((r) => setImmediate(r));
    await stopped;
    expect(db.inTransaction).toBe(false);
    const c = committed(path);
    expect(c.witnessed).toEqual(log.slice(0, 51).map((e) => e.position));
    expect(c.checkpoints).toEqual(c.checkpoints.map(() => log[50]!.position));
    witness.hook = () => {};
    const second = runnerWith(sliced);
    second.start();
    await second.waitFor(head);
    await second.stop();
    expect(dump(db)).toEqual(await expectedReadModels(store, head));
    expect(witness.calls).toBe(log.length);
    db.close();
  });

  it('a rebuild resets one projection at a time with a turn between; a wait for a written position meanwhile waits for the rebuild', async () => {
    const { log, head, db, runner: runnerWith } = await setUp();
    const runner = runnerWith();
    /** A projection of its own whose reset, once armed, notes in the next turn how many resets ran by then. */
    let armed = false;
    const resets: string[] = [];
    const seenInNextTurn: number[] = [];
    let waited: Promise<number> | undefined;
    class Noting implements Projection {
      constructor(readonly name: string) {}
      readonly schemaVersion = 1;
      setup(): void {}
      reset(): void {
        if (!armed) return;
        resets.push(this.name);
        setImmediate(() => {
          seenInNextTurn.push(resets.length);
          // A command's read-your-writes wait for a position the read models had reached: answered once the rebuild has it again.
          waited ??= runner.waitFor(head).then(() => db.prepare('SELECT COUNT(*) FROM witness').pluck().get() as number);
        });
      }
      apply(): void {}
    }
    (runner as unknown as { projections: Projection[] }).projections.push(new Noting('noting-a'), new Noting('noting-b'));
    runner.start();
    await runner.waitFor(head);
    armed = true;
    const rebuilt = runner.rebuild();
    while (!waited) await new Promise((r) => setImmediate(r));
    const witnessed = await waited;
    await rebuilt;
    // Each reset's next turn came before the next reset.
    expect(seenInNextTurn.slice(0, 2)).toEqual([1, 2]);
    expect(witnessed).toBe(log.length);
  });

  it("writeBack 'commit' (the CLI's): the projections write their states back once per commit, not once per page, and the read models are the same", async () => {
    const { store, log, head, db } = await setUp();
    /** Counts its flushes (the write-backs of a projection that keeps states parsed). */
    class Flushes implements Projection {
      readonly name = 'flushes';
      readonly schemaVersion = 1;
      count = 0;
      setup(): void {}
      reset(): void {}
      apply(): void {}
      flush(): void {
        this.count++;
      }
    }
    const counted = new Flushes();
    const runner = new ProjectionRunner(store, db, [...projectionsOf(FEATURES)(), new Witness(), counted], upcasters.upcast, silent, { ...CATCH_UP, writeBack: 'commit', sliceMs: Infinity });
    runners.push(runner);
    const commits: number[] = [];
    (runner as unknown as { onProgress?: (n: number) => void }).onProgress = (n) => commits.push(n);
    runner.start();
    await runner.waitFor(head);
    await runner.stop();
    // 96 events in pages of 5, committed every 20: 5 commits, each one write-back (the pages were 20).
    expect(commits).toEqual([20, 20, 20, 20, 16]);
    expect(counted.count).toBe(commits.length);
    expect(log.length).toBe(96);
    expect(dump(db)).toEqual(await expectedReadModels(store, head));
  });

  it('holds before the first position the log fails verification at, in a catch-up and live (holdFrom)', async () => {
    const { store, log, path, witness, runner: runnerWith } = await setUp(3);
    // The log is found broken from its 20th event while the runner catches up from zero.
    const bound = log[19]!.position;
    const runner = runnerWith();
    let untrusted: string | null = bound;
    runner.holdFrom(() => untrusted);
    runner.start();
    // Until it holds (however slow the machine), then a while longer: nothing past the bound comes.
    for (const until = Date.now() + 10_000; runner.checkpoint !== log[18]!.position && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(committed(path).witnessed).toEqual(log.slice(0, 19).map((e) => e.position));
    expect(runner.checkpoint).toBe(log[18]!.position);
    // Events written after it (another instance on the same database) are not applied either.
    const more = await buildLog(new InMemoryEventStore(), 1, 0);
    await store.append('extra-stream', more.map((e) => ({ eventId: randomUUID(), type: e.type, schemaVersion: 1, data: { ...e.data, assetId: 'a-extra' }, metadata: e.metadata })), { expectedVersion: ExpectedVersion.noStream });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(committed(path).witnessed).toHaveLength(19);
    expect(witness.calls).toBe(19);
    // A wait for a position past the hold has all it will get (a document at the log's head).
    await expect(runner.waitFor(log.at(-1)!.position, { timeoutMs: 1_000 })).resolves.toBeUndefined();
    untrusted = null;
  });
});
