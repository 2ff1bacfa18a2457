/**
 * What a command waits for after its append is COMMITTED (command-executor.ts): the read models
 * reaching its position, and the reactions it set off (its cascade). Never an error answer: the
 * events are in the log whatever happens here.
 */
import type { EventStore, RecordedEvent } from '../../event-store/event-store.port.js';
import { rootLogger } from '../logging/json-logger.js';
import { ThrottledWarning } from '../logging/throttled-warning.js';
import type { PositionWaiter } from './command-types.js';
import { describeError } from './transient-errors.js';
import { noteUnconfirmed } from './unconfirmed-writes.js';

// The executor's component: its log lines read as before.
const log = rootLogger.child('command-executor');
const unconfirmed = new ThrottledWarning(log, 'command committed, but the read models did not confirm it: answering with the committed result');

/** Rounds of a reaction cascade a command waits for (each round: the reactions to the previous one). */
const MAX_CASCADE_ROUNDS = 8;

/**
 * Waits for the read models (and reactions) after a COMMITTED append. The events are in the log
 * whatever happens here, so a failure (projections retrying a full disk, a timeout, a stopped
 * follower) must not answer the client as failed: it is logged, and the committed result is
 * returned (its read-your-writes guarantee is then lost, which /health reports).
 */
export async function awaitFollowers(projections: PositionWaiter, position: string, streamId: string, answerId?: string): Promise<void> {
  try {
    await projections.waitFor(position);
  } catch (error) {
    unconfirmed.warn({ streamId, position, error: describeError(error) });
    // The answer says so (extensions.readModels): it is read from read models that may lack it.
    if (answerId) noteUnconfirmed(answerId, { position, reason: describeError(error) });
  }
}

/**
 * Reactions carry the correlationId of what caused them, so a command's cascade (a change makes
 * a consent stale on the plan, which asks the owner again…) is the events after it with its
 * correlationId. Each round waits for the followers to reach the newest of them, until no
 * further one appears (bounded: reactions are finite, and the rounds are counted).
 */
export async function awaitCascade(
  store: EventStore,
  projections: PositionWaiter,
  reactsToOption: ((type: string) => boolean) | undefined,
  after: string,
  correlationId: string,
  streamId: string,
  answerId: string | undefined,
): Promise<void> {
  const reactsTo = reactsToOption ?? (() => true);
  let from = after;
  for (let round = 0; round < MAX_CASCADE_ROUNDS; round++) {
    let newest: string | null = null;
    let reacted = false;
    for (let cursor: string | null = from; ; ) {
      const page: RecordedEvent[] = await store.readAll({ after: cursor, maxCount: 1000 });
      for (const e of page) {
        if (e.metadata.correlationId !== correlationId) continue;
        newest = e.position;
        reacted ||= reactsTo(e.type);
      }
      // Only an empty page is the end (a page of large events ends early: READ_PAGE_BYTES).
      if (page.length === 0) break;
      cursor = page[page.length - 1]!.position;
    }
    if (newest === null) return;
    await awaitFollowers(projections, newest, streamId, answerId);
    // Nothing in this round sets a reaction off: the next round would find nothing.
    if (!reacted) return;
    from = newest;
  }
}
