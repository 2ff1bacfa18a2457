import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '../../../src/event-store/event-store.port.js';
import { keyMisuse } from '../../../src/shared/application/retried-key.js';

const PLAN = 'plan-01a2438f-bb20-7000-b9b2-6e36c6544931';
const ASSET_X = 'asset-01a2438f-bb20-7000-b9b2-6e36c6544932';
const ASSET_Y = 'asset-01a2438f-bb20-7000-b9b2-6e36c6544933';
const event = (type: string, data: Record<string, unknown>, commandType: string) => ({ type, data, metadata: { commandType } }) as unknown as RecordedEvent;
const exists = async () => true;
const isNew = async () => false;

describe('a commandId already recorded (retried-key.ts)', () => {
  it('is a retry of the same command on the same entity, or of one that makes a new entity', async () => {
    const first = { streamId: PLAN, events: [event('PlanRiskRemoved', { riskId: 'r1' }, 'RemoveRiskFromPlan')] };
    expect(await keyMisuse(first, { streamId: PLAN, command: { riskId: 'r1' } }, 'RemoveRiskFromPlan', exists)).toBeNull();
    const registered = { streamId: ASSET_X, events: [event('AssetRegistered', {}, 'RegisterAsset')] };
    expect(await keyMisuse(registered, { streamId: ASSET_Y }, 'RegisterAsset', isNew)).toBeNull();
  });

  it('is refused for another command, another kind of entity, another existing entity, or another risk of the same plan', async () => {
    const removed = { streamId: PLAN, events: [event('PlanRiskRemoved', { riskId: 'r1' }, 'RemoveRiskFromPlan')] };
    expect(await keyMisuse(removed, { streamId: PLAN, command: { riskId: 'r1' } }, 'ClosePlan', exists)).toMatch(/different kind of command/);
    expect(await keyMisuse(removed, { streamId: ASSET_X }, 'RemoveRiskFromPlan', exists)).toMatch(/different kind of command/);
    expect(await keyMisuse(removed, { streamId: PLAN, command: { riskId: 'r2' } }, 'RemoveRiskFromPlan', exists)).toMatch(/same command on another entity/);
    const added = { streamId: PLAN, events: [event('PlanRiskAdded', { riskId: 'r1' }, 'AddRiskToPlan')] };
    expect(await keyMisuse(added, { streamId: PLAN, command: { risk: { id: 'r2' } } }, 'AddRiskToPlan', exists)).toMatch(/same command on another entity/);
    const threat = { streamId: ASSET_X, events: [event('ThreatIdentified', {}, 'IdentifyThreat')] };
    expect(await keyMisuse(threat, { streamId: ASSET_Y }, 'IdentifyThreat', exists)).toMatch(/same command on another entity/);
  });
});
