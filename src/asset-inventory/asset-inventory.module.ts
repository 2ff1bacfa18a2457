import { Module } from '@nestjs/common';
import { ASSET_COMMAND_HANDLERS } from './application/asset-commands.js';
import { GetAssetHandler, ListAssetsHandler } from './application/asset-queries.js';
import { AssetResolver } from './graphql/asset.resolver.js';

/** Nest's half of the inventory (the other half, its events and read model, is asset-inventory.contribution.ts). */
@Module({ providers: [...ASSET_COMMAND_HANDLERS, GetAssetHandler, ListAssetsHandler, AssetResolver] })
export class AssetInventoryModule {}
