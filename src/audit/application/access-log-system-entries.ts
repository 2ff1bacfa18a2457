/**
 * System entries that account for a range of the event log: entries the installation writes into
 * its own access log, signed like any other, naming changes of the event log that have (or may
 * have) no request entry of this log, so that the cross-check (access-log-crosscheck.ts) does not
 * report them. Two kinds, one mechanism (one builder, one parser, one query per adapter in
 * access-log-lookups.ts, one belief rule below); each kind keeps its own meaning:
 *
 * - an import (`EventLogImported`, written by `risk-ledger import`): the events an import brings
 *   were answered, and access-logged, by the installation that wrote them; in this one they come
 *   from no request. The entry names the event log's head after the import and how many events it
 *   brought. An import goes into an EMPTY store, so every event up to its head came with it; it
 *   covers those and never a later change, and it is held to its count.
 * - an unclean stop (`UncleanStopRecovered`, written at start after a stale lock was taken over,
 *   data-dir-lock.ts): a request's entry is written after its answer, batched (within ~25 ms); a
 *   process killed under load (SIGKILL, an OOM kill, a crash) takes the entries still queued with
 *   it, and the changes it had just committed are then in the event log without an entry. The
 *   entry names the event log's head as the next start found it and that event's recordedAt; the
 *   cross-check accepts as lost in that stop the changes recorded up to that position and no more
 *   than RECOVERY_WINDOW_MS before it, and counts them apart (acknowledged, not failing).
 *
 * What neither can hide (the belief rule, SystemEntriesCheck): an entry is only believed when a
 * signed head the verification checked covers it (nobody without the signing key can add one; a
 * log cut back to before it only reports more), and it must describe this event log (an import:
 * as many events up to its position as it says; an unclean stop: the event at its position
 * recorded at its instant), else it is reported and accounts for nothing. The unclean-stop window
 * is a few seconds before the head at start, so an access log cut back to an older copy is still
 * reported.
 */
import type { AccessRecord } from './access-log-chain.js';

export const IMPORT_OPERATION = 'EventLogImported';
export const UNCLEAN_STOP_OPERATION = 'UncleanStopRecovered';

/** How far before the head at start the changes lost with the process may have been recorded. */
export const RECOVERY_WINDOW_MS = 5_000;

export type SystemEntryKind = 'import' | 'uncleanStop';

const OPERATIONS: Record<SystemEntryKind, string> = { import: IMPORT_OPERATION, uncleanStop: UNCLEAN_STOP_OPERATION };

/** The operation names of the system entries, for the lookups' one query. */
export const SYSTEM_ENTRY_OPERATIONS: readonly string[] = Object.values(OPERATIONS);

/** The event log's head as a start after an unclean stop found it. */
export interface HeadAtStart {
  position: string;
  recordedAt: string;
}

/** What a system entry is written from. */
export type SystemEntryFacts = { kind: 'import'; upTo: string; events: number; file: string } | { kind: 'uncleanStop'; head: HeadAtStart };

/** A system entry as read back: it accounts for the event log up to `upTo` (inclusive). */
interface AccountingEntry {
  /** The access-log entry that records it. */
  seq: number;
  at: string;
  upTo: string;
}

/** An import entry: the event log up to `upTo`, `events` events, came by import. */
export interface ImportedRange extends AccountingEntry {
  kind: 'import';
  events: number;
}

/** An unclean-stop entry: changes up to `upTo`, recorded since `windowFrom`, may have lost their entries. */
export interface RecoveredStop extends AccountingEntry {
  kind: 'uncleanStop';
  /** The recordedAt of the event at `upTo`. */
  recordedAt: string;
  windowFrom: string;
}

export type SystemEntry = ImportedRange | RecoveredStop;

/** The one builder: the access-log record of a system entry. */
export function systemEntryRecord(facts: SystemEntryFacts, at: string): AccessRecord {
  // targetIds: the head position, then what the cross-check holds the entry to (the count of events; the head's recordedAt).
  const [targetIds, note] =
    facts.kind === 'import'
      ? [
          [facts.upTo, String(facts.events)],
          `${facts.events} events imported from ${facts.file}, up to event log position ${facts.upTo}: their requests were access-logged where they were first made`,
        ]
      : [
          [facts.head.position, facts.head.recordedAt],
          `the previous run did not stop cleanly (its lock was stale): the access log entries of the changes it committed last, ` +
            `up to event log position ${facts.head.position} (${facts.head.recordedAt}), may have been lost with it, before or after their answers were sent`,
        ];
  return {
    at,
    actorId: null,
    actorName: null,
    actorRoles: null,
    operationName: OPERATIONS[facts.kind],
    operationType: 'system',
    fields: [],
    targetIds,
    outcome: 'ALLOWED',
    errorCode: null,
    correlationId: null,
    note,
  };
}

/** A row of the lookups' query (seq is a string on PostgreSQL). */
export interface SystemEntryRow {
  seq: number | string;
  at: string;
  operation_name: string;
  target_ids: string;
}

