/**
 * An evidence import (`risk-ledger import`) recorded in the access log. The events an import
 * brings were answered, and access-logged, by the installation that wrote them; in this one they
 * come from no request. So the import writes a signed entry of its own into this installation's
 * access log, naming what it brought (the event log up to its head after the import, and how many
 * events), and the cross-check (access-log-crosscheck.ts) does not ask those events for entries.
 *
 * The entry is under the access log's hash chain, signed heads and anchor like any other: without
 * the signing key nobody can add one, and a log cut back to before it only reports more. It covers
 * the events that were in the event log when it was written, never a later change (an import goes
 * into an EMPTY store: every event up to its head came with it), and the cross-check holds it to
 * its count.
 */
import type { AccessRecord } from './access-log-chain.js';

export const IMPORT_OPERATION = 'EventLogImported';

/** What an import entry says: the event log up to `upTo` (inclusive), `events` events, came by import. */
export interface ImportedRange {
  /** The access-log entry that records it. */
  seq: number;
  at: string;
  upTo: string;
  events: number;
}

export function importRecord(imported: { upTo: string; events: number; file: string }, at: string): AccessRecord {
  return {
    at,
    actorId: null,
    actorName: null,
    actorRoles: null,
    operationName: IMPORT_OPERATION,
    operationType: 'system',
    fields: [],
    // The head position, and the count the cross-check holds the record to.
    targetIds: [imported.upTo, String(imported.events)],
    outcome: 'ALLOWED',
    errorCode: null,
    correlationId: null,
    note: `${imported.events} events imported from ${imported.file}, up to event log position ${imported.upTo}: their requests were access-logged where they were first made`,
  };
}

/** An import entry's row as the cross-check reads it (null: not one). */
export function importedRange(row: { seq: number | string; at: string; target_ids: string }): ImportedRange | null {
  const [upTo, events] = JSON.parse(row.target_ids) as string[];
  const count = Number(events);
  if (typeof upTo !== 'string' || !Number.isSafeInteger(count) || count < 0) return null;
  return { seq: Number(row.seq), at: row.at, upTo, events: count };
}
