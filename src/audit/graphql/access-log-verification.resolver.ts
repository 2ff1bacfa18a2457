import { Inject } from '@nestjs/common';
import { Query, Resolver } from '@nestjs/graphql';
import { ACCESS_LOG, type CheckableAccessLog } from '../application/access-log.js';
import type { AccessLogVerification } from '../application/access-log-chain.js';
import { IntegrityReport } from './audit.types.js';

/** The access log's verification as an IntegrityReport: positions are entry numbers (AccessLogEntry.id); streams is 1. */
export function accessLogReport(v: AccessLogVerification): IntegrityReport {
  const report = {
    ok: v.ok,
    eventsChecked: v.entriesChecked,
    firstBrokenPosition: v.firstBrokenSeq === null ? null : String(v.firstBrokenSeq),
    reason: v.reason,
    headPosition: v.headSeq === null ? null : String(v.headSeq),
    headChainHash: v.headSeq === null ? null : v.headHash,
    streams: 1,
    anchorOk: null,
    signaturesChecked: v.signaturesChecked,
    acknowledgedUnlogged: v.acknowledged?.requests ?? null,
    acknowledgement: v.acknowledged?.note ?? null,
  };
  return report;
}

@Resolver()
export class AccessLogVerificationResolver {
  constructor(@Inject(ACCESS_LOG) private readonly log: CheckableAccessLog) {}

  @Query(() => IntegrityReport, {
    description:
      "Art.23(2), Art.31/34 evidence: proof that the access log is intact. AUDITOR or CISO. Every entry's hash and link, the signature of every batch's head, and the log's end against " +
      'the last signed head kept beside it. An edited entry, deleted or inserted entries, entries without a signature, deleted newest entries and a ' +
      'missing or replaced file are reported (firstBrokenPosition is an entry number), as is every restart acknowledged with ACCESS_LOG_RESET=1, and ' +
      'a change in the event log (by a person, since the access log began, older than 2 minutes or recorded before an unclean stop the access log records, not brought by an import the access log records) whose request has no entry (firstBrokenPosition null; the reason names its position), ' +
      'except those recorded up to 5 s before an unclean stop the access log records (UncleanStopRecovered, written by the next start): counted in acknowledgedUnlogged instead; ' +
      'and, the other way, an entry whose committed event (committedPosition, committedEventId) the event log no longer holds there: the event log cut back or replaced by an older copy (firstBrokenPosition null; the reason names the entry). ' +
      'eventsChecked counts entries. Errors: UNAUTHENTICATED; FORBIDDEN (another role).',
  })
  async verifyAccessLog(): Promise<IntegrityReport> {
    // The walk of the access log and the cross-check against the event log, shared by concurrent calls.
    return accessLogReport(await this.log.verify());
  }
}
