import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DevIdeController } from './dev-ide.controller.js';
import { IDE_PATH } from './altair-page.js';

/**
 * A browser opening /graphql (a GET asking for HTML) is sent to the IDE in development, instead
 * of Apollo's CSRF refusal; GraphQL clients (POST, or GET without text/html) are untouched.
 */
export function redirectBrowsersToIde(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  if (!(req.headers.accept ?? '').includes('text/html')) return next();
  res.statusCode = 302;
  res.setHeader('location', IDE_PATH);
  res.end();
}

/** The development GraphQL IDE (Altair, served locally) at /ide; nothing of it in production. */
@Module({ controllers: [DevIdeController] })
export class DevIdeModule implements NestModule {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  configure(consumer: MiddlewareConsumer): void {
    if (this.config.production) return;
    // Registered before Apollo's handler on /graphql (Nest applies module middleware first).
    consumer.apply(redirectBrowsersToIde).forRoutes({ path: 'graphql', method: RequestMethod.GET });
  }
}
