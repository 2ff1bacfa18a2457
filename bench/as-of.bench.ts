/**
 * asOf latency: the register as it stood at a past instant, rebuilt from the log.
 *
 * Builds, through the real deciders and the SQLite adapter, a register of about 100,000 events
 * (1,000 assets with a threat and a vulnerability; 1,000 risks analysed ~95 times each) plus one
 * risk with 10,000 events. Then measures, median of 5 runs:
 *   - risks(asOf) and heatMap(asOf) at the middle of the log, cold (replay from zero) and warm (cached);
 *   - the same cold risks(asOf) starting from the nearest stored snapshot of the read models
 *     (replay-snapshots.ts, one every 10,000 events, left by the live projections as they caught up);
 *   - risk(id, asOf) of the 10,000-event risk: the API's path (RiskAtPoint: its stream from the
 *     newest write-side snapshot at or before the instant, plus its analyses cut at the instant),
 *     and, as the earlier baseline, the whole register replayed to that instant;
 *   - folding that one risk's stream alone from its first event;
 * and, as the in-process baseline, the same risks page on the live read model.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite-event-store.js';
import { ExpectedVersion, type EventStore, type NewEvent } from '../src/event-store/event-store.port.js';
import { assetDecider } from '../src/asset-inventory/domain/asset.decider.js';
import { criteriaDecider } from '../src/risk-criteria/domain/criteria.decider.js';
import type { CriteriaVersionState } from '../src/risk-criteria/domain/criteria.state.js';
import { riskDecider } from '../src/risk-register/domain/risk.decider.js';
import type { AssetState } from '../src/asset-inventory/domain/asset.state.js';
import type { RiskState } from '../src/risk-register/domain/risk.state.js';
import { FEATURES } from '../src/features.js';
import { projectionsOf, upcastersOf } from '../src/platform/feature-contribution.js';

const allProjections = projectionsOf(FEATURES);
const upcasters = upcastersOf(FEATURES);
import { AsOfReplayer } from '../src/projections/as-of-replay.js';
import { MemoryReplaySnapshots } from '../src/projections/replay-snapshots.js';
import { RiskAtPoint } from '../src/risk-register/application/risk-at-point.js';
import { AggregateReader } from '../src/shared/application/aggregate-reader.js';
import { ProjectionRunner } from '../src/projections/projection-runner.js';
import { openReadModelDatabase } from '../src/projections/read-model-database.js';
import { RiskRegisterQueries } from '../src/risk-register/projections/risk-register.projection.js';
import { fold, type Decider, type DomainActor, type DomainEvent } from '../src/shared/domain/decider.js';
import { JsonLogger } from '../src/shared/logging/json-logger.js';

const ASSETS = Number(process.env.BENCH_ASSETS ?? 1_000);
const ANALYSES_PER_RISK = 95;
const BIG_RISK_EVENTS = Number(process.env.BENCH_BIG_RISK ?? 10_000);
const RUNS = 5;

const committee: DomainActor = { id: 'committee', name: 'Committee', roles: ['COMMITTEE_MEMBER'] };
const ciso: DomainActor = { id: 'ciso', name: 'CISO', roles: ['CISO'] };
const manager: DomainActor = { id: 'mgr', name: 'Manager', roles: ['ASSET_MANAGER'], department: 'ops' };
const owner: DomainActor = { id: 'owner', name: 'Owner', roles: ['RISK_OWNER'] };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Appends what the decider decides, as the application would. */
class Writer {
  private clock = Date.parse('2025-01-01T00:00:00Z');
  constructor(private readonly store: EventStore) {}
  now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }
  async run<C, E extends DomainEvent, S extends { version: number }>(decider: Decider<C, E, S>, streamId: string, state: S, command: C, actor: DomainActor): Promise<S> {
    const events = decider.decide(command, state);
    const toAppend: NewEvent[] = events.map((e) => ({
      eventId: randomUUID(),
      type: e.type,
      // The type's current schema version, as the application writes it (nothing to upcast on read).
      schemaVersion: upcasters.schemaVersionOf(e.type),
      data: e.data as Record<string, unknown>,
      metadata: { actor: { id: actor.id, name: actor.name, roles: actor.roles }, occurredAt: new Date(this.clock).toISOString(), correlationId: 'bench', causationId: 'bench' },
    }));
    const { events: recorded } = await this.store.append(streamId, toAppend, { expectedVersion: ExpectedVersion.exact(state.version) });
    const next = fold(decider, events, state);
    // What the command pipeline does: a write-side snapshot each time the stream passes a multiple of 100 events.
    if (decider.stateVersion && Math.floor((next.version + 1) / 100) > Math.floor((state.version + 1) / 100)) {
      const last = recorded[recorded.length - 1]!;
      await this.store.writeSnapshot({ streamId, revision: last.revision, position: last.position, recordedAt: last.recordedAt, stateVersion: decider.stateVersion, state: next });
    }
    return next;
  }
}

