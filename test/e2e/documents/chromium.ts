/**
 * Debian's headless Chromium, started from a test (`apt-get install -y chromium`; .ci/run
 * installs it). Each run gets a fresh profile folder, and nothing reaches the network.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? null;

/** Runs chromium headless with the extra arguments; resolves with its stdout. */
export function chromium(args: string[]): Promise<string> {
  if (!CHROMIUM) throw new Error('chromium is not installed (apt-get install -y chromium)');
  const profile = mkdtempSync(join(tmpdir(), 'rl-chromium-'));
  const base = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, [...base, ...args], { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
