/**
 * The owner's acceptance that brings a treatment plan into force (`npm run bench -- plan-consent`):
 * the real application in this process (SQLite file, read models, process manager, HTTP on port
 * BENCH_PLAN_CONSENT_PORT, 4600 by default), a plan of N items (each its own risk, owners taking
 * turns among OWNERS), built through GraphQL as the e2e tests build theirs, approved by the board,
 * and every item accepted. Then, RUNS times: two risks A and B are re-treated to a level the board
 * approved (their owners are asked again, the plan leaves force) and the owners accept A (a
 * non-last acceptance: the plan stays APPROVED) and B (the last: the plan comes into force, which
 * reads every other item's risk through the attempt and checks its version at the append). Each
 * mutation is timed from the client: request, command, append, the read models it waits for.
 *
 * warm: the same server throughout (its aggregate reader holds the risks it folded);
 * cold: the server restarted on the same files before each pair (a fresh reader: only A, B and
 * the plan were read since, by the re-treatments).
 * Medians of RUNS (warm) and COLD_RUNS (cold) pairs; the ratio is last / non-last.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../src/server.js';
import { signToken } from '../src/identity/cli/issue-token.js';

const SIZES = (process.env.BENCH_PLAN_CONSENT_SIZES ?? '200,1999').split(',').map(Number);
const RUNS = Number(process.env.BENCH_PLAN_CONSENT_RUNS ?? 7);
const COLD_RUNS = Number(process.env.BENCH_PLAN_CONSENT_COLD_RUNS ?? 3);
const PORT = Number(process.env.BENCH_PLAN_CONSENT_PORT ?? 4600);
/** Set-up requests in flight at once (risks are independent of one another). */
const SETUP_CONCURRENCY = 16;
const OWNERS = 10;
/**
 * A folder to keep each size's log in (BENCH_PLAN_CONSENT_DATA/n<N>): a later run times the pairs
 * on it without building the plan again (about 4 minutes at 1,999), e.g. to alternate two builds.
 */
const KEEP = process.env.BENCH_PLAN_CONSENT_DATA;
/** A file to write a CPU profile of one more warm pair to (not among the pairs timed), N in its name. */
const PROFILE = process.env.BENCH_PLAN_CONSENT_PROF;
const SECRET = 'bench-secret-plan-consent-0123456789abcdef';

type User = { sub: string; name?: string; roles: string[]; department?: string };
const users = {
  opsManager: { sub: 'mgr-ops', name: 'Ops Manager', roles: ['ASSET_MANAGER'], department: 'ops' },
  ciso: { sub: 'ciso', name: 'Chief ISO', roles: ['CISO'] },
  committee: { sub: 'committee-1', name: 'Committee Member', roles: ['COMMITTEE_MEMBER'] },
  secretary: { sub: 'secretary', name: 'Board Secretary', roles: ['BOARD_SECRETARY'] },
  auditor: { sub: 'auditor', name: 'Auditor', roles: ['AUDITOR'] },
} satisfies Record<string, User>;
const owner = (i: number): User => ({ sub: `owner-${i % OWNERS}`, name: `Owner ${i % OWNERS}`, roles: ['RISK_OWNER'] });

const tokens = new Map<string, Promise<string>>();
const tokenOf = (u: User) => {
  if (!tokens.has(u.sub)) tokens.set(u.sub, signToken(SECRET, u));
  return tokens.get(u.sub)!;
};

