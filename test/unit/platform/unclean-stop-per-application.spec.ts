import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_CONFIG, loadConfig } from '../../../src/config/app-config.js';
import { DATA_DIR_LOCK_FILE } from '../../../src/config/own-files.js';
import { PlatformModule } from '../../../src/platform/platform.module.js';
import { UNCLEAN_STOP, type UncleanStop } from '../../../src/platform/unclean-stop.js';

const TEST_JWT_SECRET = 'unclean-stop-per-application-secret-0123456789';

/**
 * How the previous run ended is each application's own (UNCLEAN_STOP, derived from its lock and
 * its store): several applications built from ONE PlatformModule.forRoot definition (tests start
 * several in a process) must not see each other's. forRoot once kept it in a closure variable
 * shared by all of them, set by whichever application's store opened last.
 */
describe('UNCLEAN_STOP per application', () => {
  const dirs: string[] = [];
  const saved = { ...process.env };

  beforeAll(() => {
    process.env.EVENT_STORE = 'sqlite';
    delete process.env.DATABASE_URL;
    delete process.env.READ_MODEL_PATH;
    process.env.JWT_SECRET = TEST_JWT_SECRET;
    process.env.LOG_LEVEL = 'silent';
    process.env.DATA_DIR = mkdtempSync(join(tmpdir(), 'unclean-stop-env-'));
    dirs.push(process.env.DATA_DIR);
  });

  afterAll(() => {
    process.env = saved;
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function start(definition: ReturnType<typeof PlatformModule.forRoot>, stale: boolean) {
    const dataDir = mkdtempSync(join(tmpdir(), 'unclean-stop-app-'));
    dirs.push(dataDir);
    // A lock left by a process that is gone: this start takes it over.
    if (stale) writeFileSync(join(dataDir, DATA_DIR_LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: 'then' }));
    const config = loadConfig({ ...process.env, DATA_DIR: dataDir, SQLITE_PATH: join(dataDir, 'events.sqlite') });
    const app = await Test.createTestingModule({ imports: [definition] }).overrideProvider(APP_CONFIG).useValue(config).compile();
    return { stale, found: app.get<UncleanStop | null>(UNCLEAN_STOP), close: () => app.close() };
  }

  it('applications built from the same definition, started together, each see their own previous run', async () => {
    const definition = PlatformModule.forRoot([]);
    for (let round = 0; round < 4; round++) {
      const apps = await Promise.all([start(definition, true), start(definition, false), start(definition, true), start(definition, false)]);
      try {
        // An empty event log: the stale one's head is null, but the unclean stop is found.
        expect(apps.map((a) => a.found)).toEqual(apps.map((a) => (a.stale ? { head: null } : null)));
      } finally {
        for (const a of apps) await a.close();
      }
    }
  });
});