/** The one parser: a system entry's row as the cross-check reads it (null: not one, or not well formed). */
export function systemEntryOf(row: SystemEntryRow): SystemEntry | null {
  const seq = Number(row.seq);
  if (row.operation_name === IMPORT_OPERATION) {
    const [upTo, events] = JSON.parse(row.target_ids) as string[];
    const count = Number(events);
    if (typeof upTo !== 'string' || !Number.isSafeInteger(count) || count < 0) return null;
    return { kind: 'import', seq, at: row.at, upTo, events: count };
  }
  if (row.operation_name === UNCLEAN_STOP_OPERATION) {
    const [upTo, recordedAt] = JSON.parse(row.target_ids) as string[];
    const t = Date.parse(recordedAt ?? '');
    if (typeof upTo !== 'string' || typeof recordedAt !== 'string' || Number.isNaN(t)) return null;
    return { kind: 'uncleanStop', seq, at: row.at, upTo, recordedAt, windowFrom: new Date(t - RECOVERY_WINDOW_MS).toISOString() };
  }
  return null;
}

/** The rows' system entries, in entry order. */
export function systemEntriesOf(rows: readonly SystemEntryRow[]): SystemEntry[] {
  return rows.map(systemEntryOf).filter((e): e is SystemEntry => e !== null);
}

/** The part of an event the belief rule looks at. */
export interface LoggedEvent {
  position: string;
  recordedAt: string;
}

export interface SystemEntriesJudged {
  /** Believed import entries that do not describe this event log (`found`: how many events it holds up to their position). */
  importsNotMatching: (ImportedRange & { found: number })[];
  /** The believed unclean-stop entries that describe this event log. */
  uncleanStops: RecoveredStop[];
  /** Believed unclean-stop entries that do not (`found`: the recordedAt of the event at their position, null: none there). */
  uncleanStopsNotMatching: (RecoveredStop & { found: string | null })[];
}

/**
 * The belief rule, in one place: the system entries a signed head the verification checked
 * covers (seq <= signedUpToSeq), held against the event log as the cross-check scans it (`see`
 * each event, in log order), then `judged()`: which describe it. Meanwhile the scan asks what
 * they account for (`imported`, `stopHolding`); a stop's acknowledgement counts only if it
 * proves to describe the log.
 */
export class SystemEntriesCheck {
  readonly imports: readonly ImportedRange[];
  readonly stops: readonly RecoveredStop[];
  /** Events at or before the highest believed imported head came by import. */
  private readonly importedUpTo: string | null;
  /** Per import: the events seen up to its position. */
  private readonly counted: number[];
  /** Per stop: the recordedAt of the event seen at its position. */
  private readonly seenAt: (string | null)[];

  constructor(entries: readonly SystemEntry[], signedUpToSeq: number) {
    const believed = entries.filter((e) => e.seq <= signedUpToSeq);
    this.imports = believed.filter((e): e is ImportedRange => e.kind === 'import');
    this.stops = believed.filter((e): e is RecoveredStop => e.kind === 'uncleanStop');
    this.importedUpTo = this.imports.reduce<string | null>((max, r) => (max === null || r.upTo > max ? r.upTo : max), null);
    this.counted = this.imports.map(() => 0);
    this.seenAt = this.stops.map(() => null);
  }

  /** The next event of the log, in log order (every event, whether the cross-check asks it or not). */
  see(e: LoggedEvent): void {
    for (let i = 0; i < this.imports.length; i++) if (e.position <= this.imports[i]!.upTo) this.counted[i]!++;
    for (let i = 0; i < this.stops.length; i++) if (e.position === this.stops[i]!.upTo) this.seenAt[i] = e.recordedAt;
  }

  /** The event came by an import: its request was access-logged where it was first made. */
  imported(e: LoggedEvent): boolean {
    return this.importedUpTo !== null && e.position <= this.importedUpTo;
  }

  /** The event was recorded by a process that stopped uncleanly since (at or before a believed stop's head): its request is over. */
  beforeStop(e: LoggedEvent): boolean {
    return this.stops.some((r) => e.position <= r.upTo);
  }

  /** The unclean stop whose window holds this event (up to its head, a few seconds before it), or null. */
  stopHolding(e: LoggedEvent): RecoveredStop | null {
    return this.stops.find((r) => e.position <= r.upTo && e.recordedAt >= r.windowFrom && e.recordedAt <= r.recordedAt) ?? null;
  }

  /** Once the whole log was seen: which entries describe it. */
  judged(): SystemEntriesJudged {
    const matches = this.stops.map((r, i) => this.seenAt[i] === r.recordedAt);
    return {
      importsNotMatching: this.imports.flatMap((r, i) => (this.counted[i] === r.events ? [] : [{ ...r, found: this.counted[i]! }])),
      uncleanStops: this.stops.filter((_, i) => matches[i]),
      uncleanStopsNotMatching: this.stops.flatMap((r, i) => (matches[i] ? [] : [{ ...r, found: this.seenAt[i] ?? null }])),
    };
  }
}
