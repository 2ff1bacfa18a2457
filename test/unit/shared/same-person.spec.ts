/**
 * samePerson (src/shared/domain/guards.ts): the one comparison of user ids in every
 * separation-of-duties check (Art.23(3)).
 */
import { describe, expect, it } from '@jest/globals';
import { nameAsPerson, personKey, samePerson } from '../../../src/shared/domain/guards.js';

describe('samePerson', () => {
  it('holds for ids that differ only in case or width', () => {
    for (const other of ['zed', 'Zed', 'ZED', 'ｚｅｄ', 'ＺＥＤ']) expect(samePerson('zed', other)).toBe(true);
    expect(samePerson('carol', 'Carol')).toBe(true);
    // full case folding: ß and SS are one spelling; the Kelvin sign is a K
    expect(samePerson('straße', 'STRASSE')).toBe(true);
    expect(samePerson('\u212Aen', 'ken')).toBe(true);
  });

  it('does not hold for different people, nor for a missing id', () => {
    expect(samePerson('zed', 'zed2')).toBe(false);
    expect(samePerson('carol', 'caro1')).toBe(false);
    expect(samePerson('zed', undefined)).toBe(false);
    expect(samePerson(null, null)).toBe(false);
  });

  it('folds to one key, which names both spellings', () => {
    expect(personKey('ＣａｒｏＬ')).toBe('carol');
    expect(nameAsPerson('zed', 'zed')).toBe('zed');
    expect(nameAsPerson('zed', 'ZED')).toBe('zed (the same person as ZED: user ids are compared ignoring case and width)');
  });
});
