import {
  ExpectedVersion,
  WrongExpectedVersionError,
  type EventStore,
  type RecordedEvent,
} from '../../event-store/event-store.port.js';
import { newEventId } from '../../event-store/event-id.js';
import type { DomainEvent } from '../domain/decider.js';
import { BadInputError, ConcurrencyConflictError, DomainError, RuleViolationError, StoreUnavailableError } from '../domain/errors.js';
import { storeUnavailable } from './store-unavailable.js';
import { keyMisuse } from './retried-key.js';
import { refuseAuditor } from '../domain/guards.js';
import { AggregateReader, type Evolver } from './aggregate-reader.js';
import { crossedSnapshotPoint } from './snapshot-policy.js';
import type { EventUpcasters } from './event-upcasting.js';
import { rootLogger } from '../logging/json-logger.js';
import { describeError } from './transient-errors.js';
import { NO_COMMAND_INSTRUMENTATION, resultOf, type CommandInstrumentation } from './instrumentation.js';
import { StreamQueues, type StreamTurn } from './stream-queues.js';
import { awaitCascade, awaitFollowers } from './follower-waits.js';
import { noteCommitted } from './committed-writes.js';
import { idempotencyKeyOf } from './command-key.js';
import type { CommandAdmissions } from './command-admission.js';
import { COMMAND_FOUND_SATISFIED, COMMAND_REFUSED, foundRefused, foundSatisfied, satisfiedCommandStreamId, type CommandFoundSatisfiedData, type CommandRefusedData } from './satisfied-command.js';
// The pipeline's types live in command-types.ts; importers name them from here as before.
import type { AggregateTarget, AttemptReader, CommandContext, DecisionFollowUp, ExecutionResult, JointCommand, LoadedStream, PositionWaiter, StreamDecision, WriteGate } from './command-types.js';

export type { AggregateTarget, AttemptReader, CommandContext, DecisionFollowUp, ExecutionResult, JointCommand, LoadedStream, PositionWaiter, StreamDecision, WriteGate } from './command-types.js';

const log = rootLogger.child('command-executor');

/** A stream whose version this attempt read (AttemptReader.tail) but whose state it has not folded. */
const NOT_FOLDED = Symbol('not folded');

/**
 * A race without a client-named version is retried at least MAX_ATTEMPTS times and for at least
 * CONFLICT_BUDGET_MS before it is reported as a conflict. Each round of racing appends lets one
 * writer through, but new commands keep joining the race: one addRiskToPlan of 2,000 sent by 16
 * clients to one plan lost 64 rounds in a row (probe p10). The bound only stops a livelock.
 */
const MAX_ATTEMPTS = 64;
/** How many attempts a refusal decided on streams that moved meanwhile is decided again (refusedUnlessRecorded). */
const MAX_STALE_REFUSALS = 8;
const DECIDE_AGAIN = Symbol('decide again');
const CONFLICT_BUDGET_MS = 10_000;

/**
 * The command pipeline: load the stream(s) → decide → append with the expected version(s) →
 * wait until the projections have applied the new position (read-your-writes).
 */
export class CommandExecutor {
  constructor(
    private readonly store: EventStore,
    private readonly projections: PositionWaiter,
    private readonly upcasters: EventUpcasters,
    /** Refuses every command while the log may not be written (its integrity is broken). */
    private readonly gate?: WriteGate,
    /**
     * Snapshot every N events (0: never). Default: SNAPSHOT_EVERY (snapshot-policy.ts).
     * `awaitReactionCascade`: a client's command answers once the reactions it set off, and the
     * reactions to those, are carried out and projected (never for the reactions' own executor).
     */
    private readonly options: {
      snapshotEvery?: number;
      awaitReactionCascade?: boolean;
      /**
       * Which event types set a reaction off (the process manager's). With it, a command whose
       * events none of them reacts to answers without looking for a cascade: there is none.
       */
      reactsTo?: (type: string) => boolean;
      instrumentation?: CommandInstrumentation;
      /**
       * The reader it loads streams with and tells the state after each of its appends (then
       * `snapshotEvery` is that reader's). Give it the one the command handlers read with, so that
       * a command on a stream this process just wrote folds nothing; default: one of its own.
       */
      aggregates?: AggregateReader;
      /** Contributed follow-ups (DecisionFollowUp), run after every command's own decision. */
      followUps?: readonly DecisionFollowUp[];
      /** Rules a client's command passes on the log in each attempt (the token revocations: command-admission.ts). */
      admissions?: CommandAdmissions;
    } = {},
  ) {
    this.aggregates = options.aggregates ?? new AggregateReader(store, upcasters, options);
    this.instrumentation = options.instrumentation ?? NO_COMMAND_INSTRUMENTATION;
  }

