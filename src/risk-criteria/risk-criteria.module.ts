import { Module } from '@nestjs/common';
import { CRITERIA_COMMAND_HANDLERS } from './application/criteria-commands.js';
import { GetCriteriaInForceHandler, GetCriteriaVersionHandler, ListCriteriaVersionsHandler } from './application/criteria-queries.js';
import { RiskCriteriaResolver } from './graphql/criteria.resolver.js';

@Module({ providers: [...CRITERIA_COMMAND_HANDLERS, GetCriteriaInForceHandler, GetCriteriaVersionHandler, ListCriteriaVersionsHandler, RiskCriteriaResolver] })
export class RiskCriteriaModule {}
