import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestApp, errorOf, users } from './support/test-app.js';

const CATALOGUE_FIELDS = `id name version builtIn requirementCount requirements { id title statement reference } importedBy importedAt`;
const IMPORT = `mutation($input: ImportBaselineCatalogueInput!) { importBaselineCatalogue(input: $input) { ${CATALOGUE_FIELDS} } }`;
const CATALOGUES = `{ baselineCatalogues { id name version builtIn requirementCount importedBy } }`;
const CATALOGUE = `query($id: ID!) { baselineCatalogue(id: $id) { ${CATALOGUE_FIELDS} } }`;
const IMPORTED_EVENTS = `{ events(first: 500, types: ["BaselineCatalogueImported"]) { edges { node { streamId data } } } }`;

const iso = () => ({
  name: 'ISO/IEC 27001 Annex A',
  version: '2022',
  requirements: [
    { id: 'A.5.15', title: 'Access control', statement: 'Rules to control access to information are established.', reference: 'ISO/IEC 27001:2022 A.5.15' },
    { id: 'A.8.24', title: 'Use of cryptography', statement: 'Rules for the effective use of cryptography are defined.', reference: 'ISO/IEC 27001:2022 A.8.24' },
  ],
});

const fisc = () => ({
  name: 'FISC Security Guidelines',
  version: '9.1',
  requirements: [{ id: 'F-1', title: 'Backup', statement: 'Data is backed up.', reference: '' }],
});

