import { Module } from '@nestjs/common';
import { RiskRegisterModule } from '../risk-register/risk-register.module.js';
import { PlanCommandHandler } from './application/plan-commands.js';
import { GetPlanHandler, ListPlansHandler } from './application/plan-queries.js';
import { PlanResolver } from './graphql/plan.resolver.js';

@Module({ imports: [RiskRegisterModule], providers: [PlanCommandHandler, GetPlanHandler, ListPlansHandler, PlanResolver] })
export class TreatmentPlanModule {}
