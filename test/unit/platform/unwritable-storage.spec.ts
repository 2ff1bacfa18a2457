import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type Database from 'better-sqlite3';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instrumentAppends } from '../../../src/event-store/instrumentation.js';
import { ExpectedVersion } from '../../../src/event-store/event-store.port.js';
import { SqliteEventStore } from '../../../src/event-store/sqlite/sqlite-event-store.js';
import { EvidenceController } from '../../../src/evidence/http/evidence.controller.js';
import { FolderBlobStore } from '../../../src/evidence/infrastructure/folder-blob-store.js';
import { Metrics } from '../../../src/platform/observability/metrics.js';
import { StoreUnavailableError } from '../../../src/shared/domain/errors.js';
import { storeUnavailable } from '../../../src/shared/application/store-unavailable.js';
import { assertPathsWritable } from '../../../src/shared/application/writable-paths.js';
import { newEvent } from '../../event-store/event-store.contract.js';

/** access(2) refusing as it does for a file owned by another user (root ignores file modes, so the check is handed in). */
const refusing = (code: string) => (path: string) => {
  throw Object.assign(new Error(`${code}: permission denied, access '${path}'`), { code, syscall: 'access', path });
};

/**
 * Storage the server cannot write (re-probe 10, H1): a store file left root-owned by a restore
 * started fine, /health said ok, and every mutation answered INTERNAL_SERVER_ERROR with a stack;
 * an evidence folder the same, 500 on every upload.
 */
describe('unwritable storage', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-unwritable-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('start-up: the first existing path this process may not write is one error naming it, with the code and syscall of access(2)', () => {
    const file = join(dir, 'events.sqlite');
    writeFileSync(file, '');
    let thrown: (Error & { code?: string; syscall?: string; path?: string }) | undefined;
    try {
      assertPathsWritable([{ path: join(dir, 'missing'), what: 'nothing' }, { path: file, what: "the event store's file (SQLITE_PATH)" }], refusing('EACCES'));
    } catch (error) {
      thrown = error as typeof thrown;
    }
    expect(thrown?.message).toMatch(new RegExp(`^the event store's file \\(SQLITE_PATH\\) ${file} is not writable by this process( \\(uid \\d+\\))?: EACCES; give it to the server's user`));
    // server.ts's reportStartFailure: a code and a syscall make it the environment's, one line without a stack.
    expect(thrown).toMatchObject({ code: 'EACCES', syscall: 'access', path: file });
    expect(() => assertPathsWritable([{ path: file, what: 'the file' }])).not.toThrow(); // writable: nothing said
  });

  it('start-up: the evidence folder and its uploads folder are checked', async () => {
    const blobs = await new FolderBlobStore(join(dir, 'evidence')).init();
    expect(() => blobs.assertFoldersWritable(refusing('EROFS'))).toThrow(/^the evidence folder \(EVIDENCE_DIR or DATA_DIR\/evidence\) .*evidence is not writable by this process.*: EROFS/);
    expect(() => blobs.assertFoldersWritable()).not.toThrow();
  });

  (process.getuid?.() === 0 ? it.skip : it)('start-up: a real read-only file (not as root, which ignores modes)', () => {
    const file = join(dir, 'events.sqlite');
    writeFileSync(file, '');
    chmodSync(file, 0o444);
    expect(() => assertPathsWritable([{ path: file, what: 'the file' }])).toThrow(/not writable.*EACCES/);
  });

  it('while running: a store that turned read-only answers STORE_UNAVAILABLE, and its failing appends are counted for /health', async () => {
    const store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), pollIntervalMs: 25 });
    await store.init();
    const metrics = new Metrics();
    const instrumented = instrumentAppends(store, metrics);
    try {
      await instrumented.append('s-1', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
      // SQLite's own SQLITE_READONLY on a real write (root writes any file: query_only refuses as a read-only file does).
      (store as unknown as { db: Database.Database }).db.pragma('query_only = ON');
      let error: unknown;
      try {
        await instrumented.append('s-2', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: expect.stringMatching(/^SQLITE_READONLY/), message: 'attempt to write a readonly database' });
      expect(storeUnavailable(error)).toBeInstanceOf(StoreUnavailableError);
      expect(metrics.appendsFailing).toMatchObject({ attempts: 1, lastError: expect.stringContaining('SQLITE_READONLY') });
    } finally {
      (store as unknown as { db: Database.Database }).db.pragma('query_only = OFF');
      await store.close();
    }
  });

  it.each([['EACCES'], ['EPERM'], ['EROFS']])('while running: an upload failing with %s on the evidence folder answers a typed 503, logged without a stack', (code) => {
    const logged: { level: string; msg: string; fields: unknown }[] = [];
    const log = { warn: (msg: string, fields: unknown) => logged.push({ level: 'warn', msg, fields }), error: (msg: string, fields: unknown) => logged.push({ level: 'error', msg, fields }) };
    const controller = Object.assign(Object.create(EvidenceController.prototype), { log, blobs: { description: 'folder /data/evidence' } }) as EvidenceController;
    const answer: { status?: number; body?: any } = {};
    const res = { headersSent: false, setHeader: () => undefined, set statusCode(s: number) { answer.status = s; }, end: (text: string) => (answer.body = JSON.parse(text)) };
    const error = Object.assign(new Error(`${code}: permission denied, open '/data/evidence/.uploads/x.part'`), { code, syscall: 'open', path: '/data/evidence/.uploads/x.part' });
    (controller as unknown as { refuse: (res: unknown, error: unknown, what: string) => void }).refuse(res, error, 'upload');
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ error: { code: 'STORE_UNAVAILABLE', message: `the evidence files' storage cannot be written (${code}): nothing was recorded; retry later` } });
    expect(logged).toEqual([{ level: 'warn', msg: 'evidence upload failed: the evidence folder refuses this process', fields: { code, syscall: 'open', path: '/data/evidence/.uploads/x.part', blobs: 'folder /data/evidence' } }]);
  });
});
