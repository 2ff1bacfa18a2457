/**
 * Avoiding a risk retires its assets in the same atomic append as `RiskClosed` (Art.17(2),
 * 14(2)): the risk pipeline's joint decision (retirementsOnAvoidance) run by the real executor
 * over an in-memory store, with writes racing it between its read and its append.
 */
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { withNameReservation } from '../../../src/asset-inventory/application/asset-name-reservation.js';
import { assetNameStreamId } from '../../../src/asset-inventory/domain/asset-name.decider.js';
import { assetDecider, assetStreamId, type AssetCommand } from '../../../src/asset-inventory/domain/asset.decider.js';
import { ExpectedVersion, type NewEvent } from '../../../src/event-store/event-store.port.js';
import { RacingStore } from '../../support/racing-store.js';
import { upcastersOf } from '../../../src/platform/feature-contribution.js';
import { FEATURES } from '../../../src/features.js';
import { avoidanceReactions, retirementsOnAvoidance } from '../../../src/risk-register/application/avoidance-reactions.js';
import type { RiskCommand } from '../../../src/risk-register/domain/risk.commands.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import { riskStreamId } from '../../../src/risk-register/domain/risk.events.js';
import { CommandExecutor, type CommandContext } from '../../../src/shared/application/command-executor.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';
import { RISK, decideTreatment, identify, toTreatEvents } from './builders.js';
import { committee, custodyManager, hotWallet } from './fixtures.js';

const upcasters = upcastersOf(FEATURES);
const now = () => new Date().toISOString();
const ctx = (actor: DomainActor, commandId?: string): CommandContext => ({ actor, at: now(), correlationId: randomUUID(), causationId: randomUUID(), ...(commandId ? { commandId } : {}) });


/** The asset (registered, its name reserved, with the threat and vulnerability of RISK) and RISK, TO_TREAT. */
async function setup() {
  const store = new RacingStore();
  await store.init();
  const executor = new CommandExecutor(store, { waitFor: async () => undefined }, upcasters);
  const asAsset = (command: AssetCommand, actor = custodyManager) => executor.executeJoint(withNameReservation(command), ctx(actor));
  const base = { actor: custodyManager, assetId: hotWallet.id };
  await asAsset({ type: 'RegisterAsset', ...base, at: now(), name: hotWallet.name, description: '', category: 'SYSTEM', department: 'Custody', managerId: custodyManager.id, confidentiality: 3, integrity: 3, availability: 2 });
  await asAsset({ type: 'IdentifyThreat', ...base, at: now(), threatId: 'thr-key-theft', name: 'Theft of the signing key', description: '', affects: ['CONFIDENTIALITY'] });
  await asAsset({ type: 'IdentifyVulnerability', ...base, at: now(), threatId: 'thr-key-theft', vulnerabilityId: 'vul-shared-key', name: 'One shared key', description: '' });
  const seeded = toTreatEvents().map((e): NewEvent => ({
    eventId: randomUUID(), type: e.type, schemaVersion: upcasters.schemaVersionOf(e.type), data: e.data as unknown as Record<string, unknown>,
    metadata: { actor: committee, occurredAt: '2025-04-03T09:00:00.000Z', correlationId: 'seed', causationId: 'seed' },
  }));
  await store.append(riskStreamId(RISK), seeded, { expectedVersion: ExpectedVersion.exact(-1) });

  /** A risk command as RiskCommandPipeline.run builds it: the risk's decision and what avoiding it retires. */
  const onRisk = (command: (at: string) => RiskCommand, context = ctx(command(now()).actor)) =>
    executor.executeJoint(async () => {
      const c = command(context.at);
      return { primary: { streamId: riskStreamId(c.riskId), decider: riskDecider, command: c }, followUp: retirementsOnAvoidance(c) };
    }, context);
  const avoid = (context?: CommandContext) => onRisk((at) => decideTreatment({ options: ['AVOID'], rationale: 'Stop hot-wallet withdrawals', targetLikelihood: 1, targetImpact: 1, at }), context);
  /** identifyRisk as its handler builds it: the assets read through the attempt's reader. */
  const identifyOn = (riskId: string) =>
    executor.executeJoint(async (reader) => {
      const asset = await reader.state(assetStreamId(hotWallet.id), assetDecider);
      return { primary: { streamId: riskStreamId(riskId), decider: riskDecider, command: identify({ riskId, assets: [asset], at: now() }) } };
    }, ctx(committee));
  const log = async () => (await store.readAll({ after: null, maxCount: 10_000 })).map((e) => ({ type: e.type, streamId: e.streamId, position: e.position, commandId: e.metadata.commandId }));
  const asset = async () => (await store.readStream(assetStreamId(hotWallet.id))).map((e) => e.type);
  return { store, executor, avoid, onRisk, identifyOn, log, asset };
}

