import type { EventStore, RecordedEvent, SubscriptionHandle } from '../../event-store/event-store.port.js';
import { LeadershipPoll, type ReactionsCoordination } from '../../shared/application/reactions-coordination.js';
import { describeError } from '../../shared/application/transient-errors.js';
import { TRUST_EVERYTHING, type LogTrust } from '../../shared/application/log-trust.js';
import type { JsonLogger } from '../../shared/logging/json-logger.js';
import { noticeBody, signatureOf, SIGNATURE_HEADER, type Notice } from '../domain/notice.js';
import { retryDelayMs, type RetryPolicy } from '../domain/retry-schedule.js';
import { isNoticeSource, noticeFor, type NoticeSources } from './notice-mapping.js';
import { postWebhook, type PostOutcome, type WebhookPost } from './webhook-client.js';

/** The dispatcher's checkpoint name (beside the reactions' in process_checkpoints). */
export const WEBHOOK_CHECKPOINT = 'webhooks';

/** How often an instance that does not deliver tries to take over (PostgreSQL: another one may die). */

/** Past a run of this many events that give no notice, the checkpoint is saved anyway (a restart then re-reads fewer). */
const SAVE_EVERY_SKIPPED = 500;

export interface WebhookDispatcherOptions {
  url: URL;
  /** The URL as logs show it (no user info, no query). */
  displayUrl: string;
  secret: string;
  timeoutMs: number;
  retry: RetryPolicy;
  /** Jitter source (Math.random). */
  random?: () => number;
  /** The HTTP call (postWebhook). */
  post?: (post: WebhookPost) => Promise<PostOutcome>;
  /** Told of every delivery attempt's outcome (the platform's metrics). */
  instrumentation?: WebhookInstrumentation;
  /** The log's verification: no notice is sent for an event it has not verified (default: everything trusted). */
  trust?: LogTrust;
}

/** What the dispatcher reports, for metrics (src/platform/observability/metrics.ts implements it). */
export interface WebhookInstrumentation {
  webhookAttempted(outcome: 'delivered' | 'failed'): void;
}

/** What operators see of the delivery (logged, and readable here). */
export interface WebhookDeliveryState {
  leading: boolean;
  /** The last log position whose notice (if any) was delivered, as saved. */
  checkpoint: string | null;
  /** The last log position handled (its notice delivered, or none due): the checkpoint saves it only now and then. */
  handled: string | null;
  delivered: number;
  /** The notice being retried, if the receiver is failing. */
  retrying?: { noticeId: string; type: string; position: string; attempts: number; since: string; lastError: string; nextAttemptInMs: number };
}

class Stopped extends Error {
  constructor() {
    super('webhook delivery stopped');
  }
}

/**
 * Delivers the log's notices to WEBHOOK_URL, at least once, in log order. It follows the store
 * from its own checkpoint like the process manager does, and moves the checkpoint past an event
 * only once that event's notice was answered 2xx: a failure is retried (exponential backoff with
 * jitter) until the receiver takes it, and nothing after it is sent meanwhile, so no notice is
 * ever skipped or overtaken. A crash or restart resumes from the checkpoint and may send the last
 * notice again (same `id`: receivers deduplicate). With PostgreSQL one instance delivers (an
 * advisory lock of its own), from a checkpoint in the shared database.
 */
