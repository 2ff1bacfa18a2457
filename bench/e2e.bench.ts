/**
 * The whole request, end to end (issue 13): the real server (dist/src/main.js: embedded SQLite
 * store in a temp folder, NODE_ENV=production, rate limit off, a generated JWT secret) against a
 * bare NestJS 12 + Apollo 5 app with the same bearer-token check writing to a Map
 * (bench/bare/bare-app.ts), each in its own child process. autocannon (in this process) loads
 * them alternately in one run: CONNECTIONS connections, DURATION s per measurement, ROUNDS rounds
 * (the order flips every round); medians of req/s, p50 and p99, and the ratios ours / bare.
 *
 *   registerAsset: the README's first mutation (a new name on every request: names are unique
 *     per department), vs the bare registerAsset;
 *   analyseRisk: an INFORMAL analysis of one of 16 existing risks (round robin), vs the bare
 *     analyseRisk.
 *
 * Beside req/s, each server's CPU time per request (user + system of its whole process, all
 * threads, from /proc/<pid>/stat over the measurement; Linux only, else left out): a CPU-bound
 * server answers about 1 / (CPU per request) a second, so the bare app's CPU per request over ours
 * says what the req/s ratio says, without the share of the machine each server got in its turn
 * (the machines these runs are on are shared: the bare app's own rate moves by a fifth between rounds).
 * And the main thread's CPU per request (/proc/<pid>/task/<pid>/stat): the thread every request
 * waits for. Ours does work on other threads too (the integrity monitor's worker, the WAL
 * checkpoints, fsyncs, V8's GC helpers), so its whole-process CPU counts work that does not limit
 * its rate; the main thread's quotient is the one that follows the req/s ratio.
 *
 * `npm run bench -- e2e --cpu-prof`: both servers also record a V8 CPU profile of their first
 * registerAsset measurement (BENCH_E2E_PROFILE=analyseRisk: of the first analyseRisk one)
 * (bench/support/cpu-profile-preload.ts), written to the files printed, and the bench prints where
 * each one's main thread spent a request, phase by phase (bench/support/profile-phases.ts).
 * Profiling slows that measurement: its figures are in the medians like the others'.
 * BENCH_E2E_DURATION, BENCH_E2E_ROUNDS, BENCH_E2E_LOG_LEVEL (default info) override.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import { SignJWT } from 'jose';
import { phasesOf, phaseTable, type CpuProfile } from './support/profile-phases.js';

const CONNECTIONS = 16;
const DURATION = Number(process.env.BENCH_E2E_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_E2E_ROUNDS ?? 3);
const RISKS = 16;
const DIST = resolve(fileURLToPath(import.meta.url), '../..');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

interface Server {
  name: string;
  child: ChildProcess;
  url: string;
}

function start(name: string, script: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [...nodeArgs, script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolvePromise, reject) => {
    // A server that never says where it listens is killed: left running, it would load every later run.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start (its "url" log line never came: LOG_LEVEL must be info or debug):\n${out.slice(-4000)}`));
    }, 120_000);
    const onData = (chunk: Buffer) => {
      if (out.length < 64_000) out += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+\/graphql)"/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        // Keep draining the output (logs) so the server never blocks on a full pipe.
        child.stdout!.on('data', (c: Buffer) => {
          const s = c.toString();
          if (s.includes('cpu profile written')) console.log(`[${name}] ${s.trim()}`);
        });
        resolvePromise({ name, child, url: match[1]!.replace('localhost', '127.0.0.1') });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => {
      if (out.length < 64_000) out += c.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${out.slice(-4000)}`));
    });
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((done) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return done();
    server.child.removeAllListeners('exit');
    server.child.once('exit', () => done());
    server.child.kill('SIGTERM');
    setTimeout(() => server.child.kill('SIGKILL'), 10_000).unref();
  });
}

async function token(secret: string, sub: string, roles: string[], department?: string): Promise<string> {
  return new SignJWT({ name: sub, roles, ...(department ? { department } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('4h')
    .sign(new TextEncoder().encode(secret));
}

async function gql(url: string, bearer: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const REGISTER = 'mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id version value status } }';
const ANALYSE = 'mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { id version status likelihood impact } }';

/** The risks the real server analyses under load: criteria in force, an asset with a threat and a vulnerability, 16 risks. */
async function prepareRisks(url: string, secret: string): Promise<string[]> {
  const committee = await token(secret, 'carol', ['COMMITTEE_MEMBER']);
  const ciso = await token(secret, 'chris', ['CISO']);
  const manager = await token(secret, 'mgr-ops', ['ASSET_MANAGER'], 'ops');
  const owner = await token(secret, 'olivia', ['RISK_OWNER']);
  const { proposeRiskCriteria } = await gql(url, committee, 'mutation($input: ProposeRiskCriteriaInput!) { proposeRiskCriteria(input: $input) { id } }', {
    input: {
      likelihoodLevels: ['Rare', 'Possible', 'Likely'], impactLevels: ['Minor', 'Moderate', 'Severe'], riskLevels: ['LOW', 'MEDIUM', 'HIGH'],
      matrix: [['LOW', 'LOW', 'MEDIUM'], ['LOW', 'MEDIUM', 'HIGH'], ['MEDIUM', 'HIGH', 'HIGH']], acceptanceLevel: 'LOW', impactByAssetValue: [1, 2, 3],
      baselineGapThresholds: [0.25, 0.5], detailedLikelihoodThresholds: [3, 6], requiredMethods: [],
      reviewIntervalDays: [{ level: 'LOW', days: 365 }, { level: 'MEDIUM', days: 180 }, { level: 'HIGH', days: 90 }],
    },
  });
  await gql(url, ciso, 'mutation($input: ApproveRiskCriteriaInput!) { approveRiskCriteria(input: $input) { id } }', { input: { criteriaId: proposeRiskCriteria.id } });
  const { registerAsset } = await gql(url, manager, REGISTER, { input: { name: 'Risk bench signer', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 } });
  const { identifyThreat } = await gql(url, manager, 'mutation($input: IdentifyThreatInput!) { identifyThreat(input: $input) { threats { id } } }', { input: { assetId: registerAsset.id, name: 'Key theft', affects: ['CONFIDENTIALITY'] } });
  const threatId = identifyThreat.threats[0].id as string;
  const { identifyVulnerability } = await gql(url, manager, 'mutation($input: IdentifyVulnerabilityInput!) { identifyVulnerability(input: $input) { threats { vulnerabilities { id } } } }', { input: { assetId: registerAsset.id, threatId, name: 'Keys in a hot wallet' } });
  const vulnerabilityId = identifyVulnerability.threats[0].vulnerabilities[0].id as string;
  const ids: string[] = [];
  for (let i = 0; i < RISKS; i++) {
    const { identifyRisk } = await gql(url, owner, 'mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { id } }', { input: { title: `Bench risk ${i}`, assetIds: [registerAsset.id], threatId, vulnerabilityId, ownerId: 'olivia' } });
    ids.push(identifyRisk.id as string);
  }
  return ids;
}

