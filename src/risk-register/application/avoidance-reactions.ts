import { withNameReservation } from '../../asset-inventory/application/asset-name-reservation.js';
import { assetDecider, assetStreamId, type RetireAsset } from '../../asset-inventory/domain/asset.decider.js';
import type { AttemptReader, StreamDecision } from '../../shared/application/command-executor.js';
import { reactionContext, reactTo, type EventReaction, type ReactionDeps } from '../../shared/application/reactions.js';
import type { DomainActor, DomainEvent } from '../../shared/domain/decider.js';
import type { RiskClosed, RiskEvent } from '../domain/risk.events.js';

/** The retirement of an asset given up by avoiding a risk (Art.17(2)): the decision is the authority. */
function retirement(riskId: string, assetId: string, stamp: { actor: DomainActor; at: string }): RetireAsset {
  return { type: 'RetireAsset', actor: stamp.actor, at: stamp.at, assetId, reason: `Risk ${riskId} avoided (Art.17)`, avoidedRiskId: riskId };
}

/**
 * What a risk command appends besides the risk's own events when it avoids the risk (its events
 * hold `RiskClosed`, today only a treatment naming AVOID, treatment.ts): the retirement of each of
 * its assets still in the inventory, with its name released, decided on the assets read in the
 * same attempt. Appended atomically with `RiskClosed` (the executor's followUp), each asset's
 * stream at the version read, so the asset leaves the inventory at the very position the risk is
 * avoided: an `identifyRisk` on it that read it before conflicts, is decided again and refused
 * (ASSET_RETIRED), and a change to the asset in between makes the avoidance decided again.
 */
export function retirementsOnAvoidance(stamp: { actor: DomainActor; at: string }): (events: readonly DomainEvent[], reader: AttemptReader) => Promise<StreamDecision[]> {
  return async (events, reader) => {
    const closed = events.find((e): e is RiskClosed => e.type === 'RiskClosed');
    if (!closed) return [];
    const decisions: StreamDecision[] = [];
    for (const assetId of closed.data.assetIds) {
      // Read (and so version-checked) in any case; one already retired stays as it is.
      const asset = await reader.state(assetStreamId(assetId), assetDecider);
      if (asset.exists && asset.status === 'RETIRED') continue;
      const { primary, others = [] } = await withNameReservation(retirement(closed.data.riskId, assetId, stamp))(reader);
      decisions.push(primary, ...others);
    }
    return decisions;
  };
}

/**
 * Avoiding a risk (Art.17) retires the assets concerned, and frees their names for reuse. Since
 * the avoidance appends the retirements itself (retirementsOnAvoidance), this reaction finds them
 * retired and appends nothing; it retires the assets of avoidances logged before that.
 */
export function avoidanceReactions({ executor, clock }: ReactionDeps): EventReaction[] {
  return [
    reactTo<RiskEvent>()('RiskClosed', async (event) => {
      const ctx = reactionContext(event, clock);
      for (const assetId of event.data.assetIds) {
        await executor.executeJoint(withNameReservation(retirement(event.data.riskId, assetId, ctx)), ctx);
      }
    }),
  ];
}
