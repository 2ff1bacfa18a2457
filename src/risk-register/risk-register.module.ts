import { Module } from '@nestjs/common';
import { RISK_COMMAND_HANDLERS } from './application/risk-commands.js';
import { GetRiskHandler, HeatMapHandler, ListRisksHandler, ReviewsDueHandler } from './application/risk-queries.js';
import { RiskAtPoint } from './application/risk-at-point.js';
import { RiskWriteContext } from './application/write-context.js';
import { RiskResolver } from './graphql/risk.resolver.js';
import { RecordControlProgressHandler } from './application/control-commands.js';
import { OverdueControlsHandler } from './application/control-queries.js';
import { DeadlineWatch } from './application/deadline-watch.js';
import { ControlResolver, ControlsDocumentEntriesResolver } from './graphql/control.resolver.js';

@Module({
  providers: [RiskWriteContext, RiskAtPoint, ...RISK_COMMAND_HANDLERS, GetRiskHandler, ListRisksHandler, HeatMapHandler, ReviewsDueHandler, RiskResolver,
    // Following the plan through (Art.18, 19, 12(3)).
    RecordControlProgressHandler, OverdueControlsHandler, ControlResolver, ControlsDocumentEntriesResolver, DeadlineWatch],
  exports: [RiskWriteContext],
})
export class RiskRegisterModule {}
