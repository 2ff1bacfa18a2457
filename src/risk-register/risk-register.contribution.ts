import type { FeatureContribution } from '../platform/feature-contribution.js';
import { avoidanceReactions } from './application/avoidance-reactions.js';
import { riskEventSchemaVersions, upcastRiskEvent } from './domain/risk.events.js';
import { RiskRegisterProjection } from './projections/risk-register.projection.js';

/** Art.14(1)-18, 20, 12: each risk from identification to consent and review. */
export const riskRegisterFeature: FeatureContribution = {
  name: 'risk-register',
  events: [{ schemaVersions: riskEventSchemaVersions, upcast: (t, v, d) => upcastRiskEvent(t, v, d).data as Record<string, unknown> }],
  projections: (options) => [new RiskRegisterProjection(options)],
  reactions: avoidanceReactions,
};
