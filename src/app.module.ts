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
import { graphqlOptions } from './graphql/graphql-options.js';
import { InputValidationPipe } from './graphql/input-validation.pipe.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { HealthController } from './health/health.controller.js';
import { SigningKeysController } from './well-known/keys.controller.js';
import { GraphqlAuthGuard } from './identity/graphql/auth.guard.js';
import { IdentityModule } from './identity/identity.module.js';
import { TokenVerifier } from './identity/token-verifier.js';
import { FEATURES } from './features.js';
import { PlatformModule } from './platform/platform.module.js';
import { RiskRegisterModule } from './risk-register/risk-register.module.js';
import { TreatmentPlanModule } from './treatment-plan/treatment-plan.module.js';
import { RiskCriteriaModule } from './risk-criteria/risk-criteria.module.js';

@Module({
  imports: [
    PlatformModule.forRoot(FEATURES),
    IdentityModule,
    CqrsModule.forRoot(),
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      imports: [AuditModule],
      inject: [TokenVerifier, ACCESS_LOG, APP_CONFIG],
      useFactory: (verifier: TokenVerifier, accessLog: AccessLog, config: AppConfig) => graphqlOptions(verifier, accessLog, config.graphql),
    }),
    AuditModule,
    AssetInventoryModule,
    RiskCriteriaModule,
    BaselineCataloguesModule,
    RiskRegisterModule,
    TreatmentPlanModule,
  ],
  controllers: [HealthController, SigningKeysController],
  providers: [{ provide: APP_GUARD, useClass: GraphqlAuthGuard }, { provide: APP_FILTER, useClass: DomainErrorFilter }, { provide: APP_PIPE, useClass: InputValidationPipe }],
})
export class AppModule {}
