import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';

/**
 * GET /metrics. The Metrics instance itself comes from the PlatformModule, which hands it to the
 * event store, the command pipeline and the replays it builds.
 */
@Module({ controllers: [MetricsController] })
export class ObservabilityModule {}
