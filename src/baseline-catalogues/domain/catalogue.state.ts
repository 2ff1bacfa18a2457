/** Baseline catalogues (Art. 15: the baseline approach checks an asset against a set of requirements). */

export interface BaselineRequirement {
  /** Stable id, unique within the catalogue (e.g. "JVCEA-6.2-01"). */
  id: string;
  title: string;
  /** The requirement in the catalogue's own words. */
  statement: string;
  /** Where it comes from (e.g. "Art.39(1)" or "ISO 27001 A.8.24"). */
  reference: string;
}

export interface BaselineCatalogueState {
  exists: boolean;
  /** `${slug(name)}@${version}`: one catalogue version per id; versions are immutable once imported. */
  id: string;
  /** Revision of the catalogue stream's last event; -1 before import. */
  streamVersion: number;
  name: string;
  /** The catalogue's own version label (e.g. "2018", "2.0"). */
  version: string;
  builtIn: boolean;
  requirements: BaselineRequirement[];
  importedBy?: string;
  importedAt?: string;
}

export const BASELINE_REQUIREMENT_STATUSES = ['MET', 'PARTIAL', 'NOT_MET', 'NOT_APPLICABLE'] as const;
export type BaselineRequirementStatus = (typeof BASELINE_REQUIREMENT_STATUSES)[number];
