/**
 * Baseline catalogues (Art. 15(2)(1): the baseline approach checks an asset against an
 * existing standard or criteria). One stream per catalogue version; a version never changes
 * once imported (import a new version instead). The built-in catalogue (builtin-catalogue.ts)
 * is code, not events, and its id is reserved.
 */
import type { Decider, DomainActor } from '../../shared/domain/decider.js';
import { FieldErrors } from '../../shared/domain/errors.js';
import { defineRules, isNonEmptyText, longerThan, requiredText, requireRole, streamCategory, violation } from '../../shared/domain/guards.js';
import { BUILTIN_CATALOGUE } from './builtin-catalogue.js';
import type { CatalogueEvent } from './catalogue.events.js';
import type { BaselineCatalogueState, BaselineRequirement } from './catalogue.state.js';

/** Stable rule ids (extensions.rule) and the article they come from. */
export const CatalogueRules = defineRules({
  CATALOGUE_VERSION_IMMUTABLE: 'Art.15(2)',
  CATALOGUE_ID_RESERVED: 'Art.15(2)',
});

export const CATALOGUE_LIMITS = {
  maxNameLength: 200,
  maxVersionLength: 40,
  minRequirements: 1,
  // The contract's list limit (lists at most 500 items).
  maxRequirements: 500,
  maxRequirementIdLength: 100,
  maxTitleLength: 500,
  maxStatementLength: 10_000,
  maxReferenceLength: 500,
} as const;

const VERSION_PATTERN = /^[A-Za-z0-9._-]{1,40}$/;

// ---------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------

/** FNV-1a (32 bit), hex: a deterministic fallback for names with no ASCII letter or digit. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * Lowercase, [a-z0-9-]: compatibility-decomposed (full-width letters become ASCII, accents are
 * dropped), every other run of characters becomes one '-', no leading or trailing '-'. A name
 * with no ASCII letter or digit at all (e.g. only Japanese) gets `catalogue-<hash of the name>`.
 */
export function slug(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s === '' ? `catalogue-${fnv1a(name.trim())}` : s;
}

export function catalogueIdFor(name: string, version: string): string {
  return `${slug(name)}@${version.trim()}`;
}

/** One stream per catalogue version: `baseline-catalogue-<catalogue id>`. */
export const catalogueStreams = streamCategory('baseline-catalogue');

export function catalogueStreamId(catalogueId: string): string {
  return catalogueStreams.streamOf(catalogueId);
}

// ---------------------------------------------------------------------------------------------
// Commands (the events are in catalogue.events.ts)
// ---------------------------------------------------------------------------------------------

export interface ImportBaselineCatalogue {
  type: 'ImportBaselineCatalogue';
  /** catalogueIdFor(name, version) */
  catalogueId: string;
  name: string;
  version: string;
  requirements: BaselineRequirement[];
  actor: DomainActor;
  at: string;
}

export type CatalogueCommand = ImportBaselineCatalogue;

// ---------------------------------------------------------------------------------------------
// State helpers
// ---------------------------------------------------------------------------------------------

export const initialCatalogueState: BaselineCatalogueState = {
  exists: false,
  id: '',
  streamVersion: -1,
  name: '',
  version: '',
  builtIn: false,
  requirements: [],
};

/** The built-in catalogue or one of the imported ones (states folded from their streams). */
export function findCatalogue(id: string, imported: BaselineCatalogueState[]): BaselineCatalogueState | undefined {
  if (id === BUILTIN_CATALOGUE.id) return BUILTIN_CATALOGUE;
  return imported.find((c) => c.exists && c.id === id);
}

/** Every catalogue: the built-in one first, then the imported ones. */
export function allCatalogues(imported: BaselineCatalogueState[]): BaselineCatalogueState[] {
  return [BUILTIN_CATALOGUE, ...imported.filter((c) => c.exists && c.id !== BUILTIN_CATALOGUE.id)];
}

export function findRequirement(catalogue: BaselineCatalogueState, requirementId: string): BaselineRequirement | undefined {
  return catalogue.requirements.find((r) => r.id === requirementId);
}

// ---------------------------------------------------------------------------------------------
// decide
// ---------------------------------------------------------------------------------------------

function normalizeRequirement(r: unknown): BaselineRequirement {
  const o = (r ?? {}) as Record<string, unknown>;
  const t = (v: unknown): string => (typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : (v as string));
  return { id: t(o.id), title: t(o.title), statement: t(o.statement), reference: t(o.reference) };
}

