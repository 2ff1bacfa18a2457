import { Controller, Get, Inject, Res } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import { IntegrityMonitor } from '../platform/integrity-monitor.js';
import { ProcessManager } from '../shared/application/process-manager.js';

/**
 * GET /health: 200 with the event store's state once it is ready, 503 otherwise (status
 * `unavailable`, with `integrity: "BROKEN"` when the log fails verification, or `degraded` while
 * the projections or reactions retry a transient storage error).
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly reactions: ProcessManager,
    private readonly integrity: IntegrityMonitor,
  ) {}

  @Get()
  async health(@Res() res: { status(code: number): { json(body: unknown): void } }): Promise<void> {
    let store;
    try {
      store = await this.store.health();
    } catch (error) {
      store = { ok: false, adapter: this.store.adapterName, details: { error: (error as Error).message } };
    }
    // Stopped for good: unavailable. Retrying a transient storage error (a full disk…): degraded,
    // also 503 (commands still commit, but answer without read-your-writes) until it resumes.
    const projectionsRetrying = this.projections.retrying;
    const reactionsRetrying = this.reactions.retrying;
    const projectionsOk = !this.projections.failed && !projectionsRetrying;
    const reactionsOk = !this.reactions.failed && !reactionsRetrying;
    // A log that fails verification: 503 with integrity BROKEN (mutations are refused; queries go on).
    const integrity = this.integrity.status;
    const failure = this.integrity.failure;
    const ok = store.ok && projectionsOk && reactionsOk && integrity !== 'BROKEN';
    const stopped = !store.ok || Boolean(this.projections.failed) || Boolean(this.reactions.failed) || integrity === 'BROKEN';
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : stopped ? 'unavailable' : 'degraded',
      integrity,
      ...(failure ? { integrityFailure: { position: failure.firstBrokenPosition, reason: failure.reason } } : {}),
      eventStore: store,
      projections: { ok: projectionsOk, checkpoint: this.projections.checkpoint, ...(projectionsRetrying ? { retrying: projectionsRetrying } : {}) },
      processManager: { ok: reactionsOk, checkpoint: this.reactions.checkpoint, ...(reactionsRetrying ? { retrying: reactionsRetrying } : {}) },
    });
  }
}
