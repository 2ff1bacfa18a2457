/** State of the InformationAsset aggregate (Art. 14(2): the information-asset inventory); its events are in asset.events.ts. */

export const ASSET_CATEGORIES = ['INFORMATION', 'SYSTEM', 'SOFTWARE', 'HARDWARE', 'SERVICE', 'PEOPLE', 'PAPER'] as const;
export type AssetCategory = (typeof ASSET_CATEGORIES)[number];

export const SECURITY_PROPERTIES = ['CONFIDENTIALITY', 'INTEGRITY', 'AVAILABILITY'] as const;
export type SecurityProperty = (typeof SECURITY_PROPERTIES)[number];

export type AssetStatus = 'ACTIVE' | 'RETIRED';

export interface VulnerabilityState {
  id: string;
  name: string;
  description: string;
  identifiedAt: string;
  identifiedBy: string;
}

export interface ThreatState {
  id: string;
  name: string;
  description: string;
  affects: SecurityProperty[];
  identifiedAt: string;
  identifiedBy: string;
  vulnerabilities: VulnerabilityState[];
}

export interface AssetState {
  /** False until AssetRegistered. */
  exists: boolean;
  id: string;
  /** Revision of the stream's last event; -1 before registration. Matches the store's stream version. */
  version: number;
  name: string;
  description: string;
  category: AssetCategory;
  department: string;
  managerId: string;
  /** Ratings 1..3 (Art. 14(2): value or importance per security property). */
  confidentiality: number;
  integrity: number;
  availability: number;
  /** max(confidentiality, integrity, availability). */
  value: number;
  status: AssetStatus;
  threats: ThreatState[];
  registeredAt: string;
  registeredBy: string;
  updatedAt: string;
  retiredAt?: string;
  retirementReason?: string;
}
