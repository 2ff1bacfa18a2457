import type { FeatureContribution } from '../platform/feature-contribution.js';
import { criteriaEventSchemaVersions, upcastCriteriaEvent } from './domain/criteria.events.js';
import { CriteriaProjection } from './projections/criteria.projection.js';

/** Art.13: the risk criteria, proposed and approved in versions. */
export const riskCriteriaFeature: FeatureContribution = {
  name: 'risk-criteria',
  events: [{ schemaVersions: criteriaEventSchemaVersions, upcast: (t, v, d) => upcastCriteriaEvent(t, v, d).data as Record<string, unknown> }],
  projections: () => [new CriteriaProjection()],
};
