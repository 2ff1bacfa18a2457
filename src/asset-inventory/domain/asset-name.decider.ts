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
import { nameKey } from '../../shared/domain/name-key.js';
import type { AssetNameEvent } from './asset-name.events.js';

export const AssetNameRules = defineRules({ ASSET_NAME_TAKEN: 'Art.14(2)' });

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
  | { type: 'ReleaseAssetName'; assetId: string; reason: string; at: string }
  /**
   * The reservation an asset registered by an earlier build never took (before reservations, or
   * under an older name key), taken on upgrade (earlier-asset-names.ts). `assetActive` is the asset
   * as read in the same attempt (its stream is version-checked with this one): a retired asset
   * takes nothing, and the first asset to hold the name keeps it (ASSET_NAME_TAKEN for the others).
   */
  | { type: 'ReserveNameOfEarlierAsset'; assetId: string; department: string; name: string; assetActive: boolean; at: string };

export const assetNameDecider: Decider<AssetNameCommand, AssetNameEvent, AssetNameState> = {
  // Snapshots of this state are kept under this version: bump it whenever the state's shape (or what evolve folds into it) changes.
  stateVersion: 'asset-name/1',
  initialState: {},
  decide(command, state) {
    switch (command.type) {
      case 'ReserveNameOfEarlierAsset':
        if (!command.assetActive) return [];
        return assetNameDecider.decide({ type: 'ReserveAssetName', assetId: command.assetId, department: command.department, name: command.name, at: command.at }, state);
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
