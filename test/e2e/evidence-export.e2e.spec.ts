import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { LOG_GENESIS, chainHash, eventHash, genesisHash } from '../../src/event-store/hash-chain.js';
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';
import { readLog } from '../../src/event-store/integrity-verifier.js';
import { buildOnce } from './support/server-process.js';
import { cliProcess } from './support/cli-process.js';
import { TestApp, errorOf, users } from './support/test-app.js';


const cli = cliProcess;

const storeEnv = (dir: string) => ({ EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir });

async function allEvents(path: string): Promise<RecordedEvent[]> {
  const store = new SqliteEventStore({ path });
  try {
    const out: RecordedEvent[] = [];
    for await (const e of readLog(store)) out.push(e);
    return out;
  } finally {
    await store.close();
  }
}

const REGISTER = `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id version } }`;
const THREAT = `mutation($input: IdentifyThreatInput!) { identifyThreat(input: $input) { id version } }`;
const PROPOSE = `mutation($input: ProposeRiskCriteriaInput!) { proposeRiskCriteria(input: $input) { id number } }`;
const ASSETS = `{ assets(first: 500) { totalCount edges { cursor node { id version name department value status threats { id name affects } } } } }`;
const REBUILD = `mutation { rebuildProjections { eventsApplied position durationMs } }`;

const criteria = {
  likelihoodLevels: ['Rare', 'Possible', 'Likely'],
  impactLevels: ['Minor', 'Moderate', 'Severe'],
  riskLevels: ['Low', 'Medium', 'High'],
  matrix: [['Low', 'Low', 'Medium'], ['Low', 'Medium', 'High'], ['Medium', 'High', 'High']],
  acceptanceLevel: 'Low',
  impactByAssetValue: [1, 2, 3],
  baselineGapThresholds: [0.2, 0.5],
  detailedLikelihoodThresholds: [3, 6],
  requiredMethods: [{ minAssetValue: 1, method: 'BASELINE' }],
  reviewIntervalDays: [{ level: 'Low', days: 365 }, { level: 'Medium', days: 180 }, { level: 'High', days: 90 }],
};


/** The kernel's lock files stay once made (src/platform/kernel-lock.ts): not something a refused import left. */
const notKernelLock = (name: string): boolean => !name.endsWith('.lock.held');

