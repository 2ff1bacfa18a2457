import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { TokenVerifier } from './token-verifier.js';
import { ActorRateLimiter } from './rate-limit/actor-rate-limiter.js';

/** Who is asking: bearer tokens (HS256 or a JWKS) turned into actors, for GraphQL and REST alike; and how often (RATE_LIMIT_PER_MINUTE). */
@Global()
@Module({
  providers: [
    { provide: TokenVerifier, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new TokenVerifier(config) },
    { provide: ActorRateLimiter, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new ActorRateLimiter(config) },
  ],
  exports: [TokenVerifier, ActorRateLimiter],
})
export class IdentityModule {}
