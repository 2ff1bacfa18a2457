import type { EventMetadata, EventStore, RecordedEvent, StreamHeadLookup, StreamSnapshot } from '../../event-store/event-store.port.js';
import { fold, type Decider, type DomainEvent } from '../domain/decider.js';
import type { EventUpcasters } from './event-upcasting.js';
import { happenedBy, settlePoint, type PointInTime } from './point-in-time.js';
import { snapshotEvery } from './snapshot-policy.js';
import { openSealedStreamSnapshot, sealedStreamSnapshot } from './snapshot-seal.js';
import { rootLogger } from '../logging/json-logger.js';
import { describeError } from './transient-errors.js';
import { turnSlice } from './turns.js';

const log = rootLogger.child('aggregate-reader');

/** A stored snapshot whose seal does not hold (see AggregateReader.opened). */
const NOT_SEALED = Symbol('not sealed');
/** Appended to the decider's stateVersion for sealed snapshots (see AggregateReader.storedAs). */
export const SEALED_SUFFIX = '+sealed';

/** Streams whose newest folded state a reader keeps in memory. */
const LATEST_KEPT = 2_000;

/** Events read per page when folding a stream up to a past point. */
const STATE_AT_PAGE = 500;

/**
 * A stream this reader has not folded yet is first read up to this many events (at most
 * SNAPSHOT_EVERY): when that is the whole stream (a new stream, a name reservation, a young
 * aggregate), it is folded from that one read, without asking for a snapshot first.
 */
const SHORT_STREAM = 32;

export type Evolver<S> = Pick<Decider<unknown, any, S>, 'evolve' | 'initialState' | 'stateVersion'>;

export interface AggregateReaderOptions {
  /** Snapshot every N events (0: no snapshots). Default: SNAPSHOT_EVERY (snapshot-policy.ts). */
  snapshotEvery?: number;
  /**
   * The secret that seals stored snapshots (the signing key's derived secret: snapshot-seal.ts).
   * With one, a stored snapshot whose seal does not hold is not used (the stream is folded);
   * without (the in-memory store, tests), snapshots are stored and used unsealed.
   */
  snapshotSecret?: Buffer;
}

/**
 * A stream's state as loaded, its version, and the instant its last event's command was decided
 * (metadata.occurredAt): the command executor decides no earlier, so that the instants a stream's
 * events carry never go back along it.
 */
export interface Loaded<S> {
  state: S;
  streamVersion: number;
  lastOccurredAt?: string;
}

/**
 * An aggregate's state from its own stream, the source of truth (never a read model that may
 * lag): now, at a revision, or exactly as it stood at a past moment (time travel folds the log).
 *
 * With snapshots on (SNAPSHOT_EVERY > 0) and a decider that names its stateVersion, `load` starts
 * from the newest snapshot of that state version (at or before the revision asked for) and folds
 * only the events after it; it stores a new snapshot when it had to fold more than N events. A
 * snapshot is used only if the event it was taken at is still the log's (same position):
 * otherwise, and on any snapshot error, the whole stream is folded. Same answer either way.
 */
export class AggregateReader {
  readonly snapshotEvery: number;
  private readonly snapshotSecret?: Buffer;
  /**
   * The newest state this process folded per stream (an in-memory snapshot, LRU, at most
   * LATEST_KEPT streams): `load` reads only the events after it, anchored by its event's position
   * like a stored snapshot, so appends by other instances are folded in. A command on a stream
   * this process just wrote folds nothing, and reads nothing when the store knows its head is
   * still that event (EventStore.currentStreamHeads). On with snapshots (SNAPSHOT_EVERY > 0) only.
   */
  private readonly latest = new Map<string, { stateVersion: string; revision: number; position: string; occurredAt: string; state: unknown }>();

  constructor(
    private readonly store: EventStore,
    private readonly upcasters: EventUpcasters,
    options: AggregateReaderOptions = {},
  ) {
    this.snapshotEvery = options.snapshotEvery ?? snapshotEvery();
    this.snapshotSecret = options.snapshotSecret;
  }

