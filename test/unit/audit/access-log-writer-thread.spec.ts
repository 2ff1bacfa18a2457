import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { AccessLogStore, type AccessRecord } from '../../../src/audit/application/access-log.js';
import { anchorPathFor, readAnchor } from '../../../src/audit/application/access-log-chain.js';
import { loadSigningKeys } from '../../../src/event-store/signing.js';
import type { JsonLogger } from '../../../src/shared/logging/json-logger.js';
import { eventually } from '../../support/eventually.js';

const entry = (n: number): AccessRecord => ({
  at: new Date().toISOString(), actorId: 'alice', actorName: 'Alice', actorRoles: ['ASSET_MANAGER'], operationName: `Op${n}`, operationType: 'mutation',
  fields: ['registerAsset'], targetIds: [`asset-${n}`], outcome: 'ALLOWED', errorCode: null, correlationId: `req-${n}`,
});

/** The writer the server runs, from the build (`npm test` builds first; run `npm run build` before this file alone). */
const BUILT_WRITER = new URL('../../../dist/src/audit/application/access-log-writer.worker.js', import.meta.url);

function builtWriter(): URL {
  if (!existsSync(fileURLToPath(BUILT_WRITER))) throw new Error(`${fileURLToPath(BUILT_WRITER)} is missing: run npm run build first`);
  return BUILT_WRITER;
}

/** Rows written by this store's own connection (SQLite counts per connection): none when the thread writes. */
function changesHere(log: AccessLogStore): number {
  return (log as unknown as { db: Database.Database }).db.prepare('SELECT total_changes()').pluck().get() as number;
}

function recordingLogger() {
  const errors: { message: unknown; fields: unknown }[] = [];
  const logger = { error: (message: unknown, fields: unknown) => errors.push({ message, fields }), warn: () => undefined, info: () => undefined } as unknown as JsonLogger;
  return { errors, logger };
}

const WRITERS: [string, () => URL | undefined][] = [
  ['on the main thread', () => undefined],
  ['in the writer thread', builtWriter],
];

