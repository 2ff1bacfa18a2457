import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { IntegrityMonitor } from '../../platform/integrity-monitor.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { JsonLogger } from '../../shared/logging/json-logger.js';
import { RebuildProjectionsInput, RebuildReport } from './audit.types.js';

/** Operational mutations (ADMIN): they change no domain data. */
@Resolver()
export class OperationsResolver {
  private running: Promise<RebuildReport> | null = null;
  private readonly log: JsonLogger;

  constructor(
    private readonly runner: ProjectionRunner,
    private readonly integrity: IntegrityMonitor,
    logger: JsonLogger,
  ) {
    this.log = logger.child('operations');
  }

  @Mutation(() => RebuildReport, {
    description:
      'ADMIN only (an operational task: it writes no domain data): drops every read model and replays the whole log into it. Queries answer from partly rebuilt read models until it ends, and say so (extensions.readModels, state catching-up, as /health/ready, 503 meanwhile); ' +
      'a second call while one runs waits for that one. Errors: UNAUTHENTICATED; FORBIDDEN (another role); INTEGRITY_BROKEN (the log fails verification: the read models may be the last copy of what it said).',
  })
  rebuildProjections(@Args('input', { type: () => RebuildProjectionsInput, nullable: true, description: 'Optional; carries only a commandId.' }) _input?: RebuildProjectionsInput | null): Promise<RebuildReport> {
    // No command runs it, so no write gate did: a rebuild over an edited log copied the edit over
    // the read models, which still held what the log said (auditor probe of 2026-12-06, F1).
    this.integrity.assertWritable();
    if (!this.running) {
      const started = performance.now();
      this.log.info('rebuilding projections');
      this.running = this.runner
        .rebuild()
        .then(({ events, position }) => {
          const report = { eventsApplied: events, position, durationMs: Math.round(performance.now() - started) };
          this.log.info('projections rebuilt', { ...report });
          return report;
        })
        .finally(() => {
          this.running = null;
        });
    }
    return this.running;
  }
}
