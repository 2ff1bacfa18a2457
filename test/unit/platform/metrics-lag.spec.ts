/**
 * The lag gauges of a follower one instance runs for all (the reactions, the webhooks on
 * PostgreSQL) are reported by that instance only: another's checkpoint of it is stale, and a
 * former leader's last value was kept forever (probe p10: 32,240 events "behind" on every other
 * instance; 1,717 events frozen on the one that lost the webhooks).
 */
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ExpectedVersion } from '../../../src/event-store/event-store.port.js';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { Metrics } from '../../../src/platform/observability/metrics.js';

const lagOf = (text: string, follower: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`risk_ledger_follower_lag_events{follower="${follower}"}`));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('follower lag gauges', () => {
  it("measure the projections always, and the reactions and webhooks only while this instance runs them", async () => {
    const store = new InMemoryEventStore();
    await store.init?.();
    for (let i = 0; i < 5; i++) {
      await store.append(`s-${i}`, [{ eventId: randomUUID(), type: 'Tested', schemaVersion: 1, data: {}, metadata: { actor: { id: 'u', name: 'U', roles: [] }, occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: randomUUID() } }], { expectedVersion: ExpectedVersion.noStream });
    }
    const head = (await store.headPosition())!;
    const reactions = { checkpoint: null as string | null, isLeading: true };
    const webhooks = { leading: true, handled: null as string | null };
    const metrics = new Metrics();
    metrics.followLag(store, { projections: { checkpoint: head }, reactions });
    metrics.followWebhooks(() => webhooks);

    let text = await metrics.render();
    expect([lagOf(text, 'projections'), lagOf(text, 'reactions'), lagOf(text, 'webhooks')]).toEqual([0, 5, 5]);

    // The lead moves to another instance: this one's stale checkpoints are no longer reported.
    reactions.isLeading = false;
    webhooks.leading = false;
    text = await metrics.render();
    expect([lagOf(text, 'projections'), lagOf(text, 'reactions'), lagOf(text, 'webhooks')]).toEqual([0, undefined, undefined]);

    // It leads again, caught up.
    reactions.isLeading = true;
    reactions.checkpoint = head;
    webhooks.leading = true;
    webhooks.handled = head;
    text = await metrics.render();
    expect([lagOf(text, 'projections'), lagOf(text, 'reactions'), lagOf(text, 'webhooks')]).toEqual([0, 0, 0]);
  });
});
