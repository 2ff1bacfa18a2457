import { afterEach, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ExpectedVersion, type NewEvent } from '../../../src/event-store/event-store.port.js';
import { chainHash, eventHash, genesisHash } from '../../../src/event-store/hash-chain.js';
import { signerFor, TrustedKeys } from '../../../src/event-store/signing.js';
import { SqliteEventStore } from '../../../src/event-store/sqlite/sqlite-event-store.js';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { IntegrityMonitor } from '../../../src/platform/integrity-monitor.js';
import { MainThreadVerification, type LogVerification } from '../../../src/platform/log-verification.js';
import { WorkerLogVerification } from '../../../src/platform/worker-log-verification.js';
import { IntegrityBrokenError, StoreUnavailableError } from '../../../src/shared/domain/errors.js';
import type { JsonLogger } from '../../../src/shared/logging/json-logger.js';

/**
 * The live monitor verifies new commits in batches, once per interval; settled() must still
 * mean "every commit up to now is verified", and a commit slipped in without the key must still
 * turn it BROKEN, whether found by settled() or by its own timer.
 */
const pos = (n: number) => n.toString().padStart(19, '0');

type Row = { position: number; stream_id: string; revision: number; event_id: string; type: string; schema_version: number; data: string; metadata: string; recorded_at: string; prev_hash: string; hash: string; chain_hash: string; hash_version: number };

function newEvent(): NewEvent {
  return { eventId: randomUUID(), type: 'Tested', schemaVersion: 1, data: { n: randomUUID() }, metadata: { actor: { id: 'u', name: 'U', roles: [] }, occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: randomUUID() } };
}

function quietLog(): JsonLogger & { errors: string[] } {
  const errors: string[] = [];
  const log = { errors, debug: () => undefined, info: () => undefined, warn: () => undefined, error: (msg: string) => void errors.push(msg), child: () => log };
  return log as unknown as JsonLogger & { errors: string[] };
}

/** What another process holding the file could do: append a correctly hashed event, without the signing key. */
function slipInForgedEvent(path: string): number {
  const db = new Database(path);
  try {
    const last = db.prepare('SELECT * FROM events ORDER BY position DESC LIMIT 1').get() as Row;
    const stream = `slipped-${randomUUID()}`;
    const forged = { ...last, position: last.position + 1, event_id: randomUUID(), stream_id: stream, revision: 0, prev_hash: genesisHash(stream), recorded_at: new Date().toISOString(), hash_version: 2 };
    const hash = eventHash({ streamId: forged.stream_id, revision: 0, eventId: forged.event_id, type: forged.type, schemaVersion: forged.schema_version, data: JSON.parse(forged.data), metadata: JSON.parse(forged.metadata), prevHash: forged.prev_hash, recordedAt: forged.recorded_at, hashVersion: 2 });
    db.prepare('INSERT INTO events (position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at, prev_hash, hash, chain_hash, hash_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      forged.position, forged.event_id, forged.stream_id, 0, forged.type, forged.schema_version, forged.data, forged.metadata, forged.recorded_at, forged.prev_hash, hash, chainHash(last.chain_hash, pos(forged.position), hash), 2,
    );
    return forged.position;
  } finally {
    db.close();
  }
}

/** The worker the server runs, from the build (`npm test` builds first; run `npm run build` before this file alone). */
const BUILT_WORKER = new URL('../../../dist/src/platform/integrity-verification.worker.js', import.meta.url);

type VerificationFor = (store: SqliteEventStore, trusted: TrustedKeys, log: JsonLogger) => LogVerification | undefined;

/** Every test below runs with the verifications on the main thread (the default) and in the server's worker thread. */
const VERIFICATIONS: [string, VerificationFor][] = [
  ['on the main thread', () => undefined],
  [
    'in a worker thread',
    (store, trusted, log) => {
      if (!existsSync(fileURLToPath(BUILT_WORKER))) throw new Error(`${fileURLToPath(BUILT_WORKER)} is missing: run npm run build first`);
      return new WorkerLogVerification(BUILT_WORKER, { path: store.path, trustedPems: trusted.list().map((key) => key.publicKeyPem) }, new MainThreadVerification(store, trusted), log);
    },
  ],
];

