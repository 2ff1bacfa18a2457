import { Inject } from '@nestjs/common';
import { Args, Query, Resolver } from '@nestjs/graphql';
import { EVENT_STORE, type EventStore } from '../../event-store/event-store.port.js';
import { decodePosition } from '../../event-store/hash-chain.js';
import { BadInputError } from '../../shared/domain/errors.js';
import { verifyStoreAgainst } from '../application/evidence-export.js';
import { IntegrityReport } from './audit.types.js';

@Resolver()
export class IntegrityResolver {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @Query(() => IntegrityReport, {
    description:
      'Proof that the log is intact (AUDITOR, CISO): recomputes every hash and checks every link, from the first event to the head. ' +
      'The chain cannot show on its own that events were removed from the END of the log, or that the whole log was rewritten with recomputed hashes: ' +
      'give a head recorded earlier (headPosition and headChainHash of an earlier report or export manifest) as anchorPosition/anchorChainHash to check that too.',
  })
  async verifyIntegrity(
    @Args('anchorPosition', { type: () => String, nullable: true }) anchorPosition?: string | null,
    @Args('anchorChainHash', { type: () => String, nullable: true }) anchorChainHash?: string | null,
  ): Promise<IntegrityReport> {
    let anchor = null;
    if (anchorPosition || anchorChainHash) {
      const fields: Record<string, string> = {};
      if (!anchorPosition) fields.anchorPosition = 'is required with anchorChainHash';
      else {
        try {
          decodePosition(anchorPosition);
        } catch {
          fields.anchorPosition = 'is not a position';
        }
      }
      if (!anchorChainHash) fields.anchorChainHash = 'is required with anchorPosition';
      else if (!/^[0-9a-f]{64}$/.test(anchorChainHash)) fields.anchorChainHash = 'must be 64 lowercase hex digits';
      if (Object.keys(fields).length) throw new BadInputError(fields);
      anchor = { headPosition: anchorPosition!, headChainHash: anchorChainHash! };
    }
    // Small pages: each read of the log is one synchronous step on the event loop.
    const report = await verifyStoreAgainst(this.store, anchor, { pageSize: 200 });
    return {
      ok: report.ok,
      eventsChecked: report.eventsChecked,
      firstBrokenPosition: report.firstBrokenPosition,
      reason: report.reason,
      headPosition: report.headPosition,
      headChainHash: report.headChainHash,
      streams: report.streams,
      anchorOk: report.anchorOk,
    };
  }
}