  /**
   * `heads`: the store's lookup of current stream heads that the loads of one decision share
   * (`headLookup()`, taken once the request is in); without, this load takes one of its own.
   */
  async load<S>(streamId: string, decider: Evolver<S>, toRevision?: number, heads?: StreamHeadLookup): Promise<Loaded<S>> {
    const stateVersion = this.snapshotEvery > 0 ? decider.stateVersion : undefined;
    if (stateVersion && toRevision === undefined) {
      const fromLatest = await this.loadFromLatest(streamId, decider, stateVersion, heads);
      if (fromLatest) return fromLatest;
      const fromShort = await this.loadShort(streamId, decider, stateVersion);
      if (fromShort) return fromShort;
    }
    if (stateVersion) {
      const fromSnapshot = await this.loadFromSnapshot(streamId, decider, stateVersion, toRevision);
      if (fromSnapshot) return fromSnapshot;
    }
    const recorded = await this.store.readStream(streamId, toRevision === undefined ? {} : { toRevision });
    const state = fold(decider, recorded.map((r) => this.toDomain(r)));
    const last = recorded[recorded.length - 1];
    if (stateVersion && recorded.length > this.snapshotEvery) void this.saveSnapshot(streamId, stateVersion, state, last!);
    if (stateVersion && toRevision === undefined && last) this.remember(streamId, stateVersion, state, last);
    return { state, streamVersion: last ? last.revision : -1, ...(last ? { lastOccurredAt: last.metadata.occurredAt } : {}) };
  }

  /**
   * For the loads of one decision (one attempt of a command): the store's lookup of current
   * stream heads, which learns once whether another connection has committed (see
   * EventStore.currentStreamHeads). Undefined when the store cannot tell, or nothing is kept.
   */
  headLookup(): StreamHeadLookup | undefined {
    return this.snapshotEvery > 0 ? this.store.currentStreamHeads?.() : undefined;
  }

  /** Keeps `state` as the newest folded state of the stream (see `latest`). */
  remember(streamId: string, stateVersion: string, state: unknown, last: Pick<RecordedEvent, 'revision' | 'position'> & { metadata: Pick<EventMetadata, 'occurredAt'> }): void {
    if (this.snapshotEvery <= 0) return;
    const known = this.latest.get(streamId);
    if (known && known.stateVersion === stateVersion && known.revision > last.revision) return;
    this.latest.delete(streamId);
    this.latest.set(streamId, { stateVersion, revision: last.revision, position: last.position, occurredAt: last.metadata.occurredAt, state });
    if (this.latest.size > LATEST_KEPT) this.latest.delete(this.latest.keys().next().value!);
  }

  /** The state from the newest one this process folded plus the events after it; null when there is none to use. */
  private async loadFromLatest<S>(streamId: string, decider: Evolver<S>, stateVersion: string, heads: StreamHeadLookup | undefined): Promise<Loaded<S> | null> {
    const known = this.latest.get(streamId);
    if (!known || known.stateVersion !== stateVersion) return null;
    // Nothing was appended after it, as the store knows without reading: no read at all (an
    // analyseRisk reads three streams this way, its risk, asset and criteria, 10-20 µs each in SQLite).
    const head = (heads ?? this.store.currentStreamHeads?.())?.(streamId);
    if (head && head.revision === known.revision && head.position === known.position) {
      return { state: known.state as S, streamVersion: known.revision, lastOccurredAt: known.occurredAt };
    }
    const recorded = await this.store.readStream(streamId, { fromRevision: known.revision });
    if (recorded[0]?.position !== known.position) {
      this.latest.delete(streamId);
      return null;
    }
    const tail = recorded.slice(1);
    const state = fold(decider, tail.map((r) => this.toDomain(r)), known.state as S);
    const last = recorded[recorded.length - 1]!;
    if (tail.length) this.remember(streamId, stateVersion, state, last);
    if (tail.length > this.snapshotEvery) void this.saveSnapshot(streamId, stateVersion, state, last);
    return { state, streamVersion: last.revision, lastOccurredAt: last.metadata.occurredAt };
  }

