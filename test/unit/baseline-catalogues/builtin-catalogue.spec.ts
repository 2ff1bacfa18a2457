import { BUILTIN_CATALOGUE } from '../../../src/baseline-catalogues/domain/builtin-catalogue.js';

describe('Built-in JVCEA baseline catalogue (Chapters 5 and 6)', () => {
  const reqs = BUILTIN_CATALOGUE.requirements;

  it('is the built-in jvcea-ism@2018 catalogue', () => {
    expect(BUILTIN_CATALOGUE).toMatchObject({
      exists: true,
      builtIn: true,
      streamVersion: -1,
      id: 'jvcea-ism@2018',
      name: 'JVCEA Information Security Management (built-in)',
      version: '2018',
    });
  });

  it('has 25 to 40 requirements', () => {
    expect(reqs.length).toBeGreaterThanOrEqual(25);
    expect(reqs.length).toBeLessThanOrEqual(40);
  });

  it('gives every requirement a unique, stable-looking id', () => {
    const ids = reqs.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^JVCEA-[56]-\d{2}$/);
  });

  it('gives every requirement a title and a non-empty statement', () => {
    for (const r of reqs) {
      expect(r.title.trim()).not.toBe('');
      expect(r.statement.trim().length).toBeGreaterThan(10);
    }
  });

  it('cites an article of Chapter 5 (Art.21-26) or Chapter 6 (Art.27-34) that matches the id', () => {
    for (const r of reqs) {
      const m = /^Art\.(\d+)(\(\d+\))*/.exec(r.reference);
      expect(m).not.toBeNull();
      const article = Number(m![1]);
      if (r.id.startsWith('JVCEA-5-')) expect(article >= 21 && article <= 26).toBe(true);
      else expect(article >= 27 && article <= 34).toBe(true);
    }
  });

  it('covers the custody essentials: hot-wallet limit, withdrawal monitoring, key management, daily reconciliation', () => {
    const refs = reqs.map((r) => r.reference);
    expect(refs).toEqual(expect.arrayContaining(['Art.27(1)(1)', 'Art.27(2)', 'Art.28(3)(1)', 'Art.34(1)', 'Art.24(1)', 'Art.23(2)']));
  });

  it('cannot be altered at run time', () => {
    expect(Object.isFrozen(BUILTIN_CATALOGUE)).toBe(true);
    expect(Object.isFrozen(BUILTIN_CATALOGUE.requirements)).toBe(true);
  });
});
