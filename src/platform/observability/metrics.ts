import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventStore } from '../../event-store/event-store.port.js';
import { decodePosition } from '../../event-store/hash-chain.js';
import type { AppendOutcome, EventStoreInstrumentation } from '../../event-store/instrumentation.js';
import type { ReplayCacheResult, ReplayInstrumentation } from '../../projections/as-of-replay.js';
import type { CommandInstrumentation } from '../../shared/application/instrumentation.js';
import { describeError, isTransientStorageError } from '../../shared/application/transient-errors.js';

/** Node's process metrics, collected once per process (they observe the process, not one application). */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** A follower of the log whose lag is measured: the projections, the reactions (process manager). */
export interface LagFollower {
  readonly checkpoint: string | null;
  /**
   * For a follower one instance runs for all (the reactions, the webhooks on PostgreSQL): whether
   * this one does. Another instance's follower is not measured here: its checkpoint here is stale
   * (probe p10: 32,240 events "behind" on every other instance, and a former leader's last value
   * kept forever). Absent: every instance runs its own (the projections).
   */
  readonly isLeading?: boolean;
}

/**
 * What the webhook gauges read of the dispatcher's state (src/notifications): the notice being
 * retried, if any, and whether this instance delivers, with the last position it handled (its lag).
 */
export interface WebhookDeliveryGauge {
  readonly retrying?: { readonly since: string };
  readonly leading: boolean;
  /** The last position handled (notice delivered, or none due). */
  readonly handled: string | null;
}

/** Counted up to this many events when positions are not dense numbers (KurrentDB). */
const LAG_COUNT_CAP = 10_000;
/** How long after the last failed append on storage the store stays "appends failing" without a new attempt (Metrics.appendsFailing). */
export const APPENDS_FAILING_HOLD_MS = 15_000;

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The application's Prometheus metrics (prom-client), one registry per application (a test
 * process starts several) plus Node's process metrics. It implements the small instrumentation
 * interfaces the lower layers declare (event store, command pipeline, replays), so that they
 * never import prom-client; lags are measured when /metrics is read.
 */
