/**
 * Events of the baseline catalogues (one stream per catalogue version, Art. 15(2)): the storage
 * contract: never edited; a new shape gets a new schema version and an upcaster.
 */
import type { BaselineRequirement } from './catalogue.state.js';

export interface BaselineCatalogueImported {
  type: 'BaselineCatalogueImported';
  data: {
    catalogueId: string;
    name: string;
    version: string;
    requirements: BaselineRequirement[];
    importedBy: string;
    importedAt: string;
  };
}

export type CatalogueEvent = BaselineCatalogueImported;
export type CatalogueEventType = CatalogueEvent['type'];

export const catalogueEventSchemaVersions: Record<CatalogueEventType, number> = {
  BaselineCatalogueImported: 1,
};

/** Turns stored data of any known schema version into the current shape (identity today: the seam for later shapes). */
export function upcastCatalogueEvent(type: string, schemaVersion: number, data: unknown): CatalogueEvent {
  if (!(type in catalogueEventSchemaVersions)) throw new Error(`Unknown baseline-catalogue event type ${type}`);
  const current = catalogueEventSchemaVersions[type as CatalogueEventType];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new Error(`Unsupported schema version ${schemaVersion} of ${type} (current ${current})`);
  }
  return { type, data } as CatalogueEvent;
}
