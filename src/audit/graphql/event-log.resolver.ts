import { Inject } from '@nestjs/common';
import { Args, ID, Int, Query, Resolver, Subscription } from '@nestjs/graphql';
import { EVENT_STORE, type EventStore } from '../../event-store/event-store.port.js';
import { pageSize } from '../../graphql/pagination.js';
import { CurrentActor } from '../../identity/graphql/current-actor.decorator.js';
import { LiveEvents } from '../../shared/application/live-events.js';
import type { DomainActor } from '../../shared/domain/decider.js';
import { EventLogReader, toGraphQLEvent } from '../application/event-log.js';
import { Actor, EventConnection, RecordedEventType } from './recorded-event.types.js';

@Resolver()
export class EventLogResolver {
  private readonly reader: EventLogReader;

  constructor(@Inject(EVENT_STORE) store: EventStore, private readonly live: LiveEvents) {
    this.reader = new EventLogReader(store);
  }

  @Query(() => Actor, { description: 'Who the bearer token says you are.' })
  me(@CurrentActor() actor: DomainActor): Actor {
    return { id: actor.id, name: actor.name, roles: actor.roles, department: actor.department };
  }

  @Query(() => [RecordedEventType], { description: "One entity's events, oldest first." })
  async history(@Args('id', { type: () => ID }) id: string) {
    return (await this.reader.history(id)).map(toGraphQLEvent);
  }

  @Query(() => EventConnection, { description: 'The whole log, in order. The cursor of each edge is its position.' })
  async events(
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('types', { type: () => [String], nullable: true }) types?: string[] | null,
  ) {
    const limit = pageSize(first);
    const { events, hasNext } = await this.reader.page(after ?? null, limit, types);
    const edges = events.map((e) => ({ cursor: e.position, node: toGraphQLEvent(e) }));
    return {
      edges,
      totalCount: null,
      pageInfo: { hasNextPage: hasNext, hasPreviousPage: !!after, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  @Subscription(() => RecordedEventType, { description: 'Events as they are committed, optionally only some types or one stream.' })
  eventAppended(
    @Args('types', { type: () => [String], nullable: true }) types?: string[] | null,
    @Args('streamId', { type: () => ID, nullable: true }) streamId?: string | null,
  ) {
    return this.live.iterator(
      (e) => (!types?.length || types.includes(e.type)) && (!streamId || e.streamId === streamId),
      (e) => ({ eventAppended: toGraphQLEvent(e) }),
    );
  }
}
