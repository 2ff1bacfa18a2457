import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { Metrics } from './metrics.js';

interface Reply {
  status(code: number): Reply;
  setHeader(name: string, value: string): unknown;
  send(body: string): void;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * GET /metrics, Prometheus text format. Who may read it: everyone who reaches the port when
 * METRICS_TOKEN is unset (the metrics carry counts, durations and labels from a fixed set: no
 * ids, names, paths or tokens), else only a request with `Authorization: Bearer <METRICS_TOKEN>`.
 * Not a bearer token of the API: a scraper is no user. Scrapes are not in the request log (debug only).
 */
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async scrape(@Req() req: { headers: Record<string, string | string[] | undefined> }, @Res() res: Reply): Promise<void> {
    const expected = this.config.metricsToken;
    if (expected) {
      const header = req.headers.authorization;
      const given = (Array.isArray(header) ? header[0] : header)?.match(/^Bearer (.+)$/i)?.[1] ?? '';
      if (!timingSafeEqual(digest(given), digest(expected))) {
        res.setHeader('www-authenticate', 'Bearer realm="metrics"');
        res.status(401).setHeader('content-type', 'text/plain; charset=utf-8');
        res.send('METRICS_TOKEN required\n');
        return;
      }
    }
    res.setHeader('content-type', this.metrics.contentType);
    res.setHeader('cache-control', 'no-store');
    res.status(200).send(await this.metrics.render());
  }
}
