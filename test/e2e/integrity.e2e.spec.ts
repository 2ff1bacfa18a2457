import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { ExpectedVersion, type RecordedEvent } from '../../src/event-store/event-store.port.js';
import { LOG_GENESIS, chainHash, eventHash, genesisHash } from '../../src/event-store/hash-chain.js';
import { verifyStore } from '../../src/event-store/integrity-verifier.js';
import { exportLog, verifyStoreAgainst } from '../../src/audit/application/evidence-export.js';
import { IntegrityMonitor } from '../../src/platform/integrity-monitor.js';
import { TestApp, errorOf, users } from './support/test-app.js';
import { cliInProcess } from './support/cli-in-process.js';

/**
 * Proof that the log is intact: the SQLite file is tampered with directly (better-sqlite3, with
 * the append-only triggers dropped first, as anyone holding the file could), and the verifier
 * must name the first broken position. Sample log (12 events, 3 streams, interleaved):
 *   pos 1 A0, 2 B0, 3 C0, 4 A1, 5 B1, 6 C1, 7 A2, 8 B2, 9 C2, 10 A3, 11 B3, 12 C3
 */
const STREAMS = ['asset-a', 'asset-b', 'asset-c'];
const pos = (n: number) => n.toString().padStart(19, '0');

function metadata(actor = 'mgr-ops') {
  return { actor: { id: actor, name: 'Ops Manager', roles: ['ASSET_MANAGER'] }, occurredAt: '2025-04-01T09:00:00.000Z', correlationId: randomUUID(), causationId: randomUUID() };
}

async function writeSampleLog(path: string): Promise<RecordedEvent[]> {
  const store = new SqliteEventStore({ path });
  const recorded: RecordedEvent[] = [];
  for (let revision = 0; revision < 4; revision++) {
    for (const streamId of STREAMS) {
      const r = await store.append(
        streamId,
        [{ eventId: randomUUID(), type: revision === 0 ? 'AssetRegistered' : 'ThreatIdentified', schemaVersion: 1, data: { name: `${streamId} #${revision}`, n: revision }, metadata: metadata() }],
        { expectedVersion: ExpectedVersion.exact(revision - 1) },
      );
      recorded.push(...r.events);
    }
  }
  await store.close();
  return recorded;
}

type Row = { position: number; stream_id: string; revision: number; event_id: string; type: string; schema_version: number; data: string; metadata: string; recorded_at: string; prev_hash: string; hash: string; chain_hash: string; hash_version: number };

/** Opens a copy of the sample file for tampering: the triggers are dropped, as an attacker would. */
function tamper(source: string, dir: string, name: string, change: (db: Database.Database) => void): string {
  const target = join(dir, `${name}.sqlite`);
  copyFileSync(source, target);
  const db = new Database(target);
  db.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;');
  change(db);
  db.close();
  return target;
}

async function verifyFile(path: string) {
  const store = new SqliteEventStore({ path });
  try {
    return await verifyStore(store);
  } finally {
    await store.close();
  }
}

function rowAt(db: Database.Database, position: number): Row {
  return db.prepare('SELECT * FROM events WHERE position = ?').get(position) as Row;
}

/** What a competent forger does after a change: recompute every global chain link from the genesis. */
function recomputeChain(db: Database.Database): void {
  let chain = LOG_GENESIS;
  const rows = db.prepare('SELECT position, hash FROM events ORDER BY position').all() as { position: number; hash: string }[];
  const update = db.prepare('UPDATE events SET chain_hash = ? WHERE position = ?');
  for (const r of rows) {
    chain = chainHash(chain, pos(r.position), r.hash);
    update.run(chain, r.position);
  }
}

/** Shifts the events at or after `from` one position up (from the top, so the primary key never collides). */
function makeRoomAt(db: Database.Database, from: number): void {
  const max = db.prepare('SELECT MAX(position) FROM events').pluck().get() as number;
  const move = db.prepare('UPDATE events SET position = ? WHERE position = ?');
  for (let p = max; p >= from; p--) move.run(p + 1, p);
}

