/**
 * Events of the InformationAsset aggregate (stream `asset-<id>`, Art. 14(2)): the storage
 * contract: never edited; a new shape gets a new schema version and an upcaster.
 */
import type { AssetCategory, SecurityProperty } from './asset.state.js';

export interface AssetRegistered {
  type: 'AssetRegistered';
  data: {
    assetId: string;
    name: string;
    description: string;
    category: AssetCategory;
    department: string;
    managerId: string;
    confidentiality: number;
    integrity: number;
    availability: number;
    /** max(confidentiality, integrity, availability) */
    value: number;
    registeredBy: string;
    registeredAt: string;
  };
}

export interface ThreatIdentified {
  type: 'ThreatIdentified';
  data: {
    assetId: string;
    threatId: string;
    name: string;
    description: string;
    /** Distinct, in SECURITY_PROPERTIES order. */
    affects: SecurityProperty[];
    identifiedBy: string;
    identifiedAt: string;
  };
}

export interface VulnerabilityIdentified {
  type: 'VulnerabilityIdentified';
  data: {
    assetId: string;
    threatId: string;
    vulnerabilityId: string;
    name: string;
    description: string;
    identifiedBy: string;
    identifiedAt: string;
  };
}

export interface AssetManagerReassigned {
  type: 'AssetManagerReassigned';
  data: {
    assetId: string;
    previousManagerId: string;
    managerId: string;
    reassignedBy: string;
    reassignedAt: string;
  };
}

export interface AssetRetired {
  type: 'AssetRetired';
  data: {
    assetId: string;
    reason: string;
    retiredBy: string;
    retiredAt: string;
    /** The risk whose avoidance (Art.17) retired the asset, if that is why. */
    avoidedRiskId?: string;
  };
}

export type AssetEvent = AssetRegistered | ThreatIdentified | VulnerabilityIdentified | AssetManagerReassigned | AssetRetired;
export type AssetEventType = AssetEvent['type'];

/** Current schema version of each event's data. Bump one and extend upcastAssetEvent when a shape changes. */
export const assetEventSchemaVersions: Record<AssetEventType, number> = {
  AssetRegistered: 1,
  ThreatIdentified: 1,
  VulnerabilityIdentified: 1,
  AssetManagerReassigned: 1,
  AssetRetired: 1,
};

/**
 * Turns stored data of any known schema version into the current shape. Today every event is at
 * version 1, so this is the identity; it is the seam for future shape changes.
 */
export function upcastAssetEvent(type: string, schemaVersion: number, data: unknown): AssetEvent {
  if (!(type in assetEventSchemaVersions)) throw new Error(`Unknown asset event type ${type}`);
  const current = assetEventSchemaVersions[type as AssetEventType];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new Error(`Unsupported schema version ${schemaVersion} of ${type} (current ${current})`);
  }
  return { type, data } as AssetEvent;
}
