import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AccessLogStore, type AccessRecord } from '../../../src/audit/application/access-log.js';
import { systemEntryRecord } from '../../../src/audit/application/access-log-system-entries.js';
import { sqliteAccessLogLookup } from '../../../src/audit/application/access-log-lookups.js';
import { loadSigningKeys } from '../../../src/event-store/signing.js';

const entry = (correlationId: string): AccessRecord => ({
  at: new Date().toISOString(), actorId: 'alice', actorName: 'Alice', actorRoles: ['ASSET_MANAGER'], operationName: 'R', operationType: 'mutation',
  fields: ['registerAsset'], targetIds: [], outcome: 'ALLOWED', errorCode: null, correlationId,
});

/**
 * The cross-check's queries have one home (access-log-lookups.ts), which the server's stores and
 * the CLI's read-only verify-access-log both use: the CLI had restated PostgresAccessLog's as
 * inline SQL with the schema written out, and its own SQLite helpers.
 */
describe('the access log lookups the cross-check asks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'access-log-lookups-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the CLI writes no query of the access log of its own', () => {
    const cli = readFileSync(join(process.cwd(), 'src/cli/evidence-commands.ts'), 'utf8');
    expect(cli).not.toMatch(/\b(SELECT|INSERT|FROM)\b[^'`]*access_log/i);
  });

  it('answers on a file as the server\'s store does (the store adds what it still queues)', async () => {
    const path = join(dir, 'access-log.sqlite');
    const log = await AccessLogStore.open(path, { signing: loadSigningKeys(join(dir, 'signing-key.pem')), flushDelayMs: 60_000 });
    log.record(entry('req-1'));
    log.record(systemEntryRecord({ kind: 'import', upTo: '0000000000000000007', events: 7, file: 'evidence.ndjson' }, new Date().toISOString()));
    log.record(systemEntryRecord({ kind: 'uncleanStop', head: { position: '0000000000000000009', recordedAt: '2026-12-02T10:00:05.000Z' } }, new Date().toISOString()));
    log.record(entry('req-2'));
    log.flush();
    log.record(entry('req-queued'));
    const db = new Database(path, { readonly: true });
    try {
      const lookup = sqliteAccessLogLookup(db);
      expect(await lookup.firstEntryAt()).toBe(await log.firstEntryAt());
      expect(await lookup.systemEntriesLogged()).toEqual([
        { kind: 'import', seq: 2, at: expect.any(String), upTo: '0000000000000000007', events: 7 },
        { kind: 'uncleanStop', seq: 3, at: expect.any(String), upTo: '0000000000000000009', recordedAt: '2026-12-02T10:00:05.000Z', windowFrom: '2026-12-02T10:00:00.000Z' },
      ]);
      expect(await lookup.systemEntriesLogged()).toEqual(await log.systemEntriesLogged());
      expect(await lookup.correlationsLogged(['req-1', 'req-2', 'req-queued', 'req-none'])).toEqual(new Set(['req-1', 'req-2']));
      expect(await log.correlationsLogged(['req-1', 'req-2', 'req-queued', 'req-none'])).toEqual(new Set(['req-1', 'req-2', 'req-queued']));
    } finally {
      db.close();
      log.close();
    }
  });
});
