/**
 * Text limits count characters as people do (code points), in the deciders' guards and at the
 * GraphQL edge alike: 200 emoji or rare kanji outside the BMP are a 200-character name.
 */
import { describe, expect, it } from '@jest/globals';
import { FieldErrors } from '../../../src/shared/domain/errors.js';
import { longerThan, NOTHING_VISIBLE, optionalText, requiredText, textList } from '../../../src/shared/domain/guards.js';
import { InputValidationPipe } from '../../../src/graphql/input-validation.pipe.js';
import { RegisterAssetInput } from '../../../src/asset-inventory/graphql/asset.types.js';

const emoji = '😀'; // two UTF-16 units, one character
const rareKanji = '𠮷'; // outside the BMP as well

describe('longerThan: characters, not UTF-16 units', () => {
  it('counts a surrogate pair as one character, and a lone surrogate as one', () => {
    expect(longerThan(emoji.repeat(200), 200)).toBe(false);
    expect(longerThan(emoji.repeat(201), 200)).toBe(true);
    expect(longerThan(rareKanji.repeat(100) + 'a'.repeat(100), 200)).toBe(false);
    expect(longerThan(rareKanji.repeat(100) + 'a'.repeat(101), 200)).toBe(true);
    expect(longerThan('\ud800'.repeat(200), 200)).toBe(false);
    expect(longerThan('\ud800'.repeat(201), 200)).toBe(true);
    expect(longerThan('a'.repeat(200), 200)).toBe(false);
    expect(longerThan('a'.repeat(201), 200)).toBe(true);
  });

  it('is what the deciders refuse by', () => {
    const errors = new FieldErrors();
    expect(requiredText(errors, 'name', emoji.repeat(200), 200)).toBe(emoji.repeat(200));
    expect(() => errors.throwIfAny()).not.toThrow();
    requiredText(errors, 'name', emoji.repeat(201), 200);
    expect(() => errors.throwIfAny()).toThrow();
  });
});

describe('every decider counts the same way', () => {
  it('an asset description, a threat, a context issue of 5,001 emoji are 5,001 characters', async () => {
    const { assetDecider } = await import('../../../src/asset-inventory/domain/asset.decider.js');
    const actor = { id: 'mgr', name: 'mgr', roles: ['ASSET_MANAGER'] as const, department: 'ops' };
    const events = assetDecider.decide(
      { type: 'RegisterAsset', actor: { ...actor, roles: [...actor.roles] }, at: '2026-12-01T00:00:00.000Z', assetId: 'a-1', name: 'Wallet', description: emoji.repeat(5_001), category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 1, integrity: 1, availability: 1 } as never,
      assetDecider.initialState,
    );
    expect(events.map((e) => e.type)).toContain('AssetRegistered');
  });
});

describe('the GraphQL edge (InputValidationPipe) counts the same way', () => {
  const input = (name: string) => ({ name, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 1, integrity: 1, availability: 1 });
  const judge = (value: object) => new InputValidationPipe().transform(value, { type: 'body', metatype: RegisterAssetInput }).then(() => 'ok', (e: { fields?: unknown }) => e.fields);
  it('takes a name of 200 emoji and refuses 201', async () => {
    expect(await judge(input(emoji.repeat(200)))).toBe('ok');
    expect(await judge(input(emoji.repeat(201)))).toEqual({ name: 'must be at most 200 characters' });
  });
});

describe('names and titles are printable', () => {
  const input = (name: string) => ({ name, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 1, integrity: 1, availability: 1 });
  const judge = (value: object) => new InputValidationPipe().transform(value, { type: 'body', metatype: RegisterAssetInput }).then(() => 'ok', (e: { fields?: unknown }) => e.fields);
  it('refuses control, line-separator and bidirectional-override characters in a name, and takes any script', async () => {
    for (const name of ['Wallet\u202Egnp.exe', 'a\u0000b', 'tab\there', 'two\nlines', 'line\u2028sep', 'iso\u2066late', 'Hot\u200Bwallet', 'Wallet\u2060', 'soft\u00ADhyphen', '\u3164', '\u2800\u2800', 'Signer 123\u2800', 'Hot signer X\uFFF9', 'Hot\uFFFBsigner', 'Hot signer X\u{13430}', 'Hot signer \u{1343F}X']) {
      // A control but tab, line feed and carriage return is no text either (the second message, after the first).
      expect([JSON.stringify(name), await judge(input(name))]).toEqual([JSON.stringify(name), { name: expect.stringMatching(/^must not contain control, line-separator, bidirectional-override or invisible characters(; must be well-formed Unicode text.*)?$/) }]);
    }
    // Whitespace around a name is trimmed away, tabs and line feeds included.
    for (const name of ['ホットウォレット署名サーバー', 'Кошелёк', 'محفظة', '𠮷野家 DB', 'Wallet-1 (prod)', '\tWallet-1\n', '葛\u{E0100}飾区', '👩\u200D💻 desk', 'می\u200Cخواهم']) expect(await judge(input(name))).toBe('ok');
  });
});

