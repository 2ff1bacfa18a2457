import type { Projection, ProjectionOptions } from '../projections/projection.js';
import { EventUpcasters, type EventFamily } from '../shared/application/event-upcasting.js';
import { combineReactions, type EventReaction, type ReactionDeps } from '../shared/application/reactions.js';
import type { DecisionFollowUp } from '../shared/application/command-executor.js';
import type { LogUpgrade } from '../shared/application/log-upgrades.js';

/**
 * What a feature module adds to the running system besides its Nest providers: its events (the
 * storage contract, with their schema versions and upcasters), its read models and its reactions
 * to events. Each module exports one; the application root (src/features.ts) lists them, and the
 * platform assembles them. Nothing below the features names a feature.
 */
export interface FeatureContribution {
  readonly name: string;
  readonly events: readonly EventFamily[];
  /** New instances on each call: the live runner and each time-travel replay get their own. */
  readonly projections?: (options?: ProjectionOptions) => Projection[];
  readonly reactions?: (deps: ReactionDeps) => EventReaction[];
  /** Decisions this module appends atomically with another's (see DecisionFollowUp). */
  readonly followUps?: readonly DecisionFollowUp[];
  /** Repairs of what earlier builds left out of the log, run by the reactions' instance (see LogUpgrade). */
  readonly upgrades?: (deps: ReactionDeps) => LogUpgrade[];
}

export function followUpsOf(features: readonly FeatureContribution[]): DecisionFollowUp[] {
  return features.flatMap((f) => f.followUps ?? []);
}

export function upcastersOf(features: readonly FeatureContribution[]): EventUpcasters {
  return new EventUpcasters(features.flatMap((f) => f.events));
}

/** The read models in module order (the runner applies each event to them in this order). */
export function projectionsOf(features: readonly FeatureContribution[]): (options?: ProjectionOptions) => Projection[] {
  return (options) => features.flatMap((f) => f.projections?.(options) ?? []);
}

export function upgradesOf(features: readonly FeatureContribution[], deps: ReactionDeps): LogUpgrade[] {
  return features.flatMap((f) => f.upgrades?.(deps) ?? []);
}

export function reactionsOf(features: readonly FeatureContribution[], deps: ReactionDeps) {
  return combineReactions(features.flatMap((f) => f.reactions?.(deps) ?? []));
}
