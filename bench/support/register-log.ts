/**
 * A register-shaped log written fast: decided by the real deciders in memory, then appended to
 * the store as many single-stream appends issued in the same turn of the event loop, so that the
 * store's group commit writes about a thousand of them per transaction (each still checked
 * against its exact expected version). The order is the one 16 concurrent clients would give:
 * 16 lanes, each registering an asset (with a threat and a vulnerability) and then identifying
 * and analysing its risk, interleaved event by event.
 */
import { randomUUID } from 'node:crypto';
import { ExpectedVersion, type EventStore, type NewEvent } from '../../src/event-store/event-store.port.js';
import { assetDecider, assetStreamId } from '../../src/asset-inventory/domain/asset.decider.js';
import { assetNameDecider, assetNameStreamId } from '../../src/asset-inventory/domain/asset-name.decider.js';
import type { AssetState } from '../../src/asset-inventory/domain/asset.state.js';
import { criteriaDecider } from '../../src/risk-criteria/domain/criteria.decider.js';
import type { CriteriaVersionState } from '../../src/risk-criteria/domain/criteria.state.js';
import { riskDecider } from '../../src/risk-register/domain/risk.decider.js';
import { riskStreamId } from '../../src/risk-register/domain/risk.events.js';
import type { RiskState } from '../../src/risk-register/domain/risk.state.js';
import type { Decider, DomainActor, DomainEvent } from '../../src/shared/domain/decider.js';
import { FEATURES } from '../../src/features.js';
import { upcastersOf } from '../../src/platform/feature-contribution.js';

/** Each event is written at its type's current schema version, as the application writes it (no upcast on read). */
const upcasters = upcastersOf(FEATURES);

const committee: DomainActor = { id: 'committee', name: 'Committee', roles: ['COMMITTEE_MEMBER'] };
const ciso: DomainActor = { id: 'ciso', name: 'CISO', roles: ['CISO'] };
const manager: DomainActor = { id: 'mgr', name: 'Manager', roles: ['ASSET_MANAGER'], department: 'ops' };
const owner: DomainActor = { id: 'owner', name: 'Owner', roles: ['RISK_OWNER'] };

export interface RegisterLogShape {
  assets: number;
  analysesPerRisk: number;
  lanes?: number;
  /**
   * Each asset's name reserved as the server reserves it (AssetNameReserved; here in an append of
   * its own right after the registration). Without, the log is one an earlier build wrote, and a
   * server started on it reserves the names itself (earlier-asset-names.ts): a test that compares
   * the log's head with what it wrote asks for them. The benches' logs keep their shape without.
   */
  nameReservations?: boolean;
}

/** One pending append: a stream's next events, with the version they expect. */
interface Pending {
  streamId: string;
  expected: number;
  events: NewEvent[];
}

class Clock {
  private t = Date.parse('2025-01-01T00:00:00Z');
  now(): string {
    this.t += 1000;
    return new Date(this.t).toISOString();
  }
}

/** Domain events as the store takes them, stamped with their actor and instant. */
function recorded(events: readonly DomainEvent[], actor: DomainActor, at: string): NewEvent[] {
  return events.map((e) => ({
    eventId: randomUUID(),
    type: e.type,
    schemaVersion: upcasters.schemaVersionOf(e.type),
    data: e.data as Record<string, unknown>,
    metadata: { actor: { id: actor.id, name: actor.name, roles: actor.roles }, occurredAt: at, correlationId: 'bench', causationId: 'bench' },
  }));
}

function decide<C, E extends DomainEvent, S extends { version: number }>(decider: Decider<C, E, S>, streamId: string, state: S, command: C, actor: DomainActor, at: string, out: Pending[]): S {
  const events = decider.decide(command, state);
  out.push({ streamId, expected: state.version, events: recorded(events, actor, at) });
  let s = state;
  for (const e of events) s = decider.evolve(s, e);
  return s;
}

