import { Module } from '@nestjs/common';
import { RISK_COMMAND_HANDLERS } from './application/risk-commands.js';
import { ControlsDocumentHandler, GetRiskHandler, HeatMapHandler, ListRisksHandler, ReviewsDueHandler } from './application/risk-queries.js';
import { ControlsDocumentController } from './graphql/controls-document.controller.js';
import { RiskWriteContext } from './application/write-context.js';
import { RiskResolver } from './graphql/risk.resolver.js';

@Module({
  controllers: [ControlsDocumentController],
  providers: [RiskWriteContext, ...RISK_COMMAND_HANDLERS, GetRiskHandler, ListRisksHandler, HeatMapHandler, ControlsDocumentHandler, ReviewsDueHandler, RiskResolver],
  exports: [RiskWriteContext],
})
export class RiskRegisterModule {}
