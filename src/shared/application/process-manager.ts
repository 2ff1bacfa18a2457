import type { EventStore, RecordedEvent, SubscriptionHandle } from '../../event-store/event-store.port.js';
import { LeadershipPoll, type ReactionsCoordination } from './reactions-coordination.js';
import { DomainError } from '../domain/errors.js';
import { PositionWaiters } from './position-waiters.js';
import { SharedCheckpointWaits } from './shared-checkpoint-waits.js';
import { TRUST_EVERYTHING, type LogTrust } from './log-trust.js';
import type { JsonLogger } from '../logging/json-logger.js';
import { Backoff, describeError, isTransientStorageError, type RetryState } from './transient-errors.js';

/** How often an instance that does not run the reactions tries to take over. */

/** A reaction: runs the commands that follow from one recorded event (idempotent by construction). */
export type Reaction = (event: RecordedEvent) => Promise<void>;

/** How long stop() waits for the verification of the checkpoint held back for it. */
const PENDING_SAVE_AT_STOP_MS = 2_000;

/** Events whose preceding position recoverCheckpoint keeps while it reads the log (see there). */
const RECOVERY_WINDOW = 100_000;

/**
 * Carries decisions across aggregates (a plan's approval asks each risk owner for consent; a
 * material change to a risk makes its consent stale…). It follows the store's log like a
 * projection, with a checkpoint of its own, and reacts by issuing commands. A crash between a
 * command and the checkpoint replays the event; the deciders answer an already-satisfied command
 * with no events, so replays are harmless. A command the domain refuses is logged and skipped:
 * the log still says what happened, and the refusal explains why the other side did not follow.
 * A transient storage error (SQLITE_FULL, SQLITE_BUSY, SQLITE_IOERR) in a reaction or in saving
 * the checkpoint is retried with backoff (50 ms doubling to 5 s) from the checkpoint, which
 * re-runs the reaction (idempotent); any other error stops the manager for good (`failed`).
 */
