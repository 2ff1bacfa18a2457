/**
 * The e2e bench's summary of a CPU profile by phase (bench/support/profile-phases.ts), on a
 * profile made by hand: which phase each sample goes to, and the time per request.
 */
import { describe, expect, it } from '@jest/globals';
import { phasesOf, phaseTable, type CpuProfile } from '../../../bench/support/profile-phases.js';

/** A profile from a list of stacks (root first: `functionName url`) and each one's sampled microseconds. */
function profileOf(stacks: [frames: string[], us: number][]): CpuProfile {
  const nodes: CpuProfile['nodes'] = [{ id: 1, callFrame: { functionName: '(root)', url: '' }, children: [] }];
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  for (const [frames, us] of stacks) {
    let parent = nodes[0]!;
    for (const frame of frames) {
      const [, functionName, url = ''] = /^(.*?)(?: ((?:file|node):\S*))?$/.exec(frame)!;
      const child = (parent.children ?? []).map((id) => nodes.find((n) => n.id === id)!).find((n) => n.callFrame.functionName === functionName && n.callFrame.url === url);
      if (child) parent = child;
      else {
        const node = { id: nodes.length + 1, callFrame: { functionName: functionName!, url }, children: [] };
        nodes.push(node);
        parent.children!.push(node.id);
        parent = node;
      }
    }
    samples.push(parent.id);
    timeDeltas.push(us);
  }
  return { nodes, samples, timeDeltas };
}

const SRC = 'file:///repo/dist/src';

describe('profile phases (e2e bench)', () => {
  const profile = profileOf([
    // The group commit, with its native SQLite statement: the commit's phase, however deep.
    [['onFlushTimer ' + `${SRC}/event-store/sqlite/sqlite-event-store.js`, 'commit ' + `${SRC}/event-store/sqlite/sqlite-event-store.js`, 'run'], 3_000],
    // A command's continuation after an await: our request code, its native leaf counted with its caller.
    [['processTicksAndRejections node:internal/process/task_queues', 'runMicrotasks', 'attemptLoop ' + `${SRC}/shared/application/command-executor.js`, 'get'], 2_000],
    // A projection's apply, reached from the follower's loop.
    [['loop ' + `${SRC}/event-store/internal/catch-up-subscription.js`, 'applyBatch ' + `${SRC}/projections/projection-runner.js`], 1_000],
    // The access log's flush, though it runs a SQLite statement of its own.
    [['flush ' + `${SRC}/audit/application/access-log.js`, 'run'], 500],
    // Express and GraphQL called from the HTTP server; the resolver called by GraphQL is ours.
    [['parserOnIncoming node:_http_server', 'handle file:///repo/node_modules/express/lib/application.js'], 700],
    [['processGraphQLRequest file:///repo/node_modules/@apollo/server/dist/esm/requestPipeline.js', 'execute file:///repo/node_modules/graphql/execution/execute.js'], 400],
    [['processGraphQLRequest file:///repo/node_modules/@apollo/server/dist/esm/requestPipeline.js', 'registerAsset ' + `${SRC}/asset-inventory/graphql/asset.resolver.js`], 100],
    [['(garbage collector)'], 600],
    // Left out: idle time, and the profiler's own work.
    [['(idle)'], 9_000],
    [['(anon) file:///repo/dist/bench/support/cpu-profile-preload.js', 'post node:inspector', 'dispatch'], 5_000],
  ]);

  it('gives each sample to one phase, background work first, and divides by the requests', () => {
    const rows = phasesOf(profile, 10);
    expect(Object.fromEntries(rows.map((r) => [r.phase, r.usPerRequest]))).toEqual({
      'event store: group commit (hash, sign, insert, COMMIT, inline sync)': 300,
      'request: our code (resolvers, commands, deciders, store calls)': 210,
      'read models (projections)': 100,
      'HTTP (Node, Express, body parsing, middleware)': 70,
      'garbage collection': 60,
      'access log (hash chain, SQLite)': 50,
      'GraphQL, Nest (parse, validate, execute, pipes)': 40,
    });
    expect(rows.map((r) => r.usPerRequest)).toEqual([...rows.map((r) => r.usPerRequest)].sort((a, b) => b - a));
    expect(rows.reduce((t, r) => t + r.ms, 0)).toBeCloseTo(8.3);
  });

  it('prints both servers side by side, a phase the other has not as 0, with the totals', () => {
    const bare = phasesOf(profileOf([[['parserOnIncoming node:_http_server'], 350]]), 1);
    const table = phaseTable(phasesOf(profile, 10), bare).split('\n');
    expect(table).toContain('| HTTP (Node, Express, body parsing, middleware) | 70 | 350 |');
    expect(table).toContain('| read models (projections) | 100 | 0 |');
    expect(table.at(-1)).toBe('| **all (idle and the profiler left out)** | **830** | **350** |');
  });
});
