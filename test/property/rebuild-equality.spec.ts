import { criteria3x3 } from '../support/criteria-definitions.js';
/**
 * Property (issue "Auditors … Replay"): whatever valid history the application records, the read
 * models rebuilt from the log equal the ones built incrementally while the history happened.
 *
 * fast-check generates sequences of abstract operations with random arguments. Each one is turned
 * into a domain command against the current state (ids are picked among what exists; nothing fits:
 * skipped) and run through the real pipeline: CommandExecutor → SqliteEventStore (temp file) →
 * ProjectionRunner (incremental, small pages) + ProcessManager (plan ↔ risk reactions). Commands
 * the domain refuses (DomainError) append nothing and are only counted. Afterwards every read-model
 * table is snapshotted and compared with
 *   1. runner.rebuild() on the same database (pages of 5 events, committed every 12 or more), and
 *   2. a brand-new ProjectionRunner on a fresh ':memory:' database fed from the same store (and
 *      one writing the projections' states back at its commits only, as the CLI does), and
 *   3. an AsOfReplayer's replay of the whole log (without the history tables, which replays leave
 *      to the live read models).
 *
 * Two thirds of the operations are "progress": the natural next step of some entity (the criteria,
 * an asset, a risk through its life cycle, a plan through the board), so that sequences of 20-60
 * operations reach plans, board resolutions and owners' consent instead of stalling early. The
 * system settles (projections and reactions at the head of the log) after every operation, so a
 * sequence replays deterministically when fast-check shrinks it.
 *
 * 25 runs by default; REBUILD_PROPERTY_RUNS=1000 for a longer hunt.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assetDecider, assetStreamId, type AssetCommand } from '../../src/asset-inventory/domain/asset.decider.js';
import { ASSET_CATEGORIES, SECURITY_PROPERTIES, type AssetState, type SecurityProperty } from '../../src/asset-inventory/domain/asset.state.js';
import { tablesLeftOutOfReplays } from '../../src/projections/projection.js';
import { BUILTIN_CATALOGUE } from '../../src/baseline-catalogues/domain/builtin-catalogue.js';
import { catalogueDecider, catalogueIdFor, catalogueStreamId, type CatalogueCommand } from '../../src/baseline-catalogues/domain/catalogue.decider.js';
import { BASELINE_REQUIREMENT_STATUSES, type BaselineCatalogueState } from '../../src/baseline-catalogues/domain/catalogue.state.js';
import type { EventStore } from '../../src/event-store/event-store.port.js';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { FEATURES } from '../../src/features.js';
import { projectionsOf, reactionsOf, upcastersOf } from '../../src/platform/feature-contribution.js';
import { REACTIONS_CHECKPOINT } from '../../src/platform/platform.module.js';
import { AggregateReader } from '../../src/shared/application/aggregate-reader.js';
import { AsOfReplayer } from '../../src/projections/as-of-replay.js';
import { ProjectionRunner, type CatchUpOptions } from '../../src/projections/projection-runner.js';
import { MemoryReplaySnapshots } from '../../src/projections/replay-snapshots.js';
import { openReadModelDatabase, type ReadDb } from '../../src/projections/read-model-database.js';
import { criteriaDecider, criteriaInForce, criteriaStreamId, type CriteriaCommand } from '../../src/risk-criteria/domain/criteria.decider.js';
import type { CriteriaDefinition, CriteriaRegisterState, CriteriaVersionState } from '../../src/risk-criteria/domain/criteria.state.js';
import { isWithinAcceptance, levelFor, requiredMethodsFor } from '../../src/risk-criteria/domain/scoring.js';
import { consentFingerprint } from '../../src/risk-register/domain/plan-and-consent.js';
import type { RiskCommand } from '../../src/risk-register/domain/risk.commands.js';
import { riskDecider } from '../../src/risk-register/domain/risk.decider.js';
import { riskStreamId } from '../../src/risk-register/domain/risk.events.js';
import { TREATED_STATUSES, type RiskState, type RiskStatus, type TreatmentOption } from '../../src/risk-register/domain/risk.state.js';
import type { Clock } from '../../src/shared/application/clock.js';
import { CommandExecutor, type AggregateTarget, type AttemptReader, type CommandContext, type JointCommand } from '../../src/shared/application/command-executor.js';
import { withNameReservation } from '../../src/asset-inventory/application/asset-name-reservation.js';
import { planJoint, type PlanRequest } from '../../src/treatment-plan/application/plan-joint-commands.js';
import { ProcessManager } from '../../src/shared/application/process-manager.js';
import { SoleInstance } from '../../src/shared/application/reactions-coordination.js';
import type { DomainActor, DomainEvent } from '../../src/shared/domain/decider.js';
import { DomainError, RuleViolationError } from '../../src/shared/domain/errors.js';
import { JsonLogger } from '../../src/shared/logging/json-logger.js';
import type { PlanCommand } from '../../src/treatment-plan/domain/plan.commands.js';
import { planDecider } from '../../src/treatment-plan/domain/plan.decider.js';
import { planStreamId, type PlanState, type RiskSnapshot } from '../../src/treatment-plan/domain/plan.state.js';
import { custodyCatalogue } from '../unit/risk-register/fixtures.js';

// ---------------------------------------------------------------------------------------------
// Actors, names, criteria versions
// ---------------------------------------------------------------------------------------------

const DEPARTMENTS = ['Custody', 'Operations'] as const;
const managers: DomainActor[] = DEPARTMENTS.map((department, i) => ({ id: `u-mgr-${i}`, name: `Manager ${department}`, roles: ['ASSET_MANAGER'], department }));
const cisos: DomainActor[] = [
  { id: 'u-ciso-1', name: 'Chika CISO', roles: ['CISO'] },
  { id: 'u-ciso-2', name: 'Daichi CISO', roles: ['CISO'] },
];
const committee: DomainActor = { id: 'u-com', name: 'Kenji Committee', roles: ['COMMITTEE_MEMBER'] };
const secretary: DomainActor = { id: 'u-sec', name: 'Board Secretary', roles: ['BOARD_SECRETARY'] };
const OWNER_IDS = ['u-owner-1', 'u-owner-2', 'u-owner-3'];
const ownerActor = (id: string): DomainActor => ({ id, name: `Owner ${id}`, roles: ['RISK_OWNER'] });
/** Who may propose criteria; approval needs a CISO other than the proposer (Art.23(3)). */
const proposers: DomainActor[] = [committee, ...cisos];

