import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.cwd();
const MAIN = join(ROOT, 'dist/src/main.js');

/** Compiles the application (incremental) so a real server process can be started from dist/. */
export function buildOnce(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (!existsSync(MAIN) || statSync(MAIN).size === 0) throw new Error('build produced no dist/src/main.js');
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/**
 * Starts `node dist/src/main.js` as its own process and resolves with its GraphQL URL once it serves.
 * The deadline only catches a server that never starts: a loaded CI machine took more than 20 s to
 * print a first line (2026-12-02, full run beside CPU-load probes). A server given up on is killed,
 * so that it holds no port, lock or database connection after the failure.
 */
export function startServer(env: Record<string, string>, options: { wrapWith?: string[] } = {}): Promise<ServerProcess> {
  // wrapWith: a command that runs the server (e.g. unshare, for a PID namespace of its own).
  const [command, ...args] = [...(options.wrapWith ?? []), process.execPath, MAIN];
  const child = spawn(command!, args, { env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within 60 s:\n${out}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:\/\/localhost:\d+\/graphql)"/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!.replace('localhost', '127.0.0.1'), output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}

export function stopServer(server: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve();
    server.child.removeAllListeners('exit');
    server.child.once('exit', () => resolve());
    server.child.kill(signal);
  });
}
