/**
 * Another process holds the read models' file locked (an operator's `sqlite3` session with
 * BEGIN EXCLUSIVE, a backup tool): the connection's busy handler, which sleeps on the event loop,
 * waits an instant only once the file is open (operations probe 10-c M2: a 10 s lock held
 * /health/live 5 s), and the projection runner retries the page on a timer until the lock goes.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion } from '../../../src/event-store/event-store.port.js';
import { LOOP_BUSY_WAIT_MS } from '../../../src/event-store/sqlite/busy-retry.js';
import { ProjectionRunner } from '../../../src/projections/projection-runner.js';
import type { Projection } from '../../../src/projections/projection.js';
import { openDisposableDatabase, openReadModelDatabase, type ReadDb } from '../../../src/projections/read-model-database.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';
import { holdSqliteLock, type HeldSqliteLock } from '../../support/sqlite-lock.js';
import { eventually } from '../../support/eventually.js';

const silent = new JsonLogger('test', 'error');
const options = { logger: silent, label: 'read models', ownsPath: true };

/** Keeps the types it applied in a table of its own. */
const seen: Projection = {
  name: 'seen',
  schemaVersion: 1,
  setup: (db: ReadDb) => db.exec('CREATE TABLE IF NOT EXISTS seen (position TEXT PRIMARY KEY, type TEXT NOT NULL)'),
  reset: (db: ReadDb) => db.exec('DROP TABLE IF EXISTS seen; CREATE TABLE seen (position TEXT PRIMARY KEY, type TEXT NOT NULL)'),
  apply: (event, db: ReadDb) => void db.prepare('INSERT INTO seen (position, type) VALUES (?, ?)').run(event.position, event.type),
};

describe('read models under a lock held by another process', () => {
  let dir: string;
  let lock: HeldSqliteLock | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-read-lock-'));
  });
  afterEach(async () => {
    await lock?.release();
    lock = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("the local databases' busy handler waits an instant at most once they are open", () => {
    const readModels = openReadModelDatabase(join(dir, 'read-models.sqlite'), options);
    const checkpoints = openDisposableDatabase(join(dir, 'process-manager.sqlite'), { ...options, label: 'process-manager checkpoint', ownTable: 'process_checkpoints', init: (db) => db.exec('CREATE TABLE IF NOT EXISTS process_checkpoints (name TEXT PRIMARY KEY, position TEXT)') });
    try {
      expect(readModels.pragma('busy_timeout', { simple: true })).toBeLessThanOrEqual(LOOP_BUSY_WAIT_MS);
      expect(checkpoints.pragma('busy_timeout', { simple: true })).toBeLessThanOrEqual(LOOP_BUSY_WAIT_MS);
    } finally {
      readModels.close();
      checkpoints.close();
    }
  });

  it('the projection runner meets the lock as a transient error, retries, and applies the page once it is released', async () => {
    const path = join(dir, 'read-models.sqlite');
    const db = openReadModelDatabase(path, options);
    const store = new InMemoryEventStore();
    const runner = new ProjectionRunner(store, db, [seen], (e) => e, silent);
    try {
      runner.start();
      lock = await holdSqliteLock(path);
      const appended = await store.append('s-1', [{ eventId: randomUUID(), type: 'Tested', schemaVersion: 1, data: {}, metadata: { actor: { id: 'ciso', name: 'CISO', roles: ['CISO'] }, occurredAt: new Date().toISOString(), correlationId: 'c', causationId: 'c' } }], { expectedVersion: ExpectedVersion.noStream });
      // A command's read-your-writes wait, begun before the retries: it ends once they begin, not
      // after its 60 s (store-lock probe 11, L3: 10 s, the default, in vain).
      const command = runner.waitFor(appended.position, { timeoutMs: 60_000 }).then(
        () => 'confirmed',
        (error: Error) => error.message,
      );
      await eventually('the runner retrying', () => runner.retrying !== undefined);
      expect(String(runner.retrying!.lastError)).toMatch(/SQLITE_BUSY/);
      expect(runner.failed).toBeUndefined();
      expect(await command).toMatch(/^the read models are retrying a storage error since .*SQLITE_BUSY/);
      // Tried again at most 50 ms apart while the lock lasts (probe 11, M1: up to 5 s apart).
      await eventually('a few tries', () => (runner.retrying?.attempts ?? 0) >= 5);
      expect(runner.retrying!.nextDelayMs).toBeLessThanOrEqual(50);

      await lock.release();
      lock = undefined;
      await runner.waitFor(appended.position, { timeoutMs: 20_000, whileRetrying: 'wait' });
      expect(db.prepare('SELECT position, type FROM seen').all()).toEqual([{ position: appended.position, type: 'Tested' }]);
    } finally {
      await runner.stop();
      db.close();
    }
  });
});
