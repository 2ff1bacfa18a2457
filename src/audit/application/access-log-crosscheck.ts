import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EventStore, RecordedEvent } from '../../event-store/event-store.port.js';
import { SYSTEM_ACTOR_PREFIX } from '../../shared/domain/guards.js';
import type { AccessLogVerification } from './access-log-chain.js';
import type { ImportedRange } from './access-log-imports.js';

/** What the cross-check needs of an access log: when it began, and which requests it holds. */
export interface CorrelationLookup {
  /** The instant of its first entry (null: empty). */
  firstEntryAt(): Promise<string | null>;
  /** Of these correlation ids, those that some entry carries. */
  correlationsLogged(ids: readonly string[]): Promise<Set<string>>;
  /** The evidence imports it records (access-log-imports.ts), in entry order. */
  importsLogged(): Promise<ImportedRange[]>;
}

export interface UnloggedChanges {
  eventsChecked: number;
  /** Requests whose committed events have no access-log entry. */
  missing: number;
  /** The first such event, in log order. */
  first: Pick<RecordedEvent, 'position' | 'type' | 'streamId' | 'recordedAt'> & { correlationId: string } | null;
  /** Import entries that do not describe this event log (their count of events differs). */
  importsNotMatching: (ImportedRange & { found: number })[];
}

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
 * `now` (their requests may not have been answered yet), nor those an import the access log records
 * brought (logged where they were first made): only its entries up to `importsUpToSeq` are
 * believed (those a signed head the verification checked covers: nobody without the key can add
 * one), and each must describe this event
 * log (as many events up to its position as it says), else it is reported.
 */
export async function changesWithoutAccessEntry(store: EventStore, log: CorrelationLookup, now = new Date(), importsUpToSeq = Number.MAX_SAFE_INTEGER): Promise<UnloggedChanges> {
  const since = await log.firstEntryAt();
  const until = new Date(now.getTime() - inFlight.ms).toISOString();
  const out: UnloggedChanges = { eventsChecked: 0, missing: 0, first: null, importsNotMatching: [] };
  if (since === null) return out;
  const imports = (await log.importsLogged()).filter((r) => r.seq <= importsUpToSeq);
  // Events at or before the highest imported head came by import; each record's count checked at the end.
  const importedUpTo = imports.reduce<string | null>((max, r) => (max === null || r.upTo > max ? r.upTo : max), null);
  const found = imports.map(() => 0);
  const missing = new Set<string>();
  for (let after: string | null = null; ; ) {
    const page = await store.readAll({ after, maxCount: PAGE });
    if (page.length === 0) {
      out.importsNotMatching = imports.flatMap((r, i) => (found[i] === r.events ? [] : [{ ...r, found: found[i]! }]));
      return out;
    }
    after = page[page.length - 1]!.position;
    for (const e of page) {
      for (let i = 0; i < imports.length; i++) if (e.position <= imports[i]!.upTo) found[i]!++;
    }
    const asked = page.filter(
      (e) =>
        e.recordedAt >= since &&
        e.recordedAt <= until &&
        (importedUpTo === null || e.position > importedUpTo) &&
        !e.metadata.actor.id.startsWith(SYSTEM_ACTOR_PREFIX) &&
        e.metadata.correlationId,
    );
    out.eventsChecked += asked.length;
    const ids = [...new Set(asked.map((e) => e.metadata.correlationId))].filter((id) => !missing.has(id));
    const logged = ids.length ? await log.correlationsLogged(ids) : new Set<string>();
    for (const e of asked) {
      const id = e.metadata.correlationId;
      if (logged.has(id) || missing.has(id)) continue;
      missing.add(id);
      out.first ??= { position: e.position, type: e.type, streamId: e.streamId, recordedAt: e.recordedAt, correlationId: id };
    }
    out.missing = missing.size;
    await nextTurn();
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
  const f = unlogged.first;
  if (f) {
    findings.push(
      `${unlogged.missing} request${unlogged.missing === 1 ? '' : 's'} whose changes are in the event log ha${unlogged.missing === 1 ? 's' : 've'} no access log entry ` +
        `(lost in a crash after the answer, or deleted with an older copy of the log and its anchor): the first, ${f.type} on ${f.streamId} at position ${f.position} (${f.recordedAt}), request ${f.correlationId}`,
    );
  }
  if (findings.length === 0) return verified;
  const finding = findings.join('; and ');
  // Also under an earlier finding (a restart acknowledged with ACCESS_LOG_RESET stays reported for
  // good), which would otherwise hide every later loss (re-probe p15).
  return { ...verified, ok: false, reason: verified.ok ? finding : `${verified.reason}; and ${finding}` };
}
