import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EventStore, RecordedEvent } from '../../event-store/event-store.port.js';
import { SYSTEM_ACTOR_PREFIX } from '../../shared/domain/guards.js';
import type { AccessLogVerification } from './access-log-chain.js';
import { RECOVERY_WINDOW_MS, SystemEntriesCheck, type RecoveredStop, type SystemEntriesJudged, type SystemEntry } from './access-log-system-entries.js';

/** What the cross-check needs of an access log: when it began, and which requests it holds. */
export interface CorrelationLookup {
  /** The instant of its first entry (null: empty). */
  firstEntryAt(): Promise<string | null>;
  /** Of these correlation ids, those that some entry carries. */
  correlationsLogged(ids: readonly string[]): Promise<Set<string>>;
  /** The system entries that account for a range of the event log (imports, unclean stops: access-log-system-entries.ts), in entry order. */
  systemEntriesLogged(): Promise<SystemEntry[]>;
  /** Entries (written) naming the event their request committed last at a position after `after` (null: any) and up to `upTo` (null: no bound), by position; at most `limit`. */
  commitsLogged(after: string | null, upTo: string | null, limit: number): Promise<LoggedCommit[]>;
}

/** An entry's committed event (AccessRecord.committed), with the entry. */
export interface LoggedCommit {
  seq: number;
  correlationId: string | null;
  position: string;
  eventId: string;
}

/** An entry whose committed event the event log does not hold: none at its position, or another event there. */
export type CommitGone = LoggedCommit & { found: string | null };

export interface UnloggedChanges extends SystemEntriesJudged {
  eventsChecked: number;
  /** Requests whose committed events have no access-log entry. */
  missing: number;
  /** The first such event, in log order. */
  first: Pick<RecordedEvent, 'position' | 'type' | 'streamId' | 'recordedAt'> & { correlationId: string } | null;
  /** Requests without an entry whose changes an unclean-stop entry covers: lost with the process, acknowledged. */
  acknowledged: number;
  /** Entries naming the event their request committed (the other direction), checked against the log. */
  commitsChecked: number;
  /** Of those, the entries whose event the event log does not hold (rolled back to an older copy, the access log kept). */
  commitsGone: number;
  /** The first of them, by position. */
  firstGone: CommitGone | null;
}

type FirstUnlogged = NonNullable<UnloggedChanges['first']>;

const PAGE = 1_000;

/**
 * A request's entry is written after its answer (batched, within 25 ms of it), and its answer
 * waits for the projections and reactions: changes younger than this may still be answered.
 */
export const inFlight = { ms: 120_000 }; // tests lower it

/**
 * Every change a person made (an event whose actor is not one of the system's) since the access
 * log began must have come through a request the access log recorded, under the same
 * correlationId. The access log's own checks (chain, signatures, its anchor) cannot see it cut
 * back to an older copy together with that copy's anchor (insider probe p14: two registerAsset
 * entries gone, every check OK), nor the entries a crash lost after their answers were sent (year
 * probe p14: three reassignments). Both leave committed changes with no entry, which this finds.
 * Events recorded before the first entry are not asked, nor those of the last `inFlight.ms` before
 * `now` (their requests may not have been answered yet) unless an unclean stop the access log
 * records came after them (their process is gone: nothing of theirs is in flight; a verification
 * run at the restart after a SIGKILL found nothing missing, operations probe 10-c M4), nor those
 * an import the access log records brought (logged where they were first made). Those an unclean
 * stop the access log records lost (up to the head a start after it found, recorded a few seconds
 * before it) are counted apart, as acknowledged. Which import and unclean-stop entries are
 * believed (covered by a signed head the verification checked, `signedUpToSeq`, and describing
 * this event log), and what each accounts for, is decided in one place: SystemEntriesCheck
 * (access-log-system-entries.ts).
 */
