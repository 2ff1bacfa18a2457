import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AggregateReader } from '../shared/application/aggregate-reader.js';
import { LiveEvents } from '../shared/application/live-events.js';
import { TokenVerifier } from './token-verifier.js';
import { ActorRateLimiter } from './rate-limit/actor-rate-limiter.js';
import { TokenRevocations } from './token-revocations.js';
import { followRevocations } from './application/revocation-feed.js';
import { revocationAdmission } from './application/revocation-admission.js';
import { CommandAdmissions } from '../shared/application/command-admission.js';
import { RevokeTokensHandler } from './application/revocation-commands.js';
import { RevocationResolver } from './graphql/revocation.resolver.js';

const REVOCATION_FEED = Symbol('REVOCATION_FEED');

/**
 * Who is asking: bearer tokens (HS256 or a JWKS) turned into actors, for GraphQL and REST alike,
 * unless revoked (revokeTokens); and how often (RATE_LIMIT_PER_MINUTE).
 */
@Global()
@Module({
  providers: [
    { provide: TokenRevocations, useFactory: () => new TokenRevocations() },
    {
      // Loaded from the log while the application starts, so the first request already meets every revocation.
      provide: REVOCATION_FEED,
      // Then every client command is judged against them again at its append (revocation-admission.ts).
      inject: [TokenRevocations, AggregateReader, LiveEvents, CommandAdmissions],
      useFactory: async (revocations: TokenRevocations, aggregates: AggregateReader, live: LiveEvents, admissions: CommandAdmissions) => {
        const stop = await followRevocations(revocations, aggregates, live);
        admissions.add(revocationAdmission(revocations));
        return { stop };
      },
    },
    {
      provide: TokenVerifier,
      inject: [APP_CONFIG, TokenRevocations, REVOCATION_FEED],
      useFactory: (config: AppConfig, revocations: TokenRevocations) => new TokenVerifier(config, revocations),
    },
    { provide: ActorRateLimiter, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new ActorRateLimiter(config) },
    RevokeTokensHandler,
    RevocationResolver,
  ],
  exports: [TokenVerifier, ActorRateLimiter, TokenRevocations],
})
export class IdentityModule {}
