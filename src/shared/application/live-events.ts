import type { EventStore, RecordedEvent, SubscriptionHandle } from '../../event-store/event-store.port.js';
import type { JsonLogger } from '../logging/json-logger.js';
import { PositionWaiters } from './position-waiters.js';
import { OnePerTurn, StepsPerTurn } from './turns.js';
import { Backoff, describeError, type RetryState } from './transient-errors.js';

type Listener = (event: RecordedEvent) => void;

/**
 * How far a subscription may fall behind before it is ended: events handed to it and not yet
 * taken. graphql-ws writes one message at a time and waits until the socket took it, so a client
 * that reads slowly or not at all never fills the socket's buffer (the 16 MiB check of
 * ws-hardening.ts could not fire): what it did not take piled up here without a bound
 * (consumers probe). Tests lower them.
 */
export const liveEventLimits = { maxQueued: 50_000, maxWaitMs: 60_000 };

/** Events read from the store at a time for a subscription that resumes from a position. */
const BACKLOG_PAGE = 500;
/**
 * And the bytes a backlog page ends at (after the event that reaches them): a page is read, parsed
 * and filtered in one step, and 500 events of 10 kB comments were 5 MB of it (probe 8b).
 */
export const BACKLOG_PAGE_BYTES = 256 * 1024;
/** Backlog events sent, by all subscriptions together, between two turns of the event loop. */
const BACKLOG_PER_TURN = 20;

/**
 * Fans the store's live tail out to GraphQL subscribers. One store subscription (from the head
 * at start-up) serves every subscriber, so subscribers see exactly what was committed, in log
 * order, and the in-process event bus plays no part.
 *
 * A transient storage error (the database restarting) does not end the feed: it follows the log
 * again after the same backoff as the projections, from the last event it delivered, so a
 * subscriber misses nothing and sees nothing twice. Any other error stops it for good: logged,
 * every subscription ends with an error (and a new one fails at once) instead of hanging
 * silently, and /health reports the feed stopped (Readiness).
 */
export class LiveEvents {
  private readonly listeners = new Set<Listener>();
  private readonly enders = new Set<(error: unknown) => void>();
  private handle?: SubscriptionHandle;
  private readonly backoff = new Backoff();
  private retryTimer?: NodeJS.Timeout;
  private generation = 0;
  private closed = false;
  /** Position of the last event delivered: where the feed resumes after a transient error. */
  private delivered: string | null = null;
  private failure?: unknown;
  /** Subscribers with an event to take, woken one per turn of the event loop (see wakeLater). */
  private readonly wakes = new OnePerTurn();
  /** Callers of reached(), woken when the feed has delivered their position (or stops). */
  private readonly reachedWaiters = new PositionWaiters('The live event feed');

  constructor(private readonly store: EventStore, private readonly log: JsonLogger) {}

  async start(): Promise<void> {
    this.delivered = await this.store.headPosition();
    this.reachedWaiters.reset(this.delivered);
    this.follow();
  }

  /** For health: stopped for good (failed), retrying a transient error, and how far it delivered. */
  get failed(): unknown {
    return this.failure;
  }

  get retrying(): RetryState | undefined {
    return this.backoff.retrying;
  }

  get checkpoint(): string | null {
    return this.delivered;
  }

  private follow(): void {
    const generation = ++this.generation;
    const resumed = () =>
      this.backoff.resumed((ended) => this.log.info('live event feed resumed after a transient storage error', { since: ended.since, attempts: ended.attempts, position: this.delivered }));
    this.handle = this.store.subscribeToAll({
      from: this.delivered,
      onEvent: (event) => {
        resumed();
        for (const l of this.listeners) {
          try {
            l(event);
          } catch (error) {
            this.log.warn('live event listener failed', { error: String(error) });
          }
        }
        this.delivered = event.position;
        this.reachedWaiters.advance(event.position);
      },
      onCaughtUp: resumed,
      onError: (error) => this.stopped(error, generation),
    });
  }

  private stopped(error: unknown, generation: number): void {
    if (generation !== this.generation || this.closed) return;
    const timer = this.backoff.retryLater(
      error,
      (retry) => this.log.warn('live event feed hit a transient storage error: retrying', { ...retry, checkpoint: this.delivered }),
      () => {
        this.retryTimer = undefined;
        if (generation === this.generation && !this.closed) this.follow();
      },
    );
    if (timer) {
      this.handle = undefined;
      this.retryTimer = timer;
      return;
    }
    this.failure = error;
    this.log.error('live event feed stopped: subscriptions are ended with an error', { error: describeError(error), checkpoint: this.delivered });
    for (const end of [...this.enders]) end(error);
    this.reachedWaiters.fail(feedStopped(error));
  }

