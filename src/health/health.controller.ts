import { Controller, Get, Req, Res } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { TokenVerifier } from '../identity/token-verifier.js';
import { Readiness, type FollowerState } from './readiness.js';
import type { AccessLogHealth } from '../audit/application/access-log-backlog.js';
import { INTEGRITY_POSITION_HEADER } from '../platform/http/integrity-headers.js';

type Request = { headers: Record<string, string | string[] | undefined> };
type Reply = { status(code: number): { json(body: unknown): void }; setHeader(name: string, value: string): unknown };

/**
 * Health, for orchestrators and operators (@nestjs/terminus):
 * - GET /health/live: the process answers (restart it when not); 200 also while shutting down;
 * - GET /health/ready: it can serve (see Readiness): 503 otherwise, with the indicators that are
 *   down, and while shutting down (ShutdownState: indicator `shutdown` down);
 * - GET /health: the contract's check (200 once ready, 503 otherwise, `shuttingDown: true` while
 *   draining), in the shape it always had.
 * All are open. Without a token they say only up or down (and why, in a word); a valid bearer
 * token of this product with one of its roles adds the details (positions, the retrying state, the store's own report):
 * none of them, nor any path, is for whoever reaches the port.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly readiness: Readiness,
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly verifier: TokenVerifier,
  ) {}

  @Get()
  async contract(@Req() req: Request, @Res() res: Reply): Promise<void> {
    const [s, detailed] = await Promise.all([this.readiness.snapshot(), this.detailed(req)]);
    const follower = (f: FollowerState) => ({ ok: f.ok, ...(detailed ? { checkpoint: f.checkpoint, ...(f.retrying ? { retrying: f.retrying } : {}) } : {}) });
    // The failing position in a header too, as GraphQL answers and documents give it (re-probe F4).
    if (detailed && s.integrityFailure?.position) res.setHeader(INTEGRITY_POSITION_HEADER, s.integrityFailure.position);
    // Stopped for good: unavailable; retrying a transient storage error: degraded (also 503, until it resumes).
    res.status(s.ready ? 200 : 503).json({
      status: s.ready ? 'ok' : s.stopped || s.shuttingDown ? 'unavailable' : 'degraded',
      ...(s.shuttingDown ? { shuttingDown: true } : {}),
      integrity: s.integrity,
      ...(detailed && s.integrityFailure ? { integrityFailure: s.integrityFailure } : {}),
      eventStore: {
        ok: s.eventStore.ok && !s.appendsFailing,
        adapter: s.eventStore.adapter,
        ...(s.appendsFailing ? { appends: 'failing' } : {}),
        ...(s.eventStore.warnings ? { warnings: s.eventStore.warnings } : {}),
        ...(detailed && (s.eventStore.details || s.appendsFailing) ? { details: { ...s.eventStore.details, ...(s.appendsFailing ? { appendsFailing: s.appendsFailing } : {}) } } : {}),
      },
      projections: follower(s.projections),
      processManager: follower(s.reactions),
      liveEvents: follower(s.liveEvents),
      accessLog: accessLogOf(s.accessLog, detailed),
      // Only while the clock is behind the log, so the ordinary body keeps its shape.
      ...(s.clock ? { clock: { behindLog: true, ...(detailed ? { behindMs: s.clock.behindMs, newestRecordedAt: s.clock.newestRecordedAt } : {}) } } : {}),
    });
  }

  @Get('live')
  @HealthCheck({ swaggerDocumentation: false })
  live() {
    return this.health.check([() => this.indicators.check('process').up()]);
  }

  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  async ready(@Req() req: Request) {
    const [s, detailed] = await Promise.all([this.readiness.snapshot(), this.detailed(req)]);
    return this.health.check([
      // Appends failing on storage too, as /health says (operations probe 10-c M1: ready on a full disk).
      () =>
        this.indicate(
          'eventStore',
          s.eventStore.ok && !s.appendsFailing,
          { adapter: s.eventStore.adapter, ...(s.appendsFailing ? { appends: 'failing' } : {}) },
          detailed && (s.eventStore.details || s.appendsFailing) ? { details: { ...s.eventStore.details, ...(s.appendsFailing ? { appendsFailing: s.appendsFailing } : {}) } } : {},
        ),
      () => this.indicate('integrity', s.integrity === 'OK', { state: s.integrity }, detailed && s.integrityFailure ? s.integrityFailure : {}),
      () => this.indicate('projections', s.projections.ok, { state: s.projections.state }, detailed ? followerDetails(s.projections) : {}),
      () => this.indicate('reactions', s.reactions.ok, { state: s.reactions.state }, detailed ? followerDetails(s.reactions) : {}),
      () => this.indicate('liveEvents', s.liveEvents.ok, { state: s.liveEvents.state }, detailed ? followerDetails(s.liveEvents) : {}),
      () => {
        const { ok, ...rest } = accessLogOf(s.accessLog, detailed);
        return this.indicate('accessLog', ok, rest, {});
      },
      // Only while draining, so the ordinary body keeps its shape.
      ...(s.shuttingDown ? [() => this.indicate('shutdown', false, { state: 'draining' }, {})] : []),
    ]);
  }

  private indicate(key: string, ok: boolean, summary: Record<string, unknown>, details: Record<string, unknown>): HealthIndicatorResult {
    const session = this.indicators.check(key);
    return ok ? session.up({ ...summary, ...details }) : session.down({ ...summary, ...details });
  }

  /**
   * A valid bearer token of this product with at least one of its roles; anything else (none,
   * expired, forged, or a token whose roles this product does not know) gets the summary.
   */
  private async detailed(req: Request): Promise<boolean> {
    const header = req.headers.authorization;
    const authorization = Array.isArray(header) ? header[0] : header;
    if (!authorization) return false;
    try {
      return (await this.verifier.verifyAuthorization(authorization)).roles.length > 0;
    } catch {
      return false;
    }
  }
}

/** The access log's state: ok, and while not, why in a word (writes failing, queue full); the numbers with details. */
function accessLogOf(a: AccessLogHealth, detailed: boolean): Record<string, unknown> & { ok: boolean } {
  const state = a.writesFailing ? 'writes-failing' : a.ok ? 'writing' : 'queue-full';
  return { ok: a.ok, state, ...(detailed ? { details: { queued: a.queued, maxQueued: a.maxQueued, dropped: a.dropped, ...(a.writesFailing ? { writesFailing: a.writesFailing } : {}) } } : {}) };
}

function followerDetails(f: FollowerState): Record<string, unknown> {
  return { checkpoint: f.checkpoint, ...(f.retrying ? { retrying: f.retrying } : {}) };
}

