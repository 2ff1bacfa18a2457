import type { ChildProcess } from 'node:child_process';

/**
 * Sends `signal` to `child` once `until()` holds (looked at every 2 ms, after the last look ended), unless the child has
 * exited first; resolves with whether it was seen and how the child ended.
 */
export async function signalWhen(child: ChildProcess, signal: NodeJS.Signals, until: () => boolean | Promise<boolean>): Promise<{ seen: boolean; code: number | null; signal: NodeJS.Signals | null }> {
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
  let running = true;
  void exited.then(() => (running = false));
  let seen = false;
  while (running && !seen) {
    seen = await until();
    if (!seen) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  child.kill(signal);
  return { seen, ...(await exited) };
}