  private readonly instrumentation: CommandInstrumentation;
  private readonly queues = new StreamQueues();

  private readonly aggregates: AggregateReader;

  /**
   * Waits until the read models and the reactions have caught up with the log as it stands now.
   * For a command that found its decision already taken by a concurrent request: it appended
   * nothing to wait for, yet its answer must show what that decision led to, which the other
   * request's reactions may still be carrying out.
   */
  async catchUp(streamId: string): Promise<void> {
    const head = await this.store.headPosition();
    if (head !== null) await awaitFollowers(this.projections, head, streamId);
  }

  /** Whether any of these events sets a reaction off (then the command waits for the cascade). */
  private setsReactionsOff(results: readonly { events: readonly RecordedEvent[] }[]): boolean {
    const reactsTo = this.options.reactsTo;
    if (!reactsTo) return true;
    return results.some((r) => r.events.some((e) => reactsTo(e.type)));
  }

  /**
   * A command on one stream. `loaded`: the stream's state and version as the caller has just read
   * them (to build the command): the first attempt decides on them instead of reading the stream
   * again; the append still checks that version, and a retry reads afresh.
   */
  execute<C, E extends DomainEvent, S>(
    target: AggregateTarget<C, E, S>,
    command: C,
    ctx: CommandContext,
    expectedVersion?: number | null,
    loaded?: { state: S; streamVersion: number },
  ): Promise<ExecutionResult<S>> {
    return this.executeJoint(async () => ({ primary: { ...target, command } }), ctx, expectedVersion, loaded ? [{ streamId: target.streamId, ...loaded }] : undefined);
  }