const ASSET_NAMES = ['Hot wallet', 'Cold wallet', 'Withdrawal API', 'Operations wiki', 'Office printer', 'KYC database'];
const THREAT_NAMES = ['Key theft', 'Outage', 'Leak', 'Phishing'];
const VULNERABILITY_NAMES = ['Shared key', 'Single node', 'Public link', 'No MFA'];


/** Three definitions: strict (the unit fixtures'), lenient, and other scales (4 likelihood levels, 4 risk levels). */
const CRITERIA_DEFINITIONS: CriteriaDefinition[] = [
  criteria3x3({}),
  criteria3x3({ acceptanceLevel: 'MEDIUM', requiredMethods: [] }),
  {
    likelihoodLevels: ['Rare', 'Unlikely', 'Possible', 'Likely'],
    impactLevels: ['Minor', 'Moderate', 'Severe'],
    riskLevels: ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'],
    matrix: [
      ['LOW', 'LOW', 'MEDIUM'],
      ['LOW', 'MEDIUM', 'HIGH'],
      ['MEDIUM', 'HIGH', 'CRITICAL'],
      ['HIGH', 'CRITICAL', 'CRITICAL'],
    ],
    acceptanceLevel: 'MEDIUM',
    impactByAssetValue: [1, 2, 3],
    baselineGapThresholds: [0.2, 0.4, 0.6],
    detailedLikelihoodThresholds: [2, 4, 6],
    requiredMethods: [{ minAssetValue: 3, method: 'DETAILED' }],
    reviewIntervalDays: [
      { level: 'LOW', days: 365 },
      { level: 'MEDIUM', days: 180 },
      { level: 'HIGH', days: 90 },
      { level: 'CRITICAL', days: 30 },
    ],
  },
];

const CATALOGUE_VERSIONS = ['2025.1', '2025.2'];

// ---------------------------------------------------------------------------------------------
// Abstract operations
// ---------------------------------------------------------------------------------------------

const KINDS = [
  'registerAsset',
  'identifyThreat',
  'identifyVulnerability',
  'retireAsset',
  'reassignAssetManager',
  'importCatalogue',
  'proposeCriteria',
  'approveCriteria',
  'identifyRisk',
  'analyseRisk',
  'evaluateRisk',
  'decideTreatment',
  'decideControls',
  'draftPlan',
  'addRiskToPlan',
  'submitPlan',
  'recordBoardResolution',
  'residualConsent',
  'recordReview',
  'reassignRiskOwner',
] as const;
type Kind = (typeof KINDS)[number];

/** Every random argument an operation may use (each interpreter reads the ones it needs). */
interface Args {
  pick: number;
  pick2: number;
  who: number;
  name: number;
  dept: number;
  category: number;
  c: number;
  i: number;
  a: number;
  affects: SecurityProperty[];
  variant: number;
  method: 'INFORMAL' | 'DETAILED' | 'BASELINE';
  likelihood: number;
  impact: number;
  threatLevel: number;
  vulnerabilityLevel: number;
  statuses: number[];
  option: TreatmentOption;
  within: boolean;
  controls: number;
  dueDays: number;
  decision: 'APPROVED' | 'REJECTED';
  daysAgo: number;
  accept: boolean;
  byOwner: boolean;
  extraAsset: boolean;
  flag: boolean;
  /** "progress" takes the step furthest along the life cycle (else any next step). */
  deep: boolean;
}

interface Op {
  kind: Kind | 'progress';
  args: Args;
}

const argsArb: fc.Arbitrary<Args> = fc.record({
  pick: fc.nat(999),
  pick2: fc.nat(999),
  who: fc.nat(99),
  name: fc.nat(99),
  dept: fc.nat(1),
  category: fc.nat(ASSET_CATEGORIES.length - 1),
  c: fc.integer({ min: 1, max: 3 }),
  i: fc.integer({ min: 1, max: 3 }),
  a: fc.integer({ min: 1, max: 3 }),
  affects: fc.subarray([...SECURITY_PROPERTIES], { minLength: 1 }),
  variant: fc.nat(CRITERIA_DEFINITIONS.length - 1),
  method: fc.constantFrom('INFORMAL' as const, 'DETAILED' as const, 'BASELINE' as const),
  likelihood: fc.nat(11),
  impact: fc.nat(11),
  threatLevel: fc.integer({ min: 1, max: 3 }),
  vulnerabilityLevel: fc.integer({ min: 1, max: 3 }),
  statuses: fc.array(fc.nat(BASELINE_REQUIREMENT_STATUSES.length - 1), { minLength: 1, maxLength: 7 }),
  option: fc.oneof(
    { weight: 5, arbitrary: fc.constant<TreatmentOption>('REDUCE') },
    { weight: 2, arbitrary: fc.constant<TreatmentOption>('SHARE') },
    { weight: 1, arbitrary: fc.constant<TreatmentOption>('AVOID') },
  ),
  within: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  controls: fc.integer({ min: 1, max: 2 }),
  dueDays: fc.integer({ min: -1, max: 400 }),
  decision: fc.oneof({ weight: 3, arbitrary: fc.constant('APPROVED' as const) }, { weight: 1, arbitrary: fc.constant('REJECTED' as const) }),
  daysAgo: fc.nat(3),
  accept: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  byOwner: fc.oneof({ weight: 12, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  extraAsset: fc.boolean(),
  flag: fc.boolean(),
  deep: fc.boolean(),
});

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.oneof(
    { weight: 2 * KINDS.length, arbitrary: fc.constant('progress' as const) },
    ...KINDS.map((k) => ({ weight: 1, arbitrary: fc.constant(k) })),
  ),
  args: argsArb,
});

// ---------------------------------------------------------------------------------------------
// The application, wired by hand as platform.module.ts does
// ---------------------------------------------------------------------------------------------

/** A clock the test moves: every operation happens some hours after the previous one. */
class SimulatedClock implements Clock {
  private ms = Date.parse('2025-04-01T00:00:00.000Z');
  now(): Date {
    return new Date(this.ms);
  }
  advance(hours: number): void {
    this.ms += hours * 3600_000;
  }
}

interface Stats {
  runs: number;
  operations: number;
  skipped: number;
  appended: number;
  satisfied: number;
  refused: Map<string, number>;
  eventTypes: Map<string, number>;
  maxRiskStatus: Map<RiskStatus, number>;
}