export async function changesWithoutAccessEntry(store: EventStore, log: CorrelationLookup, now = new Date(), signedUpToSeq = Number.MAX_SAFE_INTEGER): Promise<UnloggedChanges> {
  const since = await log.firstEntryAt();
  const until = new Date(now.getTime() - inFlight.ms).toISOString();
  const out: UnloggedChanges = { eventsChecked: 0, missing: 0, first: null, importsNotMatching: [], acknowledged: 0, uncleanStops: [], uncleanStopsNotMatching: [], commitsChecked: 0, commitsGone: 0, firstGone: null };
  const commits = new CommitsCheck(log, out);
  if (since === null) return out;
  const entries = new SystemEntriesCheck(await log.systemEntriesLogged(), signedUpToSeq);
  // Requests without an entry that a stop's window holds: acknowledged if that stop proves to describe this log.
  const held = new Map<string, { stop: RecoveredStop; event: FirstUnlogged }>();
  const missing = new Set<string>();
  for (let after: string | null = null; ; ) {
    const page = await store.readAll({ after, maxCount: PAGE });
    // The entries naming events past the log's end: gone, unless the log has grown since this page was read.
    if (page.length === 0 && !(await commits.pastTheEnd(after, () => store.readAll({ after, maxCount: 1 })))) continue;
    if (page.length === 0) {
      Object.assign(out, entries.judged());
      const matching = new Set(out.uncleanStops);
      for (const [id, h] of held) {
        if (matching.has(h.stop)) out.acknowledged++;
        else {
          missing.add(id);
          if (out.first === null || h.event.position < out.first.position) out.first = h.event;
        }
      }
      out.missing = missing.size;
      return out;
    }
    await commits.inPage(after, page);
    after = page[page.length - 1]!.position;
    for (const e of page) entries.see(e);
    const asked = page.filter(
      (e) => e.recordedAt >= since && (e.recordedAt <= until || entries.beforeStop(e)) && !entries.imported(e) && !e.metadata.actor.id.startsWith(SYSTEM_ACTOR_PREFIX) && e.metadata.correlationId,
    );
    out.eventsChecked += asked.length;
    const ids = [...new Set(asked.map((e) => e.metadata.correlationId))].filter((id) => !missing.has(id) && !held.has(id));
    const logged = ids.length ? await log.correlationsLogged(ids) : new Set<string>();
    for (const e of asked) {
      const id = e.metadata.correlationId;
      if (logged.has(id) || missing.has(id) || held.has(id)) continue;
      const event = { position: e.position, type: e.type, streamId: e.streamId, recordedAt: e.recordedAt, correlationId: id };
      // Lost with the process in an unclean stop: up to the head the next start found, a few seconds before it.
      const stop = entries.stopHolding(e);
      if (stop) {
        held.set(id, { stop, event });
        continue;
      }
      missing.add(id);
      out.first ??= event;
    }
    out.missing = missing.size;
    await nextTurn();
  }
}

/**
 * The other direction: every entry that names the event its request committed last
 * (AccessRecord.committed) must find that event, by id, at that position. The entry is written
 * after the commit, so an event the log does not hold was removed with everything after it: the
 * event log (and whatever records its heads) rolled back to an older copy while the access log
 * was kept (10-b M4). Merged with the walk over the log, page by page.
 */
class CommitsCheck {
  constructor(
    private readonly log: CorrelationLookup,
    private readonly out: UnloggedChanges,
  ) {}

  /** The entries naming a position in (after, the page's last], against the page. */
  async inPage(after: string | null, page: readonly RecordedEvent[]): Promise<void> {
    const byPosition = new Map(page.map((e) => [e.position, e.eventId]));
    await this.each(after, page[page.length - 1]!.position, (c) => {
      const found = byPosition.get(c.position) ?? null;
      if (found !== c.eventId) this.gone({ ...c, found });
    });
  }

  /**
   * At the end of the walk (`after` the last event read): every entry naming a later position is
   * gone, unless the log holds more events now (the entries were read first, and each was written
   * after its event committed): then false, and the walk goes on.
   */
  async pastTheEnd(after: string | null, more: () => Promise<readonly RecordedEvent[]>): Promise<boolean> {
    const beyond = await this.log.commitsLogged(after, null, 1);
    if (beyond.length === 0) return true;
    if ((await more()).length > 0) return false;
    await this.each(after, null, (c) => this.gone({ ...c, found: null }));
    return true;
  }

