import type { EventStore, RecordedEvent } from '../../event-store/event-store.port.js';
import type { DomainActor, DomainEvent } from '../domain/decider.js';
import type { AggregateReader } from './aggregate-reader.js';
import type { Clock } from './clock.js';
import type { CommandContext, CommandExecutor } from './command-executor.js';

/** The actor of commands the system issues itself; the causing event's actor is one causationId away. */
export const PROCESS_MANAGER_ACTOR: DomainActor = { id: 'system:process-manager', name: 'Risk Ledger process manager', roles: [] };

/** A recorded event whose type and data are those of one domain event. */
export type Consumed<E extends DomainEvent> = RecordedEvent & { type: E['type']; data: E['data'] & Record<string, unknown> };

/** What a module's reactions may use: the pipeline, the aggregates' own streams, the log (to find streams by their events) and the clock. */
export interface ReactionDeps {
  executor: CommandExecutor;
  aggregates: AggregateReader;
  store: EventStore;
  clock: Clock;
}

/** One reaction: the commands that follow from one type of recorded event (idempotent by construction). */
export interface EventReaction {
  readonly type: string;
  react(event: RecordedEvent): Promise<void>;
}

/**
 * Reactions typed against the events they consume: `reactTo<RiskEvent>()('RiskClosed', (e) => …)`
 * gives `e.data` the shape of RiskClosed, and a misspelt type does not compile.
 */
export function reactTo<E extends DomainEvent>() {
  return <T extends E['type']>(type: T, react: (event: Consumed<Extract<E, { type: T }>>) => Promise<void>): EventReaction => ({
    type,
    react: react as (event: RecordedEvent) => Promise<void>,
  });
}

/**
 * The context of a command issued in reaction to `event`: correlated with it, caused by it. No
 * answerId: no answer awaits a reaction (the client's command that set it off waits for its
 * cascade and tells its own answer, CommandExecutor.awaitCascade).
 */
export function reactionContext(event: RecordedEvent, clock: Clock): CommandContext {
  return { actor: PROCESS_MANAGER_ACTOR, at: clock.now().toISOString(), correlationId: event.metadata.correlationId, causationId: event.eventId };
}

/** The reactions of every module as one, and which event types they react to. */
export interface CombinedReactions {
  (event: RecordedEvent): Promise<void>;
  /** Whether some reaction reacts to events of this type (an event of another type sets nothing off). */
  reactsTo(type: string): boolean;
}

/** Every module's reactions as one: each event runs the reactions to its type, in module order. */
export function combineReactions(reactions: readonly EventReaction[]): CombinedReactions {
  const byType = new Map<string, EventReaction[]>();
  for (const r of reactions) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
  const react = async (event: RecordedEvent) => {
    for (const r of byType.get(event.type) ?? []) await r.react(event);
  };
  return Object.assign(react, { reactsTo: (type: string) => byType.has(type) });
}
