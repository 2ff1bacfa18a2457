import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AccessLogStore, type AccessRecord } from '../../../src/audit/application/access-log.js';
import { systemEntryRecord } from '../../../src/audit/application/access-log-system-entries.js';
import { sqliteAccessLogLookup } from '../../../src/audit/application/access-log-lookups.js';
import { verifyAccessLogFile } from '../../../src/audit/application/access-log-chain.js';
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

  it('names the committed events by position; a file of a build before them is read as it is, and migrated by the next open', async () => {
    const path = join(dir, 'access-log.sqlite');
    const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
    const log = await AccessLogStore.open(path, { signing, flushDelayMs: 60_000 });
    log.record(entry('old-1'));
    log.flush();
    log.close();
    // As a build before 2026-12-06 left it: no committed columns.
    const raw = new Database(path);
    raw.exec('DROP INDEX access_log_by_commit; ALTER TABLE access_log DROP COLUMN committed_event_id; ALTER TABLE access_log DROP COLUMN committed_position');
    raw.close();
    const readOnly = new Database(path, { readonly: true });
    try {
      expect(await sqliteAccessLogLookup(readOnly).commitsLogged(null, null, 10)).toEqual([]);
    } finally {
      readOnly.close();
    }
    expect(verifyAccessLogFile(path, { trusted: signing.trusted })).toMatchObject({ ok: true, entriesChecked: 1 });

    const again = await AccessLogStore.open(path, { signing, flushDelayMs: 60_000 });
    again.record({ ...entry('new-1'), committed: { position: '0000000000000000003', eventId: 'e-3' } });
    again.record({ ...entry('new-2'), committed: { position: '0000000000000000009', eventId: 'e-9' } });
    again.flush();
    try {
      expect(await again.commitsLogged(null, null, 10)).toEqual([
        { seq: 2, correlationId: 'new-1', position: '0000000000000000003', eventId: 'e-3' },
        { seq: 3, correlationId: 'new-2', position: '0000000000000000009', eventId: 'e-9' },
      ]);
      expect(await again.commitsLogged('0000000000000000003', null, 10)).toEqual([expect.objectContaining({ seq: 3 })]);
      expect(await again.commitsLogged(null, '0000000000000000008', 10)).toEqual([expect.objectContaining({ seq: 2 })]);
      expect(await again.commitsLogged(null, null, 1)).toEqual([expect.objectContaining({ seq: 2 })]);
      // The old entry keeps its hash; the new ones' hashes cover what they name.
      expect(verifyAccessLogFile(path, { trusted: signing.trusted })).toMatchObject({ ok: true, entriesChecked: 3 });
      const edit = new Database(path);
      edit.exec(`DROP TRIGGER access_log_no_update; UPDATE access_log SET committed_position = '0000000000000000004' WHERE seq = 2`);
      edit.close();
      expect(verifyAccessLogFile(path, { trusted: signing.trusted })).toMatchObject({ ok: false, firstBrokenSeq: 2 });
    } finally {
      again.close();
    }
  });
});
