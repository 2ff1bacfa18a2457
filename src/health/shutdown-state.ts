import { Injectable } from '@nestjs/common';

/**
 * Whether the process is shutting down (server.ts's stop(), on SIGTERM or SIGINT): from then on
 * GET /health/ready and GET /health answer 503 while the requests in flight finish, so that a
 * load balancer still holding a connection sends nothing new. Liveness stays 200 (the process
 * answers; restarting it would cut the drain short). Kept apart from Readiness so server.ts can
 * import it without loading the application.
 *
 * Two steps: `begin()` at the signal (requests still run, each answer closes its connection),
 * `closeToRequests()` once the requests in flight have finished (none runs from then on: see
 * shutdown-edge.ts).
 */
@Injectable()
export class ShutdownState {
  private draining = false;
  private closed = false;

  get shuttingDown(): boolean {
    return this.draining;
  }

  /** No request is run any more: the open subscriptions are being handed what the last ones committed. */
  get closedToRequests(): boolean {
    return this.closed;
  }

  begin(): void {
    this.draining = true;
  }

  closeToRequests(): void {
    this.draining = true;
    this.closed = true;
  }
}
