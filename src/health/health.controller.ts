import { Controller, Get, Inject, Res } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import { ProcessManager } from '../shared/application/process-manager.js';

/** GET /health: 200 with the event store's state once it is ready, 503 otherwise. */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly reactions: ProcessManager,
  ) {}

  @Get()
  async health(@Res() res: { status(code: number): { json(body: unknown): void } }): Promise<void> {
    let store;
    try {
      store = await this.store.health();
    } catch (error) {
      store = { ok: false, adapter: this.store.adapterName, details: { error: (error as Error).message } };
    }
    const projectionsOk = !this.projections.failed;
    const reactionsOk = !this.reactions.failed;
    const ok = store.ok && projectionsOk && reactionsOk;
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'unavailable',
      eventStore: store,
      projections: { ok: projectionsOk, checkpoint: this.projections.checkpoint },
      processManager: { ok: reactionsOk, checkpoint: this.reactions.checkpoint },
    });
  }
}
