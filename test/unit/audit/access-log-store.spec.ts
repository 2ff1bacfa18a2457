import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLogStore, type AccessRecord } from '../../../src/audit/application/access-log.js';
import { anchorPathFor, readAnchor } from '../../../src/audit/application/access-log-chain.js';
import { loadSigningKeys } from '../../../src/event-store/signing.js';
import type { JsonLogger } from '../../../src/shared/logging/json-logger.js';
import { eventually } from '../../support/eventually.js';

const entry = (n: number): AccessRecord => ({
  at: new Date().toISOString(), actorId: 'alice', actorName: 'Alice', actorRoles: ['ASSET_MANAGER'], operationName: `Op${n}`, operationType: 'mutation',
  fields: ['registerAsset'], targetIds: [], outcome: 'ALLOWED', errorCode: null, correlationId: `req-${n}`,
});

/**
 * The batch's fsync and the anchor are written off the event loop: the anchor follows the
 * batches (never ahead of them), and close() leaves it at the last signed head.
 */
describe('AccessLogStore: sync and anchor in the background', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'access-log-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('moves the anchor to the newest batch once it is on disk, and to the last one at close', async () => {
    const path = join(dir, 'access-log.sqlite');
    const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
    const log = await AccessLogStore.open(path, { signing, flushDelayMs: 1 });
    expect(readAnchor(anchorPathFor(path)!)).toMatchObject({ seq: 0 });
    for (let i = 1; i <= 3; i++) log.record(entry(i));
    log.flush();
    // Not yet necessarily: the anchor is written in the background; never ahead of the log.
    await eventually('the anchor to reach seq 3', () => (readAnchor(anchorPathFor(path)!) as { seq: number }).seq >= 3);
    expect(readAnchor(anchorPathFor(path)!)).toMatchObject({ seq: 3, logId: log.logId });
    for (let i = 4; i <= 6; i++) log.record(entry(i));
    log.close();
    expect(readAnchor(anchorPathFor(path)!)).toMatchObject({ seq: 6 });
    const again = await AccessLogStore.open(path, { signing });
    try {
      expect(await again.verify()).toMatchObject({ ok: true, entriesChecked: 6, headSeq: 6 });
    } finally {
      again.close();
    }
  });

  it('a close while the anchor is being renamed in the background leaves the last head anchored, and logs no error', async () => {
    const path = join(dir, 'access-log.sqlite');
    const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
    const errors: unknown[] = [];
    const logger = { error: (...a: unknown[]) => errors.push(a), warn: () => undefined, info: () => undefined } as unknown as JsonLogger;
    let seq = 0;
    for (let round = 0; round < 10; round++) {
      const log = await AccessLogStore.open(path, { signing, flushDelayMs: 1, logger });
      for (let i = 0; i < 3; i++) log.record(entry(++seq));
      log.flush();
      // Close as soon as the background rename has started (or once it could not have been).
      const state = log as unknown as { renaming: unknown; settling: boolean };
      for (let tries = 0; tries < 2_000 && state.renaming === null && state.settling; tries++) await new Promise((r) => setImmediate(r));
      log.close();
      expect(readAnchor(anchorPathFor(path)!)).toMatchObject({ seq, logId: log.logId });
      // Whatever the background rename does after close() does not move the anchor back.
      await new Promise((r) => setTimeout(r, 20));
      expect(readAnchor(anchorPathFor(path)!)).toMatchObject({ seq });
    }
    expect(errors).toEqual([]);
    const again = await AccessLogStore.open(path, { signing });
    try {
      expect(await again.verify()).toMatchObject({ ok: true, entriesChecked: seq, headSeq: seq });
    } finally {
      again.close();
    }
  });

  it('with checkpoints off the event loop, a worker copies the WAL into the file, and the log verifies after close and reopen', async () => {
    const path = join(dir, 'access-log.sqlite');
    const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
    const log = await AccessLogStore.open(path, { signing, flushDelayMs: 1, checkpointOffLoop: {} });
    const db = (log as unknown as { db: { pragma(p: string, o: { simple: true }): unknown } }).db;
    // The writer's own checkpoint is only the backstop while the worker runs.
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(4_000);
    const before = statSync(path).size;
    for (let i = 1; i <= 400; i++) {
      log.record(entry(i));
      if (i % 20 === 0) log.flush();
    }
    log.flush();
    // 400 rows of well over 150 bytes each reach the file only through a checkpoint (the schema
    // alone is a few pages), and far below the 4,000-page backstop only the worker makes one.
    const grown = () => statSync(path).size >= before + 400 * 150;
    await eventually('the worker to checkpoint the 400 rows into the file', grown);
    log.close();
    const again = await AccessLogStore.open(path, { signing });
    try {
      expect(await again.verify()).toMatchObject({ ok: true, entriesChecked: 400, headSeq: 400 });
    } finally {
      again.close();
    }
  });
});