async function gql(query: string, variables: Record<string, unknown>, user: User): Promise<any> {
  const response = await fetch(`http://127.0.0.1:${PORT}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenOf(user)}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return Object.values(body.data as Record<string, unknown>)[0];
}
const mutate = (op: string, inputType: string, selection: string, input: Record<string, unknown>, user: User) =>
  gql(`mutation($input: ${inputType}!) { ${op}(input: $input) { ${selection} } }`, { input }, user);

async function start(dataDir: string): Promise<INestApplication> {
  process.env.EVENT_STORE = 'sqlite';
  delete process.env.DATABASE_URL;
  delete process.env.READ_MODEL_PATH;
  process.env.SQLITE_PATH = join(dataDir, 'events.sqlite');
  process.env.DATA_DIR = dataDir;
  process.env.JWT_SECRET = SECRET;
  process.env.LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'silent';
  const app = await createApp();
  await app.listen(PORT, '127.0.0.1');
  return app;
}

async function inParallel<T, R>(items: readonly T[], each: (item: T, i: number) => Promise<R>, width = SETUP_CONCURRENCY): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await each(items[i]!, i);
    }
  }));
  return results;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(what: string, ready: () => Promise<boolean>, maxMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await ready())) {
    if (Date.now() - started > maxMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
const riskNow = (id: string) => gql(`query($id: ID!) { risk(id: $id) { status consent { status } } }`, { id }, users.auditor);
const awaitingConsent = (id: string) => until(`risk ${id} awaiting consent`, async () => {
  const r = await riskNow(id);
  return r.status === 'AWAITING_CONSENT' && r.consent?.status === 'PENDING';
});

/** Criteria, an asset, N risks treated to LOW with a control, a plan of them approved and all accepted. */
async function seed(n: number): Promise<{ planId: string; riskIds: string[] }> {
  const criteria = await mutate('proposeRiskCriteria', 'ProposeRiskCriteriaInput', 'id', {
    likelihoodLevels: ['Rare', 'Possible', 'Likely'], impactLevels: ['Minor', 'Moderate', 'Severe'], riskLevels: ['LOW', 'MEDIUM', 'HIGH'],
    matrix: [['LOW', 'LOW', 'MEDIUM'], ['LOW', 'MEDIUM', 'HIGH'], ['MEDIUM', 'HIGH', 'HIGH']], acceptanceLevel: 'LOW', impactByAssetValue: [1, 2, 3],
    baselineGapThresholds: [0.25, 0.5], detailedLikelihoodThresholds: [3, 6],
    requiredMethods: [{ minAssetValue: 2, method: 'BASELINE' }, { minAssetValue: 3, method: 'DETAILED' }],
    reviewIntervalDays: [{ level: 'LOW', days: 365 }, { level: 'MEDIUM', days: 180 }, { level: 'HIGH', days: 90 }],
  }, users.committee);
  await mutate('approveRiskCriteria', 'ApproveRiskCriteriaInput', 'id', { criteriaId: criteria.id }, users.ciso);
  const asset = await mutate('registerAsset', 'RegisterAssetInput', 'id',
    { name: 'Hot wallet', category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: 1, integrity: 1, availability: 1 }, users.opsManager);
  const threatId = (await mutate('identifyThreat', 'IdentifyThreatInput', 'threats { id }', { assetId: asset.id, name: 'Key theft', affects: ['CONFIDENTIALITY'] }, users.opsManager)).threats[0].id;
  const vulnerabilityId = (await mutate('identifyVulnerability', 'IdentifyVulnerabilityInput', 'threats { vulnerabilities { id } }',
    { assetId: asset.id, threatId, name: 'Keys in a hot wallet' }, users.opsManager)).threats[0].vulnerabilities[0].id;

  const riskIds = await inParallel(Array.from({ length: n }, (_, i) => i), async (i) => {
    const by = owner(i);
    const { id } = await mutate('identifyRisk', 'IdentifyRiskInput', 'id',
      { title: `Theft of hot-wallet keys ${i}`, assetIds: [asset.id], threatId, vulnerabilityId, ownerId: by.sub }, by);
    await mutate('analyseRisk', 'AnalyseRiskInput', 'id', { riskId: id, method: 'INFORMAL', informal: { likelihood: 3, impact: 3, expert: 'CISO office', rationale: 'Exchange hacks of 2018' } }, by);
    await mutate('evaluateRisk', 'RiskRefInput', 'id', { riskId: id }, users.committee);
    await mutate('decideTreatment', 'DecideTreatmentInput', 'id', { riskId: id, options: ['REDUCE'], rationale: 'cold storage', targetLikelihood: 1, targetImpact: 1 }, users.committee);
    await mutate('decideControls', 'DecideControlsInput', 'id',
      { riskId: id, controls: [{ title: 'Move 95% of funds to cold storage', description: 'Daily sweep', ownerId: 'ops-lead', dueDate: '2099-03-31', reason: 'Limits what a compromise can take' }] }, users.committee);
    return id as string;
  });
  const planId = (await mutate('draftPlan', 'DraftPlanInput', 'id', { title: `Plan of ${n}`, period: 'FY2026' }, users.committee)).id as string;
  // One after another: every addition appends to the plan's stream.
  for (const riskId of riskIds) await mutate('addRiskToPlan', 'PlanRiskInput', 'id', { planId, riskId }, users.committee);
  await mutate('submitPlan', 'PlanRefInput', 'id', { planId }, users.committee);
  await mutate('recordBoardResolution', 'RecordBoardResolutionInput', 'id',
    { planId, resolutionNumber: `BR-${n}`, meetingDate: new Date(Date.now() + 9 * 3_600_000).toISOString().slice(0, 10), decision: 'APPROVED', minutesReference: `Minutes BR-${n}` }, users.secretary);
  await inParallel(riskIds, (id) => awaitingConsent(id));
  // Every acceptance appends to the plan's stream too: 16 at once on a plan of 1,999 items raced
  // past the executor's retry budget (CONCURRENCY_CONFLICT), 4 do not.
  const statuses = await inParallel(riskIds, async (riskId, i) => (await accept(planId, riskId, i)).status as string, 4);
  if (statuses.filter((s) => s === 'IN_FORCE').length !== 1) throw new Error(`seed: the plan came into force ${statuses.filter((s) => s === 'IN_FORCE').length} times`);
  return { planId, riskIds };
}

const accept = (planId: string, riskId: string, i: number) => mutate('acceptResidualRisk', 'AcceptResidualRiskInput', 'status', { planId, riskId }, owner(i));

/** A and B re-treated (to LOW again, alternating targets): their owners are asked again and the plan leaves force. */
async function askAgain(riskIds: string[], round: number): Promise<void> {
  for (const riskId of [riskIds[0]!, riskIds[1]!]) {
    await mutate('decideTreatment', 'DecideTreatmentInput', 'id',
      { riskId, options: ['REDUCE'], rationale: `cold storage, revision ${round}`, targetLikelihood: 1, targetImpact: round % 2 === 0 ? 2 : 1 }, users.committee);
  }
  await awaitingConsent(riskIds[0]!);
  await awaitingConsent(riskIds[1]!);
}

/** The non-last acceptance (A) then the last (B), each timed from the client. */
async function pair(planId: string, riskIds: string[]): Promise<{ nonLast: number; last: number }> {
  let t = performance.now();
  const a = await accept(planId, riskIds[0]!, 0);
  const nonLast = performance.now() - t;
  t = performance.now();
  const b = await accept(planId, riskIds[1]!, 1);
  const last = performance.now() - t;
  if (a.status !== 'APPROVED' || b.status !== 'IN_FORCE') throw new Error(`unexpected plan statuses ${a.status} then ${b.status}`);
  return { nonLast, last };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => x.toFixed(1);

export async function runPlanConsentBench(): Promise<void> {
  const table = ['| N items | reader | pairs | non-last acceptance, ms (median; min–max) | last acceptance, ms (median; min–max) | last / non-last |', '| ---: | --- | ---: | ---: | ---: | ---: |'];
  for (const n of SIZES) {
    const dataDir = KEEP ? join(KEEP, `n${n}`) : mkdtempSync(join(tmpdir(), 'bench-plan-consent-'));
    const seeded = join(dataDir, 'seed.json');
    mkdirSync(dataDir, { recursive: true });
    let app = await start(dataDir);
    let round = 0;
    try {
      let kept: { planId: string; riskIds: string[]; round: number } | undefined;
      if (existsSync(seeded)) kept = JSON.parse(readFileSync(seeded, 'utf8'));
      else {
        const seedStarted = performance.now();
        kept = { ...(await seed(n)), round: 0 };
        if (KEEP) writeFileSync(seeded, JSON.stringify(kept));
        console.log(`N=${n}: plan built, approved and accepted in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
      }
      const { planId, riskIds } = kept!;
      round = kept!.round;
      const rows: Array<[string, Array<{ nonLast: number; last: number }>]> = [['warm', []], ['cold (restarted)', []]];
      await askAgain(riskIds, round++);
      await pair(planId, riskIds); // warm-up
      for (let r = 0; r < RUNS; r++) {
        await askAgain(riskIds, round++);
        rows[0]![1].push(await pair(planId, riskIds));
      }
      if (PROFILE) {
        await askAgain(riskIds, round++);
        const session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
        const profiled = await pair(planId, riskIds);
        const { profile } = await session.post('Profiler.stop');
        session.disconnect();
        writeFileSync(PROFILE.replace(/(\.cpuprofile)?$/, `-${n}.cpuprofile`), JSON.stringify(profile));
        console.log(`N=${n}: profiled pair ${ms(profiled.nonLast)} / ${ms(profiled.last)} ms`);
      }
      for (let r = 0; r < COLD_RUNS; r++) {
        await app.close();
        app = await start(dataDir);
        await askAgain(riskIds, round++);
        rows[1]![1].push(await pair(planId, riskIds));
      }
      for (const [reader, runs] of rows) {
        if (!runs.length) continue;
        const nonLast = runs.map((x) => x.nonLast);
        const last = runs.map((x) => x.last);
        table.push(`| ${n.toLocaleString('en')} | ${reader} | ${runs.length} | ${ms(median(nonLast))} (${ms(Math.min(...nonLast))}–${ms(Math.max(...nonLast))}) | ${ms(median(last))} (${ms(Math.min(...last))}–${ms(Math.max(...last))}) | ${(median(last) / median(nonLast)).toFixed(1)} |`);
      }
      // The next run on a kept log goes on alternating the targets from here.
      if (KEEP) writeFileSync(seeded, JSON.stringify({ planId, riskIds, round }));
    } finally {
      await app.close();
      if (!KEEP) rmSync(dataDir, { recursive: true, force: true });
    }
  }
  console.log(`\nAcceptances timed from the client, over HTTP in this process (medians; warm: one server, cold: restarted before each pair)\n`);
  console.log(table.join('\n'));
}
