import {
  ExpectedVersion,
  WrongExpectedVersionError,
  type EventStore,
  type RecordedEvent,
} from '../../event-store/event-store.port.js';
import { newEventId } from '../../event-store/event-id.js';
import type { ProjectionRunner } from '../../projections/projection-runner.js';
import { happenedBy, type PointInTime } from '../../projections/as-of-replay.js';
import { fold, type Decider, type DomainActor, type DomainEvent } from '../domain/decider.js';
import { BadInputError, ConcurrencyConflictError } from '../domain/errors.js';
import type { EventUpcasters } from './event-upcasting.js';

/** What every command carries besides its own fields: who, when, and how to trace and retry it. */
export interface CommandContext {
  actor: DomainActor;
  /** ISO instant the command is handled: the decider's only clock. */
  at: string;
  correlationId: string;
  /** What caused this command: the client's commandId, a request id, or an event id (process manager). */
  causationId: string;
  /** The client's idempotency key, unique per user. */
  commandId?: string;
}

export interface AggregateTarget<C, E extends DomainEvent, S> {
  streamId: string;
  decider: Decider<C, E, S>;
  /** The entity's `version` for the client's expectedVersion; default: the stream's version. */
  entityVersion?: (state: S) => number;
}

export interface ExecutionResult<S> {
  /** The aggregate's state right after this command (or after the first one, for a retry). */
  state: S;
  events: RecordedEvent[];
  /** Position of the last appended event, or null when nothing was appended. */
  position: string | null;
  /** True when the commandId had been used: nothing new was appended. */
  duplicate: boolean;
}

const MAX_RACE_RETRIES = 5;

/**
 * The command pipeline: load the stream → decide → append with the expected version → wait
 * until the projections have applied the new position (read-your-writes).
 */
export class CommandExecutor {
  constructor(
    private readonly store: EventStore,
    private readonly projections: Pick<ProjectionRunner, 'waitFor'>,
    private readonly upcasters: EventUpcasters,
  ) {}

  async load<E extends DomainEvent, S>(streamId: string, decider: Pick<Decider<unknown, E, S>, 'evolve' | 'initialState'>, toRevision?: number): Promise<{ state: S; streamVersion: number }> {
    const recorded = await this.store.readStream(streamId, toRevision === undefined ? {} : { toRevision });
    const events = recorded.map((r) => this.toDomain<E>(r));
    return { state: fold(decider, events), streamVersion: recorded.length ? recorded[recorded.length - 1]!.revision : -1 };
  }

  /**
   * The aggregate exactly as it stood at `asOf`: the stream's events committed at or before that
   * instant, folded. Never derived from today's read models.
   */
  async loadAsOf<E extends DomainEvent, S>(streamId: string, decider: Pick<Decider<unknown, E, S>, 'evolve' | 'initialState'>, point: PointInTime): Promise<S> {
    const recorded = await this.store.readStream(streamId);
    const events = recorded.filter(happenedBy(point)).map((r) => this.toDomain<E>(r));
    return fold(decider, events);
  }

  toDomain<E extends DomainEvent>(recorded: RecordedEvent): E {
    const e = this.upcasters.upcast(recorded);
    return { type: e.type, data: e.data } as unknown as E;
  }

  async execute<C, E extends DomainEvent, S>(
    target: AggregateTarget<C, E, S>,
    command: C,
    ctx: CommandContext,
    expectedVersion?: number | null,
  ): Promise<ExecutionResult<S>> {
    const idempotencyKey = ctx.commandId ? `${ctx.actor.id}:${ctx.commandId}` : undefined;
    if (idempotencyKey) {
      const earlier = await this.store.findIdempotentAppend(idempotencyKey);
      if (earlier) {
        if (streamKind(earlier.streamId) !== streamKind(target.streamId)) {
          throw new BadInputError({ commandId: 'was already used for a different kind of command; use a new commandId' });
        }
        return this.firstResult(target, earlier.streamId, earlier.events, earlier.position);
      }
    }
    for (let attempt = 0; ; attempt++) {
      const { state, streamVersion } = await this.load(target.streamId, target.decider);
      if (expectedVersion !== undefined && expectedVersion !== null) {
        const actual = target.entityVersion ? target.entityVersion(state) : streamVersion;
        if (actual !== expectedVersion) throw new ConcurrencyConflictError(expectedVersion, actual);
      }
      const decided = target.decider.decide(command, state);
      if (decided.length === 0) return { state, events: [], position: null, duplicate: false };
      try {
        const result = await this.store.append(
          target.streamId,
          decided.map((e) => ({
            // Time-ordered ids keep the event-id index appending at its end (see the store bench).
            eventId: newEventId(),
            type: e.type,
            schemaVersion: this.upcasters.schemaVersionOf(e.type),
            data: e.data as Record<string, unknown>,
            metadata: {
              actor: { id: ctx.actor.id, name: ctx.actor.name, roles: [...ctx.actor.roles] },
              occurredAt: ctx.at,
              correlationId: ctx.correlationId,
              causationId: ctx.causationId,
              ...(ctx.commandId ? { commandId: ctx.commandId } : {}),
            },
          })),
          { expectedVersion: ExpectedVersion.exact(streamVersion), idempotencyKey },
        );
        if (result.duplicate) return this.firstResult(target, result.streamId, result.events, result.position);
        await this.projections.waitFor(result.position);
        const after = decided.reduce((s, e) => target.decider.evolve(s, e), state);
        return { state: after, events: result.events, position: result.position, duplicate: false };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        // Someone wrote to the stream between our read and our append. A client that named the
        // version it saw gets the conflict; otherwise decide again on the fresh state. With an
        // entityVersion (several entities share the stream) the loop re-checks the entity's own
        // version on the fresh state: a write to another entity of the stream is no conflict.
        const namedVersion = expectedVersion !== undefined && expectedVersion !== null;
        if ((namedVersion && !target.entityVersion) || attempt >= MAX_RACE_RETRIES) {
          throw new ConcurrencyConflictError(expectedVersion ?? streamVersion, error.actualVersion);
        }
      }
    }
  }

  /** The answer to a retried command: the aggregate as it stood right after the first append. */
  private async firstResult<C, E extends DomainEvent, S>(
    target: AggregateTarget<C, E, S>,
    streamId: string,
    events: RecordedEvent[],
    position: string,
  ): Promise<ExecutionResult<S>> {
    const lastRevision = events[events.length - 1]?.revision;
    const { state } = await this.load(streamId, target.decider, lastRevision);
    await this.projections.waitFor(position);
    return { state, events, position, duplicate: true };
  }
}

const UUID_SUFFIX = /^(.*)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** 'asset-<uuid>' → 'asset': streams of one aggregate type share the prefix before the id; other streams are their own kind. */
function streamKind(streamId: string): string {
  return UUID_SUFFIX.exec(streamId)?.[1] ?? streamId;
}