describe.each(WRITERS)('AccessLogStore, batches written %s', (where, writer) => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'access-log-writer-'));
    path = join(dir, 'access-log.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('page() returns every entry recorded before it, in order, each batch signed; close() anchors the last head; the log verifies when reopened', async () => {
    const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
    const { errors, logger } = recordingLogger();
    const log = await AccessLogStore.open(path, { signing, flushDelayMs: 1, logger, writeOffLoop: writer() });
    const opened = changesHere(log);
    let n = 0;
    for (let round = 1; round <= 5; round++) {
      for (let i = 0; i < 40; i++) log.record(entry(++n));
      if (round % 2) log.flush();
      const page = log.page({ afterSeq: null, limit: 1_000 });
      expect(page.map((e) => e.operationName)).toEqual(Array.from({ length: n }, (_, k) => `Op${k + 1}`));
    }
    await eventually('the anchor to follow the batches', () => (readAnchor(anchorPathFor(path)!) as { seq: number }).seq >= 100);
    for (let i = 0; i < 7; i++) log.record(entry(++n));
    // The writer thread writes with its own connection; here, nothing was written after open.
    expect(changesHere(log) === opened).toBe(where === 'in the writer thread');
    log.close();
    expect(readAnchor(anchorPathFor(path)!)).toMatchObject({ seq: n, logId: log.logId });
    expect(errors).toEqual([]);
    const again = await AccessLogStore.open(path, { signing });
    try {
      const report = await again.verify();
      expect(report).toMatchObject({ ok: true, entriesChecked: n, headSeq: n });
      expect(report.signaturesChecked).toBeGreaterThanOrEqual(4);
    } finally {
      again.close();
    }
  });

  it('the lookups find an entry the moment it is recorded: queued, on its way to the thread, or in the file', async () => {
    const log = await AccessLogStore.open(path, { signing: loadSigningKeys(join(dir, 'signing-key.pem')), flushDelayMs: 1, writeOffLoop: writer() });
    try {
      expect(await log.firstEntryAt()).toBeNull();
      const first = entry(0).at;
      for (let i = 1; i <= 300; i++) {
        log.record({ ...entry(i), at: i === 1 ? first : new Date().toISOString() });
        if (i % 3 === 0) log.flush();
        // Every few, give the thread time to commit while the lookup runs.
        if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1));
        expect(await log.correlationsLogged([`req-${i}`, `req-${Math.ceil(i / 2)}`, 'req-none'])).toEqual(new Set([`req-${i}`, `req-${Math.ceil(i / 2)}`]));
        expect(await log.firstEntryAt()).toBe(first);
      }
    } finally {
      log.close();
    }
  });

  it('a write that fails is retried, and page() meanwhile answers with what is in the file; no entry is lost', async () => {
    const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
    const { errors, logger } = recordingLogger();
    const log = await AccessLogStore.open(path, { signing, flushDelayMs: 1, logger, writeOffLoop: writer() });
    for (let i = 1; i <= 3; i++) log.record(entry(i));
    expect(log.page({ afterSeq: null, limit: 10 })).toHaveLength(3);
    // A stand-in for a full disk: every insert fails until the trigger is dropped.
    const other = new Database(path);
    other.exec(`CREATE TRIGGER full_disk BEFORE INSERT ON access_log BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    for (let i = 4; i <= 6; i++) log.record(entry(i));
    // (In the thread's case the page does not wait for a batch being retried: it is marked RETRYING.)
    expect(log.page({ afterSeq: null, limit: 10 }).map((e) => e.operationName)).toEqual(['Op1', 'Op2', 'Op3']);
    await eventually('the failed write to be logged', () => errors.length > 0);
    expect(errors[0]).toMatchObject({ message: 'access log write failed; will retry', fields: { queued: 3 } });
    other.exec('DROP TRIGGER full_disk');
    other.close();
    log.record(entry(7));
    await eventually('the retry to write the entries', () => log.page({ afterSeq: null, limit: 10 }).length === 7);
    expect(log.page({ afterSeq: null, limit: 10 }).map((e) => e.operationName)).toEqual(['Op1', 'Op2', 'Op3', 'Op4', 'Op5', 'Op6', 'Op7']);
    log.close();
    const again = await AccessLogStore.open(path, { signing });
    try {
      expect(await again.verify()).toMatchObject({ ok: true, entriesChecked: 7, headSeq: 7 });
    } finally {
      again.close();
    }
  });

  it('rows another writer put in the file show as a foreign write before the next batch', async () => {
    const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
    const log = await AccessLogStore.open(path, { signing, flushDelayMs: 1, writeOffLoop: writer() });
    for (let i = 1; i <= 3; i++) log.record(entry(i));
    expect(log.page({ afterSeq: null, limit: 10 })).toHaveLength(3);
    const intruder = new Database(path);
    const last = intruder.prepare('SELECT * FROM access_log ORDER BY seq DESC LIMIT 1').get() as Record<string, unknown>;
    intruder.prepare(`INSERT INTO access_log (${Object.keys(last).join(', ')}) VALUES (${Object.keys(last).map(() => '?').join(', ')})`).run(...Object.values({ ...last, seq: 4, operation_name: 'Forged' }));
    intruder.close();
    log.record(entry(5));
    const page = log.page({ afterSeq: 4, limit: 10 });
    log.close();
    expect(page.map((e) => [e.operationName, e.note ?? null])).toEqual([
      ['AccessLogDiscontinuity', expect.stringContaining('written or removed by another writer')],
      ['Op5', null],
    ]);
  });
});

describe('AccessLogStore: which thread writes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'access-log-writer-which-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the thread, given the built writer; this one with a signer whose key cannot be handed over, whose batches are still signed', async () => {
    const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
    const log = await AccessLogStore.open(join(dir, 'a.sqlite'), { signing, writeOffLoop: builtWriter() });
    expect(log.thread).toBe('worker');
    log.close();
    // A signer made elsewhere (a wrapper, an HSM's): the thread could not sign, so it is not used.
    const wrapped = { ...signing, signer: { ...signing.signer } };
    const path = join(dir, 'b.sqlite');
    const here = await AccessLogStore.open(path, { signing: wrapped, writeOffLoop: builtWriter() });
    expect(here.thread).toBe('main');
    for (let i = 1; i <= 3; i++) here.record(entry(i));
    here.close();
    const again = await AccessLogStore.open(path, { signing });
    try {
      const report = await again.verify();
      expect(report).toMatchObject({ ok: true, entriesChecked: 3, headSeq: 3 });
      expect(report.signaturesChecked).toBeGreaterThanOrEqual(1);
    } finally {
      again.close();
    }
  });
});

describe('AccessLogStore: a writer thread that fails', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'access-log-writer-fails-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A stand-in for the writer: `onBatch` and `onClose` are the bodies of its handlers. */
  function fakeWriter(onBatch: string, onClose: string): URL {
    const file = join(dir, `writer-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(
      file,
      `import { parentPort, workerData } from 'node:worker_threads';
       const slots = new Int32Array(workerData.shared);
       parentPort.on('message', (m) => { if (m.type === 'close') { ${onClose} } else { ${onBatch} } });`,
    );
    return pathToFileURL(file);
  }

  it('that dies at its first batch: that batch and every later one are written on the main thread, in order, and it says so once', async () => {
    const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
    const path = join(dir, 'access-log.sqlite');
    const { errors, logger } = recordingLogger();
    const log = await AccessLogStore.open(path, { signing, flushDelayMs: 1, logger, writeOffLoop: fakeWriter('process.exit(3);', '') });
    for (let i = 1; i <= 5; i++) log.record(entry(i));
    log.flush();
    await eventually('the main thread to take the writing over', () => errors.length > 0);
    for (let i = 6; i <= 8; i++) log.record(entry(i));
    expect(log.page({ afterSeq: null, limit: 100 }).map((e) => e.operationName)).toEqual(['Op1', 'Op2', 'Op3', 'Op4', 'Op5', 'Op6', 'Op7', 'Op8']);
    log.close();
    expect(errors).toEqual([{ message: expect.stringContaining('writer thread failed'), fields: expect.objectContaining({ reason: expect.stringContaining('code 3'), requeued: 5 }) }]);
    const again = await AccessLogStore.open(path, { signing });
    try {
      expect(await again.verify()).toMatchObject({ ok: true, entriesChecked: 8, headSeq: 8 });
    } finally {
      again.close();
    }
  });

  it('that fails while closing, having written nothing: close() writes what it was sent, syncs and anchors it', async () => {
    const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
    const path = join(dir, 'access-log.sqlite');
    const failing = fakeWriter('', 'Atomics.store(slots, 1, 2); Atomics.notify(slots, 1); process.exit(1);');
    const log = await AccessLogStore.open(path, { signing, flushDelayMs: 1, writeOffLoop: failing });
    for (let i = 1; i <= 4; i++) log.record(entry(i));
    log.flush();
    expect(await log.correlationsLogged(['req-1', 'req-4'])).toEqual(new Set(['req-1', 'req-4']));
    log.close();
    expect(readAnchor(anchorPathFor(path)!)).toMatchObject({ seq: 4 });
    const again = await AccessLogStore.open(path, { signing });
    try {
      expect(await again.verify()).toMatchObject({ ok: true, entriesChecked: 4, headSeq: 4 });
    } finally {
      again.close();
    }
  });
});
