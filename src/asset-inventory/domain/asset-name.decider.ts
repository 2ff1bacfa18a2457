/**
 * Uniqueness of asset names per department (Art. 14(2): one inventory entry per asset) by
 * reservation: one stream per (department, normalised name). Registering an asset appends
 * AssetNameReserved here in the same atomic append as AssetRegistered, each stream at the version
 * read, so two racing registrations of one name cannot both succeed; retiring the asset releases
 * the name. No read model is consulted: the reservation stream is the only place this is decided.
 */
import { createHash } from 'node:crypto';
import type { Decider } from '../../shared/domain/decider.js';
import { RuleViolationError } from '../../shared/domain/errors.js';

export const ASSET_NAME_TAKEN = { id: 'ASSET_NAME_TAKEN', article: 'Art.14(2)' } as const;

/**
 * The form two names are compared in: Unicode NFKC (half-width ｶﾅ = カナ, full-width Ａ = A,
 * a decomposed ヘ + U+3099 = ベ), trimmed, inner whitespace runs as one space, case folded.
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
}

export function assetNameStreamId(department: string, name: string): string {
  const digest = createHash('sha256').update(`${nameKey(department)}\u0000${nameKey(name)}`).digest('hex');
  return `reservation-asset-name-${digest.slice(0, 40)}`;
}

export interface AssetNameState {
  /** The asset holding the name, if any. */
  holder?: string;
  name?: string;
  department?: string;
}

export type AssetNameEvent =
  | { type: 'AssetNameReserved'; data: { assetId: string; department: string; name: string; key: string; reservedAt: string } }
  | { type: 'AssetNameReleased'; data: { assetId: string; reason: string; releasedAt: string } };

export type AssetNameCommand =
  | { type: 'ReserveAssetName'; assetId: string; department: string; name: string; at: string }
  | { type: 'ReleaseAssetName'; assetId: string; reason: string; at: string };

export const assetNameEventSchemaVersions: Record<AssetNameEvent['type'], number> = {
  AssetNameReserved: 1,
  AssetNameReleased: 1,
};

export function upcastAssetNameEvent(type: string, schemaVersion: number, data: unknown): AssetNameEvent {
  if (!(type in assetNameEventSchemaVersions)) throw new Error(`Unknown asset-name event type ${type}`);
  if (schemaVersion !== 1) throw new Error(`Unsupported schema version ${schemaVersion} of ${type}`);
  return { type, data } as AssetNameEvent;
}

export const assetNameDecider: Decider<AssetNameCommand, AssetNameEvent, AssetNameState> = {
  initialState: {},
  decide(command, state) {
    switch (command.type) {
      case 'ReserveAssetName':
        if (state.holder === command.assetId) return [];
        if (state.holder !== undefined) {
          throw new RuleViolationError(
            ASSET_NAME_TAKEN.id,
            ASSET_NAME_TAKEN.article,
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
