import type { FeatureContribution } from '../platform/feature-contribution.js';
import { incidentEventSchemaVersions, upcastIncidentEvent } from './domain/incident.events.js';
import { IncidentProjection } from './projections/incident.projection.js';

/** Art.15(3): incidents at other firms, and their links to the risks they inform. */
export const incidentsFeature: FeatureContribution = {
  name: 'incidents',
  events: [{ schemaVersions: incidentEventSchemaVersions, upcast: (t, v, d) => upcastIncidentEvent(t, v, d).data as Record<string, unknown> }],
  projections: () => [new IncidentProjection()],
};
