/**
 * Property (issue 17, write-side snapshots): snapshots are an optimisation only.
 *
 * fast-check generates random histories of several aggregates (assets and criteria versions:
 * two deciders, several streams) and runs them through the real CommandExecutor on an in-memory
 * store that snapshots every N events (N random, 1-5). Commands the domain refuses are skipped.
 * Then, for every stream and every revision:
 *   - AggregateReader.load (newest snapshot + tail) equals the full fold of the stream;
 *   - a snapshot of another state version is ignored;
 *   - with every snapshot deleted (a store that has none), every answer is the same;
 * and, for every cut of every stream, folding the tail onto a JSON round trip of the state at the
 * cut equals the full fold (states are plain JSON; event positions ride along).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { assetDecider, assetStreamId, type AssetCommand } from '../../src/asset-inventory/domain/asset.decider.js';
import { ASSET_CATEGORIES, SECURITY_PROPERTIES } from '../../src/asset-inventory/domain/asset.state.js';
import type { EventStore, RecordedEvent, StreamSnapshot } from '../../src/event-store/event-store.port.js';
import { InMemoryEventStore } from '../../src/event-store/memory/in-memory-event-store.js';
import { FEATURES } from '../../src/features.js';
import { upcastersOf } from '../../src/platform/feature-contribution.js';
import { criteriaDecider, criteriaStreamId, type CriteriaCommand } from '../../src/risk-criteria/domain/criteria.decider.js';
import { AggregateReader, type Evolver } from '../../src/shared/application/aggregate-reader.js';
import { CommandExecutor, type CommandContext } from '../../src/shared/application/command-executor.js';
import { fold, type DomainActor } from '../../src/shared/domain/decider.js';
import { DomainError } from '../../src/shared/domain/errors.js';
import { criteria3x3 } from '../support/criteria-definitions.js';

const cisos: DomainActor[] = [
  { id: 'u-ciso-1', name: 'Chika CISO', roles: ['CISO'] },
  { id: 'u-ciso-2', name: 'Daichi CISO', roles: ['CISO'] },
];
const member: DomainActor = { id: 'u-com', name: 'Kenji Committee', roles: ['COMMITTEE_MEMBER'] };
const ASSETS = ['a-1', 'a-2', 'a-3'];
const CRITERIA = ['c-1', 'c-2'];
const THREATS = ['t-1', 't-2', 't-3'];

type Op =
  | { kind: 'register'; asset: number; category: number; c: number; i: number; a: number }
  | { kind: 'threat'; asset: number; threat: number; affects: number }
  | { kind: 'vulnerability'; asset: number; threat: number; n: number }
  | { kind: 'reassign'; asset: number; manager: number }
  | { kind: 'retire'; asset: number }
  | { kind: 'propose'; criteria: number }
  | { kind: 'approve'; criteria: number; ciso: number };

const idx = (n: number) => fc.nat({ max: n - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('register' as const), asset: idx(ASSETS.length), category: idx(ASSET_CATEGORIES.length), c: fc.integer({ min: 1, max: 3 }), i: fc.integer({ min: 1, max: 3 }), a: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('threat' as const), asset: idx(ASSETS.length), threat: idx(THREATS.length), affects: fc.integer({ min: 1, max: 7 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('vulnerability' as const), asset: idx(ASSETS.length), threat: idx(THREATS.length), n: fc.nat({ max: 99 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('reassign' as const), asset: idx(ASSETS.length), manager: fc.nat({ max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retire' as const), asset: idx(ASSETS.length) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('propose' as const), criteria: idx(CRITERIA.length) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('approve' as const), criteria: idx(CRITERIA.length), ciso: idx(cisos.length) }) },
);

const T0 = Date.parse('2025-04-01T09:00:00.000Z');

/** Runs one op; a refusal by the domain appends nothing. */
async function perform(executor: CommandExecutor, op: Op, step: number): Promise<void> {
  const at = new Date(T0 + step * 60_000).toISOString();
  const actor = op.kind === 'propose' ? member : op.kind === 'approve' ? cisos[op.ciso]! : cisos[0]!;
  const ctx: CommandContext = { actor, at, correlationId: randomUUID(), causationId: randomUUID() };
  try {
    if (op.kind === 'propose' || op.kind === 'approve') {
      const criteriaId = CRITERIA[op.criteria]!;
      const command: CriteriaCommand =
        op.kind === 'propose'
          ? { type: 'ProposeRiskCriteria', criteriaId: `${criteriaId}-${step}`, definition: criteria3x3(), actor, at }
          : { type: 'ApproveRiskCriteria', criteriaId: `${criteriaId}-${step - 1}`, actor, at };
      await executor.execute({ streamId: criteriaStreamId(), decider: criteriaDecider }, command, ctx);
      return;
    }
    const assetId = ASSETS[op.asset]!;
    const base = { assetId, actor, at };
    let command: AssetCommand;
    switch (op.kind) {
      case 'register':
        command = { ...base, type: 'RegisterAsset', name: `Asset ${assetId}`, description: 'd', category: ASSET_CATEGORIES[op.category]!, department: 'Custody', managerId: 'u-mgr-0', confidentiality: op.c, integrity: op.i, availability: op.a };
        break;
      case 'threat':
        command = { ...base, type: 'IdentifyThreat', threatId: THREATS[op.threat]!, name: `Threat ${op.threat}`, description: '', affects: SECURITY_PROPERTIES.filter((_, k) => (op.affects >> k) & 1) };
        break;
      case 'vulnerability':
        command = { ...base, type: 'IdentifyVulnerability', threatId: THREATS[op.threat]!, vulnerabilityId: `v-${op.n}`, name: `Vulnerability ${op.n}`, description: '' };
        break;
      case 'reassign':
        command = { ...base, type: 'ReassignAssetManager', managerId: `u-mgr-${op.manager}` };
        break;
      case 'retire':
        command = { ...base, type: 'RetireAsset', reason: 'gone' };
        break;
    }
    await executor.execute({ streamId: assetStreamId(assetId), decider: assetDecider }, command, ctx);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
  }
}

