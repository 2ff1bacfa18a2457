/**
 * Where a server's main thread spends a request, from a V8 CPU profile (.cpuprofile) of one
 * measurement: each sample is given to one phase, and each phase's time is divided by the
 * requests the measurement answered. `npm run bench -- e2e --cpu-prof` prints it for our server
 * and the bare app side by side, so the gap between them reads phase by phase.
 *
 * A sample belongs to the first background phase (the list below, in order) that one frame of its
 * stack matches: work the log's writers and followers do for many requests at once (the group
 * commit, the read models, the access log...), which the bare app has none of. Otherwise it
 * belongs to the code of its innermost frame that has a source (a native leaf such as a SQLite
 * statement or a socket write is counted with its caller): our request code, GraphQL and Nest,
 * HTTP. Idle time and the profiler's own are left out.
 */

/** The parts of a .cpuprofile read here (Chrome DevTools' format, as V8's inspector writes it). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  /** Microseconds since the previous sample, one per sample. */
  timeDeltas: number[];
}

/** Background phases: a frame `functionName url` on the stack that matches names the phase. */
export const BACKGROUND_PHASES: readonly (readonly [phase: string, frame: RegExp])[] = [
  ['event store: group commit (hash, sign, insert, COMMIT, inline sync)', /^onFlushTimer .*sqlite-event-store\.js$/],
  ['event store: syncs and readers\' wake-ups', /wal-durability\.js$/],
  ['reactions (process manager)', /process-manager\.js$/],
  ['webhooks', /webhook-dispatcher\.js$/],
  ['integrity monitor', /integrity-(monitor|verifier)\.js$/],
  ['access log (hash chain, SQLite)', /audit\/application\/access-log[^/]*\.js$/],
  ['read models (projections)', /(projections\/[^/]+|catch-up-subscription)\.js$/],
];

const LEFT_OUT = new Set(['(idle)']);
const PROFILER = /cpu-profile-preload|node:inspector/;

const OUR_CODE = 'request: our code (resolvers, commands, deciders, store calls)';

/** The code a leaf frame's source file belongs to (our calls into better-sqlite3's JS are ours). */
export function codeOf(url: string): string {
  if (/\/dist\/src\/|node_modules\/better-sqlite3\//.test(url)) return OUR_CODE;
  if (/\/dist\/bench\//.test(url)) return 'request: the bare app\'s code';
  if (/node_modules\/(graphql|@apollo|@nestjs|@as-integrations|class-validator|class-transformer|rxjs|reflect-metadata|@graphql-tools)\//.test(url)) return 'GraphQL, Nest (parse, validate, execute, pipes)';
  if (/node_modules\/(jose|jsonwebtoken)\//.test(url) || url.startsWith('node:internal/crypto')) return 'bearer token check (JWT) and other crypto';
  if (/node_modules\/(prom-client|pino)[^/]*\//.test(url)) return 'metrics and logs';
  if (/node_modules\//.test(url) || url.startsWith('node:')) return 'HTTP (Node, Express, body parsing, middleware)';
  return 'other';
}

export interface PhaseRow {
  phase: string;
  /** Main-thread time in the phase, ms. */
  ms: number;
  /** Per request answered, µs. */
  usPerRequest: number;
}

/** The profile's samples by phase, largest first; GC and V8's own work ("(program)") are phases of their own. */
export function phasesOf(profile: CpuProfile, requests: number): PhaseRow[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totals = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const phase = phaseOf(id, byId, parent);
    if (phase !== null) totals.set(phase, (totals.get(phase) ?? 0) + us);
  }
  return [...totals]
    .map(([phase, us]) => ({ phase, ms: us / 1000, usPerRequest: requests > 0 ? us / requests : 0 }))
    .sort((a, b) => b.ms - a.ms);
}

function phaseOf(id: number, byId: Map<number, CpuProfile['nodes'][number]>, parent: Map<number, number>): string | null {
  const leaf = byId.get(id)!.callFrame;
  if (LEFT_OUT.has(leaf.functionName)) return null;
  if (leaf.functionName === '(garbage collector)') return 'garbage collection';
  if (leaf.functionName === '(program)') return 'V8 and Node internals ("(program)")';
  const frames: string[] = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur)!.callFrame;
    frames.push(`${f.functionName} ${f.url}`);
  }
  if (frames.some((f) => PROFILER.test(f))) return null;
  for (const [phase, frame] of BACKGROUND_PHASES) if (frames.some((f) => frame.test(f))) return phase;
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const url = byId.get(cur)!.callFrame.url;
    if (url) return codeOf(url);
  }
  return 'other';
}

/** A markdown table of two profiles' phases side by side (µs of main thread per request). */
export function phaseTable(ours: PhaseRow[], bare: PhaseRow[]): string {
  const us = (rows: PhaseRow[], phase: string) => rows.find((r) => r.phase === phase)?.usPerRequest ?? 0;
  // Ours largest first, then the bare app's own.
  const phases = [...new Set([...ours, ...bare].map((r) => r.phase))].sort((a, b) => us(ours, b) - us(ours, a) || us(bare, b) - us(bare, a));
  const total = (rows: PhaseRow[]) => rows.reduce((t, r) => t + r.usPerRequest, 0);
  const lines = ['| phase (main thread) | ours µs/request | bare µs/request |', '| --- | ---: | ---: |'];
  for (const phase of phases) lines.push(`| ${phase} | ${us(ours, phase).toFixed(0)} | ${us(bare, phase).toFixed(0)} |`);
  lines.push(`| **all (idle and the profiler left out)** | **${total(ours).toFixed(0)}** | **${total(bare).toFixed(0)}** |`);
  return lines.join('\n');
}
