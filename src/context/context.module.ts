import { Module } from '@nestjs/common';
import { RecordContextHandler } from './application/context-commands.js';
import { GetContextHandler, ListContextVersionsHandler } from './application/context-queries.js';
import { ContextResolver } from './graphql/context.resolver.js';

@Module({ providers: [RecordContextHandler, GetContextHandler, ListContextVersionsHandler, ContextResolver] })
export class ContextModule {}
