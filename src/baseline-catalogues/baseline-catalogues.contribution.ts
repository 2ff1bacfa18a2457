import type { FeatureContribution } from '../platform/feature-contribution.js';
import { catalogueEventSchemaVersions, upcastCatalogueEvent } from './domain/catalogue.events.js';
import { CatalogueProjection } from './projections/catalogue.projection.js';

/** Art.15(2): the baseline catalogues a baseline analysis is made against. */
export const baselineCataloguesFeature: FeatureContribution = {
  name: 'baseline-catalogues',
  events: [{ schemaVersions: catalogueEventSchemaVersions, upcast: (t, v, d) => upcastCatalogueEvent(t, v, d).data as Record<string, unknown> }],
  projections: (options) => [new CatalogueProjection(options)],
};
