import { Inject, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { redactedWebhookUrl } from '../config/webhook-settings.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { IntegrityMonitor } from '../platform/integrity-monitor.js';
import { Metrics } from '../platform/observability/metrics.js';
import { PostgresCoordination } from '../platform/postgres-coordination.js';
import { openDisposableDatabase } from '../projections/read-model-database.js';
import { criteriaDecider, criteriaInForce, criteriaStreamId } from '../risk-criteria/domain/criteria.decider.js';
import { riskDecider } from '../risk-register/domain/risk.decider.js';
import { riskStreamId } from '../risk-register/domain/risk.events.js';
import { AggregateReader } from '../shared/application/aggregate-reader.js';
import { EventUpcasters } from '../shared/application/event-upcasting.js';
import { PROCESS_CHECKPOINTS_TABLE, SoleInstance } from '../shared/application/reactions-coordination.js';
import { describeError } from '../shared/application/transient-errors.js';
import { JsonLogger } from '../shared/logging/json-logger.js';
import { planDecider } from '../treatment-plan/domain/plan.decider.js';
import { planStreamId } from '../treatment-plan/domain/plan.state.js';
import type { NoticeSources } from './application/notice-mapping.js';
import { WebhookDispatcher } from './application/webhook-dispatcher.js';

/** Nest token of the dispatcher: null when WEBHOOK_URL is not set (notices off). */
export const WEBHOOK_DISPATCHER = Symbol('WEBHOOK_DISPATCHER');

/**
 * Webhook notices (ControlOverdue, ReviewDue, ConsentRequested, ConsentStale, PlanSubmitted)
 * POSTed to WEBHOOK_URL from the log. Without WEBHOOK_URL nothing is opened or started.
 */
@Module({
  providers: [
    {
      provide: WEBHOOK_DISPATCHER,
      inject: [APP_CONFIG, EVENT_STORE, EventUpcasters, AggregateReader, JsonLogger, Metrics, IntegrityMonitor],
      useFactory: (config: AppConfig, store: EventStore, upcasters: EventUpcasters, aggregates: AggregateReader, root: JsonLogger, metrics: Metrics, integrity: IntegrityMonitor): WebhookDispatcher | null => {
        const settings = config.webhook;
        const log = root.child('webhooks');
        if (!settings) {
          log.debug('webhook notices are off (no WEBHOOK_URL)');
          return null;
        }
        // The checkpoint lives beside the process manager's: in the shared database with PostgreSQL
        // (one instance delivers, under a lock of its own), else in DATA_DIR/process-manager.sqlite.
        const coordination =
          config.eventStore === 'postgres' && config.databaseUrl
            ? new PostgresCoordination(config.databaseUrl, 'risk_ledger', log.child('coordination'), 'webhooks')
            : new SoleInstance(openDisposableDatabase(config.processManagerPath, { logger: log.child('local-state'), label: 'webhook checkpoint', ownTable: PROCESS_CHECKPOINTS_TABLE, ownsPath: true }));
        const sources: NoticeSources = {
          riskAt: (riskId, position) => aggregates.stateAt(riskStreamId(riskId), riskDecider, { atPosition: position }),
          riskAtRevision: async (riskId, revision) => (await aggregates.load(riskStreamId(riskId), riskDecider, revision)).state,
          planAt: (planId, position) => aggregates.stateAt(planStreamId(planId), planDecider, { atPosition: position }),
          criteriaAt: async (position) => criteriaInForce(await aggregates.stateAt(criteriaStreamId(), criteriaDecider, { atPosition: position })),
        };
        const dispatcher = new WebhookDispatcher(
          store,
          coordination,
          sources,
          upcasters.upcast,
          {
            url: settings.url,
            displayUrl: redactedWebhookUrl(settings.url),
            secret: settings.secret,
            timeoutMs: settings.timeoutMs,
            retry: { initialMs: settings.retryInitialMs, maxMs: settings.retryMaxMs },
            instrumentation: metrics,
            // A notice only for an event the log's verification covers (a forged row is found first).
            trust: integrity,
          },
          log,
        );
        metrics.followWebhooks(() => dispatcher.state);
        return dispatcher;
      },
    },
  ],
  exports: [WEBHOOK_DISPATCHER],
})
export class NotificationsModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(WEBHOOK_DISPATCHER) private readonly dispatcher: WebhookDispatcher | null,
    private readonly http: HttpAdapterHost,
    root: JsonLogger,
  ) {
    this.log = root.child('webhooks');
  }

  private readonly log: JsonLogger;

  /**
   * The dispatcher starts (and may take the lead of the notices) once the server listens: a
   * start-up that fails after the application is built (a port taken) never claimed to deliver
   * them (PostgreSQL probe F5: "webhook notices are delivered from this instance", then
   * "start-up failed: listen EADDRINUSE").
   */
  onApplicationBootstrap(): void {
    const dispatcher = this.dispatcher;
    const server = this.http.httpAdapter?.getHttpServer() as Server | undefined;
    if (!dispatcher || !server) return;
    const start = () => void dispatcher.start().catch((error: unknown) => this.log.error('webhook notices could not start', { error: describeError(error) }));
    if (server.listening) start();
    else server.once('listening', start);
  }

  /** Before the platform closes the store (its onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.dispatcher?.close();
  }
}
