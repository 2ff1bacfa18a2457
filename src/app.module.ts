import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { AssetInventoryModule } from './asset-inventory/asset-inventory.module.js';
import { BaselineCataloguesModule } from './baseline-catalogues/baseline-catalogues.module.js';
import { AuditModule } from './audit/audit.module.js';
import { ACCESS_LOG, type AccessLog } from './audit/application/access-log.js';
import { DomainErrorFilter } from './graphql/domain-error.filter.js';
import { RouteNotFoundFilter } from './platform/http/route-not-found.filter.js';
import { graphqlOptions } from './graphql/graphql-options.js';
import { InputValidationPipe } from './graphql/input-validation.pipe.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { HealthModule } from './health/health.module.js';
import { ObservabilityModule } from './platform/observability/observability.module.js';
import { withGraphqlObservability } from './platform/observability/graphql-observability.js';
import { Metrics } from './platform/observability/metrics.js';
import { SigningKeysController } from './well-known/keys.controller.js';
import { MutationIntegrityGuard } from './graphql/mutation-integrity.guard.js';
import { GraphqlAuthGuard } from './identity/graphql/auth.guard.js';
import { IdentityModule } from './identity/identity.module.js';
import { TokenVerifier } from './identity/token-verifier.js';
import { FEATURES } from './features.js';
import { PlatformModule } from './platform/platform.module.js';
import { ProjectionRunner } from './projections/projection-runner.js';
import { IntegrityMonitor } from './platform/integrity-monitor.js';
import { RiskRegisterModule } from './risk-register/risk-register.module.js';
import { TreatmentPlanModule } from './treatment-plan/treatment-plan.module.js';
import { ContextModule } from './context/context.module.js';
import { IncidentsModule } from './incidents/incidents.module.js';
import { RiskCriteriaModule } from './risk-criteria/risk-criteria.module.js';
import { DocumentsModule } from './documents/documents.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { EvidenceModule } from './evidence/evidence.module.js';
import { DevIdeModule } from './graphql/dev-ide/dev-ide.module.js';

@Module({
  imports: [
    PlatformModule.forRoot(FEATURES),
    IdentityModule,
    HealthModule,
    ObservabilityModule,
    CqrsModule.forRoot(),
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      imports: [AuditModule],
      inject: [TokenVerifier, ACCESS_LOG, APP_CONFIG, Metrics, ProjectionRunner, IntegrityMonitor],
      useFactory: (verifier: TokenVerifier, accessLog: AccessLog, config: AppConfig, metrics: Metrics, projections: ProjectionRunner, integrity: IntegrityMonitor) =>
        withGraphqlObservability(graphqlOptions(verifier, accessLog, config.graphql, projections, integrity), metrics),
    }),
    AuditModule,
    AssetInventoryModule,
    RiskCriteriaModule,
    BaselineCataloguesModule,
    RiskRegisterModule,
    TreatmentPlanModule,
    DevIdeModule,
    DocumentsModule,
    ContextModule,
    IncidentsModule,
    NotificationsModule,
    EvidenceModule,
  ],
  controllers: [SigningKeysController],
  providers: [
    // In this order: who asks (token, rate, role), then whether the log may be written at all.
    { provide: APP_GUARD, useClass: GraphqlAuthGuard },
    { provide: APP_GUARD, useClass: MutationIntegrityGuard },
    { provide: APP_FILTER, useClass: DomainErrorFilter }, { provide: APP_FILTER, useClass: RouteNotFoundFilter }, { provide: APP_PIPE, useClass: InputValidationPipe },
  ],
})
export class AppModule {}
