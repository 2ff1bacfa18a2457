import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AggregateReader } from '../../shared/application/aggregate-reader.js';
import type { PointInTime } from '../../shared/application/point-in-time.js';
import { contextDecider } from '../domain/context.decider.js';
import { CONTEXT_STREAM, currentContext, type ContextState, type ContextVersion } from '../domain/context.state.js';

/** The context's stream folded now, or up to a past point (exact: it is one stream). */
async function contextAt(aggregates: AggregateReader, at: PointInTime | null | undefined): Promise<ContextState> {
  return at ? aggregates.stateAt(CONTEXT_STREAM, contextDecider, at) : aggregates.state(CONTEXT_STREAM, contextDecider);
}

/** The version in force now or at a past point; null before the first. */
export class GetContextQuery extends Query<ContextVersion | null> {
  constructor(readonly at?: PointInTime | null) {
    super();
  }
}

/** Every version recorded by then, oldest first. */
export class ListContextVersionsQuery extends Query<ContextVersion[]> {
  constructor(readonly at?: PointInTime | null) {
    super();
  }
}

@QueryHandler(GetContextQuery)
export class GetContextHandler implements IQueryHandler<GetContextQuery, ContextVersion | null> {
  constructor(private readonly aggregates: AggregateReader) {}
  async execute({ at }: GetContextQuery) {
    return currentContext(await contextAt(this.aggregates, at)) ?? null;
  }
}

@QueryHandler(ListContextVersionsQuery)
export class ListContextVersionsHandler implements IQueryHandler<ListContextVersionsQuery, ContextVersion[]> {
  constructor(private readonly aggregates: AggregateReader) {}
  async execute({ at }: ListContextVersionsQuery) {
    return (await contextAt(this.aggregates, at)).versions;
  }
}