/** The store's answers with every snapshot gone: snapshots are never needed for an answer. */
function withoutSnapshots(store: EventStore): EventStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'readSnapshot') return async () => null;
      if (prop === 'writeSnapshot') return async () => undefined;
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const upcasters = upcastersOf(FEATURES);
const STREAMS: { streamId: string; decider: Evolver<unknown> }[] = [
  ...ASSETS.map((a) => ({ streamId: assetStreamId(a), decider: assetDecider as Evolver<unknown> })),
  { streamId: criteriaStreamId(), decider: criteriaDecider as Evolver<unknown> },
];

describe('write-side snapshots', () => {
  it('snapshot + tail = full fold, at every revision; another state version and deleted snapshots change nothing', async () => {
    let snapshotsSeen = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 60 }), fc.integer({ min: 1, max: 5 }), async (ops, every) => {
        const store = new InMemoryEventStore();
        await store.init();
        try {
          const executor = new CommandExecutor(store, { waitFor: async () => undefined }, upcasters, undefined, { snapshotEvery: every });
          for (let step = 0; step < ops.length; step++) await perform(executor, ops[step]!, step);

          const reader = new AggregateReader(store, upcasters, { snapshotEvery: every });
          const plain = new AggregateReader(withoutSnapshots(store), upcasters, { snapshotEvery: every });
          const off = new AggregateReader(store, upcasters, { snapshotEvery: 0 });
          for (const { streamId, decider } of STREAMS) {
            const recorded = await store.readStream(streamId);
            const domain = recorded.map((r) => reader.toDomain(r));
            const version = recorded.length - 1;
            if (version >= 0 && (await store.readSnapshot(streamId, decider.stateVersion!))) snapshotsSeen++;

            // A JSON round trip of the state at any cut, plus the tail, is the full fold.
            const full = fold(decider, domain);
            for (let cut = 0; cut <= recorded.length; cut++) {
              const at = JSON.parse(JSON.stringify(fold(decider, domain.slice(0, cut)) ?? null)) as unknown;
              expect(fold(decider, domain.slice(cut), cut === 0 ? decider.initialState : at)).toEqual(full);
            }

            for (let revision = -1; revision <= version; revision++) {
              const expected = { state: fold(decider, domain.slice(0, revision + 1)), streamVersion: revision, ...(revision >= 0 ? { lastOccurredAt: recorded[revision]!.metadata.occurredAt } : {}) };
              const toRevision = revision === version ? undefined : revision;
              if (revision < 0 && toRevision !== undefined) continue; // toRevision must be >= 0
              expect(await reader.load(streamId, decider, toRevision)).toEqual(expected);
              expect(await plain.load(streamId, decider, toRevision)).toEqual(expected);
              expect(await off.load(streamId, decider, toRevision)).toEqual(expected);
            }

            // A snapshot of another state version (another shape) is ignored.
            if (version >= 0) {
              const last = recorded[version]!;
              const alien: StreamSnapshot = { streamId, revision: last.revision, position: last.position, recordedAt: last.recordedAt, stateVersion: `${decider.stateVersion!}-old`, state: { garbage: true } };
              await store.writeSnapshot(alien);
              expect((await reader.load(streamId, decider)).state).toEqual(full);
              // A snapshot of this version that does not match the log (wrong position) is ignored too.
              await store.writeSnapshot({ ...alien, stateVersion: decider.stateVersion!, position: `${last.position}x`, state: { garbage: true } });
              expect((await reader.load(streamId, decider)).state).toEqual(full);
            }
          }
        } finally {
          await store.close();
        }
      }),
      { numRuns: Number(process.env.SNAPSHOT_PROPERTY_RUNS ?? 30) },
    );
    // The histories did take snapshots (the property is not vacuous).
    expect(snapshotsSeen).toBeGreaterThan(0);
  }, 120_000);

  it('the executor snapshots when the stream crosses a multiple of N, and a load that folded more than N stores one', async () => {
    const store = new InMemoryEventStore();
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, upcasters, undefined, { snapshotEvery: 3 });
    const ctx = (): CommandContext => ({ actor: cisos[0]!, at: new Date(T0).toISOString(), correlationId: randomUUID(), causationId: randomUUID() });
    const target = { streamId: assetStreamId('a-9'), decider: assetDecider };
    const base = { assetId: 'a-9', actor: cisos[0]!, at: new Date(T0).toISOString() };
    await executor.execute(target, { ...base, type: 'RegisterAsset', name: 'n', description: '', category: 'SYSTEM', department: 'Custody', managerId: 'm-0', confidentiality: 1, integrity: 1, availability: 1 }, ctx());
    await executor.execute(target, { ...base, type: 'ReassignAssetManager', managerId: 'm-1' }, ctx());
    expect(await store.readSnapshot(target.streamId, 'asset/1')).toBeNull();
    await executor.execute(target, { ...base, type: 'ReassignAssetManager', managerId: 'm-2' }, ctx());
    const snapshot = await store.readSnapshot(target.streamId, 'asset/1');
    const recorded: RecordedEvent[] = await store.readStream(target.streamId);
    expect(snapshot).toMatchObject({ revision: 2, position: recorded[2]!.position, recordedAt: recorded[2]!.recordedAt });
    expect((snapshot!.state as { managerId: string }).managerId).toBe('m-2');

    // A stream written without snapshots: the first load folds it all and stores one.
    const quiet = new CommandExecutor(store, { waitFor: async () => undefined }, upcasters, undefined, { snapshotEvery: 0 });
    const other = { streamId: assetStreamId('a-8'), decider: assetDecider };
    await quiet.execute(other, { ...base, assetId: 'a-8', type: 'RegisterAsset', name: 'n', description: '', category: 'SYSTEM', department: 'Custody', managerId: 'm-0', confidentiality: 1, integrity: 1, availability: 1 }, ctx());
    for (let i = 1; i <= 4; i++) await quiet.execute(other, { ...base, assetId: 'a-8', type: 'ReassignAssetManager', managerId: `m-${i}` }, ctx());
    expect(await store.readSnapshot(other.streamId, 'asset/1')).toBeNull();
    const loaded = await new AggregateReader(store, upcasters, { snapshotEvery: 3 }).load(other.streamId, assetDecider);
    expect(loaded.streamVersion).toBe(4);
    expect(await store.readSnapshot(other.streamId, 'asset/1')).toMatchObject({ revision: 4, state: loaded.state });
  });

  it('a failing snapshot store never fails a command', async () => {
    const store = new InMemoryEventStore();
    store.writeSnapshot = async () => {
      throw new Error('disk full');
    };
    store.readSnapshot = async () => {
      throw new Error('disk full');
    };
    const executor = new CommandExecutor(store, { waitFor: async () => undefined }, upcasters, undefined, { snapshotEvery: 1 });
    const base = { assetId: 'a-7', actor: cisos[0]!, at: new Date(T0).toISOString() };
    const ctx: CommandContext = { actor: cisos[0]!, at: base.at, correlationId: 'c', causationId: 'c' };
    const target = { streamId: assetStreamId('a-7'), decider: assetDecider };
    await executor.execute(target, { ...base, type: 'RegisterAsset', name: 'n', description: '', category: 'SYSTEM', department: 'Custody', managerId: 'm-0', confidentiality: 1, integrity: 1, availability: 1 }, ctx);
    const r = await executor.execute(target, { ...base, type: 'ReassignAssetManager', managerId: 'm-1' }, ctx);
    expect(r.state.managerId).toBe('m-1');
    expect(r.state.version).toBe(1);
  });
});
