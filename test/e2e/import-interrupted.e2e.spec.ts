import { spawn, spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { loadSigningKeys } from '../../src/event-store/signing.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { newEvent } from '../event-store/event-store.contract.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';
import { buildOnce } from './support/server-process.js';
import { signalWhen } from './support/signal-when.js';

/**
 * An import into the embedded store is built in a file beside it (`<SQLITE_PATH>.importing`) and
 * put in place once complete and checked. Killed half-way it left a store holding a prefix of the
 * history, which verify-store called OK and a second import refused as not empty (2026-12-06:
 * 30,681 of 100,002 events after a SIGKILL 5 s in).
 */
const CLI = join(process.cwd(), 'dist/src/cli/main.js');
const COMMITS = 40;

describe('an interrupted import', () => {
  let work: string;
  let exportFile: string;
  let trustedKey: string;
  let postgres: PostgresServer | undefined;
  beforeAll(async () => {
    buildOnce();
    work = mkdtempSync(join(tmpdir(), 'risk-ledger-import-interrupted-'));
    const source = join(work, 'source');
    mkdirSync(source);
    const keys = loadSigningKeys(join(source, 'signing-key.pem'));
    const store = new SqliteEventStore({ path: join(source, 'events.sqlite'), signer: keys.signer });
    await store.init();
    for (let i = 0; i < COMMITS; i++) await store.append(`tested-${i}`, Array.from({ length: 1_000 }, (_, n) => newEvent('Tested', { n, text: 'x'.repeat(200) })), { expectedVersion: ExpectedVersion.noStream });
    await store.close();
    exportFile = join(work, 'export.ndjson');
    expect(cli(['export', exportFile], source).status).toBe(0);
    trustedKey = join(work, 'exporter.pem');
    writeFileSync(trustedKey, createPublicKey(readFileSync(join(source, 'signing-key.pem'))).export({ type: 'spki', format: 'pem' }));
  }, 180_000);
  afterAll(async () => {
    await postgres?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** The settings of a CLI run on `dataDir`: its SQLite store, or `databaseUrl`'s PostgreSQL store. */
  const settings = (dataDir: string, databaseUrl?: string) => ({
    ...process.env,
    DATA_DIR: dataDir,
    SQLITE_PATH: join(dataDir, 'events.sqlite'),
    LOG_LEVEL: 'error',
    ...(databaseUrl ? { EVENT_STORE: 'postgres', DATABASE_URL: databaseUrl } : {}),
  });

  function cli(args: string[], dataDir: string, databaseUrl?: string) {
    return spawnSync(process.execPath, [CLI, ...args], { env: settings(dataDir, databaseUrl), encoding: 'utf8', timeout: 120_000 });
  }

  /** Starts an import into `target` and sends `signal` once `until` holds; resolves with its exit. */
  function interrupted(target: string, signal: NodeJS.Signals, until: () => boolean | Promise<boolean>, databaseUrl?: string) {
    const child = spawn(process.execPath, [CLI, 'import', exportFile, '--trusted-key', trustedKey], { env: settings(target, databaseUrl), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return signalWhen(child, signal, until).then((ended) => ({ ...ended, stderr }));
  }

  const beside = (target: string) => join(target, 'events.sqlite.importing');
  /** Events appended to the file beside: its WAL has grown past its first megabyte. */
  const appending = (target: string) => () => (statSync(`${beside(target)}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 1_000_000;

  it('SIGKILLed half-way: nothing at SQLITE_PATH (no prefix of the history); the next import starts the file beside over and completes', async () => {
    const target = mkdtempSync(join(work, 'killed-'));
    const killed = await interrupted(target, 'SIGKILL', appending(target));
    expect(killed).toMatchObject({ seen: true, signal: 'SIGKILL' });
    expect(existsSync(join(target, 'events.sqlite'))).toBe(false);
    expect(cli(['verify-store'], target).status).toBe(2); // no store: nothing to call OK
    const again = cli(['import', exportFile, '--trusted-key', trustedKey], target);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout.split('\n')[0]!)).toMatchObject({ command: 'import', ok: true, eventsImported: COMMITS * 1_000, positionsPreserved: true });
    expect(readdirSync(target).filter((f) => f.startsWith('events.sqlite')).sort()).toEqual(['events.sqlite', 'events.sqlite.lock.held']);
    const verified = cli(['verify-store'], target);
    expect(verified.status).toBe(0);
    expect(JSON.parse(verified.stdout.split('\n')[0]!)).toMatchObject({ ok: true, eventsChecked: COMMITS * 1_000 });
    // Into a store that is not empty: refused as before, the store untouched, nothing beside.
    const before = readFileSync(join(target, 'events.sqlite'));
    const refused = cli(['import', exportFile, '--trusted-key', trustedKey], target);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/the target sqlite store is not empty \(head position 0*40000\): import only into an empty store/);
    expect(readFileSync(join(target, 'events.sqlite')).equals(before)).toBe(true);
    expect(existsSync(beside(target))).toBe(false);
  }, 180_000);

  it('SIGTERM or SIGINT: the file beside and the locks removed, exit 128 + the signal; an empty store there stays empty', async () => {
    const target = mkdtempSync(join(work, 'interrupted-'));
    // A server started once on the folder left an empty store.
    const emptied = new SqliteEventStore({ path: join(target, 'events.sqlite') });
    await emptied.init();
    await emptied.close();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const stopped = await interrupted(target, signal, appending(target));
      expect(stopped).toMatchObject({ seen: true, code: signal === 'SIGTERM' ? 143 : 130 });
      expect(readdirSync(target).filter((f) => f.startsWith('events.sqlite.importing') || f.endsWith('.lock'))).toEqual([]);
      expect(JSON.parse(cli(['verify-store'], target).stdout.split('\n')[0]!)).toMatchObject({ ok: true, eventsChecked: 0 });
    }
  }, 180_000);

  it('through a symbolic link at SQLITE_PATH: the link stays a link and its target gets the store (it was replaced by a file, the target left empty: re-probe M2)', async () => {
    const target = mkdtempSync(join(work, 'linked-'));
    const elsewhere = mkdtempSync(join(work, 'store-elsewhere-'));
    const emptied = new SqliteEventStore({ path: join(elsewhere, 'events.sqlite') });
    await emptied.init();
    await emptied.close();
    symlinkSync(join(elsewhere, 'events.sqlite'), join(target, 'events.sqlite'));
    const r = cli(['import', exportFile, '--trusted-key', trustedKey], target);
    expect(r.status).toBe(0);
    expect(lstatSync(join(target, 'events.sqlite')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(cli(['verify-store'], target).stdout.split('\n')[0]!)).toMatchObject({ ok: true, eventsChecked: COMMITS * 1_000 });
    expect(readdirSync(elsewhere).filter((f) => f.includes('importing'))).toEqual([]);
  }, 180_000);

  it('a folder where it would build is refused in one line (exit 2), left alone, and no store is created', () => {
    const target = mkdtempSync(join(work, 'folder-'));
    mkdirSync(beside(target));
    const r = cli(['import', exportFile, '--trusted-key', trustedKey], target);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/events\.sqlite\.importing is a folder: import builds the store in a file of that name; move it away/)]);
    expect(statSync(beside(target)).isDirectory()).toBe(true);
    expect(readdirSync(target).sort()).toEqual(['events.sqlite.importing', 'events.sqlite.lock.held']); // no store, no key
  });

  describe('into PostgreSQL: built in the schema risk_ledger_importing, moved into risk_ledger in one transaction', () => {
    const sql = async <R extends pg.QueryResultRow>(databaseUrl: string, text: string): Promise<R[]> => {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        return (await c.query<R>(text)).rows;
      } finally {
        await c.end();
      }
    };
    /** Events in `schema`'s log; -1 when it has no log (yet). */
    const eventsIn = (databaseUrl: string, schema: string) =>
      sql<{ n: number }>(databaseUrl, `SELECT count(*)::int AS n FROM "${schema}".events`).then(
        (rows) => rows[0]!.n,
        () => -1,
      );
    const importing = (databaseUrl: string) => async () => (await eventsIn(databaseUrl, 'risk_ledger_importing')) >= 5_000;
    const database = async (name: string) => {
      postgres ??= await startPostgres();
      return postgres.createDatabase(name);
    };

    it('SIGKILLed half-way: no event in the store (it kept a prefix of the history); the next import drops what was left beside and completes; the fence came with the tables', async () => {
      const databaseUrl = await database('rl_import_killed');
      const target = mkdtempSync(join(work, 'pg-killed-'));
      const killed = await interrupted(target, 'SIGKILL', importing(databaseUrl), databaseUrl);
      expect(killed).toMatchObject({ seen: true, signal: 'SIGKILL' });
      expect(await eventsIn(databaseUrl, 'risk_ledger')).toBeLessThanOrEqual(0);
      expect(await eventsIn(databaseUrl, 'risk_ledger_importing')).toBeGreaterThanOrEqual(5_000);
      const again = cli(['import', exportFile, '--trusted-key', trustedKey], target, databaseUrl);
      expect(again.status).toBe(0);
      expect(JSON.parse(again.stdout.split('\n')[0]!)).toMatchObject({ command: 'import', ok: true, adapter: 'postgres', eventsImported: COMMITS * 1_000, positionsPreserved: true });
      expect(await sql(databaseUrl, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'risk_ledger%' ORDER BY 1`)).toEqual([{ nspname: 'risk_ledger' }]);
      const verified = cli(['verify-store'], target, databaseUrl);
      expect(JSON.parse(verified.stdout.split('\n')[0]!)).toMatchObject({ ok: true, eventsChecked: COMMITS * 1_000 });
      await expect(sql(databaseUrl, `UPDATE risk_ledger.events SET type = 'Forged' WHERE position = 1`)).rejects.toThrow(/append-only/);
      const refused = cli(['import', exportFile, '--trusted-key', trustedKey], target, databaseUrl);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/the target postgres store is not empty \(head position 0*40000\): import only into an empty store/);
    }, 180_000);

    it('a second import while one runs is refused; SIGTERM ends the first with 143, nothing in the store and the schema beside dropped', async () => {
      const databaseUrl = await database('rl_import_twice');
      const target = mkdtempSync(join(work, 'pg-twice-'));
      let second: ReturnType<typeof cli> | undefined;
      const stopped = await interrupted(
        target,
        'SIGTERM',
        async () => {
          if (!(await importing(databaseUrl)())) return false;
          second = cli(['import', exportFile, '--trusted-key', trustedKey], mkdtempSync(join(work, 'pg-second-')), databaseUrl);
          return true;
        },
        databaseUrl,
      );
      expect(second?.status).toBe(2);
      expect(second?.stderr).toMatch(/another import into this PostgreSQL database is running/);
      expect(stopped).toMatchObject({ seen: true, code: 143 });
      expect(await eventsIn(databaseUrl, 'risk_ledger')).toBeLessThanOrEqual(0);
      // The schema beside dropped on the way out, as the file beside SQLite's store is removed.
      expect(await eventsIn(databaseUrl, 'risk_ledger_importing')).toBe(-1);
    }, 180_000);

    it("someone else's schema named risk_ledger_importing is left alone: the import refused in one line naming what it holds", async () => {
      const databaseUrl = await database('rl_import_foreign');
      const target = mkdtempSync(join(work, 'pg-foreign-'));
      await sql(databaseUrl, 'CREATE SCHEMA risk_ledger_importing; CREATE TABLE risk_ledger_importing.ledger_rows AS SELECT generate_series(1, 500) AS id');
      const r = cli(['import', exportFile, '--trusted-key', trustedKey], target, databaseUrl);
      expect(r.status).toBe(2);
      expect(r.stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/the schema risk_ledger_importing, where an import builds the store, holds ledger_rows, which no import makes: it is someone else's; rename or drop it/)]);
      expect(await sql(databaseUrl, 'SELECT count(*)::int AS n FROM risk_ledger_importing.ledger_rows')).toEqual([{ n: 500 }]);
      expect(await eventsIn(databaseUrl, 'risk_ledger')).toBeLessThanOrEqual(0);
      // Not made by an import, though it holds only a table of an import's name (re-probe NEW-1): left alone too.
      await sql(databaseUrl, 'DROP SCHEMA risk_ledger_importing CASCADE; CREATE SCHEMA risk_ledger_importing; CREATE TABLE risk_ledger_importing.events AS SELECT generate_series(1, 300) AS id');
      const again = cli(['import', exportFile, '--trusted-key', trustedKey], target, databaseUrl);
      expect(again.status).toBe(2);
      expect(again.stderr).toMatch(/the schema risk_ledger_importing, where an import builds the store, was not made by an import \(it bears no import's mark\): it is someone else's/);
      expect(await sql(databaseUrl, 'SELECT count(*)::int AS n FROM risk_ledger_importing.events')).toEqual([{ n: 300 }]);
    }, 60_000);

    it('a server writing to the store while the import runs: nothing put in place, its event stands, the schema beside dropped', async () => {
      const databaseUrl = await database('rl_import_meanwhile');
      const target = mkdtempSync(join(work, 'pg-meanwhile-'));
      const ended = await interrupted(
        target,
        'SIGCONT', // not an interruption: only the moment to write is chosen
        async () => {
          if (!(await importing(databaseUrl)())) return false;
          const server = new PostgresEventStore({ connectionString: databaseUrl });
          await server.append('written-meanwhile', [newEvent('Tested', {})], { expectedVersion: ExpectedVersion.noStream });
          await server.close();
          return true;
        },
        databaseUrl,
      );
      expect(ended).toMatchObject({ seen: true, code: 2 });
      expect(ended.stderr).toMatch(/the target postgres store received events while the import ran \(head position 0*1\): nothing was put in place/);
      expect(await sql(databaseUrl, 'SELECT stream_id FROM risk_ledger.events')).toEqual([{ stream_id: 'written-meanwhile' }]);
      expect(await eventsIn(databaseUrl, 'risk_ledger_importing')).toBe(-1);
    }, 180_000);
  });
});
