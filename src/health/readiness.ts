import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore, type StoreHealth } from '../event-store/event-store.port.js';
import { IntegrityMonitor, type IntegrityStatus } from '../platform/integrity-monitor.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import type { ClockBehindLog } from '../projections/clock-behind-log.js';
import { ProcessManager } from '../shared/application/process-manager.js';
import { LiveEvents } from '../shared/application/live-events.js';
import type { RetryState } from '../shared/application/transient-errors.js';
import { ShutdownState } from './shutdown-state.js';
import { Metrics } from '../platform/observability/metrics.js';
import { ACCESS_LOG, type AccessLog } from '../audit/application/access-log-port.js';
import type { AccessLogHealth } from '../audit/application/access-log-backlog.js';

/** A store that does not answer its health check within this is not ready. */
const STORE_TIMEOUT_MS = 2_000;

export interface FollowerState {
  ok: boolean;
  /** running, catching up (behind the log since the start), retrying (a transient storage error, with backoff) or stopped (for good). */
  state: 'running' | 'catching-up' | 'retrying' | 'stopped';
  checkpoint: string | null;
  retrying?: RetryState;
}

export interface ReadinessSnapshot {
  ready: boolean;
  /** Draining before exit (ShutdownState): not ready, whatever the indicators say. */
  shuttingDown: boolean;
  /** Not ready for good (until an operator acts), as opposed to retrying by itself. */
  stopped: boolean;
  eventStore: StoreHealth;
  integrity: IntegrityStatus;
  integrityFailure?: { position: string | null; reason: string | null };
  projections: FollowerState;
  reactions: FollowerState;
  /** The feed of graphql-ws subscriptions (LiveEvents). */
  liveEvents: FollowerState;
  /** Appends failing on storage since `since`, none succeeded since (a full disk, a lost database): degraded. */
  appendsFailing?: { since: string; attempts: number; lastError: string };
  /** The access log's unwritten entries: not ok while its writes fail or its queue is full (then requests' commands are refused). */
  accessLog: AccessLogHealth;
  /** The server's clock behind the log it has applied (clock-behind-log.ts): reported, not a reason to stop serving. */
  clock?: ClockBehindLog;
}

export function follower(f: { failed: unknown; retrying: RetryState | undefined; checkpoint: string | null; caughtUpOnce?: boolean }): FollowerState {
  const retrying = f.retrying;
  const state = f.failed ? 'stopped' : retrying ? 'retrying' : f.caughtUpOnce === false ? 'catching-up' : 'running';
  return { ok: state === 'running', state, checkpoint: f.checkpoint, ...(retrying ? { retrying } : {}) };
}

/**
 * Whether this instance can serve: the event store answers, the log verifies (integrity not
 * BROKEN), and the projections and reactions follow the log (neither stopped nor retrying a
 * storage error, during which commands lose read-your-writes), and so does the feed of the
 * graphql-ws subscriptions; and the access log can record what is done (its writes succeed, its
 * queue is below its cap: access-log-backlog.ts). GET /health and /health/ready.
 */
@Injectable()
export class Readiness {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly reactions: ProcessManager,
    private readonly live: LiveEvents,
    private readonly integrity: IntegrityMonitor,
    private readonly shutdown: ShutdownState,
    private readonly metrics: Metrics,
    @Inject(ACCESS_LOG) private readonly accessLog: AccessLog,
  ) {}

  async snapshot(): Promise<ReadinessSnapshot> {
    const eventStore = await this.storeHealth();
    const integrity = this.integrity.status;
    const failure = this.integrity.failure;
    const projections = follower(this.projections);
    const reactions = follower(this.reactions);
    const liveEvents = follower({ failed: this.live.failed, retrying: this.live.retrying, checkpoint: this.live.checkpoint });
    const shuttingDown = this.shutdown.shuttingDown;
    const appendsFailing = this.metrics.appendsFailing;
    const accessLog = this.accessLog.backlog.health();
    const clock = this.projections.clockWatch.behind();
    return {
      ready: !shuttingDown && eventStore.ok && integrity === 'OK' && projections.ok && reactions.ok && liveEvents.ok && !appendsFailing && accessLog.ok,
      shuttingDown,
      stopped: !eventStore.ok || integrity === 'BROKEN' || projections.state === 'stopped' || reactions.state === 'stopped' || liveEvents.state === 'stopped',
      eventStore,
      integrity,
      ...(failure ? { integrityFailure: { position: failure.firstBrokenPosition ?? null, reason: failure.reason ?? null } } : {}),
      projections,
      reactions,
      liveEvents,
      ...(appendsFailing ? { appendsFailing } : {}),
      accessLog,
      ...(clock ? { clock } : {}),
    };
  }

  private async storeHealth(): Promise<StoreHealth> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.store.health(),
        new Promise<StoreHealth>((resolve) => {
          timer = setTimeout(() => resolve({ ok: false, adapter: this.store.adapterName, details: { error: `no answer within ${STORE_TIMEOUT_MS} ms` } }), STORE_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      return { ok: false, adapter: this.store.adapterName, details: { error: (error as Error).message } };
    } finally {
      clearTimeout(timer);
    }
  }
}
