import { Module } from '@nestjs/common';
import { RiskCriteriaCommandHandler } from './application/criteria-commands.js';
import { GetCriteriaInForceHandler, GetCriteriaVersionHandler, ListCriteriaVersionsHandler } from './application/criteria-queries.js';
import { RiskCriteriaResolver } from './graphql/criteria.resolver.js';

@Module({ providers: [RiskCriteriaCommandHandler, GetCriteriaInForceHandler, GetCriteriaVersionHandler, ListCriteriaVersionsHandler, RiskCriteriaResolver] })
export class RiskCriteriaModule {}
