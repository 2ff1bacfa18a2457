import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { loadSigningKeys } from '../../src/event-store/signing.js';
import { newEvent } from '../event-store/event-store.contract.js';
import { buildOnce } from './support/server-process.js';

/**
 * `risk-ledger rebuild` over read models that applied the log past its end (an older copy of the
 * log put back, a WAL lost, with no record of the verified head to refuse it): those read models
 * saw events the log no longer holds, perhaps the only copy left. They were replaced without a
 * word (backup probe of 2026-12-06, F9); they are kept beside the rebuilt ones, and said so;
 * verify-read-models names them at once.
 */
const ROOT = process.cwd();
const CLI = join(ROOT, 'dist/src/cli/main.js');
const position = (n: number) => String(n).padStart(19, '0');
const checkpoints = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT DISTINCT position FROM projection_checkpoints').pluck().all();
  } finally {
    db.close();
  }
};

describe('rebuild over read models ahead of the log', () => {
  let dir: string;
  beforeAll(() => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-rebuild-ahead-'));
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, EVENT_STORE: 'sqlite', DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite'), JWT_SECRET: 'rebuild-ahead-secret-0123456789abcdefghij', LOG_LEVEL: 'warn' }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, json: JSON.parse(r.stdout.split('\n')[0] || 'null'), sentence: r.stdout.split('\n')[1] ?? '', stderr: r.stderr };
  };

  it('keeps them beside the rebuilt ones and says so; a rebuild over read models not ahead keeps nothing', async () => {
    const keys = loadSigningKeys(join(dir, 'signing-key.pem'));
    let store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), signer: keys.signer });
    await store.init();
    const commit = (i: number) => store.append(`tested-${i}`, Array.from({ length: 500 }, (_, n) => newEvent('Tested', { n })), { expectedVersion: ExpectedVersion.noStream });
    await commit(0);
    await commit(1);
    await store.close(); // closed: the file alone holds the log
    copyFileSync(join(dir, 'events.sqlite'), join(dir, 'older.sqlite'));
    store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), signer: keys.signer });
    await store.init();
    await commit(2);
    await store.close();

    const first = run(['rebuild']);
    expect(first).toMatchObject({ code: 0, json: { ok: true, position: position(1_500) } });
    expect(first.json.keptAs).toBeUndefined();
    expect(readdirSync(dir).filter((f) => f.startsWith('read-models'))).toEqual(['read-models.sqlite']);

    // The older copy put back: the read models applied up to 1,500, the log ends at 1,000.
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `events.sqlite${suffix}`), { force: true });
    copyFileSync(join(dir, 'older.sqlite'), join(dir, 'events.sqlite'));
    // verify-read-models says so at once (it waited for the lost events for good: restore probe R2).
    const verified = run(['verify-read-models']);
    expect(verified).toMatchObject({ code: 1, json: { ok: false, position: position(1_500), logHead: position(1_000) } });
    expect(verified.sentence).toMatch(/^BROKEN: the read models applied the log up to 0+1500, but it ends at 0+1000: the log lost events they saw/);

    const second = run(['rebuild']);
    expect(second).toMatchObject({ code: 0, json: { ok: true, position: position(1_000), replacedAppliedUpTo: position(1_500), keptAs: expect.stringMatching(/read-models\.sqlite\.ahead-of-log-/) } });
    expect(second.sentence).toMatch(/had applied the log up to 0+1500, past its end \(0+1000\): they may hold the only copy of events the log lost, and are kept as /);
    expect(existsSync(second.json.keptAs)).toBe(true);
    expect(checkpoints(second.json.keptAs)).toEqual([position(1_500)]);
    expect(checkpoints(join(dir, 'read-models.sqlite'))).toEqual([position(1_000)]);
  }, 120_000);
});