export class WebhookDispatcher {
  private subscription?: SubscriptionHandle;
  /** Grows on every (re)subscription and on stop: work of an older subscription stops. */
  private generation = 0;
  private abort = new AbortController();
  private leading = false;
  private stopped = false;
  private resubscribeTimer?: NodeJS.Timeout;
  private readFailures = 0;
  private saved: string | null = null;
  private skippedSinceSave = 0;
  private deliveredCount = 0;
  private retryingNow?: WebhookDeliveryState['retrying'];
  private handled: string | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly coordination: ReactionsCoordination,
    private readonly sources: NoticeSources,
    private readonly upcast: (e: RecordedEvent) => RecordedEvent,
    private readonly options: WebhookDispatcherOptions,
    private readonly log: JsonLogger,
  ) {}

  async start(): Promise<void> {
    this.coordination.onLost(() => void this.demote());
    try {
      if (await this.lead()) return;
    } catch (error) {
      this.log.warn('webhook notices: could not take the lead yet: retrying', { error: describeError(error) });
    }
    this.watchForLeadership();
  }

  get state(): WebhookDeliveryState {
    return { leading: this.leading, checkpoint: this.saved, handled: this.handled ?? this.saved, delivered: this.deliveredCount, ...(this.retryingNow ? { retrying: this.retryingNow } : {}) };
  }

  private async lead(): Promise<boolean> {
    if (this.stopped || !(await this.coordination.tryLead())) return false;
    let checkpoint: { position: string | null } | undefined;
    try {
      checkpoint = this.stopped ? undefined : await this.coordination.load(WEBHOOK_CHECKPOINT);
    } catch (error) {
      if (!this.stopped) throw error;
    }
    // stop() came while the lock was being won or the checkpoint read: never follow after it, and
    // give the lead back (closing the coordination ends the session holding the lock).
    if (this.stopped) {
      await this.coordination.close();
      return false;
    }
    // No checkpoint (first start with WEBHOOK_URL, or its file was lost): from the start of the log,
    // so that nothing is ever skipped; the receiver drops the ids it already has.
    this.saved = checkpoint?.position ?? null;
    this.leading = true;
    this.log.info('webhook notices are delivered from this instance', { url: this.options.displayUrl, from: this.saved, fromLogStart: !checkpoint });
    this.follow(this.saved);
    return true;
  }

  /** Another instance delivers: try to take over every second (it may die). */
  private readonly leadership = new LeadershipPoll(
    () => this.lead(),
    () => this.stopped,
    (error) => this.log.warn('webhook notices: could not try to lead', { error: describeError(error) }),
  );

  private watchForLeadership(): void {
    this.leadership.schedule();
  }

  private async demote(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.log.warn('webhook notices: lost the lead, another instance may deliver them', { checkpoint: this.saved });
    await this.halt();
    this.watchForLeadership();
  }

  /** Ends the current subscription and any delivery or wait in flight. */
  private async halt(): Promise<void> {
    this.generation++;
    this.abort.abort();
    clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = undefined;
    this.retryingNow = undefined;
    await this.subscription?.close();
    this.subscription = undefined;
  }

  private follow(from: string | null): void {
    const generation = ++this.generation;
    const abort = new AbortController();
    this.abort = abort;
    this.skippedSinceSave = 0;
    this.handled = from;
    this.subscription = this.store.subscribeToAll({
      from,
      onEvent: async (raw) => {
        const event = this.upcast(raw);
        const notice = isNoticeSource(event.type);
        // An event that tells nothing and saves nothing needs no verification yet: the next notice
        // or save verifies everything up to it (verifiedThrough covers the log up to a position),
        // instead of every event waiting for the monitor in turn.
        if (!notice && ++this.skippedSinceSave < SAVE_EVERY_SKIPPED) {
          this.handled = event.position;
          return;
        }
        // Nothing is told, nor the checkpoint moved, past what the log's verification covers: a
        // forged event is found within the monitor's look (LogTrust).
        if (!(await (this.options.trust ?? TRUST_EVERYTHING).verifiedThrough(raw.position, abort.signal))) return this.hold(raw.position, generation);
        if (notice) {
          await this.deliver(event, generation, abort.signal);
          if (generation === this.generation) this.handled = event.position;
        }
        if (generation !== this.generation) throw new Stopped();
        await this.coordination.save(WEBHOOK_CHECKPOINT, event.position);
        this.saved = event.position;
        this.handled = event.position;
        this.skippedSinceSave = 0;
        this.readFailures = 0;
      },
      onError: (error) => {
        if (generation !== this.generation || error instanceof Stopped) return;
        // Reading the log or saving the checkpoint failed: follow again from the saved checkpoint
        // (the notice in flight, if any, is sent again: at least once).
        const delayMs = retryDelayMs(++this.readFailures, this.options.retry, this.options.random);
        this.log.error('webhook notices: following the log failed: resuming from the checkpoint', { error: describeError(error), checkpoint: this.saved, attempt: this.readFailures, retryInMs: delayMs });
        this.subscription = undefined;
        this.resubscribeTimer = setTimeout(() => {
          this.resubscribeTimer = undefined;
          if (generation === this.generation) this.follow(this.saved);
        }, delayMs);
      },
    });
  }

  /** The log fails verification at or before `position`: nothing more is sent until an operator restores it and restarts. */
  private hold(position: string, generation: number): never {
    if (generation === this.generation && !this.stopped) {
      this.generation++;
      this.abort.abort();
      void this.subscription?.close();
      this.subscription = undefined;
      this.log.error('webhook notices hold: the log fails verification at or before this event; nothing from there on is sent, and the checkpoint stays before it', {
        position,
        untrustedFrom: this.options.trust?.untrustedFrom() ?? null,
        checkpoint: this.saved,
      });
    }
    throw new Stopped();
  }

  /** Sends the event's notice until a 2xx; throws only Stopped (shutdown, lost lead). */
  private async deliver(event: RecordedEvent, generation: number, signal: AbortSignal): Promise<void> {
    let notice: Notice | null | undefined;
    let body: Buffer | undefined;
    const since = new Date().toISOString();
    for (let attempt = 1; ; attempt++) {
      if (generation !== this.generation || signal.aborted) throw new Stopped();
      // Still the one delivering? A leader stalled past its lease wakes up with a retry due while
      // another instance has delivered this notice and the ones after it: sent now, it came again,
      // out of log order (webhook probe of 2026-12-06, F1). Not leading: it stops and steps down.
      if (this.coordination.confirmLead && !(await this.coordination.confirmLead())) {
        if (generation === this.generation) void this.demote();
        throw new Stopped();
      }
      if (generation !== this.generation || signal.aborted) throw new Stopped();
      let outcome: PostOutcome;
      try {
        if (notice === undefined) {
          notice = await noticeFor(event, this.sources);
          if (!notice) return;
          body = noticeBody(notice);
        }
        outcome = await (this.options.post ?? postWebhook)({ url: this.options.url, body: body!, headers: this.headers(notice!, body!, attempt), timeoutMs: this.options.timeoutMs, signal });
      } catch (error) {
        // Building the notice read the log and failed: retried like a failed delivery.
        outcome = { delivered: false, error: `could not build the notice: ${describeError(error)}` };
      }
      if (generation !== this.generation || signal.aborted) throw new Stopped();
      const id = notice ? notice.id : null;
      this.options.instrumentation?.webhookAttempted(outcome.delivered ? 'delivered' : 'failed');
      if (outcome.delivered) {
        this.deliveredCount++;
        const recovered = this.retryingNow;
        this.retryingNow = undefined;
        this.log.info('webhook notice delivered', { noticeId: id, type: notice!.type, position: event.position, attempt, status: outcome.status, ...(recovered ? { failingSince: recovered.since } : {}) });
        return;
      }
      const delayMs = retryDelayMs(attempt, this.options.retry, this.options.random);
      this.retryingNow = { noticeId: id ?? '', type: notice?.type ?? event.type, position: event.position, attempts: attempt, since, lastError: outcome.error, nextAttemptInMs: delayMs };
      this.log.warn('webhook delivery failed: retrying', { noticeId: id, type: notice?.type ?? event.type, position: event.position, attempt, status: outcome.status, error: outcome.error, retryInMs: delayMs, failingSince: since });
      await sleep(delayMs, signal);
    }
  }

  private headers(notice: Notice, body: Buffer, attempt: number): Record<string, string> {
    return {
      'content-type': 'application/json',
      'user-agent': 'risk-ledger-webhooks/1',
      'x-risk-ledger-event': notice.type,
      'x-risk-ledger-notice-id': notice.id,
      'x-risk-ledger-delivery-attempt': String(attempt),
      [SIGNATURE_HEADER]: signatureOf(body, this.options.secret),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.leadership.cancel();
    await this.halt();
  }

  /** Stops, then releases the coordination (its checkpoint database, its lock). */
  async close(): Promise<void> {
    await this.stop();
    await this.coordination.close();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Stopped());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Stopped());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
