import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { asset, cli, gql, installationSettings, REGISTER } from './support/installation.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';

/**
 * `risk-ledger restore` killed while it puts the backup's files in place (step 4), at every other
 * rename it makes, then run again (re-probe of 2026-12-07): the second run finished the job in a
 * second `before-restore-*` folder and named only that one, reported the backup's own half-placed
 * log (or none) as the log replaced (M1), and, when the backup held no signing key, failed every
 * time once the installation's key had been moved aside (M2).
 */
const SECRET = 'restore-interrupted-secret-0123456789abcdef';
const KILLER = join(process.cwd(), 'test/e2e/support/kill-at-rename.mjs');

describe('a restore killed while it puts files in place', () => {
  const work = mkdtempSync(join(tmpdir(), 'risk-ledger-restore-killed-'));
  const dataDir = join(work, 'data');
  const outsideKey = join(work, 'keys', 'signing-key.pem');
  const backup = join(work, 'backups', 'without-key');
  let server: ServerProcess | undefined;

  beforeAll(() => buildOnce());
  afterAll(async () => {
    if (server) await stopServer(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('is finished by the same restore run again, whatever the rename it was killed at: one folder of replaced files, the log replaced named, the key kept', async () => {
    // A backup taken while the signing key lived outside DATA_DIR: it holds no key.
    const taken = { ...installationSettings(dataDir, SECRET), SIGNING_KEY_PATH: outsideKey };
    server = await startServer(taken);
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    const auditor = await signToken(SECRET, { sub: 'aud', roles: ['AUDITOR'] });
    for (let i = 0; i < 4; i++) expect((await gql(server.url, manager, REGISTER, asset(`kept ${i}`))).data.registerAsset.id).toBeTruthy();
    await stopServer(server);
    server = undefined;
    const made = await cli(['backup', '--out', backup], taken);
    expect(made).toMatchObject({ code: 0, json: { ok: true, signingKeyCopied: false } });
    const head: string = made.json.headPosition;

    // Now the same key lives in DATA_DIR (SIGNING_KEY_PATH's default): the restore keeps it.
    copyFileSync(outsideKey, join(dataDir, 'signing-key.pem'));
    const settings = installationSettings(dataDir, SECRET);
    // Counted over an installation as each killed run below finds it (the first restore replaces a server's files, more of them).
    expect(await cli(['restore', backup], settings)).toMatchObject({ code: 0 });
    const trace = join(work, 'renames.txt');
    expect(await cli(['restore', backup], { ...settings, NODE_OPTIONS: `--import ${KILLER}`, RENAME_TRACE: trace })).toMatchObject({ code: 0 });
    const renames = readFileSync(trace, 'utf8').trim().split('\n').length;
    expect(renames).toBeGreaterThan(8);

    const asideFolders = () => readdirSync(dataDir).filter((entry) => entry.startsWith('before-restore-')).sort();
    for (let at = 2; at <= renames; at += 2) {
      const folders = asideFolders();
      const killed = await cli(['restore', backup], { ...settings, NODE_OPTIONS: `--import ${KILLER}`, KILL_AT_RENAME: String(at) });
      expect([at, killed.code]).toEqual([at, null]);
      const mark = JSON.parse(readFileSync(join(dataDir, 'restore-in-progress.json'), 'utf8'));
      const again = await cli(['restore', backup], settings);
      expect([at, again.code, again.json?.ok]).toEqual([at, 0, true]);
      const added = asideFolders().filter((f) => !folders.includes(f));
      // One folder holds what this pair of runs replaced, the one the mark named; the log replaced is the installation's.
      expect([at, added, again.json.movedAside, again.json.replacedHeadPosition, again.json.finishedRestoreStartedAt]).toEqual([at, [expect.any(String)], [mark.movedAsideTo], head, mark.startedAt]);
      expect([at, join(dataDir, added[0]!)]).toEqual([at, mark.movedAsideTo]);
      expect([at, readdirSync(mark.movedAsideTo).sort()]).toEqual([at, expect.arrayContaining(['events.sqlite', 'read-models.sqlite', 'access-log.sqlite', 'integrity-state.json', 'signing-key.pem'])]);
      expect(existsSync(join(dataDir, 'restore-in-progress.json'))).toBe(false);
      expect(readFileSync(join(dataDir, 'signing-key.pem'))).toEqual(readFileSync(outsideKey));
    }

    // A rename failing while the copies go in place, then a kill while the files are moved back
    // (re-probe of 08:52, H1: the mark still said 'placing', and the next run deleted the
    // installation's log, moved back already, as a copy of its own).
    const lines = readFileSync(trace, 'utf8').trim().split('\n');
    const placing = lines.findIndex((line, i) => line.endsWith('restore-in-progress.json') && i > 0) + 1; // the mark's rename to 'placing'
    expect(placing).toBeGreaterThan(2);
    for (const killAt of [placing + 4, placing + 6]) {
      const folders = asideFolders();
      const failed = await cli(['restore', backup], { ...settings, NODE_OPTIONS: `--import ${KILLER}`, FAIL_AT_RENAME: String(placing + 2), KILL_AT_RENAME: String(killAt) });
      expect([killAt, failed.code]).toEqual([killAt, null]);
      const again = await cli(['restore', backup], settings);
      expect([killAt, again.code, again.json?.replacedHeadPosition]).toEqual([killAt, 0, head]);
      const added = asideFolders().filter((f) => !folders.includes(f));
      expect([killAt, added.length, readdirSync(join(dataDir, added[0]!)).sort()]).toEqual([killAt, 1, expect.arrayContaining(['events.sqlite', 'read-models.sqlite', 'access-log.sqlite', 'integrity-state.json'])]);
    }

    server = await startServer(settings);
    const health = (await (await fetch(server.url.replace('/graphql', '/health'))).json()) as { status: string };
    expect(health.status).toBe('ok');
    const page: any = await gql(server.url, auditor, `{ assets(first: 50) { totalCount } }`);
    expect(page.data.assets.totalCount).toBe(4);
    await stopServer(server);
    server = undefined;
    expect(await cli(['verify-store'], settings)).toMatchObject({ code: 0, json: { ok: true } });
  }, 240_000);
});