  /**
   * Resolves once the feed has handed the event at `position` (a committed one) to every listener:
   * a command whose answer depends on a listener's state (the token revocations) awaits it, so
   * that the listener stays that state's only writer. Rejects when the feed stops for good, or
   * after `timeoutMs` (a transient storage error still retrying).
   */
  reached(position: string, timeoutMs: number): Promise<void> {
    return this.reachedWaiters.wait(position, timeoutMs);
  }

  /** reached() for the log's head as it is now (nothing to wait for on an empty log). */
  async reachedHead(timeoutMs: number): Promise<void> {
    const head = await this.store.headPosition();
    if (head !== null) await this.reached(head, timeoutMs);
  }

  /**
   * Wakes one subscriber per turn of the event loop: each delivery (its execution, serialisation
   * and write) then runs in its own turn, and HTTP requests are served between them. Woken all at
   * once, 1,000 subscriptions of a 2.4 MB event ran back to back and held the loop for 13 s.
   */
  private wakeLater(wake: () => void): void {
    this.wakes.take(wake);
  }

  /**
   * Resolves at this caller's turn of the event loop, one caller per turn across every
   * subscription (the queue wakeLater serves): a resumed subscription's next page, or its next
   * slice of sends, waits behind the others', and requests are served between any two.
   */
  private backlogTurn(): Promise<void> {
    return new Promise((resolve) => this.wakeLater(resolve));
  }

  /**
   * Before a backlog event is sent: at most BACKLOG_PER_TURN between two turns of the loop, by all
   * subscriptions together, in the order they asked (each send taken, a subscription asks again at
   * the back).
   */
  private readonly backlogSends = new StepsPerTurn(BACKLOG_PER_TURN);

