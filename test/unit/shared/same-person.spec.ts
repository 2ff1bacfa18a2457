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

  it('holds for ids whose letters only look alike (UTS #39 skeleton; probes p9, p10)', () => {
    // Cyrillic с, а, о; Greek ο and Ο; a digit one for an ell; rn for m.
    for (const other of ['\u0441arol', 'c\u0430rol', 'car\u043El', 'car\u03BFl', 'caro1', 'CAR\u039FL']) expect(samePerson('carol', other)).toBe(true);
    expect(samePerson('mary', 'rnary')).toBe(true);
    // A digit zero for a capital O, a capital I for an ell, in any case (probe p11: B0B approved BOB's criteria).
    for (const [a, b] of [['BOB', 'B0B'], ['bob', 'B0B'], ['IDA', 'lDA'], ['ida', 'IDA'], ['ida', 'lda'], ['user-01', 'user-O1'], ['OWEN', '0WEN'], ['OLGA', '0lga']]) expect([a, b, samePerson(a, b)]).toEqual([a, b, true]);
    // Precomposed and decomposed accents are one spelling; an accent is not nothing.
    expect(samePerson('jos\u00E9', 'jose\u0301')).toBe(true);
    expect(samePerson('jos\u00E9', 'jose')).toBe(false);
    // Small capitals are not look-alikes of lower case for UTS #39 (they read as capitals, smaller).
    expect(samePerson('carol', '\u1D04\u1D00\u0280\u1D0F\u029F')).toBe(false);
  });

  it('does not hold for different people, nor for a missing id', () => {
    expect(samePerson('zed', 'zed2')).toBe(false);
    expect(samePerson('carol', 'carl')).toBe(false);
    expect(samePerson('carol', 'karol')).toBe(false);
    expect(samePerson('zed', undefined)).toBe(false);
    expect(samePerson(null, null)).toBe(false);
  });

  it('folds to one key, which names both spellings', () => {
    expect(personKey('ＣａｒｏＬ')).toBe('carol');
    expect(nameAsPerson('zed', 'zed')).toBe('zed');
    expect(nameAsPerson('zed', 'ZED')).toBe('zed (the same person as ZED: user ids are compared ignoring case, width and letters of other scripts that look the same)');
  });
});
