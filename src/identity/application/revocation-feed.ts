import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { AggregateReader } from '../../shared/application/aggregate-reader.js';
import type { LiveEvents } from '../../shared/application/live-events.js';
import { TOKEN_REVOCATIONS_STREAM, tokenRevocationDecider } from '../domain/token-revocation.decider.js';
import { upcastTokenRevocationEvent } from '../domain/token-revocation.events.js';
import type { TokenRevocations } from '../token-revocations.js';

/**
 * Fills `revocations` from the event store before the server serves anything (the revocation
 * stream, folded), then keeps it current from the store's live tail: every instance on one
 * PostgreSQL database learns a revocation when its feed sees the commit (LISTEN/NOTIFY, or its poll
 * within a second), whichever instance recorded it. The listener is in place before the stream is
 * read, so a revocation committed meanwhile is seen by one or the other (both is harmless).
 * Returns what stops listening.
 */
export async function followRevocations(revocations: TokenRevocations, aggregates: AggregateReader, live: LiveEvents): Promise<() => void> {
  const stop = live.listen((event: RecordedEvent) => {
    if (event.streamId !== TOKEN_REVOCATIONS_STREAM || event.type !== 'TokensRevoked') return;
    const revoked = upcastTokenRevocationEvent(event.type, event.schemaVersion, event.data);
    revocations.apply(revoked.data);
    revocations.caughtUp(event.revision);
  });
  try {
    const { state, streamVersion } = await aggregates.load(TOKEN_REVOCATIONS_STREAM, tokenRevocationDecider);
    for (const revocation of Object.values(state.bySubject)) revocations.apply(revocation);
    revocations.caughtUp(streamVersion);
  } catch (error) {
    stop();
    throw error;
  }
  return stop;
}
