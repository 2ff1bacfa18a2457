import { Injectable } from '@nestjs/common';

/**
 * Whether the process is shutting down (main.ts's stop(), on SIGTERM or SIGINT): from then on
 * GET /health/ready and GET /health answer 503 while the requests in flight finish, so that a
 * load balancer still holding a connection sends nothing new. Liveness stays 200 (the process
 * answers; restarting it would cut the drain short). Kept apart from Readiness so main.ts can
 * import it without loading the application.
 */
@Injectable()
export class ShutdownState {
  private draining = false;

  get shuttingDown(): boolean {
    return this.draining;
  }

  begin(): void {
    this.draining = true;
  }
}
