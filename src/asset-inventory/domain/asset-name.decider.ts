/**
 * Uniqueness of asset names per department (Art. 14(2): one inventory entry per asset) by
 * reservation: one stream per (department, normalised name). Registering an asset appends
 * AssetNameReserved here in the same atomic append as AssetRegistered, each stream at the version
 * read, so two racing registrations of one name cannot both succeed; retiring the asset releases
 * the name. No read model is consulted: the reservation stream is the only place this is decided.
 */
import { hash } from 'node:crypto';
import type { Decider } from '../../shared/domain/decider.js';
import { defineRules, streamCategory, violation } from '../../shared/domain/guards.js';
import type { AssetNameEvent } from './asset-name.events.js';

export const AssetNameRules = defineRules({ ASSET_NAME_TAKEN: 'Art.14(2)' });

/**
 * The form two names are compared in: Unicode NFKC (half-width ｶﾅ = カナ, full-width Ａ = A,
 * a decomposed ヘ + U+3099 = ベ), without the code points that are invisible by default (a
 * zero-width space or joiner, a variation selector: 葛 + U+E0100 = 葛), trimmed, inner
 * whitespace runs as one space, case folded. Keys of names holding such code points changed
 * on 2026-12-01: a name reserved before under the older key keeps that reservation.
 */
export function nameKey(name: string): string {
  if (isPlainAscii(name)) return name.toLowerCase();
  return name.normalize('NFKC').replace(/\p{Default_Ignorable_Code_Point}/gu, '').trim().replace(/\s+/gu, ' ').toLowerCase();
}

/**
 * The form two departments are compared in, and the one home of "the same department": the name
 * reservation key, an ASSET_MANAGER's own department (assets and risks) and the assets(department:)
 * list all fold with it. A department is the name of one, so it folds as names do: `OPS`, `Ops`
 * and `ｏｐｓ` are `ops`. The stored department keeps the spelling it was given (probe p14 F3).
 */
export function departmentKey(department: string): string {
  return nameKey(department);
}

/** Whether two departments are one; none (a token without the claim, a blank or invisible text) is nobody's. */
export function sameDepartment(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const key = departmentKey(a);
  return key !== '' && key === departmentKey(b);
}

/**
 * Printable ASCII words separated by single spaces, nothing around them: NFKC leaves such a name
 * as it is and there is no whitespace to trim or fold, so only its case changes (most names;
 * the full normalisation costs a registration about 0.5% of its CPU).
 */
function isPlainAscii(name: string): boolean {
  if (name.length === 0) return false;
  let previousSpace = true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x20) {
      if (previousSpace) return false;
      previousSpace = true;
    } else if (c > 0x20 && c < 0x7f) previousSpace = false;
    else return false;
  }
  return !previousSpace;
}

/** One reservation stream per (department, name key): `reservation-asset-name-<digest>`. */
export const assetNameStreams = streamCategory('reservation-asset-name');

export function assetNameStreamId(department: string, name: string): string {
  const digest = hash('sha256', `${departmentKey(department)}\u0000${nameKey(name)}`, 'hex');
  return assetNameStreams.streamOf(digest.slice(0, 40));
}

export interface AssetNameState {
  /** The asset holding the name, if any. */
  holder?: string;
  name?: string;
  department?: string;
}

export type AssetNameCommand =
  | { type: 'ReserveAssetName'; assetId: string; department: string; name: string; at: string }
  | { type: 'ReleaseAssetName'; assetId: string; reason: string; at: string };

export const assetNameDecider: Decider<AssetNameCommand, AssetNameEvent, AssetNameState> = {
  // Snapshots of this state are kept under this version: bump it whenever the state's shape (or what evolve folds into it) changes.
  stateVersion: 'asset-name/1',
  initialState: {},
  decide(command, state) {
    switch (command.type) {
      case 'ReserveAssetName':
        if (state.holder === command.assetId) return [];
        if (state.holder !== undefined) {
          throw violation(
            AssetNameRules.ASSET_NAME_TAKEN,
            `Department ${command.department} already has an active asset named "${state.name}" (${state.holder}); names are compared after Unicode NFKC normalisation`,
          );
        }
        return [{ type: 'AssetNameReserved', data: { assetId: command.assetId, department: command.department, name: command.name, key: nameKey(command.name), reservedAt: command.at } }];
      case 'ReleaseAssetName':
        if (state.holder !== command.assetId) return [];
        return [{ type: 'AssetNameReleased', data: { assetId: command.assetId, reason: command.reason, releasedAt: command.at } }];
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'AssetNameReserved':
        return { holder: event.data.assetId, name: event.data.name, department: event.data.department };
      case 'AssetNameReleased':
        return {};
      default:
        return state;
    }
  },
};
