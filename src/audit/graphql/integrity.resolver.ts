import { Args, Query, Resolver } from '@nestjs/graphql';
import { isPosition } from '../../event-store/hash-chain.js';
import { IntegrityMonitor } from '../../platform/integrity-monitor.js';
import { BadInputError } from '../../shared/domain/errors.js';
import { IntegrityReport } from './audit.types.js';

@Resolver()
export class IntegrityResolver {
  constructor(private readonly monitor: IntegrityMonitor) {}

  @Query(() => IntegrityReport, {
    description:
      'Art.31/34 evidence: proof that the log is intact. AUDITOR or CISO. Recomputes every hash, checks every link from the first event to the head, and every signed commit head against the trusted keys. ' +
      'Signatures show that no one without the key appended, edited or rehashed events; they cannot show that the newest commits were removed by someone holding the key: ' +
      'give a head recorded earlier (headPosition and headChainHash of an earlier report or export manifest) as anchorPosition/anchorChainHash to check that too. ' +
      'Errors: UNAUTHENTICATED; FORBIDDEN (another role); BAD_USER_INPUT (anchor); QUERY_TOO_COMPLEX when priced over the budget.',
  })
  async verifyIntegrity(
    @Args('anchorPosition', {
      type: () => String,
      nullable: true,
      description: 'Position (opaque ordered string) of a head recorded elsewhere, such as an earlier headPosition; only together with anchorChainHash.',
    }) anchorPosition?: string | null,
    @Args('anchorChainHash', {
      type: () => String,
      nullable: true,
      description: 'The global chain hash recorded with anchorPosition: 64 lowercase hex digits; only together with anchorPosition.',
    }) anchorChainHash?: string | null,
  ): Promise<IntegrityReport> {
    let anchor: { headPosition: string; headChainHash: string } | null = null;
    if (anchorPosition || anchorChainHash) {
      const fields: Record<string, string> = {};
      if (!anchorPosition) fields.anchorPosition = 'is required with anchorChainHash';
      else {
        if (!isPosition(anchorPosition)) fields.anchorPosition = 'is not a position';
      }
      if (!anchorChainHash) fields.anchorChainHash = 'is required with anchorPosition';
      else if (!/^[0-9a-f]{64}$/.test(anchorChainHash)) fields.anchorChainHash = 'must be 64 lowercase hex digits';
      if (Object.keys(fields).length) throw new BadInputError(fields);
      anchor = { headPosition: anchorPosition!, headChainHash: anchorChainHash! };
    }
    // The monitor's keys, from the server's configuration, never from the log being verified; on
    // the embedded store the verification runs in the monitor's worker thread. Without an anchor
    // from the caller, against the head this server recorded, and the server acts on that verdict
    // (a caller's anchor may be wrong, the server's own is not).
    const report = anchor ? await this.monitor.verifyAgainst(anchor) : await this.monitor.verifyOwnLog();
    return {
      ok: report.ok,
      eventsChecked: report.eventsChecked,
      firstBrokenPosition: report.firstBrokenPosition,
      reason: report.reason,
      headPosition: report.headPosition,
      headChainHash: report.headChainHash,
      streams: report.streams,
      signaturesChecked: report.signaturesChecked,
      anchorOk: report.anchorOk,
    };
  }
}
