import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { assetNameDecider, assetNameStreamId, sameDepartment } from '../../../src/asset-inventory/domain/asset-name.decider.js';
import { nameKey } from '../../../src/shared/domain/name-key.js';
import type { AssetNameEvent } from '../../../src/asset-inventory/domain/asset-name.events.js';
import { RuleViolationError } from '../../../src/shared/domain/errors.js';
import { given } from '../support/given-when-then.js';

const T0 = '2026-04-01T00:00:00.000Z';
const reserve = (assetId: string, name = 'データ基盤') => ({ type: 'ReserveAssetName' as const, assetId, department: 'ops', name, at: T0 });
const reserved: AssetNameEvent = { type: 'AssetNameReserved', data: { assetId: 'a1', department: 'ops', name: 'データ基盤', key: 'データ基盤', reservedAt: T0 } };
const released: AssetNameEvent = { type: 'AssetNameReleased', data: { assetId: 'a1', reason: 'ASSET_RETIRED', releasedAt: T0 } };

describe('asset name reservation (one stream per department and normalised name)', () => {
  it('names that look alike share one key and so one stream (NFKC, trim, whitespace, case)', () => {
    expect(nameKey('ﾃﾞｰﾀ')).toBe(nameKey('データ'));
    expect(nameKey('ヘ\u3099ース')).toBe(nameKey('ベース'));
    expect(nameKey('  Ｈｏｔ   Wallet ')).toBe(nameKey('hot wallet'));
    expect(assetNameStreamId(' ops ', 'ﾃﾞｰﾀ')).toBe(assetNameStreamId('ops', 'データ'));
    expect(assetNameStreamId('finance', 'データ')).not.toBe(assetNameStreamId('ops', 'データ'));
  });

  it('names the same streams as every log written before: the id is stored, so its digest never changes', () => {
    expect(assetNameStreamId('ops', 'Hot wallet')).toBe('reservation-asset-name-e41ca1a893cea2c0ef5e7da9fc4a954b380a1ffc');
    expect(assetNameStreamId('経理部', '顧客資産 管理システム')).toBe('reservation-asset-name-53fbc825a63b5f97084db0963a5f7a99e96b2a4a');
  });

  it('code points invisible by default do not make a name new (zero-width, joiners, variation selectors)', () => {
    expect(nameKey('Hot\u200Bwallet')).toBe(nameKey('Hotwallet'));
    expect(nameKey('\u2060Wallet\u200D')).toBe(nameKey('wallet'));
    expect(nameKey('葛\u{E0100}飾')).toBe(nameKey('葛飾'));
    expect(nameKey('Wallet\uFE0F')).toBe(nameKey('Wallet'));
    expect(assetNameStreamId('ops', 'Cold\u00ADwallet')).toBe(assetNameStreamId('ops', 'coldwallet'));
    // Visible differences still count.
    expect(nameKey('Wallet-1')).not.toBe(nameKey('Wallet1'));
  });

  it('the key of a plain ASCII name (its shortcut) is the full normalisation of it', () => {
    const full = (name: string) => name.normalize('NFKC').replace(/\p{Default_Ignorable_Code_Point}/gu, '').trim().replace(/\s+/gu, ' ').toLowerCase();
    const char = fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', '\u3000', 'A', 'z', '0', '~', '!', 'Ａ', 'ﾃﾞ', '\u0301', 'É', 'ß', '\u007f', '\u0000', '\u200B', '\u200D');
    fc.assert(fc.property(fc.array(char, { maxLength: 12 }).map((cs) => cs.join('')), (name) => nameKey(name) === full(name)), { numRuns: 2000 });
    for (const name of ['Hot wallet signer 12', 'a', 'A B', ' a', 'a ', 'a  b', '', 'Ab~!', 'x\ty']) expect(nameKey(name)).toBe(full(name));
  });

  it('one department however it is spelt: the reservation key, access and the list all use sameDepartment (probe p14 F3)', () => {
    for (const spelling of ['OPS', 'Ops', ' ops ', 'ｏｐｓ', 'ＯＰＳ']) {
      expect(sameDepartment(spelling, 'ops')).toBe(true);
      expect(assetNameStreamId(spelling, 'データ')).toBe(assetNameStreamId('ops', 'データ'));
    }
    expect(sameDepartment('ops', 'finance')).toBe(false);
    expect(sameDepartment('op s', 'ops')).toBe(false);
    // No department (a token without the claim, a blank or invisible one) is nobody's department.
    for (const none of [undefined, '', '  ', '\u200D']) {
      expect(sameDepartment(none, none)).toBe(false);
      expect(sameDepartment(none, 'ops')).toBe(false);
    }
  });

  it('a free name is reserved for the asset', () => {
    given(assetNameDecider, []).when(reserve('a1')).then([reserved]);
  });

  it('a name held by another asset is refused (ASSET_NAME_TAKEN, Art.14(2))', () => {
    given(assetNameDecider, [reserved]).when(reserve('a2')).thenThrows(RuleViolationError, { rule: 'ASSET_NAME_TAKEN', article: 'Art.14(2)' });
  });

  it('reserving again for the same asset is already satisfied', () => {
    given(assetNameDecider, [reserved]).when(reserve('a1')).thenNothing();
  });

  it('the holder releases it; then another asset may take it', () => {
    given(assetNameDecider, [reserved]).when({ type: 'ReleaseAssetName', assetId: 'a1', reason: 'ASSET_RETIRED', at: T0 }).then([released]);
    given(assetNameDecider, [reserved, released]).when(reserve('a2')).thenMatches([{ type: 'AssetNameReserved', data: { assetId: 'a2' } }]);
  });

  it('a release by an asset that does not hold the name changes nothing', () => {
    given(assetNameDecider, [reserved]).when({ type: 'ReleaseAssetName', assetId: 'a2', reason: 'ASSET_RETIRED', at: T0 }).thenNothing();
    given(assetNameDecider, []).when({ type: 'ReleaseAssetName', assetId: 'a1', reason: 'ASSET_RETIRED', at: T0 }).thenNothing();
  });

  describe('the name of an asset an earlier build registered without a reservation (upgrade)', () => {
    const earlier = (assetId: string, assetActive: boolean) => ({ type: 'ReserveNameOfEarlierAsset' as const, assetId, department: 'ops', name: 'データ基盤', assetActive, at: T0 });

    it('an active asset takes its free name, recorded as any reservation', () => {
      given(assetNameDecider, []).when(earlier('a1', true)).then([reserved]);
    });

    it('a retired asset takes nothing: its name is free for a new asset', () => {
      given(assetNameDecider, []).when(earlier('a1', false)).thenNothing();
    });

    it('a name another asset holds stays with it (ASSET_NAME_TAKEN): the first registered keeps it', () => {
      given(assetNameDecider, [reserved]).when(earlier('a2', true)).thenThrows(RuleViolationError, { rule: 'ASSET_NAME_TAKEN', article: 'Art.14(2)' });
      given(assetNameDecider, [reserved]).when(earlier('a2', false)).thenNothing();
    });

    it('a name it holds already is satisfied (a second run appends nothing)', () => {
      given(assetNameDecider, [reserved]).when(earlier('a1', true)).thenNothing();
    });
  });
});