describe('baseline catalogues over GraphQL (Art. 15(2))', () => {
  let t: TestApp;
  const countImports = async () => (await t.ok(IMPORTED_EVENTS, {}, users.auditor)).events.edges.length as number;

  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists the built-in JVCEA catalogue before anything is imported', async () => {
    const { baselineCatalogues } = await t.ok(CATALOGUES, {}, users.riskOwner);
    expect(baselineCatalogues).toEqual([
      { id: 'jvcea-ism@2018', name: 'JVCEA Information Security Management (built-in)', version: '2018', builtIn: true, requirementCount: 40, importedBy: null },
    ]);
    const { baselineCatalogue: builtIn } = await t.ok(CATALOGUE, { id: 'jvcea-ism@2018' }, users.auditor);
    expect(builtIn.requirements).toHaveLength(40);
    expect(builtIn.requirements[0]).toMatchObject({ id: 'JVCEA-5-01', reference: 'Art.21(1)' });
    expect(builtIn.importedAt).toBeNull();
  });

  it('imports catalogues for a committee member and the CISO; lists the built-in one first, then the imported ones in import order', async () => {
    const { importBaselineCatalogue: a } = await t.ok(IMPORT, { input: iso() }, users.committee);
    expect(a).toMatchObject({ id: 'iso-iec-27001-annex-a@2022', name: 'ISO/IEC 27001 Annex A', version: '2022', builtIn: false, requirementCount: 2, importedBy: 'committee-1' });
    expect(a.requirements).toEqual(iso().requirements);
    expect(new Date(a.importedAt).toISOString()).toBe(a.importedAt);

    const { importBaselineCatalogue: b } = await t.ok(IMPORT, { input: { ...fisc(), requirements: [{ id: ' F-1 ', title: ' Backup ', statement: 'Data is backed up.' }] } }, users.ciso);
    expect(b).toMatchObject({ id: 'fisc-security-guidelines@9.1', builtIn: false, requirementCount: 1, importedBy: 'ciso' });
    expect(b.requirements).toEqual([{ id: 'F-1', title: 'Backup', statement: 'Data is backed up.', reference: '' }]);

    const { baselineCatalogues } = await t.ok(CATALOGUES, {}, users.opsManager);
    expect(baselineCatalogues.map((c: any) => c.id)).toEqual(['jvcea-ism@2018', 'iso-iec-27001-annex-a@2022', 'fisc-security-guidelines@9.1']);
    expect((await t.ok(CATALOGUE, { id: a.id }, users.auditor)).baselineCatalogue).toEqual(a);
    expect((await t.ok(CATALOGUE, { id: 'nothing@1' }, users.auditor)).baselineCatalogue).toBeNull();

    // history(id) gives the catalogue's stream.
    const { history } = await t.ok(`query($id: ID!) { history(id: $id) { type streamId revision data metadata { actor { id roles } } } }`, { id: a.id }, users.auditor);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      type: 'BaselineCatalogueImported',
      streamId: `baseline-catalogue-${a.id}`,
      revision: 0,
      data: { catalogueId: a.id, importedBy: 'committee-1' },
      metadata: { actor: { id: 'committee-1', roles: ['COMMITTEE_MEMBER'] } },
    });
  });

  it('refuses every other role with FORBIDDEN', async () => {
    const before = await countImports();
    for (const user of [users.riskOwner, users.opsManager, users.auditor, users.secretary, users.admin]) {
      expect(errorOf(await t.gql(IMPORT, { input: { ...iso(), version: 'forbidden' } }, user)).extensions.code).toBe('FORBIDDEN');
    }
    expect(errorOf(await t.gql(IMPORT, { input: iso() })).extensions.code).toBe('UNAUTHENTICATED');
    expect(await countImports()).toBe(before);
  });

  it('refuses malformed catalogues with BAD_USER_INPUT naming the fields', async () => {
    const before = await countImports();
    const dup = errorOf(await t.gql(IMPORT, { input: { ...iso(), version: '2023', requirements: [...iso().requirements, { ...iso().requirements[0], id: 'a.5.15' }] } }, users.committee));
    expect(dup.extensions.code).toBe('BAD_USER_INPUT');
    expect(Object.keys(dup.extensions.fields)).toEqual(['requirements[2].id']);
    const empty = errorOf(await t.gql(IMPORT, { input: { name: ' ', version: 'v 1', requirements: [] } }, users.committee));
    expect(empty.extensions.code).toBe('BAD_USER_INPUT');
    expect(Object.keys(empty.extensions.fields).sort()).toEqual(['name', 'requirements', 'version']);
    const blank = errorOf(await t.gql(IMPORT, { input: { ...iso(), version: '2024', requirements: [{ id: 'X', title: '', statement: ' ' }] } }, users.committee));
    expect(Object.keys(blank.extensions.fields).sort()).toEqual(['requirements[0].statement', 'requirements[0].title']);
    expect(errorOf(await t.gql(IMPORT, { input: { name: 'x', version: '1' } }, users.committee)).extensions.code).toBe('BAD_USER_INPUT');
    expect(await countImports()).toBe(before);
  });

  it('treats an imported version as immutable: the same content again is a no-op, different content a RULE_VIOLATION', async () => {
    const before = await countImports();
    const again = (await t.ok(IMPORT, { input: iso() }, users.ciso)).importBaselineCatalogue;
    expect(again).toMatchObject({ id: 'iso-iec-27001-annex-a@2022', importedBy: 'committee-1' });
    expect(await countImports()).toBe(before);

    const changed = errorOf(await t.gql(IMPORT, { input: { ...iso(), requirements: iso().requirements.slice(0, 1) } }, users.ciso));
    expect(changed.extensions).toEqual({ code: 'RULE_VIOLATION', rule: 'CATALOGUE_VERSION_IMMUTABLE', article: 'Art.15(2)' });
    // The same id from a differently spelt name is the same catalogue version.
    const respelt = errorOf(await t.gql(IMPORT, { input: { ...iso(), name: 'iso iec 27001 annex a', requirements: iso().requirements.slice(1) } }, users.ciso));
    expect(respelt.extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'CATALOGUE_VERSION_IMMUTABLE' });
    // The built-in catalogue's id is reserved.
    const reserved = errorOf(await t.gql(IMPORT, { input: { ...fisc(), name: 'JVCEA ISM', version: '2018' } }, users.ciso));
    expect(reserved.extensions).toEqual({ code: 'RULE_VIOLATION', rule: 'CATALOGUE_ID_RESERVED', article: 'Art.15(2)' });
    expect(await countImports()).toBe(before);
    expect((await t.ok(CATALOGUE, { id: 'iso-iec-27001-annex-a@2022' }, users.auditor)).baselineCatalogue.requirementCount).toBe(2);
  });

  it('answers a retry with the same commandId with the first result and appends nothing', async () => {
    const input = { ...fisc(), version: '10.0', commandId: 'import-fisc-10' };
    const first = (await t.ok(IMPORT, { input }, users.committee)).importBaselineCatalogue;
    const before = await countImports();
    const second = (await t.ok(IMPORT, { input }, users.committee)).importBaselineCatalogue;
    expect(second).toEqual(first);
    expect(await countImports()).toBe(before);
    const { baselineCatalogues } = await t.ok(CATALOGUES, {}, users.auditor);
    expect(baselineCatalogues.map((c: any) => c.id)).toEqual(['jvcea-ism@2018', 'iso-iec-27001-annex-a@2022', 'fisc-security-guidelines@9.1', 'fisc-security-guidelines@10.0']);
  });
});

describe('a large catalogue import', () => {
  it('accepts 500 requirements in one request (beyond Express default body limit), and refuses 501 naming the list', async () => {
    const { TestApp: App, users: u, errorOf: failure } = await import('./support/test-app.js');
    const app = await App.start({ store: 'memory' });
    try {
      const statement = (i: number) => `The organisation shall do thing number ${i} and keep evidence of it. `.repeat(5);
      const requirements = Array.from({ length: 501 }, (_, i) => ({ id: `ISO-${i}`, title: `Control ${i}`, statement: statement(i), reference: `A.${i}` }));
      const IMPORT = `mutation($input: ImportBaselineCatalogueInput!) { importBaselineCatalogue(input: $input) { id requirementCount } }`;
      expect(JSON.stringify(requirements.slice(0, 500)).length).toBeGreaterThan(100 * 1024);
      const { importBaselineCatalogue } = await app.ok(IMPORT, { input: { name: 'ISO 27001', version: '2022', requirements: requirements.slice(0, 500) } }, u.ciso);
      expect(importBaselineCatalogue.requirementCount).toBe(500);
      const refused = failure(await app.gql(IMPORT, { input: { name: 'ISO 27001', version: '2023', requirements } }, u.ciso));
      expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: { requirements: 'must have at most 500 items' } });
    } finally {
      await app.close();
    }
  });
});
