import type { EventStore, RecordedEvent } from '../../event-store/event-store.port.js';
import type { LogUpgrade } from '../../shared/application/log-upgrades.js';
import { PROCESS_MANAGER_ACTOR, type ReactionDeps } from '../../shared/application/reactions.js';
import { RuleViolationError } from '../../shared/domain/errors.js';
import { assetNameDecider, assetNameStreamId, type AssetNameCommand } from '../domain/asset-name.decider.js';
import { assetDecider, assetStreamId } from '../domain/asset.decider.js';

/** The events that say which assets are active and which asset holds each reservation. */
const SCANNED_TYPES = ['AssetRegistered', 'AssetRetired', 'AssetNameReserved', 'AssetNameReleased'];
const PAGE = 1_000;
/** The assets refused their name listed in the upgrade's log line (each has its own warn line). */
const LISTED = 50;

export interface AssetWithoutReservation {
  assetId: string;
  name: string;
  department: string;
  /** Its AssetRegistered: the cause of the reservation appended for it. */
  registeredEventId: string;
}

/**
 * The active assets whose name is not reserved for them under today's key, in the order they were
 * registered: those registered before reservations existed (before 2026-11-30), and those whose
 * reservation was taken under an older name key (before invisible characters were dropped from
 * names, 2026-12-03). Read from the log itself (its asset and reservation events alone, in pages),
 * not from a read model: this finds candidates, and each reservation is then decided on the streams.
 */
export async function assetsWithoutReservation(store: EventStore, stopping: () => boolean): Promise<AssetWithoutReservation[]> {
  const active = new Map<string, AssetWithoutReservation>(); // by the asset's stream
  const holders = new Map<string, string>(); // reservation stream → the asset holding it
  for (let after: string | null = null; !stopping(); ) {
    const page: RecordedEvent[] = await store.readAll({ after, maxCount: PAGE, types: SCANNED_TYPES });
    if (page.length === 0) break;
    for (const event of page) note(event, active, holders);
    after = page[page.length - 1]!.position;
  }
  return [...active.values()].filter((asset) => holders.get(assetNameStreamId(asset.department, asset.name)) !== asset.assetId);
}

function note(event: RecordedEvent, active: Map<string, AssetWithoutReservation>, holders: Map<string, string>): void {
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'AssetRegistered':
      // Data the asset decider would have refused (written around it) names no asset to reserve for.
      if (typeof data.assetId === 'string' && typeof data.name === 'string' && typeof data.department === 'string' && assetStreamId(data.assetId) === event.streamId) {
        active.set(event.streamId, { assetId: data.assetId, name: data.name, department: data.department, registeredEventId: event.eventId });
      }
      return;
    case 'AssetRetired':
      active.delete(event.streamId);
      return;
    case 'AssetNameReserved':
      if (typeof data.assetId === 'string') holders.set(event.streamId, data.assetId);
      return;
    case 'AssetNameReleased':
      holders.delete(event.streamId);
      return;
  }
}

/**
 * Reserves the names of the assets registered by earlier builds (assetsWithoutReservation), so
 * that a new asset cannot take the name of one already in the inventory (Art.14(2)). Each
 * reservation is decided with the asset read in the same attempt, both streams version-checked: an
 * asset retired meanwhile takes nothing, and a registration racing it for the name is ordered
 * before or after it. Where two active assets already share a name (the earlier builds let that
 * happen), the first registered keeps it and each other one is reported (warn): the inventory lists
 * both until one is retired.
 */
export function earlierAssetNames({ executor, store, clock }: ReactionDeps): LogUpgrade {
  return {
    name: 'asset-name-reservations',
    async run(stopping, log) {
      const missing = await assetsWithoutReservation(store, stopping);
      let reserved = 0;
      const taken: Array<{ assetId: string; department: string; name: string }> = [];
      for (const asset of missing) {
        if (stopping()) break;
        const ctx = { actor: PROCESS_MANAGER_ACTOR, at: clock.now().toISOString(), correlationId: 'upgrade:asset-name-reservations', causationId: asset.registeredEventId };
        try {
          const result = await executor.executeJoint(async (reader) => {
            const state = await reader.state(assetStreamId(asset.assetId), assetDecider);
            const command: AssetNameCommand = { type: 'ReserveNameOfEarlierAsset', assetId: asset.assetId, department: asset.department.trim(), name: asset.name.trim(), assetActive: state.exists && state.status === 'ACTIVE', at: ctx.at };
            return { primary: { streamId: assetNameStreamId(asset.department, asset.name), decider: assetNameDecider, command } };
          }, ctx);
          if (result.events.length > 0) reserved++;
        } catch (error) {
          if (!(error instanceof RuleViolationError && error.rule === 'ASSET_NAME_TAKEN')) throw error;
          taken.push({ assetId: asset.assetId, department: asset.department, name: asset.name });
          log.warn('an asset registered by an earlier build shares its name with another active asset of its department: the name stays with the other one, and both are listed until one is retired', {
            assetId: asset.assetId,
            department: asset.department,
            name: asset.name,
            refusal: error.message,
          });
        }
      }
      return { assetsWithoutReservation: missing.length, reserved, nameTaken: taken.length, ...(taken.length > 0 ? { nameTakenAssets: taken.slice(0, LISTED) } : {}) };
    },
  };
}
