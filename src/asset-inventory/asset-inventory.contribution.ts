import type { FeatureContribution } from '../platform/feature-contribution.js';
import { assetEventSchemaVersions, upcastAssetEvent } from './domain/asset.events.js';
import { assetNameEventSchemaVersions, upcastAssetNameEvent } from './domain/asset-name.events.js';
import { AssetRegisterProjection } from './projections/asset-register.projection.js';
import { earlierAssetNames } from './application/earlier-asset-names.js';

/** Art.14(2): the inventory of assets, their threats and vulnerabilities, and the reserved names. */
export const assetInventoryFeature: FeatureContribution = {
  name: 'asset-inventory',
  events: [
    { schemaVersions: assetEventSchemaVersions, upcast: (t, v, d) => upcastAssetEvent(t, v, d).data as Record<string, unknown> },
    { schemaVersions: assetNameEventSchemaVersions, upcast: (t, v, d) => upcastAssetNameEvent(t, v, d).data as Record<string, unknown> },
  ],
  projections: () => [new AssetRegisterProjection()],
  upgrades: (deps) => [earlierAssetNames(deps)],
};