export class ProcessManager {
  private subscription?: SubscriptionHandle;
  private readonly reached: PositionWaiters;
  private failure?: unknown;
  private readonly backoff = new Backoff();
  private retryTimer?: NodeJS.Timeout;
  /** Grows on every (re)subscription and on stop: a late error of an older subscription is ignored. */
  private generation = 0;
  /** Whether this instance runs the reactions (one across the instances sharing a log). */
  private leading = false;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly store: EventStore,
    private readonly coordination: ReactionsCoordination,
    private readonly react: Reaction & { reactsTo?: (type: string) => boolean },
    private readonly upcast: (e: RecordedEvent) => RecordedEvent,
    private readonly log: JsonLogger,
    /** The actor id of the commands this manager issues: lets it find where it stopped if its checkpoint is lost. */
    private readonly ownActorId?: string,
    private readonly recoveryWindow = RECOVERY_WINDOW,
  ) {
    this.reached = new PositionWaiters(name);
  }

  async start(): Promise<void> {
    this.coordination.onLost(() => void this.demote());
    if (!(await this.lead())) this.watchForLeadership();
  }

  /** Becomes the instance that reacts when no other one does: from the shared checkpoint, or the log's evidence. */
  private async lead(): Promise<boolean> {
    if (this.stopped || !(await this.coordination.tryLead())) return false;
    if (this.stopped) return false; // stopped while the lock was being taken: close() releases it
    const saved = await this.coordination.load(this.name);
    const from = saved ? saved.position : await this.recoverCheckpoint();
    this.savedAt = saved?.position ?? null;
    // A hold the former leader told the others of is its own: this one holds again if it must.
    if (this.coordination.othersWait && (await this.coordination.load(this.heldName))?.position) await this.coordination.save(this.heldName, '');
    this.leading = true;
    this.leadTerm++;
    this.reached.reset(from);
    this.log.info('process manager runs the reactions on this instance', { processManager: this.name, from });
    this.follow(from);
    this.startLeadWork();
    return true;
  }

  /**
   * Work the instance that runs the reactions does beside them each time it takes the lead (the
   * log's upgrades, log-upgrades.ts), told to stop when it stops or loses the lead; stop() waits
   * for it (it stops at its next step), so it never writes to a store being closed.
   */
  whileLeading(work: (stopping: () => boolean) => Promise<void>): void {
    this.leadWork.push(work);
    if (this.leading) this.startLeadWork([work]);
  }
  private readonly leadWork: Array<(stopping: () => boolean) => Promise<void>> = [];
  private readonly leadWorkRunning = new Set<Promise<void>>();

  /** Grows each time this instance takes or loses the lead: work started under an earlier lead stops. */
  private leadTerm = 0;

  private startLeadWork(works = this.leadWork): void {
    const term = this.leadTerm;
    const stopping = () => this.stopped || !this.leading || this.leadTerm !== term;
    for (const work of works) {
      const running: Promise<void> = work(stopping)
        .catch((error: unknown) => this.log.warn('work of the reactions\' instance failed', { processManager: this.name, error: describeError(error) }))
        .finally(() => this.leadWorkRunning.delete(running));
      this.leadWorkRunning.add(running);
    }
  }

  /** Another instance runs the reactions: try to take over every second (it may die). */
  private readonly leadership = new LeadershipPoll(
    () => this.lead(),
    () => this.stopped,
    (error) => this.log.warn('process manager could not try to lead', { processManager: this.name, error: describeError(error) }),
  );

  private watchForLeadership(): void {
    this.leadership.schedule();
  }

  /** The lock was lost (its connection died): stop reacting, and try to lead again later. */
  private async demote(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.leadTerm++;
    this.log.warn('process manager lost the lead: another instance may run the reactions', { processManager: this.name });
    this.generation++;
    clearTimeout(this.retryTimer);
    await this.subscription?.close();
    this.subscription = undefined;
    this.watchForLeadership();
  }

  private follow(from: string | null): void {
    const generation = ++this.generation;
    // Page by page: each event's reactions in order (the commands that wait for them go on as
    // soon as they are carried out), then the page's checkpoint saved once, not once per event (a
    // crash in between replays the page's reactions, which are idempotent).
    const onPage = async (page: RecordedEvent[]) => {
      let last: string | null = null;
      let untrusted: string | null = null;
      for (const raw of page) {
        // Nothing at or past where the log fails verification is reacted to, nor the checkpoint moved there (LogTrust).
        untrusted = this.trust.untrustedFrom();
        if (untrusted !== null && raw.position >= untrusted) break;
        untrusted = null;
        const event = this.upcast(raw);
        try {
          await this.react(event);
        } catch (error) {
          // A log that may not be written (integrity broken) or a store out of reach refuses the reaction for now, not for
          // good: the follower stops and retries, so the reaction is carried out once it may be.
          if (!(error instanceof DomainError) || isTransientStorageError(error)) throw error;
          this.log.warn('reaction refused by the domain', { processManager: this.name, position: event.position, type: event.type, code: error.code, error: error.message });
        }
        if (generation !== this.generation) return;
        last = event.position;
        this.reached.advance(event.position);
      }
      if (last !== null) await this.saveCheckpoint(last, generation);
      if (untrusted !== null) return this.hold(untrusted, generation);
      if (last === null) return;
      const ended = this.backoff.succeeded();
      if (ended) this.log.info('process manager resumed after a transient storage error', { processManager: this.name, since: ended.since, attempts: ended.attempts, position: last });
    };
    this.subscription = this.store.subscribeToAll({
      from,
      onEvent: (event) => onPage([event]),
      onBatch: onPage,
      onCaughtUp: () =>
        this.backoff.resumed((ended) =>
          this.log.info('process manager resumed after a transient storage error', { processManager: this.name, since: ended.since, attempts: ended.attempts, position: this.reached.current }),
        ),
      onError: (error) => {
        if (generation !== this.generation) return;
        const timer = this.backoff.retryLater(
          error,
          (retry) => this.log.warn('process manager hit a transient storage error: retrying', { processManager: this.name, ...retry, checkpoint: this.reached.current }),
          () => {
            this.retryTimer = undefined;
            if (generation === this.generation) this.follow(this.reached.current);
          },
        );
        if (timer) {
          this.subscription = undefined;
          this.retryTimer = timer;
          return;
        }
        this.failure = error;
        this.reached.fail(new Error(`${this.name} stopped at ${this.reached.current}: ${error instanceof Error ? error.message : String(error)}`));
        this.log.error('process manager stopped', { processManager: this.name, error: error instanceof Error ? error.message : String(error) });
      },
    });
  }

  /** What the log's verification says: the reactions hold where it fails (default: everything trusted). */
  holdFrom(trust: LogTrust): void {
    this.trust = trust;
  }
  private trust: LogTrust = TRUST_EVERYTHING;

  /** The checkpoint as saved last (null: none), and a later one waiting for the log's verification to cover it. */
  private savedAt: string | null = null;
  private pendingSave: string | null = null;
  /** The saves in flight, one after the other. */
  private saving: Promise<void> = Promise.resolve();

  /**
   * Saves the checkpoint at `position` unless one as far or further is saved: one save at a time,
   * so that a page's save and the one a verification let go, in flight together, never leave the
   * older position stored last (on PostgreSQL the other instances then waited for reactions
   * already run, and a crash replayed them).
   */
  private persist(position: string): Promise<void> {
    const run = this.saving.then(async () => {
      if (this.savedAt !== null && position <= this.savedAt) return;
      await this.coordination.save(this.name, position);
      this.savedAt = position;
    });
    this.saving = run.catch(() => undefined);
    return run;
  }

  /**
   * Saves the checkpoint at `last`, but never past what the log's verification covers now
   * (LogTrust.verifiedUpTo): the reactions run at once, while the checkpoint follows the
   * verification, so that an event forged at the head is never passed by it (undone, the log then
   * resumes). The rest is saved with a later page, or at stop; where other instances wait for this
   * checkpoint, as soon as a verification asked for at once covers it (asked for after every page
   * where nobody waits, verifications would run back to back for nothing). A restart after a
   * crash replays those reactions, which are idempotent.
   */
  private async saveCheckpoint(last: string, generation: number): Promise<void> {
    const verified = this.trust.verifiedUpTo();
    const upTo = verified === undefined || (verified !== null && verified >= last) ? last : verified;
    if (upTo !== null) await this.persist(upTo);
    if (upTo === last) return;
    this.pendingSave = last;
    if (!this.coordination.othersWait) return;
    void this.trust
      .verifiedThrough(last)
      .then(async (verifiedNow) => {
        if (!verifiedNow || generation !== this.generation || this.pendingSave !== last) return;
        this.pendingSave = null;
        await this.saveCheckpoint(last, generation);
      })
      .catch((error: unknown) => this.log.warn('process manager checkpoint not saved: saved with the next page', { processManager: this.name, error: describeError(error) }));
  }

  /**
   * Stops following at the first untrusted position: commands waiting for it or later are let go
   * (they read what there is). Where other instances wait for the reactions, the hold is saved
   * beside the checkpoint: they stop waiting for it and verify the log themselves at once
   * (waitFor). The lead is kept: an instance that has not found the break yet would react to it.
   */
  private hold(untrusted: string, generation: number): void {
    if (generation !== this.generation) return;
    this.generation++;
    this.reached.releaseFrom(untrusted);
    void this.subscription?.close();
    this.subscription = undefined;
    this.log.error('reactions hold: the log fails verification from this position, and nothing from there on is reacted to', { processManager: this.name, from: untrusted, checkpoint: this.reached.current });
    if (this.coordination.othersWait) void this.saveHold(untrusted);
  }

  /** The hold as the other instances read it ('' when none), under `<name>:held` beside the checkpoint. */
  private get heldName(): string {
    return `${this.name}:held`;
  }

  private async saveHold(position: string): Promise<void> {
    try {
      await this.coordination.save(this.heldName, position);
    } catch (error) {
      this.log.warn('reactions hold: not told to the other instances (they wait for the reactions until their own verification finds it)', { processManager: this.name, error: describeError(error) });
    }
  }

  /**
   * Without a checkpoint (a new installation, or its file was lost), replaying every reaction
   * from the start of a long log would re-issue commands to aggregates that have moved on. The
   * log itself says how far the manager got: its last command names, as causation, the event it
   * reacted to. Resume just before that event (reacting to it again is idempotent).
   */
  private async recoverCheckpoint(): Promise<string | null> {
    if (!this.ownActorId) return null;
    let trigger: string | undefined;
    // The trigger comes shortly before its reaction: the position before each of the last
    // RECOVERY_WINDOW events is kept, so one pass over the log usually finds it (the second pass
    // below is for a trigger further back; two passes took 28 s at 350,000 events, probe p12).
    const before = new Map<string, { previous: string | null; position: string }>();
    let found: { previous: string | null; position: string } | undefined;
    let last: string | null = null;
    for (let after: string | null = null; ; ) {
      const page = await this.store.readAll({ after, maxCount: 5000 });
      if (page.length === 0) break;
      for (const e of page) {
        before.set(e.eventId, { previous: last, position: e.position });
        if (before.size > this.recoveryWindow) before.delete(before.keys().next().value!);
        last = e.position;
        if (e.metadata.actor.id !== this.ownActorId) continue;
        trigger = e.metadata.causationId;
        found = trigger === undefined ? undefined : before.get(trigger);
      }
      after = page[page.length - 1]!.position;
    }
    if (!trigger) return null;
    if (found) {
      this.log.warn('process manager checkpoint missing: resuming from its last reaction found in the log', { processManager: this.name, from: found.previous, trigger: found.position });
      return found.previous;
    }
    let previous: string | null = null;
    for (let after: string | null = null; ; ) {
      const page = await this.store.readAll({ after, maxCount: 5000 });
      if (page.length === 0) break;
      for (const e of page) {
        if (e.eventId === trigger) {
          this.log.warn('process manager checkpoint missing: resuming from its last reaction found in the log', { processManager: this.name, from: previous, trigger: e.position });
          return previous;
        }
        previous = e.position;
      }
      after = page[page.length - 1]!.position;
    }
    return null;
  }

  /** Whether some reaction reacts to events of this type (without the reactions' list: assume so). */
  reactsTo(type: string): boolean {
    return this.react.reactsTo ? this.react.reactsTo(type) : true;
  }

  /** The last event every reaction has been carried out for. */
  get checkpoint(): string | null {
    return this.reached.current;
  }

  get failed(): unknown {
    return this.failure;
  }

  /** The run of retries of a transient error in progress (undefined when reacting normally). */
  get retrying(): RetryState | undefined {
    return this.backoff.retrying;
  }

  /** Whether this instance runs the reactions now. */
  get isLeading(): boolean {
    return this.leading;
  }

  /**
   * Resolves once every reaction to events up to `position` has been carried out: here, or by the
   * instance that runs them (its checkpoint is shared).
   */
  async waitFor(position: string, timeoutMs = 10_000): Promise<void> {
    if (this.leading) return this.reached.wait(position, timeoutMs);
    return this.followerWaits.wait(position, timeoutMs);
  }

  /**
   * Where another instance runs the reactions: the waits read its checkpoint, one poll for all of
   * them (shared-checkpoint-waits.ts). A hold it saved at or before a waited position answers at
   * once: waiting is for nothing (PostgreSQL probe F2: 10 s each, while this instance's own sweep
   * had not yet found the break and it went on taking writes), and this one verifies now too.
   */
  private readonly followerWaits = new SharedCheckpointWaits({
    read: async () => {
      if (this.coordination.loadMany) {
        const positions = await this.coordination.loadMany([this.name, this.heldName]);
        return { saved: positions.get(this.name) ?? null, held: positions.get(this.heldName) ?? null };
      }
      return { saved: (await this.coordination.load(this.name))?.position ?? null, held: (await this.coordination.load(this.heldName))?.position ?? null };
    },
    ownWait: (position, timeoutMs) => (this.leading ? this.reached.wait(position, timeoutMs) : undefined),
    onHold: (held) => this.verifyOnHold(held),
    heldError: (held) => new Error(`${this.name}: the reactions hold at ${held}: the instance that runs them found the log failing verification there, and nothing from there on is reacted to`),
    timeoutError: (position, timeoutMs) => new Error(`${this.name}: the reactions to ${position} were not carried out within ${timeoutMs} ms by the instance that runs them`),
  });

  /** The hold verified here once (per position held): this instance's log is BROKEN too if the verification fails. */
  private verifiedHold: string | null = null;
  private verifyOnHold(held: string): void {
    if (this.verifiedHold === held || !this.trust.verifyNow) return;
    this.verifiedHold = held;
    this.log.warn('the instance that runs the reactions holds: the log fails verification there; verifying it here now', { processManager: this.name, held });
    void this.trust.verifyNow().catch((error: unknown) => this.log.warn('verifying the log after another instance held failed', { processManager: this.name, error: describeError(error) }));
  }


  async stop(): Promise<void> {
    this.stopped = true;
    this.leadership.cancel();
    this.generation++;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.subscription?.close();
    this.subscription = undefined;
    await Promise.allSettled([...this.leadWorkRunning]);
    await this.savePending();
  }

  /** At stop: the part of the checkpoint held back for the verification, saved once verified (bounded: shutdown has seconds). */
  private async savePending(): Promise<void> {
    const pending = this.pendingSave;
    this.pendingSave = null;
    if (pending === null || !this.leading || (this.savedAt !== null && pending <= this.savedAt)) return;
    try {
      if (!(await this.trust.verifiedThrough(pending, AbortSignal.timeout(PENDING_SAVE_AT_STOP_MS)))) return;
      await this.persist(pending);
    } catch (error) {
      this.log.warn('process manager checkpoint not saved at stop: its last reactions run again at the next start', { processManager: this.name, error: describeError(error) });
    }
  }

  /** Stops, then releases the coordination (its checkpoint database, its lock). */
  async close(): Promise<void> {
    await this.stop();
    await this.coordination.close();
  }

}