export async function runAsOfBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-asof-'));
  const kept = process.env.BENCH_AS_OF_LOG;
  const reuse = kept !== undefined && existsSync(kept);
  const store = new SqliteEventStore({ path: kept ?? join(dir, 'events.sqlite') });
  await store.init();
  try {
    // BENCH_AS_OF_LOG=<file>: keep the log there and reuse it on the next run (for profiling).
    const started = performance.now();
    if (!reuse) {
      const w = new Writer(store);
      let criteria = await w.run(criteriaDecider, 'risk-criteria', criteriaDecider.initialState, { type: 'ProposeRiskCriteria', criteriaId: 'c1', actor: committee, at: w.now(), definition: {
        likelihoodLevels: ['Rare', 'Possible', 'Likely'], impactLevels: ['Minor', 'Moderate', 'Severe'], riskLevels: ['LOW', 'MEDIUM', 'HIGH'],
        matrix: [['LOW', 'LOW', 'MEDIUM'], ['LOW', 'MEDIUM', 'HIGH'], ['MEDIUM', 'HIGH', 'HIGH']], acceptanceLevel: 'LOW', impactByAssetValue: [1, 2, 3],
        baselineGapThresholds: [0.25, 0.5], detailedLikelihoodThresholds: [3, 6], requiredMethods: [], reviewIntervalDays: [{ level: 'LOW', days: 365 }, { level: 'MEDIUM', days: 180 }, { level: 'HIGH', days: 90 }],
      } }, committee);
      criteria = await w.run(criteriaDecider, 'risk-criteria', criteria, { type: 'ApproveRiskCriteria', criteriaId: 'c1', actor: ciso, at: w.now() }, ciso);
      const inForce = criteria.versions[0] as CriteriaVersionState;

      // 1,000 assets and risks, written by 16 concurrent loops (group commit).
      const risks: RiskState[] = new Array(ASSETS);
      const loop = async (k: number) => {
        for (let i = k; i < ASSETS; i += 16) {
          const assetId = `asset-${i}`;
          let asset: AssetState = assetDecider.initialState;
          asset = await w.run(assetDecider, `asset-${assetId}`, asset, { type: 'RegisterAsset', assetId, name: `System ${i}`, description: '', category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 1 + (i % 3), integrity: 1, availability: 1, actor: manager, at: w.now() }, manager);
          asset = await w.run(assetDecider, `asset-${assetId}`, asset, { type: 'IdentifyThreat', assetId, threatId: `t-${i}`, name: 'Theft', description: '', affects: ['CONFIDENTIALITY'], actor: manager, at: w.now() }, manager);
          asset = await w.run(assetDecider, `asset-${assetId}`, asset, { type: 'IdentifyVulnerability', assetId, threatId: `t-${i}`, vulnerabilityId: `v-${i}`, name: 'Weak keys', description: '', actor: manager, at: w.now() }, manager);
          let risk: RiskState = riskDecider.initialState;
          const riskId = `risk-${i}`;
          risk = await w.run(riskDecider, `risk-${riskId}`, risk, { type: 'IdentifyRisk', riskId, title: `Risk ${i}`, description: '', assetIds: [assetId], threatId: `t-${i}`, vulnerabilityId: `v-${i}`, ownerId: 'owner', assets: [asset], actor: owner, at: w.now() }, owner);
          for (let a = 0; a < ANALYSES_PER_RISK; a++) {
            risk = await w.run(riskDecider, `risk-${riskId}`, risk, { type: 'AnalyseRisk', riskId, analysisId: `a-${i}-${a}`, method: 'INFORMAL', informal: { likelihood: 1 + (a % 3), impact: 1 + ((a + i) % 3), expert: 'bench', rationale: 'synthetic' }, criteria: inForce, assets: [asset], actor: owner, at: w.now() }, owner);
          }
          risks[i] = risk;
        }
      };
      await Promise.all(Array.from({ length: 16 }, (_, k) => loop(k)));
      // One risk with 10,000 events.
      let big = risks[0]!;
      const bigAsset = (await store.readStream('asset-asset-0')).reduce((s, e) => assetDecider.evolve(s, { type: e.type, data: e.data } as never), assetDecider.initialState);
      while (big.version < BIG_RISK_EVENTS - 1) {
        big = await w.run(riskDecider, 'risk-risk-0', big, { type: 'AnalyseRisk', riskId: 'risk-0', analysisId: `big-${big.version}`, method: 'INFORMAL', informal: { likelihood: 2, impact: 2, expert: 'bench', rationale: 'synthetic' }, criteria: inForce, assets: [bigAsset], actor: owner, at: w.now() }, owner);
      }
    }
    const head = await store.headPosition();
    const total = Number(head);
    if (reuse) console.log(`log reused: ${total} events from ${kept}`);
    else console.log(`log written: ${total} events (${ASSETS} assets, ${ASSETS} risks, one risk of ${BIG_RISK_EVENTS} events) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    // Baseline: the same query on the live read model (caught up once).
    const live = openReadModelDatabase(':memory:');
    const runner = new ProjectionRunner(store, live, allProjections(), upcasters.upcast, new JsonLogger('bench', 'error'));
    // As the server does: the live projections leave a stored snapshot every 10,000 events.
    const stored = new MemoryReplaySnapshots(16);
    runner.storeReplaySnapshots(stored, 10_000);
    runner.start();
    const catchUp = await time(() => runner.waitFor(head!, { timeoutMs: 600_000, whileRetrying: 'wait' }));
    await runner.stop();
    const liveQueries = new RiskRegisterQueries(live);
    const livePage: number[] = [];
    for (let r = 0; r < RUNS; r++) livePage.push(await time(() => liveQueries.page({}, null, 50)));

    // Instants of the log: the commit time of the event at half and at three quarters of it.
    const instantAt = async (fraction: number) => (await store.readAll({ after: String(Math.floor(total * fraction)).padStart(head!.length, '0'), maxCount: 1 }))[0]!.recordedAt;
    const at = new Date(await instantAt(0.5));
    const later = new Date(await instantAt(0.75));
    const cold: number[] = [];
    const warm: number[] = [];
    const extended: number[] = [];
    const bigRisk: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const replayer = new AsOfReplayer(store, upcasters, allProjections);
      cold.push(await time(async () => replayer.read({ asOf: at }, (db) => new RiskRegisterQueries(db).page({}, null, 50))));
      warm.push(await time(async () => replayer.read({ asOf: at }, (db) => new RiskRegisterQueries(db).heatMap())));
      extended.push(await time(async () => replayer.read({ asOf: later }, (db) => new RiskRegisterQueries(db).page({}, null, 50))));
      replayer.close();
    }
    // A new replayer (empty cache, as after a restart) starts from the nearest snapshot the live projections left.
    const fromStored: number[] = [];
    const heatFromStored: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const replayer = new AsOfReplayer(store, upcasters, allProjections, 4, undefined, { store: stored, every: 10_000 });
      fromStored.push(await time(async () => replayer.read({ asOf: at }, (db) => new RiskRegisterQueries(db).page({}, null, 50))));
      replayer.close();
      const heat = new AsOfReplayer(store, upcasters, allProjections, 4, undefined, { store: stored, every: 10_000 });
      heatFromStored.push(await time(async () => heat.read({ asOf: at }, (db) => new RiskRegisterQueries(db).heatMap())));
      heat.close();
    }
    // risk(id, asOf) of the big risk, half-way through its own history (the instant of its middle event).
    const bigEvents = await store.readStream('risk-risk-0');
    const bigMiddle = new Date(bigEvents[Math.floor(bigEvents.length / 2)]!.recordedAt);
    const aggregates = new AggregateReader(store, upcasters, { snapshotEvery: 100 });
    const bigAtPoint: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const replayer = new AsOfReplayer(store, upcasters, allProjections);
      const atPoint = new RiskAtPoint(aggregates, live, runner, replayer);
      // The fields a client reads, analyses included (the register's rows cut at the instant).
      bigAtPoint.push(await time(async () => {
        const row = await atPoint.row('risk-0', { asOf: bigMiddle });
        return { level: row!.state.level, analyses: row!.analyses().length };
      }));
      replayer.close();
    }
    for (let r = 0; r < 3; r++) {
      const replayer = new AsOfReplayer(store, upcasters, allProjections);
      bigRisk.push(await time(async () => replayer.read({ asOf: bigMiddle }, (db) => new RiskRegisterQueries(db).byId('risk-0'))));
      replayer.close();
    }
    const foldOne: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      foldOne.push(await time(async () => (await store.readStream('risk-risk-0')).reduce((s, e) => riskDecider.evolve(s, { type: e.type, data: e.data } as never), riskDecider.initialState)));
    }
    const figures = {
      events: total,
      catchUpMs: Math.round(catchUp),
      livePageMs: +median(livePage).toFixed(2),
      asOfColdMs: Math.round(median(cold)),
      asOfWarmMs: +median(warm).toFixed(2),
      asOfExtendedMs: Math.round(median(extended)),
      asOfFromStoredSnapshotMs: Math.round(median(fromStored)),
      heatMapFromStoredSnapshotMs: Math.round(median(heatFromStored)),
      bigRiskAtPointMs: +median(bigAtPoint).toFixed(2),
      bigRiskAsOfMs: Math.round(median(bigRisk)),
      bigRiskFoldMs: Math.round(median(foldOne)),
      coldVsLive: +(median(cold) / median(livePage)).toFixed(0),
    };
    console.log(`| measurement | median |`);
    console.log(`| --- | --- |`);
    console.log(`| projections catching up on ${total} events (once) | ${figures.catchUpMs} ms |`);
    console.log(`| risks(first: 50) on the live read model (baseline) | ${figures.livePageMs} ms |`);
    console.log(`| risks(asOf: mid-log, first: 50), cold: replay from zero | ${figures.asOfColdMs} ms |`);
    console.log(`| heatMap(asOf: same instant), warm: cached replay | ${figures.asOfWarmMs} ms |`);
    console.log(`| risks(asOf: three quarters in), from a copy of the cached half-way replay | ${figures.asOfExtendedMs} ms |`);
    console.log(`| risks(asOf: mid-log, first: 50), cold: from the nearest stored read-model snapshot | ${figures.asOfFromStoredSnapshotMs} ms |`);
    console.log(`| heatMap(asOf: mid-log), cold: from the nearest stored read-model snapshot | ${figures.heatMapFromStoredSnapshotMs} ms |`);
    console.log(`| risk(id, asOf: its middle) of the ${BIG_RISK_EVENTS}-event risk: its stream from a snapshot + its analyses (the API's path) | ${figures.bigRiskAtPointMs} ms |`);
    console.log(`| the same by replaying the whole register (the earlier path) | ${figures.bigRiskAsOfMs} ms |`);
    console.log(`| fold of that risk's stream alone (the path asset/plan asOf use) | ${figures.bigRiskFoldMs} ms |`);
    console.log(JSON.stringify({ bench: 'as-of', ...figures }));
    live.close();
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
