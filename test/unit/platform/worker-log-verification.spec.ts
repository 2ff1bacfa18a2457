import { afterEach, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { ExpectedVersion, type NewEvent } from '../../../src/event-store/event-store.port.js';
import { signerFor, TrustedKeys } from '../../../src/event-store/signing.js';
import { SqliteEventStore } from '../../../src/event-store/sqlite/sqlite-event-store.js';
import { MainThreadVerification } from '../../../src/platform/log-verification.js';
import { monitorVerification, WorkerLogVerification } from '../../../src/platform/worker-log-verification.js';
import type { JsonLogger } from '../../../src/shared/logging/json-logger.js';

/**
 * The integrity monitor's worker (the monitor's own behaviour with it: integrity-monitor.spec.ts,
 * run once per thread): it verifies what the main thread would, gives up a run when asked, and
 * when it fails its runs are redone on the main thread, so that the log is never left unverified.
 */
const BUILT_WORKER = new URL('../../../dist/src/platform/integrity-verification.worker.js', import.meta.url);

function newEvent(): NewEvent {
  return { eventId: randomUUID(), type: 'Tested', schemaVersion: 1, data: { n: randomUUID() }, metadata: { actor: { id: 'u', name: 'U', roles: [] }, occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: randomUUID() } };
}

function recordingLog(): JsonLogger & { errors: { msg: string; fields: unknown }[] } {
  const errors: { msg: string; fields: unknown }[] = [];
  const log = { errors, debug: () => undefined, info: () => undefined, warn: () => undefined, error: (msg: string, fields: unknown) => void errors.push({ msg, fields }), child: () => log };
  return log as unknown as JsonLogger & { errors: { msg: string; fields: unknown }[] };
}

describe('WorkerLogVerification', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A signed log of `commits` commits of `size` events, its store and keys, and a verification in `entry`'s worker. */
  async function logOf(commits: number, size: number, entry: URL = BUILT_WORKER) {
    if (entry === BUILT_WORKER && !existsSync(fileURLToPath(BUILT_WORKER))) throw new Error(`${fileURLToPath(BUILT_WORKER)} is missing: run npm run build first`);
    const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-verification-worker-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), signer: signerFor(privateKey) });
    await store.init();
    cleanups.push(() => store.close());
    for (let i = 0; i < commits; i++) await store.append(`s-${i}`, Array.from({ length: size }, newEvent), { expectedVersion: ExpectedVersion.noStream });
    const trusted = new TrustedKeys([publicKey]);
    const mainThread = new MainThreadVerification(store, trusted);
    const log = recordingLog();
    const worker = new WorkerLogVerification(entry, { path: store.path, trustedPems: trusted.list().map((key) => key.publicKeyPem) }, mainThread, log);
    cleanups.push(() => worker.close());
    return { dir, store, trusted, mainThread, worker, log };
  }

  /** A worker file of our own, for failures the real one does not have. */
  function workerFile(source: string): URL {
    const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-bad-worker-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'worker.mjs');
    writeFileSync(file, source);
    return pathToFileURL(file);
  }

  it('reports what the main thread reports, on a sound log and on one edited in place (with its own connection, reading what the writer made durable)', async () => {
    const { dir, store, mainThread, worker } = await logOf(30, 3);
    const head = await store.headPosition();
    const sound = await worker.run(null, head);
    expect(sound).toMatchObject({ ok: true, eventsChecked: 90, signaturesChecked: 30, headPosition: head });
    expect(sound).toEqual(await mainThread.run(null, head));
    // Incremental, from a signed head verified before.
    const resumed = await worker.run(sound.lastSigned!, head);
    expect(resumed).toEqual(await mainThread.run(sound.lastSigned!, head));
    const db = new Database(join(dir, 'events.sqlite'));
    db.exec('DROP TRIGGER IF EXISTS events_no_update');
    db.exec(`UPDATE events SET data = json_set(data, '$.n', 'forged') WHERE position = 40`);
    db.close();
    const broken = await worker.run(null, head);
    expect(broken).toMatchObject({ ok: false, firstBrokenPosition: '40'.padStart(19, '0') });
    expect(broken).toEqual(await mainThread.run(null, head));
    expect(worker.thread).toBe('worker');
  });

  it("runs verifyIntegrity's verification of the whole log against an anchor as the main thread does: none, one the log holds, one cut off, one rewritten", async () => {
    const { dir, store, mainThread, worker } = await logOf(12, 2);
    const head = (await store.headPosition())!;
    const [last] = await store.readAll({ after: (BigInt(head) - 1n).toString().padStart(19, '0'), maxCount: 1 });
    const anchors = [
      null,
      { headPosition: head, headChainHash: last!.chainHash! },
      { headPosition: (BigInt(head) + 5n).toString().padStart(19, '0'), headChainHash: last!.chainHash! },
      { headPosition: head, headChainHash: 'f'.repeat(64) },
    ];
    const verdicts = [];
    for (const anchor of anchors) {
      const inWorker = await worker.runAnchored(anchor);
      expect(inWorker).toEqual(await mainThread.runAnchored(anchor));
      verdicts.push([inWorker.ok, inWorker.anchorOk]);
    }
    expect(verdicts).toEqual([[true, null], [true, true], [false, false], [false, false]]);
    // A log edited in place: the chain's verdict first.
    const db = new Database(join(dir, 'events.sqlite'));
    db.exec('DROP TRIGGER IF EXISTS events_no_update');
    db.exec(`UPDATE events SET data = json_set(data, '$.n', 'forged') WHERE position = 3`);
    db.close();
    const broken = await worker.runAnchored(anchors[1]!);
    expect(broken).toMatchObject({ ok: false, firstBrokenPosition: '3'.padStart(19, '0'), anchorOk: false, anchorReason: 'not checked: the chain itself is broken' });
    expect(broken).toEqual(await mainThread.runAnchored(anchors[1]!));
    expect(worker.thread).toBe('worker');
  });


  it('an anchored run asked for progress reports the events checked as it goes, in the worker and on the main thread alike (the CLI rebuild shows it)', async () => {
    const { store, mainThread, worker } = await logOf(5, 1_000);
    for (const verification of [worker, mainThread]) {
      const heard: number[] = [];
      const report = await verification.runAnchored(null, (checked) => heard.push(checked));
      expect(report).toMatchObject({ ok: true, eventsChecked: 5_000 });
      expect(heard).toEqual([2_000, 4_000]);
    }
    // A run not asked for progress hears none and answers the same.
    expect(await worker.runAnchored(null)).toEqual(await mainThread.runAnchored(null));
    expect(worker.thread).toBe('worker');
    expect(await store.headPosition()).toBe('5000'.padStart(19, '0'));
  });
  it('gives up a run when its signal aborts (rejecting with the reason), and runs the next one', async () => {
    const { store, worker } = await logOf(300, 20);
    const head = await store.headPosition();
    const abort = new AbortController();
    const run = worker.run(null, head, abort.signal);
    setTimeout(() => abort.abort(new Error('stopping')), 20);
    await expect(run).rejects.toThrow('stopping');
    await expect(worker.run(null, head)).resolves.toMatchObject({ ok: true, eventsChecked: 6000 });
    expect(worker.thread).toBe('worker');
  });

  it('leaves no listener on a signal its runs shared once they are done (the sweeps share one for the monitor\'s life)', async () => {
    const { store, worker } = await logOf(3, 1);
    const head = await store.headPosition();
    const shared = new AbortController().signal;
    for (let i = 0; i < 12; i++) await expect(worker.run(null, head, shared)).resolves.toMatchObject({ ok: true });
    expect(getEventListeners(shared, 'abort')).toHaveLength(0);
  });

  it('a worker that cannot start: its run is redone on the main thread, and so is every later one (logged once)', async () => {
    const { store, worker, log } = await logOf(5, 2, workerFile("throw new Error('cannot load');\n"));
    const head = await store.headPosition();
    await expect(worker.run(null, head)).resolves.toMatchObject({ ok: true, eventsChecked: 10 });
    expect(worker.thread).toBe('main');
    await expect(worker.run(null, head)).resolves.toMatchObject({ ok: true, eventsChecked: 10 });
    await expect(worker.runAnchored(null)).resolves.toMatchObject({ ok: true, eventsChecked: 10, anchorOk: null });
    expect(log.errors).toEqual([{ msg: 'integrity: the verification worker stopped; verifying on the main thread from now on', fields: { error: 'cannot load' } }]);
  });

  it("a run the worker failed is rejected with the error's code (a damaged file: SQLITE_CORRUPT), so that a start-up says so in one line (operations probe 10-c M3)", async () => {
    const corrupt = workerFile("import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (m) => parentPort.postMessage({ id: m.id, error: 'database disk image is malformed', code: 'SQLITE_CORRUPT', aborted: false }));\n");
    const { store, worker } = await logOf(1, 1, corrupt);
    await expect(worker.run(null, await store.headPosition())).rejects.toMatchObject({ message: 'database disk image is malformed', code: 'SQLITE_CORRUPT' });
  });

  it('a worker that exits in the middle of a run: the run is redone on the main thread', async () => {
    const exits = workerFile("import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));\n");
    const { store, worker, log } = await logOf(5, 2, exits);
    const both = [worker.run(null, await store.headPosition()), worker.runAnchored(null)];
    await expect(both[0]).resolves.toMatchObject({ ok: true, eventsChecked: 10 });
    await expect(both[1]).resolves.toMatchObject({ ok: true, eventsChecked: 10, anchorOk: null });
    expect(worker.thread).toBe('main');
    expect(log.errors).toEqual([{ msg: 'integrity: the verification worker stopped; verifying on the main thread from now on', fields: { error: 'it exited with code 3' } }]);
  });

  it('the server verifies on the main thread where there is no worker to run: from the TypeScript sources, or an in-memory file', async () => {
    const { store, trusted } = await logOf(1, 1);
    const log = recordingLog();
    // This test runs from src/, where the worker is not built.
    expect(monitorVerification(store, trusted, store.path, log).thread).toBe('main');
    expect(monitorVerification(store, trusted, ':memory:', log).thread).toBe('main');
    expect(monitorVerification(store, trusted, null, log).thread).toBe('main');
  });
});
