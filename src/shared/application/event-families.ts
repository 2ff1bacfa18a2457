import { assetEventSchemaVersions, upcastAssetEvent } from '../../asset-inventory/domain/asset.decider.js';
import { EventUpcasters, type EventFamily } from './event-upcasting.js';

/** Every event family the application knows. A new aggregate registers its family here. */
export function allEventFamilies(): EventFamily[] {
  return [
    { schemaVersions: assetEventSchemaVersions, upcast: (t, v, d) => upcastAssetEvent(t, v, d).data as Record<string, unknown> },
  ];
}

export function createUpcasters(): EventUpcasters {
  return new EventUpcasters(allEventFamilies());
}
