import type { FeatureContribution } from '../platform/feature-contribution.js';
import { planLearnsRiskDecision } from './application/plan-follow-ups.js';
import { planRiskReactions } from './application/plan-risk-reactions.js';
import { planEventSchemaVersions, upcastPlanEvent } from './domain/plan.events.js';
import { PlanProjection } from './projections/plan.projection.js';

/** Art.19-20: the treatment plan, the board's resolution and the owners' consent. */
export const treatmentPlanFeature: FeatureContribution = {
  name: 'treatment-plan',
  events: [{ schemaVersions: planEventSchemaVersions, upcast: (t, v, d) => upcastPlanEvent(t, v, d).data as Record<string, unknown> }],
  projections: () => [new PlanProjection()],
  reactions: planRiskReactions,
  followUps: [planLearnsRiskDecision],
};
