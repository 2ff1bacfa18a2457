import { describe, expect, it } from '@jest/globals';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { CommandExecutor } from '../../../src/shared/application/command-executor.js';
import { systemClock } from '../../../src/shared/application/clock.js';
import { reactionContext } from '../../../src/shared/application/reactions.js';
import { commandContext, type RequestMeta } from '../../../src/shared/application/request-meta.js';
import { newAnswerId, takeUnconfirmed } from '../../../src/shared/application/unconfirmed-writes.js';
import { FEATURES } from '../../../src/features.js';
import { upcastersOf } from '../../../src/platform/feature-contribution.js';
import { criteriaDecider, criteriaStreamId, type CriteriaCommand } from '../../../src/risk-criteria/domain/criteria.decider.js';
import { criteria3x3 } from '../../support/criteria-definitions.js';

const member = { id: 'u-com', name: 'Committee', roles: ['COMMITTEE_MEMBER' as const] };

/**
 * A write the read models did not confirm is told to the answer of the request that made it, and
 * to no other: notes are kept under the id the server gives each answer, not under the
 * correlationId, which is the client's x-request-id over HTTP (shared by any number of requests)
 * and which reactions carry from their cause (probe F5).
 */
describe('unconfirmed writes are noted for their own answer only', () => {
  async function executorWhoseReadModelsFail() {
    const store = new InMemoryEventStore();
    await store.init();
    const executor = new CommandExecutor(store, { waitFor: async () => Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })) }, upcastersOf(FEATURES));
    const propose = (id: string, ctx: ReturnType<typeof commandContext>) => {
      const command: CriteriaCommand = { type: 'ProposeRiskCriteria', criteriaId: id, definition: criteria3x3(), actor: member, at: ctx.at };
      return executor.execute({ streamId: criteriaStreamId(id), decider: criteriaDecider }, command, ctx);
    };
    return propose;
  }

  it('two requests sharing one correlationId: each answer gets its own write, nothing is left under the shared id', async () => {
    const propose = await executorWhoseReadModelsFail();
    const [a, b] = [newAnswerId(), newAnswerId()];
    expect(a).not.toBe(b);
    const meta = (answerId: string): RequestMeta => ({ actor: member, correlationId: 'shared-request-id', answerId });
    const [first, second] = await Promise.all([propose('a', commandContext(meta(a), systemClock)), propose('b', commandContext(meta(b), systemClock))]);
    expect(first.events[0]!.metadata.correlationId).toBe('shared-request-id');
    expect(takeUnconfirmed(a)).toEqual({ position: first.position, reason: expect.stringContaining('database or disk is full') });
    expect(takeUnconfirmed(b)).toEqual({ position: second.position, reason: expect.stringContaining('database or disk is full') });
    expect(takeUnconfirmed(a)).toBeUndefined();
    expect(takeUnconfirmed('shared-request-id')).toBeUndefined();
  });

  it('a command with no answer to tell (a REST upload) notes nothing', async () => {
    const propose = await executorWhoseReadModelsFail();
    const upload = await propose('c', commandContext({ actor: member, correlationId: 'reused-id' }, systemClock));
    expect(upload.position).not.toBeNull();
    expect(takeUnconfirmed('reused-id')).toBeUndefined();
  });

  it('a reaction (its cause’s correlationId) notes nothing', async () => {
    const propose = await executorWhoseReadModelsFail();
    const cause = await propose('e', commandContext({ actor: member, correlationId: 'cause-id', answerId: newAnswerId() }, systemClock));
    takeUnconfirmed('cause-id');
    // Its wait fails too, and no answer sent with the cause's id may hear of it.
    await propose('f', reactionContext(cause.events[0]!, systemClock));
    expect(takeUnconfirmed('cause-id')).toBeUndefined();
  });
});
