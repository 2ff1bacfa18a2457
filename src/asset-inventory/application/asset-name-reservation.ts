import type { AttemptReader, JointCommand, LoadedStream } from '../../shared/application/command-executor.js';
import { assetNameDecider, assetNameStreamId } from '../domain/asset-name.decider.js';
import { assetDecider, assetStreamId, type AssetCommand } from '../domain/asset.decider.js';
import type { AssetState } from '../domain/asset.state.js';

/**
 * An asset command with the name reservation it implies, decided and appended atomically with
 * it: registering reserves the (department, name) key, retiring releases it. Every other asset
 * command touches the asset's stream alone. Used by the GraphQL handler and by an AVOID treatment
 * (which retires the risk's assets in its own append, and by a reaction for avoidances logged
 * before that), so the name is freed however the asset retires.
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

/**
 * The name reservation a registration takes as free on its first attempt, without reading its
 * stream: a name is nearly always new. The append still requires the reservation stream to be new
 * (expected version -1), so a name already reserved makes it conflict, and the retry reads the
 * stream and the decider refuses the name as before. Saves a read of the log per registration.
 */
export function assumedFreeName(command: AssetCommand): LoadedStream[] {
  if (command.type !== 'RegisterAsset' || typeof command.name !== 'string' || typeof command.department !== 'string') return [];
  return [{ streamId: assetNameStreamId(command.department, command.name), state: assetNameDecider.initialState, streamVersion: -1 }];
}
