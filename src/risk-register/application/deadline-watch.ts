/**
 * Deadlines that pass with time, put in the log: every DEADLINE_CHECK_INTERVAL_MS (and once at
 * start) the watch reads the register at the clock's instant, finds the risks with a control
 * overdue (isControlOverdue) or a review due (reviewDue, the rule behind risksDueForReview) not yet
 * recorded, and asks each risk's decider to record them (RecordPassedDeadlines). The decider
 * decides on the stream, so a ControlBecameOverdue or RiskReviewBecameDue is recorded once even
 * when several instances watch at the same time; the register is only the list of candidates.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { READ_DB, type ReadDb } from '../../projections/read-model-database.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import type { DomainActor } from '../../shared/domain/decider.js';
import { JsonLogger } from '../../shared/logging/json-logger.js';
import { newRequestId } from '../../shared/logging/request-id.js';
import { overdueControlsOf } from '../domain/control-lifecycle.js';
import { reviewDue, reviewDueRecorded } from '../domain/review.js';
import { staleWithoutQuestion } from '../domain/plan-and-consent.js';
import { riskDecider } from '../domain/risk.decider.js';
import { riskStreamId } from '../domain/risk.events.js';
import type { RiskState } from '../domain/risk.state.js';
import { RiskRegisterQueries } from '../projections/risk-register.projection.js';
import { RiskWriteContext } from './write-context.js';

/** Risks read from the register per step of a pass (one synchronous step of the event loop each), and the most of their stored text. */
const WATCH_PAGE = 200;
const WATCH_PAGE_CHARS = 2 * 1024 * 1024;

/** How soon the watch looks again while the read models catch up with the log at start. */
const CATCH_UP_RECHECK_MS = 1_000;

export const DEADLINE_WATCH_ACTOR: DomainActor = { id: 'system:deadline-watch', name: 'Risk Ledger deadline watch', roles: [] };

/** Whether something has fallen due at `at` that the risk has not recorded yet. */
export function hasUnrecordedDeadline(risk: RiskState, criteria: Parameters<typeof reviewDue>[1] | undefined, at: string): boolean {
  if (overdueControlsOf(risk, at).some(({ control, progress }) => progress.overdueRecordedFor !== control.dueDate)) return true;
  const due = criteria ? reviewDue(risk, criteria, at) : undefined;
  return due !== undefined && !reviewDueRecorded(risk, due);
}

@Injectable()
export class DeadlineWatch implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;
  private readonly log: JsonLogger;

  constructor(
    private readonly executor: CommandExecutor,
    private readonly context: RiskWriteContext,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(READ_DB) private readonly db: ReadDb,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    logger: JsonLogger,
    private readonly projections: ProjectionRunner,
  ) {
    this.log = logger.child('deadline-watch');
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.check().finally(() => this.schedule(this.projections.caughtUpOnce ? this.config.deadlineCheckIntervalMs : CATCH_UP_RECHECK_MS));
    }, delayMs);
    this.timer.unref();
  }

  /** One pass at the clock's instant; resolves with the number of risks that recorded something. */
  check(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<number> {
    // A start behind the log (read models lost, or rebuilt for a new schema): the register lacks
    // the newest events and every command would wait for them (10 s each, probe p10); the first
    // pass comes once they have caught up.
    if (!this.projections.caughtUpOnce) return 0;
    const at = this.clock.now().toISOString();
    try {
      const register = new RiskRegisterQueries(this.db);
      const criteria = register.criteriaInForce()?.definition;
      // Page by page, the event loop free in between: a register of thousands of risks read in one
      // go held every request for tens of milliseconds at each pass.
      const candidates: RiskState[] = [];
      for (let after = 0; !this.stopped; ) {
        const page = register.statesAfter(after, WATCH_PAGE, WATCH_PAGE_CHARS);
        for (const { state } of page) if (hasUnrecordedDeadline(state, criteria, at) || staleWithoutQuestion(state)) candidates.push(state);
        if (page.length === 0) break;
        after = page[page.length - 1]!.seq;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (candidates.length === 0) return 0;
      // The decider reads the criteria from the log, not from the register (which may lag).
      const inForce = await this.context.criteriaInForce();
      let recorded = 0;
      for (const risk of candidates) {
        if (this.stopped) break;
        const ctx = { actor: DEADLINE_WATCH_ACTOR, at, correlationId: newRequestId(), causationId: `deadline-watch:${at}` };
        try {
          const stream = { streamId: riskStreamId(risk.id), decider: riskDecider };
          const stale = staleWithoutQuestion(risk);
          // Read afresh by the executor: asked meanwhile (the reaction) is already satisfied.
          const asked = stale ? await this.executor.execute(stream, { type: 'AwaitResidualConsent', riskId: risk.id, ...stale, actor: DEADLINE_WATCH_ACTOR, at }, ctx) : undefined;
          if (asked?.events.length) this.log.info('stale consent asked again', { riskId: risk.id, planId: stale!.planId });
          const result = await this.executor.execute(stream, { type: 'RecordPassedDeadlines', riskId: risk.id, actor: DEADLINE_WATCH_ACTOR, at, criteria: inForce }, ctx);
          if (result.events.length > 0 || asked?.events.length) {
            recorded += 1;
            if (result.events.length > 0) this.log.info('deadlines recorded', { riskId: risk.id, events: result.events.map((e) => e.type) });
          }
        } catch (error) {
          // One risk's failure does not hold up the others; the next pass tries it again.
          if (!this.stopped) this.log.warn('deadline not recorded; retrying at the next interval', { riskId: risk.id, at, error: error instanceof Error ? error.message : String(error) });
        }
      }
      return recorded;
    } catch (error) {
      // A transient storage error: the next pass tries again.
      if (!this.stopped) this.log.warn('deadline check failed; retrying at the next interval', { at, error: error instanceof Error ? error.message : String(error) });
      return 0;
    }
  }
}