export class Metrics implements EventStoreInstrumentation, CommandInstrumentation, ReplayInstrumentation {
  readonly registry = new Registry();
  private readonly exposed: Registry;
  private followers: { store: EventStore; followers: Record<string, LagFollower> } | null = null;

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests: duration by method, route (the matched route, or "unmatched") and status code.',
    labelNames: ['method', 'route', 'status'],
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly graphqlDuration = new Histogram({
    name: 'risk_ledger_graphql_operation_duration_seconds',
    help: 'GraphQL operations over HTTP that passed validation: duration by operation (its root field as the schema names it, or "multiple"), type and outcome (ok, or the first error code).',
    labelNames: ['operation', 'type', 'outcome'],
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly commands = new Counter({
    name: 'risk_ledger_commands_total',
    help: 'Commands through the pipeline (clients and reactions) by type (the decider command) and result (ok, or the error code).',
    labelNames: ['type', 'result'],
    registers: [this.registry],
  });
  private readonly commandDuration = new Histogram({
    name: 'risk_ledger_command_duration_seconds',
    help: 'Commands: duration from the first read to the answer (read-your-writes included), by type.',
    labelNames: ['type'],
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly appendDuration = new Histogram({
    name: 'risk_ledger_event_store_append_duration_seconds',
    help: 'Event store appends (append and appendMultiple): latency by outcome (ok, conflict, error).',
    labelNames: ['outcome'],
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly appendBatch = new Histogram({
    name: 'risk_ledger_event_store_append_batch_size',
    help: 'Events per append (successful appends).',
    buckets: [1, 2, 3, 5, 10, 20, 50, 100, 500, 1000, 5000],
    registers: [this.registry],
  });
  private readonly replays = new Counter({
    name: 'risk_ledger_replay_cache_total',
    help: 'asOf / atPosition replays by how they were served: hit (a cached replay), shared (one being built), partial (a cached earlier one plus later events), miss (from the start of the log).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly lagEvents = new Gauge({
    name: 'risk_ledger_follower_lag_events',
    help: 'Events in the log not yet applied, by follower (projections; reactions and webhooks on the instance that runs them).',
    labelNames: ['follower'],
    registers: [this.registry],
    collect: () => this.measureLag(),
  });
  private readonly lagSeconds = new Gauge({
    name: 'risk_ledger_follower_lag_seconds',
    help: 'Age of the oldest event not yet applied (0 when caught up), by follower (projections; reactions and webhooks on the instance that runs them).',
    labelNames: ['follower'],
    registers: [this.registry],
    collect: () => this.measureLag(),
  });
  private readonly webhookAttempts = new Counter({
    name: 'risk_ledger_webhook_delivery_attempts_total',
    help: 'Webhook notice deliveries attempted by this instance, by outcome (delivered: answered 2xx; failed: anything else, then retried).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly webhookFailing = new Gauge({
    name: 'risk_ledger_webhook_failing_seconds',
    help: 'How long the webhook notice now being retried has been failing (0 when none is): nothing after it is sent meanwhile.',
    registers: [this.registry],
    collect: () => this.measureWebhooks(),
  });
  private webhookState: (() => WebhookDeliveryGauge) | null = null;
  /** One measurement serves both lag gauges of a scrape (the registry collects them concurrently). */
  private lagMeasurement: Promise<void> | null = null;

  constructor() {
    this.exposed = Registry.merge([processMetrics(), this.registry]);
    // Series that exist from the start read 0 rather than missing.
    for (const result of ['hit', 'shared', 'partial', 'miss']) this.replays.labels({ result }).inc(0);
  }

  get contentType(): string {
    return this.exposed.contentType;
  }

  /** The text exposition of every metric. */
  render(): Promise<string> {
    return this.exposed.metrics();
  }

  /** Lags are measured against `store`'s head when the metrics are read. */
  followLag(store: EventStore, followers: Record<string, LagFollower>): void {
    this.followers = { store, followers };
  }

  /** Webhook notices are delivered (WEBHOOK_URL set): their series exist from now on, read 0 until something happens. */
  followWebhooks(state: () => WebhookDeliveryGauge): void {
    this.webhookState = state;
    for (const outcome of ['delivered', 'failed'] as const) this.webhookAttempts.labels({ outcome }).inc(0);
    this.webhookFailing.set(0);
  }

  webhookAttempted(outcome: 'delivered' | 'failed'): void {
    this.webhookAttempts.labels({ outcome }).inc();
  }

  private measureWebhooks(): void {
    const since = this.webhookState?.().retrying?.since;
    this.webhookFailing.set(since ? Math.max(0, (Date.now() - Date.parse(since)) / 1000) : 0);
  }

  // ---- instrumentation of the lower layers

  appended({ seconds, events, outcome, error }: { seconds: number; events: number; outcome: AppendOutcome; error?: unknown }): void {
    this.appendDuration.labels({ outcome }).observe(seconds);
    if (outcome === 'ok') this.appendBatch.observe(events);
    // Appends failing on storage (a full disk, a lost database), none succeeded since: /health says
    // degraded (readiness.ts), which it did not while every mutation failed on a full disk.
    if (outcome === 'ok') this.failingAppends = undefined;
    else if (outcome === 'error' && isTransientStorageError(error)) {
      const since = this.failingAppends?.since ?? new Date().toISOString();
      this.failingAppends = { since, attempts: (this.failingAppends?.attempts ?? 0) + 1, lastError: describeError(error), lastAt: Date.now() };
    }
  }

  /**
   * Since when appends fail on storage with none succeeding since, or undefined. Half-open: once
   * no append has failed for APPENDS_FAILING_HOLD_MS, the store is given another chance (ready
   * again) until the next append says: an instance taken out of service by its readiness got no
   * writes, so nothing cleared the flag once the disk was freed (operations probe 10-c M1).
   */
  get appendsFailing(): { since: string; attempts: number; lastError: string } | undefined {
    const failing = this.failingAppends;
    if (!failing || Date.now() - failing.lastAt > APPENDS_FAILING_HOLD_MS) return undefined;
    const { lastAt: _lastAt, ...shown } = failing;
    return shown;
  }
  private failingAppends?: { since: string; attempts: number; lastError: string; lastAt: number };

  commandFinished({ type, result, seconds }: { type: string; result: string; seconds: number }): void {
    this.commands.labels({ type, result }).inc();
    this.commandDuration.labels({ type }).observe(seconds);
  }

  replayed(result: ReplayCacheResult): void {
    this.replays.labels({ result }).inc();
  }

  // ---- the HTTP and GraphQL edges

  httpRequest(sample: { method: string; route: string; status: number; seconds: number }): void {
    this.httpDuration.labels({ method: sample.method, route: sample.route, status: String(sample.status) }).observe(sample.seconds);
  }

  /** `operation` is a root field of the schema (or `multiple`): bounded by the schema, never client text. */
  graphqlOperation(sample: { operation: string; type: string; outcome: string; seconds: number }): void {
    this.graphqlDuration.labels({ operation: sample.operation, type: sample.type, outcome: sample.outcome }).observe(sample.seconds);
  }

  private measureLag(): Promise<void> {
    this.lagMeasurement ??= this.measureLagNow().finally(() => (this.lagMeasurement = null));
    return this.lagMeasurement;
  }

  private async measureLagNow(): Promise<void> {
    if (!this.followers) return;
    const { store } = this.followers;
    // Webhook notices are a follower too: a receiver that fails now and then makes them fall
    // behind while no single notice fails for long (soak probe p9: 4 s -> 200 s behind, unseen).
    const webhooks = this.webhookState?.();
    const followers: Record<string, LagFollower> = { ...this.followers.followers, ...(webhooks ? { webhooks: { checkpoint: webhooks.handled, isLeading: webhooks.leading } } : {}) };
    try {
      const head = await store.headPosition();
      for (const [follower, f] of Object.entries(followers)) {
        if (f.isLeading === false) {
          // The instance that runs it reports it (once it leads again, this one does).
          this.lagEvents.remove({ follower });
          this.lagSeconds.remove({ follower });
          continue;
        }
        const checkpoint = f.checkpoint;
        if (head === null || (checkpoint !== null && checkpoint >= head)) {
          this.lagEvents.labels({ follower }).set(0);
          this.lagSeconds.labels({ follower }).set(0);
          continue;
        }
        const [oldest] = await store.readAll({ after: checkpoint, maxCount: 1 });
        this.lagEvents.labels({ follower }).set(await this.eventsBetween(store, checkpoint, head));
        this.lagSeconds.labels({ follower }).set(oldest ? Math.max(0, (Date.now() - Date.parse(oldest.recordedAt)) / 1000) : 0);
      }
    } catch {
      // A store that cannot answer now: the gauges keep their last values (readiness says why).
    }
  }

  /** Dense numeric positions (SQLite, memory, PostgreSQL): their difference; otherwise counted, up to a cap. */
  private async eventsBetween(store: EventStore, checkpoint: string | null, head: string): Promise<number> {
    try {
      return Number(decodePosition(head) - (checkpoint === null ? 0n : decodePosition(checkpoint)));
    } catch {
      const events = await store.readAll({ after: checkpoint, maxCount: LAG_COUNT_CAP });
      return events.length;
    }
  }
}
