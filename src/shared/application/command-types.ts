/**
 * What the command pipeline (command-executor.ts) is given and answers: a command's context, its
 * decisions on one or several streams, what an attempt reads them through, the follow-ups features
 * contribute, and what it waits on (the write gate, the read models).
 */
import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { Decider, DomainActor, DomainEvent } from '../domain/decider.js';
import type { Evolver } from './aggregate-reader.js';

/**
 * Whether the log may be written now (the integrity monitor): throws a DomainError when not;
 * returns a promise when the answer must wait (the whole log being verified after a start).
 */
export interface WriteGate {
  whenWritable(): Promise<void> | void;
}

/** What a command waits for before it answers: the read models (and reactions) reaching its position. */
export interface PositionWaiter {
  waitFor(position: string): Promise<void>;
}

/** What every command carries besides its own fields: who, when, and how to trace and retry it. */
export interface CommandContext {
  actor: DomainActor;
  /** ISO instant the command is handled: the decider's only clock. */
  at: string;
  correlationId: string;
  /** What caused this command: the client's commandId, a request id, or an event id (process manager). */
  causationId: string;
  /** The client's idempotency key, unique per user. */
  commandId?: string;
  /** With a commandId: the digest of the input that carried it (request-meta.ts), recorded and compared beside it. */
  inputDigest?: string;
  /**
   * The answer that says when the read models did not confirm this command (RequestMeta.answerId):
   * a client's command only. Never in the events; reactions have none (their cause's
   * correlationId may be shared by requests that have nothing to do with them).
   */
  answerId?: string;
  /**
   * The bearer token a client's command came with (its `iat`, seconds since the epoch): what the
   * admissions judge at the append (command-admission.ts: a token revoked meanwhile). None for the
   * system's own commands (reactions, deadlines, imports).
   */
  credential?: { issuedAt?: number };
}

export interface AggregateTarget<C, E extends DomainEvent, S> {
  streamId: string;
  decider: Decider<C, E, S>;
  /** The entity's `version` for the client's expectedVersion; default: the stream's version. */
  entityVersion?: (state: S) => number;
}

export interface ExecutionResult<S> {
  /** The aggregate's state right after this command (or after the first one, for a retry). */
  state: S;
  events: RecordedEvent[];
  /** Position of the last appended event, or null when nothing was appended. */
  position: string | null;
  /** True when the commandId had been used: nothing new was appended. */
  duplicate: boolean;
}

/**
 * One stream's decision within a command: the command its decider decides on the state read in
 * this attempt. The first decision of a joint command is the command's own (its result is returned).
 */
export interface StreamDecision<C = any, E extends DomainEvent = DomainEvent, S = any> {
  streamId: string;
  decider: Decider<C, E, S>;
  command: C;
}

/**
 * A stream's state and version that the first attempt of a command decides on instead of reading
 * the stream: what the caller has just read, or a stream it has reason to take as new (-1). The
 * append checks that version like any other, so a wrong guess costs one retry that reads afresh.
 */
export interface LoadedStream {
  streamId: string;
  state: unknown;
  streamVersion: number;
}

/**
 * What a joint command reads during one attempt. Every stream read through it is appended with
 * the version read (events or none), so a rule that looked at another stream cannot be undone
 * by a concurrent write there: the append conflicts and the whole attempt is decided again.
 */
export interface AttemptReader {
  state<S>(streamId: string, decider: Evolver<S>): Promise<S>;
  /**
   * The stream's events from `fromRevision` to its end (upcast), without folding the stream: the
   * append checks the stream at the version of the last of them, as for a state read. Undefined
   * when the stream ends before `fromRevision`, or was already read in this attempt (then its
   * state is the one to look at). A rule that can be judged from a stream's last events alone (an
   * acceptance the plan already learnt) spares folding every stream of a large plan (bench
   * plan-consent: 1,998 risks folded cold in ~0.5 s). Readers that check no version may omit it.
   */
  tail?(streamId: string, fromRevision: number): Promise<DomainEvent[] | undefined>;
}

export interface JointCommand<S> {
  /** The command's own stream: its state is the result; `expectedVersion` applies to it (but see entityVersion). */
  primary: StreamDecision<any, any, S> & { entityVersion?: (state: S) => number };
  /**
   * The version `expectedVersion` is compared with when the entity the client read lives in
   * another stream than the command's own: a comment or an attachment, appended to the entity's
   * annotations, names the entity's version. `build` read that stream through the attempt's
   * reader, so a change to the entity since makes the append conflict and the attempt read again.
   */
  entityVersion?: number;
  /** Decisions on other streams appended atomically with the primary (reservations, the other side of a link). */
  others?: StreamDecision[];
  /**
   * Decisions that follow from what the primary decided (the retirement of the assets of a risk it
   * avoids), read through the same attempt and appended atomically with it: the primary's own
   * decider says whether they are due, once, instead of the caller deciding its command twice.
   */
  followUp?: (primaryEvents: readonly DomainEvent[], reader: AttemptReader) => Promise<StreamDecision[]>;
}

/**
 * What a module appends atomically with a decision on another module's stream, contributed by
 * features (FeatureContribution.followUps) and run for every command: given the command's own
 * decision (its stream, the version it was decided on, its events, who and when) and the
 * attempt's reader, the decisions on other streams that follow from it ([] when none). Several on
 * one stream are decided in turn, each on the state the earlier ones leave, and appended as one
 * part (an AVOID that voids a consent: the plan learns the stale consent, then the closure). The plan learns in the same append that a risk's consent went stale: learnt by
 * a reaction, a moment later (or, after a crash between the two, at the next start, days later),
 * the log showed the plan in force over a consent it no longer had (year probe p14).
 */
export type DecisionFollowUp = (
  decision: { streamId: string; version: number; events: readonly DomainEvent[]; actor: DomainActor; at: string },
  reader: AttemptReader,
) => Promise<StreamDecision[]>;