interface Load {
  name: string;
  /** A request body; `n` grows on every request of the run. */
  body: (n: number) => string;
  bearer: string;
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** The server process's CPU time per request, ms (null where /proc cannot tell). */
  cpuMs: number | null;
  /** Its main thread's CPU time per request, ms (null where /proc cannot tell). */
  mainCpuMs: number | null;
  /** Requests answered in the measurement. */
  requests: number;
}

/**
 * A process's CPU time so far (user + system, every thread), ms, or its main thread's (`mainThread`:
 * the task whose id is the process's); null without /proc (not Linux) or once it has exited.
 */
function processCpuMs(pid: number | undefined, mainThread = false): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // After the command name (in parentheses, which may hold spaces): utime and stime are the 14th
    // and 15th fields, in clock ticks of 1/100 s (USER_HZ, 100 on Linux whatever the kernel's HZ).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

async function load(server: Server, l: Load, seq: { n: number }): Promise<Measured> {
  const url = server.url;
  let graphqlErrors = 0;
  const cpuBefore = processCpuMs(server.child.pid);
  const mainBefore = processCpuMs(server.child.pid, true);
  const result: Result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${l.bearer}` },
        setupRequest: (request) => ({ ...request, body: l.body(seq.n++) }),
        onResponse: (status, body) => {
          if (status !== 200 || body.includes('"errors"')) graphqlErrors++;
        },
      },
    ],
  });
  const cpuAfter = processCpuMs(server.child.pid);
  const mainAfter = processCpuMs(server.child.pid, true);
  const perRequest = (before: number | null, after: number | null) => (before === null || after === null || result.requests.total === 0 ? null : (after - before) / result.requests.total);
  const cpuMs = perRequest(cpuBefore, cpuAfter);
  const mainCpuMs = perRequest(mainBefore, mainAfter);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: graphqlErrors + result.errors + result.timeouts + result.non2xx, cpuMs, mainCpuMs, requests: result.requests.total };
}

export async function runE2eBench(): Promise<void> {
  const profile = process.argv.includes('--cpu-prof');
  const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-e2e-bench-'));
  const secret = randomBytes(32).toString('hex');
  const stamp = Date.now();
  const profileFile = (name: string) => join(tmpdir(), `risk-ledger-e2e-${name}-${stamp}.cpuprofile`);
  const preload = profile ? ['--import', join(DIST, 'bench/support/cpu-profile-preload.js')] : [];
  /** The profiled measurement of each server: its requests (for the per-request figures). */
  const profiled = new Map<string, number>();
  const servers: Server[] = [];
  // Each server is stopped at the end once it has started, even when the other one failed to.
  const kept = (starting: Promise<Server>) => starting.then((server) => (servers.push(server), server));
  try {
    const [ours, bare] = await Promise.all([
      kept(start(
        'ours',
        join(DIST, 'src/main.js'),
        {
          NODE_ENV: 'production', PORT: '0', EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir,
          JWT_SECRET: secret, RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: process.env.BENCH_E2E_LOG_LEVEL ?? 'info', BENCH_CPU_PROF_FILE: profileFile('ours'),
        },
        preload,
      )),
      kept(start('bare', join(DIST, 'bench/bare/bare-app.js'), { JWT_SECRET: secret, PORT: '0', BENCH_CPU_PROF_FILE: profileFile('bare') }, preload)),
    ]);
    const riskIds = await prepareRisks(ours.url, secret);
    const manager = await token(secret, 'alice', ['ASSET_MANAGER'], 'ops');
    const owner = await token(secret, 'olivia', ['RISK_OWNER']);
    const register: Load = {
      name: 'registerAsset',
      bearer: manager,
      body: (n) => JSON.stringify({ query: REGISTER, variables: { input: { name: `Hot wallet signer ${n}`, category: 'SYSTEM', department: 'ops', managerId: 'alice', confidentiality: 3, integrity: 3, availability: 2 } } }),
    };
    const analyse: Load = {
      name: 'analyseRisk',
      bearer: owner,
      body: (n) => JSON.stringify({ query: ANALYSE, variables: { input: { riskId: riskIds[n % riskIds.length] ?? `risk-${n % RISKS}`, method: 'INFORMAL', informal: { likelihood: 1 + (n % 3), impact: 1 + ((n >> 2) % 3), expert: 'bench', rationale: 'load test' } } } }),
    };
    // Warm-up: JIT and caches of both servers, not measured.
    const seq = { n: 0 };
    for (const server of [ours, bare]) for (const l of [register, analyse]) await loadFor(server, l, seq, 2);

    const runs: Record<string, Record<'ours' | 'bare', Measured[]>> = { registerAsset: { ours: [], bare: [] }, analyseRisk: { ours: [], bare: [] } };
    for (let round = 0; round < ROUNDS; round++) {
      for (const l of [register, analyse]) {
        const order = round % 2 === 0 ? [ours, bare] : [bare, ours];
        for (const server of order) {
          const profiling = profile && round === 0 && l.name === (process.env.BENCH_E2E_PROFILE ?? 'registerAsset');
          if (profiling) server.child.kill('SIGUSR2');
          const m = await load(server, l, seq);
          if (profiling) {
            server.child.kill('SIGUSR2');
            profiled.set(server.name, m.requests);
          }
          runs[l.name]![server.name as 'ours' | 'bare'].push(m);
          console.log(`round ${round + 1} ${l.name.padEnd(13)} ${server.name.padEnd(4)}: ${fmt(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms${m.cpuMs === null ? '' : `, ${m.cpuMs.toFixed(3)} CPU ms/request`}${m.mainCpuMs === null ? '' : ` (main thread ${m.mainCpuMs.toFixed(3)})`}${m.errors ? `, ${m.errors} failed` : ''}`);
        }
      }
    }

    const cpuMedian = (xs: Measured[], of: 'cpuMs' | 'mainCpuMs') => (xs.every((x) => x[of] !== null) ? median(xs.map((x) => x[of]!)) : null);
    const summary = (xs: Measured[]) => ({ rps: median(xs.map((x) => x.rps)), p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)), errors: xs.reduce((n, x) => n + x.errors, 0), cpuMs: cpuMedian(xs, 'cpuMs'), mainCpuMs: cpuMedian(xs, 'mainCpuMs') });
    const s = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, { ours: summary(v.ours), bare: summary(v.bare) }]));
    const ratio = (k: string) => s[k]!.ours.rps / s[k]!.bare.rps;
    /** The bare app's CPU per request over ours (null without /proc): what the req/s ratio would be were both given the same CPU. */
    const cpuRatio = (k: string, of: 'cpuMs' | 'mainCpuMs' = 'cpuMs') => (s[k]!.ours[of] && s[k]!.bare[of] !== null ? s[k]!.bare[of]! / s[k]!.ours[of]! : null);
    console.log('');
    console.log(`End to end over HTTP, ${CONNECTIONS} connections, ${DURATION} s each, median of ${ROUNDS} alternating rounds`);
    console.log('');
    console.log('| measurement | ours req/s | p50 | p99 | bare req/s | p50 | p99 | ratio | target | CPU ms/request, ours / bare | bare / ours | main thread, ours / bare | bare / ours |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
    const row = (label: string, k: string, target: number, p99Target?: number) => {
      const o = s[k]!.ours;
      const b = s[k]!.bare;
      const met = ratio(k) >= target && (p99Target === undefined || o.p99 <= p99Target);
      const cells = (of: 'cpuMs' | 'mainCpuMs') => {
        const q = cpuRatio(k, of);
        return `${o[of] === null || b[of] === null ? '—' : `${o[of]!.toFixed(3)} / ${b[of]!.toFixed(3)}`} | ${q === null ? '—' : q.toFixed(2)} |`;
      };
      console.log(
        `| ${label} | ${fmt(o.rps)} | ${o.p50} ms | ${o.p99} ms | ${fmt(b.rps)} | ${b.p50} ms | ${b.p99} ms | ${ratio(k).toFixed(2)} | ≥ ${target}${p99Target ? `, p99 ≤ ${p99Target} ms` : ''}: ${met ? 'met' : '**missed**'} | ` +
          `${cells('cpuMs')} ${cells('mainCpuMs')}`,
      );
    };
    row('`registerAsset` vs the bare Nest+Apollo+JWT mutation', 'registerAsset', 0.6, 25);
    row('`analyseRisk` (INFORMAL, existing risk) vs the same bare baseline', 'analyseRisk', 0.5);
    const failed = Object.values(s).reduce((n, v) => n + v.ours.errors + v.bare.errors, 0);
    if (failed) console.log(`\n${failed} requests failed or answered with GraphQL errors (see the rounds above)`);
    if (profile) await printPhases(profiled, profileFile);
    console.log(JSON.stringify({ bench: 'e2e', connections: CONNECTIONS, durationS: DURATION, rounds: ROUNDS, medians: s, ratios: { registerAsset: +ratio('registerAsset').toFixed(3), analyseRisk: +ratio('analyseRisk').toFixed(3) }, cpuRatios: { registerAsset: cpuRatio('registerAsset'), analyseRisk: cpuRatio('analyseRisk') }, mainThreadCpuRatios: { registerAsset: cpuRatio('registerAsset', 'mainCpuMs'), analyseRisk: cpuRatio('analyseRisk', 'mainCpuMs') }, runs }));
  } finally {
    await Promise.all(servers.map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where each profiled server's main thread spent a request (the profiles are written a moment after the second SIGUSR2). */
async function printPhases(profiled: Map<string, number>, file: (name: string) => string): Promise<void> {
  const read = async (name: string): Promise<CpuProfile | null> => {
    for (let i = 0; i < 100 && !existsSync(file(name)); i++) await new Promise((r) => setTimeout(r, 100));
    try {
      return JSON.parse(readFileSync(file(name), 'utf8')) as CpuProfile;
    } catch {
      return null;
    }
  };
  const [ours, bare] = [await read('ours'), await read('bare')];
  if (!ours || !bare) return console.log('\n(no CPU profile to summarise: a server did not write it)');
  console.log(`\nWhere the main thread spent its time per ${process.env.BENCH_E2E_PROFILE ?? 'registerAsset'} request, from the profiled measurement of each server (${fmt(profiled.get('ours') ?? 0)} and ${fmt(profiled.get('bare') ?? 0)} requests):\n`);
  console.log(phaseTable(phasesOf(ours, profiled.get('ours') ?? 0), phasesOf(bare, profiled.get('bare') ?? 0)));
}

/** A short unmeasured load (warm-up). */
async function loadFor(server: Server, l: Load, seq: { n: number }, seconds: number): Promise<void> {
  await autocannon({
    url: server.url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{ method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${l.bearer}` }, setupRequest: (request) => ({ ...request, body: l.body(seq.n++) }) }],
  });
}
