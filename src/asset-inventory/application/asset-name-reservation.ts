import type { AttemptReader, JointCommand } from '../../shared/application/command-executor.js';
import { assetNameDecider, assetNameStreamId } from '../domain/asset-name.decider.js';
import { assetDecider, assetStreamId, type AssetCommand } from '../domain/asset.decider.js';
import type { AssetState } from '../domain/asset.state.js';

/**
 * An asset command with the name reservation it implies, decided and appended atomically with
 * it: registering reserves the (department, name) key, retiring releases it. Every other asset
 * command touches the asset's stream alone. Used by the GraphQL handler and by the process
 * manager (an avoided risk retires its assets), so the name is freed however the asset retires.
 */
export function withNameReservation(command: AssetCommand): (reader: AttemptReader) => Promise<JointCommand<AssetState>> {
  const primary = { streamId: assetStreamId(command.assetId), decider: assetDecider, command };
  return async (reader) => {
    switch (command.type) {
      case 'RegisterAsset': {
        // A malformed name or department is refused by the asset decider with the field named.
        if (typeof command.name !== 'string' || typeof command.department !== 'string') return { primary };
        const reserve = { type: 'ReserveAssetName' as const, assetId: command.assetId, department: command.department.trim(), name: command.name.trim(), at: command.at };
        return { primary, others: [{ streamId: assetNameStreamId(command.department, command.name), decider: assetNameDecider, command: reserve }] };
      }
      case 'RetireAsset': {
        const asset = await reader.state(primary.streamId, assetDecider);
        if (!asset.exists) return { primary };
        const release = { type: 'ReleaseAssetName' as const, assetId: asset.id, reason: 'ASSET_RETIRED', at: command.at };
        return { primary, others: [{ streamId: assetNameStreamId(asset.department, asset.name), decider: assetNameDecider, command: release }] };
      }
      default:
        return { primary };
    }
  };
}
