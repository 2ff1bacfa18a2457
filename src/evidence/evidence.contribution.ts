import type { FeatureContribution } from '../platform/feature-contribution.js';
import { evidenceEventSchemaVersions, upcastEvidenceEvent } from './domain/evidence.events.js';
import { EvidenceProjection } from './projections/evidence.projection.js';

/** Art.18, 19: evidence files pinned in the log, attached to entities, and comments on them. */
export const evidenceFeature: FeatureContribution = {
  name: 'evidence',
  events: [{ schemaVersions: evidenceEventSchemaVersions, upcast: (t, v, d) => upcastEvidenceEvent(t, v, d).data as Record<string, unknown> }],
  projections: () => [new EvidenceProjection()],
};
