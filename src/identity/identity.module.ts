import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { TokenVerifier } from './token-verifier.js';

/** Who is asking: bearer tokens (HS256 or a JWKS) turned into actors, for GraphQL and REST alike. */
@Global()
@Module({
  providers: [{ provide: TokenVerifier, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new TokenVerifier(config) }],
  exports: [TokenVerifier],
})
export class IdentityModule {}
