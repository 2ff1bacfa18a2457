/**
 * Long streams (issue 17): the latency of one command on a stream with 10, 1,000 and 10,000
 * events of history, through the real CommandExecutor on SQLite, with write-side snapshots
 * (every 100 events) and without (SNAPSHOT_EVERY=0). Median of RUNS commands after one warm-up
 * (the warm-up stores the first snapshot of a history written without the executor).
 *
 * Two commands: ReassignAssetManager on an asset (its state keeps the same size whatever the
 * history) and AnalyseRisk on a risk (its state keeps every analysis, so it grows per event: a
 * snapshot saves the reads and the fold, not the size of the state).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite-event-store.js';
import { ExpectedVersion, type EventStore, type NewEvent } from '../src/event-store/event-store.port.js';
import { assetDecider, assetStreamId } from '../src/asset-inventory/domain/asset.decider.js';
import type { AssetState } from '../src/asset-inventory/domain/asset.state.js';
import { criteriaDecider } from '../src/risk-criteria/domain/criteria.decider.js';
import type { CriteriaVersionState } from '../src/risk-criteria/domain/criteria.state.js';
import { riskDecider } from '../src/risk-register/domain/risk.decider.js';
import { riskStreamId } from '../src/risk-register/domain/risk.events.js';
import type { RiskState } from '../src/risk-register/domain/risk.state.js';
import { FEATURES } from '../src/features.js';
import { upcastersOf } from '../src/platform/feature-contribution.js';

/** Events are written at their type's current schema version, as the application writes them. */
const upcasters = upcastersOf(FEATURES);
import { CommandExecutor, type CommandContext } from '../src/shared/application/command-executor.js';
import { type Decider, type DomainActor, type DomainEvent } from '../src/shared/domain/decider.js';

const SIZES = [10, 1_000, 10_000];
const RUNS = Number(process.env.BENCH_LONG_STREAM_RUNS ?? 31);
const SNAPSHOT_EVERY = 100;

const committee: DomainActor = { id: 'committee', name: 'Committee', roles: ['COMMITTEE_MEMBER'] };
const ciso: DomainActor = { id: 'ciso', name: 'CISO', roles: ['CISO'] };
const owner: DomainActor = { id: 'owner', name: 'Owner', roles: ['RISK_OWNER'] };

let clock = Date.parse('2025-01-01T00:00:00Z');
const now = () => new Date((clock += 1000)).toISOString();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Decides `count` commands in memory and appends their events in large chunks (fast history). */
async function history<C, E extends DomainEvent, S>(store: EventStore, decider: Decider<C, E, S>, streamId: string, start: S, startVersion: number, count: number, command: (i: number) => C, actor: DomainActor): Promise<S> {
  let state = start;
  let version = startVersion;
  let pending: NewEvent[] = [];
  const flush = async () => {
    if (!pending.length) return;
    const r = await store.append(streamId, pending, { expectedVersion: ExpectedVersion.exact(version) });
    version = r.nextExpectedVersion;
    pending = [];
  };
  for (let i = 0; i < count; i++) {
    const events = decider.decide(command(i), state);
    for (const e of events) {
      pending.push({ eventId: randomUUID(), type: e.type, schemaVersion: upcasters.schemaVersionOf(e.type), data: e.data as Record<string, unknown>, metadata: { actor: { id: actor.id, name: actor.name, roles: actor.roles }, occurredAt: now(), correlationId: 'bench', causationId: 'bench' } });
      state = decider.evolve(state, e);
    }
    if (pending.length >= 500) await flush();
  }
  await flush();
  return state;
}