  /**
   * A command whose decision spans streams. `build` runs once per attempt: it reads what the
   * decisions need through the reader and names each stream's command. All decisions are made on
   * the states read in the attempt and appended atomically, each stream at the version read. A
   * concurrent write to any of them makes the append conflict; the attempt is then decided again
   * on fresh state, until it succeeds or a rule refuses it. Only a client that named the version
   * it saw (`expectedVersion`) is answered CONCURRENCY_CONFLICT.
   */
  async executeJoint<S>(
    build: (reader: AttemptReader) => Promise<JointCommand<S>>,
    ctx: CommandContext,
    expectedVersion?: number | null,
    loaded?: readonly LoadedStream[],
  ): Promise<ExecutionResult<S>> {
    // Measured (metrics): its type is known once the first attempt has built it.
    const started = process.hrtime.bigint();
    const seen = { type: 'unknown' };
    const finished = (result: string) => this.instrumentation.commandFinished({ type: seen.type, result, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    try {
      const result = await this.attempts(build, ctx, expectedVersion, seen, loaded);
      finished('ok');
      return result;
    } catch (raw) {
      // The store out of reach is the client's to retry, not an internal error; whether the
      // command may have been recorded is known only to the store (an error after COMMIT was sent).
      const error = storeUnavailable(raw) ?? raw;
      if (error !== raw) log.warn('command refused: the event store is unavailable', { type: seen.type, maybeWritten: (error as StoreUnavailableError).maybeWritten, error: describeError(raw) });
      finished(resultOf(error));
      throw error;
    }
  }

  private async attempts<S>(
    build: (reader: AttemptReader) => Promise<JointCommand<S>>,
    ctx: CommandContext,
    expectedVersion: number | null | undefined,
    seen: { type: string },
    loaded?: readonly LoadedStream[],
  ): Promise<ExecutionResult<S>> {
    // Every command from every entry point passes here: the one place an auditor's token is refused.
    refuseAuditor(ctx.actor);
    const gate = this.gate?.whenWritable();
    if (gate) await gate;
    const idempotencyKey = ctx.commandId ? idempotencyKeyOf(ctx.actor.id, ctx.commandId) : undefined;
    const started = Date.now();
    // The stream this command lost a race on, and its place in that stream's queue (held until it
    // appends or gives up: it never goes to the back again).
    let queued: StreamTurn | undefined;
    try {
      return await this.attemptLoop(build, ctx, expectedVersion, seen, loaded, idempotencyKey, started, (turn) => (queued = turn), () => queued);
    } finally {
      queued?.release();
    }
  }

  private async attemptLoop<S>(
    build: (reader: AttemptReader) => Promise<JointCommand<S>>,
    ctx: CommandContext,
    expectedVersion: number | null | undefined,
    seen: { type: string },
    loaded: readonly LoadedStream[] | undefined,
    idempotencyKey: string | undefined,
    started: number,
    setTurn: (turn: StreamTurn | undefined) => void,
    turn: () => StreamTurn | undefined,
  ): Promise<ExecutionResult<S>> {
    for (let attempt = 1; ; attempt++) {
      const read = new Map<string, { state: unknown; version: number; lastOccurredAt?: string }>();
      // What the caller has just read (or knows) stands for the first attempt's read of those streams.
      if (attempt === 1 && loaded) for (const l of loaded) read.set(l.streamId, { state: l.state, version: l.streamVersion });
      // One lookup of the store's current heads for the attempt's reads (they all follow the request).
      const heads = this.aggregates.headLookup();
      const reader: AttemptReader = {
        state: async <T>(streamId: string, decider: Evolver<T>): Promise<T> => {
          const known = read.get(streamId);
          if (known && known.state !== NOT_FOLDED) return known.state as T;
          const { state, streamVersion, lastOccurredAt } = await this.aggregates.load(streamId, decider, undefined, heads);
          // After a tail read, the version checked stays the one that read saw: what was judged
          // from it is then still checked (a write since makes the append conflict and retry).
          if (known) known.state = state;
          else read.set(streamId, { state, version: streamVersion, ...(lastOccurredAt ? { lastOccurredAt } : {}) });
          return state;
        },
        tail: async (streamId: string, fromRevision: number): Promise<DomainEvent[] | undefined> => {
          if (read.has(streamId)) return undefined;
          const recorded = await this.store.readStream(streamId, { fromRevision });
          const last = recorded[recorded.length - 1];
          if (!last || read.has(streamId)) return undefined;
          read.set(streamId, { state: NOT_FOLDED, version: last.revision, lastOccurredAt: last.metadata.occurredAt });
          return recorded.map((r) => this.aggregates.toDomain(r));
        },
      };
      // Admitted on the streams it reads for that (appended at the versions read): a token revoked
      // before the append makes it conflict and be refused here on the next attempt.
      await this.options.admissions?.admit(ctx, reader, attempt === 1 ? read : undefined);
      const joint = await build(reader);
      const { primary } = joint;
      const type = (primary.command as { type?: unknown } | null)?.type;
      if (typeof type === 'string') seen.type = type;
      // What is recorded beside the key, and compared with it (retried-key.ts): the command's kind.
      const kind = primary.decider.kindOf?.(primary.command) ?? seen.type;
      // Looked up on every attempt: an attempt that conflicted may have lost to the key's first request.
      const recorded = async () => {
        const earlier = idempotencyKey ? await this.store.findIdempotentAppend(idempotencyKey) : null;
        return earlier ? this.firstResult(primary, earlier.streamId, earlier.events, earlier.position, kind, ctx) : null;
      };
      const first = await recorded();
      if (first) return first;
      // A keyed decision refused may be a retry whose first request committed since that look-up and
      // moved the version named, or broke a rule (a name it holds): its result is the answer
      // (PostgreSQL probe F4: 12 of 160 such retries were answered CONCURRENCY_CONFLICT).
      // And a refusal decided on reads that were not one moment of the log is decided again: a
      // stream read before another process wrote it and a second stream the next read saw after
      // that write (race probe 10-a F2: two PostgreSQL instances, a submitPlan answered
      // RISK_NOT_IN_PLAN for a risk removed meanwhile, which the plan read still held).
      const refusedUnlessRecorded = async (error: unknown): Promise<ExecutionResult<S> | typeof DECIDE_AGAIN> => {
        const first = error instanceof DomainError ? await recorded() : null;
        if (first) return first;
        // (Not for input refused as malformed: that reads no state.)
        if (error instanceof DomainError && !(error instanceof BadInputError) && attempt < MAX_STALE_REFUSALS && (await this.readsMoved(read))) return DECIDE_AGAIN;
        // A keyed refusal of a rule binds its key to it (satisfied-command.ts): a retry is refused again.
        if (idempotencyKey && error instanceof RuleViolationError) {
          const bound = await this.bindRefusal<S>(error, idempotencyKey, primary, read, ctx, kind);
          if (bound === DECIDE_AGAIN && attempt < MAX_STALE_REFUSALS) return DECIDE_AGAIN;
          if (bound && bound !== DECIDE_AGAIN) return bound;
        }
        throw error;
      };
      const decisions: StreamDecision[] = [primary, ...(joint.others ?? [])];
      const ownDecisions = decisions.length;
      const states = await Promise.all(decisions.map((d) => reader.state(d.streamId, d.decider)));
      const primaryState = states[0] as S;
      if (expectedVersion !== undefined && expectedVersion !== null) {
        const actual = joint.entityVersion ?? (primary.entityVersion ? primary.entityVersion(primaryState) : read.get(primary.streamId)!.version);
        if (actual !== expectedVersion) {
          const answer = await refusedUnlessRecorded(new ConcurrencyConflictError(expectedVersion, actual));
          if (answer === DECIDE_AGAIN) continue;
          return answer;
        }
      }
      // Decided no earlier than the last event of each stream it writes: a command stamped when its
      // request arrived, and decided after a later-stamped one committed there (on a retry, or on
      // a read that came after it), would otherwise record an instant before that event's.
      // Several follow-ups on one stream are decided in turn, each on the state the earlier ones
      // leave (as if appended one after the other), and appended as one part.
      const decideAll = () => {
        const at = decisionTime(ctx.at, decisions.map((d) => read.get(d.streamId)?.lastOccurredAt));
        const evolved = new Map<string, unknown>();
        const decided = decisions.map((d, i) => {
          const state = evolved.has(d.streamId) ? evolved.get(d.streamId) : states[i];
          const events = d.decider.decide(at === ctx.at ? d.command : restamped(d.command, ctx.at, at), state) as DomainEvent[];
          if (i >= ownDecisions) evolved.set(d.streamId, events.reduce((s: unknown, e) => d.decider.evolve(s, e), state));
          return events;
        });
        return { at, decided };
      };
      // Decided, or the refusal's answer (a first result), or decide again (refusedUnlessRecorded).
      const decideOrRefuse = async () => {
        try {
          return decideAll();
        } catch (error) {
          return refusedUnlessRecorded(error);
        }
      };
      let outcome = await decideOrRefuse();
      if (outcome === DECIDE_AGAIN) continue;
      if (!('decided' in outcome)) return outcome;
      let { at, decided } = outcome;
      const following = joint.followUp ? await joint.followUp(decided[0]!, reader) : [];
      const own = { streamId: primary.streamId, version: read.get(primary.streamId)!.version, events: decided[0]!, actor: ctx.actor, at: ctx.at };
      for (const followUp of this.options.followUps ?? []) following.push(...(await followUp(own, reader)));
      if (following.length > 0) {
        // A follow-up never decides on a stream the command decides itself: it follows from that decision.
        const decidedStreams = new Set(decisions.map((d) => d.streamId));
        for (const d of following) {
          if (decidedStreams.has(d.streamId)) throw new Error(`Two decisions on stream ${d.streamId} in one command (${seen.type})`);
        }
        // Their streams' last events may move the decision's instant: everything is decided at it.
        states.push(...(await Promise.all(following.map((d) => reader.state(d.streamId, d.decider)))));
        decisions.push(...following);
        outcome = await decideOrRefuse();
        if (outcome === DECIDE_AGAIN) continue;
        if (!('decided' in outcome)) return outcome;
        ({ at, decided } = outcome);
      }
      const attemptCtx = at === ctx.at ? ctx : { ...ctx, at };
      const subject = primary.decider.subjectOf?.(primary.command);
      // Satisfied already (by the key's first request, committed meanwhile, when there is one).
      const satisfied = decided.every((events) => events.length === 0);
      if (satisfied) {
        const first = await recorded();
        if (first) return first;
        if (!idempotencyKey) return { state: primaryState, events: [], position: null, duplicate: false };
      }
      // Every stream read in this attempt is appended at the version read: the decided streams with
      // their events, the others as a bare version check (a rule looked at them).
      const eventsOf = new Map<string, DomainEvent[]>();
      decisions.forEach((d, i) => eventsOf.set(d.streamId, [...(eventsOf.get(d.streamId) ?? []), ...decided[i]!]));
      const parts = [...read.entries()]
        .sort(([a], [b]) => (a === primary.streamId ? -1 : b === primary.streamId ? 1 : 0))
        .map(([streamId, { version }]) => ({
          streamId,
          expectedVersion: ExpectedVersion.exact(version),
          events: (eventsOf.get(streamId) ?? []).map((e) => this.toNewEvent(e, attemptCtx, kind, subject)),
        }));
      // A keyed command found satisfied records its key against an acknowledgement, first, so that
      // the key stands for it (satisfied-command.ts); the streams read stay checked at their versions.
      if (satisfied) {
        const found: CommandFoundSatisfiedData = { streamId: primary.streamId, version: read.get(primary.streamId)!.version };
        parts.unshift(this.keyPart(idempotencyKey!, this.toNewEvent({ type: COMMAND_FOUND_SATISFIED, data: found }, attemptCtx, kind, subject)));
      }
      try {
        const results = await this.store.appendMultiple(parts, { idempotencyKey });
        // Appended: the next command queued on the stream decides now, not once this one's read
        // models have caught up.
        turn()?.release();
        setTurn(undefined);
        const own = results[0]!;
        if (own.duplicate) return this.firstResult(primary, own.streamId, own.events, own.position, kind, ctx);
        const last = results.reduce((p, r) => (r.events.length > 0 && r.position > p ? r.position : p), '');
        // Committed from here on: nothing below may turn into an error answer.
        if (ctx.answerId) noteLastCommitted(ctx.answerId, results, last);
        if (satisfied) return { state: primaryState, events: [], position: own.position, duplicate: false };
        // Evolved from the events as recorded (with their positions), exactly as a later load would,
        // and remembered at once: a command on this stream arriving while this one waits for the
        // read models then folds nothing.
        const after = own.events.reduce((s: S, r) => primary.decider.evolve(s, this.aggregates.toDomain(r)), primaryState);
        this.rememberAfterAppend(primary.decider, own, after);
        await awaitFollowers(this.projections, last, own.streamId, ctx.answerId);
        if (this.options.awaitReactionCascade && this.setsReactionsOff(results)) {
          await awaitCascade(this.store, this.projections, this.options.reactsTo, last, ctx.correlationId, own.streamId, ctx.answerId).catch((error: unknown) => {
            log.warn('command committed, but its reactions could not be awaited: answering with the committed result', { streamId: own.streamId, position: last, error: describeError(error) });
          });
        }
        // In the background: the answer never waits for a snapshot (it never fails either).
        void this.snapshotAfterAppend(primary.decider, read.get(primary.streamId)!.version, own, after);
        return { state: after, events: own.events, position: own.events.length ? own.position : last, duplicate: false };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        // Someone wrote to one of the streams between our read and our append: decide again on
        // fresh state (the next attempt re-checks a client-named version against it).
        if (attempt >= MAX_ATTEMPTS && Date.now() - started >= CONFLICT_BUDGET_MS) throw new ConcurrencyConflictError(expectedVersion ?? read.get(error.streamId)?.version ?? -1, error.actualVersion);
        // Decided again once the commands that lost on this stream before it have appended (see
        // StreamQueues); at once when it is already first in that stream's queue.
        const held = turn();
        if (held?.streamId !== error.streamId) {
          held?.release();
          setTurn(undefined);
          setTurn(await this.queues.turnOn(error.streamId));
        } else if (attempt > 2) {
          // First in the queue and beaten again: by a command's first attempt here, or by another
          // process on the same database; a moment's jitter before the next try.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
        }
      }
    }
  }

  /** The part that binds a key to a command that appended nothing of its own (satisfied-command.ts): its stream, created by the first request only. */
  private keyPart(idempotencyKey: string, event: ReturnType<CommandExecutor['toNewEvent']>) {
    return { streamId: satisfiedCommandStreamId(idempotencyKey), expectedVersion: ExpectedVersion.noStream, events: [event] };
  }

  /**
   * Records a keyed command's refusal against its key (CommandRefused), with the streams its
   * decision read checked at the versions read, so that the refusal stands for the state it was
   * decided on: null once recorded (the caller throws the refusal); DECIDE_AGAIN when a stream read
   * moved meanwhile; the first result when the key was recorded by another request meanwhile.
   */
  private async bindRefusal<S>(
    refusal: RuleViolationError,
    idempotencyKey: string,
    primary: StreamDecision & { decider: { subjectOf?: (command: never) => string | undefined } },
    read: ReadonlyMap<string, { version: number }>,
    ctx: CommandContext,
    kind: string,
  ): Promise<ExecutionResult<S> | typeof DECIDE_AGAIN | null> {
    const subject = primary.decider.subjectOf?.(primary.command as never);
    const data: CommandRefusedData = { streamId: primary.streamId, version: read.get(primary.streamId)?.version ?? -1, rule: refusal.rule, article: refusal.article, message: refusal.message };
    const parts = [
      this.keyPart(idempotencyKey, this.toNewEvent({ type: COMMAND_REFUSED, data }, ctx, kind, subject)),
      ...[...read].map(([streamId, { version }]) => ({ streamId, expectedVersion: ExpectedVersion.exact(version), events: [] })),
    ];
    try {
      const [own] = await this.store.appendMultiple(parts, { idempotencyKey });
      return own!.duplicate ? this.firstResult(primary as unknown as AggregateTarget<unknown, any, S>, own!.streamId, own!.events, own!.position, kind, ctx) : null;
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) return DECIDE_AGAIN;
      throw error;
    }
  }

  /**
   * After a committed append that took the stream across a multiple of SNAPSHOT_EVERY events: a
   * snapshot of the state right after it. Best effort (saveSnapshot never throws).
   */
  private async snapshotAfterAppend<S>(decider: Evolver<S>, versionBefore: number, own: { streamId: string; events: RecordedEvent[] }, after: S): Promise<void> {
    const last = own.events[own.events.length - 1];
    if (!last || !decider.stateVersion || !crossedSnapshotPoint(versionBefore, last.revision, this.aggregates.snapshotEvery)) return;
    await this.aggregates.saveSnapshot(own.streamId, decider.stateVersion, after, last);
  }

  /** Whether a stream an attempt read has been written since (its version in the store is not the one read). */
  private async readsMoved(read: ReadonlyMap<string, { version: number }>): Promise<boolean> {
    for (const [streamId, { version }] of read) if ((await this.store.streamVersion(streamId)) !== version) return true;
    return false;
  }

  /** The next command on this stream starts from the state right after this append (nothing to fold if nobody else wrote). */
  private rememberAfterAppend<S>(decider: Evolver<S>, own: { streamId: string; events: RecordedEvent[] }, after: S): void {
    const last = own.events[own.events.length - 1];
    if (last && decider.stateVersion) this.aggregates.remember(own.streamId, decider.stateVersion, after, last);
  }

  private toNewEvent(e: DomainEvent, ctx: CommandContext, commandType: string, commandSubject: string | undefined) {
    return {
      // Time-ordered ids keep the event-id index appending at its end (see the store bench).
      eventId: newEventId(),
      type: e.type,
      schemaVersion: this.upcasters.schemaVersionOf(e.type),
      data: e.data as Record<string, unknown>,
      metadata: {
        actor: { id: ctx.actor.id, name: ctx.actor.name, roles: [...ctx.actor.roles] },
        occurredAt: ctx.at,
        correlationId: ctx.correlationId,
        causationId: ctx.causationId,
        ...(ctx.commandId ? { commandId: ctx.commandId, ...(commandType ? { commandType } : {}), ...(commandSubject !== undefined ? { commandSubject } : {}), ...(ctx.inputDigest ? { commandInput: ctx.inputDigest } : {}) } : {}),
      },
    };
  }

  /** The answer to a retried command: the aggregate as it stood right after the first append (a key used for another command: retried-key.ts). */
  private async firstResult<S>(
    target: Pick<AggregateTarget<unknown, any, S>, 'decider' | 'streamId'> & { command?: unknown },
    streamId: string,
    events: RecordedEvent[],
    position: string,
    commandType: string,
    ctx: Pick<CommandContext, 'actor' | 'inputDigest'>,
  ): Promise<ExecutionResult<S>> {
    // Also when the first one committed while this one was being decided (two requests at once).
    const subject = target.command === undefined ? undefined : target.decider.subjectOf?.(target.command);
    // A key that a command found satisfied: checked against the stream it was decided on, answered with that stream as it stood then.
    const found = foundSatisfied(events) ?? foundRefused(events);
    const misuse = await keyMisuse({ streamId: found?.streamId ?? streamId, events }, { streamId: target.streamId, subject, input: ctx.inputDigest, actorId: ctx.actor.id }, commandType, async () => (await this.store.streamVersion(target.streamId)) >= 0);
    if (misuse) throw new BadInputError({ commandId: misuse });
    // A key bound to a refusal: its first result was that refusal.
    const refused = foundRefused(events);
    if (refused) throw new RuleViolationError(refused.rule, refused.article, refused.message);
    if (found) {
      const { state } = await this.aggregates.load(found.streamId, target.decider, found.version);
      // Nothing of the entity's own was appended; the position is the acknowledgement's (an answer that reads other streams reads them as they stood then).
      return { state, events: [], position, duplicate: true };
    }
    const lastRevision = events[events.length - 1]?.revision;
    const end = await this.cascadeEndEvent(streamId, events, lastRevision);
    const { state } = await this.aggregates.load(streamId, target.decider, end?.revision ?? lastRevision);
    // The position the first answer stood at (its whole commit, and its cascade's last event on the
    // stream after it): an answer that shows more than the stream (a risk's lists and flags) reads it there.
    const at = end && end.position > position ? end.position : position;
    await awaitFollowers(this.projections, at, streamId);
    return { state, events, position: at, duplicate: true };
  }

  /**
   * Where a command's first answer stood on its stream: after its own events and the reactions to
   * them that wrote to the same stream (its cascade, which the first answer waited for: a consent
   * made stale by a change is asked for again there). They carry the command's correlationId.
   */
  async cascadeEnd(streamId: string, events: readonly RecordedEvent[], lastRevision: number | undefined): Promise<number | undefined> {
    return (await this.cascadeEndEvent(streamId, events, lastRevision))?.revision ?? lastRevision;
  }

  private async cascadeEndEvent(streamId: string, events: readonly RecordedEvent[], lastRevision: number | undefined): Promise<Pick<RecordedEvent, 'revision' | 'position'> | undefined> {
    const last = events[events.length - 1];
    const correlationId = events[0]?.metadata.correlationId;
    if (lastRevision === undefined || correlationId === undefined) return last?.revision === lastRevision ? last : undefined;
    let end: Pick<RecordedEvent, 'revision' | 'position'> | undefined = last?.revision === lastRevision ? last : undefined;
    for (const e of await this.store.readStream(streamId, { fromRevision: lastRevision + 1 })) if (e.metadata.correlationId === correlationId) end = e;
    return end;
  }
}

/** The later of the command's instant and its streams' last events' (ISO instants of one format compare as strings). */
function decisionTime(at: string, lastRecorded: readonly (string | undefined)[]): string {
  return lastRecorded.reduce<string>((latest, t) => (t !== undefined && t > latest ? t : latest), at);
}

/** The command with its instant moved to `at`, when it carries the context's instant (commands name it `at`). */
function restamped<C>(command: C, contextAt: string, at: string): C {
  return (command as { at?: unknown } | null)?.at === contextAt ? { ...command, at } : command;
}

/** The event at `last`, the highest position the command's parts committed, for its request's access-log entry (committed-writes.ts). */
function noteLastCommitted(answerId: string, results: readonly { events: readonly RecordedEvent[] }[], last: string): void {
  for (const r of results) {
    const event = r.events.find((e) => e.position === last);
    if (event) return noteCommitted(answerId, { position: last, eventId: event.eventId });
  }
}
