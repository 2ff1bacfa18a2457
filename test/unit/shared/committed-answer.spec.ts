import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { CommandExecutor, type CommandContext } from '../../../src/shared/application/command-executor.js';
import { FEATURES } from '../../../src/features.js';
import { upcastersOf } from '../../../src/platform/feature-contribution.js';
import { criteriaById, criteriaDecider, criteriaStreamId, type CriteriaCommand } from '../../../src/risk-criteria/domain/criteria.decider.js';
import { criteria3x3 } from '../../support/criteria-definitions.js';

const member = { id: 'u-com', name: 'Committee', roles: ['COMMITTEE_MEMBER' as const] };

/**
 * Issue 11: once the append has committed, a failure while waiting for the projections or the
 * reactions (a full read-model disk, a stopped follower, a timeout) must not answer the client
 * as failed; a retry with the same commandId gets the first result, still without an error.
 */
describe('a committed command is never answered as failed', () => {
  it('answers with the committed result when the wait for the read models fails, and a retry returns the first result', async () => {
    const store = new InMemoryEventStore();
    await store.init();
    const executor = new CommandExecutor(store, { waitFor: async () => Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })) }, upcastersOf(FEATURES));
    const target = { streamId: criteriaStreamId('a'), decider: criteriaDecider };
    const command: CriteriaCommand = { type: 'ProposeRiskCriteria', criteriaId: 'a', definition: criteria3x3(), actor: member, at: new Date().toISOString() };
    const ctx: CommandContext = { actor: member, at: command.at, correlationId: randomUUID(), causationId: randomUUID(), commandId: 'cmd-1' };
    const first = await executor.execute(target, command, ctx);
    expect(first.duplicate).toBe(false);
    expect(first.events).toHaveLength(1);
    expect(criteriaById(first.state, 'a')).toBeDefined();
    expect(await store.headPosition()).toBe(first.position);

    const retry = await executor.execute(target, command, { ...ctx, correlationId: randomUUID() });
    expect(retry.duplicate).toBe(true);
    expect(retry.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
    expect(retry.state).toEqual(first.state);
    expect(await store.headPosition()).toBe(first.position); // nothing appended twice
  });
});
