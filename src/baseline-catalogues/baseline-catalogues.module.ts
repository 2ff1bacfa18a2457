import { Module } from '@nestjs/common';
import { ImportBaselineCatalogueHandler } from './application/catalogue-commands.js';
import { GetCatalogueHandler, ListCataloguesHandler } from './application/catalogue-queries.js';
import { BaselineCatalogueResolver } from './graphql/catalogue.resolver.js';

@Module({ providers: [ImportBaselineCatalogueHandler, GetCatalogueHandler, ListCataloguesHandler, BaselineCatalogueResolver] })
export class BaselineCataloguesModule {}