describe('text is well-formed: a lone surrogate, a control character or a noncharacter is refused, in the deciders and at the edge', () => {
  // The controls and noncharacters: XML cannot carry them, and U+FFFE in one control's description made the register workbook unreadable (probe p10).
  const lone = ['abc\ud800def', 'abc\udfffdef', 'ends \ud83d', '\ude00 starts', '\udc00\ud800', 'see \uFFFE here', 'x\uFFFF', 'bell\u0007 here', 'nul\u0000', 'v\u000Bt', 'c1\u0085 x', 'del\u007F', '\uFDD0 x', 'plane \u{1FFFE}', 'last \u{10FFFF}'];
  const fieldsOf = (check: (errors: FieldErrors) => void): Record<string, string> => {
    const errors = new FieldErrors();
    check(errors);
    try {
      errors.throwIfAny();
      return {};
    } catch (error) {
      return (error as { fields: Record<string, string> }).fields;
    }
  };

  it('requiredText, optionalText and textList name the field', () => {
    for (const text of lone) {
      expect(fieldsOf((e) => requiredText(e, 'name', text, 200))).toEqual({ name: expect.stringMatching(/well-formed/) });
      expect(fieldsOf((e) => optionalText(e, 'description', text, 10_000))).toEqual({ description: expect.stringMatching(/well-formed/) });
      expect(fieldsOf((e) => textList(e, 'externalReferences', ['fine', text], 500))).toEqual({ 'externalReferences[1]': expect.stringMatching(/well-formed/) });
    }
    for (const text of [emoji, rareKanji, 'plain', '👩\u200D💻', 'tab\tand\r\nlines', 'private \uE000 use', 'replacement \uFFFD']) {
      expect(fieldsOf((e) => requiredText(e, 'name', text, 200))).toEqual({});
      expect(fieldsOf((e) => optionalText(e, 'description', text, 10_000))).toEqual({});
    }
  });

  it('the input limits (names, ids, other text) refuse it, naming the field', async () => {
    const input = { name: 'Wallet', category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 1, integrity: 1, availability: 1 };
    const judge = (value: object) => new InputValidationPipe().transform(value, { type: 'body', metatype: RegisterAssetInput }).then(() => 'ok', (e: { fields?: unknown }) => e.fields);
    for (const text of lone) {
      expect(await judge({ ...input, name: text })).toEqual({ name: expect.stringMatching(/well-formed/) });
      expect(await judge({ ...input, managerId: text })).toEqual({ managerId: expect.stringMatching(/well-formed/) });
      expect(await judge({ ...input, description: text })).toEqual({ description: expect.stringMatching(/well-formed/) });
    }
    expect(await judge({ ...input, name: `Wallet ${emoji}`, description: rareKanji })).toBe('ok');
  });
});

describe('a text holds something visible', () => {
  it('refuses a reason, counterparty or list item of only invisible characters, and keeps texts with joiners inside', () => {
    const errors = new FieldErrors();
    requiredText(errors, 'reason', '\u200B', 100);
    // The blank Braille pattern: a symbol by its category, nothing on the page (hostile-input probe).
    requiredText(errors, 'statement', '\u2800', 100);
    optionalText(errors, 'text', ' \u2800 \u3000', 100);
    optionalText(errors, 'contractReference', '\u2060\u00AD', 100);
    textList(errors, 'references', ['ok', '\u3164'], 100);
    // Combining marks with no letter to sit on (auditor probe of 2026-12-06, F6).
    requiredText(errors, 'summary', '\u0301\u0301', 100);
    expect(() => errors.throwIfAny()).toThrow();
    try {
      errors.throwIfAny();
    } catch (error) {
      expect((error as { fields: Record<string, string> }).fields).toEqual({
        reason: NOTHING_VISIBLE,
        statement: NOTHING_VISIBLE,
        text: NOTHING_VISIBLE,
        contractReference: NOTHING_VISIBLE,
        'references[1]': NOTHING_VISIBLE,
        summary: NOTHING_VISIBLE,
      });
    }
    const fine = new FieldErrors();
    expect(requiredText(fine, 'reason', '👩\u200D💻 暗号資産\u200B管理', 100)).toBe('👩\u200D💻 暗号資産\u200B管理');
    expect(optionalText(fine, 'note', '  ', 100)).toBeNull();
    // Braille that has dots stays text.
    expect(requiredText(fine, 'reason', '⠁⠃⠉\u2800⠙', 100)).toBe('⠁⠃⠉\u2800⠙');
    // Letters with their marks are letters: e with an acute accent written as two code points, Devanagari ki, Japanese ga as ka and a voiced mark.
    for (const text of ['e\u0301', 'कि', 'か\u3099']) expect(requiredText(fine, 'reason', text, 100)).toBe(text);
    expect(() => fine.throwIfAny()).not.toThrow();
  });
});
