import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { cli, installationSettings } from './support/installation.js';
import { buildOnce, startServer, stopServer } from './support/server-process.js';

/**
 * The folders the server and the command line make for themselves (DATA_DIR, the store's, the read
 * models', the signing key's) hold the register, the access log and the keys: they are made for
 * their user alone (0700), whatever the umask. They took the umask's mode (0755 under the usual
 * 022): any local user could copy the log and the read models.
 */
const others = (path: string) => statSync(path).mode & 0o077;

describe('folders made by the server and the command line', () => {
  const work = mkdtempSync(join(tmpdir(), 'risk-ledger-private-'));

  beforeAll(() => buildOnce());
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('are made 0700, each level of them, under the usual umask; a folder the operator made keeps its mode', async () => {
    const operators = join(work, 'srv');
    mkdirSync(operators);
    chmodSync(operators, 0o755);
    const dataDir = join(operators, 'made', 'data');
    const env = {
      ...installationSettings(dataDir, 'private-folders-secret-0123456789abcdef'),
      SQLITE_PATH: join(work, 'store', 'log', 'events.sqlite'),
      READ_MODEL_PATH: join(work, 'models', 'read-models.sqlite'),
      SIGNING_KEY_PATH: join(work, 'keys', 'signing-key.pem'),
    };
    const server = await startServer(env);
    try {
      for (const folder of [join(operators, 'made'), dataDir, join(work, 'store'), join(work, 'store', 'log'), join(work, 'models'), join(work, 'keys')]) {
        expect([folder, others(folder)]).toEqual([folder, 0]);
      }
      expect(existsSync(join(work, 'store', 'log', 'events.sqlite'))).toBe(true);
      // The evidence folder and its shards (README probe L7: shards 0750, and so were the backup's and a restore's evidence folders).
      const manager = await signToken('private-folders-secret-0123456789abcdef', { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
      const upload = await fetch(server.url.replace('/graphql', '/evidence'), { method: 'POST', headers: { authorization: `Bearer ${manager}`, 'content-type': 'text/plain', 'x-filename': 'minutes.txt' }, body: 'minutes' });
      expect(upload.status).toBe(201);
      const shards = (root: string) => readdirSync(root).filter((name) => !name.startsWith('.')).map((name) => join(root, name));
      for (const folder of [join(dataDir, 'evidence'), ...shards(join(dataDir, 'evidence'))]) expect([folder, others(folder)]).toEqual([folder, 0]);
      const backup = join(work, 'backups', 'b1');
      expect((await cli(['backup', '--out', backup], env)).code).toBe(0);
      for (const folder of [backup, join(backup, 'evidence'), ...shards(join(backup, 'evidence'))]) expect([folder, others(folder)]).toEqual([folder, 0]);
      const restoredDir = join(work, 'restored');
      const restoredEnv = { ...installationSettings(restoredDir, 'private-folders-secret-0123456789abcdef'), SIGNING_KEY_PATH: env.SIGNING_KEY_PATH };
      expect((await cli(['restore', '--from', backup], restoredEnv)).code).toBe(0);
      for (const folder of [join(restoredDir, 'evidence'), ...shards(join(restoredDir, 'evidence'))]) expect([folder, others(folder)]).toEqual([folder, 0]);
    } finally {
      await stopServer(server);
    }
    expect(others(operators)).toBe(0o055);
    // The development key's folder, made by the token command before any server ran.
    const { JWT_SECRET: _secret, ...withoutSecret } = installationSettings(join(work, 'token-first', 'data'), 'unused');
    expect((await cli(['token', '--sub', 'alice', '--roles', 'AUDITOR'], withoutSecret)).code).toBe(0);
    expect([others(join(work, 'token-first')), others(join(work, 'token-first', 'data'))]).toEqual([0, 0]);
  }, 90_000);
});