/** A forged event hashed as the current writer hashes (version 2, recordedAt covered). */
function forgedRow(position: number, previousChain: string, options: { computeHash: boolean }) {
  const base = {
    streamId: 'asset-forged', revision: 0, eventId: randomUUID(), type: 'AssetRetired', schemaVersion: 1, data: { reason: 'forged' }, metadata: metadata('intruder'),
    prevHash: genesisHash('asset-forged'), recordedAt: new Date().toISOString(), hashVersion: 2,
  };
  const hash = options.computeHash ? eventHash(base) : 'f'.repeat(64);
  return { ...base, position, hash, chainHash: chainHash(previousChain, pos(position), hash) };
}

function insertRow(db: Database.Database, r: ReturnType<typeof forgedRow>): void {
  db.prepare(
    `INSERT INTO events (position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at, prev_hash, hash, chain_hash, hash_version)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(r.position, r.eventId, r.streamId, r.revision, r.type, r.schemaVersion, JSON.stringify(r.data), JSON.stringify(r.metadata), r.recordedAt, r.prevHash, r.hash, r.chainHash, r.hashVersion);
}

describe('verifying the log against direct tampering with the SQLite file', () => {
  let dir: string;
  let original: string;
  let events: RecordedEvent[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'risk-ledger-integrity-'));
    original = join(dir, 'events.sqlite');
    events = await writeSampleLog(original);
    expect(existsSync(`${original}-wal`)).toBe(false); // closed cleanly: the file is complete
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the untouched log and names its head', async () => {
    const report = await verifyFile(original);
    expect(report).toEqual({
      ok: true,
      eventsChecked: 12,
      firstBrokenPosition: null,
      reason: null,
      headPosition: pos(12),
      headChainHash: events[11]!.chainHash,
      streams: 3,
      signaturesChecked: 0,
    });
  });

  it('is fenced by the file itself: UPDATE and DELETE are refused while the triggers stand', () => {
    const db = new Database(original);
    try {
      expect(() => db.prepare(`UPDATE events SET data = '{}' WHERE position = 1`).run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM events WHERE position = 12').run()).toThrow(/append-only/);
    } finally {
      db.close();
    }
  });

  it('detects an edited payload at its position', async () => {
    const file = tamper(original, dir, 'payload', (db) => db.prepare(`UPDATE events SET data = json_set(data, '$.name', 'Forged name') WHERE position = 5`).run());
    const report = await verifyFile(file);
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: pos(5), eventsChecked: 5 });
    expect(report.reason).toMatch(/event hash mismatch .*data, metadata or recordedAt was altered/);
  });

  it('detects edited metadata at its position', async () => {
    const file = tamper(original, dir, 'metadata', (db) => db.prepare(`UPDATE events SET metadata = json_set(metadata, '$.actor.id', 'someone-else') WHERE position = 7`).run());
    const report = await verifyFile(file);
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: pos(7) });
    expect(report.reason).toMatch(/event hash mismatch .*data, metadata or recordedAt was altered/);
  });

  it('detects an edited payload whose hash was recomputed: the global chain no longer covers it', async () => {
    const file = tamper(original, dir, 'payload-rehashed', (db) => {
      const r = rowAt(db, 5);
      const data = { ...JSON.parse(r.data), name: 'Forged name' };
      const hash = eventHash({ streamId: r.stream_id, revision: r.revision, eventId: r.event_id, type: r.type, schemaVersion: r.schema_version, data, metadata: JSON.parse(r.metadata), prevHash: r.prev_hash, recordedAt: r.recorded_at, hashVersion: r.hash_version });
      db.prepare('UPDATE events SET data = ?, hash = ? WHERE position = 5').run(JSON.stringify(data), hash);
    });
    const report = await verifyFile(file);
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: pos(5) });
    expect(report.reason).toMatch(/global chain broken at position 0+5/);
  });

  it('detects an event deleted in the middle at the next event', async () => {
    const file = tamper(original, dir, 'deleted', (db) => db.prepare('DELETE FROM events WHERE position = 5').run());
    const report = await verifyFile(file);
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: pos(6) });
    expect(report.reason).toMatch(/global chain broken .*deleted, inserted, reordered or rewritten/);
  });

  it('still detects the deletion when the global chain was recomputed: the stream has a gap', async () => {
    const file = tamper(original, dir, 'deleted-rechained', (db) => {
      db.prepare('DELETE FROM events WHERE position = 5').run(); // B1
      recomputeChain(db);
    });
    const report = await verifyFile(file);
    // B2 (position 8) comes after B0 (position 2).
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: pos(8) });
    expect(report.reason).toBe('revision gap in stream asset-b: expected 1, found 2 (an event of the stream was deleted or moved)');
  });

  it('cannot see the newest events deleted on its own; the export manifest (head position + chain hash) does', async () => {
    // The auditor's earlier export anchors the head.
    const before = new SqliteEventStore({ path: original });
    const { manifest } = await exportLog(before, join(dir, 'anchor.ndjson'));
    await before.close();
    expect(manifest).toMatchObject({ eventCount: 12, headPosition: pos(12), headChainHash: events[11]!.chainHash });

    const file = tamper(original, dir, 'truncated', (db) => {
      db.prepare('DELETE FROM events WHERE position > 10').run();
    });
    const alone = await verifyFile(file);
    expect(alone).toMatchObject({ ok: true, eventsChecked: 10, headPosition: pos(10) });

    const store = new SqliteEventStore({ path: file });
    try {
      const anchored = await verifyStoreAgainst(store, manifest);
      expect(anchored).toMatchObject({ ok: false, anchorOk: false });
      expect(anchored.reason).toMatch(/log ends at position 0+10 but the anchor \(a manifest, or the head this server verified\) recorded a head at position 0+12: events were removed from the end/);
    } finally {
      await store.close();
    }
    // The untouched log still contains the anchor (and would after further appends).
    const intact = new SqliteEventStore({ path: original });
    try {
      expect(await verifyStoreAgainst(intact, manifest)).toMatchObject({ ok: true, anchorOk: true });
    } finally {
      await intact.close();
    }
  });

  it('detects two events of one stream swapped, at the first of them', async () => {
    const file = tamper(original, dir, 'swapped-same-stream', (db) => {
      const move = db.prepare('UPDATE events SET position = ? WHERE position = ?');
      move.run(-1, 4); // A1
      move.run(4, 7); // A2 -> 4
      move.run(7, -1); // A1 -> 7
    });
    const report = await verifyFile(file);
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: pos(4) });
    expect(report.reason).toBe('revision gap in stream asset-a: expected 1, found 2 (an event of the stream was deleted or moved)');
  });

  it('detects two events of different streams swapped, at the first of them', async () => {
    const file = tamper(original, dir, 'swapped-streams', (db) => {
      const move = db.prepare('UPDATE events SET position = ? WHERE position = ?');
      move.run(-1, 4); // A1
      move.run(4, 5); // B1 -> 4
      move.run(5, -1); // A1 -> 5
    });
    const report = await verifyFile(file);
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: pos(4) });
    expect(report.reason).toMatch(/global chain broken at position 0+4/);
  });

  it('detects a forged event inserted in the middle: at the forgery when its hash is wrong', async () => {
    const file = tamper(original, dir, 'forged-naive', (db) => {
      makeRoomAt(db, 6);
      insertRow(db, forgedRow(6, rowAt(db, 5).chain_hash, { computeHash: false }));
    });
    const report = await verifyFile(file);
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: pos(6) });
    expect(report.reason).toMatch(/event hash mismatch/);
  });

  it('detects a well-forged event inserted in the middle at the first genuine event after it', async () => {
    const file = tamper(original, dir, 'forged', (db) => {
      makeRoomAt(db, 6);
      insertRow(db, forgedRow(6, rowAt(db, 5).chain_hash, { computeHash: true }));
    });
    const report = await verifyFile(file);
    // The forgery links correctly to what precedes it; the event after it (C1, now at 7) was chained at position 6.
    expect(report).toMatchObject({ ok: false, firstBrokenPosition: pos(7) });
    expect(report.reason).toMatch(/global chain broken at position 0+7/);
  });

  it('cannot see a forgery whose author recomputed the whole global chain; the manifest head chain hash does', async () => {
    const before = new SqliteEventStore({ path: original });
    const { manifest } = await exportLog(before, join(dir, 'anchor2.ndjson'));
    await before.close();
    const file = tamper(original, dir, 'forged-rechained', (db) => {
      makeRoomAt(db, 6);
      insertRow(db, forgedRow(6, rowAt(db, 5).chain_hash, { computeHash: true }));
      recomputeChain(db);
    });
    expect(await verifyFile(file)).toMatchObject({ ok: true, eventsChecked: 13 });
    const store = new SqliteEventStore({ path: file });
    try {
      const anchored = await verifyStoreAgainst(store, manifest);
      expect(anchored.ok).toBe(false);
      expect(anchored.reason).toMatch(/anchored head position 0+12 .*chain hash .*rewritten/);
    } finally {
      await store.close();
    }
  });
});

describe('verifyIntegrity over GraphQL', () => {
  const REGISTER = `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`;
  const VERIFY = `query($p: String, $h: String) { verifyIntegrity(anchorPosition: $p, anchorChainHash: $h) { ok eventsChecked firstBrokenPosition reason headPosition headChainHash streams anchorOk } }`;
  const asset = (name: string) => ({ name, description: 'd', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 2, integrity: 2, availability: 1 });
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('is for AUDITOR and CISO only; detects tampering after a restart and, with an anchor, a cut tail', async () => {
    for (const name of ['Signer', 'Ledger', 'Wallet']) await t.ok(REGISTER, { input: asset(name) }, users.opsManager);
    // The monitor verifies new commits once per interval: wait until it has verified these.
    await t.app.get(IntegrityMonitor).settled();
    const first = (await t.ok(VERIFY, {}, users.auditor)).verifyIntegrity;
    // Each registration appends the asset and its name reservation (two streams, two events).
    // Without an anchor from the caller, the head the server verified and recorded is the anchor.
    expect(first).toMatchObject({ ok: true, eventsChecked: 6, firstBrokenPosition: null, reason: null, headPosition: pos(6), streams: 6, anchorOk: true });
    expect(first.headChainHash).toMatch(/^[0-9a-f]{64}$/);
    expect((await t.ok(VERIFY, {}, users.ciso)).verifyIntegrity.ok).toBe(true);
    for (const user of [users.riskOwner, users.committee, users.admin]) {
      expect(errorOf(await t.gql(VERIFY, {}, user)).extensions.code).toBe('FORBIDDEN');
    }
    expect(errorOf(await t.gql(VERIFY, { p: 'nope', h: 'x' }, users.auditor)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { anchorPosition: expect.any(String), anchorChainHash: expect.any(String) } });

    // The log grows: the anchor is still contained.
    await t.ok(REGISTER, { input: asset('Vault') }, users.opsManager);
    expect((await t.ok(VERIFY, { p: first.headPosition, h: first.headChainHash }, users.auditor)).verifyIntegrity).toMatchObject({ ok: true, anchorOk: true, eventsChecked: 8 });

    // Cut the newest two events (the anchor's head among them) while the server is down.
    await t.close({ keepData: true });
    const file = join(t.dataDir, 'events.sqlite');
    let db = new Database(file);
    db.exec('DROP TRIGGER events_no_delete');
    db.prepare('DELETE FROM events WHERE position >= 3').run();
    db.close();
    t = await TestApp.start({ dataDir: t.dataDir });
    // The signed heads of the deleted commits name events that are gone (and the server had recorded a later head).
    const cut = (await t.ok(VERIFY, {}, users.auditor)).verifyIntegrity;
    expect(cut).toMatchObject({ ok: false, eventsChecked: 2 });
    expect(cut.reason).toMatch(/removed from the end|deleted/);
    const anchored = (await t.ok(VERIFY, { p: first.headPosition, h: first.headChainHash }, users.auditor)).verifyIntegrity;
    expect(anchored).toMatchObject({ ok: false, anchorOk: false });
    expect(anchored.reason).toMatch(/removed from the end/);

    // Edit a payload while the server is down.
    await t.close({ keepData: true });
    db = new Database(file);
    db.exec('DROP TRIGGER events_no_update');
    db.prepare(`UPDATE events SET data = json_set(data, '$.name', 'Renamed') WHERE position = 2`).run();
    db.close();
    t = await TestApp.start({ dataDir: t.dataDir });
    const broken = (await t.ok(VERIFY, {}, users.auditor)).verifyIntegrity;
    expect(broken).toMatchObject({ ok: false, firstBrokenPosition: pos(2), eventsChecked: 2 });
    expect(broken.reason).toMatch(/data, metadata or recordedAt was altered/);
  });
});

describe('an edited log is not rebuilt over the read models (auditor probe of 2026-12-06, F1)', () => {
  const REGISTER = `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`;
  const ASSET = `query($id: ID!) { asset(id: $id) { name } }`;
  let t: TestApp;

  afterAll(async () => {
    await t?.close();
  });

  it('rebuildProjections is INTEGRITY_BROKEN, the CLI rebuild refuses (exit 1) and verify-read-models names the log, not the read models, which keep what it said', async () => {
    t = await TestApp.start();
    const input = { name: 'Cold wallet', description: 'd', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 2, integrity: 2, availability: 1 };
    const { id } = (await t.ok(REGISTER, { input }, users.opsManager)).registerAsset;
    await t.app.get(IntegrityMonitor).settled();
    await t.close({ keepData: true });
    const file = join(t.dataDir, 'events.sqlite');
    const db = new Database(file);
    db.exec('DROP TRIGGER events_no_update');
    const edited = db.prepare(`UPDATE events SET data = json_set(data, '$.name', 'Hot wallet') WHERE type = 'AssetRegistered'`).run().changes;
    db.close();
    expect(edited).toBe(1);

    t = await TestApp.start({ dataDir: t.dataDir });
    expect(errorOf(await t.gql(`mutation { rebuildProjections { eventsApplied } }`, {}, users.admin)).extensions.code).toBe('INTEGRITY_BROKEN');
    // The read models still say what the log said before the edit.
    expect((await t.ok(ASSET, { id }, users.auditor)).asset.name).toBe('Cold wallet');
    await t.close({ keepData: true });

    const env = { EVENT_STORE: 'sqlite', DATA_DIR: t.dataDir, SQLITE_PATH: file };
    const verified = await cliInProcess(['verify-read-models'], env);
    expect(verified.code).toBe(1);
    expect(verified.json).toMatchObject({ ok: false, log: { ok: false, firstBrokenPosition: expect.stringMatching(/^\d{19}$/) }, differences: [expect.objectContaining({ table: 'assets' })] });
    expect(verified.sentence).toMatch(/^BROKEN: the event log fails verification: .*\(first broken position \d+\)\. The read models at position \d+ differ from a replay of it: assets .*they may hold what the log said before it was changed\. Keep a copy of .*read-models\.sqlite and do not rebuild; restore the log/);

    const rebuilt = await cliInProcess(['rebuild'], env);
    expect(rebuilt.code).toBe(1);
    expect(rebuilt.json).toMatchObject({ command: 'rebuild', ok: false, firstBrokenPosition: verified.json.log.firstBrokenPosition });
    expect(rebuilt.sentence).toMatch(/^BROKEN: the event log fails verification: .* Nothing was rebuilt: the read models may still hold what the log said before/);
    const readModels = new Database(join(t.dataDir, 'read-models.sqlite'), { readonly: true });
    try {
      expect(readModels.prepare(`SELECT count(*) FROM assets WHERE doc LIKE '%Cold wallet%'`).pluck().get()).toBe(1);
    } finally {
      readModels.close();
    }
    t = await TestApp.start({ dataDir: t.dataDir });
  }, 120_000);
});
