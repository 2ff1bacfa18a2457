import type { EventStore, RecordedEvent } from '../../event-store/event-store.port.js';
import { fold, type Decider, type DomainEvent } from '../domain/decider.js';
import type { EventUpcasters } from './event-upcasting.js';
import { happenedBy, type PointInTime } from './point-in-time.js';

export type Evolver<S> = Pick<Decider<unknown, any, S>, 'evolve' | 'initialState'>;

/**
 * An aggregate's state from its own stream, the source of truth (never a read model that may
 * lag): now, at a revision, or exactly as it stood at a past moment (time travel folds the log).
 */
export class AggregateReader {
  constructor(
    private readonly store: EventStore,
    private readonly upcasters: EventUpcasters,
  ) {}

  async load<S>(streamId: string, decider: Evolver<S>, toRevision?: number): Promise<{ state: S; streamVersion: number }> {
    const recorded = await this.store.readStream(streamId, toRevision === undefined ? {} : { toRevision });
    const events = recorded.map((r) => this.toDomain(r));
    return { state: fold(decider, events), streamVersion: recorded.length ? recorded[recorded.length - 1]!.revision : -1 };
  }

  async state<S>(streamId: string, decider: Evolver<S>): Promise<S> {
    return (await this.load(streamId, decider)).state;
  }

  /** The aggregate exactly as it stood at `point`: the stream's events committed by then, folded. */
  async stateAt<S>(streamId: string, decider: Evolver<S>, point: PointInTime): Promise<S> {
    const recorded = await this.store.readStream(streamId);
    return fold(decider, recorded.filter(happenedBy(point)).map((r) => this.toDomain(r)));
  }

  /** The domain form of a recorded event; its log position rides along for states that cite it (a resolution's position). */
  toDomain<E extends DomainEvent>(recorded: RecordedEvent): E {
    const e = this.upcasters.upcast(recorded);
    return { type: e.type, data: e.data, position: e.position } as unknown as E;
  }
}
