import { expect } from '@jest/globals';
import { readFileSync } from 'node:fs';

/**
 * Polls GET /health every 10 ms until `done()` says the heavy work is over; each poll's latency in
 * ms, pushed to `polls` as it comes (the heavy work may read how many were made).
 */
export async function pollHealthUntil(base: string, done: () => boolean, polls: number[] = []): Promise<number[]> {
  while (!done()) {
    const started = performance.now();
    const response = await fetch(`${base}/health`);
    await response.arrayBuffer();
    polls.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 10));
  }
  return polls;
}

/**
 * The heavy work took long enough to be polled `minPolls` times, and no poll waited for it. On
 * these shared machines an idle server's poll already reaches 50 ms now and then, and a garbage
 * collection or the other test worker can add a pause: a few slow polls (100 ms or more: two, or
 * one in twenty) are tolerated, never a stall (500 ms), which is what work holding the event loop
 * shows (the unpaged access-log walk: one poll of about 800 ms).
 */
export function expectNoStall(polls: readonly number[], minPolls: number): void {
  expect(polls.length).toBeGreaterThan(minPolls);
  const slow = polls.filter((ms) => ms >= 100).map((ms) => Math.round(ms));
  expect(slow.length).toBeLessThanOrEqual(Math.max(2, Math.ceil(polls.length / 20)));
  expect(slow.filter((ms) => ms >= 500)).toEqual([]);
}

/**
 * The CPU time (user + system) the main thread of process `pid` has used so far, in ms (Linux
 * counts it in ticks of 10 ms); null where /proc cannot tell (not Linux, or the process is gone).
 * Unlike a poll's latency, it does not grow while the machine is busy and the thread waits for a
 * core: what one request costs the event loop, whatever else runs beside the test.
 */
export function mainThreadCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    // After the command name (in parentheses, which may hold spaces): utime and stime, the 14th and 15th fields.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

/** A GraphQL query to the server process with a bearer token; the parsed answer. */
export function postQuery(url: string, token: string, query: string): Promise<any> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) }).then((r) => r.json() as Promise<any>);
}