  /**
   * The whole stream folded, when it holds no more than min(SHORT_STREAM, snapshotEvery) events
   * (null otherwise): a snapshot could spare no more than that, and the fold equals one from a
   * snapshot (snapshot + tail = full fold). A longer stream is then read as before, its first
   * events again (once per stream, since the state folded is remembered).
   */
  private async loadShort<S>(streamId: string, decider: Evolver<S>, stateVersion: string): Promise<Loaded<S> | null> {
    const most = Math.min(SHORT_STREAM, this.snapshotEvery);
    const recorded = await this.store.readStream(streamId, { toRevision: most });
    if (recorded.length > most) return null;
    const state = fold(decider, recorded.map((r) => this.toDomain(r)));
    const last = recorded[recorded.length - 1];
    if (last) this.remember(streamId, stateVersion, state, last);
    return { state, streamVersion: last ? last.revision : -1, ...(last ? { lastOccurredAt: last.metadata.occurredAt } : {}) };
  }

  /** The state from the newest usable snapshot plus the events after it; null when there is none to use. */
  private async loadFromSnapshot<S>(streamId: string, decider: Evolver<S>, stateVersion: string, toRevision?: number): Promise<Loaded<S> | null> {
    let snapshot;
    try {
      snapshot = await this.store.readSnapshot(streamId, this.storedAs(stateVersion), toRevision === undefined ? {} : { maxRevision: toRevision });
    } catch (error) {
      log.warn('could not read a snapshot: folding the whole stream', { streamId, error: describeError(error) });
      return null;
    }
    if (!snapshot || snapshot.streamId !== streamId || snapshot.stateVersion !== this.storedAs(stateVersion) || (toRevision !== undefined && snapshot.revision > toRevision)) return null;
    // From the snapshot's own event: it proves the snapshot belongs to this log.
    const recorded = await this.store.readStream(streamId, toRevision === undefined ? { fromRevision: snapshot.revision } : { fromRevision: snapshot.revision, toRevision });
    const anchor = recorded[0];
    const opened = this.opened(snapshot, stateVersion);
    if (!anchor || anchor.revision !== snapshot.revision || anchor.position !== snapshot.position || opened === NOT_SEALED) {
      log.warn('a snapshot does not match the log: ignoring it', { streamId, revision: snapshot.revision, stateVersion, sealHolds: opened !== NOT_SEALED });
      return null;
    }
    const tail = recorded.slice(1);
    const state = fold(decider, tail.map((r) => this.toDomain(r)), opened as S);
    const last = recorded[recorded.length - 1]!;
    if (tail.length > this.snapshotEvery) void this.saveSnapshot(streamId, stateVersion, state, last);
    if (toRevision === undefined) this.remember(streamId, stateVersion, state, last);
    return { state, streamVersion: last.revision, lastOccurredAt: last.metadata.occurredAt };
  }

  /**
   * Stores the state as folded up to `last` (best effort: a failure is logged, never raised;
   * callers do not wait for it: the store writes it synchronously (SQLite, memory) or in the background).
   * Used by load and by the command executor after an append.
   */
  async saveSnapshot(streamId: string, stateVersion: string, state: unknown, last: Pick<RecordedEvent, 'revision' | 'position' | 'recordedAt'>): Promise<void> {
    try {
      const at = { streamId, revision: last.revision, position: last.position, stateVersion };
      const sealed = this.snapshotSecret ? { state: undefined, stateJson: sealedStreamSnapshot(this.snapshotSecret, at, state) } : { state };
      await this.store.writeSnapshot({ ...at, stateVersion: this.storedAs(stateVersion), recordedAt: last.recordedAt, ...sealed });
    } catch (error) {
      log.warn('could not store a snapshot (an optimisation only: nothing lost)', { streamId, revision: last.revision, error: describeError(error) });
    }
  }

  async state<S>(streamId: string, decider: Evolver<S>): Promise<S> {
    return (await this.load(streamId, decider)).state;
  }

  /** The aggregate exactly as it stood at `point`: the stream's events committed by then, folded. */
  async stateAt<S>(streamId: string, decider: Evolver<S>, point: PointInTime): Promise<S> {
    return (await this.loadAt(streamId, decider, point)).state;
  }

