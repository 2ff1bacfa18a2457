import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLogStore, type AccessRecord } from '../../src/audit/application/access-log.js';
import { inFlight } from '../../src/audit/application/access-log-crosscheck.js';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { loadSigningKeys } from '../../src/event-store/signing.js';
import { headAtStart } from '../../src/platform/unclean-stop.js';
import { DATA_DIR_LOCK_FILE } from '../../src/config/own-files.js';
import { UNCLEAN_NOTE_SUFFIX } from '../../src/platform/data-dir-lock.js';
import { buildOnce } from './support/server-process.js';

const CLI = join(process.cwd(), 'dist/src/cli/main.js');
const SECRET = 'lost-before-stop-secret-0123456789abcdef';
const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();

const entry = (correlationId: string, at: string): AccessRecord => ({
  at, actorId: 'alice', actorName: 'Alice', actorRoles: ['ASSET_MANAGER'], operationName: 'R', operationType: 'mutation',
  fields: ['registerAsset'], targetIds: [], outcome: 'ALLOWED', errorCode: null, correlationId,
});

/**
 * A disk full for a minute, the mutations answered meanwhile, then a SIGKILL: their entries, queued,
 * were lost; after the restart verify-access-log said OK (operations probe 10-c M4), for the changes
 * were younger than the two minutes a request may still be in flight. A change recorded before an
 * unclean stop the access log records is not in flight (its process is gone): it is asked at once.
 * Those of the last seconds before the stop's head are acknowledged; an older one is reported.
 */
describe('changes without an access-log entry, recorded before an unclean stop, minutes ago', () => {
  const dir = mkdtempSync(join(tmpdir(), 'access-log-lost-before-stop-'));
  const path = join(dir, 'access-log.sqlite');
  let events: SqliteEventStore;

  async function change(correlationId: string, recordedAt: string): Promise<void> {
    const metadata = { actor: { id: 'alice', name: 'Alice', roles: [] }, occurredAt: recordedAt, correlationId, causationId: correlationId, commandId: `cmd-${correlationId}`, commandType: 'RegisterAsset' };
    await events.append(`asset-${randomUUID()}`, [{ eventId: randomUUID(), type: 'AssetRegistered', schemaVersion: 1, data: {}, metadata }], { expectedVersion: ExpectedVersion.noStream, recordedAt });
  }

  beforeAll(async () => {
    buildOnce();
    expect(inFlight.ms).toBeGreaterThan(60_000); // the server's and the CLI's own: not lowered here
    events = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
    await events.init();
    const keys = loadSigningKeys(join(dir, 'signing-key.pem'));
    const log = await AccessLogStore.open(path, { signing: keys });
    log.record(entry('logged', ago(90)));
    log.flush();
    await change('logged', ago(89));
    // Committed and answered while the access log could not be written; the entries lost with the process.
    await change('lost-a-minute-before', ago(60));
    await change('lost-at-the-end', ago(0));
    log.close();
    // The restart after the SIGKILL records the unclean stop (as AuditModule does).
    const restarted = await AccessLogStore.open(path, { signing: keys, uncleanStop: await headAtStart(events) });
    restarted.close();
  }, 180_000);

  afterAll(async () => {
    await events.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the server's verification reports the older one, and acknowledges the last", async () => {
    const log = await AccessLogStore.open(path, { signing: loadSigningKeys(join(dir, 'signing-key.pem')), events });
    try {
      const v = await log.verify();
      expect(v.ok).toBe(false);
      expect(v.reason).toMatch(/^1 request whose changes are in the event log has no access log entry .* request lost-a-minute-before$/);
      expect(v.acknowledged?.requests).toBe(1);
    } finally {
      log.close();
    }
  });

  it('verify-access-log reports it and exits 1', () => {
    const env = { ...process.env, EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, LOG_LEVEL: 'error' };
    const r = spawnSync(process.execPath, [CLI, 'verify-access-log'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    const json = JSON.parse(r.stdout.split('\n')[0]!);
    expect(json).toMatchObject({ command: 'verify-access-log', ok: false, acknowledged: { requests: 1 } });
    expect(json.reason).toMatch(/^1 request whose changes .*lost-a-minute-before/);
    expect(r.stdout).not.toMatch(/A note of an unclean stop/);
  });

  it('names a note of an unclean stop no server has recorded yet, which the next start records (re-probe M4: a restored backup of a running server read BROKEN, and not a word of it)', () => {
    const note = join(dir, `${DATA_DIR_LOCK_FILE}${UNCLEAN_NOTE_SUFFIX}`);
    writeFileSync(note, JSON.stringify({ pid: 4242, startedAt: ago(120), holder: 'server' }) + '\n');
    try {
      const env = { ...process.env, EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: SECRET, LOG_LEVEL: 'error' };
      const r = spawnSync(process.execPath, [CLI, 'verify-access-log'], { env, encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(1); // a note is no signed entry: the verdict stands
      expect(r.stdout.split('\n')[1]).toMatch(new RegExp(`^BROKEN: .* A note of an unclean stop no server has recorded yet is at ${note.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the next server start records it`));
    } finally {
      rmSync(note, { force: true });
    }
  });

  it("names the note beside the lock of the read models' folder when READ_MODEL_PATH puts them elsewhere (a lock the server takes too; verify looked beside two of its three)", () => {
    const readModels = mkdtempSync(join(tmpdir(), 'access-log-lost-before-stop-read-models-'));
    const note = join(readModels, `${DATA_DIR_LOCK_FILE}${UNCLEAN_NOTE_SUFFIX}`);
    writeFileSync(note, JSON.stringify({ pid: 4243, startedAt: ago(120), holder: 'server' }) + '\n');
    try {
      const env = { ...process.env, EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, READ_MODEL_PATH: join(readModels, 'read-models.sqlite'), JWT_SECRET: SECRET, LOG_LEVEL: 'error' };
      const r = spawnSync(process.execPath, [CLI, 'verify-access-log'], { env, encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(1);
      expect(r.stdout.split('\n')[1]).toMatch(new RegExp(`^BROKEN: .* A note of an unclean stop no server has recorded yet is at ${note.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the next server start records it`));
    } finally {
      rmSync(readModels, { recursive: true, force: true });
    }
  });
});
