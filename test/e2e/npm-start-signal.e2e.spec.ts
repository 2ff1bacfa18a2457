import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_JWT_SECRET } from './support/test-app.js';

/**
 * The README's `npm start` stopped by its process manager: SIGTERM goes to npm, which passes it
 * to the script's shell. The script ran `npm run -s build && node dist/src/main.js`, so the shell
 * died and the server went on, orphaned, holding its port and its data folder's lock, and never
 * logged `shut down` (found at the end of the session of 2026-12-06 by the server check). The
 * script now `exec`s node: the server is npm's child and stops as the Shutdown section says.
 */
describe('npm start under SIGTERM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-npm-start-'));
  let npm: ChildProcess | undefined;
  afterAll(() => {
    if (npm && npm.exitCode === null) npm.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches the server, which shuts down and exits; nothing keeps serving', async () => {
    const scripts = (JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toMatch(/&& exec node /);
    expect(scripts['start:dev']).toMatch(/&& exec /);

    const env = { ...process.env, PORT: '0', LOG_LEVEL: 'info', EVENT_STORE: 'sqlite', DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite'), JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'test' };
    npm = spawn('npm', ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    npm.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    npm.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => npm!.once('exit', (code) => resolve(code)));
    for (const deadline = Date.now() + 110_000; !/"url":"http:\/\/localhost:\d+\/graphql"/.test(out); ) {
      if (Date.now() > deadline || npm.exitCode !== null) throw new Error(`npm start did not serve:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = /"url":"(http:\/\/localhost:\d+)\/graphql"/.exec(out)![1]!.replace('localhost', '127.0.0.1');
    expect((await fetch(`${url}/health/live`)).status).toBe(200);

    npm.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/"msg":"shut down"/);
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();
  }, 150_000);
});
