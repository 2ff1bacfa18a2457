import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/app-config.js';
import { openDisposableDatabase, openReadModelDatabase } from '../../../src/projections/read-model-database.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';

const silent = new JsonLogger('test', 'error');

/**
 * The read models (and the process manager's checkpoint) are disposable: a damaged file is moved
 * aside and recreated. Only a file that is recognisably theirs (re-probe 10, H2): a mistyped
 * READ_MODEL_PATH once renamed /etc/hostname and the signing key, and wrote read-model tables
 * into the event store.
 */
describe('READ_MODEL_PATH: only a file of the read models is ever moved aside or written', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-read-model-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const configured = { logger: silent, label: 'read models', setting: 'READ_MODEL_PATH', ownsPath: false };
  const refusal = (open: () => unknown): ConfigError => {
    try {
      open();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('a file that is no SQLite database is refused with one line naming the setting, and left as it was', () => {
    const file = join(dir, 'hostname');
    writeFileSync(file, 'vm\n');
    const error = refusal(() => openReadModelDatabase(file, configured));
    expect(error.setting).toBe('READ_MODEL_PATH');
    expect(error.message).toBe(`READ_MODEL_PATH: ${file} exists and is not an SQLite database: it is not the file of the read models, and was left untouched; point READ_MODEL_PATH at a file of its own`);
    expect(readFileSync(file, 'utf8')).toBe('vm\n');
    expect(readdirSync(dir)).toEqual(['hostname']);
  });

  it('an event store (an SQLite database with an events table) is refused, not given read-model tables', () => {
    const file = join(dir, 'events.sqlite');
    const store = new Database(file);
    store.exec('CREATE TABLE events (position INTEGER PRIMARY KEY, payload TEXT); INSERT INTO events (payload) VALUES (1)');
    store.close();
    const before = readFileSync(file);
    const error = refusal(() => openReadModelDatabase(file, configured));
    expect(error.message).toContain('is an SQLite database with an events table (an event store)');
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['events.sqlite']);
  });

  it("an SQLite database with other tables but not the read models' own is refused", () => {
    const file = join(dir, 'other.sqlite');
    const other = new Database(file);
    other.exec('CREATE TABLE notes (text TEXT)');
    other.close();
    expect(refusal(() => openReadModelDatabase(file, configured)).message).toContain('is an SQLite database without a projection_checkpoints table');
  });

  it('a damaged database that is not recognisably ours (schema unreadable, no projection_checkpoints in it) is refused, not moved', () => {
    const file = join(dir, 'damaged-other.sqlite');
    const other = new Database(file);
    other.exec('CREATE TABLE notes (text TEXT)');
    other.close();
    const fd = openSync(file, 'r+');
    writeSync(fd, randomBytes(4000), 0, 4000, 96); // page 1 past the header: the schema is unreadable
    closeSync(fd);
    expect(refusal(() => openReadModelDatabase(file, configured)).message).toContain('cannot be read and names no projection_checkpoints table');
    expect(readdirSync(dir)).toEqual(['damaged-other.sqlite']);
  });

  it('our read-model file, damaged, is still moved aside and recreated (at a path the operator set, too)', () => {
    const file = join(dir, 'mine.sqlite');
    const db = openReadModelDatabase(file, configured);
    db.exec('CREATE TABLE assets (id TEXT); INSERT INTO assets VALUES (1)');
    db.close();
    const fd = openSync(file, 'r+');
    writeSync(fd, randomBytes(4096), 0, 4096, 4096); // page 2 (assets): page 1, with the schema, stays
    closeSync(fd);
    const healed = openReadModelDatabase(file, configured);
    healed.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('mine.sqlite.corrupt-'))).toHaveLength(1);
  });

  it('at its own default name, a file that is no database at all is our damaged file: moved aside, as before', () => {
    const file = join(dir, 'read-models.sqlite');
    writeFileSync(file, randomBytes(65_536));
    openReadModelDatabase(file, { ...configured, ownsPath: true }).close();
    expect(readdirSync(dir).filter((f) => f.startsWith('read-models.sqlite.corrupt-'))).toHaveLength(1);
  });

  it('an empty file or an SQLite file with no table yet is taken (a first open that stopped early)', () => {
    const empty = join(dir, 'empty.sqlite');
    writeFileSync(empty, '');
    openReadModelDatabase(empty, configured).close();
    const bare = join(dir, 'bare.sqlite');
    const db = new Database(bare);
    db.pragma('journal_mode = WAL');
    db.close();
    openReadModelDatabase(bare, configured).close();
    expect(readdirSync(dir).filter((f) => f.includes('.corrupt-'))).toEqual([]);
  });

  it("the process manager's checkpoint refuses a file without its process_checkpoints table", () => {
    const file = join(dir, 'process-manager.sqlite');
    const other = new Database(file);
    other.exec('CREATE TABLE projection_checkpoints (name TEXT)');
    other.close();
    const error = refusal(() => openDisposableDatabase(file, { logger: silent, label: 'process-manager checkpoint', ownTable: 'process_checkpoints', ownsPath: true }));
    expect(error.message).toContain('without a process_checkpoints table');
  });
});

describe('READ_MODEL_PATH naming another file of the server is a configuration error', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-read-model-clash-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const problem = (env: Record<string, string>): ConfigError => {
    try {
      loadConfig({ DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite'), ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('the event store, its WAL, the signing key, a trusted key, the access log, the process checkpoint: refused by name', () => {
    const cases: [string, Record<string, string>, string][] = [
      [join(dir, 'events.sqlite'), {}, "the event store's file (SQLITE_PATH)"],
      [`${dir}/./events.sqlite`, {}, "the event store's file (SQLITE_PATH)"],
      [join(dir, 'events.sqlite-wal'), {}, "the event store's file (SQLITE_PATH) (its WAL)"],
      [join(dir, 'signing-key.pem'), {}, 'the signing key (SIGNING_KEY_PATH)'],
      [join(dir, 'key.pem'), { SIGNING_KEY_PATH: join(dir, 'key.pem') }, 'the signing key (SIGNING_KEY_PATH)'],
      [join(dir, 'old.pem'), { SIGNING_TRUSTED_KEYS: join(dir, 'old.pem') }, 'a trusted public key (SIGNING_TRUSTED_KEYS)'],
      [join(dir, 'access-log.sqlite'), {}, 'the access log (in DATA_DIR)'],
      [join(dir, 'process-manager.sqlite'), {}, "the process manager's checkpoint"],
    ];
    for (const [path, env, what] of cases) {
      const error = problem({ READ_MODEL_PATH: path, ...env });
      expect(error.setting).toBe('READ_MODEL_PATH');
      expect(error.message).toContain(`is ${what}; the read models need a file of their own`);
    }
  });

  it('the event store under another name (a symbolic or a hard link) is refused too', () => {
    const store = join(dir, 'events.sqlite');
    writeFileSync(store, '');
    symlinkSync(store, join(dir, 'link.sqlite'));
    linkSync(store, join(dir, 'hard.sqlite'));
    for (const name of ['link.sqlite', 'hard.sqlite']) {
      expect(problem({ READ_MODEL_PATH: join(dir, name) }).message).toContain(`is the event store's file (SQLITE_PATH), ${store}, under another name`);
    }
  });

  it('a file of its own is accepted, resolved', () => {
    expect(loadConfig({ DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite'), READ_MODEL_PATH: join(dir, 'rm.sqlite') }).readModelPath).toBe(join(dir, 'rm.sqlite'));
    expect(loadConfig({ DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite') }).readModelPath).toBe(join(dir, 'read-models.sqlite'));
  });
});
