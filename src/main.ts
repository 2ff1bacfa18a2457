import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import { AppModule } from './app.module.js';
import { APP_CONFIG, ConfigError, type AppConfig } from './config/app-config.js';
import { TokenVerifier } from './identity/token-verifier.js';
import { rootLogger } from './shared/logging/json-logger.js';

/** Builds the Nest application (used by main and by the end-to-end tests). */
export async function createApp(): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: rootLogger, bufferLogs: false });
  useSecurityHeaders(app);
  // Express's default of 100 kB is below a legitimate catalogue import (up to 2,000 requirements).
  app.useBodyParser('json', { limit: '5mb' });
  app.enableShutdownHooks();
  return app;
}

/**
 * Helmet's headers on every answer, and no X-Powered-By. Its Content-Security-Policy too, except on
 * Apollo's landing page (a GET of /graphql asking for HTML), which loads its scripts from Apollo's
 * CDN under a nonce and carries its own policy in a meta tag.
 */
function useSecurityHeaders(app: NestExpressApplication): void {
  app.disable('x-powered-by');
  app.use(helmet({ contentSecurityPolicy: false }));
  const csp = helmet.contentSecurityPolicy();
  app.use((req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => {
    const landingPage = req.method === 'GET' && (req.url ?? '').split('?')[0] === '/graphql' && (req.headers.accept ?? '').includes('text/html');
    if (landingPage) return next();
    csp(req, res, next);
  });
}

async function main(): Promise<void> {
  const app = await createApp();
  const config = app.get<AppConfig>(APP_CONFIG);
  await app.listen(config.port);
  const address = app.getHttpServer().address() as { port: number } | null;
  const url = `http://localhost:${address?.port ?? config.port}/graphql`;
  rootLogger.info('Risk Ledger is serving', { url, eventStore: config.eventStore, sqlitePath: config.eventStore === 'sqlite' ? config.sqlitePath : undefined });
  const verifier = app.get(TokenVerifier);
  if (verifier.devSecretFile) {
    rootLogger.info('development mode: tokens are signed with a generated secret kept in the data folder', {
      secretFile: verifier.devSecretFile,
      getAToken: 'npm run token -- --sub alice --name Alice --roles ASSET_MANAGER --department ops',
    });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    rootLogger.error(error instanceof ConfigError ? `configuration error: ${error.message}` : 'start-up failed', error);
    process.exit(1);
  });
}