describe.each(VERIFICATIONS)('IntegrityMonitor, verifying %s', (_where, verificationFor) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  /** A monitor as the server makes it; in a worker, the worker must still be the one verifying when the test ends (no silent fallback). */
  function monitorOf(store: SqliteEventStore, trusted: TrustedKeys, statePath: string, log: JsonLogger, options: { intervalMs: number; sweepMinMs?: number; sweepShare?: number }) {
    const verification = verificationFor(store, trusted, log);
    const monitor = new IntegrityMonitor(store, trusted, statePath, log, { ...options, ...(verification ? { verification } : {}) });
    cleanups.push(() => monitor.stop());
    if (verification) cleanups.push(() => expect(verification.thread).toBe('worker'));
    return monitor;
  }
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** Another process with the file, past its triggers: `sql` run with them dropped, then put back as they were. */
  function tamper(path: string, sql: string): void {
    const db = new Database(path);
    try {
      const triggers = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('events', 'chain_signatures')").all() as { sql: string }[];
      db.exec('DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete; DROP TRIGGER IF EXISTS chain_signatures_no_update; DROP TRIGGER IF EXISTS chain_signatures_no_delete;');
      db.exec(sql);
      for (const t of triggers) db.exec(t.sql);
    } finally {
      db.close();
    }
  }

  /** Waits for `done`, failing with its text after `ms` (not with whatever the next expectation reads). */
  const waitFor = async (done: () => boolean, ms = 5_000) => {
    for (const until = Date.now() + ms; !done(); ) {
      if (Date.now() >= until) throw new Error(`not reached within ${ms} ms: ${done.toString()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  /** `sweepMinMs`: also sets the sweep's share to 1, so that a slow start-up verification (a loaded CI machine) does not put the next sweep 100 times its duration away. */
  async function setUp(intervalMs: number, sweepMinMs?: number) {
    const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-monitor-'));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), signer: signerFor(privateKey) });
    await store.init();
    const log = quietLog();
    const statePath = join(dir, 'integrity-state.json');
    const trusted = new TrustedKeys([publicKey]);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => store.close());
    const monitor = monitorOf(store, trusted, statePath, log, { intervalMs, ...(sweepMinMs !== undefined ? { sweepMinMs, sweepShare: 1 } : {}) });
    return { dir, store, monitor, log, statePath, trusted };
  }

  /** A monitor watching a log of `events` one-event commits, every one of them verified. */
  async function watching(events: number, intervalMs: number, sweepMinMs?: number) {
    const set = await setUp(intervalMs, sweepMinMs);
    for (let i = 0; i < events; i++) await set.store.append(`s-${i}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    await set.monitor.start();
    await set.monitor.settled();
    return set;
  }

  it('settled() verifies every commit up to now without waiting for the interval; stop() records the head', async () => {
    const { store, monitor, statePath } = await setUp(3_600_000);
    await store.append('s-0', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    await monitor.start();
    expect(monitor.status).toBe('OK');
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(`s-${i + 1}`, [newEvent(), newEvent()], { expectedVersion: ExpectedVersion.noStream })));
    await store.append('s-0', [newEvent()], { expectedVersion: ExpectedVersion.exact(0) });
    await monitor.settled();
    const head = await store.headPosition();
    expect(monitor.status).toBe('OK');
    expect(monitor.verifiedHead?.position).toBe(head);
    await monitor.stop();
    expect(JSON.parse(readFileSync(statePath, 'utf8'))).toMatchObject({ position: head });
  });

  it('turns BROKEN on a commit slipped into the file without the key, found by settled()', async () => {
    const { dir, store, monitor, log } = await setUp(3_600_000);
    await store.append('s-0', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    await monitor.start();
    const forged = slipInForgedEvent(join(dir, 'events.sqlite'));
    // The store shows another connection's commit once it has synced it: settle until it does.
    for (let i = 0; i < 100; i++) {
      await monitor.settled();
      if (monitor.status === 'BROKEN') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(monitor.status).toBe('BROKEN');
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(forged) });
    expect(() => monitor.assertWritable()).toThrow(IntegrityBrokenError);
    expect(log.errors).toContain('integrity: the event log fails verification; mutations are refused');
  });

  it('verifiedThrough (LogTrust): a new commit is verified on asking, without waiting for the interval; a forged one is not, nor anything after it, while what came before still is', async () => {
    const { dir, store, monitor } = await setUp(3_600_000);
    await store.append('s-0', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    await monitor.start();
    const [appended] = (await store.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream })).events;
    expect(monitor.verifiedUpTo()! < appended!.position).toBe(true);
    expect(await monitor.verifiedThrough(appended!.position)).toBe(true);
    expect(monitor.verifiedUpTo()).toBe(appended!.position);
    expect(monitor.untrustedFrom()).toBeNull();
    const forged = pos(slipInForgedEvent(join(dir, 'events.sqlite')));
    // The store shows another connection's commit once it has synced it: asked until it does.
    let trusted = true;
    for (let i = 0; i < 100 && trusted; i++) {
      trusted = await monitor.verifiedThrough(forged);
      if (trusted) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(trusted).toBe(false);
    expect(monitor.untrustedFrom()).toBe(forged);
    expect(await monitor.verifiedThrough(appended!.position)).toBe(true);
  });

  it('finds such a commit on its own, at its interval', async () => {
    const { dir, store, monitor } = await setUp(20);
    await store.append('s-0', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    await monitor.start();
    await store.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    const forged = slipInForgedEvent(join(dir, 'events.sqlite'));
    await waitFor(() => monitor.status === 'BROKEN');
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(forged) });
  });

  it('notices at its next look that the newest events verified before were deleted (the head moved back)', async () => {
    const { dir, monitor } = await watching(5, 20);
    tamper(join(dir, 'events.sqlite'), 'DELETE FROM events WHERE position >= 4');
    await waitFor(() => monitor.status === 'BROKEN');
    expect(monitor.status).toBe('BROKEN');
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(4), reason: expect.stringContaining('moved back') });
  });

  it('at start, names another kind of store than the one the recorded head was verified on before the deletion it would otherwise report (upgrade probe p16)', async () => {
    const { monitor, statePath, trusted } = await watching(3, 3_600_000);
    await monitor.stop();
    expect(JSON.parse(readFileSync(statePath, 'utf8'))).toMatchObject({ adapter: 'sqlite' });
    // The same DATA_DIR, a server started without EVENT_STORE=postgres (here: on memory).
    const elsewhere = new InMemoryEventStore();
    const wrong = new IntegrityMonitor(elsewhere, trusted, statePath, quietLog(), { intervalMs: 3_600_000 });
    cleanups.push(() => wrong.stop());
    await wrong.start();
    expect(wrong.status).toBe('BROKEN');
    expect(wrong.failure?.reason).toMatch(/^the log no longer holds position \d+, verified and signed before \(it was verified on the sqlite store and this server runs on the memory store: check EVENT_STORE, DATABASE_URL and SQLITE_PATH\)$/);
  });

  it('notices at its next look that the last event verified was rewritten in place', async () => {
    const { dir, monitor } = await watching(3, 20);
    tamper(join(dir, 'events.sqlite'), "UPDATE events SET chain_hash = replace(chain_hash, substr(chain_hash, 1, 1), 'x') WHERE position = 3");
    await waitFor(() => monitor.status === 'BROKEN');
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(3), reason: expect.stringContaining('rewritten') });
  });

  it('finds an older event edited in place by verifying the whole log again in the background', async () => {
    const { dir, monitor } = await watching(6, 20, 50);
    expect(monitor.status).toBe('OK');
    tamper(join(dir, 'events.sqlite'), `UPDATE events SET data = json_set(data, '$.n', 'forged') WHERE position = 2`);
    await waitFor(() => monitor.status === 'BROKEN');
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(2) });
  });

  it("takes a failed verifyIntegrity's verdict, keeping the earliest broken position", async () => {
    const { store, monitor } = await setUp(3_600_000);
    await store.append('s-0', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    await monitor.start();
    const failed = (at: number) => ({ ok: false, eventsChecked: at, firstBrokenPosition: pos(at), reason: `broken at ${at}`, headPosition: pos(at), headChainHash: null, streams: 1, signaturesChecked: 0 });
    monitor.reportFailure({ ...failed(1), ok: true, firstBrokenPosition: null, reason: null });
    expect(monitor.status).toBe('OK');
    monitor.reportFailure(failed(8));
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(8) });
    monitor.reportFailure(failed(9));
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(8) });
    monitor.reportFailure(failed(2));
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(2) });
    expect(() => monitor.assertWritable()).toThrow(IntegrityBrokenError);
  });

  it('notices at once that the last event verified was altered in place, its hashes left as they were', async () => {
    const { dir, monitor } = await watching(3, 20);
    tamper(join(dir, 'events.sqlite'), `UPDATE events SET data = json_set(data, '$.n', 'forged') WHERE position = 3`);
    await waitFor(() => monitor.status === 'BROKEN');
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(3), reason: expect.stringContaining('no longer matches its hash') });
  });

  it('looks at an unchanged last event at most a twentieth of the time: a slow look is not repeated every interval, and a rewrite is still found', async () => {
    const { dir, store, monitor } = await watching(3, 5);
    // Each look at the last event takes 40 ms (as one of megabytes did: read, parsed and hashed).
    const readAll = store.readAll.bind(store);
    let looks = 0;
    store.readAll = async (options) => {
      if (options?.after === pos(2) && options.maxCount === 1) {
        looks += 1;
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      return readAll(options);
    };
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Every 5 ms it would be ~20 looks in that second; at most a twentieth of the time, 2 (the first at once, the next ~800 ms later).
    expect(looks).toBeGreaterThanOrEqual(1);
    expect(looks).toBeLessThanOrEqual(3);
    tamper(join(dir, 'events.sqlite'), `UPDATE events SET data = json_set(data, '$.n', 'forged') WHERE position = 3`);
    await waitFor(() => monitor.status === 'BROKEN');
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(3), reason: expect.stringContaining('no longer matches its hash') });
  });

  it('names the earliest broken position: the newest commits deleted and others written over their positions', async () => {
    const { dir, monitor } = await watching(5, 3_600_000);
    tamper(join(dir, 'events.sqlite'), 'DELETE FROM events WHERE position >= 4; DELETE FROM chain_signatures WHERE position >= 4');
    // The store's own view of its head is taken back the way a restart would see the file.
    const writer = new SqliteEventStore({ path: join(dir, 'events.sqlite'), signer: signerFor(generateKeyPairSync('ed25519').privateKey) });
    await writer.init();
    for (let i = 0; i < 3; i++) await writer.append(`t-${i}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    await writer.close();
    for (let i = 0; i < 200 && monitor.status !== 'BROKEN'; i++) await monitor.settled();
    await monitor.settled();
    expect(monitor.status).toBe('BROKEN');
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(4) });
  });

  /**
   * A monitor restarted on `set`'s log (incremental: from the head the first one recorded), whose
   * verification of the whole log waits for release().
   */
  function restartHeld(set: Awaited<ReturnType<typeof watching>>, wholeLogWaitMs?: number) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const inner = verificationFor(set.store, set.trusted, set.log) ?? new MainThreadVerification(set.store, set.trusted);
    const held: LogVerification = {
      thread: inner.thread,
      run: async (from, upTo, signal) => {
        if (from === null) await released;
        return inner.run(from, upTo, signal);
      },
      runAnchored: (anchor) => inner.runAnchored(anchor),
      close: () => inner.close(),
    };
    const monitor = new IntegrityMonitor(set.store, set.trusted, set.statePath, set.log, { intervalMs: 3_600_000, verification: held, ...(wholeLogWaitMs ? { wholeLogWaitMs } : {}) });
    cleanups.push(() => monitor.stop());
    return { monitor, release };
  }

  it('after an incremental start, holds writes until the whole log has verified: an older event edited while it was stopped is never written over (auditor probe 10-b M1)', async () => {
    const set = await watching(5, 3_600_000);
    expect(set.monitor.whenWritable()).toBeUndefined(); // nothing to wait for: no promise on the hot path
    await set.monitor.stop(); // records head 5: the next start verifies incrementally from it
    tamper(join(set.dir, 'events.sqlite'), `UPDATE events SET data = json_set(data, '$.n', 'forged') WHERE position = 2`);
    const { monitor, release } = restartHeld(set);
    await monitor.start();
    // The incremental check trusts positions 1-5: it passes, and the whole log is still being verified.
    expect(monitor.status).toBe('VERIFYING');
    let outcome: unknown = 'waiting';
    const write = Promise.resolve(monitor.whenWritable()).then(
      () => (outcome = 'written'),
      (error: unknown) => (outcome = error),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(outcome).toBe('waiting');
    release();
    await write;
    expect(outcome).toBeInstanceOf(IntegrityBrokenError);
    expect(monitor.status).toBe('BROKEN');
    expect(monitor.failure).toMatchObject({ firstBrokenPosition: pos(2) });
  });

  it('after an incremental start, lets writes through once the whole log verifies, and answers STORE_UNAVAILABLE to one that waited too long', async () => {
    const set = await watching(4, 3_600_000);
    await set.monitor.stop();
    const { monitor, release } = restartHeld(set, 30);
    await monitor.start();
    await expect(monitor.whenWritable()).rejects.toBeInstanceOf(StoreUnavailableError);
    const waiting = monitor.whenWritable();
    release();
    await expect(waiting).resolves.toBeUndefined();
    expect(monitor.status).toBe('OK');
    expect(monitor.whenWritable()).toBeUndefined();
  });

  it('gives up a background verification of the whole log on stop(), without a verdict or an error', async () => {
    // A log whose whole verification takes many turns of the event loop (500 signed commits of 20 events).
    const { store, monitor, statePath, trusted } = await setUp(3_600_000);
    for (let i = 0; i < 500; i++) await store.append(`s-${i}`, Array.from({ length: 20 }, newEvent), { expectedVersion: ExpectedVersion.noStream });
    await monitor.start();
    await monitor.stop(); // records the verified head: the next start is incremental, then verifies it all in the background
    const messages: string[] = [];
    const log: Record<string, unknown> = { debug: () => undefined, warn: () => undefined, info: (msg: string) => void messages.push(msg), error: (msg: string) => void messages.push(`error: ${msg}`) };
    log.child = () => log;
    const restarted = monitorOf(store, trusted, statePath, log as unknown as JsonLogger, { intervalMs: 3_600_000 });
    await restarted.start();
    expect(restarted.status).toBe('VERIFYING'); // the whole log, in the background: writes wait for it
    await restarted.stop();
    // The code before awaited the background verification to its end, which logs its verdict.
    expect(messages.filter((m) => m.includes('verified again') || m.startsWith('error'))).toEqual([]);
    expect(restarted.status).toBe('OK');
    // The next start verifies again, and the sweep it runs completes when it is not stopped.
    const third = monitorOf(store, trusted, statePath, log as unknown as JsonLogger, { intervalMs: 3_600_000 });
    await third.start();
    await third.settled();
    expect(messages.filter((m) => m.includes('verified again'))).toHaveLength(1);
  });
});
