import { Module } from '@nestjs/common';
import { AssetCommandHandler } from './application/asset-commands.js';
import { GetAssetHandler, ListAssetsHandler } from './application/asset-queries.js';
import { AssetResolver } from './graphql/asset.resolver.js';

@Module({ providers: [AssetCommandHandler, GetAssetHandler, ListAssetsHandler, AssetResolver] })
export class AssetInventoryModule {}
