import { Module } from '@nestjs/common';
import { RiskRegisterModule } from '../risk-register/risk-register.module.js';
import { PLAN_COMMAND_HANDLERS } from './application/plan-commands.js';
import { GetPlanHandler, ListPlansHandler } from './application/plan-queries.js';
import { PlanResolver } from './graphql/plan.resolver.js';

@Module({ imports: [RiskRegisterModule], providers: [...PLAN_COMMAND_HANDLERS, GetPlanHandler, ListPlansHandler, PlanResolver] })
export class TreatmentPlanModule {}