export async function runLongStreamBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-long-'));
  const store = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
  await store.init();
  try {
    let criteria = await history(store, criteriaDecider, 'risk-criteria', criteriaDecider.initialState, -1, 1, () => ({ type: 'ProposeRiskCriteria' as const, criteriaId: 'c1', actor: committee, at: now(), definition: {
      likelihoodLevels: ['Rare', 'Possible', 'Likely'], impactLevels: ['Minor', 'Moderate', 'Severe'], riskLevels: ['LOW', 'MEDIUM', 'HIGH'],
      matrix: [['LOW', 'LOW', 'MEDIUM'], ['LOW', 'MEDIUM', 'HIGH'], ['MEDIUM', 'HIGH', 'HIGH']], acceptanceLevel: 'LOW', impactByAssetValue: [1, 2, 3],
      baselineGapThresholds: [0.25, 0.5], detailedLikelihoodThresholds: [3, 6], requiredMethods: [], reviewIntervalDays: [{ level: 'LOW', days: 365 }, { level: 'MEDIUM', days: 180 }, { level: 'HIGH', days: 90 }],
    } }), committee);
    criteria = await history(store, criteriaDecider, 'risk-criteria', criteria, 0, 1, () => ({ type: 'ApproveRiskCriteria' as const, criteriaId: 'c1', actor: ciso, at: now() }), ciso);
    const inForce = criteria.versions[0] as CriteriaVersionState;

    type Row = { command: string; size: number; on: number; off: number };
    const rows: Row[] = [];
    for (const size of SIZES) {
      for (const mode of ['on', 'off'] as const) {
        const executor = new CommandExecutor(store, { waitFor: async () => undefined }, upcasters, undefined, { snapshotEvery: mode === 'on' ? SNAPSHOT_EVERY : 0 });
        const ctx = (actor: DomainActor): CommandContext => ({ actor, at: now(), correlationId: randomUUID(), causationId: randomUUID() });

        // An asset with `size` events: registered, a threat and a vulnerability, then reassignments.
        const assetId = `a-${size}-${mode}`;
        let asset: AssetState = await history(store, assetDecider, assetStreamId(assetId), assetDecider.initialState, -1, 3, (i) =>
          i === 0 ? { type: 'RegisterAsset' as const, assetId, name: `System ${assetId}`, description: '', category: 'SYSTEM' as const, department: 'ops', managerId: 'm-0', confidentiality: 2, integrity: 1, availability: 1, actor: ciso, at: now() }
          : i === 1 ? { type: 'IdentifyThreat' as const, assetId, threatId: 't', name: 'Theft', description: '', affects: ['CONFIDENTIALITY' as const], actor: ciso, at: now() }
          : { type: 'IdentifyVulnerability' as const, assetId, threatId: 't', vulnerabilityId: 'v', name: 'Weak keys', description: '', actor: ciso, at: now() }, ciso);
        asset = await history(store, assetDecider, assetStreamId(assetId), asset, 2, size - 3, (i) => ({ type: 'ReassignAssetManager' as const, assetId, managerId: `m-${(i % 2) + 1}`, actor: ciso, at: now() }), ciso);
        let n = 0;
        const reassign = () => executor.execute({ streamId: assetStreamId(assetId), decider: assetDecider }, { type: 'ReassignAssetManager', assetId, managerId: `x-${n++}`, actor: ciso, at: now() }, ctx(ciso));

        // A risk with `size` events: identified, then analysed.
        const riskId = `r-${size}-${mode}`;
        let risk: RiskState = await history(store, riskDecider, riskStreamId(riskId), riskDecider.initialState, -1, 1, () => ({ type: 'IdentifyRisk' as const, riskId, title: 'Risk', description: '', assetIds: [assetId], threatId: 't', vulnerabilityId: 'v', ownerId: 'owner', assets: [asset], actor: owner, at: now() }), owner);
        risk = await history(store, riskDecider, riskStreamId(riskId), risk, 0, size - 1, (i) => ({ type: 'AnalyseRisk' as const, riskId, analysisId: `h-${i}`, method: 'INFORMAL' as const, informal: { likelihood: 1 + (i % 3), impact: 2, expert: 'bench', rationale: 'synthetic' }, criteria: inForce, assets: [asset], actor: owner, at: now() }), owner);
        const analyse = () => executor.execute({ streamId: riskStreamId(riskId), decider: riskDecider }, { type: 'AnalyseRisk', riskId, analysisId: `b-${n++}`, method: 'INFORMAL', informal: { likelihood: 1 + (n % 3), impact: 2, expert: 'bench', rationale: 'synthetic' }, criteria: inForce, assets: [asset], actor: owner, at: now() }, ctx(owner));

        for (const [command, run] of [['ReassignAssetManager (asset)', reassign], ['AnalyseRisk (risk)', analyse]] as const) {
          await run(); // warm-up: with snapshots on, this load stores the first snapshot
          const times: number[] = [];
          for (let i = 0; i < RUNS; i++) {
            const t0 = performance.now();
            await run();
            times.push(performance.now() - t0);
          }
          let row = rows.find((r) => r.command === command && r.size === size);
          if (!row) rows.push((row = { command, size, on: 0, off: 0 }));
          row[mode] = median(times);
        }
      }
    }

    const f = (ms: number) => `${ms.toFixed(2)} ms`;
    console.log(`\nCommand latency on SQLite through CommandExecutor (median of ${RUNS}; snapshots every ${SNAPSHOT_EVERY} events vs off)\n`);
    console.log('| command | history | snapshots on | snapshots off |');
    console.log('|---|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.command} | ${r.size.toLocaleString('en')} | ${f(r.on)} | ${f(r.off)} |`);
    console.log('\n| command | ratio 10,000 vs 10, snapshots on | ratio 10,000 vs 10, snapshots off |');
    console.log('|---|---:|---:|');
    for (const command of [...new Set(rows.map((r) => r.command))]) {
      const small = rows.find((r) => r.command === command && r.size === SIZES[0])!;
      const large = rows.find((r) => r.command === command && r.size === SIZES[SIZES.length - 1])!;
      console.log(`| ${command} | ${(large.on / small.on).toFixed(1)}× | ${(large.off / small.off).toFixed(1)}× |`);
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
