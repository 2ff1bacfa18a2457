import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '../../../src/event-store/event-store.port.js';
import { keyMisuse } from '../../../src/shared/application/retried-key.js';
import { inputDigest } from '../../../src/shared/application/request-meta.js';
import { idempotencyKeyOf } from '../../../src/shared/application/command-key.js';

const PLAN = 'plan-01a2438f-bb20-7000-b9b2-6e36c6544931';
const ASSET_X = 'asset-01a2438f-bb20-7000-b9b2-6e36c6544932';
const ASSET_Y = 'asset-01a2438f-bb20-7000-b9b2-6e36c6544933';
const RISK = 'risk-01a2438f-bb20-7000-b9b2-6e36c6544934';
const event = (type: string, data: Record<string, unknown>, commandType?: string, commandSubject?: string, commandInput?: string) =>
  ({ type, data, metadata: { ...(commandType === undefined ? {} : { commandType }), ...(commandSubject === undefined ? {} : { commandSubject }), ...(commandInput === undefined ? {} : { commandInput }) } }) as unknown as RecordedEvent;
const exists = async () => true;
const isNew = async () => false;

describe('a commandId already recorded (retried-key.ts)', () => {
  it("is its user's alone: the key escapes the actor's id, so no two users' keys meet; an id without ':' or '%' keys as before (review M1)", async () => {
    expect(idempotencyKeyOf('committee-1', 'x:k')).not.toBe(idempotencyKeyOf('committee-1:x', 'k'));
    expect(idempotencyKeyOf('a%3Ab', 'k')).not.toBe(idempotencyKeyOf('a:b', 'k'));
    expect(idempotencyKeyOf('owner-1', 'cmd:1')).toBe('owner-1:cmd:1');
    // A key recorded before (a colliding one of another user) is refused, not answered.
    const theirs = { streamId: ASSET_X, events: [{ ...event('AssetRegistered', {}, 'RegisterAsset'), metadata: { commandType: 'RegisterAsset', actor: { id: 'committee-1:x' } } } as unknown as RecordedEvent] };
    expect(await keyMisuse(theirs, { streamId: ASSET_X, actorId: 'committee-1' }, 'RegisterAsset', exists)).toMatch(/another user/);
    expect(await keyMisuse(theirs, { streamId: ASSET_X, actorId: 'committee-1:x' }, 'RegisterAsset', exists)).toBeNull();
  });

  it('is refused for the same command with another input (metadata.commandInput), and compared as before when recorded without one', async () => {
    const registered = { streamId: ASSET_X, events: [event('AssetRegistered', {}, 'RegisterAsset', undefined, 'digest-a')] };
    expect(await keyMisuse(registered, { streamId: ASSET_Y, input: 'digest-a' }, 'RegisterAsset', isNew)).toBeNull();
    expect(await keyMisuse(registered, { streamId: ASSET_Y, input: 'digest-b' }, 'RegisterAsset', isNew)).toMatch(/already used for this command with another input/);
    // No digest on either side: a key recorded before inputs were, or a command without a client input.
    const older = { streamId: ASSET_X, events: [event('AssetRegistered', {}, 'RegisterAsset')] };
    expect(await keyMisuse(older, { streamId: ASSET_Y, input: 'digest-b' }, 'RegisterAsset', isNew)).toBeNull();
    expect(await keyMisuse(registered, { streamId: ASSET_Y }, 'RegisterAsset', isNew)).toBeNull();
  });

  it('digests the input without its commandId, whatever the order of its members (inputDigest)', () => {
    const a = inputDigest({ commandId: 'k1', name: 'X1', ratings: { c: 1, i: 2 } } as never);
    expect(inputDigest({ ratings: { i: 2, c: 1 }, name: 'X1', commandId: 'k2' } as never)).toBe(a);
    expect(inputDigest({ commandId: 'k1', name: 'X2', ratings: { c: 1, i: 2 } } as never)).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    // A DateTime argument (a Date) counts by its instant.
    const at = (iso: string) => inputDigest({ commandId: 'k', occurredAt: new Date(iso) } as never);
    expect(at('2026-12-01T00:00:00Z')).not.toBe(at('2026-12-02T00:00:00Z'));
    expect(at('2026-12-01T00:00:00Z')).toBe(at('2026-12-01T00:00:00.000Z'));
  });

  it('is a retry of the same command on the same entity and part, or of one that makes a new entity', async () => {
    const first = { streamId: PLAN, events: [event('PlanRiskRemoved', { riskId: 'r1' }, 'RemoveRiskFromPlan', 'r1')] };
    expect(await keyMisuse(first, { streamId: PLAN, subject: 'r1' }, 'RemoveRiskFromPlan', exists)).toBeNull();
    const registered = { streamId: ASSET_X, events: [event('AssetRegistered', {}, 'RegisterAsset')] };
    expect(await keyMisuse(registered, { streamId: ASSET_Y }, 'RegisterAsset', isNew)).toBeNull();
  });

  it('is refused for the same command on another subject of one stream, as the command names it (Decider.subjectOf, metadata.commandSubject)', async () => {
    const progress = { streamId: RISK, events: [event('ControlProgressRecorded', { controlId: 'c1' }, 'RecordControlProgress', 'c1')] };
    expect(await keyMisuse(progress, { streamId: RISK, subject: 'c1' }, 'RecordControlProgress', exists)).toBeNull();
    expect(await keyMisuse(progress, { streamId: RISK, subject: 'c2' }, 'RecordControlProgress', exists)).toMatch(/same command on another entity/);
    // The recorded subject decides, not what the event's data happens to hold.
    const removed = { streamId: PLAN, events: [event('PlanRiskRemoved', { riskId: 'r1', note: 'r2' }, 'RemoveRiskFromPlan', 'r1')] };
    expect(await keyMisuse(removed, { streamId: PLAN, subject: 'r2' }, 'RemoveRiskFromPlan', exists)).toMatch(/same command on another entity/);
  });

  it('recorded before subjects were (no commandSubject, or no commandType either): the first append names its part in its data (upgrade probe F3)', async () => {
    const approvedV1 = { streamId: 'risk-criteria', events: [event('RiskCriteriaSuperseded', { criteriaId: 'v0' }, 'ApproveRiskCriteria'), event('RiskCriteriaApproved', { criteriaId: 'v1', number: 2 }, 'ApproveRiskCriteria')] };
    expect(await keyMisuse(approvedV1, { streamId: 'risk-criteria', subject: 'v1' }, 'ApproveRiskCriteria', exists)).toBeNull();
    expect(await keyMisuse(approvedV1, { streamId: 'risk-criteria', subject: 'v2' }, 'ApproveRiskCriteria', exists)).toMatch(/same command on another entity/);
    const vulnerability = { streamId: ASSET_X, events: [event('VulnerabilityIdentified', { assetId: ASSET_X, threatId: 't1', vulnerabilityId: 'v' })] };
    expect(await keyMisuse(vulnerability, { streamId: ASSET_X, subject: 't1' }, 'IdentifyVulnerability', exists)).toBeNull();
    expect(await keyMisuse(vulnerability, { streamId: ASSET_X, subject: 't2' }, 'IdentifyVulnerability', exists)).toMatch(/same command on another entity/);
    const added = { streamId: PLAN, events: [event('PlanRiskAdded', { riskId: 'r1' }, 'AddRiskToPlan')] };
    expect(await keyMisuse(added, { streamId: PLAN, subject: 'r2' }, 'AddRiskToPlan', exists)).toMatch(/same command on another entity/);
  });

  it("is refused for the other kind of answer of one command type (Decider.kindOf), and taken as this one's when recorded before kinds were (race probe 10-a F1)", async () => {
    const declined = { streamId: RISK, events: [event('ResidualRiskDeclinedByOwner', { riskId: 'r' }, 'RecordResidualConsent/declined')] };
    expect(await keyMisuse(declined, { streamId: RISK }, 'RecordResidualConsent/declined', exists)).toBeNull();
    expect(await keyMisuse(declined, { streamId: RISK }, 'RecordResidualConsent/accepted', exists)).toMatch(/different kind of command/);
    const legacy = { streamId: RISK, events: [event('ResidualRiskDeclinedByOwner', { riskId: 'r' }, 'RecordResidualConsent')] };
    expect(await keyMisuse(legacy, { streamId: RISK }, 'RecordResidualConsent/declined', exists)).toBeNull();
    expect(await keyMisuse({ streamId: RISK, events: [event('X', {}, 'RecordResidualConsent/declined')] }, { streamId: RISK }, 'RecordResidualConsent', exists)).toMatch(/different kind of command/);
  });

  it('is refused for another command, another kind of entity, or another existing entity', async () => {
    const removed = { streamId: PLAN, events: [event('PlanRiskRemoved', { riskId: 'r1' }, 'RemoveRiskFromPlan', 'r1')] };
    expect(await keyMisuse(removed, { streamId: PLAN }, 'ClosePlan', exists)).toMatch(/different kind of command/);
    expect(await keyMisuse(removed, { streamId: ASSET_X }, 'RemoveRiskFromPlan', exists)).toMatch(/different kind of command/);
    const threat = { streamId: ASSET_X, events: [event('ThreatIdentified', {}, 'IdentifyThreat')] };
    expect(await keyMisuse(threat, { streamId: ASSET_Y }, 'IdentifyThreat', exists)).toMatch(/same command on another entity/);
  });
});
