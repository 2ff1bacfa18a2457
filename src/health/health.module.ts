import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AuditModule } from '../audit/audit.module.js';
import { HealthController } from './health.controller.js';
import { Readiness } from './readiness.js';
import { ShutdownState } from './shutdown-state.js';

/** GET /health, /health/live and /health/ready. Terminus logs nothing of its own: a probe every few seconds is not news. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), AuditModule],
  controllers: [HealthController],
  providers: [Readiness, ShutdownState],
  exports: [ShutdownState],
})
export class HealthModule {}
