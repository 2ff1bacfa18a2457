/**
 * Events of the asset-name reservation streams (`reservation-asset-name-<digest>`, Art. 14(2)):
 * the storage contract: never edited; a new shape gets a new schema version and an upcaster.
 */

export type AssetNameEvent =
  | { type: 'AssetNameReserved'; data: { assetId: string; department: string; name: string; key: string; reservedAt: string } }
  | { type: 'AssetNameReleased'; data: { assetId: string; reason: string; releasedAt: string } };

export const assetNameEventSchemaVersions: Record<AssetNameEvent['type'], number> = {
  AssetNameReserved: 1,
  AssetNameReleased: 1,
};

export function upcastAssetNameEvent(type: string, schemaVersion: number, data: unknown): AssetNameEvent {
  if (!(type in assetNameEventSchemaVersions)) throw new Error(`Unknown asset-name event type ${type}`);
  if (schemaVersion !== 1) throw new Error(`Unsupported schema version ${schemaVersion} of ${type}`);
  return { type, data } as AssetNameEvent;
}