describe('evidence export, offline verification, import and rebuild (CLI)', () => {
  let t: TestApp;
  let work: string;
  let exportFile: string;
  let criteriaId: string;
  let eventCount = 0;
  /** The server's public key in a PEM file: what an operator gives `import --trusted-key`. */
  const exporterPublicKey = (): string => {
    const file = join(work, 'exporter-public.pem');
    writeFileSync(file, createPublicKey(createPrivateKey(readFileSync(join(t.dataDir, 'signing-key.pem'), 'utf8'))).export({ type: 'spki', format: 'pem' }).toString());
    return file;
  };

  beforeAll(async () => {
    buildOnce();
    work = mkdtempSync(join(tmpdir(), 'risk-ledger-evidence-'));
    t = await TestApp.start();
    for (let i = 0; i < 12; i++) {
      const a = (await t.ok(REGISTER, { input: { name: `Asset ${i}`, description: 'd', category: 'SYSTEM', department: i % 2 ? 'ops' : 'finance', managerId: 'm', confidentiality: 1 + (i % 3), integrity: 2, availability: 1 } }, users.ciso)).registerAsset;
      if (i % 3 === 0) await t.ok(THREAT, { input: { assetId: a.id, name: `Threat ${i}`, affects: ['INTEGRITY'] } }, users.ciso);
    }
    // A command with a commandId that writes two streams at once (the asset and its name's reservation):
    // its idempotency key stands for the first part only, and an import must restore it so.
    await t.ok(REGISTER, { input: { name: 'Asset with a commandId', description: 'd', category: 'SYSTEM', department: 'ops', managerId: 'm', confidentiality: 1, integrity: 1, availability: 1, commandId: 'retry-1' } }, users.ciso);
    criteriaId = (await t.ok(PROPOSE, { input: criteria }, users.committee)).proposeRiskCriteria.id;
    eventCount = (await t.ok(`{ verifyIntegrity { eventsChecked } }`, {}, users.auditor)).verifyIntegrity.eventsChecked;
    exportFile = join(work, 'evidence.ndjson');
  }, 120_000);

  afterAll(async () => {
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('exports the log while the server runs, and verifies it offline', async () => {
    const exported = await cli(['export', '--out', exportFile], storeEnv(t.dataDir));
    expect(exported.code).toBe(0);
    expect(exported.json).toMatchObject({ command: 'export', ok: true, eventCount, format: 'risk-ledger-export/2' });
    // Logs and the progress bar go to stderr, as JSON lines and text; stdout holds only the result.
    expect(exported.stderr).toMatch(/"msg":"export started"/);
    expect(exported.stderr).toMatch(new RegExp(`export .* ${eventCount}/${eventCount} events`));
    expect(exported.stdout.trim().split('\n')).toHaveLength(2);

    const lines = readFileSync(exportFile, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(eventCount);
    const stored = await allEvents(join(t.dataDir, 'events.sqlite'));
    expect(lines.map((l) => JSON.parse(l))).toEqual(stored);
    expect(Object.keys(JSON.parse(lines[0]!))).toEqual(['chainHash', 'data', 'eventId', 'hash', 'hashVersion', 'metadata', 'position', 'prevHash', 'recordedAt', 'revision', 'schemaVersion', 'streamId', 'type']);

    const manifest = JSON.parse(readFileSync(`${exportFile}.manifest.json`, 'utf8'));
    const last = stored[stored.length - 1]!;
    // Format 2: the signed commit heads beside the events, and the keys the server trusted.
    expect(manifest.signatures.count).toBeGreaterThan(0);
    expect(readFileSync(`${exportFile}.signatures.ndjson`, 'utf8').trim().split('\n')).toHaveLength(manifest.signatures.count);
    expect(manifest.publicKeys).toEqual([expect.objectContaining({ alg: 'Ed25519', kid: expect.stringMatching(/^[0-9a-f]{16}$/) })]);
    expect(manifest).toMatchObject({
      format: 'risk-ledger-export/2',
      eventCount,
      firstPosition: stored[0]!.position,
      headPosition: last.position,
      headChainHash: last.chainHash,
      criteriaVersions: [{ criteriaId, number: 1 }],
      timeRange: { from: stored[0]!.recordedAt, to: last.recordedAt },
      integrity: { ok: true, firstBrokenPosition: null, reason: null },
    });
    expect(Object.keys(manifest.streamHeads)).toHaveLength(new Set(stored.map((e) => e.streamId)).size);
    expect(manifest.streamHeads[last.streamId]).toEqual({ revision: last.revision, hash: last.hash });
    expect(manifest.ndjsonSha256).toMatch(/^[0-9a-f]{64}$/);

    // No server, no database: only the two files.
    const verified = await cli(['verify', exportFile], { EVENT_STORE: 'postgres', SQLITE_PATH: '/nonexistent/x.sqlite' });
    expect(verified.code).toBe(0);
    expect(verified.json).toMatchObject({ command: 'verify', ok: true, eventsChecked: eventCount, firstBrokenPosition: null, reason: null, headChainHash: last.chainHash, manifestChecked: true, sha256: manifest.ndjsonSha256 });
    expect(verified.sentence).toMatch(/^OK: \d+ events in \d+ streams verify/);

    // Renamed as a whole, as FILE's companions are named (new-user probe of 2026-12-05, 1: BROKEN, the signatures "not found").
    const renamed = join(mkdtempSync(join(work, 'renamed-')), 'audit-2026.ndjson');
    for (const suffix of ['', '.manifest.json', '.signatures.ndjson']) copyFileSync(`${exportFile}${suffix}`, `${renamed}${suffix}`);
    const again = await cli(['verify', renamed]);
    expect(again.json).toMatchObject({ command: 'verify', ok: true, eventsChecked: eventCount, manifestChecked: true });
    // Without its signatures file, the verdict names it first, not only the events no signed head covers.
    rmSync(`${renamed}.signatures.ndjson`);
    const unsigned = await cli(['verify', renamed]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.json.reason).toMatch(/^signatures file .*audit-2026\.ndjson\.signatures\.ndjson not found: the export's signed heads cannot be checked/);
  });

  it('fails the verification of an export with an edited line, naming the position', async () => {
    const lines = readFileSync(exportFile, 'utf8').split('\n');
    const target = JSON.parse(lines[4]!);
    target.data.name = 'Edited after export';
    lines[4] = JSON.stringify(target);
    const file = join(work, 'edited.ndjson');
    writeFileSync(file, lines.join('\n'));
    copyFileSync(`${exportFile}.manifest.json`, `${file}.manifest.json`);
    const r = await cli(['verify', file]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, firstBrokenPosition: target.position, eventsChecked: 5 });
    expect(r.json.reason).toMatch(/event hash mismatch .*data, metadata or recordedAt was altered/);
    expect(r.sentence).toMatch(/^BROKEN: event hash mismatch/);
  });

  it('fails the verification of an export whose last line was dropped: the manifest catches what the chain cannot', async () => {
    const lines = readFileSync(exportFile, 'utf8').trim().split('\n');
    const file = join(work, 'truncated.ndjson');
    writeFileSync(file, lines.slice(0, -1).join('\n') + '\n');
    copyFileSync(`${exportFile}.manifest.json`, `${file}.manifest.json`);
    const r = await cli(['verify', file]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, eventsChecked: eventCount - 1 });
    // The export's signed heads name the dropped head (the manifest would too).
    expect(r.json.reason).toMatch(/removed from the end|newest events were deleted/);

    // Without its manifest, a cut export cannot be told from a complete one: refused, not passed.
    const alone = join(work, 'no-manifest.ndjson');
    copyFileSync(file, alone);
    const r2 = await cli(['verify', alone]);
    expect(r2.code).toBe(1);
    expect(r2.json.reason).toMatch(/manifest .* not found/);
  });

  it('fails when only recordedAt was changed: the event hash covers it (hash version 2)', async () => {
    const lines = readFileSync(exportFile, 'utf8').trim().split('\n');
    const e = JSON.parse(lines[2]!);
    e.recordedAt = '2001-01-01T00:00:00.000Z';
    const keys = Object.keys(e).sort();
    lines[2] = JSON.stringify(Object.fromEntries(keys.map((k) => [k, e[k]])));
    const file = join(work, 'backdated.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');
    copyFileSync(`${exportFile}.manifest.json`, `${file}.manifest.json`);
    const r = await cli(['verify', file]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, firstBrokenPosition: e.position });
    expect(r.json.reason).toMatch(/event hash mismatch .*recordedAt/);
  });

  it("refuses an export signed by a key this installation does not trust, whatever the export's manifest says, and leaves nothing behind", async () => {
    // A new installation trusts its own (new) key only: the export names its key, which is not enough.
    const target = mkdtempSync(join(work, 'import-untrusted-'));
    const r = await cli(['import', exportFile], storeEnv(target));
    expect(r.code).toBe(2);
    expect(r.json.error).toMatch(/does not verify: .*which this verifier does not trust.*--trusted-key/);
    expect(readdirSync(target).filter(notKernelLock)).toEqual([]);
    // Another installation's key, named as trusted, is not the exporter's either.
    const other = join(work, 'other-public.pem');
    writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString());
    expect((await cli(['import', exportFile, '--trusted-key', other], storeEnv(target))).code).toBe(2);
  });

  it('refuses an unsigned history even when every hash is right: one rewritten as hash version 1, whose events may stand unsigned offline', async () => {
    // What someone without any key can make: an event renamed, every event set to hash version 1
    // (hashed before signing existed), every hash and link recomputed, no signed head, and a
    // manifest that matches. `verify` takes such a legacy history; an import would sign it anew.
    const lines = readFileSync(exportFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const heads = new Map<string, string>();
    let chain = LOG_GENESIS;
    for (const e of lines) {
      if (e.type === 'ThreatIdentified') e.data.name = 'FORGED threat name';
      e.hashVersion = 1;
      e.prevHash = heads.get(e.streamId) ?? genesisHash(e.streamId);
      e.hash = eventHash(e);
      heads.set(e.streamId, e.hash);
      e.chainHash = chainHash(chain, e.position, e.hash);
      chain = e.chainHash;
    }
    const forged = join(work, 'forged-v1.ndjson');
    const text = lines.map((e) => JSON.stringify(Object.fromEntries(Object.entries(e).sort()))).join('\n') + '\n';
    writeFileSync(forged, text);
    writeFileSync(`${forged}.signatures.ndjson`, '');
    const manifest = JSON.parse(readFileSync(`${exportFile}.manifest.json`, 'utf8'));
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    writeFileSync(`${forged}.manifest.json`, JSON.stringify({
      ...manifest, ndjsonSha256: sha(text), headChainHash: chain, publicKeys: [],
      signatures: { ...manifest.signatures, file: 'forged-v1.ndjson.signatures.ndjson', count: 0, sha256: sha('') },
      streamHeads: Object.fromEntries(lines.map((e) => [e.streamId, { revision: e.revision, hash: e.hash }])),
    }));
    const target = mkdtempSync(join(work, 'import-forged-'));
    const r = await cli(['import', forged, '--trusted-key', exporterPublicKey()], storeEnv(target));
    expect(r.code).toBe(2);
    expect(r.json.error).toMatch(/does not verify: .*covered by no signed head of a trusted key/);
    expect(readdirSync(target).filter(notKernelLock)).toEqual([]);
  });

  it('imports an export into an empty store with identical hashes, positions, chain and commit instants; refuses a non-empty store', async () => {
    const target = mkdtempSync(join(work, 'import-'));
    const r = await cli(['import', exportFile, '--trusted-key', exporterPublicKey()], storeEnv(target));
    expect(r.stderr).not.toMatch(/"level":"error"/);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ command: 'import', ok: true, eventsImported: eventCount, hashesIdentical: true, positionsPreserved: true, headChainHashIdentical: true, recordedAtPreserved: true });
    // The closing check reads the target again with its signed heads (signed with this installation's key).
    expect((r.json as { report: { signaturesChecked: number } }).report.signaturesChecked).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/^check \[/m);
    const original = (await allEvents(join(t.dataDir, 'events.sqlite'))).slice(0, eventCount);
    const imported = await allEvents(join(target, 'events.sqlite'));
    // Everything as it was, recordedAt included, so asOf by instant answers as on the original.
    expect(imported).toEqual(original);
    // The idempotency keys of commands that carried a commandId come back too, each against the same
    // events (registerAsset's against its first part only), and the store verifies.
    const keys = (file: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT key, stream_id, first_position, last_position FROM idempotency ORDER BY key').all();
      } finally {
        db.close();
      }
    };
    expect(keys(join(target, 'events.sqlite'))).toEqual(keys(join(t.dataDir, 'events.sqlite')));
    expect(keys(join(target, 'events.sqlite'))).toContainEqual(expect.objectContaining({ key: `${users.ciso.sub}:retry-1` }));
    expect((await cli(['verify-store'], storeEnv(target))).json).toMatchObject({ ok: true, eventsChecked: eventCount });

    const again = await cli(['import', exportFile, '--trusted-key', exporterPublicKey()], storeEnv(target));
    expect(again.code).toBe(2);
    expect(again.json.error).toMatch(/not empty/);
  });

  it('an export to a full disk ends at once with the error and leaves no file (it sat idle for ever)', async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'risk-ledger-full-export-'));
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]).status !== 0) {
      rmSync(mnt, { recursive: true, force: true });
      return; // mount needs root: nothing to check here
    }
    try {
      spawnSync('dd', ['if=/dev/zero', `of=${join(mnt, 'ballast')}`, 'bs=4k', 'count=1000']);
      const r = await cli(['export', '--out', join(mnt, 'evidence.ndjson')], storeEnv(t.dataDir));
      expect(r.code).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toMatch(/ENOSPC|no space left/i);
      expect(readdirSync(mnt)).toEqual(['ballast']);
    } finally {
      spawnSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses to import an export that does not verify', async () => {
    const target = mkdtempSync(join(work, 'import-bad-'));
    const r = await cli(['import', join(work, 'edited.ndjson'), '--trusted-key', exporterPublicKey()], storeEnv(target));
    expect(r.code).toBe(2);
    expect(r.json.error).toMatch(/does not verify: event hash mismatch/);
    // Refused, it leaves nothing behind: no store, no signing key made for it.
    expect(readdirSync(target).filter(notKernelLock)).toEqual([]);
  });

  it('checks the live store against the manifest: it still contains the exported head while it grows', async () => {
    const manifest = `${exportFile}.manifest.json`;
    await t.ok(REGISTER, { input: { name: 'After the export', description: 'd', category: 'SYSTEM', department: 'ops', managerId: 'm', confidentiality: 1, integrity: 1, availability: 1 } }, users.ciso);
    const grown = await cli(['verify-store', '--manifest', manifest], storeEnv(t.dataDir));
    expect(grown.code).toBe(0);
    // The asset and its name reservation.
    expect(grown.json).toMatchObject({ ok: true, anchorOk: true, eventsChecked: eventCount + 2 });
  });

  it('verify-store without the signing key names the missing key instead of leaving "not proven" alone', async () => {
    const elsewhere = mkdtempSync(join(work, 'no-key-'));
    const r = await cli(['verify-store'], { EVENT_STORE: 'sqlite', SQLITE_PATH: join(t.dataDir, 'events.sqlite'), DATA_DIR: elsewhere });
    expect(r.code).toBe(1);
    expect(r.sentence).toMatch(/which this verifier does not trust.*The signing key .*no-key-\w+\/signing-key\.pem is missing: restore it/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('rebuilds every read model from zero (CLI with the server stopped, and the ADMIN mutation) leaving the assets query equal', async () => {
    const before = (await t.ok(ASSETS, {}, users.auditor)).assets;
    expect(before.totalCount).toBe(14); // 12, the one with a commandId, and one more registered by the test before

    // ADMIN only.
    expect(errorOf(await t.gql(REBUILD, {}, users.auditor)).extensions.code).toBe('FORBIDDEN');
    expect(errorOf(await t.gql(REBUILD, {}, users.ciso)).extensions.code).toBe('FORBIDDEN');
    const viaApi = (await t.ok(REBUILD, {}, users.admin)).rebuildProjections;
    expect(viaApi).toMatchObject({ eventsApplied: eventCount + 2, position: expect.stringMatching(/^\d{19}$/), durationMs: expect.any(Number) });
    expect((await t.ok(ASSETS, {}, users.auditor)).assets).toEqual(before);

    // The CLI works on the files with the server stopped; spoil the read model first so the rebuild has to work.
    await t.close({ keepData: true });
    const readModels = new Database(join(t.dataDir, 'read-models.sqlite'));
    readModels.prepare('DELETE FROM assets').run();
    readModels.close();
    const r = await cli(['rebuild'], storeEnv(t.dataDir));
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ command: 'rebuild', ok: true, eventsApplied: eventCount + 2, durationMs: expect.any(Number) });
    expect(r.sentence).toMatch(/^Rebuilt every read model from \d+ events in \d+ ms/);
    expect(r.stderr).toMatch(/rebuild: verifying the log and applying it .*\d+\/\d+ events/);
    t = await TestApp.start({ dataDir: t.dataDir });
    expect((await t.ok(ASSETS, {}, users.auditor)).assets).toEqual(before);
  }, 60_000);

  it('answers usage errors with exit status 2', async () => {
    expect((await cli(['export'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli([])).code).toBe(2);
  });

  // Last: it writes to the log, which the tests above count.
  it('an export never replaces an earlier one, one that fails late leaves nothing under its names, and none writes through a planted link', async () => {
    const dir = mkdtempSync(join(work, 'late-failure-'));
    const file = join(dir, 'evidence.ndjson');
    expect((await cli(['export', '--out', file], storeEnv(t.dataDir))).code).toBe(0);
    const files = () => Object.fromEntries(readdirSync(dir).filter((name) => !name.endsWith('.evidence')).map((name) => [name, readFileSync(join(dir, name)).toString('base64')]));
    const before = files();
    await t.ok(REGISTER, { input: { name: 'After the first export', description: 'd', category: 'SYSTEM', department: 'ops', managerId: 'm', confidentiality: 1, integrity: 1, availability: 1 } }, users.ciso);
    // An export over an earlier one is refused, naming it: its manifest may be kept as an anchor (README probe L3: it was replaced without a word).
    const over = await cli(['export', '--out', file], storeEnv(t.dataDir));
    expect([over.code, over.stderr]).toEqual([2, expect.stringMatching(/evidence\.ndjson exists: export writes a new file and its manifest/)]);
    expect(files()).toEqual(before);
    // The manifest cannot be written (its temporary name is taken by a folder): the export fails late, and leaves no export under its names.
    const second = join(dir, 'second.ndjson');
    mkdirSync(`${second}.manifest.json.partial`);
    const failed = await cli(['export', '--out', second], storeEnv(t.dataDir));
    expect(failed.code).not.toBe(0);
    rmSync(`${second}.manifest.json.partial`, { recursive: true });
    // Was (over an earlier export): the new log and signatures under their names beside the old manifest ("altered" on verify).
    const after = files();
    expect(after).toEqual(before);
    expect((await cli(['verify', file], {})).code).toBe(0);

    // A link planted at the temporary name is replaced, not written through.
    const victim = join(work, 'not-an-export.txt');
    writeFileSync(victim, 'keep me');
    symlinkSync(victim, `${second}.partial`);
    expect((await cli(['export', '--out', second], storeEnv(t.dataDir))).code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(lstatSync(second).isSymbolicLink()).toBe(false);
    expect((await cli(['verify', second], {})).code).toBe(0);
  }, 60_000);

});
