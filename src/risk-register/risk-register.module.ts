import { Module } from '@nestjs/common';
import { RiskCommandHandler } from './application/risk-commands.js';
import { GetRiskHandler, HeatMapHandler, ListRisksHandler } from './application/risk-queries.js';
import { RiskWriteContext } from './application/write-context.js';
import { RiskResolver } from './graphql/risk.resolver.js';

@Module({ providers: [RiskWriteContext, RiskCommandHandler, GetRiskHandler, ListRisksHandler, HeatMapHandler, RiskResolver], exports: [RiskWriteContext] })
export class RiskRegisterModule {}