  /**
   * Resolves once the feed has handed every event up to the log's head (as it is now) to the
   * subscribers and woken them, or after `ms`: at shutdown, so that an open subscription gets the
   * events acknowledged to the requests that just finished before its socket closes (it missed
   * the last 2-4 of them under 16 writers; fault probe).
   */
  async drain(ms: number): Promise<void> {
    const until = Date.now() + ms;
    const head = await this.store.headPosition();
    const behind = () => head !== null && this.failure === undefined && (this.delivered === null || this.delivered < head);
    while (behind() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
    while (this.wakes.busy && Date.now() < until) await new Promise((resolve) => setImmediate(resolve));
    // Then until every subscription has taken what is queued for it: 200 subscriptions under 16
    // writers were seconds behind, and closing with their queues full lost most of the last
    // acknowledged events (re-probe).
    while ([...this.queues].some((queue) => queue.length > 0) && Date.now() < until) await new Promise((resolve) => setImmediate(resolve));
    // And until each has sent what it took: graphql-ws asks for the next event only once the last
    // one's frame is written. An event taken but not yet written when the sockets closed was lost
    // (the last acknowledged registration, in 2 of 3 full CI runs on 2026-12-02).
    while (this.inHand.size > 0 && Date.now() < until) await new Promise((resolve) => setImmediate(resolve));
  }
  /** What each open subscription has been handed and not yet taken. */
  private readonly queues = new Set<unknown[]>();
  /** The subscriptions whose consumer took an event and has not asked for the next one yet (sending it). */
  private readonly inHand = new Set<unknown[]>();

  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * An async iterator of the events that pass `filter`, for a GraphQL subscription. One that falls
   * further behind than liveEventLimits is ended (what waited for it dropped) and `onOverflow`
   * is told why (the resolver closes the socket with 4413); the iterator then throws that error.
   *
   * With `from`, it first hands over the events after `from.after` up to where the feed stood
   * when it subscribed, read from the store a page at a time as the consumer takes them (only
   * `from.types`, when given, are read), then the live ones: a consumer resumes from the last
   * position it received with no gap and no repeat. Live events wait meanwhile, under the same
   * limits: a backlog that takes longer than maxWaitMs to send ends the subscription, and the
   * consumer resumes again from where it got to.
   */
  iterator<T>(filter: (e: RecordedEvent) => boolean, map: (e: RecordedEvent) => T, onOverflow?: (error: Error) => void, from?: { after: string; types?: string[] }): AsyncIterableIterator<T> {
    const queue: T[] = [];
    /** When each queued event was handed over, and its position. */
    const handed: { at: number; position: string }[] = [];
    // How far it was sent (for the overflow's message): at first, where the feed stood when it
    // subscribed (where it resumes from, with `from`).
    let taken: string | null = from?.after ?? this.delivered;
    // The store's events between `from.after` and the feed's position now (positions are ordered
    // strings); the feed hands every later one to the listener below, registered in this same task.
    const until = this.delivered;
    let backlog: { cursor: string; until: string } | null = from && until !== null && from.after < until ? { cursor: from.after, until } : null;
    const read: { value: T; position: string }[] = [];
    const readBacklog = async (): Promise<void> => {
      while (backlog && read.length === 0 && !done) {
        const b: { cursor: string; until: string } = backlog;
        // A turn of the event loop before each page: pages that pass nothing (a filter matching
        // no event) were read back to back, and 16 resumes from the start held the loop 10-13 s.
        // A turn shared by every subscription (backlogTurn): a turn each, 200 resumes read their
        // 200 pages in one go of the loop's immediates and held it 1.4 s (probe 8b).
        await this.backlogTurn();
        const page = await this.store.readAll({ after: b.cursor, maxCount: BACKLOG_PAGE, maxBytes: BACKLOG_PAGE_BYTES, types: from?.types });
        for (const e of page) {
          if (e.position > b.until) break;
          if (filter(e)) read.push({ value: map(e), position: e.position });
        }
        const last = page.at(-1)?.position;
        if (last === undefined || last >= b.until) backlog = null;
        else b.cursor = last;
      }
    };
    let wake: (() => void) | undefined;
    let done = false;
    let failed: Error | undefined = this.failure === undefined ? undefined : feedStopped(this.failure);
    let thrown = false;
    const unlisten = this.listen((e) => {
      // A feed still catching up with the log hands over events the consumer already has.
      if (!filter(e) || (from && e.position <= from.after)) return;
      queue.push(map(e));
      handed.push({ at: Date.now(), position: e.position });
      const waited = Date.now() - handed[0]!.at;
      if (queue.length > liveEventLimits.maxQueued || waited > liveEventLimits.maxWaitMs) {
        const error = new Error(
          `The subscription fell too far behind (${queue.length} events not taken, the oldest for ${Math.round(waited / 1000)} s) and was ended: ` +
            `read on with events(after: the last position you received), then subscribe again (sent up to ${taken === null ? 'the start of the log' : `"${taken}"`}, some of it perhaps not delivered)`,
        );
        this.log.warn('live event subscription fell too far behind and was ended', { queued: queue.length, waitedMs: waited, lastTaken: taken });
        queue.length = 0;
        handed.length = 0;
        failed = error;
        finish();
        onOverflow?.(error);
        return;
      }
      if (!wake) return;
      const waiting = wake;
      wake = undefined;
      this.wakeLater(waiting);
    });
    const end = (error: unknown) => {
      failed = feedStopped(error);
      wake?.();
    };
    this.enders.add(end);
    this.queues.add(queue);
    // Closed by its consumer (return, throw: the socket closed, the client completed): what waits
    // for it is dropped. Left queued, it was still handed out, and graphql-ws, whose sends to a
    // closed socket resolve at once, ran one execution per event for 16 closed resumes with
    // 50,000 queued each: the loop was held 2-3 s at a time for ~35 s (scale probe of 2026-12-06, H1).
    let closed = false;
    const close = () => {
      closed = true;
      queue.length = 0;
      handed.length = 0;
      read.length = 0;
      backlog = null;
      finish();
    };
    const finish = () => {
      done = true;
      this.queues.delete(queue);
      this.inHand.delete(queue);
      unlisten();
      this.enders.delete(end);
      wake?.();
    };
    const it: AsyncIterableIterator<T> = {
      next: async () => {
        // Asked for the next: whatever it took before is sent.
        this.inHand.delete(queue);
        if (closed) return { value: undefined, done: true };
        if (backlog || read.length) {
          try {
            await readBacklog();
          } catch (error) {
            finish();
            throw error;
          }
          const next = read.shift();
          if (next && !done) {
            taken = next.position;
            // And a turn once BACKLOG_PER_TURN events were sent since the last one, by any
            // subscription: the client's socket takes them as fast as they come, so the backlog alone
            // would otherwise be one long task, and sockets draining together resumed 1,000
            // subscriptions in one I/O phase, 20 sends each, ~0.5 s (probe 8b's run after it).
            await this.backlogSends.step();
            if (closed) return { value: undefined, done: true };
            return { value: next.value, done: false };
          }
        }
        while (!done && !failed && queue.length === 0) await new Promise<void>((r) => (wake = r));
        // What was delivered before the feed stopped is still sent, then the error.
        if (queue.length) {
          taken = handed.shift()!.position;
          if (!done) this.inHand.add(queue);
          return { value: queue.shift()!, done: false };
        }
        if (failed && !thrown) {
          thrown = true;
          finish();
          throw failed;
        }
        return { value: undefined, done: true };
      },
      return: async () => {
        close();
        return { value: undefined, done: true };
      },
      throw: async (error?: unknown) => {
        close();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.handle?.close();
    this.listeners.clear();
    this.reachedWaiters.fail(new Error('The live event feed was stopped (shutdown)'));
  }
}

function feedStopped(error: unknown): Error {
  return new Error(`The live event feed stopped (${describeError(error)}): subscribe again later`);
}