function validate(c: ImportBaselineCatalogue): { name: string; version: string; requirements: BaselineRequirement[] } {
  const errors = new FieldErrors();
  const L = CATALOGUE_LIMITS;
  const name = requiredText(errors, 'name', c.name, L.maxNameLength);
  const version = typeof c.version === 'string' ? c.version.trim() : '';
  if (!VERSION_PATTERN.test(version)) errors.add('version', `must be 1 to ${L.maxVersionLength} characters of A-Z, a-z, 0-9, '.', '_' or '-'`);

  const list: unknown[] = Array.isArray(c.requirements) ? c.requirements : [];
  if (!Array.isArray(c.requirements) || list.length < L.minRequirements || list.length > L.maxRequirements) {
    errors.add('requirements', `must have from ${L.minRequirements} to ${L.maxRequirements} requirements`);
  }
  const requirements = list.slice(0, L.maxRequirements).map(normalizeRequirement);
  const seen = new Map<string, number>();
  requirements.forEach((r, i) => {
    const at = `requirements[${i}]`;
    if (!isNonEmptyText(r.id)) errors.add(`${at}.id`, 'is required');
    else if (longerThan(r.id, L.maxRequirementIdLength)) errors.add(`${at}.id`, `must be at most ${L.maxRequirementIdLength} characters`);
    else {
      const key = r.id.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) errors.add(`${at}.id`, `duplicates requirements[${first}].id ("${r.id}")`);
      else seen.set(key, i);
    }
    requiredText(errors, `${at}.title`, r.title, L.maxTitleLength);
    requiredText(errors, `${at}.statement`, r.statement, L.maxStatementLength);
    if (typeof r.reference !== 'string') errors.add(`${at}.reference`, 'must be a string (may be empty)');
    else if (longerThan(r.reference, L.maxReferenceLength)) errors.add(`${at}.reference`, `must be at most ${L.maxReferenceLength} characters`);
  });
  if (!errors.any && c.catalogueId !== catalogueIdFor(name, version)) {
    errors.add('catalogueId', `must be ${catalogueIdFor(name, version)} (derived from name and version)`);
  }
  errors.throwIfAny();
  return { name, version, requirements };
}

function decideImport(c: ImportBaselineCatalogue, state: BaselineCatalogueState): CatalogueEvent[] {
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'import baseline catalogues');
  const { name, version, requirements } = validate(c);
  if (c.catalogueId === BUILTIN_CATALOGUE.id) {
    throw violation(CatalogueRules.CATALOGUE_ID_RESERVED, `${BUILTIN_CATALOGUE.id} is the built-in catalogue; choose another name or version`);
  }
  if (state.exists) {
    const same =
      state.id === c.catalogueId &&
      state.name === name &&
      state.version === version &&
      JSON.stringify(state.requirements) === JSON.stringify(requirements);
    if (same) return [];
    throw violation(
      CatalogueRules.CATALOGUE_VERSION_IMMUTABLE,
      `Catalogue ${state.id} was already imported with different content; import it under a new version instead`,
    );
  }
  return [
    {
      type: 'BaselineCatalogueImported',
      data: { catalogueId: c.catalogueId, name, version, requirements, importedBy: c.actor.id, importedAt: c.at },
    },
  ];
}

export function decideCatalogue(command: CatalogueCommand, state: BaselineCatalogueState): CatalogueEvent[] {
  switch (command.type) {
    case 'ImportBaselineCatalogue':
      return decideImport(command, state);
    default: {
      const unknown: never = command.type;
      throw new Error(`Unknown baseline-catalogue command ${String(unknown)}`);
    }
  }
}

export function evolveCatalogue(state: BaselineCatalogueState, event: CatalogueEvent): BaselineCatalogueState {
  const streamVersion = state.streamVersion + 1;
  switch (event.type) {
    case 'BaselineCatalogueImported': {
      const d = event.data;
      return {
        exists: true,
        id: d.catalogueId,
        streamVersion,
        name: d.name,
        version: d.version,
        builtIn: false,
        requirements: d.requirements.map((r) => ({ ...r })),
        importedBy: d.importedBy,
        importedAt: d.importedAt,
      };
    }
    default:
      return { ...state, streamVersion };
  }
}

export const catalogueDecider: Decider<CatalogueCommand, CatalogueEvent, BaselineCatalogueState> = {
  // Snapshots of this state are kept under this version: bump it whenever the state's shape (or what evolve folds into it) changes.
  stateVersion: 'catalogue/1',
  decide: decideCatalogue,
  evolve: evolveCatalogue,
  initialState: initialCatalogueState,
};
