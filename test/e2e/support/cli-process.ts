import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(process.cwd(), 'dist/src/cli/main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON line of the result. */
  json: any;
  /** The sentence after it. */
  sentence: string;
}

/** Runs the compiled CLI as its own process (a server in this one goes on answering meanwhile), with the given settings added to the environment. */
export function cliProcess(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const [first, second] = stdout.split('\n');
      let json: any = null;
      try {
        json = JSON.parse(first ?? '');
      } catch {
        json = null;
      }
      resolve({ code, stdout, stderr, json, sentence: second ?? '' });
    });
  });
}
