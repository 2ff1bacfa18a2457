import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/event-store/sqlite/schema.js';
import { chainHash, encodePosition, eventHash, genesisHash, LOG_GENESIS } from '../../src/event-store/hash-chain.js';
import { ExpectedVersion, WrongExpectedVersionError, type NewEvent } from '../../src/event-store/event-store.port.js';
import { verifyStore } from '../../src/event-store/integrity-verifier.js';
import { signerFor, TrustedKeys } from '../../src/event-store/signing.js';
import { newEvent } from './event-store.contract.js';

/**
 * An installation whose log was written by a build at store schema 1 (the streams table, no
 * hash versions, no signatures, no snapshots), opened by this build: every upgrade the probes
 * tried so far went between builds of the same schema. The old file is made here from the shipped
 * step MIGRATIONS[1] and rows hashed as that build hashed them (hash version 1: recordedAt not
 * covered), with the chain's public functions rather than the store's own writer.
 */
interface OldRow { streamId: string; revision: number; event: NewEvent; recordedAt: string }

function writeSchemaOneLog(path: string, rows: OldRow[], keys: { key: string; streamId: string; first: number; last: number }[]): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(MIGRATIONS[1]!);
    db.pragma('user_version = 1');
    const insert = db.prepare(
      'INSERT INTO events (position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at, prev_hash, hash, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const head = db.prepare('INSERT INTO streams (stream_id, version, last_hash) VALUES (?, ?, ?) ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, last_hash = excluded.last_hash');
    const lastHash = new Map<string, string>();
    let chain = LOG_GENESIS;
    db.transaction(() => {
      rows.forEach((row, i) => {
        const position = encodePosition(i + 1);
        const prevHash = lastHash.get(row.streamId) ?? genesisHash(row.streamId);
        const { eventId, type, schemaVersion, data, metadata } = row.event;
        const hash = eventHash({ streamId: row.streamId, revision: row.revision, eventId, type, schemaVersion, data, metadata, prevHash, hashVersion: 1 });
        chain = chainHash(chain, position, hash);
        insert.run(i + 1, eventId, row.streamId, row.revision, type, schemaVersion, JSON.stringify(data), JSON.stringify(metadata), row.recordedAt, prevHash, hash, chain);
        head.run(row.streamId, row.revision, hash);
        lastHash.set(row.streamId, hash);
      });
      for (const k of keys) db.prepare('INSERT INTO idempotency (key, stream_id, first_position, last_position) VALUES (?, ?, ?, ?)').run(k.key, k.streamId, k.first, k.last);
    })();
  } finally {
    db.close();
  }
}

describe('SqliteEventStore: a log written at store schema 1, opened by this build', () => {
  let dir: string;
  let path: string;
  const stores: SqliteEventStore[] = [];
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const trusted = new TrustedKeys([publicKey]);
  const open = () => {
    const store = new SqliteEventStore({ path, signer: signerFor(privateKey) });
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-schema1-'));
    path = join(dir, 'events.sqlite');
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Three streams interleaved, three events each, recorded over three days.
  const oldRows = (): OldRow[] =>
    [0, 1, 2].flatMap((revision) =>
      ['asset-a', 'risk-b', 'criteria-c'].map((streamId, s) => ({ streamId, revision, event: newEvent('Tested', { streamId, revision, text: 'リスク評価' }), recordedAt: new Date(Date.UTC(2026, 0, 1 + revision, 9, s)).toISOString() })),
    );

  it('migrates to the current schema in place, reads every old event as written, and verifies the chain across the old rows and the new', async () => {
    const rows = oldRows();
    writeSchemaOneLog(path, rows, [{ key: 'command-1', streamId: 'asset-a', first: 1, last: 1 }]);

    const store = open();
    await store.init();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
      expect(tables).toEqual(expect.arrayContaining(['events', 'idempotency', 'chain_signatures', 'snapshots']));
      expect(tables).not.toContain('streams');
      expect(db.prepare('SELECT DISTINCT hash_version FROM events').pluck().all()).toEqual([1]);
    } finally {
      db.close();
    }

    const read = await store.readAll();
    expect(read.map((e) => [e.position, e.streamId, e.revision, e.eventId, e.data, e.recordedAt, e.hashVersion])).toEqual(
      rows.map((row, i) => [encodePosition(i + 1), row.streamId, row.revision, row.event.eventId, row.event.data, row.recordedAt, 1]),
    );
    expect(await verifyStore(store, { trusted })).toMatchObject({ ok: true, eventsChecked: 9 });

    // The heads the old build kept in its streams table come from the events now: a writer that
    // saw revision 2 appends, one that saw revision 1 is refused.
    await expect(store.append('risk-b', [newEvent()], { expectedVersion: ExpectedVersion.exact(1) })).rejects.toBeInstanceOf(WrongExpectedVersionError);
    const appended = await store.append('risk-b', [newEvent('Tested', { after: 'upgrade' })], { expectedVersion: ExpectedVersion.exact(2) });
    expect(appended.events.map((e) => [e.revision, e.position, e.hashVersion])).toEqual([[3, encodePosition(10), 2]]);
    await store.append('asset-new', [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    // A command the old build recorded is still recognised when retried.
    const retried = await store.append('asset-a', [newEvent()], { expectedVersion: ExpectedVersion.any, idempotencyKey: 'command-1' });
    expect(retried).toMatchObject({ duplicate: true, streamId: 'asset-a' });
    expect(retried.events.map((e) => e.eventId)).toEqual([rows[0]!.event.eventId]);

    const report = await verifyStore(store, { trusted });
    expect(report).toMatchObject({ ok: true, eventsChecked: 11 });
    expect(report.signaturesChecked).toBeGreaterThanOrEqual(2);
    await store.close();

    // Reopened: nothing migrates twice, the mixed log still verifies.
    const again = open();
    await again.init();
    expect(await verifyStore(again, { trusted })).toMatchObject({ ok: true, eventsChecked: 11 });
  });

  it('an old row changed before the upgrade is found after it', async () => {
    const rows = oldRows();
    writeSchemaOneLog(path, rows, []);
    const db = new Database(path);
    try {
      db.exec('DROP TRIGGER events_no_update');
      db.prepare('UPDATE events SET data = ? WHERE position = 5').run(JSON.stringify({ forged: true }));
    } finally {
      db.close();
    }
    const store = open();
    await store.init();
    expect(await verifyStore(store, { trusted })).toMatchObject({ ok: false, firstBrokenPosition: encodePosition(5) });
  });
});
