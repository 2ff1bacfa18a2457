import { describe, expect, it } from '@jest/globals';
import {
  SystemEntriesCheck,
  systemEntryOf,
  systemEntryRecord,
  type ImportedRange,
  type LoggedEvent,
  type RecoveredStop,
  type SystemEntry,
} from '../../../src/audit/application/access-log-system-entries.js';

const pos = (n: number) => String(n).padStart(19, '0');
const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 10, 0, s)).toISOString();
/** Events 1..n, event k recorded at second k. */
const log = (n: number): LoggedEvent[] => Array.from({ length: n }, (_, i) => ({ position: pos(i + 1), recordedAt: at(i + 1) }));

const imported = (seq: number, upTo: number, events: number): ImportedRange => ({ kind: 'import', seq, at: at(0), upTo: pos(upTo), events });
const stop = (seq: number, upTo: number, recordedAt: string): RecoveredStop => ({
  kind: 'uncleanStop',
  seq,
  at: at(0),
  upTo: pos(upTo),
  recordedAt,
  windowFrom: new Date(Date.parse(recordedAt) - 5_000).toISOString(),
});

function check(entries: SystemEntry[], events: LoggedEvent[], signedUpToSeq = Number.MAX_SAFE_INTEGER): SystemEntriesCheck {
  const c = new SystemEntriesCheck(entries, signedUpToSeq);
  for (const e of events) c.see(e);
  return c;
}

/**
 * Imports and unclean stops are one mechanism (access-log-system-entries.ts): one builder, one
 * parser, one belief rule. What they write must stay what was written before they were one (the
 * entries are hashed, signed and on disk), and each kind keeps its meaning.
 */
describe('system entries that account for a range of the event log', () => {
  describe('the builder writes what the separate builders wrote', () => {
    it('an import', () => {
      expect(systemEntryRecord({ kind: 'import', upTo: pos(7), events: 7, file: 'evidence.ndjson' }, at(9))).toEqual({
        at: at(9),
        actorId: null,
        actorName: null,
        actorRoles: null,
        operationName: 'EventLogImported',
        operationType: 'system',
        fields: [],
        targetIds: [pos(7), '7'],
        outcome: 'ALLOWED',
        errorCode: null,
        correlationId: null,
        note: `7 events imported from evidence.ndjson, up to event log position ${pos(7)}: their requests were access-logged where they were first made`,
      });
    });

    it('an unclean stop', () => {
      expect(systemEntryRecord({ kind: 'uncleanStop', head: { position: pos(3), recordedAt: at(3) } }, at(9))).toEqual({
        at: at(9),
        actorId: null,
        actorName: null,
        actorRoles: null,
        operationName: 'UncleanStopRecovered',
        operationType: 'system',
        fields: [],
        targetIds: [pos(3), at(3)],
        outcome: 'ALLOWED',
        errorCode: null,
        correlationId: null,
        note:
          `the previous run did not stop cleanly (its lock was stale): the access log entries of the changes it committed last, ` +
          `up to event log position ${pos(3)} (${at(3)}), may have been lost with it, before or after their answers were sent`,
      });
    });
  });

  describe('the parser reads the stored rows as before', () => {
    const row = (operation_name: string, target_ids: unknown[], seq: number | string = 4) => ({ seq, at: at(9), operation_name, target_ids: JSON.stringify(target_ids) });

    it('each kind from its operation name (seq as PostgreSQL returns it too)', () => {
      expect(systemEntryOf(row('EventLogImported', [pos(7), '7'], '4'))).toEqual({ ...imported(4, 7, 7), at: at(9) });
      expect(systemEntryOf(row('UncleanStopRecovered', [pos(3), at(3)]))).toEqual({ ...stop(4, 3, at(3)), at: at(9), windowFrom: at(-2) });
    });

    it('rows that are not well formed, or of another operation, are none', () => {
      expect(systemEntryOf(row('EventLogImported', [pos(7), 'seven']))).toBeNull();
      expect(systemEntryOf(row('EventLogImported', [pos(7), '-1']))).toBeNull();
      expect(systemEntryOf(row('EventLogImported', [pos(7)]))).toBeNull();
      expect(systemEntryOf(row('UncleanStopRecovered', [pos(3), 'yesterday']))).toBeNull();
      expect(systemEntryOf(row('UncleanStopRecovered', [pos(3)]))).toBeNull();
      expect(systemEntryOf(row('AccessLogDiscontinuity', [pos(3), at(3)]))).toBeNull();
    });
  });

  describe('the belief rule', () => {
    it('an import that describes the log accounts for every event up to its head, none after', () => {
      const c = check([imported(2, 5, 5)], log(8));
      expect(c.judged()).toEqual({ importsNotMatching: [], uncleanStops: [], uncleanStopsNotMatching: [] });
      expect(log(8).map((e) => c.imported(e))).toEqual([true, true, true, true, true, false, false, false]);
      expect(c.stopHolding(log(8)[2]!)).toBeNull();
    });

    it('an import whose count differs is reported, with what the log holds', () => {
      const c = check([imported(2, 5, 4)], log(8));
      expect(c.judged().importsNotMatching).toEqual([{ ...imported(2, 5, 4), found: 5 }]);
    });

    it('an unclean stop that describes the log holds the changes up to its head and at most 5 s before it', () => {
      const s = stop(3, 8, at(8));
      const c = check([s], log(8));
      expect(c.judged()).toEqual({ importsNotMatching: [], uncleanStops: [s], uncleanStopsNotMatching: [] });
      // Seconds 3..8 are within 5 s of the head's instant; 1 and 2 are older; an event after the head is not held.
      expect(log(8).map((e) => c.stopHolding(e) === s)).toEqual([false, false, true, true, true, true, true, true]);
      expect(c.stopHolding({ position: pos(9), recordedAt: at(8) })).toBeNull();
      expect(c.imported(log(8)[0]!)).toBe(false);
    });

    it('an unclean stop whose head event was not recorded at its instant, or is absent, is reported and believed in nothing', () => {
      const wrongInstant = stop(3, 4, at(30));
      const noEvent = stop(4, 20, at(20));
      const { uncleanStops, uncleanStopsNotMatching } = check([wrongInstant, noEvent], log(8)).judged();
      expect(uncleanStops).toEqual([]);
      expect(uncleanStopsNotMatching).toEqual([
        { ...wrongInstant, found: at(4) },
        { ...noEvent, found: null },
      ]);
    });

    it('entries no checked signed head covers are not believed: they account for nothing and are not judged', () => {
      const entries = [imported(2, 5, 5), stop(6, 8, at(8)), imported(7, 8, 1)];
      const c = check(entries, log(8), 5);
      expect(c.imports).toEqual([entries[0]]);
      expect(c.stops).toEqual([]);
      expect(c.judged()).toEqual({ importsNotMatching: [], uncleanStops: [], uncleanStopsNotMatching: [] });
      expect(c.imported(log(8)[6]!)).toBe(false);
      expect(c.stopHolding(log(8)[7]!)).toBeNull();
    });

    it('both kinds together, each with its own meaning', () => {
      const imp = imported(2, 3, 3);
      const s = stop(5, 8, at(8));
      const c = check([imp, s], log(8));
      expect(c.judged()).toEqual({ importsNotMatching: [], uncleanStops: [s], uncleanStopsNotMatching: [] });
      expect(log(8).map((e) => (c.imported(e) ? 'imported' : c.stopHolding(e) ? 'held' : 'asked'))).toEqual([
        'imported', 'imported', 'imported', 'held', 'held', 'held', 'held', 'held',
      ]);
    });
  });
});
