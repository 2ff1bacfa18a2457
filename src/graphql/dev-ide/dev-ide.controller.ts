import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, NotFoundException, Param, Req, Res } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { IDE_PATH, OPTIONS_SCRIPT, ideAsset, ideContentSecurityPolicy, ideOptionsScript, idePage, safeHost } from './altair-page.js';

/**
 * GET /ide and its files: the Altair GraphQL IDE, in development only (NODE_ENV not
 * production); in production every path under /ide answers 404 as an unknown route would.
 * The IDE holds no credential: the developer pastes a token from `npm run token`.
 */
@Controller(IDE_PATH.slice(1))
export class DevIdeController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get()
  page(@Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    const host = this.hostOf(req);
    this.send(res, host, 'text/html; charset=utf-8', idePage(host));
  }

  @Get('*path')
  file(@Param('path') path: string[] | string, @Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    const host = this.hostOf(req);
    const relative = Array.isArray(path) ? path.join('/') : path;
    if (relative === OPTIONS_SCRIPT) return this.send(res, host, 'text/javascript; charset=utf-8', ideOptionsScript(host));
    const asset = ideAsset(relative);
    if (!asset) throw new NotFoundException(`Cannot GET ${req.url}`);
    this.headers(res, host, asset.type);
    createReadStream(asset.file).pipe(res);
  }

  /** The Host the browser used (so the IDE's graphql-ws URL and CSP name this server); 404 in production. */
  private hostOf(req: IncomingMessage): string {
    if (this.config.production) throw new NotFoundException(`Cannot GET ${req.url}`);
    return safeHost(req.headers.host, `127.0.0.1:${this.config.port}`);
  }

  private headers(res: ServerResponse, host: string, type: string): void {
    res.statusCode = 200;
    res.setHeader('content-type', type);
    res.setHeader('cache-control', 'no-cache');
    // Replaces helmet's policy for these responses only (see altair-page.ts).
    res.setHeader('content-security-policy', ideContentSecurityPolicy(host));
  }

  private send(res: ServerResponse, host: string, type: string, body: string): void {
    this.headers(res, host, type);
    res.end(body);
  }
}