const totals: Stats = { runs: 0, operations: 0, skipped: 0, appended: 0, satisfied: 0, refused: new Map(), eventTypes: new Map(), maxRiskStatus: new Map() };
const bump = <K>(m: Map<K, number>, k: K, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

const silent = new JsonLogger('rebuild-property', 'error');
// A full page waits up to a second for the next before its span commits: several pages per commit
// even on a loaded machine (the default 10 ms is what the assertion below would otherwise race).
const CATCH_UP: CatchUpOptions = { pageSize: 5, commitEvery: 12, idleCommitMs: 1_000 };

class World {
  readonly clock = new SimulatedClock();
  readonly assets: string[] = [];
  readonly risks: string[] = [];
  readonly plans: string[] = [];
  readonly catalogues: string[] = [];
  private resolutions = 0;
  readonly resolutionNumbers: string[] = [];

  private constructor(
    readonly dir: string,
    readonly store: SqliteEventStore,
    readonly db: ReadDb,
    readonly runner: ProjectionRunner,
    readonly manager: ProcessManager,
    readonly executor: CommandExecutor,
  ) {}

  private reader?: AggregateReader;
  private get aggregates(): AggregateReader {
    return (this.reader ??= new AggregateReader(this.store, upcastersOf(FEATURES)));
  }

  static async open(): Promise<World> {
    const dir = mkdtempSync(join(tmpdir(), 'rebuild-property-'));
    const store = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
    await store.init();
    const db = openReadModelDatabase(join(dir, 'read-models.sqlite'));
    const upcasters = upcastersOf(FEATURES);
    // Small catch-up pages and commits, so that a rebuild (and a live page of several events)
    // applies pages in a transaction left open across them and commits it several times.
    const runner = new ProjectionRunner(store, db, projectionsOf(FEATURES)(), upcasters.upcast, silent, CATCH_UP);
    runner.start();
    // Reactions wait only for the projections (they must not wait for themselves).
    const reactionExecutor = new CommandExecutor(store, runner, upcasters);
    let clock!: SimulatedClock;
    const manager = new ProcessManager(REACTIONS_CHECKPOINT, store, new SoleInstance(db), reactionsOf(FEATURES, { executor: reactionExecutor, aggregates: new AggregateReader(store, upcasters), store, clock: { now: () => clock.now() } }), upcasters.upcast, silent);
    manager.start();
    const executor = new CommandExecutor(
      store,
      {
        waitFor: async (position) => {
          await runner.waitFor(position);
          await manager.waitFor(position);
        },
      },
      upcasters,
    );
    const world = new World(dir, store, db, runner, manager, executor);
    clock = world.clock;
    return world;
  }

  /** Waits until the projections and the reactions have caught up with the head of the log, and nothing more is appended. */
  async settle(): Promise<void> {
    for (;;) {
      this.checkHealthy();
      const head = await this.store.headPosition();
      if (head === null) return;
      await this.runner.waitFor(head);
      await this.manager.waitFor(head);
      if ((await this.store.headPosition()) === head) return;
    }
  }

  checkHealthy(): void {
    if (this.runner.failed) throw new Error(`projection runner failed: ${String(this.runner.failed)}`);
    if (this.manager.failed) throw new Error(`process manager failed: ${String(this.manager.failed)}`);
  }

  async close(): Promise<void> {
    await this.manager.stop();
    await this.runner.stop();
    await this.store.close();
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // --- loading states from the log (the source of truth, like the command handlers) ---

  async asset(id: string): Promise<AssetState> {
    return (await this.aggregates.load(assetStreamId(id), assetDecider)).state;
  }
  async risk(id: string): Promise<RiskState> {
    return (await this.aggregates.load(riskStreamId(id), riskDecider)).state;
  }
  async plan(id: string): Promise<PlanState> {
    return (await this.aggregates.load(planStreamId(id), planDecider)).state;
  }
  async criteriaRegister(): Promise<CriteriaRegisterState> {
    return (await this.aggregates.load(criteriaStreamId(), criteriaDecider)).state;
  }
  async catalogue(id: string): Promise<BaselineCatalogueState | undefined> {
    if (id === BUILTIN_CATALOGUE.id) return BUILTIN_CATALOGUE;
    const { state } = await this.aggregates.load(catalogueStreamId(id), catalogueDecider);
    return state.exists ? state : undefined;
  }

  nextResolutionNumber(): string {
    const n = `BR-2025-${String(++this.resolutions).padStart(3, '0')}`;
    this.resolutionNumbers.push(n);
    return n;
  }

  /** Runs one command; a DomainError is a refusal (counted), anything else fails the property. */
  async run<C, E extends DomainEvent, S>(target: AggregateTarget<C, E, S> | ((reader: AttemptReader) => Promise<JointCommand<S>>), command: C & { actor: DomainActor; at: string }, stats: Stats): Promise<boolean> {
    const ctx: CommandContext = { actor: command.actor, at: command.at, correlationId: randomUUID(), causationId: randomUUID() };
    try {
      const result = typeof target === 'function' ? await this.executor.executeJoint(target, ctx) : await this.executor.execute(target, command, ctx);
      if (result.events.length === 0) stats.satisfied++;
      else stats.appended++;
      return result.events.length > 0;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const label = error instanceof RuleViolationError ? `${(command as { type?: string }).type}: ${error.rule}` : `${(command as { type?: string }).type}: ${error.code}`;
      bump(stats.refused, label);
      return false;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Turning an abstract operation into a domain command against the current state
// ---------------------------------------------------------------------------------------------

interface Snapshot {
  assets: AssetState[];
  risks: RiskState[];
  plans: PlanState[];
  register: CriteriaRegisterState;
  inForce?: CriteriaVersionState;
}

async function look(w: World): Promise<Snapshot> {
  const register = await w.criteriaRegister();
  return {
    assets: await Promise.all(w.assets.map((id) => w.asset(id))),
    risks: await Promise.all(w.risks.map((id) => w.risk(id))),
    plans: await Promise.all(w.plans.map((id) => w.plan(id))),
    register,
    inForce: criteriaInForce(register),
  };
}

const choose = <T>(items: readonly T[], n: number): T | undefined => (items.length === 0 ? undefined : items[n % items.length]);
const active = (a: AssetState) => a.status === 'ACTIVE';
const withVulnerability = (a: AssetState) => a.threats.some((t) => t.vulnerabilities.length > 0);
const day = (at: string, offsetDays = 0) => new Date(Date.parse(at) + offsetDays * 86_400_000).toISOString().slice(0, 10);

function riskSnapshot(r: RiskState): RiskSnapshot {
  return {
    id: r.id,
    version: r.version,
    title: r.title,
    ownerId: r.ownerId,
    status: r.status,
    stateHash: consentFingerprint(r),
    criteriaNumber: r.evaluation?.criteriaNumber ?? r.criteriaNumber,
    level: r.level,
  };
}

/** The step one entity would naturally take next ("progress"): a kind and the entity it applies to. */
interface Step {
  kind: Kind;
  target?: string;
}

/** How far along the life cycle a step is. */
const DEPTH: Record<Kind, number> = {
  proposeCriteria: 0, registerAsset: 0, importCatalogue: 0, approveCriteria: 1, identifyThreat: 1, identifyVulnerability: 2, retireAsset: 2,
  reassignAssetManager: 2, identifyRisk: 3, reassignRiskOwner: 3, analyseRisk: 4, evaluateRisk: 5, recordReview: 6, decideTreatment: 6,
  decideControls: 7, draftPlan: 8, addRiskToPlan: 8, submitPlan: 9, recordBoardResolution: 10, residualConsent: 11,
};

function nextSteps(s: Snapshot): Step[] {
  const steps: Step[] = [];
  const pending = s.register.versions.filter((v) => v.status === 'PROPOSED');
  if (!s.inForce) steps.push(pending.length > 0 ? { kind: 'approveCriteria', target: pending[pending.length - 1]!.id } : { kind: 'proposeCriteria' });
  const activeAssets = s.assets.filter(active);
  if (activeAssets.length < 3) steps.push({ kind: 'registerAsset' });
  for (const a of activeAssets) {
    if (a.threats.length === 0) steps.push({ kind: 'identifyThreat', target: a.id });
    else if (!withVulnerability(a)) steps.push({ kind: 'identifyVulnerability', target: a.id });
  }
  const open = s.risks.filter((r) => r.status !== 'CLOSED');
  if (s.inForce && open.length < 4 && activeAssets.some(withVulnerability)) steps.push({ kind: 'identifyRisk' });
  const draftPlans = s.plans.filter((p) => p.status === 'DRAFT');
  const values = new Map(s.assets.map((a) => [a.id, a.value]));
  /** Evaluation needs every method the criteria in force require, applied in this cycle under them. */
  const readyToEvaluate = (r: RiskState, criteria: CriteriaVersionState) => {
    const applied = new Set(r.cycleAnalyses.find((c) => c.criteriaId === criteria.id)?.methods ?? []);
    const value = Math.max(0, ...r.assetIds.map((id) => values.get(id) ?? 0));
    return applied.size > 0 && requiredMethodsFor(criteria, value).every((m) => applied.has(m));
  };
  for (const r of open) {
    const stale = s.inForce !== undefined && r.evaluation !== undefined && r.evaluation.criteriaId !== s.inForce.id;
    switch (r.status) {
      case 'IDENTIFIED':
        if (s.inForce) steps.push({ kind: 'analyseRisk', target: r.id });
        break;
      case 'ANALYSED':
        if (s.inForce) steps.push({ kind: readyToEvaluate(r, s.inForce) ? 'evaluateRisk' : 'analyseRisk', target: r.id });
        break;
      case 'RETAINED':
      case 'TO_TREAT':
        if (stale) steps.push({ kind: readyToEvaluate(r, s.inForce!) ? 'evaluateRisk' : 'analyseRisk', target: r.id });
        else steps.push({ kind: r.status === 'RETAINED' ? 'recordReview' : 'decideTreatment', target: r.id });
        break;
      case 'TREATMENT_DECIDED':
        steps.push({ kind: 'decideControls', target: r.id });
        break;
      case 'CONTROLS_DECIDED':
        steps.push(draftPlans.some((p) => !p.items.some((i) => i.riskId === r.id)) ? { kind: 'addRiskToPlan', target: r.id } : { kind: 'draftPlan' });
        break;
      case 'AWAITING_CONSENT':
        if (r.consent?.status === 'PENDING') steps.push({ kind: 'residualConsent', target: r.id });
        break;
      case 'ACCEPTED':
        steps.push({ kind: 'recordReview', target: r.id });
        break;
    }
  }
  for (const p of s.plans) {
    if (p.status === 'DRAFT' && p.items.length > 0) steps.push({ kind: 'submitPlan', target: p.id });
    if (p.status === 'SUBMITTED') steps.push({ kind: 'recordBoardResolution', target: p.id });
  }
  return steps;
}

/** Runs one abstract operation; returns false when nothing fitted (skipped). */
async function perform(w: World, op: Op, stats: Stats): Promise<boolean> {
  const s = await look(w);
  const x = op.args;
  let kind: Kind;
  let target: string | undefined;
  if (op.kind === 'progress') {
    const steps = nextSteps(s);
    const deepest = Math.max(...steps.map((t) => DEPTH[t.kind]));
    const step = choose(x.deep ? steps.filter((t) => DEPTH[t.kind] === deepest) : steps, x.pick2);
    if (!step) return false;
    kind = step.kind;
    target = step.target;
  } else kind = op.kind;

  w.clock.advance(1 + (x.who % 12));
  const at = w.clock.now().toISOString();
  const byId = <T extends { id: string }>(items: T[]) => (target === undefined ? undefined : items.find((i) => i.id === target));
  /** The target of a "progress" step, else one of the candidates (those that fit first, else any). */
  const pickFrom = <T extends { id: string }>(all: T[], fits: (t: T) => boolean): T | undefined => {
    const t = byId(all);
    if (t) return t;
    const fitting = all.filter(fits);
    return choose(fitting.length > 0 && x.who % 10 !== 0 ? fitting : all, x.pick);
  };
  const inForce = s.inForce;
  const N = inForce?.likelihoodLevels.length ?? 3;
  const M = inForce?.impactLevels.length ?? 3;

  const onAsset = (command: AssetCommand) => w.run(withNameReservation(command), command, stats);
  const onRisk = (command: RiskCommand) => w.run({ streamId: riskStreamId(command.riskId), decider: riskDecider }, command, stats);
  // The plan commands with the risk decisions they imply, appended together (as the GraphQL handler does).
  const onPlan = (command: PlanRequest) => w.run(planJoint(command), command, stats);
  const onCriteria = (command: CriteriaCommand) => w.run({ streamId: criteriaStreamId(), decider: criteriaDecider }, command, stats);
  const riskAssets = async (r: RiskState) => (await Promise.all(r.assetIds.map((id) => w.asset(id)))).filter((a) => a.exists);
  const riskActor = (r: RiskState) => (x.who % 3 === 0 ? ownerActor(r.ownerId) : x.who % 3 === 1 ? committee : cisos[0]!);

  switch (kind) {
    case 'registerAsset': {
      const department = DEPARTMENTS[x.dept]!;
      const name = ASSET_NAMES[x.name % ASSET_NAMES.length]!;
      // Mostly the department's own manager, sometimes the CISO, rarely another department's manager (refused).
      const actor = x.who % 7 === 6 ? managers[1 - x.dept]! : x.who % 7 === 5 ? cisos[0]! : managers[x.dept]!;
      const assetId = randomUUID();
      const ok = await onAsset({
        type: 'RegisterAsset', actor, at, assetId, name, description: `${name} of ${department}`, category: ASSET_CATEGORIES[x.category]!,
        department, managerId: managers[x.dept]!.id, confidentiality: x.c, integrity: x.i, availability: x.a,
      });
      if (ok) w.assets.push(assetId);
      return true;
    }
    case 'identifyThreat': {
      const a = pickFrom(s.assets, (a) => active(a) && a.threats.length < 3);
      if (!a) return false;
      const name = THREAT_NAMES[x.name % THREAT_NAMES.length]!;
      await onAsset({ type: 'IdentifyThreat', actor: x.flag ? cisos[0]! : managers[DEPARTMENTS.indexOf(a.department as never)] ?? cisos[0]!, at, assetId: a.id, threatId: randomUUID(), name, description: name, affects: x.affects });
      return true;
    }
    case 'identifyVulnerability': {
      const a = pickFrom(s.assets, (a) => active(a) && a.threats.length > 0);
      const threat = a && choose(a.threats, x.pick2);
      if (!a || !threat) return false;
      const name = VULNERABILITY_NAMES[x.name % VULNERABILITY_NAMES.length]!;
      await onAsset({ type: 'IdentifyVulnerability', actor: cisos[0]!, at, assetId: a.id, threatId: threat.id, vulnerabilityId: randomUUID(), name, description: name });
      return true;
    }
    case 'retireAsset': {
      const a = pickFrom(s.assets, active);
      if (!a) return false;
      await onAsset({ type: 'RetireAsset', actor: cisos[x.dept]!, at, assetId: a.id, reason: 'Decommissioned' });
      return true;
    }
    case 'reassignAssetManager': {
      const a = pickFrom(s.assets, active);
      if (!a) return false;
      await onAsset({ type: 'ReassignAssetManager', actor: cisos[0]!, at, assetId: a.id, managerId: x.flag ? 'u-mgr-new' : managers[x.dept]!.id });
      return true;
    }
    case 'importCatalogue': {
      const version = CATALOGUE_VERSIONS[x.variant % CATALOGUE_VERSIONS.length]!;
      const catalogueId = catalogueIdFor(custodyCatalogue.name, version);
      const command: CatalogueCommand = {
        type: 'ImportBaselineCatalogue', actor: x.flag ? committee : cisos[1]!, at, catalogueId, name: custodyCatalogue.name, version,
        requirements: custodyCatalogue.requirements.slice(0, 3 + (x.variant % 3)),
      };
      if (await w.run({ streamId: catalogueStreamId(catalogueId), decider: catalogueDecider }, command, stats)) w.catalogues.push(catalogueId);
      return true;
    }
    case 'proposeCriteria': {
      const actor = proposers[x.who % proposers.length]!;
      await onCriteria({ type: 'ProposeRiskCriteria', actor, at, criteriaId: randomUUID(), definition: CRITERIA_DEFINITIONS[x.variant]! });
      return true;
    }
    case 'approveCriteria': {
      const v = target ? s.register.versions.find((v) => v.id === target) : choose(s.register.versions.filter((v) => v.status === 'PROPOSED'), x.pick) ?? choose(s.register.versions, x.pick);
      if (!v) return false;
      // A CISO other than the proposer (Art.23(3)); rarely the proposer itself (refused).
      const others = cisos.filter((c) => c.id !== v.proposedBy);
      const approver = x.who % 15 === 0 ? (cisos.find((c) => c.id === v.proposedBy) ?? others[0]!) : others[x.pick2 % others.length]!;
      await onCriteria({ type: 'ApproveRiskCriteria', actor: approver, at, criteriaId: v.id });
      return true;
    }
    case 'identifyRisk': {
      const a = choose(s.assets.filter((a) => withVulnerability(a) && (active(a) || x.who % 10 === 0)), x.pick);
      if (!a) return false;
      const threat = choose(a.threats.filter((t) => t.vulnerabilities.length > 0), x.pick2)!;
      const vulnerability = choose(threat.vulnerabilities, x.name)!;
      const extra = x.extraAsset ? choose(s.assets.filter((b) => b.id !== a.id && active(b)), x.pick2) : undefined;
      const assetIds = extra ? [a.id, extra.id] : [a.id];
      const riskId = randomUUID();
      const ok = await onRisk({
        type: 'IdentifyRisk', actor: x.flag ? committee : ownerActor(OWNER_IDS[0]!), at, riskId, title: `${threat.name} through ${vulnerability.name}`,
        description: `On ${a.name}`, assetIds, threatId: threat.id, vulnerabilityId: vulnerability.id, ownerId: OWNER_IDS[x.who % OWNER_IDS.length]!,
        externalReferences: x.extraAsset ? ['Coincheck NEM incident, January 2018'] : [], assets: (await Promise.all(assetIds.map((id) => w.asset(id)))).filter((a) => a.exists),
      });
      if (ok) w.risks.push(riskId);
      return true;
    }
    case 'analyseRisk': {
      const r = pickFrom(s.risks, (r) => r.status !== 'CLOSED');
      if (!r) return false;
      const assets = await riskAssets(r);
      let method = x.method;
      if (op.kind === 'progress' && inForce) {
        // Apply a method the criteria still require for this cycle first, so that evaluation can follow.
        const value = Math.max(0, ...assets.map((a) => a.value));
        const applied = new Set(r.cycleAnalyses.find((c) => c.criteriaId === inForce.id)?.methods ?? []);
        method = requiredMethodsFor(inForce, value).find((m) => !applied.has(m)) ?? method;
      }
      const base = { type: 'AnalyseRisk' as const, actor: riskActor(r), at, riskId: r.id, analysisId: randomUUID(), criteria: inForce, assets };
      if (method === 'INFORMAL') {
        await onRisk({ ...base, method, informal: { likelihood: 1 + (x.likelihood % N), impact: 1 + (x.impact % M), expert: 'Yui Expert', rationale: 'Industry incidents' } });
      } else if (method === 'DETAILED') {
        const assessed = x.extraAsset ? r.assetIds : r.assetIds.slice(0, 1);
        await onRisk({
          ...base, method,
          detailed: { assessments: assessed.map((assetId, k) => ({ assetId, threatLevel: k === 0 ? x.threatLevel : x.vulnerabilityLevel, vulnerabilityLevel: k === 0 ? x.vulnerabilityLevel : x.threatLevel })) },
        });
      } else {
        const catalogueId = choose([BUILTIN_CATALOGUE.id, ...w.catalogues], x.pick2)!;
        const catalogue = await w.catalogue(catalogueId);
        const results = (catalogue?.requirements ?? []).map((req, k) => ({ requirementId: req.id, status: BASELINE_REQUIREMENT_STATUSES[x.statuses[k % x.statuses.length]!]! }));
        await onRisk({ ...base, method, baseline: { catalogueId, results, impact: 1 + (x.impact % M) }, catalogue });
      }
      return true;
    }
    case 'evaluateRisk': {
      const r = pickFrom(s.risks, (r) => r.status === 'ANALYSED' || r.status === 'RETAINED' || r.status === 'TO_TREAT');
      if (!r) return false;
      await onRisk({ type: 'EvaluateRisk', actor: x.flag ? committee : cisos[1]!, at, riskId: r.id, criteria: inForce, assets: await riskAssets(r) });
      return true;
    }
    case 'decideTreatment': {
      const r = pickFrom(s.risks, (r) => r.status === 'TO_TREAT' || TREATED_STATUSES.includes(r.status));
      if (!r) return false;
      // A target within the acceptance level of the criteria in force, or (rarely) above it: refused.
      const cells: { l: number; i: number; within: boolean }[] = [];
      for (let l = 1; l <= N; l++) for (let i = 1; i <= M; i++) cells.push({ l, i, within: inForce ? isWithinAcceptance(inForce, levelFor(inForce, l, i)) : true });
      const cell = choose(cells.filter((c) => c.within === x.within), x.likelihood) ?? cells[0]!;
      const share = x.option === 'SHARE';
      await onRisk({
        type: 'DecideTreatment', actor: x.flag ? committee : cisos[0]!, at, riskId: r.id, options: x.extraAsset && x.option === 'REDUCE' ? ['REDUCE', 'SHARE'] : [x.option],
        rationale: `Treat by ${x.option.toLowerCase()}`, targetLikelihood: cell.l, targetImpact: cell.i,
        counterparty: share || (x.extraAsset && x.option === 'REDUCE') ? 'Tokio Marine' : null, contractReference: share || (x.extraAsset && x.option === 'REDUCE') ? `Policy ${x.pick}` : null,
        criteria: inForce,
      });
      return true;
    }
    case 'decideControls': {
      const r = pickFrom(s.risks, (r) => TREATED_STATUSES.includes(r.status));
      if (!r) return false;
      const controls = Array.from({ length: x.controls }, (_, k) => ({
        controlId: randomUUID(), title: k === 0 ? 'Multi-signature withdrawals' : `Cold storage ratio ${k}`, description: 'Keys held by separate teams',
        ownerId: 'u-custody-lead', dueDate: day(at, x.dueDays + k), reason: 'A single stolen key can no longer move funds', reference: x.flag ? 'CB-02' : null,
      }));
      await onRisk({ type: 'DecideControls', actor: x.flag ? committee : cisos[1]!, at, riskId: r.id, controls });
      return true;
    }
    case 'draftPlan': {
      const planId = randomUUID();
      if (await onPlan({ type: 'DraftPlan', actor: x.flag ? committee : cisos[x.dept]!, at, planId, title: `Security plan ${w.plans.length + 1}`, period: 'FY2025' })) w.plans.push(planId);
      return true;
    }
    case 'addRiskToPlan': {
      const r = pickFrom(s.risks, (r) => r.status === 'CONTROLS_DECIDED');
      if (!r) return false;
      const drafts = s.plans.filter((p) => p.status === 'DRAFT');
      const p = choose(drafts.filter((p) => !p.items.some((i) => i.riskId === r.id)), x.pick2) ?? choose(s.plans, x.pick2);
      if (!p) return false;
      await onPlan({ type: 'AddRiskToPlan', actor: x.flag ? committee : cisos[0]!, at, planId: p.id, riskId: r.id });
      return true;
    }
    case 'submitPlan': {
      const p = pickFrom(s.plans, (p) => p.status === 'DRAFT' && p.items.length > 0);
      if (!p) return false;
      await onPlan({ type: 'SubmitPlan', actor: x.flag ? committee : cisos[1]!, at, planId: p.id });
      return true;
    }
    case 'recordBoardResolution': {
      const p = pickFrom(s.plans, (p) => p.status === 'SUBMITTED');
      if (!p) return false;
      // Rarely the number of an earlier resolution again (already satisfied, or refused as reused).
      const reuse = x.who % 12 === 0 ? choose(w.resolutionNumbers, x.pick2) : undefined;
      await onPlan({
        type: 'RecordBoardResolution', actor: secretary, at, planId: p.id, resolutionNumber: reuse ?? w.nextResolutionNumber(),
        meetingDate: day(at, -x.daysAgo), decision: x.decision, minutesReference: `Minutes ${day(at, -x.daysAgo)}`, notes: x.flag ? 'Unanimous' : null,
      });
      return true;
    }
    case 'residualConsent': {
      const r = pickFrom(s.risks, (r) => (r.status === 'AWAITING_CONSENT' || r.status === 'ACCEPTED') && r.planId !== undefined);
      if (!r || !r.planId) return false;
      // The risk's owner answers (rarely someone else: refused).
      const actor = x.byOwner ? ownerActor(r.ownerId) : ownerActor(OWNER_IDS.find((o) => o !== r.ownerId)!);
      // Consent is decided on the risk (Art.20); the plan learns it through the reactions.
      if (x.accept) await onRisk({ type: 'RecordResidualConsent', actor, at, planId: r.planId, riskId: r.id, accepted: true, statement: 'I accept the residual risk as planned' });
      else await onRisk({ type: 'RecordResidualConsent', actor, at, planId: r.planId, riskId: r.id, accepted: false, reason: x.flag ? 'Cold storage ratio too low' : 'Budget not approved' });
      return true;
    }
    case 'recordReview': {
      const r = pickFrom(s.risks, (r) => r.status === 'RETAINED' || r.status === 'ACCEPTED');
      if (!r) return false;
      await onRisk({
        type: 'RecordReview', actor: riskActor(r), at, riskId: r.id, reviewId: randomUUID(), controlsInPlace: x.flag,
        actualLikelihood: 1 + (x.likelihood % N), actualImpact: 1 + (x.impact % M), notes: x.extraAsset ? 'Quarterly review' : null, criteria: inForce,
      });
      return true;
    }
    case 'reassignRiskOwner': {
      const r = pickFrom(s.risks, (r) => r.status !== 'CLOSED');
      if (!r) return false;
      await onRisk({ type: 'ReassignRiskOwner', actor: x.flag ? committee : cisos[0]!, at, riskId: r.id, ownerId: OWNER_IDS[x.name % OWNER_IDS.length]! });
      return true;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Read-model snapshots
// ---------------------------------------------------------------------------------------------

const NOT_READ_MODELS = new Set(['projection_checkpoints', 'process_checkpoints']);

type TableSnapshot = Record<string, unknown>[];

/** Every table the projections created, each SELECT * ordered by its primary key. */
function snapshotReadModels(db: ReadDb): Record<string, TableSnapshot> {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[])
    .map((t) => t.name)
    .filter((name) => !NOT_READ_MODELS.has(name));
  const snapshot: Record<string, TableSnapshot> = {};
  for (const table of tables) {
    const columns = db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string; pk: number }[];
    const pk = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const order = (pk.length > 0 ? pk : columns).map((c) => `"${c.name}"`).join(', ');
    snapshot[table] = db.prepare(`SELECT * FROM "${table}" ORDER BY ${order}`).all() as TableSnapshot;
  }
  return snapshot;
}

/** The first difference, readably (toEqual's diff of whole JSON documents is hard to read). */
function firstDifference(expected: Record<string, TableSnapshot>, actual: Record<string, TableSnapshot>): string | undefined {
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  for (const t of tables) {
    const e = expected[t];
    const a = actual[t];
    if (!e || !a) return `table ${t}: ${e ? 'missing after rebuild' : 'only after rebuild'}`;
    if (e.length !== a.length) return `table ${t}: ${e.length} rows incrementally, ${a.length} after rebuild`;
    for (let k = 0; k < e.length; k++) {
      for (const column of new Set([...Object.keys(e[k]!), ...Object.keys(a[k]!)])) {
        const ev = e[k]![column];
        const av = a[k]![column];
        if (ev !== av) return `table ${t}, row ${k}, column ${column}:\n  incremental: ${String(ev)}\n  rebuilt:     ${String(av)}`;
      }
    }
  }
  return undefined;
}

async function countEventTypes(store: EventStore, into: Map<string, number>): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 1000 });
    if (page.length === 0) return;
    for (const e of page) bump(into, e.type);
    after = page[page.length - 1]!.position;
  }
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

const STATUS_ORDER: readonly RiskStatus[] = ['IDENTIFIED', 'ANALYSED', 'RETAINED', 'TO_TREAT', 'TREATMENT_DECIDED', 'CONTROLS_DECIDED', 'IN_PLAN', 'AWAITING_CONSENT', 'ACCEPTED', 'CLOSED'];

async function runSequence(ops: Op[]): Promise<void> {
  const stats: Stats = { runs: 1, operations: ops.length, skipped: 0, appended: 0, satisfied: 0, refused: new Map(), eventTypes: new Map(), maxRiskStatus: new Map() };
  const w = await World.open();
  let fresh: { runner: ProjectionRunner; db: ReadDb } | undefined;
  try {
    for (const op of ops) {
      if (!(await perform(w, op, stats))) stats.skipped++;
      await w.settle();
    }
    await w.settle();
    await countEventTypes(w.store, stats.eventTypes);
    // The furthest each risk's history got (from its event types: IN_PLAN and later are recorded by reactions).
    for (const id of w.risks) {
      const events = await w.store.readStream(riskStreamId(id));
      const reached = events.reduce<RiskStatus>((best, e) => {
        const r = statusAfter(e.type, e.data);
        return r && STATUS_ORDER.indexOf(r) > STATUS_ORDER.indexOf(best) ? r : best;
      }, 'IDENTIFIED');
      bump(stats.maxRiskStatus, reached);
    }

    const head = await w.store.headPosition();
    const incremental = snapshotReadModels(w.db);

    // A risk command answers with the state it folded while the register's row is at that
    // version (RiskRegisterQueries.byIdAt): the row's document must then be that very state.
    const reader = new AggregateReader(w.store, upcastersOf(FEATURES), { snapshotEvery: 0 });
    for (const id of w.risks) {
      const { state } = await reader.load(riskStreamId(id), riskDecider);
      const row = w.db.prepare('SELECT version, doc FROM risks WHERE id = ?').get(id) as { version: number; doc: string } | undefined;
      expect(row?.version).toBe(state.version);
      expect(JSON.parse(row!.doc)).toEqual(JSON.parse(JSON.stringify(state)));
    }

    // 1. Rebuild in place, in pages of 5 events committed every 12 or more: progress comes at
    // each commit (so the options are honoured), and every event is counted once.
    const steps: number[] = [];
    let before = 0;
    const rebuilt = await w.runner.rebuild((applied) => {
      steps.push(applied - before);
      before = applied;
    });
    expect(rebuilt.position).toBe(head);
    expect(steps.reduce((a, b) => a + b, 0)).toBe(rebuilt.events);
    expect(Math.max(0, ...steps)).toBeLessThan(CATCH_UP.commitEvery! + CATCH_UP.pageSize!);
    if (rebuilt.events > CATCH_UP.commitEvery! + CATCH_UP.pageSize!) {
      expect(steps.length).toBeGreaterThan(1);
      // Several pages per commit.
      expect(Math.max(...steps)).toBeGreaterThan(CATCH_UP.pageSize!);
    }
    const inPlace = snapshotReadModels(w.db);
    const diff1 = firstDifference(incremental, inPlace);
    if (diff1) throw new Error(`runner.rebuild() differs from the incremental read models: ${diff1}`);
    expect(inPlace).toEqual(incremental);

    // 2. A brand-new runner on a fresh database, fed from the same store.
    const db = openReadModelDatabase(':memory:');
    const upcasters = upcastersOf(FEATURES);
    const runner = new ProjectionRunner(w.store, db, projectionsOf(FEATURES)(), upcasters.upcast, silent);
    fresh = { runner, db };
    runner.start();
    if (head) await runner.waitFor(head, { timeoutMs: 30_000, whileRetrying: 'wait' });
    const fromZero = snapshotReadModels(db);
    const diff2 = firstDifference(incremental, fromZero);
    if (diff2) throw new Error(`a fresh ProjectionRunner differs from the incremental read models: ${diff2}`);
    expect(fromZero).toEqual(incremental);

    // 2b. The same as the CLI catches up (its rebuild, verify-read-models): states written back
    // once per commit (CatchUpOptions.writeBack), here in pages of 5 committed every 12 or more.
    const offlineDb = openReadModelDatabase(':memory:');
    const offline = new ProjectionRunner(w.store, offlineDb, projectionsOf(FEATURES)(), upcasters.upcast, silent, { ...CATCH_UP, writeBack: 'commit', sliceMs: Infinity });
    offline.start();
    if (head) await offline.waitFor(head, { timeoutMs: 30_000, whileRetrying: 'wait' });
    await offline.stop();
    const atCommits = snapshotReadModels(offlineDb);
    offlineDb.close();
    const diff2b = firstDifference(incremental, atCommits);
    if (diff2b) throw new Error(`a runner writing states back at its commits differs from the incremental read models: ${diff2b}`);
    expect(atCommits).toEqual(incremental);

    // 3. A replay of the whole log (a cold asOf at the head), which writes the projections' states
    // back only at its end, and one that stores a snapshot (and so writes them) every 3 events:
    // both equal the incremental read models, but for the history tables, which replays leave
    // to the live read models, and the live-only ones (catalogues), which no replay is asked for.
    if (head) {
      const history = new Set(tablesLeftOutOfReplays(projectionsOf(FEATURES)()));
      const withoutHistory = (tables: Record<string, TableSnapshot>) => Object.fromEntries(Object.entries(tables).filter(([t]) => !history.has(t)));
      const expected = withoutHistory(incremental);
      for (const snapshots of [undefined, { store: new MemoryReplaySnapshots(100), every: 3 }]) {
        const replayed = await new AsOfReplayer(w.store, upcasters, projectionsOf(FEATURES), 1, undefined, snapshots).read({ atPosition: head }, (rdb) => withoutHistory(snapshotReadModels(rdb)));
        const diff3 = firstDifference(expected, replayed);
        if (diff3) throw new Error(`a replay${snapshots ? ' storing snapshots' : ''} differs from the incremental read models: ${diff3}`);
        expect(replayed).toEqual(expected);
      }
    }
  } finally {
    await fresh?.runner.stop();
    fresh?.db.close();
    await w.close();
  }
  totals.runs++;
  totals.operations += stats.operations;
  totals.skipped += stats.skipped;
  totals.appended += stats.appended;
  totals.satisfied += stats.satisfied;
  for (const [k, v] of stats.refused) bump(totals.refused, k, v);
  for (const [k, v] of stats.eventTypes) bump(totals.eventTypes, k, v);
  for (const [k, v] of stats.maxRiskStatus) bump(totals.maxRiskStatus, k, v);
}

/** The risk status an event leads to (only those that define one). */
function statusAfter(type: string, data: Record<string, unknown>): RiskStatus | undefined {
  switch (type) {
    case 'RiskIdentified':
      return 'IDENTIFIED';
    case 'RiskAnalysed':
      return 'ANALYSED';
    case 'RiskEvaluated':
      return data.decision as RiskStatus;
    case 'RiskTreatmentDecided':
      return 'TREATMENT_DECIDED';
    case 'ControlsDecided':
      return 'CONTROLS_DECIDED';
    case 'RiskIncludedInPlan':
      return 'IN_PLAN';
    case 'RiskAwaitingResidualConsent':
      return 'AWAITING_CONSENT';
    case 'ResidualRiskAcceptedByOwner':
      return 'ACCEPTED';
    case 'RiskClosed':
      return 'CLOSED';
    default:
      return undefined;
  }
}

describe('read models rebuilt from the log', () => {
  afterAll(() => {
    if (totals.runs === 0) return;
    const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${String(v).padStart(5)}  ${k}`).join('\n');
    console.log(
      [
        `rebuild-equality: ${totals.runs} runs, ${totals.operations} operations (${totals.skipped} skipped), ${totals.appended} commands appended, ${totals.satisfied} already satisfied, ${[...totals.refused.values()].reduce((a, b) => a + b, 0)} refused`,
        `appended event types:\n${sorted(totals.eventTypes)}`,
        `furthest status reached per risk:\n${sorted(totals.maxRiskStatus)}`,
        `refusals:\n${sorted(totals.refused)}`,
      ].join('\n'),
    );
  });

  it(
    'equal the incrementally built ones, whatever valid command sequence was recorded',
    async () => {
      // Not vacuous: the sequences reach the plan, the board and the owners' consent. The seeds are
      // random, and 25 runs once reached 3 consent requests and no acceptance (a CI run of
      // 2026-12-06): another batch of runs, up to three more, until they have.
      const reached = ['RiskEvaluated', 'RiskIncludedInPlan', 'PlanApproved', 'RiskAwaitingResidualConsent', 'ResidualRiskAcceptedByOwner'];
      const types = totals.eventTypes;
      for (let batch = 0; batch < 4 && (batch === 0 || reached.some((type) => !types.get(type))); batch++) {
        await fc.assert(
          fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 60 }), async (ops) => {
            await runSequence(ops);
          }),
          { numRuns: Number(process.env.REBUILD_PROPERTY_RUNS ?? 25) },
        );
      }
      expect(reached.filter((type) => !types.get(type))).toEqual([]);
      expect(totals.refused.size).toBeGreaterThan(0);
    },
    300_000,
  );
});