  private async each(after: string | null, upTo: string | null, check: (c: LoggedCommit) => void): Promise<void> {
    for (let cursor = after; ; ) {
      const commits = await this.log.commitsLogged(cursor, upTo, PAGE);
      this.out.commitsChecked += commits.length;
      commits.forEach(check);
      if (commits.length < PAGE) return;
      cursor = commits[commits.length - 1]!.position;
    }
  }

  private gone(c: CommitGone): void {
    this.out.commitsGone++;
    this.out.firstGone ??= c;
  }
}

/** The access log's own verification, and the cross-check against the event log beside it (also when it failed). */
export async function verifyAccessLogAgainstEvents(verified: AccessLogVerification, store: EventStore, log: CorrelationLookup, now = new Date()): Promise<AccessLogVerification> {
  let unlogged: UnloggedChanges;
  try {
    unlogged = await changesWithoutAccessEntry(store, log, now, verified.signedSeq);
  } catch (error) {
    // An access log found missing or damaged may not answer: that finding stands.
    if (!verified.ok) return verified;
    throw error;
  }
  const findings: string[] = unlogged.importsNotMatching.map(
    (r) => `access log entry ${r.seq} records an import of ${r.events} events up to event log position ${r.upTo}, but the event log holds ${r.found} there: it is not the log that was imported`,
  );
  for (const r of unlogged.uncleanStopsNotMatching) {
    findings.push(
      `access log entry ${r.seq} records an unclean stop at event log position ${r.upTo} (${r.recordedAt}), but the event log ${r.found === null ? 'holds no event there' : `recorded the event there at ${r.found}`}: it does not describe this event log`,
    );
  }
  const f = unlogged.first;
  if (f) {
    findings.push(
      `${unlogged.missing} request${unlogged.missing === 1 ? '' : 's'} whose changes are in the event log ha${unlogged.missing === 1 ? 's' : 've'} no access log entry ` +
        `(committed, then the entry lost with the process before or after the answer was sent, in a stop that no UncleanStopRecovered entry covers; or deleted with an older copy of the log and its anchor): ` +
        `the first, ${f.type} on ${f.streamId} at position ${f.position} (${f.recordedAt}), request ${f.correlationId}`,
    );
  }
  const g = unlogged.firstGone;
  if (g) {
    findings.push(
      `${unlogged.commitsGone} access log entr${unlogged.commitsGone === 1 ? 'y names an event' : 'ies name events'} that the event log does not hold ` +
        `(each entry's request committed its event before the entry was written: the event log was cut back or replaced by an older copy, the access log kept): ` +
        `the first, entry ${g.seq} (request ${g.correlationId ?? 'without an id'}) names event ${g.eventId} at position ${g.position}, where the event log holds ${g.found === null ? 'no event' : `event ${g.found}`}`,
    );
  }
  const acknowledged = acknowledgedLosses(unlogged);
  if (findings.length === 0) return acknowledged ? { ...verified, acknowledged } : verified;
  const finding = findings.join('; and ');
  // Also under an earlier finding (a restart acknowledged with ACCESS_LOG_RESET stays reported for
  // good), which would otherwise hide every later loss (re-probe p15).
  return { ...verified, ok: false, reason: verified.ok ? finding : `${verified.reason}; and ${finding}`, ...(acknowledged ? { acknowledged } : {}) };
}

/** The requests acknowledged as lost in unclean stops, for the verification's result (null: none). */
function acknowledgedLosses(u: UnloggedChanges): AccessLogVerification['acknowledged'] {
  if (u.acknowledged === 0) return null;
  const stops = u.uncleanStops.map((r) => `entry ${r.seq} at event log position ${r.upTo}, ${r.recordedAt}`).join('; ');
  return {
    requests: u.acknowledged,
    uncleanStops: u.uncleanStops.map((r) => ({ seq: r.seq, upTo: r.upTo })),
    note:
      `${u.acknowledged} request${u.acknowledged === 1 ? '' : 's'} whose changes are in the event log ha${u.acknowledged === 1 ? 's' : 've'} no access log entry, ` +
      `within ${RECOVERY_WINDOW_MS / 1000} s before an unclean stop the access log records (UncleanStopRecovered ${stops}): committed, then lost with the process before or after their answers were sent; acknowledged, not a finding`,
  };
}
