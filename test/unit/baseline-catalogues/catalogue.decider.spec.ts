import type { DomainActor } from '../../../src/shared/domain/decider.js';
import { BadInputError, ForbiddenError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import {
  allCatalogues,
  catalogueDecider,
  catalogueIdFor,
  catalogueStreamId,
  findCatalogue,
  slug,
  type ImportBaselineCatalogue,
} from '../../../src/baseline-catalogues/domain/catalogue.decider.js';
import {
  catalogueEventSchemaVersions,
  upcastCatalogueEvent,
  type BaselineCatalogueImported,
} from '../../../src/baseline-catalogues/domain/catalogue.events.js';
import { BUILTIN_CATALOGUE } from '../../../src/baseline-catalogues/domain/builtin-catalogue.js';
import type { BaselineRequirement } from '../../../src/baseline-catalogues/domain/catalogue.state.js';
import { given } from '../support/given-when-then.js';

const T0 = '2024-04-01T09:00:00.000Z';
const T1 = '2024-04-02T09:00:00.000Z';

const member: DomainActor = { id: 'u-com', name: 'Kenji Committee', roles: ['COMMITTEE_MEMBER'] };
const ciso: DomainActor = { id: 'u-ciso', name: 'Chika CISO', roles: ['CISO'] };
const assetManager: DomainActor = { id: 'u-mgr', name: 'Mina', roles: ['ASSET_MANAGER'], department: 'Custody' };
const auditor: DomainActor = { id: 'u-aud', name: 'Aiko', roles: ['AUDITOR'] };
const owner: DomainActor = { id: 'u-own', name: 'Ren', roles: ['RISK_OWNER'] };
const admin: DomainActor = { id: 'u-adm', name: 'Admin', roles: ['ADMIN'] };

const requirements = (): BaselineRequirement[] => [
  { id: 'AC-01', title: 'Least privilege', statement: 'Access is granted on need to know.', reference: 'A.5.15' },
  { id: 'LG-01', title: 'Logging', statement: 'Access to customer data is logged.', reference: '' },
];

const importCmd = (over: Partial<ImportBaselineCatalogue> = {}): ImportBaselineCatalogue => ({
  type: 'ImportBaselineCatalogue',
  catalogueId: 'acme-controls@1.0',
  name: 'ACME Controls',
  version: '1.0',
  requirements: requirements(),
  actor: member,
  at: T0,
  ...over,
});

const imported: BaselineCatalogueImported = {
  type: 'BaselineCatalogueImported',
  data: {
    catalogueId: 'acme-controls@1.0',
    name: 'ACME Controls',
    version: '1.0',
    requirements: requirements(),
    importedBy: 'u-com',
    importedAt: T0,
  },
};

describe('catalogueIdFor / slug', () => {
  it('builds ${slug(name)}@${version}', () => {
    expect(catalogueIdFor('ACME Controls', '1.0')).toBe('acme-controls@1.0');
    expect(catalogueIdFor('  ISO/IEC 27002:2022 -- Annex  ', 'v2')).toBe('iso-iec-27002-2022-annex@v2');
  });

  it('keeps only [a-z0-9-], folding accents and full-width letters', () => {
    expect(slug('Sécurité Ｂａｓｅ')).toBe('securite-base');
    expect(slug('NIST_CSF 2.0')).toMatch(/^[a-z0-9-]+$/);
  });

  it('gives a deterministic hashed slug to names without ASCII letters or digits', () => {
    const s = slug('情報セキュリティ基準');
    expect(s).toMatch(/^catalogue-[0-9a-f]{8}$/);
    expect(slug('情報セキュリティ基準')).toBe(s);
    expect(slug('別の基準')).not.toBe(s);
  });
});

describe('BaselineCatalogue: ImportBaselineCatalogue', () => {
  it('imports a catalogue version', () => {
    const { state } = given(catalogueDecider, []).when(importCmd()).then([imported]);
    expect(state).toMatchObject({ exists: true, id: 'acme-controls@1.0', streamVersion: 0, builtIn: false, name: 'ACME Controls', version: '1.0' });
    expect(state.requirements).toHaveLength(2);
  });

  it('lets the CISO import', () => {
    given(catalogueDecider, []).when(importCmd({ actor: ciso })).thenMatches([{ type: 'BaselineCatalogueImported', data: { importedBy: 'u-ciso' } }]);
  });

  it.each([
    ['ASSET_MANAGER', assetManager],
    ['RISK_OWNER', owner],
    ['AUDITOR', auditor],
    ['ADMIN', admin],
  ])('forbids a %s', (_role, actor) => {
    given(catalogueDecider, []).when(importCmd({ actor })).thenThrows(ForbiddenError);
  });

  it('is idempotent: re-importing identical content yields nothing', () => {
    given(catalogueDecider, [imported]).when(importCmd({ at: T1, actor: ciso })).thenNothing();
  });

  it('rejects changed content under the same id (CATALOGUE_VERSION_IMMUTABLE)', () => {
    const changed = requirements();
    changed[1].statement = 'Something else';
    given(catalogueDecider, [imported])
      .when(importCmd({ requirements: changed }))
      .thenThrows(RuleViolationError, { rule: 'CATALOGUE_VERSION_IMMUTABLE', article: 'Art.15(2)' });
  });

  it('rejects the id of the built-in catalogue', () => {
    given(catalogueDecider, [])
      .when(importCmd({ catalogueId: 'jvcea-ism@2018', name: 'JVCEA ISM', version: '2018' }))
      .thenThrows(RuleViolationError, { rule: 'CATALOGUE_ID_RESERVED' });
  });

  it('requires a name', () => {
    given(catalogueDecider, []).when(importCmd({ name: '  ' })).thenRejectsFields('name');
  });

  it.each(['', 'v 1', 'x'.repeat(41), '1.0/beta', 'é'])('rejects version %p', (version) => {
    given(catalogueDecider, []).when(importCmd({ version, catalogueId: `acme-controls@${version}` })).thenRejectsFields('version');
  });

  it('accepts a version of 40 characters of [A-Za-z0-9._-]', () => {
    const version = 'A.b_c-9'.repeat(5) + 'abcde';
    expect(version).toHaveLength(40);
    given(catalogueDecider, []).when(importCmd({ version, catalogueId: `acme-controls@${version}` })).thenMatches([{ type: 'BaselineCatalogueImported' }]);
  });

  it('needs at least one requirement', () => {
    given(catalogueDecider, []).when(importCmd({ requirements: [] })).thenRejectsFields('requirements');
  });

  it("accepts at most 500 requirements (the contract's list limit)", () => {
    const many = (n: number): BaselineRequirement[] =>
      Array.from({ length: n }, (_, i) => ({ id: `R-${i}`, title: `T${i}`, statement: `S${i}`, reference: '' }));
    given(catalogueDecider, []).when(importCmd({ requirements: many(500) })).thenMatches([{ type: 'BaselineCatalogueImported' }]);
    given(catalogueDecider, []).when(importCmd({ requirements: many(501) })).thenRejectsFields('requirements');
  });

  it('needs unique requirement ids', () => {
    const reqs = requirements();
    reqs[1].id = 'ac-01';
    const err = given(catalogueDecider, []).when(importCmd({ requirements: reqs })).thenThrows(BadInputError);
    expect(err.fields).toEqual({ 'requirements[1].id': expect.stringContaining('duplicates') });
  });

  it('needs a non-empty requirement id of at most 100 characters', () => {
    const reqs = requirements();
    reqs[0].id = ' ';
    reqs[1].id = 'x'.repeat(101);
    given(catalogueDecider, []).when(importCmd({ requirements: reqs })).thenRejectsFields('requirements[0].id', 'requirements[1].id');
  });

  it('needs a title and a statement', () => {
    const reqs = requirements();
    reqs[0].title = '';
    reqs[1].statement = '';
    given(catalogueDecider, []).when(importCmd({ requirements: reqs })).thenRejectsFields('requirements[0].title', 'requirements[1].statement');
  });

  it('allows an empty reference', () => {
    const reqs = requirements().map((r) => ({ ...r, reference: '' }));
    given(catalogueDecider, []).when(importCmd({ requirements: reqs })).thenMatches([{ type: 'BaselineCatalogueImported' }]);
  });

  it('needs the catalogueId derived from name and version', () => {
    given(catalogueDecider, []).when(importCmd({ catalogueId: 'something-else@1.0' })).thenRejectsFields('catalogueId');
  });

  it('reports every field problem at once', () => {
    const reqs = requirements();
    reqs[0].title = '';
    const err = given(catalogueDecider, []).when(importCmd({ name: '', version: '', requirements: reqs })).thenThrows(BadInputError);
    expect(Object.keys(err.fields).sort()).toEqual(['name', 'requirements[0].title', 'version']);
  });
});

describe('BaselineCatalogue: lookup, schema and stream', () => {
  it('findCatalogue knows the built-in catalogue and the imported ones', () => {
    const state = given(catalogueDecider, [imported]).state;
    expect(findCatalogue('jvcea-ism@2018', [])).toBe(BUILTIN_CATALOGUE);
    expect(findCatalogue('acme-controls@1.0', [state])).toBe(state);
    expect(findCatalogue('missing@1', [state])).toBeUndefined();
    expect(allCatalogues([state]).map((c) => c.id)).toEqual(['jvcea-ism@2018', 'acme-controls@1.0']);
  });

  it('increments streamVersion per event', () => {
    expect(catalogueDecider.initialState.streamVersion).toBe(-1);
    expect(given(catalogueDecider, [imported]).state.streamVersion).toBe(0);
  });

  it('has schema version 1 and an identity upcaster', () => {
    expect(catalogueEventSchemaVersions).toEqual({ BaselineCatalogueImported: 1 });
    expect(upcastCatalogueEvent('BaselineCatalogueImported', 1, imported.data)).toEqual(imported);
    expect(() => upcastCatalogueEvent('BaselineCatalogueImported', 0, imported.data)).toThrow();
  });

  it('names the stream baseline-catalogue-<id>', () => {
    expect(catalogueStreamId('acme-controls@1.0')).toBe('baseline-catalogue-acme-controls@1.0');
  });
});