  /**
   * The aggregate as it stood at `point`, and the last event folded (null: the stream did not
   * exist yet). Starts from the newest snapshot taken at or before the point (checked against
   * the log as `load` does) and folds the events after it in pages, stopping at the first event
   * past the point: a 10,000-event stream read at any moment costs one snapshot and at most the
   * events since it, not the whole stream. Streams are read in revision order, and a stream's
   * positions and recording times only grow with its revisions.
   */
  async loadAt<S>(streamId: string, decider: Evolver<S>, asked: PointInTime): Promise<{ state: S; last: RecordedEvent | null }> {
    const point = await settlePoint(this.store, asked);
    const within = happenedBy(point);
    let state = decider.initialState;
    let last: RecordedEvent | null = null;
    let from = 0;
    const stateVersion = this.snapshotEvery > 0 ? decider.stateVersion : undefined;
    if (stateVersion) {
      const limit = point.atPosition ? { maxPosition: point.atPosition } : { maxRecordedAt: point.asOf!.toISOString() };
      const snapshot = await this.store.readSnapshot(streamId, this.storedAs(stateVersion), limit).catch((error: unknown) => {
        log.warn('could not read a snapshot: folding the whole stream', { streamId, error: describeError(error) });
        return null;
      });
      if (snapshot && snapshot.stateVersion === this.storedAs(stateVersion)) {
        const [anchor] = await this.store.readStream(streamId, { fromRevision: snapshot.revision, toRevision: snapshot.revision });
        const opened = this.opened(snapshot, stateVersion);
        if (anchor && anchor.position === snapshot.position && within(anchor) && opened !== NOT_SEALED) {
          state = opened as S;
          last = anchor;
          from = snapshot.revision + 1;
        } else {
          log.warn('a snapshot does not match the log: ignoring it', { streamId, revision: snapshot.revision, stateVersion, sealHolds: opened !== NOT_SEALED });
        }
      }
    }
    // After a snapshot the point is usually within the next snapshotEvery events (the pipeline
    // takes one that often): read those first rather than a whole page the point may cut short.
    let size = last !== null ? Math.min(STATE_AT_PAGE, this.snapshotEvery + 1) : STATE_AT_PAGE;
    // In the turn's slices, as replays are (turnSlice): 32 plan(asOf) of a plan of 784 items, each
    // folded in one task of 20-80 ms, ran back to back and /health/live waited 1.0-1.1 s (re-probe
    // of the scale probe, 2026-12-06).
    let deadline = await turnSlice();
    for (;;) {
      const page = await this.store.readStream(streamId, { fromRevision: from, toRevision: from + size - 1 });
      for (const r of page) {
        if (!within(r)) return { state, last };
        state = decider.evolve(state, this.toDomain(r));
        last = r;
        if (performance.now() > deadline) deadline = await turnSlice();
      }
      if (page.length < size) return { state, last };
      from += size;
      size = STATE_AT_PAGE;
    }
  }

  /**
   * The state version a snapshot is stored under. Sealed ones under their own (`risk/6+sealed`):
   * a build from before seals, rolled back to, asked for `risk/6` and took a sealed wrapper for
   * the state itself (a risk read as missing, a review answered with an internal error: upgrade
   * probe p16), and this build folded past every unsealed snapshot an older build had left,
   * warning each time.
   */
  private storedAs(stateVersion: string): string {
    return this.snapshotSecret ? `${stateVersion}${SEALED_SUFFIX}` : stateVersion;
  }

  /**
   * A stored snapshot's state, or NOT_SEALED when this reader has a secret and the snapshot's
   * seal does not hold (edited in the database, or written under another key).
   */
  private opened(snapshot: StreamSnapshot, stateVersion: string): unknown {
    if (!this.snapshotSecret) return snapshot.state;
    const at = { ...snapshot, stateVersion };
    const opened = openSealedStreamSnapshot(this.snapshotSecret, at, snapshot.stateJson ?? JSON.stringify(snapshot.state) ?? 'null', snapshot.state);
    return opened ? opened.state : NOT_SEALED;
  }

  /** The domain form of a recorded (and upcast) event. */
  toDomain<E extends DomainEvent>(recorded: RecordedEvent): E {
    return asDomainEvent(this.upcasters.upcast(recorded));
  }
}

/**
 * The domain form of a recorded event, for `evolve`: its type and data, with its id and log
 * position riding along for the states that cite them (a board resolution's id and position).
 */
export function asDomainEvent<E extends DomainEvent>(e: RecordedEvent): E {
  return { type: e.type, data: e.data, eventId: e.eventId, position: e.position } as unknown as E;
}
