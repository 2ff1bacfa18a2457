import type { FeatureContribution } from '../platform/feature-contribution.js';
import { contextEventSchemaVersions, upcastContextEvent } from './domain/context.events.js';

/**
 * Art.12(1): the organisation's context. One short stream, read by folding it (now or as of a
 * past point), so it needs no read model.
 */
export const contextFeature: FeatureContribution = {
  name: 'context',
  events: [{ schemaVersions: contextEventSchemaVersions, upcast: (t, v, d) => upcastContextEvent(t, v, d).data as Record<string, unknown> }],
};
