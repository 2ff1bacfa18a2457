import { Inject, Optional } from '@nestjs/common';
import { Args, Context, ID, Int, Query, Resolver, Subscription } from '@nestjs/graphql';
import { EVENT_STORE, type EventStore } from '../../event-store/event-store.port.js';
import { AFTER_DESCRIPTION, FIRST_DESCRIPTION } from '../../graphql/descriptions.js';
import { pageInfoOf, pageSize } from '../../graphql/pagination.js';
import { jsonBytes, withinResultBudget } from '../../graphql/result-budget.js';
import { CurrentActor } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestContext } from '../../identity/graphql/auth.guard.js';
import { LiveEvents } from '../../shared/application/live-events.js';
import type { DomainActor } from '../../shared/domain/decider.js';
import { EventLogReader, requireKnownEventTypes, toGraphQLEvent } from '../application/event-log.js';
import { EventUpcasters } from '../../shared/application/event-upcasting.js';
import { EntityDirectory } from '../../evidence/application/entity-directory.js';
import { Actor, EventConnection, RecordedEventType } from './recorded-event.types.js';

@Resolver()
export class EventLogResolver {
  private readonly reader: EventLogReader;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    private readonly live: LiveEvents,
    private readonly eventTypes: EventUpcasters,
    @Optional() directory?: EntityDirectory,
  ) {
    this.reader = new EventLogReader(store, directory ? async (id) => (await directory.kindOf(id)) !== null : undefined);
  }

  @Query(() => Actor, { description: 'Who the bearer token says you are. Any authenticated role. Errors: UNAUTHENTICATED.' })
  me(@CurrentActor() actor: DomainActor): Actor {
    return { id: actor.id, name: actor.name, roles: [...actor.roles], department: actor.department };
  }

  @Query(() => [RecordedEventType], {
    description:
      "One entity's events, oldest first (Art.31/34 evidence): an asset, risk, plan, baseline catalogue, risk criteria version, incident at another firm (with its links to risks), the organisation's context (every version) or the revocations of tokens (\"all\": every TokensRevoked), merged in log order with the comments on it and the evidence attached to it (CommentAdded, EvidenceAttached; a control or board resolution has only these). Any authenticated role. Errors: UNAUTHENTICATED; NOT_FOUND (an id that names nothing: an entity without events of its own, a control or board resolution, answers its annotations, [] when it has none); QUERY_TOO_COMPLEX when the request's histories, comments and pages of events pass 16 MB.",
  })
  async history(
    @Args('id', { type: () => ID, description: 'The entity: Asset.id, Risk.id, Plan.id, BaselineCatalogue.id, RiskCriteria.id, Incident.id, Context.id ("organisation") or "all" for the revocations of tokens.' }) id: string,
    @Context() context: object,
  ) {
    const events = await withinResultBudget(context, `history(${id.slice(0, 80)})`, () => this.reader.history(id), (all) => all.reduce((n, e) => n + jsonBytes(e.data) + jsonBytes(e.metadata), 0));
    return events.map(toGraphQLEvent);
  }

  @Query(() => EventConnection, {
    description:
      'The whole log in commit order (Art.31/34 evidence); the cursor of each edge is its position. totalCount is null. A page also ends early once its events hold 16 MB (an imported catalogue can be megabytes): hasNextPage says whether more follow. Any authenticated role. Errors: UNAUTHENTICATED; BAD_USER_INPUT (first, after); QUERY_TOO_COMPLEX when the request\'s histories, comments and pages of events pass 16 MB.',
  })
  async events(
    @Args('after', { type: () => String, nullable: true, description: "A position (RecordedEvent.position or an edge cursor): the events after it; from the start when omitted. Not a position, or one past the log's head (a cursor from a longer log, such as before a copy was restored): BAD_USER_INPUT." }) after?: string | null,
    @Args('first', { type: () => Int, nullable: true, description: FIRST_DESCRIPTION }) first?: number | null,
    @Args('types', { type: () => [String], nullable: true, description: 'Only events of these types (such as RiskAnalysed); all types when omitted or empty. A type that does not exist (empty, misspelled): BAD_USER_INPUT.' }) types?: string[] | null,
    @Context() context: object = {},
  ) {
    const limit = pageSize(first);
    requireKnownEventTypes(types, this.eventTypes);
    const read = () => this.reader.page(after ?? null, limit, types);
    // Aliases of pages of large events would otherwise gather 16 MB each (READ_PAGE_BYTES).
    const { events, hasNext } = await withinResultBudget(context, 'events', read, (p) => p.events.reduce((n, e) => n + jsonBytes(e.data) + jsonBytes(e.metadata), 0), true);
    const edges = events.map((e) => ({ cursor: e.position, node: toGraphQLEvent(e) }));
    return {
      edges,
      totalCount: null,
      pageInfo: pageInfoOf(edges, hasNext, after),
    };
  }

  @Subscription(() => RecordedEventType, {
    description:
      'Events as they are committed, over graphql-ws at /graphql (not over HTTP: BAD_USER_INPUT); optionally only some types or one stream; with after, first the events already committed after that position, then the live ones, with no gap and no repeat. Any authenticated role; the socket closes with code 4401 when the token expires, and with 4413 when more than 16 MiB wait unsent on it or a subscription falls further behind than 50,000 events or 60 s (a client that stopped reading, or a backlog that took longer to send: subscribe again with after: the last position received). Errors: UNAUTHENTICATED; BAD_USER_INPUT (after, streamId, types).',
  })
  eventAppended(
    @Args('types', { type: () => [String], nullable: true, description: 'Only events of these types (such as PlanSubmitted); all types when omitted or empty. A type that does not exist (empty, misspelled): BAD_USER_INPUT.' }) types?: string[] | null,
    @Args('streamId', { type: () => ID, nullable: true, description: 'Only events of this stream (RecordedEvent.streamId, such as risk-<id>); every stream when omitted. Blank: BAD_USER_INPUT.' }) streamId?: string | null,
    @Args('after', {
      type: () => String,
      nullable: true,
      description: "A position (RecordedEvent.position): the events committed after it are sent first, as events(after) lists them, then the live ones; only live ones when omitted. Not a position, or past the log's head: BAD_USER_INPUT.",
    })
    after?: string | null,
    @Context() context?: RequestContext,
  ) {
    // A blank streamId (which read as "every stream") never gets here: argument-limits.ts refuses blank ids.
    requireKnownEventTypes(types, this.eventTypes);
    const subscribe = (from?: string) =>
      this.live.iterator(
        (e) => (!types?.length || types.includes(e.type)) && (!streamId || e.streamId === streamId),
        (e) => ({ eventAppended: toGraphQLEvent(e) }),
        () => context?.closeSlowConsumer?.(),
        from === undefined ? undefined : { after: from, types: types?.length ? types : undefined },
      );
    if (after === null || after === undefined) return subscribe();
    return this.reader.positionInLog(after).then(subscribe);
  }
}
