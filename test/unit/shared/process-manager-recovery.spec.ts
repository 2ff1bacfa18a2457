/**
 * A process manager without a checkpoint finds in the log where it stopped: its last command names
 * as causation the event it reacted to, and it resumes just before that event. One pass over the
 * log finds it when the trigger is among the last events read (the window); a trigger further back
 * is found by a second pass (two passes took 28 s at 350,000 events: probe p12).
 */
import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion, type NewEvent, type RecordedEvent } from '../../../src/event-store/event-store.port.js';
import { ProcessManager } from '../../../src/shared/application/process-manager.js';
import { SoleInstance } from '../../../src/shared/application/reactions-coordination.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';

const OWN = 'system:test-reactions';
const event = (actorId: string, causationId: string = randomUUID()): NewEvent => ({
  eventId: randomUUID(),
  type: 'Happened',
  schemaVersion: 1,
  data: {},
  metadata: { actor: { id: actorId, name: actorId, roles: ['ADMIN'] }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: randomUUID(), causationId },
});

async function resumedAt(fillerAfterTrigger: number, window: number): Promise<{ first: RecordedEvent | undefined; trigger: RecordedEvent }> {
  const store = new InMemoryEventStore();
  await store.init();
  const put = async (e: NewEvent) => (await store.append(`s-${randomUUID()}`, [e], { expectedVersion: ExpectedVersion.noStream })).events[0]!;
  for (let i = 0; i < 5; i++) await put(event('alice'));
  const trigger = await put(event('alice'));
  for (let i = 0; i < fillerAfterTrigger; i++) await put(event('bob'));
  await put(event(OWN, trigger.eventId)); // the manager's last reaction, to `trigger`
  for (let i = 0; i < 3; i++) await put(event('carol'));
  const seen: RecordedEvent[] = [];
  let reactedOnce!: () => void;
  const reacted = new Promise<void>((resolve) => (reactedOnce = resolve));
  const manager = new ProcessManager('test', store, new SoleInstance(new Database(':memory:')), async (e) => {
    seen.push(e);
    reactedOnce();
  }, (e) => e, new JsonLogger('test', 'error'), OWN, window);
  await manager.start();
  await reacted;
  await manager.stop();
  await store.close();
  return { first: seen[0], trigger };
}

describe('ProcessManager without a checkpoint', () => {
  it('resumes at the event its last reaction answered, found in one pass when it is recent', async () => {
    const { first, trigger } = await resumedAt(20, 1_000);
    expect(first?.eventId).toBe(trigger.eventId);
  });

  it('and found by a second pass when the trigger lies further back than the window', async () => {
    const { first, trigger } = await resumedAt(50, 10);
    expect(first?.eventId).toBe(trigger.eventId);
  });
});
