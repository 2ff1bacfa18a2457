import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HOLDER = fileURLToPath(new URL('./sqlite-lock-holder.cjs', import.meta.url));

export interface HeldSqliteLock {
  /** Lets the other process go (ROLLBACK) and resolves once it has released the lock and exited. */
  release(): Promise<void>;
}

/** Another process takes `BEGIN EXCLUSIVE` on the SQLite file at `path`; resolves once it holds the lock. */
export function holdSqliteLock(path: string): Promise<HeldSqliteLock> {
  const child: ChildProcess = spawn(process.execPath, [HOLDER, path], { stdio: ['pipe', 'pipe', 'pipe'], cwd: process.cwd() });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise<HeldSqliteLock>((resolve, reject) => {
    let holding = false;
    void exited.then((code) => holding || reject(new Error(`the lock holder exited (${code}) before it held the lock: ${err}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      if (!holding && out.includes('locked\n')) {
        holding = true;
        resolve({
          release: async () => {
            if (child.exitCode === null) child.stdin!.end('go\n');
            await exited;
          },
        });
      }
    });
  });
}