describe('avoiding a risk retires its assets in the same append (Art.17(2))', () => {
  it('appends RiskClosed, AssetRetired and the name release together; the reaction then appends nothing', async () => {
    const { store, executor, avoid, log, asset } = await setup();
    const before = (await log()).length;
    const result = await avoid();
    expect(result.state).toMatchObject({ id: RISK, status: 'CLOSED', closedReason: 'AVOIDED' });
    const appended = (await log()).slice(before);
    expect(appended.map((e) => `${e.type}@${e.streamId}`)).toEqual([
      `RiskTreatmentDecided@${riskStreamId(RISK)}`,
      `RiskClosed@${riskStreamId(RISK)}`,
      `AssetRetired@${assetStreamId(hotWallet.id)}`,
      `AssetNameReleased@${assetNameStreamId('Custody', hotWallet.name)}`,
    ]);
    const retired = (await store.readStream(assetStreamId(hotWallet.id))).at(-1)!;
    expect(retired.data).toMatchObject({ avoidedRiskId: RISK, retiredBy: committee.id });

    // The reaction, for logs written before: the asset is retired, so it appends nothing.
    const closed = (await store.readStream(riskStreamId(RISK))).find((e) => e.type === 'RiskClosed')!;
    const [reaction] = avoidanceReactions({ executor, clock: { now: () => new Date() } } as never);
    await reaction!.react(closed);
    expect((await log()).length).toBe(before + 4);
    expect(await asset()).toEqual(['AssetRegistered', 'ThreatIdentified', 'VulnerabilityIdentified', 'AssetRetired']);
  });

  it('an identifyRisk that read the asset before the avoidance conflicts, is decided again and refused ASSET_RETIRED', async () => {
    const { store, avoid, identifyOn, log } = await setup();
    store.raceOnce(async () => {
      await avoid();
    });
    await expect(identifyOn('risk-racing')).rejects.toMatchObject({ rule: 'ASSET_RETIRED' });
    expect((await log()).filter((e) => e.streamId === riskStreamId('risk-racing'))).toEqual([]);
  });

  it('an asset changed between its read and the append makes the whole avoidance conflict; the retry decides on the new asset', async () => {
    const { store, executor, avoid, log, asset } = await setup();
    store.raceOnce(async () => {
      await executor.executeJoint(withNameReservation({ type: 'IdentifyThreat', actor: custodyManager, assetId: hotWallet.id, at: now(), threatId: 'thr-late', name: 'Late threat', description: '', affects: ['INTEGRITY'] }), ctx(custodyManager));
    });
    await avoid();
    expect(await asset()).toEqual(['AssetRegistered', 'ThreatIdentified', 'VulnerabilityIdentified', 'ThreatIdentified', 'AssetRetired']);
    expect((await log()).filter((e) => e.type === 'RiskClosed')).toHaveLength(1);
  });

  it('an asset retired by its manager meanwhile is left as it is: the retry closes the risk and retires nothing more', async () => {
    const { store, executor, avoid, asset, log } = await setup();
    store.raceOnce(async () => {
      await executor.executeJoint(withNameReservation({ type: 'RetireAsset', actor: custodyManager, assetId: hotWallet.id, at: now(), reason: 'Decommissioned' }), ctx(custodyManager));
    });
    const result = await avoid();
    expect(result.state.status).toBe('CLOSED');
    expect(await asset()).toEqual(['AssetRegistered', 'ThreatIdentified', 'VulnerabilityIdentified', 'AssetRetired']);
    expect((await log()).filter((e) => e.type === 'AssetNameReleased')).toHaveLength(1);
  });

  it('a treatment that does not avoid, or a refused avoidance, touches no asset', async () => {
    const { onRisk, avoid, asset } = await setup();
    await expect(onRisk((at) => decideTreatment({ options: ['AVOID'], targetLikelihood: 3, targetImpact: 3, at }))).rejects.toMatchObject({ rule: 'TARGET_ABOVE_ACCEPTANCE' });
    await onRisk((at) => decideTreatment({ at }));
    expect(await asset()).toEqual(['AssetRegistered', 'ThreatIdentified', 'VulnerabilityIdentified']);
    // A revision of the treatment to AVOID retires it.
    await avoid();
    expect((await asset()).at(-1)).toBe('AssetRetired');
  });

  it('a retried commandId answers its first result (the risk), not RISK_CLOSED', async () => {
    const { avoid, log } = await setup();
    const context = ctx(committee, `cmd-${randomUUID()}`);
    const first = await avoid(context);
    const length = (await log()).length;
    const again = await avoid({ ...context, at: now() });
    expect(again).toMatchObject({ duplicate: true });
    expect(again.state).toMatchObject({ id: RISK, status: first.state.status });
    expect((await log()).length).toBe(length);
  });
});
