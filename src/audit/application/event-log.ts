import type { EventStore, RecordedEvent } from '../../event-store/event-store.port.js';
import { encodePosition, InvalidPositionError, isPosition } from '../../event-store/hash-chain.js';
import type { EventUpcasters } from '../../shared/application/event-upcasting.js';
import { BadInputError, NotFoundError } from '../../shared/domain/errors.js';
import { withinEdits } from '../../shared/application/near-miss.js';
import { CRITERIA_STREAM } from '../../risk-criteria/domain/criteria.state.js';
import { annotationStreams } from '../../evidence/domain/evidence.events.js';

/**
 * Streams an entity id may live in, tried in order (ids are UUIDs, so at most one matches; the
 * context is "organisation", the revocations of tokens "all").
 */
const ENTITY_STREAM_PREFIXES = ['asset-', 'risk-', 'plan-', 'baseline-catalogue-', 'incident-', 'context-', 'token-revocations-'];

/**
 * A filter on event types names types that exist: an empty or misspelled one (`RiskIdentifed`)
 * matched nothing, and a consumer waited on a page or a subscription that could never deliver
 * (probe p9). BAD_USER_INPUT naming the type, and the type meant when one is two edits away.
 */
export function requireKnownEventTypes(types: readonly string[] | null | undefined, known: EventUpcasters): void {
  for (const type of types ?? []) {
    if (known.knows(type)) continue;
    const meant = type.trim() === '' ? undefined : known.types.find((t) => withinEdits(t.toLowerCase(), type.toLowerCase(), 2));
    throw new BadInputError({ types: `${JSON.stringify(type.slice(0, 80))} is no event type${meant ? ` (did you mean ${meant}?)` : ''}` });
  }
}

/** Reads the log itself (the source of truth) for history and events. */
export class EventLogReader {
  /** `exists`: whether an id without events names an entity (one without a stream of its own); without it, such an id is NOT_FOUND. */
  constructor(private readonly store: EventStore, private readonly exists?: (id: string) => Promise<boolean>) {}

  /** One entity's events, oldest first. */
  async history(id: string): Promise<RecordedEvent[]> {
    // The comments and evidence attached to an entity live beside it (annotations-<id>): merged in log order.
    const notes = await this.store.readStream(annotationStreams.streamOf(id));
    const own = await this.ownEvents(id);
    if (!own.length && !notes.length) {
      // A control, a board resolution or the built-in catalogue exists without a stream of its own.
      if (await this.exists?.(id)) return [];
      throw new NotFoundError('Entity', id);
    }
    if (!notes.length) return own;
    return [...own, ...notes].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  }

  private async ownEvents(id: string): Promise<RecordedEvent[]> {
    for (const prefix of ENTITY_STREAM_PREFIXES) {
      const events = await this.store.readStream(prefix + id);
      if (events.length) return events;
    }
    return (await this.store.readStream(CRITERIA_STREAM)).filter((e) => e.data.criteriaId === id);
  }

  /** A page of the whole log after `after` (exclusive), optionally only some types. */
  async page(after: string | null, first: number, types?: string[] | null): Promise<{ events: RecordedEvent[]; hasNext: boolean }> {
    if (after !== null && !isPosition(after)) throw new InvalidPositionError(after);
    const typed = types?.length ? types : undefined;
    const events = await this.store.readAll({ after, maxCount: first + 1, types: typed });
    if (events.length === 0 && after !== null) await this.refusePastHead(after);
    if (events.length > first) return { events: events.slice(0, first), hasNext: true };
    // A page of large events ends early (READ_PAGE_BYTES): whether more follow, the log says.
    const next = events.length === 0 ? [] : await this.store.readAll({ after: events[events.length - 1]!.position, maxCount: 1, types: typed });
    return { events, hasNext: next.length > 0 };
  }

  /**
   * `after` as this log writes positions (a short decimal padded: "5" is "000…005"), once it is
   * known to be one of its positions at or before its head (BAD_USER_INPUT otherwise, as for a
   * page): a position of another adapter (PostgreSQL's on SQLite) failed only when first read.
   */
  async positionInLog(after: string): Promise<string> {
    if (!isPosition(after)) throw new InvalidPositionError(after);
    const position = /^\d+$/.test(after) ? encodePosition(BigInt(after)) : after;
    const next = await this.store.readAll({ after: position, maxCount: 1 });
    if (next.length === 0) await this.refusePastHead(position);
    return position;
  }

  /**
   * A cursor past the log's head comes from a longer log than this one (a copy restored under the
   * server, another installation): an empty page would let a loader wait there, then skip every
   * event written between this head and its cursor (consumers probe). Checked on an empty page only.
   */
  private async refusePastHead(after: string): Promise<void> {
    const head = await this.store.headPosition();
    if (head !== null && after <= head) return;
    throw new BadInputError({
      after: `is past the log's head (${head ?? 'the log is empty'}): this log is shorter than the one the cursor comes from (a copy restored from before it?); read it again from an earlier position`,
    });
  }
}

export function toGraphQLEvent(e: RecordedEvent) {
  return { ...e, metadata: { ...e.metadata, roles: e.metadata.actor.roles } };
}