/** Writes the register's log; resolves with the number of events written. */
export async function writeRegisterLog(store: EventStore, shape: RegisterLogShape): Promise<number> {
  const clock = new Clock();
  const lanes = shape.lanes ?? 16;
  let written = 0;
  const flush = async (pending: Pending[]) => {
    // Issued together: the group commit takes them in this order, each checked against its version.
    await Promise.all(pending.map((p) => store.append(p.streamId, p.events, { expectedVersion: ExpectedVersion.exact(p.expected) })));
    for (const p of pending) written += p.events.length;
    pending.length = 0;
  };

  const head: Pending[] = [];
  let at = clock.now();
  let criteria = decide(criteriaDecider, 'risk-criteria', criteriaDecider.initialState, { type: 'ProposeRiskCriteria', criteriaId: 'c1', actor: committee, at, definition: {
    likelihoodLevels: ['Rare', 'Possible', 'Likely'], impactLevels: ['Minor', 'Moderate', 'Severe'], riskLevels: ['LOW', 'MEDIUM', 'HIGH'],
    matrix: [['LOW', 'LOW', 'MEDIUM'], ['LOW', 'MEDIUM', 'HIGH'], ['MEDIUM', 'HIGH', 'HIGH']], acceptanceLevel: 'LOW', impactByAssetValue: [1, 2, 3],
    baselineGapThresholds: [0.25, 0.5], detailedLikelihoodThresholds: [3, 6], requiredMethods: [], reviewIntervalDays: [{ level: 'LOW', days: 365 }, { level: 'MEDIUM', days: 180 }, { level: 'HIGH', days: 90 }],
  } }, committee, at, head);
  at = clock.now();
  criteria = decide(criteriaDecider, 'risk-criteria', criteria, { type: 'ApproveRiskCriteria', criteriaId: 'c1', actor: ciso, at }, ciso, at, head);
  await flush(head);
  const inForce = criteria.versions[0] as CriteriaVersionState;

  // Each lane is a generator of single-command steps; the driver takes one step of every lane in turn.
  function* lane(k: number): Generator<(out: Pending[]) => void> {
    for (let i = k; i < shape.assets; i += lanes) {
      const assetId = `asset-${i}`;
      let asset: AssetState = assetDecider.initialState;
      const step = (f: (at: string, out: Pending[]) => void) => (out: Pending[]) => f(clock.now(), out);
      yield step((at, out) => (asset = decide(assetDecider, assetStreamId(assetId), asset, { type: 'RegisterAsset', assetId, name: `System ${i}`, description: '', category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 1 + (i % 3), integrity: 1, availability: 1, actor: manager, at }, manager, at, out)));
      if (shape.nameReservations) {
        // A new reservation stream each: decided on its initial state, appended as its first event.
        yield step((at, out) => void out.push({ streamId: assetNameStreamId('ops', `System ${i}`), expected: -1, events: recorded(assetNameDecider.decide({ type: 'ReserveAssetName', assetId, department: 'ops', name: `System ${i}`, at }, assetNameDecider.initialState), manager, at) }));
      }
      yield step((at, out) => (asset = decide(assetDecider, assetStreamId(assetId), asset, { type: 'IdentifyThreat', assetId, threatId: `t-${i}`, name: 'Theft', description: '', affects: ['CONFIDENTIALITY'], actor: manager, at }, manager, at, out)));
      yield step((at, out) => (asset = decide(assetDecider, assetStreamId(assetId), asset, { type: 'IdentifyVulnerability', assetId, threatId: `t-${i}`, vulnerabilityId: `v-${i}`, name: 'Weak keys', description: '', actor: manager, at }, manager, at, out)));
      const riskId = `risk-${i}`;
      let risk: RiskState = riskDecider.initialState;
      yield step((at, out) => (risk = decide(riskDecider, riskStreamId(riskId), risk, { type: 'IdentifyRisk', riskId, title: `Risk ${i}`, description: '', assetIds: [assetId], threatId: `t-${i}`, vulnerabilityId: `v-${i}`, ownerId: 'owner', assets: [asset], actor: owner, at }, owner, at, out)));
      for (let a = 0; a < shape.analysesPerRisk; a++) {
        yield step((at, out) => (risk = decide(riskDecider, riskStreamId(riskId), risk, { type: 'AnalyseRisk', riskId, analysisId: `a-${i}-${a}`, method: 'INFORMAL', informal: { likelihood: 1 + (a % 3), impact: 1 + ((a + i) % 3), expert: 'bench', rationale: 'synthetic' }, criteria: inForce, assets: [asset], actor: owner, at }, owner, at, out)));
      }
    }
  }

  const running = Array.from({ length: lanes }, (_, k) => lane(k));
  const pending: Pending[] = [];
  while (running.length) {
    for (let k = 0; k < running.length; ) {
      const next = running[k]!.next();
      if (next.done) running.splice(k, 1);
      else {
        next.value(pending);
        k++;
      }
    }
    if (pending.length >= 1000) await flush(pending);
  }
  await flush(pending);
  return written;
}
